import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import json from 'highlight.js/lib/languages/json';
import plaintext from 'highlight.js/lib/languages/plaintext';
import typescript from 'highlight.js/lib/languages/typescript';
import yaml from 'highlight.js/lib/languages/yaml';

/** highlight.js with the languages the book uses: the site's markup and the terminal's colours. */

hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('json', json);
hljs.registerLanguage('plaintext', plaintext);

const ALIASES: Record<string, string> = {
  ts: 'typescript',
  js: 'typescript',
  javascript: 'typescript',
  sh: 'bash',
  shell: 'bash',
  console: 'bash',
  yml: 'yaml',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** highlight.js's markup for a block; an unknown language is plain text, escaped. */
export function highlight(code: string, lang: string): { html: string; language: string } {
  const language = ALIASES[lang] ?? lang;
  if (language && hljs.getLanguage(language)) return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language };
  return { html: escapeHtml(code), language: 'plaintext' };
}

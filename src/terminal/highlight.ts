import type { ChalkInstance } from 'chalk';
import { highlight } from '../markdown/highlight.js';

/** highlight.js's classes → terminal styles; unlisted classes keep the surrounding style. */
const STYLES: Record<string, (c: ChalkInstance) => ChalkInstance> = {
  keyword: (c) => c.magenta,
  built_in: (c) => c.cyan,
  type: (c) => c.cyan,
  literal: (c) => c.yellow,
  number: (c) => c.yellow,
  string: (c) => c.green,
  regexp: (c) => c.green,
  comment: (c) => c.gray,
  meta: (c) => c.gray,
  title: (c) => c.blue,
  attr: (c) => c.cyan,
  variable: (c) => c.yellow,
  'template-variable': (c) => c.yellow,
  symbol: (c) => c.yellow,
};

function unescapeHtml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|#x27|#39);/g, (_, name: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', '#x27': "'", '#39': "'" })[name] ?? '');
}

/**
 * Code coloured for the terminal: highlight.js's HTML (the same markup as the site's) turned into styles,
 * line by line so each line carries its own codes. Without colour the code is returned as it is.
 */
export function highlightLines(code: string, lang: string, chalk: ChalkInstance): string[] {
  const plain = code.replace(/\n$/, '').split('\n');
  if (chalk.level === 0) return plain;
  const { html, language } = highlight(code.replace(/\n$/, ''), lang);
  if (language === 'plaintext') return plain;
  const lines: string[] = [''];
  const stack: ChalkInstance[] = [chalk];
  for (const part of html.split(/(<span class="[^"]*">|<\/span>)/)) {
    if (part.startsWith('<span')) {
      const name = /hljs-([\w-]+)/.exec(part)?.[1] ?? '';
      const top = stack.at(-1) ?? chalk;
      stack.push(STYLES[name]?.(top) ?? top);
    } else if (part === '</span>') {
      if (stack.length > 1) stack.pop();
    } else if (part) {
      const style = stack.at(-1) ?? chalk;
      unescapeHtml(part)
        .split('\n')
        .forEach((piece, i) => {
          if (i > 0) lines.push('');
          if (piece) lines[lines.length - 1] += style === chalk ? piece : style(piece);
        });
    }
  }
  return lines;
}

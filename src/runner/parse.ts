import { createHash } from 'node:crypto';
import { createMarkdown } from '../markdown/markdown.js';
import { parseInfo } from './info-string.js';
import type { Block, BookIssue, Chapter } from './types.js';
import { misspelledVersionNames } from './versions.js';

const markdown = createMarkdown();

/** `03-api-server.md` → { number: 3, id: '03-api-server' }; undefined for other names. */
export function chapterName(fileName: string): { id: string; number: number } | undefined {
  const match = /^(\d+)-([a-z0-9][a-z0-9-]*)\.md$/.exec(fileName);
  if (!match) return undefined;
  return { id: fileName.slice(0, -3), number: Number(match[1]) };
}

export interface ParseResult {
  chapter: Chapter;
  issues: BookIssue[];
}

/**
 * Pure: one chapter's Markdown → its blocks, or the issues that stop the run. `file` is the path
 * shown to the reader in messages.
 */
export function parseChapter(file: string, id: string, number: number, text: string, defaults: { timeoutMs: number; retries: number }): ParseResult {
  // Lines as markdown-it counts them: it ends a line at \r\n, \r and \n alike.
  const normalised = text.replace(/\r\n?/g, '\n');
  const tokens = markdown.parse(normalised, {});
  const sourceLines = normalised.split('\n');
  const issues: BookIssue[] = [];
  const blocks: Block[] = [];
  let title = id;
  let index = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (!token) continue;
    if (token.type === 'heading_open' && token.tag === 'h1' && title === id) {
      title = tokens[t + 1]?.content.trim() || id;
    }
    if (token.type !== 'fence' || !token.map) continue;
    const line = token.map[0] + 1;
    if (!fenceClosed(sourceLines, token.map, token.markup)) {
      // markdown-it runs an unclosed fence to the end of the file: the prose after it would be its code.
      issues.push({
        file,
        line,
        message: `the fence opened here (${token.markup}${token.info}) is never closed`,
        hint: `close it with ${token.markup} on a line of its own; until then the rest of the chapter is its code`,
      });
      continue;
    }
    const parsed = parseInfo(token.info, { file, line });
    if (Array.isArray(parsed)) {
      issues.push(...parsed);
      continue;
    }
    if (parsed.kind === 'file') {
      // `${K8S_VERSOIN}` would reach the machine as it is: name the line and the right spelling.
      for (const miss of misspelledVersionNames(token.content))
        issues.push({
          file,
          line: line + 1 + miss.line,
          message: `\${${miss.name}} is not one of the machine's versions`,
          hint: `did you mean \${${miss.suggestion}}? (the names: see src/runner/versions.ts)`,
        });
    }
    const executable = parsed.kind !== 'prose';
    if (executable) index++;
    blocks.push({
      id: parsed.attrs.name ?? (executable ? `${id}#${index}` : `${id}#prose-${line}`),
      chapterId: id,
      index: executable ? index : 0,
      kind: parsed.kind,
      lang: parsed.lang,
      info: token.info,
      code: token.content,
      file,
      line,
      codeLine: line + 1,
      attrs: parsed.attrs,
      timeoutMs: parsed.attrs.timeoutMs ?? defaults.timeoutMs,
      retries: parsed.attrs.retries ?? defaults.retries,
    });
  }
  const hash = createHash('sha256').update(text).digest('hex');
  return { chapter: { id, number, title, file, source: text, blocks, hash }, issues };
}

/** Whether a fence's last line closes it: its marker (``` or ~~~), at least as long, alone on the line. */
function fenceClosed(lines: string[], map: [number, number], markup: string): boolean {
  if (map[1] - map[0] < 2) return false;
  // Inside a quote or a list the closing line carries the quote's > and the item's indent.
  const last = (lines[map[1] - 1] ?? '').replace(/^[\s>]*/, '').trimEnd();
  const marker = markup[0] as string;
  return last.length >= markup.length && [...last].every((c) => c === marker);
}

/** Names must be unique in the whole book; the second use is the one reported. */
export function checkUniqueNames(chapters: Chapter[]): BookIssue[] {
  const first = new Map<string, Block>();
  const issues: BookIssue[] = [];
  for (const chapter of chapters) {
    for (const block of chapter.blocks) {
      if (block.kind === 'prose') continue;
      const earlier = first.get(block.id);
      if (earlier) {
        issues.push({
          file: block.file,
          line: block.line,
          message: `duplicate block name "${block.id}" (first used at ${earlier.file}:${earlier.line})`,
          hint: `give this block another name, e.g. name=${block.id}-2`,
        });
      } else first.set(block.id, block);
    }
  }
  return issues;
}

import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, parseBookConfig } from './book-config.js';
import { chapterName, checkUniqueNames, parseChapter } from './parse.js';
import { type Book, BookError, type BookIssue, type Chapter } from './types.js';

/** Reads a book directory: book.yaml (optional) and its `NN-slug.md` chapters. Throws BookError. */
export async function loadBook(dir: string): Promise<Book> {
  const bookDir = path.resolve(dir);
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  const kind = await stat(bookDir).catch(() => undefined);
  if (!kind) throw new BookError([{ file: dir, line: 1, message: 'no such book directory', hint: 'pass --book DIR, a folder holding NN-slug.md chapters' }]);
  if (!kind.isDirectory())
    throw new BookError([
      { file: dir, line: 1, message: 'is a file, not a book directory', hint: 'pass --book DIR, the folder holding NN-slug.md chapters and book.yaml' },
    ]);
  const issues: BookIssue[] = [];
  let config = structuredClone(DEFAULT_CONFIG);
  const configFile = path.join(bookDir, 'book.yaml');
  if (existsSync(configFile)) {
    const text = await readText(configFile, shown(configFile), issues);
    if (text !== undefined) {
      const parsed = parseBookConfig(shown(configFile), text);
      config = parsed.config;
      issues.push(...parsed.issues);
    }
  }
  const names = (
    await readdir(bookDir).catch((error: NodeJS.ErrnoException) => {
      throw new BookError([{ file: dir, line: 1, message: `cannot list the book directory (${error.code ?? error.message})`, hint: 'check its permissions' }]);
    })
  ).sort();
  const found = new Map<string, { id: string; number: number; fileName: string }>();
  for (const fileName of names) {
    const name = chapterName(fileName);
    if (name) found.set(name.id, { ...name, fileName });
    else if (looksLikeChapter(fileName))
      issues.push({
        file: shown(path.join(bookDir, fileName)),
        line: 1,
        message: 'looks like a chapter but is not named NN-slug.md, so it would be left out',
        hint: `rename it, e.g. ${suggestChapterName(fileName)} (digits, a dash, then lowercase letters, digits and dashes, .md)`,
      });
  }
  let order = [...found.values()].sort((a, b) => a.number - b.number || a.id.localeCompare(b.id));
  if (config.chapters.length > 0) {
    order = [];
    for (const stem of config.chapters) {
      const entry = found.get(stem);
      if (!entry)
        issues.push({
          file: shown(configFile),
          line: 1,
          message: `chapter "${stem}" is listed but ${stem}.md does not exist`,
          hint: `create ${stem}.md or remove it from chapters:`,
        });
      else order.push(entry);
    }
  }
  const numbers = new Map<number, string>();
  for (const entry of order) {
    const other = numbers.get(entry.number);
    if (other)
      issues.push({
        file: shown(path.join(bookDir, entry.fileName)),
        line: 1,
        message: `chapter number ${entry.number} is used by ${other}.md too`,
        hint: 'renumber one of them so --from N is unambiguous',
      });
    numbers.set(entry.number, entry.id);
  }
  if (order.length === 0 && issues.length === 0)
    issues.push({ file: shown(bookDir), line: 1, message: 'the book has no chapters', hint: 'add files named NN-slug.md, e.g. 01-kubelet.md' });
  const chapters: Chapter[] = [];
  for (const entry of order) {
    const file = path.join(bookDir, entry.fileName);
    const text = await readText(file, shown(file), issues);
    if (text === undefined) continue;
    const result = parseChapter(shown(file), entry.id, entry.number, text, config.defaults);
    chapters.push(result.chapter);
    issues.push(...result.issues);
  }
  issues.push(...checkUniqueNames(chapters));
  if (issues.length > 0) throw new BookError(issues);
  return { dir: bookDir, config, chapters };
}

/** `1-intro.md`, `01_intro.md`, `01-Intro.md`, `01-intro.MD`: meant as a chapter, but the rule would skip it. */
function looksLikeChapter(fileName: string): boolean {
  return /^\d/.test(fileName) && /\.md$/i.test(fileName);
}

function suggestChapterName(fileName: string): string {
  const stem = fileName.replace(/\.md$/i, '');
  const match = /^(\d+)[\s_.-]*(.*)$/.exec(stem);
  const slug =
    (match?.[2] ?? stem)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'chapter';
  return `${(match?.[1] ?? '01').padStart(2, '0')}-${slug}.md`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A chapter's or book.yaml's text; a file that cannot be read or is not UTF-8 is an issue, not a crash. */
async function readText(file: string, shownAs: string, issues: BookIssue[]): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why: Record<string, [string, string]> = {
      EISDIR: ['is a directory, not a file', 'a chapter is a Markdown file; move the folder out of the book directory'],
      ENOENT: ['is a link to nothing', 'point the link at a file, or remove it'],
      ELOOP: ['is a link that loops', 'point the link at a file, or remove it'],
      EACCES: ['cannot be read (permission denied)', 'make it readable: chmod a+r'],
    };
    const [message, hint] = why[code ?? ''] ?? [`cannot be read (${code ?? (error as Error).message})`, 'check the file'];
    issues.push({ file: shownAs, line: 1, message, hint });
    return undefined;
  }
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    // Where the first undecodable byte is, as a line (a U+FFFD the file really holds could come first: rare).
    const lenient = bytes.toString('utf8');
    const line = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD'))).split('\n').length;
    issues.push({
      file: shownAs,
      line,
      message: 'is not UTF-8 text here',
      hint: 'save the file as UTF-8 (iconv -f latin1 -t utf-8, or your editor\'s "save with encoding")',
    });
    return undefined;
  }
}

/** `3`, `03`, `03-api-server` → the chapter; undefined when nothing matches. */
export function findChapter(book: Book, ref: string): Chapter | undefined {
  if (/^\d+$/.test(ref)) return book.chapters.find((c) => c.number === Number(ref));
  return book.chapters.find((c) => c.id === ref);
}

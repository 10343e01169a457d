import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { appendAll } from './arrays.js';
import { DEFAULT_CONFIG, parseBookConfig } from './book-config.js';
import { INPUT_LIMITS, InputFileError, readInputFile } from './input-file.js';
import { limitIssues } from './issue-limit.js';
import { chapterName, checkUniqueNames, parseChapter } from './parse.js';
import { unsetStateReferences } from './state-references.js';
import { type Book, BookError, type BookIssue, type Chapter } from './types.js';

/** Reads a book directory: book.yaml (optional) and its `NN-slug.md` chapters. Throws BookError. */
export async function loadBook(dir: string): Promise<Book> {
  const bookDir = path.resolve(dir);
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  const kind = await stat(bookDir).catch((error: NodeJS.ErrnoException) => error.code ?? 'ENOENT');
  if (typeof kind === 'string') {
    // A link that loops or points nowhere is not "no such" folder: say which it is.
    const link = await lstat(bookDir).catch(() => undefined);
    const message = !link
      ? 'no such book directory'
      : kind === 'ELOOP'
        ? 'is a link that loops, not a book directory'
        : link.isSymbolicLink()
          ? 'is a link to nothing, not a book directory'
          : `cannot be read as a book directory (${kind})`;
    throw new BookError([{ file: dir, line: 1, message, hint: 'pass --book DIR, a folder holding NN-slug.md chapters' }]);
  }
  if (!kind.isDirectory())
    throw new BookError([
      {
        file: dir,
        line: 1,
        message: kind.isFile() ? 'is a file, not a book directory' : 'is not a book directory (a FIFO, socket or device)',
        hint: 'pass --book DIR, the folder holding NN-slug.md chapters and book.yaml',
      },
    ]);
  const issues: BookIssue[] = [];
  let config = structuredClone(DEFAULT_CONFIG);
  const configFile = path.join(bookDir, 'book.yaml');
  let chapterLines: number[] = [];
  // Only a book.yaml that is not there at all means the defaults. One that is there but cannot be
  // read (a link to nothing or a loop, a folder, a FIFO) is an issue: the defaults would send the
  // run to a machine the reader did not name.
  if (await isThere(configFile)) {
    const text = await readText(configFile, shown(configFile), issues, BOOK_YAML);
    if (text !== undefined) {
      const parsed = parseBookConfig(shown(configFile), text);
      config = parsed.config;
      chapterLines = parsed.chapterLines;
      appendAll(issues, parsed.issues);
    }
  }
  const names = (
    await readdir(bookDir).catch((error: NodeJS.ErrnoException) => {
      throw new BookError([{ file: dir, line: 1, message: `cannot list the book directory (${error.code ?? error.message})`, hint: 'check its permissions' }]);
    })
  ).sort();
  // book.yml, Book.yaml…: a file the reader meant as book.yaml, which would leave the defaults (target: auto) in force.
  if (!(await isThere(configFile)))
    for (const near of names.filter((n) => /^book\.ya?ml$/i.test(n)))
      issues.push({
        file: shown(path.join(bookDir, near)),
        line: 1,
        message: `is not read: the book's settings are read from book.yaml only`,
        hint: `rename it to book.yaml`,
      });
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
    const listedAt = new Map<string, number>();
    config.chapters.forEach((stem, index) => {
      const line = chapterLines[index] ?? 1;
      const entry = found.get(stem);
      const first = listedAt.get(stem);
      if (!entry)
        issues.push({
          file: shown(configFile),
          line,
          message: `chapter "${stem}" is listed but ${stem}.md does not exist`,
          hint: `create ${stem}.md or remove it from chapters:`,
        });
      // Read and run once: a list of 100,000 times the same chapter must not read it 100,000 times.
      else if (first !== undefined)
        issues.push({ file: shown(configFile), line, message: `chapter "${stem}" is listed twice (first at line ${first})`, hint: 'list each chapter once' });
      else order.push(entry);
      if (first === undefined) listedAt.set(stem, line);
    });
    // A list reorders the chapters; one it leaves out would silently not run.
    for (const entry of found.values())
      if (!listedAt.has(entry.id))
        issues.push({
          file: shown(path.join(bookDir, entry.fileName)),
          line: 1,
          message: `is a chapter, but chapters: in book.yaml does not list it, so it would be left out`,
          hint: `add ${entry.id} to chapters: (or empty the list to order the chapters by their numbers)`,
        });
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
    const text = await readText(file, shown(file), issues, CHAPTER);
    if (text === undefined) continue;
    const result = parseChapter(shown(file), entry.id, entry.number, text, config.defaults);
    chapters.push(result.chapter);
    appendAll(issues, result.issues);
  }
  appendAll(issues, checkUniqueNames(chapters));
  appendAll(issues, unsetStateReferences(chapters));
  if (issues.length > 0) throw new BookError(limitIssues(issues));
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

const BOOK_YAML = { limitBytes: INPUT_LIMITS.bookYaml, what: 'book.yaml' };
const CHAPTER = { limitBytes: INPUT_LIMITS.chapter, what: 'a chapter' };

/** Whether anything at all has this name: a dangling link, a FIFO or a folder count; only ENOENT does not. */
async function isThere(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * A chapter's or book.yaml's text. A file that cannot be read, is not a regular file (a FIFO, a
 * device, a folder), is over its size limit or is not UTF-8 is an issue, not a crash or a hang.
 */
async function readText(file: string, shownAs: string, issues: BookIssue[], limits: { limitBytes: number; what: string }): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readInputFile(file, limits);
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    const hint = error.problem === 'directory' && limits === CHAPTER ? 'a chapter is a Markdown file; move the folder out of the book directory' : error.hint;
    issues.push({ file: shownAs, line: 1, message: error.reason, hint });
    return undefined;
  }
  let text: string;
  try {
    text = utf8.decode(bytes).replace(/^\uFEFF/, '');
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
  // Markdown reads a NUL as U+FFFD: the code sent to the machine would not be the file's.
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const before = text.slice(0, nul);
    issues.push({
      file: shownAs,
      line: before.split('\n').length,
      message: `holds a NUL byte (U+0000) at column ${nul - before.lastIndexOf('\n')}: ${limits.what} is text, and a NUL in it would not reach the machine as written`,
      hint: "remove it (tr -d '\\000' < FILE > FILE.new), or write \\0 where a command needs one",
    });
    return undefined;
  }
  return text;
}

/** `3`, `03`, `03-api-server` → the chapter; undefined when nothing matches. */
export function findChapter(book: Book, ref: string): Chapter | undefined {
  if (/^\d+$/.test(ref)) return book.chapters.find((c) => c.number === Number(ref));
  return book.chapters.find((c) => c.id === ref);
}

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, parseBookConfig } from './book-config.js';
import { chapterName, checkUniqueNames, parseChapter } from './parse.js';
import { type Book, BookError, type BookIssue, type Chapter } from './types.js';

/** Reads a book directory: book.yaml (optional) and its `NN-slug.md` chapters. Throws BookError. */
export async function loadBook(dir: string): Promise<Book> {
  const bookDir = path.resolve(dir);
  if (!existsSync(bookDir))
    throw new BookError([{ file: dir, line: 1, message: 'no such book directory', hint: 'pass --book DIR, a folder holding NN-slug.md chapters' }]);
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  const issues: BookIssue[] = [];
  let config = structuredClone(DEFAULT_CONFIG);
  const configFile = path.join(bookDir, 'book.yaml');
  if (existsSync(configFile)) {
    const parsed = parseBookConfig(shown(configFile), await readFile(configFile, 'utf8'));
    config = parsed.config;
    issues.push(...parsed.issues);
  }
  const names = (await readdir(bookDir)).filter((f) => f.endsWith('.md')).sort();
  const found = new Map<string, { id: string; number: number; fileName: string }>();
  for (const fileName of names) {
    const name = chapterName(fileName);
    if (name) found.set(name.id, { ...name, fileName });
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
    const text = await readFile(file, 'utf8');
    const result = parseChapter(shown(file), entry.id, entry.number, text, config.defaults);
    chapters.push(result.chapter);
    issues.push(...result.issues);
  }
  issues.push(...checkUniqueNames(chapters));
  if (issues.length > 0) throw new BookError(issues);
  return { dir: bookDir, config, chapters };
}

/** `3`, `03`, `03-api-server` → the chapter; undefined when nothing matches. */
export function findChapter(book: Book, ref: string): Chapter | undefined {
  if (/^\d+$/.test(ref)) return book.chapters.find((c) => c.number === Number(ref));
  return book.chapters.find((c) => c.id === ref);
}

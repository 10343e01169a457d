import { findChapter } from './load-book.js';
import type { Book, Chapter } from './types.js';

export class BadArguments extends Error {
  readonly code = 'ARGUMENTS_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'BadArguments';
  }
}

/** Applies --from / --to / --only to the book's chapter order. */
export function selectChapters(book: Book, range: { from?: string; to?: string; only?: string }): Chapter[] {
  const find = (flag: string, ref: string) => {
    const chapter = findChapter(book, ref);
    if (!chapter) throw new BadArguments(`${flag} ${ref}: no such chapter (chapters: ${book.chapters.map((c) => c.id).join(', ')})`);
    return book.chapters.indexOf(chapter);
  };
  if (range.only) {
    if (range.from || range.to) throw new BadArguments('--only cannot be combined with --from or --to');
    return [book.chapters[find('--only', range.only)] as Chapter];
  }
  const from = range.from ? find('--from', range.from) : 0;
  const to = range.to ? find('--to', range.to) : book.chapters.length - 1;
  if (from > to) throw new BadArguments(`--from ${range.from} comes after --to ${range.to}`);
  return book.chapters.slice(from, to + 1);
}

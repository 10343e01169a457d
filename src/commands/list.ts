import { visible } from '../runner/errors.js';
import { executable } from '../runner/types.js';
import { exitCodeFor, type Io, openBook } from './common.js';

export async function listCommand(options: { book?: string; json?: boolean }, io: Io): Promise<number> {
  try {
    return await list(options, io);
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

async function list(options: { book?: string; json?: boolean }, io: Io): Promise<number> {
  const book = await openBook(options.book);
  const chapters = book.chapters.map((c) => ({
    number: c.number,
    id: c.id,
    title: c.title,
    file: c.file,
    blocks: c.blocks
      .filter(executable)
      .map((b) => ({ id: b.id, kind: b.kind, line: b.line, ...(b.attrs.file ? { file: b.attrs.file } : {}), ...(b.attrs.node ? { node: b.attrs.node } : {}) })),
  }));
  if (options.json) {
    io.out(`${JSON.stringify({ title: book.config.title, chapters }, null, 2)}\n`);
    return 0;
  }
  io.out(`${visible(book.config.title)}\n`);
  for (const c of chapters)
    io.out(`${String(c.number).padStart(2, ' ')}  ${c.id.padEnd(28)} ${visible(c.title)}  (${c.blocks.length} block${c.blocks.length === 1 ? '' : 's'})\n`);
  return 0;
}

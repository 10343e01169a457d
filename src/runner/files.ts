import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Book } from './types.js';

/** `.book/` beside the book directory: checkpoints, locks, transcripts, JUnit, the rendered site. */
export function bookStateDir(book: Pick<Book, 'dir'>): string {
  return path.join(book.dir, '..', '.book');
}

/**
 * Temp file (hidden, in the same folder), fsync, rename, fsync of the folder: a reader sees the old
 * file or the new one, never half. The mode is set exactly, whatever the umask.
 */
export async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { asideStem } from './aside.js';
import type { Book } from './types.js';

/** What a path is, for a sentence (`… is a ${kind}`): `folder`, `FIFO (named pipe)`, `character device`, …. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'folder';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  if (stats.isSymbolicLink()) return 'symbolic link';
  return stats.isFile() ? 'regular file' : 'special file';
}

/** `.book/` beside the book directory: checkpoints, locks, transcripts, JUnit, the rendered site. */
export function bookStateDir(book: Pick<Book, 'dir'>): string {
  return path.join(book.dir, '..', '.book');
}

/**
 * Temp file (hidden, in the same folder), fsync, rename, fsync of the folder: a reader sees the old
 * file or the new one, never half. The mode is set exactly, whatever the umask. The temp file is
 * made new (O_EXCL), under a name no one can guess ahead: never written through a link or over a
 * file someone put there; removed if anything fails before the rename.
 */
export async function writeAtomic(file: string, text: string, mode: number): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await mkdir(dir, { recursive: true });
  const temp = path.join(dir, `${asideStem(path.basename(file))}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw withPath(error, file);
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** A system error from a write (ENOSPC from write(2) has no path) names the file it was for. */
export function withPath(error: unknown, file: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.path === undefined) e.path = file;
  return error;
}

/** The book's state folder (or a folder in it) cannot be used: not a folder, or not writable. */
export class StateUnusable extends Error {
  readonly code = 'STATE_UNUSABLE';
  constructor(message: string) {
    super(message);
    this.name = 'StateUnusable';
  }
}

/**
 * Checks, before anything runs, that `.book/` and `sub` inside it are folders this process can write
 * (or can be made): a file where a folder goes (ENOTDIR) or a read-only one (EACCES, EROFS) would
 * otherwise surface after the first chapter, when its checkpoint is written.
 */
export async function checkStateDir(book: Pick<Book, 'dir'>, sub = ''): Promise<void> {
  let dir = path.resolve(bookStateDir(book));
  const parts = sub.split(/[\\/]+/).filter(Boolean);
  for (let i = 0; ; i++) {
    const found = await stat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : error));
    if (found instanceof Error) throw new StateUnusable(`${dir} cannot be used (${found.code ?? found.message})`);
    if (!found) break;
    if (!found.isDirectory()) throw new StateUnusable(`${dir} is a file, where the book keeps a folder of its state (checkpoints, transcript, site)`);
    const writable = await access(dir, constants.W_OK | constants.X_OK).then(
      () => true,
      () => false,
    );
    if (!writable) throw new StateUnusable(`${dir} is not a folder this user can write`);
    if (i >= parts.length) return;
    dir = path.join(dir, parts[i] as string);
  }
  // The first missing folder is made later: its parent must be writable (checked above, or the book's parent).
  const parent = path.dirname(dir);
  const writable = await access(parent, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!writable) throw new StateUnusable(`${dir} cannot be made: ${parent} is not a folder this user can write`);
}

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadArguments } from '../runner/select.js';

// Where a command will write (--junit, --transcript, --out), checked before the run starts: a path
// that cannot be written is found now, not after the whole book ran and its transcript is lost.

/** The nearest folder on the way to `file` that exists; a file on the way is an error. */
async function nearestFolder(flag: string, target: string): Promise<string> {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const found = await stat(dir).catch(() => undefined);
    if (found && !found.isDirectory()) throw new BadArguments(`${flag} ${target}: ${dir} is a file, not a folder; choose a path inside a folder`);
    if (found) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return dir;
    dir = parent;
  }
}

async function writable(flag: string, target: string, dir: string): Promise<void> {
  await access(dir, constants.W_OK | constants.X_OK).catch((error: NodeJS.ErrnoException) => {
    throw new BadArguments(`${flag} ${target}: cannot write in ${dir} (${error.code ?? error.message}); choose a path you can write`);
  });
}

/** A file the command will write (its folders are made as needed). */
export async function checkOutputFile(flag: string, file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw new BadArguments(`${flag} ${file}: is a folder; give the path of a file, e.g. ${path.join(file, 'out')}`);
  await writable(flag, file, existing ? path.dirname(path.resolve(file)) : await nearestFolder(flag, file));
}

/** A folder the command will fill (made as needed). */
export async function checkOutputFolder(flag: string, dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new BadArguments(`${flag} ${dir}: is a file; give a folder (it is made if missing)`);
  await writable(flag, dir, existing ? path.resolve(dir) : await nearestFolder(flag, dir));
}

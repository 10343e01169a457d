import { constants, readlinkSync, type Stats } from 'node:fs';
import { access, lstat, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NAME_MAX, overlongName } from '../runner/aside.js';
import { fileKind } from '../runner/files.js';
import { BadArguments } from '../runner/select.js';

// Where a command will write (--junit, --transcript, --out), checked before the run starts: a path
// that cannot be written is found now, not after the whole book ran and its transcript is lost.
// And a reader's file is never overwritten: an existing output must be one this runner wrote.

/** What an output file holds; an existing file is replaced only if it already holds that, from this runner. */
export type OutputKind = 'junit' | 'transcript';

const OURS: Record<OutputKind, { looks: RegExp; what: string }> = {
  // reporters/junit.ts writes this head; record/transcript.ts writes `format` first.
  junit: { looks: /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="book" /, what: 'a JUnit report of book run' },
  transcript: { looks: /^\{\s*"format":\s*"build-a-minikube\/transcript@/, what: 'a transcript of book run' },
};

/** A name no file system here takes is refused now, not when the file is written after the run. */
function checkNameLengths(flag: string, target: string): void {
  const long = overlongName(path.resolve(target));
  if (long === undefined) return;
  throw new BadArguments(
    `${flag} ${target}: the name "${[...long].slice(0, 24).join('')}…" is ${Buffer.byteLength(long)} bytes long, and file systems take at most ${NAME_MAX}; choose a shorter name`,
  );
}

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

/** "a FIFO (named pipe)", "a character device", …: what a path is when it is not a file or folder. */
function special(info: Stats): string | undefined {
  return info.isFIFO() || info.isSocket() || info.isCharacterDevice() || info.isBlockDevice() ? `a ${fileKind(info)}` : undefined;
}

/** Where a link leads; a link to nothing or one that loops is an error naming it. */
async function followLink(flag: string, file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP'
        ? 'is a link that loops'
        : code === 'ENOENT'
          ? (pipeBehind(file) ?? 'is a link to nothing')
          : `is a link that cannot be followed (${code})`;
    throw new BadArguments(`${flag} ${file}: ${why}; give the path of a file`);
  }
}

/** `/dev/stdout` of a piped command leads to `pipe:[123]`, a name no path has: said as what it is. */
function pipeBehind(file: string): string | undefined {
  let at = file;
  for (let hop = 0; hop < 40; hop++) {
    let next: string;
    try {
      next = readlinkSync(at);
    } catch {
      return undefined;
    }
    const kind = /^(pipe|socket|anon_inode):/.exec(next)?.[1];
    if (kind) return `leads to a ${kind === 'anon_inode' ? 'kernel object' : kind} (${next}), not a file: is the output piped?`;
    at = path.resolve(path.dirname(at), next);
  }
  return undefined;
}

/** The first bytes of a regular file (opened without blocking, read once). */
async function head(file: string, bytes: number): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

export interface OutputFile {
  flag: string;
  file: string | undefined;
  kind: OutputKind;
}

/**
 * A file the command will write (its folders are made as needed): the path to write, links
 * followed. Refused: a folder, a device, a FIFO or socket, a link to nothing, and any existing file
 * that does not already hold what this runner writes there (a chapter, book.yaml, the transcript
 * being replayed, a file of the reader's).
 */
export async function checkOutputFile(output: OutputFile): Promise<string | undefined> {
  const { flag, file, kind } = output;
  if (file === undefined) return undefined;
  checkNameLengths(flag, file);
  const link = await lstat(file).catch(() => undefined);
  if (!link) {
    await writable(flag, file, await nearestFolder(flag, file));
    return path.resolve(file);
  }
  const real = link.isSymbolicLink() ? await followLink(flag, file) : path.resolve(file);
  const info = await stat(real);
  if (info.isDirectory()) throw new BadArguments(`${flag} ${file}: is a folder; give the path of a file, e.g. ${path.join(file, 'out')}`);
  const odd = special(info);
  if (odd) throw new BadArguments(`${flag} ${file}: is ${odd}, not a file; book writes its ${kind} only to a regular file`);
  const text = await head(real, 256).catch(() => '');
  if (!OURS[kind].looks.test(text))
    throw new BadArguments(
      `${flag} ${file}: already holds something that is not ${OURS[kind].what}, and book never overwrites a file of yours; choose a new path, or remove the file first`,
    );
  await writable(flag, file, path.dirname(real));
  return real;
}

/** Every output file of one command: each checked, and no two the same file (links and `..` seen through). */
export async function checkOutputFiles(outputs: OutputFile[]): Promise<(string | undefined)[]> {
  const resolved: (string | undefined)[] = [];
  for (const output of outputs) resolved.push(await checkOutputFile(output));
  const seen = new Map<string, string>();
  resolved.forEach((file, i) => {
    if (file === undefined) return;
    const flag = (outputs[i] as OutputFile).flag;
    const other = seen.get(file);
    if (other) throw new BadArguments(`${flag} and ${other} name the same file (${file}); give each its own path`);
    seen.set(file, flag);
  });
  return resolved;
}

/** A folder the command will fill (made as needed); what it may already hold is the renderer's business. */
export async function checkOutputFolder(flag: string, dir: string | undefined): Promise<void> {
  if (dir === undefined) return;
  checkNameLengths(flag, dir);
  const link = await lstat(dir).catch(() => undefined);
  if (link?.isSymbolicLink()) await followLink(flag, dir);
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    const odd = special(existing);
    throw new BadArguments(`${flag} ${dir}: is ${odd ?? 'a file'}; give a folder (it is made if missing)`);
  }
  await writable(flag, dir, existing ? path.resolve(dir) : await nearestFolder(flag, dir));
}

import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';

// Every file the CLI reads as input (chapters, book.yaml, transcripts, checkpoints) comes through
// here: only a regular file is read, and never more than a limit. A FIFO named like a chapter
// would block the read forever, /dev/zero would fill the memory, a socket cannot be opened at all,
// and a file that grows while it is read must not take the runner with it (issue 27).

/** How big each kind of input may be: generous, and recorded in docs/validation.md. */
export const INPUT_LIMITS = {
  /** The largest chapter of the book is ~24 KB. */
  chapter: 4 * 1024 * 1024,
  /** The book's is under 1 KB. yaml parses ~1 MB a second: a bigger one would be slow to refuse. */
  bookYaml: 1024 * 1024,
  /** A recording of the whole book (test/fixtures/transcript/book.json) is ~3.3 MB. */
  transcript: 64 * 1024 * 1024,
  /** A checkpoint after the last chapter is ~33 KB. */
  checkpoint: 16 * 1024 * 1024,
} as const;

/** Why an input cannot be read, as a word a caller can switch on (`missing` is the only "not there"). */
export type InputProblem =
  | 'missing'
  | 'dangling-link'
  | 'link-loop'
  | 'directory'
  | 'fifo'
  | 'socket'
  | 'device'
  | 'not-a-file'
  | 'permission'
  | 'too-large'
  | 'unreadable';

export class InputFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: InputProblem,
    /** What the file is, said after its name: `is a FIFO (named pipe), not a file`. */
    readonly reason: string,
    /** What to do about it. */
    readonly hint: string,
    /** The errno code behind it, when there is one (ENOENT, EACCES, …). */
    readonly errno?: string,
  ) {
    super(`${file} ${reason}`);
    this.name = 'InputFileError';
  }
}

export interface InputFileOptions {
  /** Refuse a file of more bytes than this; never read more than this + 1. */
  limitBytes: number;
  /** What the file is to the reader, for the messages: `a chapter`, `book.yaml`, `a transcript`, `a checkpoint`. */
  what: string;
}

// O_NONBLOCK: a FIFO that slipped in between the stat and the open must not block the open.
// O_NOCTTY: a terminal device never becomes the runner's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * The bytes of a regular file (a symlink to one is fine), at most `limitBytes` of them. Anything
 * else throws an InputFileError saying what the file is instead: a FIFO, a socket, a device, a
 * directory, a link to nothing or a loop, unreadable, or larger than the limit.
 */
export async function readInputFile(file: string, options: InputFileOptions): Promise<Buffer> {
  const { limitBytes, what } = options;
  // stat before open: a device is refused without being opened (opening one can have effects).
  const before = await stat(file).catch((error: NodeJS.ErrnoException) => failure(file, error, what));
  refuseNonFile(file, before, what);
  refuseTooLarge(file, before.size, limitBytes, what);
  const handle = await open(file, OPEN_FLAGS).catch((error: NodeJS.ErrnoException) => failure(file, error, what));
  try {
    // What was opened, not what the name pointed at a moment ago: it may have been swapped.
    const opened = await handle.stat();
    refuseNonFile(file, opened, what);
    refuseTooLarge(file, opened.size, limitBytes, what);
    // Read to the end, but never past limit + 1 bytes: a file that grows (or whose size lies, as
    // in /proc) is refused at the limit instead of read without end.
    const cap = limitBytes + 1;
    let buffer = Buffer.allocUnsafe(Math.min(cap, Math.max(opened.size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (buffer.length >= cap) break;
        const bigger = Buffer.allocUnsafe(Math.min(cap, buffer.length * 2));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null).catch((error: NodeJS.ErrnoException) => failure(file, error, what));
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > limitBytes) refuseTooLarge(file, length, limitBytes, what, true);
    return buffer.subarray(0, length);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The error for a failed stat/open/read: a link to nothing is told apart from no file at all. */
async function failure(file: string, error: NodeJS.ErrnoException, what: string): Promise<never> {
  const code = error.code ?? '';
  const fix = 'point the link at a file, or remove it';
  switch (code) {
    case 'ENOENT': {
      const link = await lstat(file).catch(() => undefined);
      if (link?.isSymbolicLink()) throw new InputFileError(file, 'dangling-link', 'is a link to nothing', fix, code);
      throw new InputFileError(file, 'missing', 'does not exist', 'check the path', code);
    }
    case 'ELOOP':
      throw new InputFileError(file, 'link-loop', 'is a link that loops', fix, code);
    case 'ENOTDIR':
      throw new InputFileError(file, 'missing', 'does not exist (a part of its path is a file, not a folder)', 'check the path', code);
    case 'EISDIR':
      throw new InputFileError(file, 'directory', 'is a directory, not a file', `${what} must be a file, not a folder`, code);
    case 'EACCES':
    case 'EPERM':
      throw new InputFileError(file, 'permission', 'cannot be read (permission denied)', 'make it readable: chmod a+r', code);
    // open(2) of a Unix socket.
    case 'ENXIO':
    case 'EOPNOTSUPP':
      throw new InputFileError(file, 'socket', 'is a socket, not a file', `${what} must be a regular file`, code);
    case 'ENAMETOOLONG':
      throw new InputFileError(file, 'unreadable', 'cannot be read (its name is too long)', 'check the path', code);
    default:
      throw new InputFileError(file, 'unreadable', `cannot be read (${code || error.message})`, 'check the file', code || undefined);
  }
}

function refuseNonFile(file: string, stats: Stats, what: string): void {
  if (stats.isFile()) return;
  const hint = `${what} must be a regular file`;
  if (stats.isDirectory()) throw new InputFileError(file, 'directory', 'is a directory, not a file', `${what} must be a file, not a folder`);
  if (stats.isFIFO()) throw new InputFileError(file, 'fifo', 'is a FIFO (named pipe), not a file', `${hint}: reading a FIFO waits for a writer forever`);
  if (stats.isSocket()) throw new InputFileError(file, 'socket', 'is a socket, not a file', hint);
  if (stats.isCharacterDevice()) throw new InputFileError(file, 'device', 'is a device (a character device), not a file', hint);
  if (stats.isBlockDevice()) throw new InputFileError(file, 'device', 'is a device (a block device), not a file', hint);
  throw new InputFileError(file, 'not-a-file', 'is not a regular file', hint);
}

function refuseTooLarge(file: string, size: number, limitBytes: number, what: string, grew = false): void {
  if (size <= limitBytes) return;
  const shown = grew ? `more than ${bytes(limitBytes)} (it grew while being read)` : bytes(size);
  throw new InputFileError(
    file,
    'too-large',
    `is too large: ${shown}, over the limit of ${bytes(limitBytes)} for ${what}`,
    'no book input is anywhere near this large: check that it is the right file (docs/validation.md lists the limits)',
  );
}

/** `4 MiB (4194304 bytes)`: the exact number, and one a reader takes in at a glance. */
function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = '';
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return unit ? `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit} (${n} bytes)` : `${n} bytes`;
}

/** How deep JSON inputs may nest: a recorded transcript nests ~20 levels, a checkpoint ~7. */
export const MAX_JSON_DEPTH = 256;

/**
 * Where JSON text first nests deeper than `maxDepth` (its line), or undefined. JSON.parse takes any
 * depth, but the code that walks a transcript's snapshots recurses: 200,000 nested `[` in one
 * overflowed the stack. One pass over the text, strings skipped, before anything parses it.
 */
export function jsonTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): { line: number } | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        let line = 1;
        for (let j = text.indexOf('\n'); j !== -1 && j < i; j = text.indexOf('\n', j + 1)) line++;
        return { line };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

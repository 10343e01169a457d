import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, type ErrorCode, exitCodeOf, formatError } from '../runner/errors.js';
import { countIssues } from '../runner/issue-limit.js';
import { loadBook } from '../runner/load-book.js';
import { type Book, BookError } from '../runner/types.js';
import { resolveVersions, type Versions } from '../runner/versions.js';

/** The package root (holds vagrant/ and book/), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  fileURLToPath(import.meta.url).includes(`${path.sep}src${path.sep}`) ? '..' : '.',
);

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Where `--step` without the Ink UI reads the reader's answers (default: process.stdin). */
  input?: NodeJS.ReadableStream;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export async function openBook(dir: string | undefined): Promise<Book> {
  return loadBook(dir ?? 'book');
}

/**
 * The versions the machine is built with: `K8S_VERSION` from the environment, else book.yaml's
 * `kubernetes:`, else the pin in vagrant/versions.sh.
 */
export function machineVersions(book: Book, env: NodeJS.ProcessEnv = process.env): Versions {
  const wanted = env.K8S_VERSION || book.config.kubernetes;
  return resolveVersions(path.join(PACKAGE_ROOT, 'vagrant', 'versions.sh'), wanted);
}

/**
 * Turns an error into its message and documented exit code (docs/errors.md). Anything else is a
 * bug in the runner: one line with what to do, the stack only with BOOK_DEBUG=1.
 */
export function exitCodeFor(error: unknown, io: Io): number {
  if (error instanceof BookError) {
    io.err(formatError(error.code, `the book has ${countIssues(error.issues)} problem(s); nothing was run:\n${error.message}`));
    return exitCodeOf(error.code);
  }
  // Every error of the runner's carries a code of the table (BadArguments, ResumeRefused, SiteInterrupted, …).
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code in ERRORS) {
    const known = error as Error & { code: ErrorCode; hint?: string };
    io.err(formatError(known.code, known.message, known.hint));
    return exitCodeOf(known.code);
  }
  const system = systemTrouble(error);
  if (system) {
    io.err(formatError(system.code, system.message, ERRORS[system.code].todo));
    return exitCodeOf(system.code);
  }
  const message = (error as Error)?.message ?? String(error);
  io.err(formatError('INTERNAL', message, ERRORS.INTERNAL.todo));
  if (process.env.BOOK_DEBUG) io.err(`${(error as Error)?.stack ?? ''}\n`);
  return exitCodeOf('INTERNAL');
}

/**
 * Ordinary trouble of the host, not a bug of the runner: a program missing from PATH, a full disk,
 * a `.book/` that is a file or read-only. By the system error's code and the path it names.
 */
export function systemTrouble(error: unknown): { code: ErrorCode; message: string } | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  if (typeof e?.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return undefined;
  const where = e.path ?? (e as { dest?: string }).dest;
  if (e.code === 'ENOENT' && e.syscall?.startsWith('spawn'))
    return { code: 'HOST_TOOL_MISSING', message: `${where ?? 'a program'} is not on this host's PATH (${process.env.PATH ?? 'PATH is not set'})` };
  if (['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG'].includes(e.code))
    return { code: 'OUTPUT_UNWRITABLE', message: `cannot write ${where ?? 'the output'}: ${e.code === 'ENOSPC' ? 'no space left on the device' : e.code}` };
  if (where && path.resolve(where).split(path.sep).includes('.book') && ['ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'EEXIST'].includes(e.code))
    return { code: 'STATE_UNUSABLE', message: `${where}: ${e.code} (the book's state folder .book/ holds something in the way, or cannot be written)` };
  // Refused by the file system where an output goes (checked before the run where it can be).
  const refusals: Record<string, string> = {
    ENAMETOOLONG: 'a name in that path is longer than the file system takes',
    EBUSY: 'it is in use by the system (a mount point?)',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EXDEV: 'it would move across file systems',
  };
  const refusal = refusals[e.code];
  // EACCES and EPERM also come from reading an input; only a write-side call makes them an output's.
  const reading = ['open', 'scandir', 'read', 'stat', 'lstat', 'access'].includes(e.syscall ?? '');
  if (where && refusal && !(reading && (e.code === 'EACCES' || e.code === 'EPERM')))
    return { code: 'OUTPUT_UNWRITABLE', message: `cannot write ${where}: ${refusal} (${e.code})` };
  return undefined;
}

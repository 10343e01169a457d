import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, type ErrorCode, exitCodeOf, formatError } from '../runner/errors.js';
import { loadBook } from '../runner/load-book.js';
import { MachineBusy } from '../runner/lock.js';
import { TranscriptError } from '../runner/record/transcript.js';
import { ResumeRefused } from '../runner/resume.js';
import { BadArguments } from '../runner/select.js';
import { HostKeyRefused, MachineUnreachable } from '../runner/targets/target.js';
import { type Book, BookError } from '../runner/types.js';
import { resolveVersions, VersionError, type Versions } from '../runner/versions.js';

/** The package root (holds vagrant/ and book/), from dist/ or src/. */
export const PACKAGE_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  fileURLToPath(import.meta.url).includes(`${path.sep}src${path.sep}`) ? '..' : '.',
);

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
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

/** The errors a command can meet before or around a run: each has its code (src/runner/errors.ts). */
const KNOWN = [TranscriptError, BadArguments, VersionError, MachineUnreachable, HostKeyRefused, MachineBusy, ResumeRefused];

/**
 * Turns an error into its message and documented exit code (docs/errors.md). Anything else is a
 * bug in the runner: one line with what to do, the stack only with BOOK_DEBUG=1.
 */
export function exitCodeFor(error: unknown, io: Io): number {
  if (error instanceof BookError) {
    io.err(formatError(error.code, `the book has ${error.issues.length} problem(s); nothing was run:\n${error.message}`));
    return exitCodeOf(error.code);
  }
  if (KNOWN.some((kind) => error instanceof kind)) {
    const known = error as Error & { code: ErrorCode; hint?: string };
    io.err(formatError(known.code, known.message, known.hint));
    return exitCodeOf(known.code);
  }
  const message = (error as Error)?.message ?? String(error);
  io.err(formatError('INTERNAL', message, ERRORS.INTERNAL.todo));
  if (process.env.BOOK_DEBUG) io.err(`${(error as Error)?.stack ?? ''}\n`);
  return exitCodeOf('INTERNAL');
}

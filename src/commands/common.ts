import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT } from '../runner/execute.js';
import { loadBook } from '../runner/load-book.js';
import { TranscriptError } from '../runner/record/transcript.js';
import { BadArguments } from '../runner/select.js';
import { MachineUnreachable } from '../runner/targets/target.js';
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

/** Turns the errors every command can meet into the documented exit codes. */
export function exitCodeFor(error: unknown, io: Io): number {
  if (error instanceof BookError) {
    io.err(`book: the book has ${error.issues.length} problem(s); nothing was run:\n${error.message}\n`);
    return EXIT.badBook;
  }
  if (error instanceof TranscriptError) {
    io.err(`book: ${error.message}\n`);
    return EXIT.badBook;
  }
  if (error instanceof BadArguments) {
    io.err(`book: ${error.message}\n`);
    return EXIT.badBook;
  }
  if (error instanceof VersionError) {
    io.err(`book: ${error.message}\n  → ${error.hint}\n`);
    return EXIT.badBook;
  }
  if (error instanceof MachineUnreachable) {
    io.err(`book: ${error.message}\n  → ${error.hint}\n`);
    return EXIT.unreachable;
  }
  throw error;
}

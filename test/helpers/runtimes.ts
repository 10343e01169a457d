import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(import.meta.dirname, '..', '..');
export const BOOK_BIN = path.join(ROOT, 'bin', 'book.js');
/** Deno 2 from npm (a devDependency, so `npm ci` brings it). */
export const DENO = path.join(ROOT, 'node_modules', '.bin', 'deno');

/** The runtimes the CLI must work under (issue 15): Node 20+ and Deno 2. */
export const RUNTIMES = ['node', 'deno'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** The command line that runs `book ARGS...` under a runtime, and the environment it needs. */
export function bookCommand(runtime: Runtime, args: string[]): { file: string; args: string[]; env: Record<string, string> } {
  if (runtime === 'node') return { file: process.execPath, args: [BOOK_BIN, ...args], env: {} };
  if (!existsSync(DENO)) throw new Error(`${DENO} is missing: run npm ci (deno is a devDependency)`);
  // -A: the runner reads and writes files, spawns processes and opens sockets, as under Node.
  // No update check: nothing leaves this box.
  return { file: DENO, args: ['run', '-A', BOOK_BIN, ...args], env: { DENO_NO_UPDATE_CHECK: '1' } };
}

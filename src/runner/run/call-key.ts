import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the book asked the machine for, in its own words: the logical key of the target calls made
 * on its behalf. The runner wraps what the book asked in its own text before it reaches bash (an
 * sh block's traps and exports, `set -o pipefail;` before a `$` command, the scripts behind
 * `machine.daemon`); a recording keeps that text for display, but a replay matches calls by this
 * key, so a change to the wrappers replays an older transcript unchanged (docs/render-replay.md).
 *
 * - `$ CMD`: a `$` command as its template built it (interpolations quoted), before the runner's prefix.
 * - `sh CODE`: an sh block's code, as the block runs it (one script).
 * - `daemon start NAME ARGV[ env ENV]`, `daemon restart NAME[ ARGV]`, `daemon stop NAME`,
 *   `daemon logs NAME N`, `daemons` (the list `daemons()`, `daemonStatus()` and `status()` read),
 *   `exists PATH`: the `machine` calls, each covering every command it sends (in order).
 * - `readFile PATH`, `writeFile PATH`: from the call itself (the written content is the book's own
 *   data and is compared too).
 *
 * The key travels with the async context (AsyncLocalStorage), from where the book's call is known
 * (run/tools.ts, run/sh-block.ts) to the recording and replaying targets (record/), so neither the
 * shell, the machine nor the targets need to know about it.
 */
const current = new AsyncLocalStorage<string>();

/** Runs `work` with `key` as the logical key of every target call it makes. */
export function withCallKey<T>(key: string, work: () => T): T {
  return current.run(key, work);
}

/** The logical key of the target call being made now, if the book's call named one. */
export function currentCallKey(): string | undefined {
  return current.getStore();
}

/** The key of a `$` command. */
export const shellKey = (command: string) => `$ ${command}`;

/** The key of an sh block: its code (as the reader sees it, without its last newline). */
export const shKey = (code: string) => `sh ${code.trimEnd()}`;

/** The keys of the `machine` calls that send commands. */
export const machineKeys = {
  daemonStart: (name: string, argv: readonly string[], env: Record<string, string> = {}) =>
    `daemon start ${name} ${JSON.stringify(argv)}${Object.keys(env).length > 0 ? ` env ${JSON.stringify(env)}` : ''}`,
  daemonRestart: (name: string, argv?: readonly string[]) => `daemon restart ${name}${argv ? ` ${JSON.stringify(argv)}` : ''}`,
  daemonStop: (name: string) => `daemon stop ${name}`,
  daemonLogs: (name: string, lines: number) => `daemon logs ${name} ${lines}`,
  daemons: () => 'daemons',
  exists: (path: string) => `exists ${path}`,
};

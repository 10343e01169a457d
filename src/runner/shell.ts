import { cutOutput, MESSAGE_LIMITS } from './output-limits.js';
import type { ExecOptions, Target } from './targets/target.js';
import { shellQuote } from './targets/target.js';

/** What `$` resolves to; `String(out)` is stdout without the trailing newline, as in zx. */
export class ProcessOutput {
  constructor(
    readonly stdout: string,
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly durationMs: number,
  ) {}
  toString(): string {
    return this.stdout.replace(/\n$/, '');
  }
  text(): string {
    return this.toString();
  }
  lines(): string[] {
    return this.toString().split('\n').filter(Boolean);
  }
  json<T = unknown>(): T {
    return JSON.parse(this.stdout) as T;
  }
}

/** A command that exited non-zero; says which, how, and the end of its stderr. */
export class ProcessFailed extends Error {
  constructor(
    readonly command: string,
    readonly output: ProcessOutput,
    readonly signal: string | null,
    /** Stack captured where `$` was called, so the failure maps to the block's line. */
    readonly callSite: string,
  ) {
    const tail = lastLines(output.stderr || output.stdout, 8);
    const how = signal ? `was killed by ${signal}` : `failed with exit code ${output.exitCode}`;
    super(`command ${how}: ${command}${tail ? `\n${tail}` : ''}`);
    this.name = 'ProcessFailed';
  }
  get exitCode(): number | null {
    return this.output.exitCode;
  }
  get stderr(): string {
    return this.output.stderr;
  }
}

/**
 * The last `n` lines of text (trailing whitespace left out), cut (output-limits.ts MESSAGE_LIMITS):
 * a failure repeats them, and a line of 20 MB must not be repeated whole. Found from the end, so a
 * long output is not split into lines first.
 */
export function lastLines(text: string, n: number): string {
  let end = text.length;
  while (end > 0 && /\s/.test(text.charAt(end - 1))) end--;
  let from = 0;
  for (let found = 0, at = end; found < n; found++) {
    const nl = at > 0 ? text.lastIndexOf('\n', at - 1) : -1;
    if (nl === -1) break;
    at = nl;
    if (found === n - 1) from = nl + 1;
  }
  return cutOutput(text.slice(from, end), MESSAGE_LIMITS);
}

function quoteValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(quoteValue).join(' ');
  if (value instanceof ProcessOutput) return shellQuote(value.toString());
  if (value === undefined || value === null) throw new TypeError(`$: an interpolated value is ${value}`);
  return shellQuote(String(value));
}

/** Joins a tagged template, quoting every interpolation so it reaches bash as one word. */
export function buildCommand(pieces: TemplateStringsArray, values: unknown[]): string {
  let command = pieces[0] ?? '';
  values.forEach((value, i) => {
    command += quoteValue(value) + (pieces[i + 1] ?? '');
  });
  return command;
}

export interface ShellHooks {
  signal(): AbortSignal | undefined;
  onStart(command: string): number;
  /** A chunk of command `id`'s output, as it comes. */
  onOutput(id: number, stream: 'stdout' | 'stderr', text: string, quiet: boolean): void;
  onEnd(id: number, command: string, output: ProcessOutput): void;
}

/** `$`: a tagged template that runs bash on the machine. */
export interface TemplateShell {
  (pieces: TemplateStringsArray, ...values: unknown[]): Promise<ProcessOutput>;
  /** Resolves whatever the exit code. */
  nothrow(pieces: TemplateStringsArray, ...values: unknown[]): Promise<ProcessOutput>;
  /** Does not stream output to the reporters (it is still in the result). */
  quiet(pieces: TemplateStringsArray, ...values: unknown[]): Promise<ProcessOutput>;
}

/** The runner's `$`: also runs a command line as it is (for a kernel thread's `$`). */
export interface Shell extends TemplateShell {
  /** A command line as it is (no template): its output whatever the exit code, and the signal that ended it. */
  exec(command: string, options?: { quiet?: boolean }): Promise<{ output: ProcessOutput; signal: string | null }>;
}

/** The `$` global: zx-style, but bash runs ON THE MACHINE through the target. */
export function makeShell(target: Target, hooks: ShellHooks): Shell {
  const exec = async (command: string, quiet: boolean) => {
    const id = hooks.onStart(command);
    const options: ExecOptions = {
      signal: hooks.signal(),
      onStdout: (text) => hooks.onOutput(id, 'stdout', text, quiet),
      onStderr: (text) => hooks.onOutput(id, 'stderr', text, quiet),
    };
    const result = await target.exec(`set -o pipefail; ${command}`, options);
    const output = new ProcessOutput(result.stdout, result.stderr, result.exitCode, result.durationMs);
    hooks.onEnd(id, command, output);
    return { output, signal: result.signal };
  };
  const run: RunCommand = async (command, nothrow, quiet, callSite) => {
    const { output, signal } = await exec(command, quiet);
    if (!nothrow && output.exitCode !== 0) throw new ProcessFailed(command, output, signal, callSite.stack ?? '');
    return output;
  };
  return Object.assign(templateShell(run), { exec: (command: string, options: { quiet?: boolean } = {}) => exec(command, Boolean(options.quiet)) });
}

/**
 * Runs a built command line; `callSite` is an error made where `$` was called (the block's .md
 * line), its stack read only if the command fails: formatting a stack costs more than the rest of
 * `$` in the block's thread, and most commands succeed.
 */
export type RunCommand = (command: string, nothrow: boolean, quiet: boolean, callSite: Error) => Promise<ProcessOutput>;

/** `$`, `$.nothrow` and `$.quiet` over a way to run a command: the runner's thread and a kernel thread share them. */
export function templateShell(run: RunCommand): TemplateShell {
  const $ = (pieces: TemplateStringsArray, ...values: unknown[]) => run(buildCommand(pieces, values), false, false, new Error());
  $.nothrow = (pieces: TemplateStringsArray, ...values: unknown[]) => run(buildCommand(pieces, values), true, false, new Error());
  $.quiet = (pieces: TemplateStringsArray, ...values: unknown[]) => run(buildCommand(pieces, values), false, true, new Error());
  return $;
}

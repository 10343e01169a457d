import type { Duplex } from 'node:stream';
import type { ExecOptions, ExecResult, MachineIdentity, Target } from '../targets/target.js';
import { type RecordedExec, targetCalls } from './calls.js';
import { ReplayMismatch, type ReplaySession } from './replay.js';

/** Resolves when `signal` aborts. */
function stopped(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * A machine that is a transcript: exec, writeFile and readFile answer what the recorded run's
 * machine answered, block by block (src/runner/record/replay.ts). No process, no socket.
 */
export class ReplayTarget implements Target {
  readonly type = 'replay' as const;
  readonly name: string;

  constructor(
    private readonly session: ReplaySession,
    readonly runtimeDir = '/run/book-machine',
    readonly dockerSocket = '/run/book-machine/docker.sock',
    /** '' for the first node, `nodes.NAME.` for another (as the recording named its calls). */
    private readonly prefix = '',
    node?: string,
  ) {
    this.name = `replay of ${session.transcript.target.name}${node ? `/${node}` : ''}`;
  }

  async connect(): Promise<void> {}

  /** Answered by the book's call it was sent for (its logical key), whatever text the runner sends for it now. */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const answer = (await this.answer('exec', targetCalls.execKey(command), targetCalls.execArgs(command, options))) as Partial<RecordedExec> | undefined;
    // The recorded run stopped this command (its block timed out, or ended with it still running):
    // it ends here when the replay stops it too, so the block fails as it did, not with what it printed.
    if (answer?.aborted && options.signal) await stopped(options.signal);
    const result = targetCalls.replayExec(answer);
    if (result.stdout) options.onStdout?.(result.stdout);
    if (result.stderr) options.onStderr?.(result.stderr);
    return result;
  }

  async writeFile(path: string, data: string | Buffer, mode?: number): Promise<void> {
    await this.answer('writeFile', targetCalls.writeKey(path), targetCalls.writeArgs(this.session.redactor, path, data, mode));
  }

  async readFile(path: string): Promise<Buffer> {
    return targetCalls.replayRead(await this.answer('readFile', targetCalls.readKey(path), targetCalls.readArgs(path)));
  }

  /** The recorded result of this node's call, or its recorded error thrown. */
  private answer(call: 'exec' | 'writeFile' | 'readFile', key: string, args: unknown[]): Promise<unknown> {
    return this.session.answer('target', `${this.prefix}${call}`, args, key);
  }

  openTcp(host: string, port: number): Promise<Duplex> {
    return Promise.reject(new ReplayMismatch(`a replay opens no connection (${host}:${port}): only recorded calls are answered`));
  }

  openUnix(path: string): Promise<Duplex> {
    return Promise.reject(new ReplayMismatch(`a replay opens no socket (${path}): only recorded calls are answered`));
  }

  async identity(): Promise<MachineIdentity> {
    return { target: this.name, hostname: 'replay', instance: this.session.transcript.recordedAt };
  }

  shellArgv(): string[] {
    throw new ReplayMismatch('a replay has no machine to open a shell on');
  }

  async close(): Promise<void> {}
}

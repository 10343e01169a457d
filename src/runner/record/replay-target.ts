import type { Duplex } from 'node:stream';
import type { ExecOptions, ExecResult, MachineIdentity, Target } from '../targets/target.js';
import { ReplayMismatch, type ReplaySession } from './replay.js';

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

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const args = options.stdin === undefined ? [command] : [command, { stdin: String(options.stdin) }];
    const call = this.session.take('target', `${this.prefix}exec`, this.session.redactor.redactDeep(args));
    if (call.error) throw new Error(call.error.message);
    const result = call.result as ExecResult;
    if (result.stdout) options.onStdout?.(result.stdout);
    if (result.stderr) options.onStderr?.(result.stderr);
    return {
      stdout: result.stdout ?? '',
      stderr: result.stderr ?? '',
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      durationMs: result.durationMs ?? 0,
    };
  }

  async writeFile(path: string, data: string | Buffer, mode?: number): Promise<void> {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : data;
    const call = this.session.take('target', `${this.prefix}writeFile`, this.session.writeArgs(path, text, mode));
    if (call.error) throw new Error(call.error.message);
  }

  async readFile(path: string): Promise<Buffer> {
    const call = this.session.take('target', `${this.prefix}readFile`, [path]);
    if (call.error) {
      const error = new Error(call.error.message) as NodeJS.ErrnoException;
      if (call.error.code !== undefined) error.code = String(call.error.code);
      throw error;
    }
    return Buffer.from(String(call.result ?? ''), 'utf8');
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

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import {
  ConnectionRefused,
  type ExecOptions,
  type ExecResult,
  type MachineIdentity,
  MachineUnreachable,
  type Target,
} from '../../src/runner/targets/target.js';

/**
 * FAKE machine, for tests of the runner's own logic (retries, fails=, timeouts, interrupts,
 * skips, uncaught errors, checkpoints) without root: commands run in bash on this host as the
 * test's user, in a temp folder that is also where the machine's files live (its /etc, /var and
 * /run); nothing can be connected to (no Docker, no API server). Real targets are tested against real namespaces, sshd and VMs.
 */
export class FakeTarget implements Target {
  readonly type = 'fake' as const;
  readonly name = 'fake';
  readonly root = mkdtempSync(path.join(tmpdir(), 'book-fake-machine-'));
  readonly runtimeDir = '/run/book-fake';
  readonly dockerSocket = '/run/book-fake/docker.sock';
  /** Commands run so far, for assertions. */
  readonly commands: string[] = [];

  /** Which machine this is: a new instance is a recreated machine (checkpoints refuse to resume on it). */
  instance = 'fake-1';

  constructor(private readonly options: { unreachable?: boolean } = {}) {
    for (const dir of ['/etc', '/var', this.runtimeDir]) mkdirSync(this.local(dir), { recursive: true });
  }

  async connect(): Promise<void> {
    if (this.options.unreachable) throw new MachineUnreachable('the fake machine is down (as the test asked)', 'nothing to do: it is a test');
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    const started = performance.now();
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', this.onThisHost(command)], {
        cwd: this.root,
        env: { ...process.env, ...options.env, BOOK_FAKE_ROOT: this.root },
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        options.onStdout?.(c.toString());
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        options.onStderr?.(c.toString());
      });
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {}
      };
      if (options.signal?.aborted) kill();
      options.signal?.addEventListener('abort', kill, { once: true });
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
      child.on('close', (code, signal) => {
        options.signal?.removeEventListener('abort', kill);
        resolve({ stdout, stderr, exitCode: code, signal, durationMs: performance.now() - started });
      });
    });
  }

  /**
   * The machine's own folders (/etc, /var, /run) are under the root here: the runner's scripts
   * (the lock, daemons, snapshots) then read and write the fake's files, never this host's.
   */
  private onThisHost(command: string): string {
    return command.replace(/(?<![\w.\-/])\/(etc|var|run)\//g, `${this.root}/$1/`);
  }

  /** The snapshot reads the machine's files under the root, as it does a local machine's. */
  async nativeRoot(): Promise<string> {
    return this.root;
  }

  /** The machine's `/x/y` is `<root>/x/y` here. */
  local(machinePath: string): string {
    return path.join(this.root, machinePath);
  }

  async writeFile(machinePath: string, data: string | Buffer, mode?: number): Promise<void> {
    await mkdir(path.dirname(this.local(machinePath)), { recursive: true });
    await writeFile(this.local(machinePath), data, { mode });
  }

  readFile(machinePath: string): Promise<Buffer> {
    return readFile(this.local(machinePath));
  }

  openTcp(host: string, port: number): Promise<Duplex> {
    return Promise.reject(new ConnectionRefused(`${host}:${port}`, 'the fake machine has no network'));
  }

  openUnix(socket: string): Promise<Duplex> {
    return Promise.reject(new ConnectionRefused(socket, 'the fake machine has no sockets'));
  }

  async identity(): Promise<MachineIdentity> {
    return { target: this.name, hostname: 'fake', instance: this.instance };
  }

  shellArgv(command: string[]): string[] {
    return ['bash', '-c', command.join(' ')];
  }

  async close(): Promise<void> {}

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

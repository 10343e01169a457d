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
 * skips, uncaught errors) without root: commands run in bash on this host as the test's user, in
 * a temp folder that is also where the machine's files live; nothing can be connected to (no
 * Docker, no API server). Real targets are tested against real namespaces, sshd and VMs.
 */
export class FakeTarget implements Target {
  readonly type = 'fake' as const;
  readonly name = 'fake';
  readonly root = mkdtempSync(path.join(tmpdir(), 'book-fake-machine-'));
  readonly runtimeDir = path.join(this.root, 'run');
  readonly dockerSocket = path.join(this.root, 'run', 'docker.sock');
  /** Commands run so far, for assertions. */
  readonly commands: string[] = [];

  constructor(private readonly options: { unreachable?: boolean } = {}) {
    mkdirSync(this.runtimeDir, { recursive: true });
  }

  async connect(): Promise<void> {
    if (this.options.unreachable) throw new MachineUnreachable('the fake machine is down (as the test asked)', 'nothing to do: it is a test');
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    const started = performance.now();
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], { cwd: this.root, env: { ...process.env, ...options.env, BOOK_FAKE_ROOT: this.root }, detached: true });
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
    return { target: this.name, hostname: 'fake', instance: 'fake-1' };
  }

  shellArgv(command: string[]): string[] {
    return ['bash', '-c', command.join(' ')];
  }

  async close(): Promise<void> {}

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

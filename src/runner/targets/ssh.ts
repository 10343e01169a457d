import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { fingerprint, verifyHostKey } from './known-hosts.js';
import {
  atomicWriteScript,
  ConnectionRefused,
  commandLine,
  type ExecOptions,
  type ExecResult,
  exportPrefix,
  HostKeyRefused,
  type MachineIdentity,
  MachineUnreachable,
  machineEnv,
  readFailure,
  shellQuote,
  type Target,
} from './target.js';

export interface SshTargetOptions {
  name: string;
  host: string;
  port: number;
  user: string;
  key?: string;
  runtimeDir: string;
  dockerSocket: string;
  env: Record<string, string>;
  /** The host key's fingerprint pinned in book.yaml (`SHA256:…`): any other key is refused. */
  hostKey?: string;
  /**
   * Where unpinned host keys are learned and checked (accept-new, known-hosts.ts); default
   * ~/.ssh/known_hosts. false: not checked (a Vagrant VM's key, new with each `vagrant up`).
   */
  knownHosts?: string | false;
}

const PID_MARK = '\u001eBOOKPID ';

/**
 * Any Linux host over SSH. Commands run as root (through `sudo -n` for other users); Docker and
 * the API server are reached through the connection (streamlocal and direct-tcpip channels).
 */
/** `~/.ssh/id_ed25519` as ssh reads it: a leading `~/` is the home folder (docs/targets.md's example). */
export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? homedir() + file.slice(1) : file;
}

export class SshTarget implements Target {
  readonly type = 'ssh' as const;
  readonly name: string;
  readonly runtimeDir: string;
  readonly dockerSocket: string;
  private client?: Client;
  private ready?: Promise<Client>;
  private readonly env: Record<string, string>;
  /** The host key's fingerprint, once connected. */
  hostKey?: string;
  /** Why the host key was refused, for the connection error. */
  private refused?: { message: string; hint: string };

  constructor(private readonly options: SshTargetOptions) {
    this.name = options.name;
    this.runtimeDir = options.runtimeDir;
    this.dockerSocket = options.dockerSocket;
    this.env = machineEnv(options.env);
  }

  private where(): string {
    return `${this.options.user}@${this.options.host}:${this.options.port}`;
  }

  connect(): Promise<void> {
    return this.conn().then(() => undefined);
  }

  private conn(): Promise<Client> {
    if (this.ready) return this.ready;
    this.ready = new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let privateKey: Buffer | undefined;
      try {
        privateKey = this.options.key ? readFileSync(expandHome(this.options.key)) : undefined;
      } catch (error) {
        reject(
          new MachineUnreachable(
            `cannot read the ssh key ${this.options.key}: ${(error as Error).message}`,
            'set key: in the target to a readable private key file',
          ),
        );
        return;
      }
      client.once('ready', () => {
        this.client = client;
        resolve(client);
      });
      client.once('error', (error) => {
        this.ready = undefined;
        if (this.refused) return reject(new HostKeyRefused(this.refused.message, this.refused.hint));
        reject(
          new MachineUnreachable(
            `cannot reach ${this.where()}: ${error.message}`,
            "check that the host is up and the target's host, port, user and key are right (book machine status)",
          ),
        );
      });
      client.on('close', () => {
        this.client = undefined;
        this.ready = undefined;
      });
      client.connect({
        host: this.options.host,
        port: this.options.port,
        username: this.options.user,
        privateKey,
        agent: privateKey ? undefined : process.env.SSH_AUTH_SOCK,
        readyTimeout: 10_000,
        keepaliveInterval: 15_000,
        hostVerifier: (key: Buffer) => {
          this.hostKey = fingerprint(key);
          if (this.options.knownHosts === false && !this.options.hostKey) return true;
          const verdict = verifyHostKey({
            host: this.options.host,
            port: this.options.port,
            key,
            pinned: this.options.hostKey,
            knownHosts: this.options.knownHosts || undefined,
          });
          this.refused = verdict.ok ? undefined : verdict;
          return verdict.ok;
        },
      });
    });
    return this.ready;
  }

  /** The remote side runs `bash -c`, as root; it reports its pid first so an abort can kill its session. */
  private wrap(command: string, env: Record<string, string>): string {
    const inner = `printf '${PID_MARK.replace('\u001e', '\\036')}%s\\n' $$ >&2; ${exportPrefix(env)}${command}`;
    const bash = `bash -c ${shellQuote(inner)}`;
    return this.options.user === 'root' ? bash : `sudo -n ${bash}`;
  }

  private async channel(
    command: string,
    options: ExecOptions,
  ): Promise<{ stdout: Buffer; stderr: string; exitCode: number | null; signal: string | null; durationMs: number }> {
    const client = await this.conn();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      client.exec(this.wrap(command, { ...this.env, ...options.env }), (error, stream: ClientChannel) => {
        if (error)
          return reject(new MachineUnreachable(`cannot run a command on ${this.where()}: ${error.message}`, 'check the ssh server allows exec sessions'));
        const out: Buffer[] = [];
        let stderr = '';
        let pid: string | undefined;
        let exitCode: number | null = null;
        let signal: string | null = null;
        const kill = () => {
          if (pid) void this.channelRaw(`pkill -KILL -s ${pid} || kill -KILL ${pid}`).catch(() => {});
          stream.close();
        };
        if (options.signal?.aborted) kill();
        options.signal?.addEventListener('abort', kill, { once: true });
        stream.on('data', (chunk: Buffer) => {
          out.push(chunk);
          options.onStdout?.(chunk.toString('utf8'));
        });
        stream.stderr.on('data', (chunk: Buffer) => {
          let text = chunk.toString('utf8');
          if (pid === undefined) {
            const at = (stderr + text).indexOf(PID_MARK);
            const whole = stderr + text;
            const end = whole.indexOf('\n', at);
            if (at >= 0 && end >= 0) {
              pid = whole.slice(at + PID_MARK.length, end);
              text = whole.slice(0, at) + whole.slice(end + 1);
              stderr = '';
            } else {
              stderr = whole;
              return;
            }
          }
          stderr += text;
          if (text) options.onStderr?.(text);
        });
        stream.on('exit', (code: number | null, sig?: string) => {
          exitCode = code ?? null;
          signal = sig ?? null;
        });
        stream.on('close', () => {
          options.signal?.removeEventListener('abort', kill);
          resolve({
            stdout: Buffer.concat(out),
            stderr,
            exitCode: options.signal?.aborted ? null : exitCode,
            signal: options.signal?.aborted ? 'SIGKILL' : signal,
            durationMs: performance.now() - started,
          });
        });
        stream.end(options.stdin ?? '');
      });
    });
  }

  private async channelRaw(command: string): Promise<void> {
    const client = await this.conn();
    await new Promise<void>((resolve) => {
      client.exec(this.options.user === 'root' ? command : `sudo -n ${command}`, (error, stream) => {
        if (error) return resolve();
        stream.on('close', () => resolve()).resume();
        stream.stderr.resume();
      });
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.channel(command, options);
    return { ...result, stdout: result.stdout.toString('utf8') };
  }

  async writeFile(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const result = await this.channel(atomicWriteScript(file, mode), { stdin: data });
    if (result.exitCode !== 0) throw new Error(`cannot write ${file} on ${this.where()}: ${result.stderr.trim()}`);
  }

  async readFile(file: string): Promise<Buffer> {
    const result = await this.channel(`cat ${shellQuote(file)}`, {});
    if (result.exitCode !== 0) throw readFailure(file, result.stderr);
    return result.stdout;
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    const client = await this.conn();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (error, stream) => {
        if (error) reject(new ConnectionRefused(`${host}:${port}`, /refused|failure/i.test(error.message) ? 'connection refused' : error.message));
        else resolve(stream);
      });
    });
  }

  async openUnix(socketPath: string): Promise<Duplex> {
    const client = await this.conn();
    return new Promise((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(socketPath, (error, stream) => {
        if (error) reject(new ConnectionRefused(socketPath, error.message));
        else resolve(stream);
      });
    });
  }

  async identity(): Promise<MachineIdentity> {
    const result = await this.exec('hostname; cat /proc/sys/kernel/random/boot_id');
    const [host = '', boot = ''] = result.stdout.trim().split('\n');
    return { target: this.name, hostname: host, instance: boot };
  }

  shellArgv(command: string[], env: Record<string, string>): string[] {
    const argv = ['ssh', '-p', String(this.options.port), '-o', 'StrictHostKeyChecking=accept-new'];
    if (this.options.key) argv.push('-i', expandHome(this.options.key));
    // `--`: whatever the destination holds, ssh reads it as the destination, never as an option
    // (`-oProxyCommand=…`); book.yaml's schema refuses such values already (issue 27).
    argv.push(command.length ? '-T' : '-t', '--', `${this.options.user}@${this.options.host}`);
    const prefix = exportPrefix({ ...env });
    const line = command.length ? `${prefix}${commandLine(command)}` : `${prefix}exec bash -l`;
    argv.push(this.options.user === 'root' ? line : `sudo -n bash -c ${shellQuote(line)}`);
    return argv;
  }

  async close(): Promise<void> {
    this.client?.end();
    this.client = undefined;
    this.ready = undefined;
  }
}

import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileKind } from '../files.js';
import { AGENT_SOURCE, AgentClient } from './agent.js';
import { PYTHON_AGENT_SOURCE } from './agent-python.js';
import {
  ConnectionRefused,
  commandWords,
  type ExecOptions,
  type ExecResult,
  type MachineIdentity,
  MachineUnreachable,
  machineEnv,
  notAFile,
  notAFolder,
  type Target,
} from './target.js';

export interface LocalTargetOptions {
  name: string;
  netns: string;
  runtimeDir: string;
  dockerSocket: string;
  env: Record<string, string>;
  /** A node with a mount namespace of its own (the local worker, docs/two-nodes.md): its file. */
  mountNamespace?: string;
}

const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * The agent that runs the machine's commands: Python's where the host has it (it forks ~10x faster,
 * see agent-python.ts), else Node's. BOOK_LOCAL_AGENT=node|python picks one (tests, benchmarks).
 */
export function localAgentArgv(choice = process.env.BOOK_LOCAL_AGENT): string[] {
  const python = choice === 'python' || (choice !== 'node' && existsSync(SYSTEM_PYTHON));
  // -I: no user site or PYTHON* variables; -S: no site module (faster start, stdlib only).
  return python ? [SYSTEM_PYTHON, '-I', '-S', '-c', PYTHON_AGENT_SOURCE] : [process.execPath, '-e', AGENT_SOURCE];
}

/**
 * This Linux host as root, with the machine's processes in their own network namespace (no route
 * off the box). `nsenter --net` rather than `ip netns exec`: the latter remounts /sys and hides the
 * cgroup v1 mounts that dockerd and the kubelet need.
 */
export class LocalTarget implements Target {
  readonly type = 'local' as const;
  readonly name: string;
  readonly runtimeDir: string;
  readonly dockerSocket: string;
  private readonly netnsPath: string;
  private readonly mountNamespace?: string;
  private readonly env: Record<string, string>;
  private readonly agent: AgentClient;
  private readonly relays = new Map<string, Promise<string>>();
  /** Private (0700, from mkdtemp): the relays' sockets give root's access to the machine's loopback. */
  private relayDir?: string;
  /** nativeRoot() for the agent process that answered it. */
  private root?: { pid: number; path: string };

  constructor(options: LocalTargetOptions) {
    this.name = options.name;
    this.runtimeDir = options.runtimeDir;
    this.dockerSocket = options.dockerSocket;
    this.netnsPath = `/var/run/netns/${options.netns}`;
    this.mountNamespace = options.mountNamespace;
    this.env = machineEnv(options.env);
    this.agent = new AgentClient(this.argv(localAgentArgv()));
  }

  async connect(): Promise<void> {
    if (process.platform !== 'linux') throw new MachineUnreachable('the local target needs Linux', 'use --target ssh or --target vagrant');
    if (process.getuid?.() !== 0) throw new MachineUnreachable('the local target runs as root', 'run book as root (sudo), or use --target ssh');
    if (!existsSync(this.netnsPath)) {
      throw new MachineUnreachable(
        `the local machine is not up (no network namespace at ${this.netnsPath})`,
        `run: book machine up --target ${this.name.split('/')[0]}`,
      );
    }
    // A mount namespace is kept by a bind mount of its file: a plain file there is a node that is down.
    if (this.mountNamespace && !readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${this.mountNamespace} `)) {
      throw new MachineUnreachable(
        `the node ${this.name} is not up (no mount namespace at ${this.mountNamespace})`,
        `run: book machine up --target ${this.name.split('/')[0]}`,
      );
    }
  }

  private argv(command: string[]): string[] {
    const mount = this.mountNamespace ? [`--mount=${this.mountNamespace}`] : [];
    return ['nsenter', ...mount, `--net=${this.netnsPath}`, '--', ...command];
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.agent.exec(command, { ...this.env, ...options.env }, options);
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs };
  }

  networkChanged(): Promise<boolean> {
    return this.agent.networkChanged();
  }

  /** The machine's sockets are files on this host (the nodes' runtime folders are shared). */
  hostSocketPath(machinePath: string): string {
    return machinePath;
  }

  /**
   * '' for a node that shares this host's mounts; for one with its own mount namespace, the root
   * its agent sees (`/proc/PID/root`), once the agent is surely inside the namespace (it answered).
   */
  async nativeRoot(): Promise<string> {
    if (!this.mountNamespace) return '';
    if (this.root && this.root.pid === this.agent.pid()) return this.root.path;
    const result = await this.agent.exec('true', this.env, {});
    const pid = this.agent.pid();
    // The agent must be inside the namespace, or its root is this host's: compare the namespaces.
    const inside = pid ? readlinkOr(`/proc/${pid}/ns/mnt`) === `mnt:[${statSync(this.mountNamespace).ino}]` : false;
    if (result.exitCode !== 0 || !pid || !inside)
      throw new MachineUnreachable(`cannot enter the mount namespace ${this.mountNamespace}`, `run: book machine up --target ${this.name.split('/')[0]}`);
    this.root = { pid, path: `/proc/${pid}/root` };
    return this.root.path;
  }

  /**
   * Atomic: a temp file beside the target, then rename; parents are created. A symbolic link is
   * written through (the file it leads to is replaced; the link stays). Anything else that is not a
   * regular file (a folder, a device, a FIFO, a socket: on this target they are the host's own) is
   * refused untouched, as atomicWriteScript refuses it on the other targets; the temp file is removed
   * on every failure, and every error is a sentence naming the path, never the temp file.
   */
  async writeFile(machinePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const root = await this.nativeRoot();
    try {
      const real = await throughLinks(root, machinePath);
      const file = root + real;
      await makeFolders(root, machinePath, path.dirname(real));
      await refuseUnlessRegular(machinePath, real, file);
      // A hidden temp name: the kubelet ignores dotfiles in its static-pod folder. A visible one is
      // read as a second manifest for the same pod, and the real file waits for the next 20 s resync.
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.book-${process.pid}.tmp`);
      try {
        await writeFile(temp, data, { mode });
        await chmod(temp, mode);
        // Checked again just before the rename: it would replace whatever is at `file` by then.
        await refuseUnlessRegular(machinePath, real, file);
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw error;
      }
    } catch (error) {
      throw writeFailure(machinePath, error);
    }
  }

  /** Synchronous underneath: the machine's files are small, and the kubeconfig is re-read before
   * every block that uses k8s and in every snapshot, where libuv's thread pool costs ~0.25 ms a call. */
  async readFile(file: string): Promise<Buffer> {
    return readFileSync(this.mountNamespace ? (await this.nativeRoot()) + file : file);
  }

  /**
   * A TCP connection inside the namespace, through the agent's relay for that endpoint (a Unix
   * socket in a private folder; one per endpoint and run, so a request costs no process). Resolves
   * once the relay has connected, so a refusal is an error, not a hang.
   */
  async openTcp(host: string, port: number): Promise<Duplex> {
    const endpoint = `${host}:${port}`;
    const socketPath = await this.relayFor(host, port);
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      const fail = (reason: string) => {
        socket.destroy();
        reject(new ConnectionRefused(endpoint, reason));
      };
      socket.once('error', (error) => fail(error.message));
      socket.once('end', () => fail('the relay closed the connection'));
      socket.once('data', (chunk: Buffer) => {
        if (chunk[0] !== 0x43) return fail(chunk.subarray(1).toString('utf8') || 'refused');
        socket.removeAllListeners('error');
        socket.removeAllListeners('end');
        socket.pause();
        if (chunk.length > 1) socket.unshift(chunk.subarray(1));
        resolve(socket);
      });
    });
  }

  private relayFor(host: string, port: number): Promise<string> {
    const endpoint = `${host}:${port}`;
    let relay = this.relays.get(endpoint);
    if (!relay) {
      relay = (async () => {
        this.relayDir ??= mkdtempSync(path.join(tmpdir(), 'book-relay-'));
        const socketPath = path.join(this.relayDir, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}.sock`);
        await this.agent.relay(socketPath, host, port);
        return socketPath;
      })();
      relay.catch(() => this.relays.delete(endpoint));
      this.relays.set(endpoint, relay);
    }
    return relay;
  }

  openUnix(socketPath: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => resolve(socket));
      socket.once('error', (error) => reject(new ConnectionRefused(socketPath, error.message)));
    });
  }

  async identity(): Promise<MachineIdentity> {
    const inode = existsSync(this.netnsPath) ? String(statSync(this.netnsPath).ino) : 'none';
    const bootId = existsSync('/proc/sys/kernel/random/boot_id') ? (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() : 'unknown';
    return { target: this.name, hostname: hostname(), instance: `${bootId}/netns:${inode}` };
  }

  shellArgv(command: string[], env: Record<string, string>): string[] {
    const envArgs = Object.entries({ ...this.env, ...env, TERM: process.env.TERM ?? 'xterm', PS1: '[book-machine \\W]# ' }).map(([k, v]) => `${k}=${v}`);
    const inner = command.length === 0 ? ['bash', '--norc', '-i'] : commandWords(command);
    return this.argv(['env', '-i', ...envArgs, ...inner]);
  }

  async close(): Promise<void> {
    this.agent.close();
    this.relays.clear();
    if (this.relayDir) rmSync(this.relayDir, { recursive: true, force: true });
    this.relayDir = undefined;
  }
}

const MAX_LINKS = 40;

/**
 * The machine path a write of `machinePath` lands on: its symbolic links followed (the last part's;
 * a link whose file does not exist yet leads to where it will be made), inside the machine's root.
 */
async function throughLinks(root: string, machinePath: string): Promise<string> {
  let current = machinePath;
  for (let hops = 0; ; hops++) {
    const stats = await lstat(root + current).catch(missingAsUndefined);
    if (!stats?.isSymbolicLink()) return current;
    if (hops === MAX_LINKS) throw new WriteRefused(`cannot write ${machinePath}: too many levels of symbolic links`);
    const to = await readlink(root + current);
    current = to.startsWith('/') ? to : `${path.posix.dirname(current)}/${to}`;
  }
}

/** mkdir -p of `folder` (a machine path), or the sentence that says which part of it is not a folder. */
async function makeFolders(root: string, machinePath: string, folder: string): Promise<void> {
  try {
    await mkdir(root + folder, { recursive: true });
  } catch (error) {
    for (let part = folder; ; part = path.posix.dirname(part)) {
      const stats = await stat(root + part).catch(missingAsUndefined);
      if (stats && !stats.isDirectory()) throw new WriteRefused(notAFolder(machinePath, part, fileKind(stats)));
      if (stats || part === path.posix.dirname(part)) break;
    }
    throw writeFailure(machinePath, error, `cannot make the folder ${folder}`);
  }
}

/** Throws, naming what is there, unless `file` (where `machinePath` leads, `real` on the machine) is missing or a regular file. */
async function refuseUnlessRegular(machinePath: string, real: string, file: string): Promise<void> {
  const stats = await lstat(file).catch(missingAsUndefined);
  if (stats && !stats.isFile()) throw new WriteRefused(notAFile(machinePath, fileKind(stats), real));
}

function missingAsUndefined(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
}

/** A write refused with a sentence of its own (what is at the path, or above it). */
class WriteRefused extends Error {}

/**
 * `cannot write PATH: permission denied`: node's words without its code and the paths it names
 * (the temp file's); the code is kept on the error.
 */
function writeFailure(machinePath: string, error: unknown, doing?: string): Error {
  if (error instanceof WriteRefused || !(error instanceof Error)) return error as Error;
  const errno = error as NodeJS.ErrnoException;
  const words = errno.syscall ? error.message.replace(/^E[A-Z0-9]+: /, '').replace(/, \w+( '.*)?$/s, '') : error.message;
  const failure = new WriteRefused(`cannot write ${machinePath}: ${doing ? `${doing}: ` : ''}${words}`) as NodeJS.ErrnoException;
  if (errno.code) failure.code = errno.code;
  return failure;
}

function readlinkOr(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

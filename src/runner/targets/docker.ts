import { type Duplex, Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { escapedCut } from '../echo.js';
import { AgentClient, type AgentProcess } from './agent.js';
import { PYTHON_AGENT_SOURCE } from './agent-python.js';
import { dockerFrameSplitter } from './byte-splitters.js';
import { NodeReadings } from './node-readings.js';
import { type DockerPlace, findReaderDocker, makeDockerClient, shownAddress, within } from './reader-docker.js';
import {
  atomicWriteScript,
  ConnectionRefused,
  commandWords,
  type ExecOptions,
  type ExecResult,
  type MachineIdentity,
  MachineUnreachable,
  machineEnv,
  type NodeState,
  type NodeStateRequest,
  readFailure,
  type Target,
} from './target.js';

/** Where each node's own dockerd keeps its containers (vagrant/node-machine.sh DOCKER_DATA). */
const NODE_DOCKER_DATA = '/var/lib/docker';

/**
 * The reader's Docker (reader-docker.ts: DOCKER_HOST, a docker context, or the default socket),
 * as the docker CLI finds it. Nodes are reached only through its API (exec, attach), never by address.
 */
export function readerDocker(place: DockerPlace = thisProcessPlace()): Docker {
  return makeDockerClient(place.options);
}

/**
 * The reader's Docker for this process, found once: the environment and ~/.docker do not change
 * under a command, and messages name the place at every call (config.json and the sockets were
 * read again each time).
 */
let found: { place: DockerPlace } | { error: unknown } | undefined;
function thisProcessPlace(): DockerPlace {
  if (!found) {
    try {
      found = { place: findReaderDocker() };
    } catch (error) {
      found = { error };
    }
  }
  if ('error' in found) throw found.error;
  return found.place;
}

/** Where the reader's Docker is, for messages (password blanked). */
export function readerDockerPlace(): string {
  try {
    return thisProcessPlace().shown;
  } catch {
    return shownAddress(process.env.DOCKER_HOST ?? '');
  }
}

/**
 * How long a Docker API call that should answer at once may take (ping, inspect, list, exec
 * start): 15 s, or DOCKER_CLIENT_TIMEOUT (milliseconds, as docker-modem reads it).
 */
export const DOCKER_ANSWER_MS = (() => {
  const set = Number(process.env.DOCKER_CLIENT_TIMEOUT);
  return Number.isInteger(set) && set > 0 ? set : 15_000;
})();

/** Whether the reader's Docker answers within `timeoutMs` (target: auto), and if not, why. */
export async function dockerAnswers(timeoutMs = 3000): Promise<{ answers: boolean; place: DockerPlace; why?: string }> {
  const place = thisProcessPlace();
  try {
    await within(makeDockerClient({ ...place.options, timeout: timeoutMs }).ping(), timeoutMs, place.shown, 'a ping');
    return { answers: true, place };
  } catch (error) {
    return { answers: false, place, why: oneLine((error as Error).message) };
  }
}

/** A ping of the reader's Docker within DOCKER_ANSWER_MS, or MachineUnreachable saying where, why and what to do. */
export async function pingReaderDocker(docker: Docker): Promise<void> {
  const place = readerDockerPlace();
  try {
    await within(docker.ping(), DOCKER_ANSWER_MS, place, 'a ping');
  } catch (error) {
    if (error instanceof MachineUnreachable) throw error;
    throw new MachineUnreachable(`no Docker daemon answers at ${place} (${oneLine((error as Error).message)})`, dockerHint(error));
  }
}

/** A message of the Docker daemon's on one line (some span several), cut. */
export function oneLine(message: string): string {
  return escapedCut(message.trim(), 300);
}

/**
 * What the reader should do when the Docker at `place` cannot be used: a permission refused is not
 * a daemon that is down, and a daemon too old for the client is neither.
 */
export function dockerHint(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const status = dockerStatus(error);
  const message = String((error as Error | undefined)?.message ?? '');
  if (code === 'EACCES' || code === 'EPERM')
    return 'you may not use that Docker socket: join the docker group (sudo usermod -aG docker $USER, then log in again), or run as root';
  if (status === 400 && /version/i.test(message)) return 'this Docker is older than the runner needs (API 1.42 or later): upgrade it';
  if (status === 409 && /paused/i.test(message)) return 'a node container is paused: docker unpause it, or book machine down then up';
  return 'start Docker (Docker Desktop, OrbStack, colima or Docker Engine), or point DOCKER_HOST at it';
}

/** A Docker API error as the reader should see it (MachineUnreachable, exit 3): where, what, why, what to do. */
export function dockerTrouble(error: unknown, place: string, what: string): MachineUnreachable {
  if (error instanceof MachineUnreachable) return error;
  const status = dockerStatus(error);
  const why = oneLine(String((error as Error | undefined)?.message ?? error));
  return new MachineUnreachable(`the Docker at ${place} ${status ? `refused ${what} (HTTP ${status})` : `could not ${what}`}: ${why}`, dockerHint(error));
}

/** Status codes of the Docker API errors dockerode throws. */
export function dockerStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

/**
 * The runner's agent (agent-python.ts) inside a node container, started by one Docker exec whose
 * attached stdin and stdout carry its JSON lines; its stderr goes to this process's. The exec is
 * created asynchronously: what is written before it is ready waits, in order. The exec's stream
 * is split into its frames here (byte-splitters.ts), and what is written goes straight to it.
 */
export function dockerExecAgent(docker: Docker, container: string): AgentProcess {
  const callbacks: (() => void)[] = [];
  let closed = false;
  let stream: Duplex | undefined;
  let wantRef = false;
  const waiting: (string | Buffer)[] = [];
  let endWhenReady = false;
  const stdout = new Readable({ read() {} });
  const stdin = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      // Once the agent is gone, what it would have read goes nowhere (its commands are answered as ended).
      if (!closed) {
        if (stream) stream.write(chunk);
        else waiting.push(chunk);
      }
      callback();
    },
    final(callback) {
      if (stream && !closed) stream.end();
      else endWhenReady = true;
      callback();
    },
  });
  const close = () => {
    if (closed) return;
    closed = true;
    stdout.push(null);
    for (const callback of callbacks) callback();
  };
  const socket = () => stream as unknown as { ref?(): void; unref?(): void } | undefined;
  (async () => {
    const place = readerDockerPlace();
    const exec = await within(
      docker.getContainer(container).exec({
        Cmd: ['/usr/bin/python3', '-I', '-S', '-c', PYTHON_AGENT_SOURCE],
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      }),
      DOCKER_ANSWER_MS,
      place,
      'an exec in the node',
    );
    const started = (await within(exec.start({ hijack: true, stdin: true }), DOCKER_ANSWER_MS, place, 'the start of an exec')) as Duplex;
    stream = started;
    if (wantRef) socket()?.ref?.();
    else socket()?.unref?.();
    started.on(
      'data',
      dockerFrameSplitter(
        (kind, payload) => {
          if (kind === 1) stdout.push(payload);
          else if (kind === 2) process.stderr.write(payload);
        },
        (why) => {
          process.stderr.write(`book: the runner's agent in the node container ${container} answered out of step: ${why}\n`);
          started.destroy();
        },
      ),
    );
    started.on('end', close);
    started.on('close', close);
    started.on('error', close);
    for (const chunk of waiting.splice(0)) started.write(chunk);
    if (endWhenReady) started.end();
  })().catch((error: Error) => {
    process.stderr.write(`book: cannot start the runner's agent in the node container ${container}: ${error.message}\n`);
    close();
  });
  return {
    stdin,
    stdout,
    onClose: (callback) => {
      if (closed) callback();
      else callbacks.push(callback);
    },
    ref: () => {
      wantRef = true;
      socket()?.ref?.();
    },
    unref: () => {
      wantRef = false;
      socket()?.unref?.();
    },
  };
}

export interface DockerTargetOptions {
  /** The book's target name (`docker`), or `docker/k8s-worker` for another node. */
  name: string;
  /** The node's container on the reader's Docker. */
  container: string;
  runtimeDir: string;
  dockerSocket: string;
  env: Record<string, string>;
  docker?: Docker;
}

/**
 * A node that is a privileged container on the reader's Docker (as kind and minikube's docker
 * driver run nodes). Every command, file and socket goes through the Docker API: one exec runs the
 * runner's agent in the node, and the agent carries commands and byte streams (the node's Docker
 * socket, its API server) over that exec's pipes. So nothing needs the node's address.
 */
export class DockerTarget implements Target {
  readonly type = 'docker' as const;
  readonly name: string;
  readonly runtimeDir: string;
  readonly dockerSocket: string;
  readonly container: string;
  private readonly docker: Docker;
  private readonly env: Record<string, string>;
  private readonly agent: AgentClient;
  private readonly readings: NodeReadings;

  constructor(options: DockerTargetOptions) {
    this.name = options.name;
    this.container = options.container;
    this.runtimeDir = options.runtimeDir;
    this.dockerSocket = options.dockerSocket;
    this.env = machineEnv(options.env);
    this.docker = options.docker ?? readerDocker();
    this.agent = new AgentClient(() => dockerExecAgent(this.docker, this.container));
    this.readings = new NodeReadings(this.agent);
  }

  private upHint(): string {
    return `run: book machine up --target ${this.name.split('/')[0]}`;
  }

  async connect(): Promise<void> {
    await pingReaderDocker(this.docker);
    const place = readerDockerPlace();
    let state: Partial<Docker.ContainerInspectInfo['State']> | undefined;
    try {
      state = (await within(this.docker.getContainer(this.container).inspect(), DOCKER_ANSWER_MS, place, `an inspect of ${this.container}`))?.State;
    } catch (error) {
      if (dockerStatus(error) === 404) throw new MachineUnreachable(`the docker machine is not up (no container ${this.container})`, this.upHint());
      throw dockerTrouble(error, place, `an inspect of the node container ${this.container}`);
    }
    if (typeof state?.Status !== 'string')
      throw new MachineUnreachable(`the Docker at ${place} gave an answer that is not a container's state for ${this.container}`, dockerHint(undefined));
    if (state.Paused) throw new MachineUnreachable(`the node container ${this.container} is paused`, `docker unpause ${this.container}, or ${this.upHint()}`);
    if (!state.Running) throw new MachineUnreachable(`the node container ${this.container} is ${oneLine(state.Status)}, not running`, this.upHint());
  }

  /** Once the snapshot has read the node, each command brings back the node's state after it (node-readings.ts). */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.readings.exec(command, { ...this.env, ...options.env }, options);
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs };
  }

  networkChanged(): Promise<boolean> {
    return this.agent.networkChanged();
  }

  /** Atomic on the node: a hidden temp file beside the target (the kubelet ignores dotfiles), then mv. */
  async writeFile(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
    const result = await this.exec(atomicWriteScript(file, mode), { stdin: data });
    if (result.exitCode !== 0) throw new Error(`cannot write ${file} on ${this.container}: ${result.stderr.trim()}`);
  }

  /** Read by the agent itself: the snapshot reads the kubeconfig after every block, and a cat cost a process. */
  async readFile(file: string): Promise<Buffer> {
    try {
      return (await this.readings.file(file)) ?? (await this.agent.readFile(file));
    } catch (error) {
      throw readFailure(file, (error as Error).message);
    }
  }

  nodeState(request: NodeStateRequest): Promise<NodeState> {
    return this.readings.read({
      runtime: this.runtimeDir,
      manifests: request.manifestsDir,
      lines: request.logLines,
      socket: this.dockerSocket,
      dockerData: NODE_DOCKER_DATA,
      read: request.read,
    });
  }

  async openTcp(host: string, port: number): Promise<Duplex> {
    try {
      return await this.agent.openStream({ host, port });
    } catch (error) {
      throw new ConnectionRefused(`${host}:${port}`, (error as Error).message);
    }
  }

  async openUnix(socketPath: string): Promise<Duplex> {
    try {
      return await this.agent.openStream({ path: socketPath });
    } catch (error) {
      throw new ConnectionRefused(socketPath, (error as Error).message);
    }
  }

  async identity(): Promise<MachineIdentity> {
    const info = await within(this.docker.getContainer(this.container).inspect(), DOCKER_ANSWER_MS, readerDockerPlace(), `an inspect of ${this.container}`);
    return { target: this.name, hostname: info.Config.Hostname, instance: `container:${info.Id.slice(0, 12)}@${info.Created}` };
  }

  /** The docker CLI's way in (for readers who want it); `book machine shell` uses shell() below. */
  shellArgv(command: string[], env: Record<string, string>): string[] {
    const vars = Object.entries({ ...this.env, ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const inner = command.length === 0 ? ['bash', '--norc', '-i'] : commandWords(command);
    return ['docker', 'exec', '-i', ...(command.length === 0 ? ['-t'] : []), ...vars, this.container, ...inner];
  }

  /**
   * An interactive shell (or one command) in the node, through the Docker API: a terminal of its
   * own when this one is a terminal, else plain pipes. Resolves with the command's exit status.
   */
  async shell(command: string[], env: Record<string, string>): Promise<number> {
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const node = this.name.includes('/') ? this.name.split('/')[1] : 'k8s-master';
    const vars = { ...this.env, ...env, TERM: process.env.TERM ?? 'xterm', PS1: `[${node} \\W]# ` };
    const place = readerDockerPlace();
    const started = (async () => {
      const exec = await this.docker.getContainer(this.container).exec({
        Cmd: command.length === 0 ? ['bash', '--norc', '-i'] : commandWords(command),
        Env: Object.entries(vars).map(([k, v]) => `${k}=${v}`),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
      });
      return { exec, stream: (await exec.start({ hijack: true, stdin: true, Tty: tty })) as Duplex };
    })();
    let exec: Docker.Exec;
    let stream: Duplex;
    try {
      ({ exec, stream } = await within(started, DOCKER_ANSWER_MS, place, `an exec in ${this.container}`));
    } catch (error) {
      throw dockerTrouble(error, place, `an exec in ${this.container}`);
    }
    const resize = () => exec.resize({ h: process.stdout.rows, w: process.stdout.columns }).catch(() => {});
    if (tty) {
      process.stdin.setRawMode(true);
      stream.pipe(process.stdout);
      await resize();
      process.stdout.on('resize', resize);
    } else {
      this.docker.modem.demuxStream(stream, process.stdout, process.stderr);
    }
    process.stdin.pipe(stream);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    process.stdin.unpipe(stream);
    process.stdin.pause();
    if (tty) {
      process.stdin.setRawMode(false);
      process.stdout.off('resize', resize);
    }
    const { ExitCode } = await within(exec.inspect(), DOCKER_ANSWER_MS, place, 'the exit status of an exec');
    return ExitCode ?? 1;
  }

  async close(): Promise<void> {
    this.agent.close();
  }
}

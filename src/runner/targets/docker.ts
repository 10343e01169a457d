import { type Duplex, PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { AgentClient, type AgentProcess } from './agent.js';
import { PYTHON_AGENT_SOURCE } from './agent-python.js';
import { NodeReadings } from './node-readings.js';
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
 * The reader's Docker: DOCKER_HOST when set (unix, tcp, ssh), else the default socket — as the
 * docker CLI finds it. Nodes are reached only through its API (exec, attach), never by address.
 */
export function readerDocker(): Docker {
  return new Docker();
}

/** Where the reader's Docker is, for messages. */
export function readerDockerPlace(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** Whether the reader's Docker answers within `timeoutMs` (target: auto). */
export async function dockerAnswers(timeoutMs = 3000): Promise<boolean> {
  // The modem merges these with DOCKER_HOST's defaults.
  const docker = new Docker({ timeout: timeoutMs });
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** Status codes of the Docker API errors dockerode throws. */
export function dockerStatus(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/**
 * The runner's agent (agent-python.ts) inside a node container, started by one Docker exec whose
 * attached stdin and stdout carry its JSON lines; its stderr goes to this process's. The exec is
 * created asynchronously: what is written before it is ready waits in the stdin buffer.
 */
export function dockerExecAgent(docker: Docker, container: string): AgentProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const callbacks: (() => void)[] = [];
  let closed = false;
  let socket: { ref?(): void; unref?(): void } | undefined;
  let wantRef = false;
  const close = () => {
    if (closed) return;
    closed = true;
    stdout.end();
    for (const callback of callbacks) callback();
  };
  (async () => {
    const exec = await docker.getContainer(container).exec({
      Cmd: ['/usr/bin/python3', '-I', '-S', '-c', PYTHON_AGENT_SOURCE],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
    socket = stream as unknown as typeof socket;
    if (wantRef) socket?.ref?.();
    else socket?.unref?.();
    const stderr = new PassThrough();
    stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    docker.modem.demuxStream(stream, stdout, stderr);
    stream.on('end', close);
    stream.on('close', close);
    stream.on('error', close);
    stdin.pipe(stream);
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
      socket?.ref?.();
    },
    unref: () => {
      wantRef = false;
      socket?.unref?.();
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
    try {
      await this.docker.ping();
    } catch (error) {
      throw new MachineUnreachable(
        `no Docker daemon answers at ${readerDockerPlace()} (${(error as Error).message})`,
        'start Docker (Docker Desktop, OrbStack, colima or Docker Engine), or point DOCKER_HOST at it',
      );
    }
    let state: Docker.ContainerInspectInfo['State'];
    try {
      state = (await this.docker.getContainer(this.container).inspect()).State;
    } catch (error) {
      if (dockerStatus(error) === 404) throw new MachineUnreachable(`the docker machine is not up (no container ${this.container})`, this.upHint());
      throw new MachineUnreachable(`cannot inspect the node container ${this.container}: ${(error as Error).message}`, this.upHint());
    }
    if (!state.Running) throw new MachineUnreachable(`the node container ${this.container} is ${state.Status}, not running`, this.upHint());
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
    const info = await this.docker.getContainer(this.container).inspect();
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
    const exec = await this.docker.getContainer(this.container).exec({
      Cmd: command.length === 0 ? ['bash', '--norc', '-i'] : commandWords(command),
      Env: Object.entries(vars).map(([k, v]) => `${k}=${v}`),
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: tty })) as Duplex;
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
    const { ExitCode } = await exec.inspect();
    return ExitCode ?? 1;
  }

  async close(): Promise<void> {
    this.agent.close();
  }
}

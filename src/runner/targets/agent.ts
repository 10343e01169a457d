import { spawn } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { outputNote } from '../output-limits.js';
import { lineSplitter } from './byte-splitters.js';
import type { ExecOptions, ExecResult, NodeState } from './target.js';

/**
 * The program the local target keeps running inside the machine's namespace: it spawns each
 * command there (bash -c, its own process group) and streams the output back as JSON lines. One
 * `nsenter` per run instead of one per command: a command costs a fork of bash, not of nsenter + bash.
 * It also relays TCP into the namespace (op 'relay'). The fallback for hosts without
 * /usr/bin/python3 (agent-python.ts, same protocol). Plain JavaScript in a string, so it runs with `node -e` whatever built or bundled the runner.
 */
export const AGENT_SOURCE = String.raw`
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const readline = require('node:readline');
const running = new Map();
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n');
process.on('SIGINT', () => {});
const kill = (child) => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} };
const killAll = () => { for (const child of running.values()) kill(child); };
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.op === 'kill') { const c = running.get(m.id); if (c) kill(c); return; }
  if (m.op === 'relay') { relay(m); return; }
  // No netlink here: the network may always have changed (the Python agent watches it).
  if (m.op === 'netchanged') { send({ id: m.id, t: 'x', code: 0, signal: null }); return; }
  // Streams over the pipes are the Python agent's (the docker target's nodes have it).
  if (m.op === 'open') { send({ id: m.id, t: 'x', code: 1, signal: null, error: 'this agent carries no streams' }); return; }
  if (m.op === 'data' || m.op === 'eof' || m.op === 'close') return;
  // Reads without a process are the Python agent's too; the local target reads with node:fs.
  if (m.op === 'read' || m.op === 'nodestate') { send({ id: m.id, t: 'x', code: 127, signal: null, error: 'this agent has no op ' + m.op }); return; }
  if (m.after) send({ id: m.after.id, t: 'x', code: 127, signal: null, error: 'this agent has no op nodestate' });
  let child;
  try { child = spawn('bash', ['-c', m.command], { env: m.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] }); }
  catch (e) { send({ id: m.id, t: 'x', code: 127, signal: null, error: e.message }); return; }
  running.set(m.id, child);
  child.stdout.on('data', (d) => send({ id: m.id, t: 'o', d: d.toString('base64') }));
  child.stderr.on('data', (d) => send({ id: m.id, t: 'e', d: d.toString('base64') }));
  child.on('error', (e) => { running.delete(m.id); send({ id: m.id, t: 'x', code: 127, signal: null, error: e.message }); });
  child.on('close', (code, signal) => { running.delete(m.id); send({ id: m.id, t: 'x', code, signal }); });
  child.stdin.on('error', () => {});
  child.stdin.end(m.stdin ? Buffer.from(m.stdin, 'base64') : '');
}).on('close', () => { killAll(); process.exit(0); });
// A Unix socket whose every connection is relayed to host:port in this namespace. The first byte
// back says how the TCP connect went: C (connected), or R and the reason, then the connection closes.
function relay(m) {
  const server = net.createServer((client) => {
    client.pause();
    client.on('error', () => {});
    // No Nagle: a request written in pieces would otherwise wait out the peer's delayed ACK (~40 ms).
    const remote = net.connect({ port: m.port, host: m.host, noDelay: true });
    let connected = false;
    remote.once('connect', () => { connected = true; client.write('C'); client.pipe(remote); remote.pipe(client); client.resume(); });
    // Refused: say why, and read what the client sent already (closing with unread data resets it).
    remote.on('error', (e) => { if (connected) client.destroy(); else { client.end('R' + (e.code === 'ECONNREFUSED' ? 'connection refused' : e.message)); client.resume(); } });
    remote.on('close', () => { if (connected) client.end(); });
    client.on('close', () => remote.destroy());
  });
  server.on('error', (e) => send({ id: m.id, t: 'x', code: 1, signal: null, error: e.message }));
  server.listen(m.path, () => { fs.chmodSync(m.path, 0o600); server.unref(); send({ id: m.id, t: 'x', code: 0, signal: null }); });
}
`;

/** What the agent reads in one op 'nodestate' (agent-python.ts node_state). */
export interface NodeStateAsk {
  runtime: string;
  manifests: string;
  lines: number;
  socket: string;
  dockerData: string;
  /** The fingerprint of the container list the caller holds: answered `same` while it is unchanged. */
  dockerSeen?: string;
  /** Whole files to read too, by path. */
  read?: string[];
}

/** The agent's answer: `same` means the containers are those of the fingerprint the ask said it holds. */
export type AgentNodeState = Omit<NodeState, 'docker'> & { docker: NodeState['docker'] | { same: true } };

function parseNodeState(result: ExecResult, last?: { text: string; state: AgentNodeState }): AgentNodeState {
  if (result.exitCode !== 0) throw new Error(`the machine agent cannot read the machine's state: ${result.stderr.trim()}`);
  if (last?.text === result.stdout) return last.state;
  return JSON.parse(result.stdout) as AgentNodeState;
}

/**
 * What the runner keeps of a command's stdout and of its stderr, each: its last 256 MiB. A string
 * cannot be much longer in V8 (~512 MiB), and two streams of that may be kept at once; a command
 * that prints more gets what it printed last, after a line saying how much was left out (the
 * events and transcript keep far less: output-limits.ts). A file read (readFile) is kept whole.
 */
export const EXEC_KEEP = 256 * 1024 * 1024;

/** One stream of a command as kept: its chunks, their size, and how many bytes were left out before them. */
interface Kept {
  chunks: Buffer[];
  size: number;
  dropped: number;
}

function keepChunk(kept: Kept, chunk: Buffer, limit: number | undefined): void {
  kept.chunks.push(chunk);
  kept.size += chunk.length;
  if (limit === undefined) return;
  while (kept.size > limit && kept.chunks.length > 1) {
    const first = kept.chunks.shift() as Buffer;
    kept.size -= first.length;
    kept.dropped += first.length;
  }
}

function keptText(kept: Kept): string {
  const text = Buffer.concat(kept.chunks).toString('utf8');
  return kept.dropped > 0 ? `${outputNote(kept.dropped)}${text}` : text;
}

interface Pending {
  options: ExecOptions;
  out: Kept;
  err: Kept;
  /** EXEC_KEEP for a command; undefined keeps all (a file read). */
  limit?: number;
  started: number;
  resolve: (result: ExecResult & { stdoutBuffer: Buffer }) => void;
}

/**
 * The agent as the client sees it: its stdin and stdout, and when it ends. A child process of this
 * host (the local target) or a Docker exec's attached streams (the docker target).
 */
export interface AgentProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly pid?: number;
  /** Calls back once, when the agent has gone (exited, or its connection closed). */
  onClose(callback: () => void): void;
  /** Whether the process may keep this runner alive: only while a command is in flight. */
  ref(): void;
  unref(): void;
}

/** Spawns the agent as a child of this host: its own process group, so the terminal's Ctrl-C reaches the runner only. */
export function spawnAgent(argv: string[]): AgentProcess {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
  const pipes = [child.stdout, child.stdin] as unknown as { ref(): void; unref(): void }[];
  return {
    stdin: child.stdin as Writable,
    stdout: child.stdout as Readable,
    pid: child.pid,
    onClose: (callback) => child.on('close', callback),
    ref: () => (pipes[0] as { ref(): void }).ref(),
    unref: () => {
      child.unref();
      for (const pipe of pipes) pipe.unref();
    },
  };
}

interface Stream {
  duplex: Duplex;
  connected: boolean;
  settle: (error?: Error) => void;
}

/** The runner's side of the agent: one process, many concurrent commands and byte streams. */
export class AgentClient {
  private child?: AgentProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, Stream>();
  private nextId = 1;
  private readonly launch: () => AgentProcess;
  private trafficCount = 0;

  /**
   * How many times this runner has acted on the machine through the agent: commands (but those
   * said to be read-only) and bytes to its Unix sockets (the node's Docker, say). A reading of the
   * machine taken at one count says nothing of what came after it (node-readings.ts).
   */
  get traffic(): number {
    return this.trafficCount;
  }

  /** argv: a command that starts the agent on this host; or a function that starts it elsewhere. */
  constructor(launch: string[] | (() => AgentProcess)) {
    this.launch = Array.isArray(launch) ? () => spawnAgent(launch) : launch;
  }

  /** The agent's process id on this host, if it has one (it is started if it is not running). */
  pid(): number | undefined {
    return this.start().pid;
  }

  private start(): AgentProcess {
    if (this.child) return this.child;
    const child = this.launch();
    // Idle, the agent must not keep the runner alive; busy, its output must (see hold()).
    child.unref();
    child.stdout.on(
      'data',
      lineSplitter((line) => this.receive(line)),
    );
    child.onClose(() => {
      if (this.child === child) this.child = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.resolve(this.result(p, null, 'SIGKILL', 'the machine agent exited'));
      }
      for (const [id, stream] of this.streams) {
        this.streams.delete(id);
        if (stream.connected) stream.duplex.destroy(new Error('the machine agent exited'));
        else stream.settle(new Error('the machine agent exited'));
      }
    });
    this.child = child;
    return child;
  }

  /** Keeps the event loop alive exactly while a command is in flight. */
  private hold(child: AgentProcess): void {
    if (this.pending.size > 0) child.ref();
    else child.unref();
  }

  private result(p: Pending, code: number | null, signal: string | null, error?: string): ExecResult & { stdoutBuffer: Buffer } {
    const stdoutBuffer = Buffer.concat(p.out.chunks);
    const stderr = keptText(p.err) + (error ? `${error}\n` : '');
    const stdout = p.out.dropped > 0 ? keptText(p.out) : stdoutBuffer.toString('utf8');
    return { stdout, stdoutBuffer, stderr, exitCode: code, signal, durationMs: performance.now() - p.started };
  }

  private receive(line: string): void {
    const m = JSON.parse(line) as { id: number; t: 'o' | 'e' | 'x' | 'c'; d?: string; code?: number | null; signal?: string | null; error?: string };
    const stream = this.streams.get(m.id);
    if (stream) {
      this.receiveStream(m.id, stream, m);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.t === 'o' || m.t === 'e') {
      const chunk = Buffer.from(m.d ?? '', 'base64');
      keepChunk(m.t === 'o' ? p.out : p.err, chunk, p.limit);
      (m.t === 'o' ? p.options.onStdout : p.options.onStderr)?.(chunk.toString('utf8'));
      return;
    }
    this.pending.delete(m.id);
    if (this.child) this.hold(this.child);
    p.resolve(this.result(p, m.code ?? null, m.signal ?? null, m.error));
  }

  private receiveStream(id: number, stream: Stream, m: { t: string; d?: string; error?: string }): void {
    if (m.t === 'c') {
      stream.connected = true;
      stream.settle();
    } else if (m.t === 'o') {
      stream.duplex.push(Buffer.from(m.d ?? '', 'base64'));
    } else if (m.t === 'x') {
      this.streams.delete(id);
      if (stream.connected) stream.duplex.push(null);
      else stream.settle(new Error(m.error ?? 'refused'));
    }
  }

  private send(message: Record<string, unknown>): void {
    this.start().stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Sends one request; the agent's answer (output chunks, then the exit message) settles it. */
  private request(
    message: Record<string, unknown>,
    options: ExecOptions = {},
    limit?: number,
  ): { id: number; child: AgentProcess; answer: Promise<ExecResult & { stdoutBuffer: Buffer }> } {
    const awaited = this.awaitAnswer(options, limit);
    awaited.child.stdin.write(`${JSON.stringify({ ...message, id: awaited.id })}\n`);
    return awaited;
  }

  /** An id whose answer (output chunks, then the exit message) settles the promise; request() sends under it, or the agent answers unasked. */
  private awaitAnswer(options: ExecOptions = {}, limit?: number): { id: number; child: AgentProcess; answer: Promise<ExecResult & { stdoutBuffer: Buffer }> } {
    const child = this.start();
    const id = this.nextId++;
    const answer = new Promise<ExecResult & { stdoutBuffer: Buffer }>((resolve) => {
      this.pending.set(id, {
        options,
        out: { chunks: [], size: 0, dropped: 0 },
        err: { chunks: [], size: 0, dropped: 0 },
        limit,
        started: performance.now(),
        resolve,
      });
      this.hold(child);
    });
    return { id, child, answer };
  }

  exec(command: string, env: Record<string, string>, options: ExecOptions): Promise<ExecResult & { stdoutBuffer: Buffer }> {
    return this.execWithReading(command, env, options).answer;
  }

  /**
   * A command; with `after`, also the machine's state read by the agent once it has ended (op
   * 'nodestate' unasked: no round trip of its own), or a rejection if other commands still ran.
   */
  execWithReading(
    command: string,
    env: Record<string, string>,
    options: ExecOptions,
    after?: NodeStateAsk,
  ): { answer: Promise<ExecResult & { stdoutBuffer: Buffer }>; reading?: Promise<AgentNodeState> } {
    if (!options.readOnly) this.trafficCount++;
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin).toString('base64');
    // The reading comes unasked, under an id of its own the command carries.
    const reading = after ? this.awaitAnswer() : undefined;
    const { id, child, answer } = this.request(
      { op: 'exec', command, env, stdin, after: reading ? { ...after, id: reading.id } : undefined },
      options,
      EXEC_KEEP,
    );
    return { answer: this.whileRunning(id, child, answer, options), reading: reading?.answer.then((r) => this.parseReading(r)) };
  }

  private whileRunning(
    id: number,
    child: AgentProcess,
    answer: Promise<ExecResult & { stdoutBuffer: Buffer }>,
    options: ExecOptions,
  ): Promise<ExecResult & { stdoutBuffer: Buffer }> {
    const kill = () => child.stdin.write(`${JSON.stringify({ op: 'kill', id })}\n`);
    if (options.signal?.aborted) kill();
    else options.signal?.addEventListener('abort', kill, { once: true });
    return answer.finally(() => options.signal?.removeEventListener('abort', kill));
  }

  /**
   * A byte stream to host:port, or to a Unix socket (`{ path }`), opened by the agent in its
   * namespace and carried over its pipes. Resolves once connected; a refusal rejects with the reason.
   */
  openStream(to: { host: string; port: number } | { path: string }): Promise<Duplex> {
    const id = this.nextId++;
    // A machine's Unix socket is one of its daemons (Docker, say): what goes there acts on the machine.
    const acts = 'path' in to;
    const send = (m: Record<string, unknown>) => {
      if (acts && m.op !== 'close') this.trafficCount++;
      if (this.child) this.send({ ...m, id });
    };
    const duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        send({ op: 'data', d: chunk.toString('base64') });
        callback();
      },
      final(callback) {
        send({ op: 'eof' });
        callback();
      },
      destroy: (error, callback) => {
        if (this.streams.delete(id)) send({ op: 'close' });
        callback(error);
      },
    });
    return new Promise<Duplex>((resolve, reject) => {
      this.streams.set(id, {
        duplex,
        connected: false,
        settle: (error) => (error ? reject(error) : resolve(duplex)),
      });
      if (acts) this.trafficCount++;
      this.send({ op: 'open', id, ...to });
    });
  }

  /** Asks the agent for a Unix socket at `path` relaying each connection to host:port in its namespace. */
  async relay(path: string, host: string, port: number): Promise<void> {
    const result = await this.request({ op: 'relay', path, host, port }).answer;
    if (result.exitCode !== 0) throw new Error(`the machine agent cannot relay to ${host}:${port}: ${result.stderr.trim()}`);
  }

  /** Whether the agent's namespace saw a link, address or nftables change since the last ask (exit 1: none for sure). */
  async networkChanged(): Promise<boolean> {
    return (await this.request({ op: 'netchanged' }).answer).exitCode !== 1;
  }

  /** A file's bytes, read by the agent itself (no process); rejects with what the agent said. */
  async readFile(path: string): Promise<Buffer> {
    const result = await this.request({ op: 'read', path }).answer;
    if (result.exitCode !== 0) throw new Error(result.stderr.trim() || `cannot read ${path}`);
    return result.stdoutBuffer;
  }

  /** The snapshot's reads of the agent's machine in one message (agent-python.ts node_state). */
  async nodeState(request: NodeStateAsk): Promise<AgentNodeState> {
    return this.parseReading(await this.request({ op: 'nodestate', ...request }).answer);
  }

  /**
   * A reading the same as the last, word for word, is the last one's object: most blocks leave a
   * node as it was, and what the snapshot derives from a reading is then kept by identity (its
   * items, their diff and redaction are not worked out again). Readings are never changed once parsed.
   */
  private lastReading?: { text: string; state: AgentNodeState };

  private parseReading(result: ExecResult): AgentNodeState {
    const state = parseNodeState(result, this.lastReading);
    this.lastReading = { text: result.stdout, state };
    return state;
  }

  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }
}

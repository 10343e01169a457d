import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import type { CompiledBlock } from '../compile.js';
import { predictionKeys } from '../run/answer.js';
import { walk } from '../run/lazy.js';
import type { Shell } from '../shell.js';
import { errorToWire, type FromKernel, fromWire, type Root, type Step, type ToKernel, toWire } from './wire.js';

/** What a chapter's kernel thread reaches in the runner. */
export interface KernelHost {
  /** `docker`, `k8s`, `machine`, `nodes`: read when a call arrives (k8s changes once the API server is up). */
  roots: Record<Exclude<Root, { handle: number }>, () => unknown>;
  /** Awaited before a root is read: what it needs on its first use (the `k8s` client re-read, the nodes opened). */
  prepare?: (root: Exclude<Root, { handle: number }>) => Promise<void> | undefined;
  /** `$` of a node (undefined: the first). */
  shell(node?: string): Shell;
  /** console.log of the running block. */
  onOutput(text: string): void;
  onWait(info: Extract<FromKernel, { t: 'wait' }>['info']): void;
  /** The running block's `answer(key)`. */
  onAnswer(key: string): void;
  /** An error no one awaited, thrown by the blocks' code. */
  onUncaught(error: unknown): void;
  state: Record<string, unknown>;
  versions: Record<string, unknown>;
  /** Every node's name, the first first. */
  nodes: string[];
  instantWaits?: boolean;
}

/** How long a stopped block's thread gets to answer before it is ended (a synchronous loop never answers). */
const ANSWER_MS = 1000;

/** dist/runner/isolate/worker.js beside the bundle; from src (tests), src's worker bundled now. Looked up once. */
let found: string | undefined;
function workerFile(): string {
  found ??= findWorkerFile();
  return found;
}

function findWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  // Running from src (vitest): the kernel thread runs src too, never a dist/ that may be older.
  if (here.endsWith('.ts')) return bundleWorkerFromSrc(path.join(path.dirname(here), 'worker.ts'));
  const bundled = path.join(path.dirname(here), 'runner', 'isolate', 'worker.js');
  if (existsSync(bundled)) return bundled;
  return path.join(path.dirname(here), 'worker.js');
}

/**
 * src/runner/isolate/worker.ts bundled (its packages left to node_modules, as in dist/), into
 * node_modules/.cache where they resolve. Named by its content: a process finds the bundle of
 * the source it runs, and processes running the same source share one file.
 */
function bundleWorkerFromSrc(entry: string): string {
  const root = path.resolve(path.dirname(entry), '..', '..', '..');
  const built = buildSync({
    entryPoints: [entry],
    outfile: 'worker.mjs',
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const code = (built.outputFiles[0] as { text: string }).text;
  const dir = path.join(root, 'node_modules', '.cache', 'book-kernel');
  const file = path.join(dir, `worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, code);
    renameSync(temp, file);
  }
  return file;
}

/**
 * A chapter's kernel in a worker thread: blocks run there in order over one scope, as in
 * ChapterKernel, and the runner keeps control. A block that must stop (its timeout, Ctrl-C) is
 * told to; a thread that does not answer within a second (a synchronous loop) is ended, and the
 * chapter's next block starts a new one (the chapter's earlier declarations are gone then; `state`
 * is kept).
 */
export class IsolatedKernel {
  private worker?: Worker;
  private runs = 0;
  private readonly handles = new Map<number, object>();
  private nextHandle = 0;
  private running?: { id: number; worker: Worker; resolve: () => void; reject: (error: unknown) => void };
  private pongs = new Map<number, () => void>();
  private pings = 0;
  /** What the running block's waitFor calls last saw. */
  pendingWaits: string[] = [];

  constructor(private readonly host: KernelHost) {}

  private start(): Worker {
    const worker = new Worker(workerFile());
    worker.on('message', (message: FromKernel) => this.receive(message, worker));
    worker.on('error', (error) => {
      // The thread itself died (out of memory, a crash): the running block fails with it.
      this.ended(worker, error);
    });
    worker.on('exit', (code) => {
      // Ended otherwise than by process.exit (which says so first) or by this side: fail the block, never leave it waiting.
      this.ended(worker, new Error(`the chapter's kernel thread ended (exit code ${code}) while the block ran`));
    });
    const host = this.host;
    this.post(worker, { t: 'init', state: structuredClone(host.state), versions: { ...host.versions }, nodes: host.nodes, instantWaits: host.instantWaits });
    this.worker = worker;
    return worker;
  }

  private post(worker: Worker, message: ToKernel): void {
    worker.postMessage(message);
  }

  private readonly ids = new WeakMap<object, number>();

  /** The same object is the same handle (a daemon handle's restart() returns itself). */
  private keep = (value: object): number => {
    const known = this.ids.get(value);
    if (known !== undefined) return known;
    const id = ++this.nextHandle;
    this.handles.set(id, value);
    this.ids.set(value, id);
    return id;
  };

  /** Walks a path from a root (run/lazy.ts walk): properties read, methods called (bound to their object) and awaited. */
  private async evaluate(root: Root, steps: Step[]): Promise<unknown> {
    if (typeof root !== 'object') await this.host.prepare?.(root);
    const value = typeof root === 'object' ? this.handles.get(root.handle) : this.host.roots[root]();
    if (value === undefined && typeof root === 'object') throw new Error('this handle is gone (its chapter ended)');
    const path = steps.map((step) => ('call' in step ? { call: step.call.map((a) => fromWire(a)) } : step));
    return toWire(await walk(value, path, typeof root === 'object' ? 'handle' : root), this.keep);
  }

  private reply(call: number, work: Promise<unknown>): void {
    const worker = this.worker;
    work.then(
      (value) => worker && this.post(worker, { t: 'reply', call, ok: true, value }),
      (error) => worker && this.post(worker, { t: 'reply', call, ok: false, value: errorToWire(error) }),
    );
  }

  /**
   * The thread is gone: the chapter's next block starts a new one (as after a timeout: the
   * chapter's declarations are gone, `state` is kept), and the block running in it fails now.
   */
  private ended(worker: Worker, error: unknown): void {
    if (this.worker === worker) this.worker = undefined;
    const running = this.running;
    if (running?.worker !== worker) return;
    this.running = undefined;
    running.reject(error);
  }

  private receive(message: FromKernel, from: Worker): void {
    switch (message.t) {
      case 'call':
        this.reply(message.call, this.evaluate(message.root, message.path));
        break;
      case 'shell':
        this.reply(
          message.call,
          this.host
            .shell(message.node)
            .exec(message.command, { quiet: message.quiet })
            .then(({ output, signal }) => ({ stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode, durationMs: output.durationMs, signal })),
        );
        break;
      case 'output':
        this.host.onOutput(message.text);
        break;
      case 'wait':
        this.host.onWait(message.info);
        break;
      case 'waits':
        this.pendingWaits = message.pending;
        break;
      case 'answer':
        this.host.onAnswer(message.key);
        break;
      case 'uncaught':
        this.host.onUncaught(fromWire(message.error));
        break;
      case 'exit': {
        // process.exit in a block: the thread ends after this message. A block of its own fails
        // at once, at the line that called it; one called after its block ended fails the next.
        if (from !== this.worker) break;
        const error = fromWire(message.error);
        const blockRan = this.running?.worker === from;
        this.keepState(message.state);
        this.ended(from, error);
        if (!blockRan) this.host.onUncaught(error);
        void from.terminate();
        break;
      }
      case 'done':
      case 'failed': {
        const running = this.running;
        if (!running || running.id !== message.id) break;
        this.running = undefined;
        this.keepState(message.state);
        if (message.t === 'done') running.resolve();
        else running.reject(fromWire(message.error));
        break;
      }
      case 'pong':
        this.pongs.get(message.n)?.();
        break;
    }
  }

  /** The thread's `state` becomes the run's (checkpoints, the next chapter). */
  private keepState(wire: unknown): void {
    const next = fromWire(wire);
    if (next instanceof Error) {
      this.host.onUncaught(next);
      return;
    }
    for (const key of Object.keys(this.host.state)) delete this.host.state[key];
    Object.assign(this.host.state, next);
  }

  /** Runs one block in the thread; `signal` stops it (and ends a thread that does not answer). */
  run(compiled: CompiledBlock, signal?: AbortSignal): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = ++this.runs;
    this.pendingWaits = [];
    const { block } = compiled;
    return new Promise<void>((resolve, reject) => {
      this.running = { id, worker, resolve, reject };
      const onAbort = () => {
        this.post(worker, { t: 'abort', id, reason: errorToWire(signal?.reason ?? new Error('aborted')) });
        void this.answers(worker).then((alive) => {
          if (alive || this.running?.id !== id) return;
          // A synchronous loop: only ending the thread stops it.
          void worker.terminate();
          if (this.worker === worker) this.worker = undefined;
          this.running = undefined;
          reject(signal?.reason);
        });
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      this.post(worker, {
        t: 'run',
        id,
        compiled: {
          block: {
            id: block.id,
            chapterId: block.chapterId,
            file: block.file,
            line: block.line,
            codeLine: block.codeLine,
            ...(block.answering ? { prediction: predictionKeys(block.answering) } : {}),
          },
          body: compiled.body,
          names: compiled.names,
          mapText: compiled.mapText,
        },
      });
    });
  }

  /** True when the thread answers a ping within ANSWER_MS. */
  private answers(worker: Worker): Promise<boolean> {
    const n = ++this.pings;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pongs.delete(n);
        resolve(false);
      }, ANSWER_MS);
      this.pongs.set(n, () => {
        clearTimeout(timer);
        this.pongs.delete(n);
        resolve(true);
      });
      this.post(worker, { t: 'ping', n });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.handles.clear();
    await worker?.terminate();
  }
}

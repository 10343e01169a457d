import type Docker from 'dockerode';
import { appendAll } from './arrays.js';
import { type K8s, MachineClients } from './clients.js';
import { type CompiledBlock, compileBlock } from './compile.js';
import { collectDiagnostics, type DiagnoseFn } from './diagnostics.js';
import { codeOf, exitCodeOf } from './errors.js';
import type { BlockFailure, BlockStatus, EventBus } from './events.js';
import type { RunInstrument } from './instrument.js';
import { IsolatedKernel } from './isolate/host.js';
import { assert, ChapterKernel, makeConsole } from './kernel.js';
import type { Machine } from './machine.js';
import { type NodeGlobal, NodeSet } from './node-set.js';
import { hiddenAnswers } from './prediction.js';
import { type AnswerSlot, answerSlot, makeAnswer, unanswered } from './run/answer.js';
import { runAttempt } from './run/attempt.js';
import { type Judgement, judge } from './run/failures.js';
import { deferred } from './run/lazy.js';
import { runShBlock } from './run/sh-block.js';
import { StateRecorder } from './run/state-recorder.js';
import { nodeTools, type Running, shellOver } from './run/tools.js';
import { UncaughtErrors } from './run/uncaught.js';
import type { Shell } from './shell.js';
import { type SnapshotContext, takeSnapshot } from './state/snapshot.js';
import type { Snapshot } from './state/types.js';
import { substituteState } from './state-references.js';
import { FIRST_NODE, NO_OTHER_NODES, type NodeTargets } from './targets/nodes.js';
import { shellQuote, type Target } from './targets/target.js';
import { type Block, type Book, BookError, type BookIssue, type Chapter, executable } from './types.js';
import { substituteVersions } from './versions.js';
import { makeWaitFor, type WaitForFn } from './wait-for.js';

export const EXIT = {
  ok: 0,
  failed: exitCodeOf('BLOCK_FAILED'),
  badBook: exitCodeOf('BOOK_INVALID'),
  unreachable: exitCodeOf('MACHINE_UNREACHABLE'),
  interrupted: exitCodeOf('INTERRUPTED'),
} as const;

export interface RunOptions {
  book: Book;
  chapters: Chapter[];
  target: Target;
  bus: EventBus;
  /** Ctrl-C: stops the running block (its commands are killed), never the machine's daemons. */
  signal?: AbortSignal;
  /** Values carried across chapters (restored from a checkpoint by --from). */
  state?: Record<string, unknown>;
  /** Asked before each block when stepping; resolves to what the reader chose. */
  beforeBlock?: (block: Block) => Promise<'run' | 'skip' | 'quit'>;
  /**
   * Asked before a block that answers a prediction, when stepping (after `prediction:ask`): the
   * reader's pick, a key of `block.answering`, or undefined for none. Never asked in CI or replay.
   */
  predict?: (block: Block) => Promise<string | undefined>;
  /** Asked after a failure; 'retry' runs the block again. */
  afterFailure?: (block: Block, failure: BlockFailure) => Promise<'retry' | 'quit'>;
  /** Called after each block and chapter, for snapshots and checkpoints. */
  afterChapter?: (chapter: Chapter, state: Record<string, unknown>, snapshot: Snapshot | undefined) => Promise<void>;
  /** The machine's state before the first block, if already taken (the --from drift check); else the run takes it. */
  baseline?: Snapshot;
  /** Takes the cluster-state snapshot after each block (a `state` event); tests inject a fake, false turns it off. */
  snapshot?: ((context: SnapshotContext) => Promise<Snapshot>) | false;
  /** What the machine says when a block fails (a `block:diagnostics` event); tests inject their own, false turns it off. */
  diagnose?: DiagnoseFn | false;
  /** The target's other nodes (`nodes['k8s-worker']`, `node=`); none by default. */
  nodes?: NodeTargets;
  /**
   * Each chapter's ts blocks run in a worker thread (src/runner/isolate), so a timeout always
   * fires, a synchronous loop included (default). false runs them in the runner's own thread.
   */
  isolate?: boolean;
  /** Record and replay (src/runner/record): the run's target, clients, snapshots and events pass through it. */
  instrument?: RunInstrument;
}

export interface RunResult {
  exitCode: number;
  state: Record<string, unknown>;
}

/** Compiles every `ts run` block of the chapters; all syntax errors at once, before anything runs. */
export async function compileChapters(chapters: Chapter[]): Promise<Map<Block, CompiledBlock>> {
  const blocks = chapters.flatMap((chapter) => chapter.blocks.filter((block) => block.kind === 'ts'));
  // All at once: esbuild answers concurrent requests in parallel.
  const results = await Promise.all(blocks.map(compileBlock));
  const compiled = new Map<Block, CompiledBlock>();
  const issues: BookIssue[] = [];
  for (const result of results) {
    if ('body' in result) compiled.set(result.block, result);
    else issues.push(result);
  }
  if (issues.length === 0)
    appendAll(
      issues,
      hiddenAnswers(chapters, (block) => compiled.get(block)?.names ?? []),
    );
  if (issues.length > 0) throw new BookError(issues);
  return compiled;
}

/** What changes as the run goes: the attempt running, and what it has opened so far. */
interface Live {
  /** The block whose attempt is running, and that attempt's signal. */
  running?: Running;
  /** Aborts the running attempt with an error (an uncaught error of the block's, a replay mismatch). */
  abort?: (error: unknown) => void;
  /** The `k8s` client re-read from the machine's kubeconfig, once per attempt, when the attempt first uses it. */
  k8s?: Promise<void>;
  /** The other nodes opened (those that answer), once per attempt, when the attempt first uses `nodes`. */
  nodes?: Promise<void>;
  /** What the running attempt said with `answer(key)`, and the prediction it answers. */
  answering?: AnswerSlot;
}

/** Everything the blocks of one run share: the machine's tools, the kernel's globals, the cluster's state. */
interface BookRun {
  options: RunOptions;
  bus: EventBus;
  state: Record<string, unknown>;
  compiled: Map<Block, CompiledBlock>;
  versions: Readonly<Record<string, unknown>>;
  /** `export K8S_VERSION=…;` for sh blocks. */
  versionExports: string;
  clients: MachineClients;
  tools: ReturnType<typeof nodeTools> & { docker: Awaited<ReturnType<MachineClients['dockerClient']>> };
  nodes: NodeSet;
  waitFor: WaitForFn;
  console: Console;
  recorder: StateRecorder;
  uncaught: UncaughtErrors;
  live: Live;
  nextCommandId(): number;
  close(): Promise<void>;
}

/** What the run counts, and whether it goes on. */
interface Progress {
  passed: number;
  failed: number;
  skipped: number;
  /** After a failure or a quit, the remaining blocks are skipped. */
  skipRest: boolean;
  interrupted: boolean;
}

/** Connects to the machine and builds the blocks' tools, on every node the run may use. */
async function openRun(options: RunOptions, state: Record<string, unknown>, compiled: Map<Block, CompiledBlock>, uncaught: UncaughtErrors): Promise<BookRun> {
  const { bus, target, book } = options;
  // The machine's versions: `versions` in ts blocks, environment variables in sh blocks.
  const versions = Object.freeze({ ...book.versions });
  const versionExports = Object.entries(versions)
    .filter(([name, value]) => /^[A-Z][A-Z0-9_]*$/.test(name) && value !== undefined)
    .map(([name, value]) => `export ${name}=${shellQuote(String(value))};`)
    .join(' ');
  await target.connect();
  const clients = options.instrument?.clients?.(target, book.config.kubeconfig) ?? new MachineClients(target, book.config.kubeconfig);
  let commandIds = 0;
  const nextCommandId = () => ++commandIds;
  // The tools read the running block from here; the run fills it in as attempts start and end.
  const live: Live = {};
  const current = () => live.running;
  const firstTools = nodeTools(target, bus, current, nextCommandId);
  const docker = await clients.dockerClient();
  const nodes = new NodeSet(FIRST_NODE, { target, clients, ...firstTools, docker }, options.nodes ?? NO_OTHER_NODES, async (name, opened) => {
    const nodeTarget = options.instrument?.nodeTarget?.(name, opened) ?? opened;
    const nodeClients = options.instrument?.clients?.(nodeTarget, book.config.kubeconfig, name) ?? new MachineClients(nodeTarget, book.config.kubeconfig);
    try {
      await nodeTarget.connect();
      return {
        target: nodeTarget,
        clients: nodeClients,
        ...nodeTools(nodeTarget, bus, current, nextCommandId, name),
        docker: await nodeClients.dockerClient(),
      };
    } catch (error) {
      await nodeClients.close().catch(() => {});
      await nodeTarget.close().catch(() => {});
      throw error;
    }
  });
  nodes.check(options.chapters);
  // Replay: the answers are known, so polls do not sleep.
  const waitFor = makeWaitFor(
    () => live.running?.signal,
    (info) => {
      if (live.running) bus.emit({ type: 'wait', block: live.running.block, ...info });
    },
    () => Boolean(options.instrument?.instantWaits),
  );
  options.instrument?.bindAbort?.((error) => live.abort?.(error));
  const log = makeConsole((text) => {
    if (live.running) bus.emit({ type: 'block:output', block: live.running.block, stream: 'log', text });
  });
  const usual = options.snapshot === false ? undefined : (options.snapshot ?? takeSnapshot);
  const take = usual && options.instrument?.snapshot ? options.instrument.snapshot(usual) : usual;
  // The snapshot reads every node that is up, from the first block on (a node that is down is left out).
  if (take) await nodes.openReachable();
  const context: SnapshotContext = {
    target,
    clients,
    get nodes() {
      return nodes.openedOthers();
    },
  };
  const recorder = new StateRecorder(take, context, bus);
  // A recording's first snapshot is its transcript's baseline, and a replay's is the recorded one.
  await recorder.start(options.instrument?.snapshot ? undefined : options.baseline);
  return {
    options,
    bus,
    state,
    compiled,
    versions,
    versionExports,
    clients,
    tools: { ...firstTools, docker },
    nodes,
    waitFor,
    console: log,
    recorder,
    uncaught,
    live,
    nextCommandId,
    async close() {
      await nodes.close();
      await clients.close();
    },
  };
}

/** Before the running attempt first uses `k8s`: the client re-read from the machine's kubeconfig (once per attempt). */
function k8sReady(run: BookRun): Promise<void> {
  run.live.k8s ??= run.clients.refreshK8s();
  return run.live.k8s;
}

/** Before the running attempt first uses `nodes`: the other nodes that answer opened (once per attempt). */
function nodesReady(run: BookRun): Promise<void> {
  run.live.nodes ??= run.nodes.openReachable();
  return run.live.nodes;
}

/** A node's `$` that opens the node when it first runs a command. */
function nodeShell(run: BookRun, node: string): Shell {
  return shellOver(async (command, options) => {
    await nodesReady(run);
    return (run.nodes.global[node] as NodeGlobal).$.exec(command, options);
  });
}

/**
 * `k8s` and `nodes` for a kernel in the runner's own thread (isolate: false), found on first use
 * as a kernel thread finds them (run/lazy.ts): their calls are promises, their values awaited.
 */
function lazyGlobals(run: BookRun): { k8s: K8s; nodes: Record<string, NodeGlobal> } {
  const names = run.nodes.names;
  const made = new Map<string, NodeGlobal>();
  const node = (name: string): NodeGlobal => {
    const tools = async () => {
      await nodesReady(run);
      return run.nodes.global[name] as NodeGlobal;
    };
    const found = made.get(name) ?? {
      name,
      $: name === names[0] ? run.tools.$ : nodeShell(run, name),
      docker: deferred<Docker>(async () => (await tools()).docker, `nodes.${name}.docker`),
      machine: deferred<Machine>(async () => (await tools()).machine, `nodes.${name}.machine`),
    };
    made.set(name, found);
    return found;
  };
  const nodes = new Proxy(Object.create(null) as Record<string, NodeGlobal>, {
    get(_, key) {
      if (typeof key === 'symbol') return undefined;
      if (!names.includes(key)) throw new Error(`no node named "${key}" on this target: its nodes are ${names.join(', ')}`);
      return node(key);
    },
    has: (_, key) => typeof key === 'string' && names.includes(key),
    ownKeys: () => [...names],
    getOwnPropertyDescriptor: (_, key) => (typeof key === 'string' && names.includes(key) ? { enumerable: true, configurable: true } : undefined),
  });
  const k8s = async () => {
    await k8sReady(run);
    return run.clients.k8sGlobal();
  };
  return { k8s: deferred<K8s>(k8s, 'k8s'), nodes };
}

/** Where a chapter's ts blocks run: in a thread of their own, or in the runner's (isolate: false). */
type BlockKernel = ChapterKernel | IsolatedKernel;

/** One attempt's work: a file written, an sh block run, or a ts block run in the chapter's kernel. */
async function executeBlock(run: BookRun, block: Block, kernel: BlockKernel): Promise<void> {
  run.options.instrument?.enterBlock?.(block);
  const { bus } = run;
  if (block.kind === 'ts') {
    const code = run.compiled.get(block);
    if (!code) throw new Error(`internal: block ${block.id} was not compiled`);
    // `k8s` is re-read and the other nodes opened when the block first uses them (k8sNow, nodesNow).
    await kernel.run(code, run.live.running?.signal);
    return;
  }
  // A file or sh block runs on its node (node=), opened if it was not yet.
  const on = await run.nodes.forBlock(block);
  if (block.kind === 'file') {
    const path = block.attrs.file as string;
    // `${K8S_VERSION}` and the other pinned names become the machine's versions; `${state.NAME}`, what an earlier block found.
    const text = substituteState(substituteVersions(block.code, run.versions as Record<string, string>), run.state);
    const id = run.nextCommandId();
    bus.emit({ type: 'command:start', block, id, command: `write ${path}`, time: Date.now(), ...on.label });
    const t0 = performance.now();
    await on.target.writeFile(path, text, block.attrs.mode);
    bus.emit({ type: 'command:end', block, id, command: `write ${path}`, exitCode: 0, durationMs: performance.now() - t0, stdout: '', stderr: '' });
    return;
  }
  if (block.kind === 'sh') {
    const id = run.nextCommandId();
    bus.emit({ type: 'command:start', block, id, command: block.code.trimEnd(), time: Date.now(), ...on.label });
    await runShBlock(block, on.target, bus, { id, versionExports: run.versionExports, signal: run.live.running?.signal });
  }
}

/**
 * One attempt under the block's timeout, with the run's interrupt and the uncaught errors bound to
 * it: the error it failed with, and the answer it gave to its prediction.
 */
async function attempt(run: BookRun, block: Block, kernel: BlockKernel): Promise<{ error: unknown; said?: string }> {
  const answering = answerSlot(block);
  const error = await runAttempt(block, () => executeBlock(run, block, kernel), {
    interrupt: run.options.signal,
    pendingWaits: () => [...run.waitFor.pending(), ...(kernel instanceof IsolatedKernel ? kernel.pendingWaits : [])],
    bind: (control) => {
      const { live } = run;
      live.running = control ? { block, signal: control.controller.signal } : undefined;
      live.abort = control ? (error) => control.controller.abort(error) : undefined;
      live.answering = control ? answering : undefined;
      // Each attempt re-reads `k8s` and retries the nodes that did not answer, when it first uses them.
      if (control) {
        live.k8s = undefined;
        live.nodes = undefined;
      }
      run.uncaught.bind(live.abort);
    },
  });
  return { error, said: answering.said };
}

/** After a failure the retries did not mend: what the machine says, as a `block:diagnostics` event. */
async function diagnose(run: BookRun, block: Block, failure: BlockFailure, since: number): Promise<void> {
  const { options } = run;
  const collect = options.diagnose === false ? undefined : (options.diagnose ?? collectDiagnostics);
  if (!collect) return;
  const t0 = performance.now();
  const gather = () =>
    collect({
      block,
      failure,
      since,
      kubeconfig: options.book.config.kubeconfig,
      nodes: [{ name: FIRST_NODE, target: options.target, clients: run.clients }, ...run.nodes.openedOthers()],
    });
  const around = options.instrument?.diagnose;
  const sections = await (around ? around(block, gather) : gather()).catch(() => []);
  if (sections.length > 0) run.bus.emit({ type: 'block:diagnostics', block, sections, durationMs: performance.now() - t0 });
}

/**
 * A block from its start to its verdict: attempts (automatic retries, then the reader's), the
 * judgement of `fails=`, diagnostics of a failure, `block:end`. Interrupts end the run.
 */
async function runBlock(run: BookRun, block: Block, kernel: BlockKernel, progress: Progress): Promise<{ status: BlockStatus; answer?: string }> {
  const { bus, options } = run;
  const started = performance.now();
  const since = Date.now();
  let attempts = 0;
  let outcome: Judgement = {};
  let answer: string | undefined;
  for (;;) {
    attempts++;
    bus.emit({ type: 'block:start', block, attempt: attempts, time: Date.now() });
    const { error, said } = await attempt(run, block, kernel);
    answer = said;
    if ((error as Error | undefined)?.name === 'Interrupted' || options.signal?.aborted) {
      progress.interrupted = true;
      outcome = { failure: { code: 'INTERRUPTED', message: 'interrupted (Ctrl-C)', file: block.file, line: block.line } };
      break;
    }
    outcome = judge(block, error);
    // A block after a prediction must say which answer held, or the reader learns nothing.
    if (!outcome.failure && block.answering && said === undefined) outcome = { failure: unanswered(block) };
    if (!outcome.failure) break;
    if (attempts <= block.retries) {
      bus.emit({ type: 'block:retry', block, attempt: attempts, failure: outcome.failure });
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempts)));
      continue;
    }
    // A replay that cannot go on says so itself; the machine has nothing to add.
    if ((error as Error | undefined)?.name !== 'ReplayMismatch') await diagnose(run, block, outcome.failure, since);
    if (options.afterFailure && (await options.afterFailure(block, outcome.failure)) === 'retry') continue;
    break;
  }
  const durationMs = performance.now() - started;
  if (outcome.failure) bus.emit({ type: 'block:end', block, status: 'failed', durationMs, attempts, failure: outcome.failure });
  else bus.emit({ type: 'block:end', block, status: 'passed', durationMs, attempts, expectedFailure: outcome.expected });
  await run.recorder.after(block);
  return { status: outcome.failure ? 'failed' : 'passed', answer: outcome.failure ? undefined : answer };
}

/** What the reader chose for the next block: run it, skip it, or quit (Ctrl-C between blocks quits). */
async function choose(run: BookRun, block: Block): Promise<'run' | 'skip' | 'quit'> {
  if (run.options.signal?.aborted) return 'quit';
  return run.options.beforeBlock ? run.options.beforeBlock(block) : 'run';
}

/** The kernel a chapter's ts blocks share: a worker thread's (isolate, the default) or this thread's. */
function chapterKernel(run: BookRun): BlockKernel & { close?: () => Promise<void> } {
  const { $, machine, docker } = run.tools;
  const { options, bus } = run;
  if (options.isolate === false) {
    const { k8s, nodes } = lazyGlobals(run);
    return new ChapterKernel({
      $,
      machine,
      docker,
      nodes,
      k8s,
      waitFor: run.waitFor,
      assert,
      answer: makeAnswer(() => run.live.answering),
      state: run.state,
      versions: run.versions,
      console: run.console,
    });
  }
  const { live } = run;
  return new IsolatedKernel({
    roots: { docker: () => docker, machine: () => machine, k8s: () => run.clients.k8sGlobal(), nodes: () => run.nodes.global },
    // `k8s` re-read and the nodes opened by the attempt's first use of them.
    prepare: (root) => (root === 'k8s' ? k8sReady(run) : root === 'nodes' ? nodesReady(run) : undefined),
    shell: (node) => (node ? nodeShell(run, node) : $),
    onOutput: (text) => {
      if (live.running) bus.emit({ type: 'block:output', block: live.running.block, stream: 'log', text });
    },
    onWait: (info) => {
      if (live.running) bus.emit({ type: 'wait', block: live.running.block, ...info });
    },
    // Checked in the thread; kept here for the attempt's verdict.
    onAnswer: (key) => {
      if (live.answering) live.answering.said = key;
    },
    onUncaught: (error) => run.uncaught.report(error),
    state: run.state,
    versions: run.versions as Record<string, unknown>,
    nodes: run.nodes.names,
    instantWaits: options.instrument?.instantWaits,
  });
}

/** A chapter's blocks in order over one kernel; a chapter that passed whole gets its checkpoint. */
async function runChapter(run: BookRun, chapter: Chapter, progress: Progress): Promise<void> {
  const { bus, options } = run;
  const started = performance.now();
  bus.emit({ type: 'chapter:start', chapter, time: Date.now() });
  const kernel = chapterKernel(run);
  let failed = false;
  let skipped = 0;
  let passed = 0;
  const skip = (block: Block) => {
    skipped++;
    progress.skipped++;
    bus.emit({ type: 'block:end', block, status: 'skipped', durationMs: 0, attempts: 0 });
  };
  for (const block of chapter.blocks) {
    if (!executable(block)) continue;
    if (progress.skipRest) {
      skip(block);
      continue;
    }
    const prediction = block.answering;
    let chosen: string | undefined;
    if (prediction) {
      // The reader predicts before seeing the code that would tell.
      bus.emit({ type: 'prediction:ask', prediction, block, time: Date.now() });
      chosen = options.signal?.aborted ? undefined : await options.predict?.(block);
    }
    const choice = await choose(run, block);
    if (choice === 'quit') {
      progress.interrupted = true;
      progress.skipRest = true;
    }
    if (choice !== 'run') {
      skip(block);
      continue;
    }
    const { status, answer } = await runBlock(run, block, kernel, progress);
    if (prediction) bus.emit({ type: 'prediction:result', prediction, block, answer, chosen, asked: Boolean(options.predict) });
    if (status === 'failed') {
      progress.failed++;
      failed = true;
      progress.skipRest = true;
    } else {
      progress.passed++;
      passed++;
    }
  }
  await kernel.close?.();
  // A chapter with skipped blocks is not a safe place to resume from, so it gets no checkpoint.
  const status: BlockStatus = failed ? 'failed' : skipped > 0 || (passed === 0 && progress.skipRest) ? 'skipped' : 'passed';
  if (status === 'passed' && options.afterChapter) await options.afterChapter(chapter, run.state, run.recorder.latest);
  bus.emit({ type: 'chapter:end', chapter, status, durationMs: performance.now() - started });
}

/**
 * Runs the chapters in order on the target, emitting events; never prints. Every run that starts
 * ends with `run:end` and its verdict, whatever happened on the way.
 */
export async function runBook(given: RunOptions): Promise<RunResult> {
  const { instrument } = given;
  // Recording wraps the first node's target; everything downstream talks to the wrapped one.
  const options: RunOptions = instrument?.target ? { ...given, target: instrument.target(given.target) } : given;
  const { bus, target, book, chapters } = options;
  const compiled = await compileChapters(chapters);
  const stopListening = instrument?.listener ? bus.on(instrument.listener) : undefined;
  const state: Record<string, unknown> = options.state ?? {};
  const started = performance.now();
  const progress: Progress = { passed: 0, failed: 0, skipped: 0, skipRest: false, interrupted: false };
  bus.emit({
    type: 'run:start',
    title: book.config.title,
    target: target.name,
    chapters: chapters.map((c) => ({ id: c.id, title: c.title, blocks: c.blocks.filter(executable).length })),
    time: Date.now(),
  });
  let verdict: { status: 'passed' | 'failed' | 'interrupted'; exitCode: number } = { status: 'failed', exitCode: EXIT.failed };
  const uncaught = new UncaughtErrors().start();
  let run: BookRun | undefined;
  try {
    run = await openRun(options, state, compiled, uncaught);
    for (const chapter of chapters) await runChapter(run, chapter, progress);
    if (progress.interrupted) verdict = { status: 'interrupted', exitCode: EXIT.interrupted };
    else verdict = progress.failed > 0 ? { status: 'failed', exitCode: EXIT.failed } : { status: 'passed', exitCode: EXIT.ok };
    return { exitCode: verdict.exitCode, state };
  } catch (error) {
    // The machine could not be reached, a node= names no node, …: the run ends, with its code.
    verdict = { status: 'failed', exitCode: exitCodeOf(codeOf(error)) };
    throw error;
  } finally {
    uncaught.stop();
    await run?.close().catch(() => {});
    const { passed, failed, skipped } = progress;
    bus.emit({ type: 'run:end', ...verdict, durationMs: performance.now() - started, passed, failed, skipped });
    stopListening?.();
  }
}

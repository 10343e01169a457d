import { MachineClients } from './clients.js';
import { type CompiledBlock, compileBlock } from './compile.js';
import { collectDiagnostics, type DiagnoseFn, type DiagnosticSection } from './diagnostics.js';
import { codeOf, exitCodeOf } from './errors.js';
import type { BlockFailure, BlockStatus, EventBus } from './events.js';
import { assert, ChapterKernel, makeConsole, mdLineFromStack } from './kernel.js';
import { Machine } from './machine.js';
import { NodeSet } from './node-set.js';
import { lastLines, makeShell, ProcessFailed, type ProcessOutput } from './shell.js';
import { diffSnapshots } from './state/diff.js';
import { type SnapshotContext, takeSnapshot } from './state/snapshot.js';
import type { Snapshot } from './state/types.js';
import { FIRST_NODE, NO_OTHER_NODES, type NodeTargets } from './targets/nodes.js';
import { shellQuote, type Target } from './targets/target.js';
import { type Block, type Book, BookError, type BookIssue, type Chapter } from './types.js';
import { substituteVersions } from './versions.js';
import { makeWaitFor, type WaitOptions } from './wait-for.js';

/** The run's exit codes, from the one table in errors.ts. */
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
  /** Record and replay (src/runner/record): how the blocks' clients are made, and hooks around each attempt. */
  instrument?: RunInstrument;
}

export interface RunInstrument {
  /** Builds the `k8s` and `docker` clients (recording proxies, or answers from a transcript); `node` names a node other than the first. */
  clients?: (target: Target, kubeconfig: string, node?: string) => MachineClients;
  /** Wraps the target of a node other than the first (recording), or stands in for it (replay). */
  nodeTarget?: (node: string, target: Target) => Target;
  /** Called as each attempt of a block starts; throwing fails the attempt (a replay whose block changed). */
  enterBlock?: (block: Block) => void;
  /** Receives a function that aborts the running attempt with an error (a replay call the transcript lacks). */
  bindAbort?: (abort: (error: Error) => void) => void;
  /** Around the diagnostics of a failed block: recording keeps their calls out of the block's; replay answers with the recorded ones. */
  diagnose?: (block: Block, collect: () => Promise<DiagnosticSection[]>) => Promise<DiagnosticSection[]>;
  /** waitFor polls without sleeping (replay: the answers are already known). */
  instantWaits?: boolean;
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
  if (issues.length > 0) throw new BookError(issues);
  return compiled;
}

class BlockTimeout extends Error {
  /** `waiting`: the block's waitFor calls still polling, each with what it last saw. */
  constructor(ms: number, waiting: string[] = []) {
    const still = waiting.length > 0 ? `; still waiting for ${waiting.join('; and for ')}` : '';
    super(`timed out after ${ms / 1000}s${still} (raise timeout= on the block if it needs longer)`);
    this.name = 'BlockTimeout';
  }
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

const ERR_MARK = '\u001eBOOKLINE ';

function describeFailure(block: Block, error: unknown): BlockFailure {
  const err = error as Error & { mdLine?: number };
  let line = block.line;
  const mapped = mdLineFromStack(error instanceof ProcessFailed ? error.callSite : err?.stack);
  if (mapped && mapped.block === block) line = mapped.line;
  if (typeof err?.mdLine === 'number') line = err.mdLine;
  const failure: BlockFailure = { code: codeOf(error), message: err?.message ?? String(error), file: block.file, line };
  if (error instanceof ProcessFailed) {
    failure.exitCode = error.exitCode;
    failure.stderrTail = lastLines(error.stderr, 8);
  }
  return failure;
}

/** Runs the chapters in order on the target, emitting events; never prints. */
export async function runBook(options: RunOptions): Promise<RunResult> {
  const { bus, target, book, chapters } = options;
  const compiled = await compileChapters(chapters);
  const state: Record<string, unknown> = options.state ?? {};
  const started = performance.now();
  const counts = { passed: 0, failed: 0, skipped: 0 };
  // The machine's versions: `versions` in ts blocks, environment variables in sh blocks.
  const versions = Object.freeze({ ...book.versions });
  const versionExports = Object.entries(versions)
    .filter(([name, value]) => /^[A-Z][A-Z0-9_]*$/.test(name) && value !== undefined)
    .map(([name, value]) => `export ${name}=${shellQuote(String(value))};`)
    .join(' ');
  bus.emit({
    type: 'run:start',
    title: book.config.title,
    target: target.name,
    chapters: chapters.map((c) => ({ id: c.id, title: c.title, blocks: c.blocks.filter((b) => b.kind !== 'prose').length })),
    time: Date.now(),
  });
  const finish = (status: 'passed' | 'failed' | 'interrupted', exitCode: number): RunResult => {
    bus.emit({ type: 'run:end', status, exitCode, durationMs: performance.now() - started, ...counts });
    return { exitCode, state };
  };

  await target.connect();
  const clients = options.instrument?.clients?.(target, book.config.kubeconfig) ?? new MachineClients(target, book.config.kubeconfig);
  let current: { block: Block; controller: AbortController } | undefined;
  const signal = () => current?.controller.signal;
  let commandIds = 0;
  /** `$` and `machine` on one node; `node` is undefined for the first (the target itself). */
  const nodeTools = (nodeTarget: Target, node?: string) => ({
    $: makeShell(nodeTarget, {
      signal,
      onStart: (command) => {
        const id = ++commandIds;
        if (current) bus.emit({ type: 'command:start', block: current.block, id, command, time: Date.now(), ...(node ? { node } : {}) });
        return id;
      },
      onOutput: (stream, text, quiet) => {
        if (current && !quiet) bus.emit({ type: 'block:output', block: current.block, stream, text });
      },
      onEnd: (id, command, out: ProcessOutput) => {
        if (current)
          bus.emit({
            type: 'command:end',
            block: current.block,
            id,
            command,
            exitCode: out.exitCode,
            durationMs: out.durationMs,
            stdout: out.stdout,
            stderr: out.stderr,
          });
      },
    }),
    machine: new Machine(nodeTarget, {
      signal,
      onDaemon: (name, action, pid) => {
        if (current) bus.emit({ type: 'daemon', block: current.block, name, action, pid, ...(node ? { node } : {}) });
      },
    }),
  });
  const { $, machine } = nodeTools(target);
  const docker = await clients.dockerClient();
  const nodes = new NodeSet(FIRST_NODE, { target, clients, $, machine, docker }, options.nodes ?? NO_OTHER_NODES, async (name, opened) => {
    const nodeTarget = options.instrument?.nodeTarget?.(name, opened) ?? opened;
    const nodeClients = options.instrument?.clients?.(nodeTarget, book.config.kubeconfig, name) ?? new MachineClients(nodeTarget, book.config.kubeconfig);
    try {
      await nodeTarget.connect();
      return { target: nodeTarget, clients: nodeClients, ...nodeTools(nodeTarget, name), docker: await nodeClients.dockerClient() };
    } catch (error) {
      await nodeClients.close().catch(() => {});
      await nodeTarget.close().catch(() => {});
      throw error;
    }
  });
  nodes.check(chapters);
  const pollingWaitFor = makeWaitFor(signal, (info) => {
    if (current) bus.emit({ type: 'wait', block: current.block, ...info });
  });
  const waitFor: typeof pollingWaitFor = options.instrument?.instantWaits
    ? Object.assign(<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}) => pollingWaitFor(fn, { ...opts, interval: 0 }), { pending: pollingWaitFor.pending })
    : pollingWaitFor;
  options.instrument?.bindAbort?.((error) => current?.controller.abort(error));
  const log = makeConsole((text) => {
    if (current) bus.emit({ type: 'block:output', block: current.block, stream: 'log', text });
  });
  const snapshot = options.snapshot === false ? undefined : (options.snapshot ?? takeSnapshot);
  // The snapshot reads every node that is up, from the first block on (a node that is down is left out).
  if (snapshot) await nodes.openReachable();
  const snapshotContext: SnapshotContext = {
    target,
    clients,
    get nodes() {
      return nodes.openedOthers();
    },
  };
  const safeSnapshot = () => (snapshot ? snapshot(snapshotContext).catch(() => undefined) : Promise.resolve(undefined));
  // The baseline the first block's changes are measured against.
  let lastSnapshot = snapshot && options.baseline ? options.baseline : await safeSnapshot();
  const recordState = async (block: Block) => {
    if (!snapshot || options.signal?.aborted) return;
    const t0 = performance.now();
    const next = await safeSnapshot();
    if (!next) return;
    const diff = diffSnapshots(lastSnapshot, next);
    lastSnapshot = next;
    bus.emit({ type: 'state', block, snapshot: next, diff, durationMs: performance.now() - t0 });
  };

  const diagnoseFn = options.diagnose === false ? undefined : (options.diagnose ?? collectDiagnostics);
  /** After a failure the retries did not mend: what the machine says, as a `block:diagnostics` event. */
  const diagnose = async (block: Block, failure: BlockFailure, since: number) => {
    if (!diagnoseFn) return;
    const t0 = performance.now();
    const collect = () =>
      diagnoseFn({
        block,
        failure,
        since,
        kubeconfig: book.config.kubeconfig,
        nodes: [{ name: FIRST_NODE, target, clients }, ...nodes.openedOthers()],
      });
    const around = options.instrument?.diagnose;
    const sections = await (around ? around(block, collect) : collect()).catch(() => []);
    if (sections.length > 0) bus.emit({ type: 'block:diagnostics', block, sections, durationMs: performance.now() - t0 });
  };

  const runOnce = async (block: Block, kernel: ChapterKernel): Promise<void> => {
    options.instrument?.enterBlock?.(block);
    const on = await nodes.forBlock(block);
    if (block.kind === 'file') {
      const path = block.attrs.file as string;
      const id = ++commandIds;
      bus.emit({ type: 'command:start', block, id, command: `write ${path}`, time: Date.now(), ...on.label });
      const t0 = performance.now();
      // `${K8S_VERSION}` and the other pinned names become the machine's versions.
      await on.target.writeFile(path, substituteVersions(block.code, versions), block.attrs.mode);
      bus.emit({ type: 'command:end', block, id, command: `write ${path}`, exitCode: 0, durationMs: performance.now() - t0, stdout: '', stderr: '' });
      return;
    }
    if (block.kind === 'sh') {
      const id = ++commandIds;
      const command = block.code.trimEnd();
      bus.emit({ type: 'command:start', block, id, command, time: Date.now(), ...on.label });
      // The traps report the line of the command that failed (or exited), so errors point into
      // the .md file: DEBUG remembers the line about to run, EXIT prints it on failure.
      const script = `trap 'if [ "$LINENO" -gt 3 ]; then BOOK_LINE=$LINENO; fi' DEBUG\ntrap 'c=$?; if [ $c -ne 0 ]; then printf "\\036BOOKLINE %s\\n" "\${BOOK_LINE:-0}" >&2; fi; exit $c' EXIT\nset -eo pipefail; ${versionExports}\n${block.code}`;
      let stderr = '';
      const result = await on.target.exec(script, {
        signal: signal(),
        onStdout: (text) => bus.emit({ type: 'block:output', block, stream: 'stdout', text }),
        onStderr: (text) => {
          stderr += text;
          const visible = text.replace(/\u001eBOOKLINE \d+\n?/g, '');
          if (visible) bus.emit({ type: 'block:output', block, stream: 'stderr', text: visible });
        },
      });
      const cleanStderr = result.stderr.replace(/\u001eBOOKLINE \d+\n?/g, '');
      bus.emit({
        type: 'command:end',
        block,
        id,
        command,
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        stdout: result.stdout,
        stderr: cleanStderr,
      });
      if (result.exitCode !== 0) {
        const at = stderr.lastIndexOf(ERR_MARK);
        const scriptLine = at >= 0 ? Number(stderr.slice(at + ERR_MARK.length).split('\n')[0]) : undefined;
        const known = scriptLine !== undefined && scriptLine > 3;
        // Name the line that failed rather than the whole script.
        const failedLine = known ? (block.code.split('\n')[scriptLine - 4] ?? command).trim() : command;
        const error = new ProcessFailed(
          failedLine,
          { stdout: result.stdout, stderr: cleanStderr, exitCode: result.exitCode } as ProcessOutput,
          result.signal,
          '',
        ) as ProcessFailed & { mdLine?: number };
        if (known) error.mdLine = block.codeLine + scriptLine - 4;
        throw error;
      }
      return;
    }
    const code = compiled.get(block);
    if (!code) throw new Error(`internal: block ${block.id} was not compiled`);
    // `k8s` the client, not a name such as k8s-worker.
    if (/\bk8s\b(?!-)/.test(block.code)) await clients.refreshK8s();
    await kernel.run(code);
  };

  /** One attempt under the block's timeout; an interrupt or timeout kills its commands. */
  const attempt = async (block: Block, kernel: ChapterKernel): Promise<unknown> => {
    const controller = new AbortController();
    current = { block, controller };
    let timer: NodeJS.Timeout | undefined;
    const onInterrupt = () => controller.abort(new Interrupted());
    options.signal?.addEventListener('abort', onInterrupt, { once: true });
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => controller.abort(new BlockTimeout(block.timeoutMs, pollingWaitFor.pending())), block.timeoutMs);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    stopped.catch(() => {});
    const work = runOnce(block, kernel);
    work.catch(() => {});
    try {
      await Promise.race([work, stopped]);
      return undefined;
    } catch (error) {
      if (!controller.signal.aborted) return error ?? new Error('block threw undefined');
      // Its commands were killed; let them be reaped (bounded) so nothing outlives the block.
      await Promise.race([work.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      return controller.signal.reason;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onInterrupt);
      current = undefined;
    }
  };

  /** Applies `fails=`: the expected failure is a pass; anything else is the failure to report. */
  const judge = (block: Block, error: unknown): { failure?: BlockFailure; expected?: string } => {
    const expectation = block.attrs.fails;
    // A replay that cannot go on is never the failure a `fails` block expects.
    if (expectation && (error as Error | undefined)?.name === 'ReplayMismatch') return { failure: describeFailure(block, error) };
    if (!expectation) return error === undefined ? {} : { failure: describeFailure(block, error) };
    if (error === undefined) {
      return {
        failure: {
          code: 'EXPECTATION_UNMET',
          message: `this block must fail${expectation.text ? ` with "${expectation.text}"` : ''}, but it succeeded`,
          file: block.file,
          line: block.line,
          expectation: 'fail',
        },
      };
    }
    const failure = describeFailure(block, error);
    const haystack = `${failure.message}\n${failure.stderrTail ?? ''}`;
    if (expectation.text && !haystack.includes(expectation.text)) {
      return {
        failure: {
          ...failure,
          code: 'EXPECTATION_UNMET',
          message: `this block must fail with "${expectation.text}", but it failed with: ${failure.message}`,
          expectation: 'text',
        },
      };
    }
    return { expected: failure.message };
  };

  let skipRest = false;
  let interrupted = false;
  for (const chapter of chapters) {
    const chapterStarted = performance.now();
    bus.emit({ type: 'chapter:start', chapter, time: Date.now() });
    const kernel = new ChapterKernel({ $, machine, docker, nodes: nodes.global, k8s: clients.k8sGlobal(), waitFor, assert, state, versions, console: log });
    let chapterStatus: BlockStatus = 'passed';
    let skippedHere = 0;
    let passedHere = 0;
    for (const block of chapter.blocks) {
      if (block.kind === 'prose') continue;
      if (skipRest) {
        skippedHere++;
        counts.skipped++;
        bus.emit({ type: 'block:end', block, status: 'skipped', durationMs: 0, attempts: 0 });
        continue;
      }
      // Ctrl-C between blocks stops before the next one starts.
      const choice = options.signal?.aborted ? 'quit' : options.beforeBlock ? await options.beforeBlock(block) : 'run';
      if (choice === 'quit') {
        interrupted = true;
        skipRest = true;
        skippedHere++;
        counts.skipped++;
        bus.emit({ type: 'block:end', block, status: 'skipped', durationMs: 0, attempts: 0 });
        continue;
      }
      if (choice === 'skip') {
        skippedHere++;
        counts.skipped++;
        bus.emit({ type: 'block:end', block, status: 'skipped', durationMs: 0, attempts: 0 });
        continue;
      }
      const blockStarted = performance.now();
      const since = Date.now();
      let attempts = 0;
      let outcome: { failure?: BlockFailure; expected?: string } = {};
      for (;;) {
        attempts++;
        bus.emit({ type: 'block:start', block, attempt: attempts, time: Date.now() });
        const error = await attempt(block, kernel);
        if (error instanceof Interrupted || options.signal?.aborted) {
          interrupted = true;
          outcome = { failure: { code: 'INTERRUPTED', message: 'interrupted (Ctrl-C)', file: block.file, line: block.line } };
          break;
        }
        outcome = judge(block, error);
        if (!outcome.failure) break;
        if (attempts <= block.retries) {
          bus.emit({ type: 'block:retry', block, attempt: attempts, failure: outcome.failure });
          await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempts)));
          continue;
        }
        // A replay that cannot go on says so itself; the machine has nothing to add.
        if ((error as Error | undefined)?.name !== 'ReplayMismatch') await diagnose(block, outcome.failure, since);
        if (options.afterFailure && (await options.afterFailure(block, outcome.failure)) === 'retry') continue;
        break;
      }
      const durationMs = performance.now() - blockStarted;
      if (outcome.failure) {
        counts.failed++;
        chapterStatus = 'failed';
        skipRest = true;
        bus.emit({ type: 'block:end', block, status: 'failed', durationMs, attempts, failure: outcome.failure });
      } else {
        counts.passed++;
        passedHere++;
        bus.emit({ type: 'block:end', block, status: 'passed', durationMs, attempts, expectedFailure: outcome.expected });
      }
      await recordState(block);
    }
    // A chapter with skipped blocks is not a safe place to resume from, so it gets no checkpoint.
    const status: BlockStatus = chapterStatus === 'failed' ? 'failed' : skippedHere > 0 || (passedHere === 0 && skipRest) ? 'skipped' : 'passed';
    if (status === 'passed' && options.afterChapter) await options.afterChapter(chapter, state, lastSnapshot);
    bus.emit({ type: 'chapter:end', chapter, status, durationMs: performance.now() - chapterStarted });
  }
  await nodes.close();
  await clients.close();
  if (interrupted) return finish('interrupted', EXIT.interrupted);
  return finish(counts.failed > 0 ? 'failed' : 'passed', counts.failed > 0 ? EXIT.failed : EXIT.ok);
}

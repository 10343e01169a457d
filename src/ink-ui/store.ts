import type { BlockFailure, RunEvent } from '../runner/events.js';
import { questionLines, readPick } from '../runner/reporters/prediction-lines.js';
import { clusterTree, formatClusterTree } from '../runner/state/tree.js';
import type { Snapshot } from '../runner/state/types.js';
import type { Block, Chapter } from '../runner/types.js';
import type { BookReader } from '../terminal/prose.js';
import { apply, emptyModel, showFullOutput, type UiModel } from './model.js';

export type BeforeChoice = 'run' | 'skip' | 'quit';
export type FailureChoice = 'retry' | 'quit';

export interface StoreOptions {
  /** Redraws at most this often while output streams in (default 400 ms); 0 draws every event at once (tests). */
  throttleMs?: number;
  /** Finished blocks, diffs and chapter ends are drawn this soon (default 250 ms): one frame for the burst of events that ends a block. */
  urgentMs?: number;
  color?: boolean;
  /** Ctrl-C: stop the run (the runner aborts the block and exits 130). */
  onInterrupt?: () => void;
  /** Ctrl-C again while stopping: leave at once. */
  onForceQuit?: () => void;
  /** Reading mode (--step): the prose before each block, and after each chapter's last. */
  reader?: BookReader;
  /** The cluster drawn as a tree after each chapter (default on). */
  tree?: boolean;
}

const TICK_MS = 1000;

/** Events that change what is finished: drawn almost at once. */
const URGENT = new Set<RunEvent['type']>(['run:start', 'block:end', 'chapter:end', 'checkpoint', 'state', 'run:end', 'block:retry']);

/**
 * The UI's state between the runner and React: folds events into the model, publishes it to
 * React at most every `throttleMs`, and turns key presses into answers to the runner's hooks.
 */
export class UiStore {
  private model: UiModel = emptyModel();
  private published: UiModel = { ...this.model };
  private readonly subscribers = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private due = Number.POSITIVE_INFINITY;
  private answer?: (key: string) => boolean;
  private readonly throttleMs: number;
  private readonly urgentMs: number;
  private chapter?: Chapter;
  /** The cluster after the latest block. */
  private latest?: Snapshot;
  /** The last event of each daemon so far (state/tree.ts TreeContext). */
  private readonly daemonEvents = new Map<string, string>();

  constructor(private readonly options: StoreOptions = {}) {
    this.throttleMs = options.throttleMs ?? 400;
    this.urgentMs = Math.min(options.urgentMs ?? 250, this.throttleMs);
  }

  /**
   * The runner's listener. Every frame costs a React render and an Ink layout of the live part:
   * a block's end, its state diff, the chapter's end, the checkpoint and the next block's start
   * arrive within milliseconds of each other and make one frame, not five.
   */
  readonly listener = (event: RunEvent): void => {
    if (event.type === 'chapter:start') this.chapter = event.chapter;
    if (event.type === 'state') this.latest = event.snapshot;
    if (event.type === 'daemon') this.daemonEvents.set(event.node ? `${event.node}/${event.name}` : event.name, event.action);
    apply(this.model, event, this.options.color);
    if (event.type === 'chapter:end' && event.status !== 'skipped' && this.options.tree !== false && this.latest) {
      // Plain: the UI clips each line to the terminal and drops colours (src/ink-ui/clip.ts).
      const lines = formatClusterTree(clusterTree(this.latest, { daemonEvents: this.daemonEvents }));
      if (lines.length > 0) this.model.done.push({ key: `${this.model.done.length}`, kind: 'tree', chapter: event.chapter.id, lines });
    }
    // Reading mode: a chapter's closing words follow its last block.
    if (event.type === 'chapter:end' && this.options.reader && event.status === 'passed') this.addProse(this.options.reader.end(event.chapter));
    if (this.throttleMs === 0) this.publish();
    else this.publishWithin(URGENT.has(event.type) ? this.urgentMs : this.throttleMs);
  };

  private publishWithin(ms: number): void {
    const due = performance.now() + ms;
    if (this.timer && this.due <= due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => this.publish(), ms);
    // The run keeps the process alive, not the UI's redraws.
    this.timer.unref();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  };

  getSnapshot = (): UiModel => this.published;

  /** A new top-level object (and new arrays) each time, so React sees the change. */
  publish(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Number.POSITIVE_INFINITY;
    const m = this.model;
    this.published = {
      ...m,
      chapters: m.chapters.map((c) => ({ ...c })),
      done: [...m.done],
      daemons: [...m.daemons],
      running: m.running ? { ...m.running, lines: [...m.running.lines] } : undefined,
    };
    for (const fn of this.subscribers) fn();
    // Running durations tick: a frame at least every second, but no extra one when events drew.
    if (!m.finished && this.throttleMs > 0) this.publishWithin(TICK_MS);
  }

  private ask<T>(prompt: UiModel['prompt'], choose: (key: string) => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      this.model.prompt = prompt;
      this.answer = (key) => {
        const choice = choose(key);
        if (choice === undefined) return false;
        this.answer = undefined;
        this.model.prompt = undefined;
        this.publish();
        resolve(choice);
        return true;
      };
      this.publish();
    });
  }

  private addProse(lines: string[]): void {
    if (lines.length > 0) this.model.done.push({ key: `${this.model.done.length}`, kind: 'prose', lines });
  }

  /** RunOptions.beforeBlock for --step: the prose and code of the block, then Enter runs, s skips, q quits. */
  beforeBlock = (block: Block): Promise<BeforeChoice> => {
    if (this.options.reader && this.chapter?.id === block.chapterId) this.addProse(this.options.reader.before(this.chapter, block));
    return this.ask({ kind: 'before', block }, (key) => (key === 'return' ? 'run' : key === 's' ? 'skip' : key === 'q' ? 'quit' : undefined));
  };

  /**
   * RunOptions.predict for --step: the prose up to the prediction, its question, then the reader's
   * pick by number (1–9); Enter (or q, or Ctrl-C) is no prediction. The code is shown after it.
   */
  predict = async (block: Block): Promise<string | undefined> => {
    const prediction = block.answering;
    if (!prediction) return undefined;
    const at = this.chapter?.blocks.find((b) => b.id === prediction.id);
    if (this.options.reader && this.chapter && at) this.addProse(this.options.reader.leading(this.chapter, at));
    this.model.done.push({ key: `${this.model.done.length}`, kind: 'prediction', lines: questionLines(prediction), tone: 'question' });
    const pick = await this.ask<string | null>({ kind: 'predict', block, answers: prediction.answers.length }, (key) => {
      if (key === 'return' || key === 'q') return null;
      return /^[1-9]$/.test(key) ? (readPick(prediction, key) ?? undefined) : undefined;
    });
    this.model.done.push({ key: `${this.model.done.length}`, kind: 'prediction', lines: [pick ? `you predicted "${pick}"` : 'no prediction'], tone: 'none' });
    this.publish();
    return pick ?? undefined;
  };

  /** RunOptions.afterFailure: r retries the block, q quits. */
  afterFailure = (block: Block, failure: BlockFailure): Promise<FailureChoice> =>
    this.ask({ kind: 'failure', block, failure }, (key) => (key === 'r' ? 'retry' : key === 'q' ? 'quit' : undefined));

  /** A key from the terminal: `return`, `ctrl-c` or the character. True when it was used. */
  press(key: string): boolean {
    if (key === 'ctrl-c') {
      this.interrupt();
      return true;
    }
    if (key === 'o' && showFullOutput(this.model)) {
      this.publish();
      return true;
    }
    return this.answer?.(key) ?? false;
  }

  interrupt(): void {
    if (this.model.interrupting) {
      this.options.onForceQuit?.();
      return;
    }
    this.model.interrupting = true;
    this.options.onInterrupt?.();
    // A pending question is answered "quit"; the runner then skips the rest and exits 130.
    this.answer?.('q');
    this.publish();
  }
}

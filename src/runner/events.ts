import type { DiagnosticSection } from './diagnostics.js';
import type { ErrorCode } from './errors.js';
import { cutOutput, MESSAGE_LIMITS, OUTPUT_LIMITS, OutputCutter, type OutputLimits, visibleOutput } from './output-limits.js';
import type { Snapshot, StateDiff } from './state/types.js';
import type { Block, Chapter, Prediction } from './types.js';

export type BlockStatus = 'passed' | 'failed' | 'skipped';

/** Where a failure happened, mapped back to the chapter's Markdown. */
export interface BlockFailure {
  /** What kind of failure (docs/errors.md): COMMAND_FAILED, BLOCK_TIMEOUT, WAIT_TIMEOUT, … */
  code: ErrorCode;
  message: string;
  file: string;
  line: number;
  exitCode?: number | null;
  stderrTail?: string;
  /** The block was expected to fail (`fails=`) and did not, or failed with other text. */
  expectation?: string;
}

export type RunEvent =
  | { type: 'run:start'; title: string; target: string; chapters: { id: string; title: string; blocks: number }[]; time: number }
  | { type: 'chapter:start'; chapter: Chapter; time: number }
  /** Before a block that answers a prediction is offered or run: the question, its answers (`prediction`), and that block. */
  | { type: 'prediction:ask'; prediction: Prediction; block: Block; time: number }
  | { type: 'block:start'; block: Block; attempt: number; time: number }
  /** What the block itself printed: an sh block's stdout and stderr, a ts block's console (`log`). */
  | { type: 'block:output'; block: Block; stream: 'stdout' | 'stderr' | 'log'; text: string }
  | {
      type: 'command:start';
      block: Block;
      id: number;
      command: string;
      time: number;
      /** Set when the command ran on a node other than the first. */
      node?: string;
    }
  /** A chunk of a `$` command's output (a ts block's): it belongs under its command, not in the block's output. */
  | { type: 'command:output'; block: Block; id: number; stream: 'stdout' | 'stderr'; text: string; node?: string }
  | { type: 'command:end'; block: Block; id: number; command: string; exitCode: number | null; durationMs: number; stdout: string; stderr: string }
  | { type: 'daemon'; block: Block; name: string; action: 'started' | 'adopted' | 'restarted' | 'stopped'; pid?: number; node?: string }
  | { type: 'wait'; block: Block; message?: string; polls: number; lastFalseAt: number | null; trueAt: number }
  | { type: 'block:retry'; block: Block; attempt: number; failure: BlockFailure }
  /** A block failed (after its retries): what the machine says, before the reader is asked to retry and before `block:end`. */
  | { type: 'block:diagnostics'; block: Block; sections: DiagnosticSection[]; durationMs: number }
  | { type: 'block:end'; block: Block; status: BlockStatus; durationMs: number; attempts: number; failure?: BlockFailure; expectedFailure?: string }
  /**
   * After the block that answers a prediction ended (its `block:end`): the key its `answer()` said
   * (none when the block failed), the reader's pick (`chosen`, when asked and they picked), and
   * whether the reader was asked at all (`--step`).
   */
  | { type: 'prediction:result'; prediction: Prediction; block: Block; answer?: string; chosen?: string; asked: boolean }
  | { type: 'chapter:end'; chapter: Chapter; status: BlockStatus; durationMs: number }
  /** After every block that ran (passed or failed): the cluster as it is now, and what the block changed. */
  | { type: 'state'; block: Block; snapshot: Snapshot; diff: StateDiff; durationMs: number }
  /** A chapter's checkpoint was saved to `file` (a later run can resume after it). */
  | { type: 'checkpoint'; chapter: Chapter; file: string }
  | { type: 'run:end'; status: 'passed' | 'failed' | 'interrupted'; exitCode: number; durationMs: number; passed: number; failed: number; skipped: number };

export type Listener = (event: RunEvent) => void;

type Chunked = Extract<RunEvent, { type: 'block:output' | 'command:output' }>;

/** A block's stream (`b`) or one command's (`c`): each is cut on its own. */
const streamKey = (event: Chunked) =>
  event.type === 'block:output' ? `${event.block.id}\0b\0${event.stream}` : `${event.block.id}\0c\0${event.id}\0${event.stream}`;

function boundFailure<F extends BlockFailure | undefined>(failure: F): F {
  if (!failure) return failure;
  return {
    ...failure,
    message: cutOutput(failure.message, MESSAGE_LIMITS),
    ...(failure.stderrTail === undefined ? {} : { stderrTail: cutOutput(failure.stderrTail, MESSAGE_LIMITS) }),
  };
}

/**
 * Events whose output is cut (output-limits.ts) before `emit` hears them: each stream of a command
 * (an sh block's stdout and stderr, a `$` command's, a ts block's console) as it streams, with its
 * note and tail sent before the event that ends it (its `command:end`, or the block's next
 * `block:*` event); a command's `stdout`/`stderr` in `command:end`; a failure's message and stderr
 * tail; a wait's message. Cut again, cut events stay as they are.
 */
export function boundedEvents(emit: Listener, limits: OutputLimits = OUTPUT_LIMITS): Listener {
  const streams = new Map<string, { cutter: OutputCutter; event: Chunked }>();
  const flush = (prefix?: string) => {
    for (const [key, s] of [...streams]) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      streams.delete(key);
      const text = s.cutter.end();
      if (text) emit({ ...s.event, text });
    }
  };
  return (event) => {
    switch (event.type) {
      case 'block:output':
      case 'command:output': {
        const key = streamKey(event);
        let s = streams.get(key);
        if (!s) {
          s = { cutter: new OutputCutter(limits), event };
          streams.set(key, s);
        }
        const text = s.cutter.push(event.text);
        if (text) emit({ ...event, text });
        return;
      }
      case 'command:end':
        flush(`${event.block.id}\0c\0${event.id}\0`);
        // An sh block is one command: its streams are the block's.
        if (event.block.kind === 'sh') {
          flush(`${event.block.id}\0b\0stdout`);
          flush(`${event.block.id}\0b\0stderr`);
        }
        emit({ ...event, stdout: cutOutput(event.stdout, limits), stderr: cutOutput(event.stderr, limits) });
        return;
      case 'wait':
        emit(event.message === undefined ? event : { ...event, message: cutOutput(event.message, MESSAGE_LIMITS) });
        return;
      case 'block:start':
      case 'block:diagnostics':
        flush(`${event.block.id}\0`);
        emit(event);
        return;
      case 'block:retry':
        flush(`${event.block.id}\0`);
        emit({ ...event, failure: boundFailure(event.failure) });
        return;
      case 'block:end':
        flush(`${event.block.id}\0`);
        emit({
          ...event,
          failure: boundFailure(event.failure),
          ...(event.expectedFailure === undefined ? {} : { expectedFailure: cutOutput(event.expectedFailure, MESSAGE_LIMITS) }),
        });
        return;
      case 'run:end':
        flush();
        emit(event);
        return;
      default:
        emit(event);
    }
  };
}

export interface EventBusOptions {
  /**
   * Told when a listener (a reporter, the recorder, the UI) throws: the run goes on, its verdict
   * stands. By default, a warning on stderr, once per listener.
   */
  onListenerError?: (error: unknown, event: RunEvent) => void;
  /** false: the events come cut already (the CLI's second bus, after the redacting relay); cutting again could only add notes. */
  bound?: boolean;
}

/** A listener's error as one line for a warning: its message, cut and made visible. */
export function listenerWarning(error: unknown, event: RunEvent): string {
  const message = cutOutput(String((error as Error | undefined)?.message ?? error), MESSAGE_LIMITS).split('\n')[0] ?? '';
  const shown = message.length > 200 ? `${message.slice(0, 199)}…` : message;
  return `book: warning: showing or recording the run failed at a ${event.type} event (${visibleOutput(shown)}); the run goes on and its verdict stands\n`;
}

/**
 * The runner's only output channel: reporters subscribe, the runner never prints. What it carries
 * is bounded (boundedEvents), and a listener that throws never reaches the emitter: a reporter's or
 * the recorder's error cannot fail a block.
 */
export class EventBus {
  private readonly listeners: Listener[] = [];
  private readonly failed = new WeakSet<Listener>();
  private readonly bounded: Listener;
  private readonly onListenerError: (error: unknown, event: RunEvent) => void;

  constructor(options: EventBusOptions = {}) {
    const dispatch: Listener = (event) => this.dispatch(event);
    this.bounded = options.bound === false ? dispatch : boundedEvents(dispatch);
    this.onListenerError = options.onListenerError ?? ((error, event) => process.stderr.write(listenerWarning(error, event)));
  }

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  emit(event: RunEvent): void {
    try {
      this.bounded(event);
    } catch (error) {
      this.report(this.bounded, error, event);
    }
  }

  private dispatch(event: RunEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.report(listener, error, event);
      }
    }
  }

  /** Once per listener: one that fails on every event says so once. */
  private report(listener: Listener, error: unknown, event: RunEvent): void {
    if (this.failed.has(listener)) return;
    this.failed.add(listener);
    try {
      this.onListenerError(error, event);
    } catch {
      // Nowhere left to say it.
    }
  }
}

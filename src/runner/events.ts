import type { DiagnosticSection } from './diagnostics.js';
import type { ErrorCode } from './errors.js';
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

/** The runner's only output channel: reporters subscribe, the runner never prints. */
export class EventBus {
  private readonly listeners: Listener[] = [];

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  emit(event: RunEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

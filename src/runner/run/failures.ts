import { codeOf } from '../errors.js';
import type { BlockFailure } from '../events.js';
import { messageOf } from '../isolate/wire.js';
import { mdLineFromStack } from '../kernel.js';
import { cutOutput, MESSAGE_LIMITS } from '../output-limits.js';
import { lastLines, ProcessFailed } from '../shell.js';
import type { Block } from '../types.js';

/** A block ran past its `timeout=`; `waiting` names its waitFor calls still polling and what they last saw. */
export class BlockTimeout extends Error {
  constructor(ms: number, waiting: string[] = []) {
    const still = waiting.length > 0 ? `; still waiting for ${waiting.join('; and for ')}` : '';
    super(`timed out after ${ms / 1000}s${still} (raise timeout= on the block if it needs longer)`);
    this.name = 'BlockTimeout';
  }
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/**
 * Where and why a block failed, mapped back to the .md: the innermost frame of block code in the
 * error's stack (a `$` call's own call site), or the failing line an sh block reported. An error
 * thrown by another block's code after it ended (a timer, an un-awaited promise) names that block.
 */
export function describeFailure(block: Block, error: unknown): BlockFailure {
  // `mdLine`/`mdFile`: mapped where the code ran (an sh block's trap, a kernel thread's source maps).
  const err = error as Error & { mdLine?: number; mdFile?: string; exitCode?: number | null; stderr?: string };
  let at = { file: block.file, line: block.line };
  const mapped = mdLineFromStack(error instanceof ProcessFailed ? error.callSite : err?.stack, block);
  if (mapped) at = { file: mapped.block.file, line: mapped.line };
  if (typeof err?.mdLine === 'number') at = { file: err.mdFile ?? block.file, line: err.mdLine };
  // Cut (output-limits.ts): a thrown 100 MB string is shown as its start and end, with a note.
  const failure: BlockFailure = { code: codeOf(error), message: cutOutput(messageOf(error), MESSAGE_LIMITS), ...at };
  // A command's failure, from this thread (ProcessFailed) or a kernel thread (its fields).
  if (err?.name === 'ProcessFailed') {
    failure.exitCode = err.exitCode ?? null;
    failure.stderrTail = lastLines(err.stderr ?? '', 8);
  }
  return failure;
}

/** The outcome of a block's attempt after `fails=`: passed (maybe as the expected failure) or the failure to report. */
export interface Judgement {
  failure?: BlockFailure;
  /** The expected failure's message, for a `fails=` block that failed as it should. */
  expected?: string;
}

/** Applies `fails=`: the expected failure is a pass; anything else is the failure to report. */
export function judge(block: Block, error: unknown): Judgement {
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
  // The text may be in what the cut message left out.
  if (expectation.text && !haystack.includes(expectation.text) && !messageOf(error).includes(expectation.text)) {
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
}

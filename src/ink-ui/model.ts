import { appendAll } from '../runner/arrays.js';
import { commandLine, foldedOutput, onNewLine } from '../runner/command-output.js';
import { diagnosticLines } from '../runner/diagnostics.js';
import { visible } from '../runner/errors.js';
import type { BlockFailure, RunEvent } from '../runner/events.js';
import { visibleOutput } from '../runner/output-limits.js';
import { verdict } from '../runner/reporters/prediction-lines.js';
import { formatDiff } from '../runner/state/diff.js';
import type { Block } from '../runner/types.js';

/** What the terminal UI shows, folded from runner events (pure: no React, no terminal). */

export type RowStatus = 'pending' | 'running' | 'passed' | 'failed' | 'skipped';

export interface ChapterRow {
  id: string;
  title: string;
  blocks: number;
  status: RowStatus;
  startedAt?: number;
  durationMs?: number;
  checkpoint?: string;
}

/** A finished line: printed once into the scrollback (Ink's <Static>), never redrawn. */
export type DoneItem =
  | { key: string; kind: 'title'; title: string; target: string; chapters: number }
  | { key: string; kind: 'chapter-start'; id: string; title: string }
  | {
      key: string;
      kind: 'block';
      id: string;
      status: 'passed' | 'failed' | 'skipped';
      durationMs: number;
      where: string;
      attempts: number;
      failure?: BlockFailure;
      expected?: string;
    }
  | { key: string; kind: 'diff'; block: string; lines: string[] }
  /** Reading mode: the chapter's prose that leads to the next block, and the block's code. */
  | { key: string; kind: 'prose'; lines: string[] }
  /**
   * A prediction: its question (reading mode), the reader's pick, or what the cluster did.
   * `tone` says whether the reader was right (the lines say it too, without colour).
   */
  | { key: string; kind: 'prediction'; lines: string[]; tone: 'question' | 'right' | 'wrong' | 'none' }
  /** What the machine said when a block failed: printed before the reader is asked to retry. */
  | { key: string; kind: 'diagnostics'; block: string; lines: string[] }
  /** What a finished block printed, kept in the scrollback: its first and last lines when long. */
  | { key: string; kind: 'output'; block: string; lines: string[] }
  | { key: string; kind: 'chapter-end'; id: string; status: 'passed' | 'failed' | 'skipped'; durationMs: number }
  | { key: string; kind: 'checkpoint'; chapter: string; file: string }
  /** The cluster after a chapter: nodes → pods → containers (src/runner/state/tree.ts). */
  | { key: string; kind: 'tree'; chapter: string; lines: string[] }
  | { key: string; kind: 'end'; status: string; passed: number; failed: number; skipped: number; durationMs: number };

export interface RunningBlock {
  block: Block;
  attempt: number;
  startedAt: number;
  /** Complete output lines (commands as `$ …`), the last MAX_LINES of them. */
  lines: string[];
  /** How many complete lines there were in all. */
  total: number;
  /** Every complete line, up to FULL_LINES: the head of the kept output, and `o`'s full output. */
  all: string[];
  partial: string;
  retries: string[];
  /** The `$` command running now and what it streamed so far: shown live, folded to one line when it ends. */
  command?: { id: number; stdout: string; stderr: string };
  /** The block's output with every command's output unfolded (up to FULL_LINES lines): what `o` prints. */
  unfolded: string;
  /** Whether a command's output was folded: then `o` has more to show than the scrollback. */
  folded: boolean;
}

export interface DaemonRow {
  name: string;
  state: string;
  restarts?: string;
  logs: string[];
}

export type Prompt =
  | { kind: 'before'; block: Block }
  /** Reading mode: the reader's prediction for `block`, by the number of an answer; Enter for none. */
  | { kind: 'predict'; block: Block; answers: number }
  | { kind: 'failure'; block: Block; failure: BlockFailure };

export interface UiModel {
  title: string;
  target: string;
  chapters: ChapterRow[];
  done: DoneItem[];
  running?: RunningBlock;
  daemons: DaemonRow[];
  prompt?: Prompt;
  finished: boolean;
  interrupting: boolean;
  /** The last finished block's whole output (up to FULL_LINES), while only its head and tail are shown: `o` prints it. */
  clipped?: { block: string; lines: string[] };
}

export const MAX_LINES = 200;
/** A finished block keeps this many first and last lines of its output in the scrollback. */
export const HEAD_LINES = 12;
export const TAIL_LINES_KEPT = 6;
export const FULL_LINES = 5000;
const UNFOLDED_CHARS = 1_000_000;

/** A finished block's output for the scrollback: all of it, or its head and tail around "… N more lines". */
export function keptOutput(running: RunningBlock): string[] {
  const all = running.partial ? [...running.lines, running.partial] : running.lines;
  const total = running.total + (running.partial ? 1 : 0);
  if (total <= HEAD_LINES + TAIL_LINES_KEPT) return all.slice(-total);
  const tail = all.slice(-TAIL_LINES_KEPT);
  const head = running.all.slice(0, HEAD_LINES);
  return [...head, `… ${total - head.length - tail.length} more lines`, ...tail];
}

export function emptyModel(): UiModel {
  return { title: '', target: '', chapters: [], done: [], daemons: [], finished: false, interrupting: false };
}

/**
 * What a block printed, as the terminal may be given it: colours kept (Ink lays them out), every
 * other control escaped, so a block cannot set the window's title or clear the screen under the UI.
 */
const shownOutput = (text: string) => visibleOutput(text, { colour: true });

/** Output of the block itself, or a line of the runner's: shown in the scrollback and in `o`'s unfolded output. */
function pushOutput(running: RunningBlock, text: string): void {
  pushUnfolded(running, text);
  pushFolded(running, text);
}

/** A line of the runner's (a command, a daemon), on a line of its own in both copies. */
function pushLine(running: RunningBlock, line: string): void {
  pushUnfolded(running, onNewLine(running.unfolded, `${line}\n`));
  pushFolded(running, `${running.partial ? '\n' : ''}${line}\n`);
}

/** `o`'s copy stops growing at UNFOLDED_CHARS (clippedOutput keeps FULL_LINES lines of it). */
function pushUnfolded(running: RunningBlock, text: string): void {
  if (running.unfolded.length < UNFOLDED_CHARS) running.unfolded += text;
}

function pushFolded(running: RunningBlock, text: string): void {
  const parts = (running.partial + text).split('\n');
  running.partial = parts.pop() ?? '';
  appendAll(running.lines, parts);
  if (running.all.length < FULL_LINES) appendAll(running.all, parts.slice(0, FULL_LINES - running.all.length));
  running.total += parts.length;
  if (running.lines.length > MAX_LINES) running.lines.splice(0, running.lines.length - MAX_LINES);
}

function setDaemon(model: UiModel, name: string, patch: Partial<DaemonRow>): void {
  const at = model.daemons.findIndex((d) => d.name === name);
  const row = { ...(at >= 0 ? model.daemons[at] : { name, state: 'unknown', logs: [] }), ...patch } as DaemonRow;
  if (at >= 0) model.daemons[at] = row;
  else model.daemons = [...model.daemons, row].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Folds one event into the model, in place (the store publishes copies at its own pace).
 * `color` decorates diff lines; the symbols carry the meaning without it.
 */
export function apply(model: UiModel, event: RunEvent, color = false): void {
  const key = `${model.done.length}`;
  const chapter = (id: string) => model.chapters.find((c) => c.id === id);
  switch (event.type) {
    case 'run:start':
      // Titles come from the reader's files: their control characters are shown, not obeyed.
      model.title = visible(event.title);
      model.target = event.target;
      model.chapters = event.chapters.map((c) => ({ ...c, title: visible(c.title), status: 'pending' }));
      model.done.push({ key, kind: 'title', title: model.title, target: event.target, chapters: event.chapters.length });
      break;
    case 'chapter:start': {
      const row = chapter(event.chapter.id);
      if (row) Object.assign(row, { status: 'running', startedAt: event.time });
      model.done.push({ key, kind: 'chapter-start', id: event.chapter.id, title: visible(event.chapter.title) });
      break;
    }
    case 'block:start':
      model.running = {
        block: event.block,
        attempt: event.attempt,
        startedAt: event.time,
        lines: [],
        total: 0,
        all: [],
        partial: '',
        retries: model.running?.block.id === event.block.id ? model.running.retries : [],
        unfolded: '',
        folded: false,
      };
      break;
    case 'command:start':
      if (model.running && event.block.kind === 'ts') {
        pushLine(model.running, commandLine(event));
        model.running.command = { id: event.id, stdout: '', stderr: '' };
      }
      break;
    case 'command:output': {
      const running = model.running;
      if (!running || running.command?.id !== event.id) break;
      running.command[event.stream] += event.text;
      pushUnfolded(running, shownOutput(event.text));
      break;
    }
    case 'command:end': {
      const running = model.running;
      if (!running || running.command?.id !== event.id) break;
      const { stdout, stderr } = running.command;
      running.command = undefined;
      const folded = foldedOutput(stdout, stderr);
      if (!folded) break;
      // The scrollback gets the one folded line; `o` has the output itself.
      running.folded = true;
      pushFolded(running, `${running.partial ? '\n' : ''}  ${folded}\n`);
      break;
    }
    case 'block:output':
      if (model.running) pushOutput(model.running, shownOutput(event.text));
      break;
    case 'daemon': {
      // Another node's daemon is NODE/NAME, as in the snapshots.
      const name = event.node ? `${event.node}/${event.name}` : event.name;
      setDaemon(model, name, { state: event.action === 'stopped' ? 'stopped' : 'running' });
      if (model.running) pushLine(model.running, `⚙ daemon ${name} ${event.action}`);
      break;
    }
    case 'block:retry':
      if (model.running) model.running.retries.push(event.failure.message.split('\n')[0] ?? '');
      break;
    case 'block:end': {
      const finished = model.running?.block.id === event.block.id ? model.running : undefined;
      model.running = undefined;
      model.done.push({
        key,
        kind: 'block',
        id: event.block.id,
        status: event.status,
        durationMs: event.durationMs,
        where: `${event.block.file}:${event.block.line}`,
        attempts: event.attempts,
        failure: event.failure,
        expected: event.expectedFailure,
      });
      const kept = finished ? keptOutput(finished) : [];
      if (kept.length > 0) model.done.push({ key: `${model.done.length}`, kind: 'output', block: event.block.id, lines: kept });
      model.clipped = finished ? clippedOutput(finished) : undefined;
      break;
    }
    case 'prediction:result': {
      const said = verdict(event);
      if (event.answer !== undefined || event.asked)
        model.done.push({ key, kind: 'prediction', lines: [said.head, ...said.details.map((l) => `  ${l}`)], tone: said.tone });
      break;
    }
    case 'block:diagnostics':
      model.done.push({ key, kind: 'diagnostics', block: event.block.id, lines: diagnosticLines(event.sections) });
      break;
    case 'state': {
      const lines = formatDiff(event.diff, { color });
      if (lines.length > 0) model.done.push({ key, kind: 'diff', block: event.block.id, lines });
      const daemons = event.snapshot.sources.daemons;
      if (daemons.available) {
        for (const [k, fields] of Object.entries(daemons.items)) {
          const name = k.replace(/^daemon /, '');
          setDaemon(model, name, { state: fields.state ?? 'unknown', restarts: fields.restarts, logs: event.snapshot.logs[name] ?? [] });
        }
      }
      break;
    }
    case 'chapter:end': {
      const row = chapter(event.chapter.id);
      if (row) Object.assign(row, { status: event.status, durationMs: event.durationMs });
      model.done.push({ key, kind: 'chapter-end', id: event.chapter.id, status: event.status, durationMs: event.durationMs });
      break;
    }
    case 'checkpoint': {
      const { id } = event.chapter;
      const row = chapter(id);
      if (row) row.checkpoint = event.file;
      model.done.push({ key, kind: 'checkpoint', chapter: id, file: event.file });
      break;
    }
    case 'run:end':
      model.running = undefined;
      model.prompt = undefined;
      model.finished = true;
      model.done.push({
        key,
        kind: 'end',
        status: event.status,
        passed: event.passed,
        failed: event.failed,
        skipped: event.skipped,
        durationMs: event.durationMs,
      });
      break;
  }
}

/** What `o` prints for a finished block: its output with the commands' unfolded, when the scrollback shows less. */
function clippedOutput(finished: RunningBlock): UiModel['clipped'] {
  const total = finished.total + (finished.partial ? 1 : 0);
  if (!finished.folded && total <= HEAD_LINES + TAIL_LINES_KEPT) return undefined;
  const lines = finished.unfolded.replace(/\n$/, '').split('\n');
  const whole = lines.slice(0, FULL_LINES);
  if (lines.length > whole.length) whole.push(`… the first ${whole.length} of ${lines.length} lines`);
  return { block: finished.block.id, lines: whole };
}

/** `o`: the last finished block's whole output into the scrollback, once. False when there is none. */
export function showFullOutput(model: UiModel): boolean {
  const clipped = model.clipped;
  if (!clipped) return false;
  model.clipped = undefined;
  model.done.push({ key: `${model.done.length}`, kind: 'output', block: clipped.block, lines: [`full output of ${clipped.block}:`, ...clipped.lines] });
  return true;
}

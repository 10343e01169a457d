import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DiagnosticSection } from '../diagnostics.js';
import type { BlockFailure, BlockStatus } from '../events.js';
import { bookStateDir, writeAtomic } from '../files.js';
import { INPUT_LIMITS, InputFileError, jsonTooDeep, MAX_JSON_DEPTH, readInputFile } from '../input-file.js';
import { firstProblem, plainMessage } from '../schemas/problem.js';
import { transcriptSchema } from '../schemas/transcript.js';
import type { Snapshot, StateDiff } from '../state/types.js';
import type { NodePlace } from '../targets/nodes.js';
import { shellQuote } from '../targets/target.js';
import type { Block, Book } from '../types.js';
import { TRANSCRIPT_FORMAT, TRANSCRIPT_FORMAT_V1, TRANSCRIPT_FORMAT_V2 } from './formats.js';
import { migrateV1, migrateV2, TooOld } from './migrate.js';
import { Redactor } from './redact.js';

export { TRANSCRIPT_FORMAT } from './formats.js';

/** One call a block made to the machine, Docker or the API server, in the order it was made. */
export interface RecordedCall {
  /** `target` (exec, writeFile, readFile), `docker` (dockerode), `k8s` (@kubernetes/client-node). */
  kind: 'target' | 'docker' | 'k8s';
  /** `exec`, `docker.getContainer(<id>).inspect`, `core.listNamespacedPod`. */
  path: string;
  /**
   * A target call's logical key, redacted: the book's own call (`$ CMD`, `sh CODE`, `daemon start
   * NAME ARGV`, `readFile PATH`…; run/call-key.ts). A replay matches target calls by it; docker and
   * k8s calls are the book's own already, matched by their path and arguments.
   */
  key?: string;
  /** JSON arguments, redacted (an exec's: the text the runner sent, for the reader only). */
  args: unknown[];
  /** JSON result, redacted (absent when the call threw). */
  result?: unknown;
  error?: { name: string; message: string; code?: string | number; body?: unknown };
  durationMs: number;
  /**
   * How many times in a row (among the block's calls with the same key and arguments) this call
   * got this same answer: a poll that saw "not yet" 300 times is one call with `repeat: 300`.
   * Absent: once. A replay answers it that many times.
   */
  repeat?: number;
}

export interface RecordedCommand {
  command: string;
  exitCode: number | null;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** A node other than the first, where the command ran. */
  node?: string;
}

export interface RecordedBlock {
  id: string;
  kind: Block['kind'];
  line: number;
  /** sha256 of the block's info string and code: a replay of a changed block asks to re-record. */
  hash: string;
  status: BlockStatus;
  durationMs: number;
  attempts: number;
  failure?: BlockFailure;
  expectedFailure?: string;
  /**
   * The key the block gave with `answer()` to the prediction before it (docs/predictions.md);
   * absent for other blocks, and in transcripts recorded before predictions (no version bump:
   * an optional field, which older transcripts simply lack).
   */
  answer?: string;
  /** What the machine said when the block failed (the last failure's, if it was retried by hand). */
  diagnostics?: DiagnosticSection[];
  /** What the reader saw: `sh` and `$` commands, `write` of file blocks. */
  commands: RecordedCommand[];
  /** Streamed output (stdout, stderr, console.log as `log`), consecutive chunks of a stream merged. */
  output: { stream: 'stdout' | 'stderr' | 'log'; text: string }[];
  waits: { message?: string; polls: number }[];
  /** `node`: a node other than the first. */
  daemons: { name: string; action: string; node?: string }[];
  calls: RecordedCall[];
  /** The cluster after the block, and what the block changed. */
  state?: { snapshot: Snapshot; diff: StateDiff };
}

export interface RecordedChapter {
  id: string;
  number: number;
  title: string;
  file: string;
  hash: string;
  status?: BlockStatus;
  durationMs?: number;
  blocks: RecordedBlock[];
}

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT | typeof TRANSCRIPT_FORMAT_V2 | typeof TRANSCRIPT_FORMAT_V1;
  title: string;
  recordedAt: string;
  /** `nodes`: the target's other nodes, whose calls are recorded as `nodes.NAME.exec`, `nodes.NAME.docker.…`. */
  target: { name: string; type: string; nodes?: ({ name: string } & NodePlace)[] };
  /** The runner's environment, for the reader of a rendered page. */
  runner: { node: string; platform: string };
  /** The machine's versions (vagrant/versions.sh as resolved for the run): what `${NAME}` in a file block was. */
  versions?: Record<string, string>;
  status?: 'passed' | 'failed' | 'interrupted';
  exitCode?: number;
  durationMs?: number;
  /** The cluster before the first block (the first block's diff is against it). */
  baseline: Snapshot | null;
  chapters: RecordedChapter[];
  /** The book's `state` values at the end (e.g. `ownershipTree` from the recap chapter). */
  finalState: Record<string, unknown>;
}

export function blockHash(block: Pick<Block, 'info' | 'code'>): string {
  return createHash('sha256').update(`${block.info}\n${block.code}`).digest('hex').slice(0, 16);
}

/** `book/../.book/transcript.json`: beside the checkpoints and the JUnit file of `--ci`. */
export function defaultTranscriptPath(book: Pick<Book, 'dir'>): string {
  return path.join(bookStateDir(book), 'transcript.json');
}

/** Temp file + rename, mode 0600 from the first byte: a reader never sees half a transcript. */
export async function writeTranscript(file: string, transcript: Transcript): Promise<void> {
  await writeAtomic(file, `${JSON.stringify(transcript, null, 1)}\n`, 0o600);
}

export class TranscriptError extends Error {
  constructor(
    message: string,
    /** TRANSCRIPT_OLD: an older runner's transcript this one cannot read (re-record it). */
    readonly code: 'TRANSCRIPT_INVALID' | 'TRANSCRIPT_OLD' = 'TRANSCRIPT_INVALID',
    /** The next step, when the message alone does not say it (TRANSCRIPT_OLD: the command that records it again). */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TranscriptError';
  }
}

/** The command that records `file` again, on the target it was recorded from (the local one needs root). */
export function rerecordCommand(file: string, target: { name?: unknown; type?: unknown } | undefined): string {
  const name = typeof target?.name === 'string' && /^[A-Za-z0-9_.-]+$/.test(target.name) ? target.name : 'local';
  const root = name === 'local' || target?.type === 'local' ? 'sudo ' : '';
  return `${root}npx book run --target ${name} --record --transcript ${shellQuote(file)}`;
}

export async function readTranscript(file: string): Promise<Transcript> {
  let text: string;
  try {
    // Only a regular file, and only up to its limit: a FIFO or /dev/zero given as --transcript
    // would hang the read or fill the memory.
    // A byte-order mark (an editor that saved it) is no part of the JSON.
    text = (await readInputFile(file, { limitBytes: INPUT_LIMITS.transcript, what: 'a transcript' })).toString('utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    const fix = error.problem === 'missing' ? 'record one with: book run --record' : error.hint;
    throw new TranscriptError(`cannot read the transcript ${file}: it ${error.reason} (${fix})`);
  }
  const deep = jsonTooDeep(text);
  if (deep)
    throw new TranscriptError(
      `${file} nests deeper than ${MAX_JSON_DEPTH} levels at line ${deep.line}: no transcript the runner writes does (about 20); re-record with book run --record`,
    );
  let data: Transcript;
  try {
    data = JSON.parse(text) as Transcript;
  } catch (error) {
    throw new TranscriptError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const format = (data as { format?: unknown } | null)?.format;
  if (format !== TRANSCRIPT_FORMAT && format !== TRANSCRIPT_FORMAT_V2 && format !== TRANSCRIPT_FORMAT_V1)
    throw new TranscriptError(
      `${file} is not a transcript of this runner (format ${String(format)}, expected ${TRANSCRIPT_FORMAT}): re-record with book run --record`,
    );
  // Every part any reader uses, checked here: a damaged file is refused before anything is shown,
  // naming the place, instead of failing halfway through a replay or a render.
  const checked = transcriptSchema.safeParse(data, { error: plainMessage });
  if (!checked.success)
    throw new TranscriptError(
      `${file} is not a whole transcript (${firstProblem(checked.error)}): it is damaged, or was not written by this runner; record it again`,
      'TRANSCRIPT_INVALID',
      rerecordCommand(file, data.target),
    );
  if (format === TRANSCRIPT_FORMAT_V1) {
    // An older runner's transcript: its calls' keys are read back from the text that runner sent.
    try {
      return redactOnRead(text, migrateV2(migrateV1(data, TRANSCRIPT_FORMAT_V2), TRANSCRIPT_FORMAT));
    } catch (error) {
      if (!(error instanceof TooOld)) throw error;
      throw new TranscriptError(
        `${file} was recorded by an older runner (${TRANSCRIPT_FORMAT_V1}) whose calls this one cannot read back (${error.message}): record it again`,
        'TRANSCRIPT_OLD',
        rerecordCommand(file, data.target),
      );
    }
  }
  if (format === TRANSCRIPT_FORMAT_V2) return redactOnRead(text, migrateV2(data, TRANSCRIPT_FORMAT));
  return redactOnRead(text, data);
}

/**
 * Credentials are blanked again as a transcript is read, by their shape: `book render` publishes
 * what it holds and `book replay` prints it, and a transcript written by hand, by an older runner
 * or before a redaction was added may still hold one. The runner's own transcripts come out as
 * they went in (what it wrote was redacted the same way, and more).
 */
function redactOnRead(text: string, transcript: Transcript): Transcript {
  const redactor = new Redactor();
  // A key or token anywhere in the file is then blanked wherever a piece of it shows.
  redactor.learnShapes(text);
  return redactor.redactDeep(transcript);
}

/**
 * A transcript is of this book when they share chapters: one recorded from another book would
 * render its outputs under this book's code, or replay nothing.
 */
export function checkTranscriptOfBook(file: string, transcript: Transcript, book: Pick<Book, 'chapters' | 'config'>): void {
  const ours = new Set(book.chapters.map((c) => c.id));
  if (transcript.chapters.length > 0 && !transcript.chapters.some((c) => ours.has(c.id)))
    throw new TranscriptError(
      `${file} was recorded from another book ("${transcript.title}": ${transcript.chapters
        .slice(0, 3)
        .map((c) => c.id)
        .join(
          ', ',
        )}${transcript.chapters.length > 3 ? ', …' : ''}), not "${book.config.title}": pass this book's transcript with --transcript, or record one with book run --record`,
    );
}

/** Every block of a transcript by id. */
export function transcriptBlocks(transcript: Transcript): Map<string, RecordedBlock> {
  const map = new Map<string, RecordedBlock>();
  for (const chapter of transcript.chapters) for (const block of chapter.blocks) map.set(block.id, block);
  return map;
}

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { bookStateDir, writeAtomic } from './files.js';
import { INPUT_LIMITS, InputFileError, jsonTooDeep, MAX_JSON_DEPTH, readInputFile } from './input-file.js';
import { checkpointSchema } from './schemas/checkpoint.js';
import { firstProblem } from './schemas/problem.js';
import type { Snapshot } from './state/types.js';
import type { MachineIdentity } from './targets/target.js';
import { type Book, type Chapter, executable } from './types.js';

export const CHECKPOINT_FORMAT = 'build-a-minikube/checkpoint@1';

export interface BlockResult {
  block: string;
  chapter: string;
  status: 'passed' | 'failed' | 'skipped';
  durationMs: number;
}

export interface ChapterFingerprint {
  id: string;
  /** The whole file, prose included. */
  hash: string;
  /** Only what runs: executable and file= blocks with their attributes. */
  codeHash: string;
}

export interface Checkpoint {
  book: string;
  target: string;
  chapter: ChapterFingerprint & { number: number; title: string };
  /** Every chapter up to and including this one, as it was when the checkpoint was taken. */
  chapters: ChapterFingerprint[];
  state: Record<string, unknown>;
  results: BlockResult[];
  snapshot: Snapshot | null;
  machine: MachineIdentity;
  /** A snapshot of the machine itself, where the target can take one (vagrant). */
  machineSnapshot: { type: 'vagrant'; name: string } | null;
  createdAt: string;
}

interface CheckpointFile {
  format: string;
  sha256: string;
  body: Checkpoint;
}

export type ReadResult = { ok: true; checkpoint: Checkpoint; file: string } | { ok: false; file: string; problem: string };

export function codeHash(chapter: Chapter): string {
  const runnable = chapter.blocks.filter(executable).map((b) => `${b.info}\n${b.code}`);
  return createHash('sha256').update(runnable.join('\u0000')).digest('hex');
}

export function fingerprint(chapter: Chapter): ChapterFingerprint {
  return { id: chapter.id, hash: chapter.hash, codeHash: codeHash(chapter) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function checkpointDir(book: Book, target: string): string {
  return path.join(bookStateDir(book), 'checkpoints', target);
}

export function checkpointFile(book: Book, target: string, chapterId: string): string {
  return path.join(checkpointDir(book, target), `${chapterId}.json`);
}

export async function writeCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  const body = JSON.stringify(checkpoint);
  const wrapped = `{"format":${JSON.stringify(CHECKPOINT_FORMAT)},"sha256":"${sha256(body)}","body":${body}}\n`;
  await writeAtomic(file, wrapped, 0o600);
}

/** Reads and verifies one checkpoint; a truncated or edited file is reported, never used. */
export async function readCheckpoint(file: string): Promise<ReadResult> {
  let text: string;
  try {
    // Only a regular file, up to its limit: a FIFO there would hang --from, /dev/zero fill the memory.
    text = (await readInputFile(file, { limitBytes: INPUT_LIMITS.checkpoint, what: 'a checkpoint' })).toString('utf8');
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    // Only no file at all is a missing checkpoint (resume.ts tells it by ENOENT); anything else
    // with its name (a link to nothing, a FIFO, a folder, too large) is a damaged one.
    if (error.problem === 'missing') return { ok: false, file, problem: `cannot read it (${error.errno ?? 'ENOENT'})` };
    return { ok: false, file, problem: `it ${error.reason}` };
  }
  // The drift check walks the snapshot recursively: a nesting no checkpoint has is refused first.
  if (jsonTooDeep(text)) return { ok: false, file, problem: `it nests deeper than ${MAX_JSON_DEPTH} levels (a checkpoint nests about 7)` };
  const start = text.indexOf('"body":');
  if (!text.trimEnd().endsWith('}') || start < 0) return { ok: false, file, problem: 'it is truncated' };
  let parsed: CheckpointFile;
  try {
    parsed = JSON.parse(text) as CheckpointFile;
  } catch {
    return { ok: false, file, problem: 'it is not valid JSON (truncated or edited)' };
  }
  if (parsed.format !== CHECKPOINT_FORMAT) return { ok: false, file, problem: `unknown format "${parsed.format}"` };
  // The checksum covers the body exactly as written.
  const body = text.slice(start + '"body":'.length, text.trimEnd().length - 1);
  if (sha256(body) !== parsed.sha256) return { ok: false, file, problem: 'its checksum does not match (the file was edited or damaged)' };
  const checked = checkpointSchema.safeParse(parsed.body);
  if (!checked.success) return { ok: false, file, problem: `it does not hold what resume needs (${firstProblem(checked.error)})` };
  return { ok: true, checkpoint: parsed.body, file };
}

export async function listCheckpoints(book: Book, target: string): Promise<ReadResult[]> {
  const dir = checkpointDir(book, target);
  if (!existsSync(dir)) return [];
  const order = new Map(book.chapters.map((c, i) => [c.id, i]));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    // A file or a FIFO where the folder goes: said like a damaged checkpoint, not a crash.
    return [{ ok: false, file: dir, problem: `it is not a folder of checkpoints (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }];
  }
  const files = names.filter((f) => f.endsWith('.json')).sort((a, b) => (order.get(a.slice(0, -5)) ?? 1e9) - (order.get(b.slice(0, -5)) ?? 1e9));
  return Promise.all(files.map((f) => readCheckpoint(path.join(dir, f))));
}

/** A run from chapter N makes the checkpoints of N and later stale: they describe another history. */
export async function removeCheckpointsFrom(book: Book, target: string, fromIndex: number): Promise<void> {
  for (const chapter of book.chapters.slice(fromIndex)) await rm(checkpointFile(book, target, chapter.id), { force: true });
}

import { type Transcript, transcriptBlocks } from '../runner/record/transcript.js';
import type { Snapshot } from '../runner/state/types.js';
import type { Book } from '../runner/types.js';
import type { DiagramContext, WrittenFile } from './diagram/model.js';
import { writtenText } from './written-text.js';

// Which snapshots the site draws: the cluster after each chapter, and after a block that changed a
// lot, each against the drawing before it (what changed is highlighted), with what the run knew
// there beyond the snapshot (its daemon events, the blocks that had run).

/** A block that added or removed at least this many pods, containers, nodes, daemons or objects gets its own drawing. */
export const BUSY_BLOCK = 6;
const DRAWN = /^(pod|container|node|daemon|deployment|replicaset|service) /;

/** What the run knew at a snapshot, beyond it. */
export interface RunSoFar {
  /** The last daemon event of each daemon so far: `name` on the first node, `node/name` elsewhere → `started`, `restarted`, `adopted`, `stopped`. */
  daemonEvents: ReadonlyMap<string, string>;
  /** The blocks that passed up to the snapshot, in order (the files they wrote are the arrows' reasons). */
  ran: readonly string[];
}

export interface Drawing {
  snapshot: Snapshot;
  previous?: Snapshot;
  now: RunSoFar;
  before?: RunSoFar;
}

export interface SnapshotTimeline {
  chapters: Map<string, Drawing>;
  blocks: Map<string, Drawing>;
}

export function snapshotTimeline(transcript: Transcript | undefined): SnapshotTimeline {
  const chapters = new Map<string, Drawing>();
  const blocks = new Map<string, Drawing>();
  let chapterBefore: { snapshot: Snapshot; at: RunSoFar } | undefined;
  let blockBefore: { snapshot: Snapshot; at: RunSoFar } | undefined;
  const events = new Map<string, string>();
  const ran: string[] = [];
  const drawing = (snapshot: Snapshot, at: RunSoFar, before: typeof blockBefore): Drawing => ({
    snapshot,
    now: at,
    ...(before ? { previous: before.snapshot, before: before.at } : {}),
  });
  for (const chapter of transcript?.chapters ?? []) {
    const withState = chapter.blocks.filter((b) => b.state?.snapshot);
    let last: { snapshot: Snapshot; at: RunSoFar } | undefined;
    for (const b of chapter.blocks) {
      for (const d of b.daemons ?? []) events.set(d.node ? `${d.node}/${d.name}` : d.name, d.action);
      if (b.status === 'passed') ran.push(b.id);
      const snapshot = b.state?.snapshot;
      if (!snapshot) continue;
      const at: RunSoFar = { daemonEvents: new Map(events), ran: [...ran] };
      const state = b.state as NonNullable<typeof b.state>;
      const moved = state.diff.changes.filter((c) => c.op !== '~' && DRAWN.test(c.key)).length;
      if (moved >= BUSY_BLOCK && b !== withState.at(-1)) blocks.set(b.id, drawing(snapshot, at, blockBefore));
      blockBefore = { snapshot, at };
      last = { snapshot, at };
    }
    if (last) {
      chapters.set(chapter.id, drawing(last.snapshot, last.at, chapterBefore));
      chapterBefore = last;
    }
  }
  return { chapters, blocks };
}

/** The files the book's `file=` blocks write (as the recorded run wrote them: writtenText), by block id. */
const writtenFiles = new WeakMap<Book, WeakMap<Transcript | Book, Map<string, WrittenFile>>>();

export function bookFiles(book: Book, transcript: Transcript | undefined): Map<string, WrittenFile> {
  const byTranscript = writtenFiles.get(book) ?? new WeakMap<Transcript | Book, Map<string, WrittenFile>>();
  writtenFiles.set(book, byTranscript);
  let files = byTranscript.get(transcript ?? book);
  if (!files) {
    files = new Map();
    const recorded = transcript ? transcriptBlocks(transcript) : undefined;
    for (const chapter of book.chapters)
      for (const b of chapter.blocks)
        if (b.kind === 'file' && b.attrs.file)
          files.set(b.id, {
            path: b.attrs.file,
            ...(b.attrs.node ? { node: b.attrs.node } : {}),
            content: writtenText(b, recorded?.get(b.id), transcript?.versions),
            block: b.id,
          });
    byTranscript.set(transcript ?? book, files);
  }
  return files;
}

/** What a drawing's model knows beyond its snapshots: the run's daemon events and the files the book had written. */
export function drawingContext(
  book: Book,
  transcript: Transcript | undefined,
  drawing: Pick<Drawing, 'now' | 'before'>,
): { now: DiagramContext; before?: DiagramContext } {
  const files = bookFiles(book, transcript);
  const at = (run: RunSoFar): DiagramContext => ({
    daemonEvents: run.daemonEvents,
    files: run.ran.flatMap((id) => (files.has(id) ? [files.get(id) as WrittenFile] : [])),
  });
  return { now: at(drawing.now), ...(drawing.before ? { before: at(drawing.before) } : {}) };
}

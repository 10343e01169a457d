import type { Transcript } from '../runner/record/transcript.js';
import type { Snapshot } from '../runner/state/types.js';

// Which snapshots the site draws: the cluster after each chapter, and after a block that changed a
// lot, each against the drawing before it (what changed is highlighted).

/** A block that added or removed at least this many pods, containers, nodes, daemons or objects gets its own drawing. */
export const BUSY_BLOCK = 6;
const DRAWN = /^(pod|container|node|daemon|deployment|replicaset|service) /;

export interface Drawing {
  snapshot: Snapshot;
  previous?: Snapshot;
}

export interface SnapshotTimeline {
  chapters: Map<string, Drawing>;
  blocks: Map<string, Drawing>;
}

export function snapshotTimeline(transcript: Transcript | undefined): SnapshotTimeline {
  const chapters = new Map<string, Drawing>();
  const blocks = new Map<string, Drawing>();
  let chapterBefore: Snapshot | undefined;
  let blockBefore: Snapshot | undefined;
  for (const chapter of transcript?.chapters ?? []) {
    const withState = chapter.blocks.filter((b) => b.state?.snapshot);
    for (const [i, b] of withState.entries()) {
      const state = b.state as NonNullable<typeof b.state>;
      const moved = state.diff.changes.filter((c) => c.op !== '~' && DRAWN.test(c.key)).length;
      if (moved >= BUSY_BLOCK && i < withState.length - 1) blocks.set(b.id, { snapshot: state.snapshot, ...(blockBefore ? { previous: blockBefore } : {}) });
      blockBefore = state.snapshot;
    }
    const last = withState.at(-1)?.state?.snapshot;
    if (last) {
      chapters.set(chapter.id, { snapshot: last, ...(chapterBefore ? { previous: chapterBefore } : {}) });
      chapterBefore = last;
    }
  }
  return { chapters, blocks };
}

import type { EventBus } from '../events.js';
import { diffSnapshots } from '../state/diff.js';
import type { SnapshotContext } from '../state/snapshot.js';
import type { Snapshot } from '../state/types.js';
import type { Block } from '../types.js';

/**
 * The cluster's state after each block (a `state` event with what the block changed). A snapshot
 * that fails is skipped, never a failure of the run.
 */
export class StateRecorder {
  private last: Snapshot | undefined;

  constructor(
    private readonly take: ((context: SnapshotContext) => Promise<Snapshot>) | undefined,
    private readonly context: SnapshotContext,
    private readonly bus: EventBus,
  ) {}

  /** The state the last block left (the checkpoint's). */
  get latest(): Snapshot | undefined {
    return this.last;
  }

  private safe(): Promise<Snapshot | undefined> {
    return this.take ? this.take(this.context).catch(() => undefined) : Promise.resolve(undefined);
  }

  /** The baseline the first block's changes are measured against: given (the --from drift check's) or taken now. */
  async start(baseline: Snapshot | undefined): Promise<void> {
    this.last = this.take && baseline ? baseline : await this.safe();
  }

  async after(block: Block): Promise<void> {
    if (!this.take) return;
    const t0 = performance.now();
    const next = await this.safe();
    if (!next) return;
    const diff = diffSnapshots(this.last, next);
    this.last = next;
    this.bus.emit({ type: 'state', block, snapshot: next, diff, durationMs: performance.now() - t0 });
  }
}

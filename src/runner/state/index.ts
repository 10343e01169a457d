/** Cluster-state snapshots after every block, and the Terraform-style diff between two of them. */
export { diffSnapshots, formatDiff, makeChalk, summaryLine } from './diff.js';
export { type SnapshotContext, type SnapshotFn, takeSnapshot } from './snapshot.js';
export type { Change, FieldChange, Fields, Snapshot, SourceName, SourceState, StateDiff } from './types.js';

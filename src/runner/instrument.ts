import type { MachineClients } from './clients.js';
import type { DiagnosticSection } from './diagnostics.js';
import type { RunEvent } from './events.js';
import type { SnapshotContext } from './state/snapshot.js';
import type { Snapshot } from './state/types.js';
import type { Target } from './targets/target.js';
import type { Block } from './types.js';

export type TakeSnapshot = (context: SnapshotContext) => Promise<Snapshot>;

/**
 * The one place a run is recorded or replayed (src/runner/record): `runBook` applies each hook
 * where it belongs, and nothing else in the runner knows about transcripts.
 */
export interface RunInstrument {
  /** Wraps the first node's target (recording: its exec, writeFile and readFile calls are kept). */
  target?: (target: Target) => Target;
  /** Wraps the target of a node other than the first (recording), or stands in for it (replay). */
  nodeTarget?: (node: string, target: Target) => Target;
  /** Builds the `k8s` and `docker` clients (recording proxies, or answers from a transcript); `node` names a node other than the first. */
  clients?: (target: Target, kubeconfig: string, node?: string) => MachineClients;
  /**
   * Takes the cluster-state snapshots in place of `take` (recording: the first is the
   * transcript's baseline, so the run takes its own; replay: the recorded ones, in order).
   */
  snapshot?: (take: TakeSnapshot) => TakeSnapshot;
  /** Hears every event of the run, `run:end` included (the recorder writes the transcript from them). */
  listener?: (event: RunEvent) => void;
  /** Called as each attempt of a block starts; throwing fails the attempt (a replay whose block changed). */
  enterBlock?: (block: Block) => void;
  /** Receives a function that aborts the running attempt with an error (a replay call the transcript lacks). */
  bindAbort?: (abort: (error: Error) => void) => void;
  /** Around the diagnostics of a failed block: recording keeps their calls out of the block's; replay answers with the recorded ones. */
  diagnose?: (block: Block, collect: () => Promise<DiagnosticSection[]>) => Promise<DiagnosticSection[]>;
  /** waitFor polls without sleeping (replay: the answers are already known). */
  instantWaits?: boolean;
}

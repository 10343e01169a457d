/** The shapes of cluster-state snapshots and their diffs (src/runner/state). */

/** One object's fields, already normalised: only values whose change means something. */
export type Fields = Record<string, string>;

/** What one source (the API server, Docker, the machine's files, its daemons) showed. */
export type SourceState = { available: true; items: Record<string, Fields> } | { available: false; reason: string };

export const SOURCES = ['kubernetes', 'docker', 'manifests', 'daemons', 'network'] as const;
export type SourceName = (typeof SOURCES)[number];

export interface Snapshot {
  /**
   * Keyed `kind name`: `pod default/nginx`, `container k8s_POD_nginx_…_0`, `manifest nginx.yaml`,
   * `daemon kubelet`, `link cni0`, `chain nat/KUBE-SERVICES`. Transcripts recorded before the
   * network source have no `network`: readers treat a missing source as empty.
   */
  sources: Record<SourceName, SourceState>;
  /** Last log lines of each daemon, for the UI's daemons panel; never diffed. */
  logs: Record<string, string[]>;
  /** How long each source took, in ms; never diffed. */
  timings: Partial<Record<SourceName, number>>;
}

export interface FieldChange {
  field: string;
  old: string;
  new: string;
}

export type Change = { op: '+'; key: string; fields: Fields } | { op: '-'; key: string; fields: Fields } | { op: '~'; key: string; changes: FieldChange[] };

export interface StateDiff {
  changes: Change[];
  add: number;
  change: number;
  remove: number;
}

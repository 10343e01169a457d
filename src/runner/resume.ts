import { type BlockResult, type Checkpoint, checkpointFile, fingerprint, readCheckpoint } from './checkpoints.js';
import { MachineClients } from './clients.js';
import { type ErrorCode, exitCodeOf } from './errors.js';
import { diffSnapshots } from './state/diff.js';
import { type SnapshotNode, takeSnapshot } from './state/snapshot.js';
import type { Snapshot, SourceState, StateDiff } from './state/types.js';
import type { NodeTargets } from './targets/nodes.js';
import type { Target } from './targets/target.js';
import type { Book, Chapter } from './types.js';

/** Why `--from` cannot continue: its code says which (a missing or damaged checkpoint, drift, …). */
export class ResumeRefused extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    readonly code: Extract<ErrorCode, 'CHECKPOINT_MISSING' | 'CHECKPOINT_DAMAGED' | 'CHAPTER_CHANGED' | 'MACHINE_RECREATED' | 'MACHINE_DRIFTED'>,
    readonly diff?: StateDiff,
  ) {
    super(message);
    this.name = 'ResumeRefused';
    this.exitCode = exitCodeOf(code);
  }
}

export interface ResumePoint {
  checkpoint: Checkpoint;
  state: Record<string, unknown>;
  results: BlockResult[];
  /** Chapters whose runnable code changed since the checkpoint was taken (prose-only edits are fine). */
  changed: string[];
  /** Chapters whose prose changed (reported, not refused). */
  proseChanged: string[];
  /** The machine as the drift check saw it (none with --force). */
  live?: Snapshot;
}

/** The random suffix the ReplicaSet controller gives its pods' names (apimachinery's rand.String alphabet). */
const REPLICA_SUFFIX = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
/** A container of a pod in the snapshot: `container [NODE/]k8s_<container>_<pod>_<namespace>_…`. */
const CRI_CONTAINER = /^(container (?:[^/ ]+\/)?k8s_[^_]+_)([^_]+)_([^_]+)(_.*)$/;

/**
 * `pod ns/web-7d9c-x4k2q` → `pod ns/web-7d9c-*` when `replicaset ns/web-7d9c` exists, and the same for
 * its containers (`k8s_nginx_web-7d9c-x4k2q_ns_…`): a replica, not a name.
 */
function replicaKeys(replicasets: ReadonlySet<string>): (key: string) => string {
  const replica = (namespace: string, pod: string) => {
    const owner = REPLICA_SUFFIX.exec(pod)?.[1];
    return owner && replicasets.has(`${namespace}/${owner}`) ? `${owner}-*` : pod;
  };
  return (key) => {
    const pod = /^pod ([^/]+)\/(.+)$/.exec(key);
    if (pod) return `pod ${pod[1]}/${replica(pod[1] as string, pod[2] as string)}`;
    // cri-dockerd's k8s_<container>_<pod>_<namespace>_<uid>_<attempt> (`container k8s-worker/k8s_…` on another node).
    const container = CRI_CONTAINER.exec(key);
    if (container) {
      const [, head, name, namespace, tail] = container as unknown as [string, string, string, string, string];
      return `${head}${replica(namespace, name)}_${namespace}${tail}`;
    }
    return key;
  };
}

/**
 * What drift means: objects that appeared or vanished, static manifests, daemons that stopped, and
 * containers that stopped running. Fields that move on their own (pod phase, readiness, restart
 * counts, container attempts: a container the kubelet restarted is the same one) are left out, or
 * a cluster that kept converging or healed itself after its checkpoint would look drifted. A
 * ReplicaSet's pods count as replicas, not by name: a pod it replaced (deleted, evicted, scaled
 * down and up) is the same replica, and only how many there are is compared.
 */
export function driftView(snapshot: Snapshot): Snapshot {
  const kubernetes = snapshot.sources.kubernetes;
  const replicasets = new Set(
    kubernetes.available ? Object.keys(kubernetes.items).flatMap((key) => (key.startsWith('replicaset ') ? [key.slice('replicaset '.length)] : [])) : [],
  );
  const replica = replicaKeys(replicasets);
  const project = (
    source: SourceState,
    keep: (key: string, fields: Record<string, string>) => Record<string, string> | undefined,
    rekey: (key: string) => string = (key) => key,
    same: (key: string) => string = (key) => key,
  ): SourceState => {
    if (!source.available) return source;
    // First what is the same thing (`same`: one entry however many), then replicas (`rekey`: counted).
    const distinct = new Map<string, Record<string, string>>();
    for (const [key, fields] of Object.entries(source.items)) {
      const kept = keep(key, fields);
      const one = same(key);
      if (kept && !distinct.has(one)) distinct.set(one, kept);
    }
    const items: Record<string, Record<string, string>> = {};
    for (const [key, kept] of distinct) {
      const at = rekey(key);
      const earlier = items[at];
      // Two pods of one ReplicaSet (or their containers) fall on one key: count them.
      items[at] = earlier ? { ...earlier, replicas: String(Number(earlier.replicas ?? 1) + 1) } : kept;
    }
    return { available: true, items };
  };
  // cri-dockerd names a container k8s_<container>_<pod>_<namespace>_<uid>_<attempt>: a container the
  // kubelet restarted is the same container in a new attempt, the cluster healing itself, not drift.
  // The snapshot elides the uid, so a static pod's old and new sandboxes, both running for a moment
  // while the kubelet replaces the pod, share a key (the second gets ` (2)`): one container, too.
  const sameContainer = (key: string) => (CRI_CONTAINER.test(key) ? key.replace(/ \(\d+\)$/, '').replace(/_\d+$/, '') : key);
  return {
    sources: {
      kubernetes: project(kubernetes, (key) => (key.startsWith('event ') ? undefined : {}), replica),
      docker: project(
        snapshot.sources.docker,
        (_key, fields) => (fields.state?.startsWith('running') ? { image: fields.image ?? '' } : undefined),
        replica,
        sameContainer,
      ),
      manifests: snapshot.sources.manifests,
      daemons: project(snapshot.sources.daemons, (_key, fields) => ({ state: fields.state ?? '' })),
      // Interfaces and chains follow the pods (a restarted pod gets a new veth and KUBE-SEP
      // chain): shown as changes, never drift.
      network: { available: true, items: {} },
    },
    logs: {},
    timings: {},
  };
}

/**
 * What `--from` can know without the machine: the checkpoint before `from` exists, is whole, and
 * the chapters it covers have the same code (unless `allowChanged`: --force, or a target that goes
 * back to a machine snapshot instead). Run before the machine is touched. Undefined from the start.
 */
export async function readResumeCheckpoint(
  book: Book,
  targetName: string,
  from: Chapter,
  options: { allowChanged?: boolean } = {},
): Promise<{ checkpoint: Checkpoint; changed: string[]; proseChanged: string[]; previous: Chapter } | undefined> {
  const index = book.chapters.indexOf(from);
  if (index <= 0) return undefined;
  const previous = book.chapters[index - 1] as Chapter;
  const file = checkpointFile(book, targetName, previous.id);
  const read = await readCheckpoint(file);
  if (!read.ok) {
    if (/ENOENT/.test(read.problem)) {
      throw new ResumeRefused(
        `no checkpoint for ${previous.id} on target ${targetName}, so there is nothing to resume ${from.id} from; run the book up to it first: book run --to ${previous.number}`,
        'CHECKPOINT_MISSING',
      );
    }
    throw new ResumeRefused(
      `the checkpoint ${read.file} cannot be used: ${read.problem}. Run chapter ${previous.number} again (book run --from ${previous.number}) to replace it, or delete the file`,
      'CHECKPOINT_DAMAGED',
    );
  }
  const checkpoint = read.checkpoint;
  const changed: string[] = [];
  const proseChanged: string[] = [];
  for (const then of checkpoint.chapters) {
    const now = book.chapters.find((c) => c.id === then.id);
    if (!now) changed.push(then.id);
    else if (fingerprint(now).codeHash !== then.codeHash) changed.push(then.id);
    else if (now.hash !== then.hash) proseChanged.push(then.id);
  }
  if (changed.length > 0 && !options.allowChanged) {
    throw new ResumeRefused(
      `chapter(s) ${changed.join(', ')} changed since the checkpoint of ${previous.id} was taken (${checkpoint.createdAt}); the machine was built by the old code. Run from ${changed[0]} again, or pass --force`,
      'CHAPTER_CHANGED',
    );
  }
  return { checkpoint, changed, proseChanged, previous };
}

/** Loads the checkpoint before `from`, checks it, and compares the live machine with it. */
export async function prepareResume(
  book: Book,
  target: Target,
  from: Chapter,
  options: { force?: boolean; kubeconfig: string; nodes?: NodeTargets },
): Promise<ResumePoint | undefined> {
  const read = await readResumeCheckpoint(book, target.name, from, { allowChanged: options.force });
  if (!read) return undefined;
  const { checkpoint, changed, proseChanged, previous } = read;
  const identity = await target.identity();
  if (identity.instance !== checkpoint.machine.instance && !options.force) {
    throw new ResumeRefused(
      `the machine is not the one the checkpoint of ${previous.id} was taken on (it was recreated: ${checkpoint.machine.instance} → ${identity.instance}); run the book from the start, or pass --force`,
      'MACHINE_RECREATED',
    );
  }
  let live: Snapshot | undefined;
  if (checkpoint.snapshot && !options.force) {
    const clients = new MachineClients(target, options.kubeconfig);
    const nodes = await openNodes(options.nodes, options.kubeconfig);
    try {
      live = await takeSnapshot({ target, clients, nodes });
      const diff = diffSnapshots(driftView(checkpoint.snapshot), driftView(live));
      if (diff.changes.length > 0) {
        throw new ResumeRefused(
          `the machine drifted since the checkpoint of ${previous.id} (${checkpoint.createdAt}); run from an earlier chapter, or pass --force to continue anyway`,
          'MACHINE_DRIFTED',
          diff,
        );
      }
    } finally {
      await clients.close();
      for (const node of nodes) {
        await node.clients.close();
        await node.target.close();
      }
    }
  }
  // The drift check's snapshot is the machine as the run starts: the run's baseline too.
  return { checkpoint, state: structuredClone(checkpoint.state), results: checkpoint.results, changed, proseChanged, live };
}

/** The other nodes that answer, for the drift check's snapshot; one that is down is left out (its items then drift). */
async function openNodes(nodes: NodeTargets | undefined, kubeconfig: string): Promise<SnapshotNode[]> {
  const opened = await Promise.all(
    (nodes?.names ?? []).map(async (name) => {
      const target = await nodes?.open(name).catch(() => undefined);
      if (!target) return undefined;
      try {
        await target.connect();
        const node: SnapshotNode = { name, target, clients: new MachineClients(target, kubeconfig) };
        return node;
      } catch {
        await target.close();
        return undefined;
      }
    }),
  ).catch(() => [] as (SnapshotNode | undefined)[]);
  return opened.filter((node): node is SnapshotNode => node !== undefined);
}

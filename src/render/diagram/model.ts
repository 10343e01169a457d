import { clusterTree, type TreeContainer } from '../../runner/state/tree.js';
import type { Fields, Snapshot } from '../../runner/state/types.js';

// What a chapter's diagram shows, from one recorded snapshot (and the one before it, for what
// changed): the cluster tree of the terminal (nodes → daemons, pods → containers) plus the API
// objects that point at pods (Deployment → ReplicaSet → Pod, Service → endpoints) and who talks to
// the API server. Layout and drawing are layout.ts and svg.ts.

/** Since the previous diagram: `new` (not there before) or `changed` (there, with other fields). */
export type ChangeMark = 'new' | 'changed';

export interface DiagramContainer extends TreeContainer {
  change?: ChangeMark;
}

export interface DiagramPod {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  ip?: string;
  phase?: string;
  static: boolean;
  /** The pause container first, then the app containers. */
  containers: DiagramContainer[];
  change?: ChangeMark;
}

export interface DiagramDaemon {
  name: string;
  state: string;
  change?: ChangeMark;
}

export interface DiagramNode {
  name: string;
  ip?: string;
  ready?: string;
  daemons: DiagramDaemon[];
  pods: DiagramPod[];
  change?: ChangeMark;
}

export interface DiagramObject {
  /** `deployment default/nginx`, `replicaset default/nginx-d8b6`, `service default/nginx`. */
  key: string;
  /** One line under the name: `4/4 ready`, `10.96.0.10 · 53/UDP`. */
  detail: string;
  /** Pod keys an arrow goes to: a ReplicaSet's pods, a Service's endpoints. */
  pods: string[];
  change?: ChangeMark;
}

/** A Deployment with its ReplicaSets, or a ReplicaSet no Deployment owns. */
export interface DiagramWorkload {
  deployment?: DiagramObject;
  replicaSets: DiagramObject[];
}

/** Who talks to whom: clients of the API server (`api`), the API server to etcd (`store`). */
export interface DiagramTalk {
  from: { node: string; daemon: string } | { pod: string };
  to: string;
  kind: 'api' | 'store';
}

export interface ClusterDiagram {
  nodes: DiagramNode[];
  workloads: DiagramWorkload[];
  services: DiagramObject[];
  talks: DiagramTalk[];
  /** `pod default/nginx-…`, … : there before, gone now. */
  removed: string[];
}

/** The control plane's parts, known by their container's (or, before Docker shows it, their pod's) name. */
const ROLES = ['kube-apiserver', 'etcd', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy'] as const;
type Role = (typeof ROLES)[number];
const API_CLIENTS: Role[] = ['kube-scheduler', 'kube-controller-manager', 'kube-proxy'];

export function roleOf(pod: Pick<DiagramPod, 'namespace' | 'name' | 'containers'>): Role | undefined {
  // The control plane lives in kube-system: a reader's own etcd elsewhere is an app.
  if (pod.namespace !== 'kube-system') return undefined;
  return ROLES.find((r) => pod.containers.some((c) => c.name === r) || pod.name.startsWith(`${r}-`));
}

function podOrder(pod: DiagramPod, owner: string | undefined): string {
  const role = roleOf(pod);
  // The API server and etcd first (the arrow between them stays short), the rest of the control
  // plane next, then pods grouped by the ReplicaSet that owns them.
  const rank = role === 'kube-apiserver' ? 0 : role === 'etcd' ? 1 : pod.static ? 2 : 3;
  return `${rank} ${owner ?? ''} ${pod.key}`;
}

function kubeItems(snapshot: Snapshot, kind: string): [string, Fields][] {
  const source = snapshot.sources.kubernetes;
  if (!source?.available) return [];
  return Object.entries(source.items)
    .filter(([key]) => key.startsWith(`${kind} `))
    .map(([key, fields]) => [key.slice(kind.length + 1), fields]);
}

const nsOf = (key: string) => key.slice(0, key.indexOf('/'));
const bare = (key: string) => key.slice(key.indexOf('/') + 1);

/** The pods behind a Service: its EndpointSlices' pods, or (older transcripts) the one pod with each address. */
function servicePods(service: string, snapshot: Snapshot, pods: DiagramPod[]): string[] {
  const ns = nsOf(service);
  const slices = kubeItems(snapshot, 'endpointslice').filter(([key, f]) => nsOf(key) === ns && f.service === bare(service));
  const found = new Set<string>();
  for (const [, f] of slices) {
    if (f.pods) for (const name of f.pods.split(/[\s,]+/).filter(Boolean)) found.add(`${ns}/${name}`);
    else
      for (const ip of (f.endpoints ?? '').split(',').filter(Boolean)) {
        let withIp = pods.filter((p) => p.ip === ip && p.namespace === ns);
        // A sandbox Docker still has may carry an address the API server gave to a newer pod.
        if (withIp.length > 1) withIp = withIp.filter((p) => p.phase);
        if (withIp.length === 1) found.add((withIp[0] as DiagramPod).key);
      }
  }
  const known = new Set(pods.map((p) => p.key));
  return [...found].filter((k) => known.has(k)).sort();
}

function buildDiagram(snapshot: Snapshot): Omit<ClusterDiagram, 'removed'> {
  const owners = new Map<string, string>();
  const nodes: DiagramNode[] = clusterTree(snapshot).map((n) => {
    const pods = n.pods.map((p): DiagramPod => {
      if (p.owner) owners.set(p.name, p.owner.replace(/^replicaset /, ''));
      return {
        key: p.name,
        namespace: nsOf(p.name),
        name: bare(p.name),
        ...(p.ip ? { ip: p.ip } : {}),
        ...(p.phase ? { phase: p.phase } : {}),
        static: p.static,
        containers: [...(p.pause ? [p.pause] : []), ...p.containers],
      };
    });
    pods.sort((a, b) => podOrder(a, owners.get(a.key)).localeCompare(podOrder(b, owners.get(b.key))));
    // The kubelet last: its arrow to the API server leaves the row on the right, crossing nothing.
    const daemons = [...n.daemons].sort((a, b) => Number(a.name === 'kubelet') - Number(b.name === 'kubelet'));
    return { name: n.name, ...(n.ip ? { ip: n.ip } : {}), ...(n.ready ? { ready: n.ready } : {}), daemons, pods };
  });
  const allPods = nodes.flatMap((n) => n.pods);
  // Owned now: pods the API server lists (Docker may still hold the containers of deleted ones).
  const podsOf = (rs: string) => allPods.filter((p) => owners.get(p.key) === rs && p.phase).map((p) => p.key);

  const replicaSets = kubeItems(snapshot, 'replicaset');
  const workloads: DiagramWorkload[] = kubeItems(snapshot, 'deployment').map(([key, f]) => ({
    deployment: { key: `deployment ${key}`, detail: f.replicas ?? '', pods: [] },
    replicaSets: replicaSets
      .filter(([rs, rf]) => nsOf(rs) === nsOf(key) && rf.owner === bare(key))
      .map(([rs, rf]) => ({ key: `replicaset ${rs}`, detail: rf.replicas ?? '', pods: podsOf(rs) })),
  }));
  const owned = new Set(workloads.flatMap((w) => w.replicaSets.map((r) => r.key)));
  for (const [rs, rf] of replicaSets)
    if (!owned.has(`replicaset ${rs}`)) workloads.push({ replicaSets: [{ key: `replicaset ${rs}`, detail: rf.replicas ?? '', pods: podsOf(rs) }] });

  const services = kubeItems(snapshot, 'service').map(([key, f]) => ({
    key: `service ${key}`,
    detail: [f.clusterIP, f.ports].filter(Boolean).join(' · '),
    pods: servicePods(key, snapshot, allPods),
  }));

  const talks: DiagramTalk[] = [];
  // Only what runs talks: a stopped kubelet, a pending pod, a dead API server talk to no one.
  const runs = (p: DiagramPod) => p.containers.some((c) => c.name !== 'pause' && c.state.startsWith('running'));
  const apiServer = allPods.find((p) => roleOf(p) === 'kube-apiserver' && runs(p));
  if (apiServer) {
    for (const n of nodes)
      if (n.daemons.some((d) => d.name === 'kubelet' && d.state === 'running'))
        talks.push({ from: { node: n.name, daemon: 'kubelet' }, to: apiServer.key, kind: 'api' });
    for (const p of allPods.filter(runs)) {
      const role = roleOf(p);
      if (role && API_CLIENTS.includes(role)) talks.push({ from: { pod: p.key }, to: apiServer.key, kind: 'api' });
      if (role === 'etcd') talks.push({ from: { pod: apiServer.key }, to: p.key, kind: 'store' });
    }
  }
  return { nodes, workloads, services, talks };
}

/** Every drawn thing by a stable key, with what is shown of it: what `new` and `changed` compare. */
function drawnThings(d: Omit<ClusterDiagram, 'removed'>): Map<string, { sig: string; mark: (m: ChangeMark) => void }> {
  const things = new Map<string, { sig: string; mark: (m: ChangeMark) => void }>();
  const add = (key: string, sig: string, target: { change?: ChangeMark }) =>
    things.set(key, {
      sig,
      mark: (m) => {
        target.change = m;
      },
    });
  for (const n of d.nodes) {
    add(`node ${n.name}`, `${n.ip} ${n.ready}`, n);
    for (const daemon of n.daemons) add(`daemon ${n.name}/${daemon.name}`, daemon.state, daemon);
    for (const p of n.pods) {
      add(`pod ${p.key}`, `${n.name} ${p.ip} ${p.phase}`, p);
      for (const c of p.containers) add(`container ${p.key}/${c.name}`, `${c.state} ${c.earlier}`, c);
    }
  }
  for (const w of d.workloads) for (const o of [...(w.deployment ? [w.deployment] : []), ...w.replicaSets]) add(o.key, o.detail, o);
  for (const s of d.services) add(s.key, `${s.detail} ${s.pods.join(',')}`, s);
  return things;
}

/**
 * The diagram of `snapshot`, each thing marked `new` or `changed` against `previous` (the snapshot
 * of the diagram before; none: everything is new), and what `previous` had that is gone.
 */
export function clusterDiagram(snapshot: Snapshot, previous?: Snapshot): ClusterDiagram {
  const now = buildDiagram(snapshot);
  const before = previous ? drawnThings(buildDiagram(previous)) : new Map<string, { sig: string }>();
  const things = drawnThings(now);
  for (const [key, thing] of things) {
    const old = before.get(key);
    if (!old) thing.mark('new');
    else if (old.sig !== thing.sig) thing.mark('changed');
  }
  // Inside a new pod (or node) everything is new: the box says it once.
  for (const n of now.nodes) {
    if (n.change === 'new') for (const d of n.daemons) delete d.change;
    for (const p of n.pods) if (p.change === 'new') for (const c of p.containers) delete c.change;
  }
  const gone = (k: string) => !things.has(k) && !k.startsWith('container ') && !k.startsWith('daemon ') && !k.startsWith('node (');
  return { ...now, removed: [...before.keys()].filter(gone) };
}

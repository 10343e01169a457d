import { createHash } from 'node:crypto';
import { clusterTree, type TreeContainer, type TreeContext, type TreeDaemon } from '../../runner/state/tree.js';
import type { Fields, Snapshot } from '../../runner/state/types.js';

// What a chapter's diagram shows, from one recorded snapshot (and the one before it, for what
// changed): the cluster tree of the terminal (nodes → daemons, pods → containers) plus the API
// objects that point at pods (Deployment → ReplicaSet → Pod, Service → endpoints) and who talks to
// the API server — each arrow with the reason the recorded state gives for it. Layout and drawing
// are layout.ts and svg.ts; docs/diagrams.md says what is drawn and why.

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

export interface DiagramDaemon extends TreeDaemon {
  change?: ChangeMark;
}

export interface DiagramNode {
  name: string;
  ip?: string;
  ready?: string;
  daemons: DiagramDaemon[];
  pods: DiagramPod[];
  /** A node of the cluster; `false` for the first machine before it is one (chapter 0). */
  member: boolean;
  change?: ChangeMark;
}

export interface DiagramObject {
  /** `deployment default/nginx`, `replicaset default/nginx-d8b6`, `service default/nginx`. */
  key: string;
  /** One line under the name: `4/4 ready`, `10.96.0.10 · 53/UDP`. */
  detail: string;
  /** Pod keys an arrow goes to: a ReplicaSet's pods, a Service's endpoints. */
  pods: string[];
  /** Why each of those arrows is drawn, by pod key: what in the snapshot names the pod. */
  reasons: Record<string, string>;
  /** A ReplicaSet's owner (its ownerReference), for the Deployment → ReplicaSet arrow. */
  owner?: string;
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
  /** What in the recorded state says so: a flag, a kubeconfig, a registration, a watch. No reason, no arrow. */
  reason: string;
}

/** What Docker keeps of a pod the API server no longer has: drawn as such, never as a live pod. */
export interface DiagramLeftover {
  node: string;
  pod: string;
  containers: DiagramContainer[];
}

export interface ClusterDiagram {
  nodes: DiagramNode[];
  workloads: DiagramWorkload[];
  services: DiagramObject[];
  talks: DiagramTalk[];
  /** `pod default/nginx-…`, … : drawn before, gone now (said once, in the drawing right after). */
  removed: string[];
  /** Exited containers of deleted pods, by node: listed under the drawing, not drawn as pods. */
  leftovers: DiagramLeftover[];
  /** Machines that are not nodes of the cluster yet (no Node object, no kubelet, no pods): not drawn, named. */
  machines: { name: string; daemons: DiagramDaemon[] }[];
}

/** A file the book wrote (a `file=` block that ran before the snapshot): where the arrows' reasons are read. */
export interface WrittenFile {
  path: string;
  /** The node it was written on (default: the first). */
  node?: string;
  content: string;
  /** The block that wrote it. */
  block?: string;
}

/** What the run knew beyond the snapshot: its daemon events (tree.ts) and the files the book wrote. */
export interface DiagramContext extends TreeContext {
  files?: readonly WrittenFile[];
}

/** The control plane's parts, known by their container's (or, before Docker shows it, their pod's) name. */
const ROLES = ['kube-apiserver', 'etcd', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy', 'coredns'] as const;
type Role = (typeof ROLES)[number];

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

/** The pods behind a Service, each with the EndpointSlice entry that names it (or, older transcripts, its one address). */
function servicePods(service: string, snapshot: Snapshot, pods: DiagramPod[]): Record<string, string> {
  const ns = nsOf(service);
  const slices = kubeItems(snapshot, 'endpointslice').filter(([key, f]) => nsOf(key) === ns && f.service === bare(service));
  const found: Record<string, string> = {};
  for (const [slice, f] of slices) {
    if (f.pods) for (const name of f.pods.split(/[\s,]+/).filter(Boolean)) found[`${ns}/${name}`] ??= `EndpointSlice ${slice}: targetRef pod ${name}`;
    else
      for (const ip of (f.endpoints ?? '').split(',').filter(Boolean)) {
        let withIp = pods.filter((p) => p.ip === ip && p.namespace === ns);
        // A sandbox Docker still has may carry an address the API server gave to a newer pod.
        if (withIp.length > 1) withIp = withIp.filter((p) => p.phase);
        if (withIp.length === 1) found[(withIp[0] as DiagramPod).key] ??= `EndpointSlice ${slice}: endpoint ${ip}, the address of this pod alone`;
      }
  }
  const known = new Set(pods.map((p) => p.key));
  return Object.fromEntries(Object.entries(found).filter(([k]) => known.has(k)));
}

const sha12 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** A flag's value in a manifest's command/args (`- --kubeconfig=/x`, `- --kubeconfig` `- /x`). */
function flag(content: string, name: string): string | undefined {
  const m = new RegExp(`--${name}(?:=|["']?\\s*\\n\\s*-\\s*)["']?([^\\s"']+)`).exec(content);
  return m?.[1];
}

/** The manifests on each node whose content the book wrote: `node/file` → the file. */
function knownManifests(snapshot: Snapshot, files: readonly WrittenFile[], first: string): Map<string, WrittenFile> {
  const bySha = new Map(files.map((f) => [sha12(f.content), f]));
  const known = new Map<string, WrittenFile>();
  const source = snapshot.sources.manifests;
  if (!source?.available) return known;
  for (const [key, f] of Object.entries(source.items)) {
    if (!key.startsWith('manifest ') || !f.sha256) continue;
    const rest = key.slice('manifest '.length);
    const slash = rest.indexOf('/');
    const [node, file] = slash > 0 ? [rest.slice(0, slash), rest.slice(slash + 1)] : [first, rest];
    const written = bySha.get(f.sha256);
    if (written) known.set(`${node}/${file}`, written);
  }
  return known;
}

function buildDiagram(snapshot: Snapshot, context: DiagramContext): Omit<ClusterDiagram, 'removed'> {
  const owners = new Map<string, string>();
  const tree = clusterTree(snapshot, context);
  const first = tree[0]?.name ?? 'k8s-master';
  const leftovers: DiagramLeftover[] = [];
  const machines: ClusterDiagram['machines'] = [];
  const nodes: DiagramNode[] = [];
  for (const [i, n] of tree.entries()) {
    // The first machine is the book's from chapter 0; another is drawn once it is a node.
    if (!n.member && i > 0) {
      machines.push({ name: n.name, daemons: n.daemons });
      continue;
    }
    const pods: DiagramPod[] = [];
    for (const p of n.pods) {
      const containers = [...(p.pause ? [p.pause] : []), ...p.containers];
      if (p.deleted) {
        leftovers.push({ node: n.name, pod: p.name, containers });
        continue;
      }
      if (p.owner) owners.set(p.name, p.owner.replace(/^replicaset /, ''));
      pods.push({
        key: p.name,
        namespace: nsOf(p.name),
        name: bare(p.name),
        ...(p.ip ? { ip: p.ip } : {}),
        ...(p.phase ? { phase: p.phase } : {}),
        static: p.static,
        containers,
      });
    }
    pods.sort((a, b) => podOrder(a, owners.get(a.key)).localeCompare(podOrder(b, owners.get(b.key))));
    // The kubelet last: its arrow to the API server leaves the row on the right, crossing nothing.
    const daemons = [...n.daemons].sort((a, b) => Number(a.name === 'kubelet') - Number(b.name === 'kubelet'));
    nodes.push({ name: n.name, ...(n.ip ? { ip: n.ip } : {}), ...(n.ready ? { ready: n.ready } : {}), daemons, pods, member: n.member });
  }
  const allPods = nodes.flatMap((n) => n.pods);
  // Owned now: pods the API server lists (Docker may still hold the containers of deleted ones).
  const podsOf = (rs: string) => allPods.filter((p) => owners.get(p.key) === rs && p.phase).map((p) => p.key);
  const ownedBy = (rs: string) => {
    const pods = podsOf(rs);
    const why = `pod named ${bare(rs)}-xxxxx (the ReplicaSet's name and a 5-character suffix), listed by the API server`;
    return { pods, reasons: Object.fromEntries(pods.map((p) => [p, why])) };
  };

  const replicaSets = kubeItems(snapshot, 'replicaset');
  const rsObject = (rs: string, rf: Fields): DiagramObject => ({
    key: `replicaset ${rs}`,
    detail: rf.replicas ?? '',
    ...ownedBy(rs),
    ...(rf.owner ? { owner: rf.owner } : {}),
  });
  const workloads: DiagramWorkload[] = kubeItems(snapshot, 'deployment').map(([key, f]) => ({
    deployment: { key: `deployment ${key}`, detail: f.replicas ?? '', pods: [], reasons: {} },
    replicaSets: replicaSets.filter(([rs, rf]) => nsOf(rs) === nsOf(key) && rf.owner === bare(key)).map(([rs, rf]) => rsObject(rs, rf)),
  }));
  const owned = new Set(workloads.flatMap((w) => w.replicaSets.map((r) => r.key)));
  for (const [rs, rf] of replicaSets) if (!owned.has(`replicaset ${rs}`)) workloads.push({ replicaSets: [rsObject(rs, rf)] });

  const services = kubeItems(snapshot, 'service').map(([key, f]) => {
    const reasons = servicePods(key, snapshot, allPods);
    return { key: `service ${key}`, detail: [f.clusterIP, f.ports].filter(Boolean).join(' · '), pods: Object.keys(reasons).sort(), reasons };
  });

  return { nodes, workloads, services, talks: talksOf(snapshot, nodes, context, first), leftovers, machines };
}

/**
 * Who talks to the API server, and the API server to etcd, each with its reason in the recorded
 * state; no reason, no arrow. Only what runs talks: a stopped kubelet, a pod whose app containers
 * do not run, a dead API server talk to no one.
 */
function talksOf(snapshot: Snapshot, nodes: DiagramNode[], context: DiagramContext, first: string): DiagramTalk[] {
  const talks: DiagramTalk[] = [];
  const allPods = nodes.flatMap((n) => n.pods.map((p) => ({ pod: p, node: n.name })));
  const runs = (p: DiagramPod) => p.containers.some((c) => c.name !== 'pause' && c.state.startsWith('running'));
  const apiServer = allPods.find(({ pod }) => roleOf(pod) === 'kube-apiserver' && runs(pod))?.pod;
  if (!apiServer) return talks;
  const files = context.files ?? [];
  const manifests = knownManifests(snapshot, files, first);
  const manifestOf = (pod: DiagramPod, node: string) =>
    [...manifests].find(([key]) => key.startsWith(`${node}/`) && `${key.slice(node.length + 1).replace(/\.ya?ml$/, '')}-${node}` === pod.name);

  for (const n of nodes) {
    const kubelet = n.daemons.find((d) => d.name === 'kubelet' && d.state === 'running');
    if (!kubelet) continue;
    // Recorded since issue 29: the kubelet's own flag. Before: the Node object it registered.
    const reason = kubelet.kubeconfig
      ? `kubelet --kubeconfig=${kubelet.kubeconfig}`
      : n.ready !== undefined
        ? `Node ${n.name} in the API server (Ready=${n.ready}): registered and kept up to date by its kubelet`
        : undefined;
    if (reason) talks.push({ from: { node: n.name, daemon: 'kubelet' }, to: apiServer.key, kind: 'api', reason });
  }
  const corefile = files.find((f) => /\bCorefile\b/.test(f.content) && /^\s*kubernetes\s/m.test(f.content));
  for (const { pod, node } of allPods) {
    if (!runs(pod)) continue;
    const manifest = pod.static ? manifestOf(pod, node) : undefined;
    const role = roleOf(pod);
    if (manifest) {
      const [key, file] = manifest;
      const where = `manifest ${key.slice(node.length + 1)} on ${node}${file.block ? `, block ${file.block}` : ''}`;
      const container = role ?? bare(pod.key);
      const kubeconfig = flag(file.content, 'kubeconfig');
      const master = flag(file.content, 'master');
      if (pod !== apiServer && (kubeconfig || master))
        talks.push({
          from: { pod: pod.key },
          to: apiServer.key,
          kind: 'api',
          reason: `${container} ${kubeconfig ? `--kubeconfig=${kubeconfig}` : `--master=${master}`} (${where})`,
        });
      const etcdServers = flag(file.content, 'etcd-servers');
      if (etcdServers) {
        const etcd = allPods.find(({ pod: p }) => roleOf(p) === 'etcd' && runs(p))?.pod;
        if (etcd) talks.push({ from: { pod: pod.key }, to: etcd.key, kind: 'store', reason: `${container} --etcd-servers=${etcdServers} (${where})` });
      }
    }
    if (role === 'coredns' && corefile) {
      const plugin = /^\s*(kubernetes\s[^{\n]*)/m.exec(corefile.content)?.[1]?.trim();
      talks.push({
        from: { pod: pod.key },
        to: apiServer.key,
        kind: 'api',
        reason: `CoreDNS watches Services and EndpointSlices: its Corefile's "${plugin}" plugin (${corefile.path}${corefile.block ? `, block ${corefile.block}` : ''})`,
      });
    }
  }
  // The kubelets first, then store last: the order the legend lists them.
  return talks.sort((a, b) => Number(a.kind === 'store') - Number(b.kind === 'store'));
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
    add(`node ${n.name}`, `${n.ip} ${n.ready} ${n.member}`, n);
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
 * of the diagram before; none: everything is new), and what `previous` drew that is gone.
 * `context.now` / `context.before`: what the run knew at each (daemon events, files written).
 */
export function clusterDiagram(snapshot: Snapshot, previous?: Snapshot, context: { now?: DiagramContext; before?: DiagramContext } = {}): ClusterDiagram {
  const now = buildDiagram(snapshot, context.now ?? {});
  const before = previous ? drawnThings(buildDiagram(previous, context.before ?? context.now ?? {})) : new Map<string, { sig: string }>();
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

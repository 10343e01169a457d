import type { Fields, Snapshot } from './types.js';

// The cluster as a tree, from one snapshot: nodes → their daemons and pods → each pod's pause and
// app containers. Drawn at the end of each chapter (plain reporter, Ink UI); the site draws the
// same model (issue 17).

export interface TreeContainer {
  name: string;
  /** `running`, `exited (0)`, … (the latest attempt). */
  state: string;
  /** Earlier attempts (restarts) of the same container. */
  earlier: number;
}

export interface TreePod {
  /** `namespace/name`. */
  name: string;
  /**
   * What Docker keeps of a deleted pod: the API server answers and no longer lists it, and none of
   * its containers runs. Drawn as such (never as a live pod); the terminal tree says so.
   */
  deleted?: boolean;
  /**
   * The API server answers and does not list it, yet a container of it runs: a static pod whose
   * mirror pod is missing (deleted, or not written yet), or a pod being stopped after its deletion.
   */
  unlisted?: boolean;
  ip?: string;
  phase?: string;
  /** A static pod: the kubelet runs it from a manifest on the node. */
  static: boolean;
  /** `replicaset default/nginx-deployment-d8b657495`, when a ReplicaSet owns it. */
  owner?: string;
  /** The pause container (the sandbox), then the app containers. */
  pause?: TreeContainer;
  containers: TreeContainer[];
}

export interface TreeDaemon {
  name: string;
  state: string;
  /** The book's own daemon: how often it restarted it. */
  restarts?: string;
  /** Its `--kubeconfig` (recorded since issue 29): the API server it talks to. */
  kubeconfig?: string;
  /** Where the state comes from when not from the snapshot's item: the run's daemon events. */
  from?: string;
}

export interface TreeNode {
  name: string;
  ip?: string;
  ready?: string;
  daemons: TreeDaemon[];
  pods: TreePod[];
  /**
   * A node of the cluster: the API server lists it, a kubelet runs there or pods do. A machine the
   * book has not made a node yet (the second machine before chapter 10) is `false`.
   */
  member: boolean;
}

/**
 * What the run knew beyond the snapshot. `daemonEvents`: the last daemon event of each daemon so
 * far (`name` on the first node, `node/name` elsewhere → `started`, `restarted`, `adopted`,
 * `stopped`). Snapshots recorded before daemonItems merged a book daemon with the provisioned one
 * of the same name list only the provisioned pid file, stale (`stopped`) once the book replaced
 * it: a daemon the book started and has not stopped since is its own, running.
 */
export interface TreeContext {
  daemonEvents?: ReadonlyMap<string, string>;
}

const FIRST = 'k8s-master';

/** `container k8s-worker/k8s_…` → ['k8s-worker', 'k8s_…']; the first node's items have no prefix. */
function onNode(key: string, kind: 'container' | 'daemon' | 'manifest'): [string, string] | undefined {
  if (!key.startsWith(`${kind} `)) return undefined;
  const rest = key.slice(kind.length + 1);
  const slash = rest.indexOf('/');
  return slash > 0 && !rest.startsWith('k8s_') ? [rest.slice(0, slash), rest.slice(slash + 1)] : [FIRST, rest];
}

/** `k8s_nginx_nginx-deployment-…-6pcgh_default_…_1` → container nginx of pod default/nginx-…, attempt 1. */
function parseContainer(name: string): { container: string; pod: string; attempt: number } | undefined {
  const parts = name.split('_');
  if (parts.length < 6 || parts[0] !== 'k8s') return undefined;
  const [, container, pod, namespace] = parts;
  return { container: container as string, pod: `${namespace}/${pod}`, attempt: Number(parts.at(-1)) || 0 };
}

export function clusterTree(snapshot: Snapshot, context: TreeContext = {}): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  const node = (name: string) => {
    let n = nodes.get(name);
    if (!n) {
      n = { name, daemons: [], pods: [], member: false };
      nodes.set(name, n);
    }
    return n;
  };
  const items = (source: keyof Snapshot['sources']): [string, Fields][] => {
    const s = snapshot.sources[source];
    return s?.available ? Object.entries(s.items) : [];
  };
  const kube = items('kubernetes');
  for (const [key, f] of kube) if (key.startsWith('node ')) Object.assign(node(key.slice(5)), { ip: f.ip, ready: f.ready, member: true });
  const kubeAvailable = Boolean(snapshot.sources.kubernetes?.available);
  for (const [key, f] of items('daemons')) {
    const at = onNode(key, 'daemon');
    if (!at) continue;
    const [on, name] = at;
    const daemon: TreeDaemon = {
      name,
      state: f.state ?? '',
      ...(f.restarts ? { restarts: f.restarts } : {}),
      ...(f.kubeconfig ? { kubeconfig: f.kubeconfig } : {}),
    };
    // An older snapshot's provisioned item (no `restarts`) under a name the book took over.
    const event = f.restarts === undefined ? context.daemonEvents?.get(on === FIRST ? name : `${on}/${name}`) : undefined;
    const byEvent = event === 'stopped' ? 'stopped' : event ? 'running' : undefined;
    if (byEvent && byEvent !== daemon.state) {
      daemon.from = `the book's own ${name} (${event} by the book; the machine's pid file says ${daemon.state})`;
      daemon.state = byEvent;
    }
    node(on).daemons.push(daemon);
    if (name === 'kubelet') node(on).member = true;
  }
  const manifests = new Set(
    items('manifests')
      .map(([key]) => onNode(key, 'manifest'))
      .filter((m): m is [string, string] => Boolean(m))
      .map(([n, file]) => `${file.replace(/\.ya?ml$/, '')}-${n}`),
  );
  const replicaSets = kube.filter(([k]) => k.startsWith('replicaset ')).map(([k]) => k.slice('replicaset '.length));
  const pods = new Map<string, TreePod & { node?: string }>();
  const pod = (name: string) => {
    let p = pods.get(name);
    if (!p) {
      const bare = name.slice(name.indexOf('/') + 1);
      // A ReplicaSet names its pods `<rs>-<5 characters>`: that shape, so `web` does not claim `web-api-7c9f8-abcde`.
      const owner = replicaSets.find((rs) => name.startsWith(`${rs}-`) && /^[a-z0-9]{5}$/.test(name.slice(rs.length + 1)));
      p = { name, static: manifests.has(bare), containers: [], ...(owner ? { owner: `replicaset ${owner}` } : {}) };
      pods.set(name, p);
    }
    return p;
  };
  for (const [key, f] of kube) {
    if (!key.startsWith('pod ')) continue;
    const p = pod(key.slice(4));
    Object.assign(p, { ip: f.ip, phase: f.phase, node: f.node });
  }
  // Every attempt of each container (a restart is a new container, _1, _2…): the latest is shown.
  const attempts = new Map<string, { pod: TreePod; container: string; runs: { attempt: number; state: string }[] }>();
  for (const [key, f] of items('docker')) {
    const at = onNode(key, 'container');
    const parsed = at && parseContainer(at[1]);
    if (!at || !parsed) continue;
    const p = pod(parsed.pod);
    p.node ??= at[0];
    if (parsed.container === 'POD') p.ip ??= f.ip;
    const id = `${at[0]} ${parsed.pod} ${parsed.container}`;
    const entry = attempts.get(id) ?? { pod: p, container: parsed.container, runs: [] };
    entry.runs.push({ attempt: parsed.attempt, state: f.state ?? '' });
    attempts.set(id, entry);
  }
  for (const { pod: p, container, runs } of attempts.values()) {
    const newest = runs.reduce((a, b) => (b.attempt > a.attempt ? b : a));
    const shown: TreeContainer = { name: container === 'POD' ? 'pause' : container, state: newest.state, earlier: runs.length - 1 };
    if (container === 'POD') p.pause = shown;
    else p.containers.push(shown);
  }
  for (const p of pods.values()) {
    const { node: on, ...rest } = p;
    const listed = kube.some(([k]) => k === `pod ${p.name}`);
    const runs = [p.pause, ...p.containers].some((c) => c?.state.startsWith('running'));
    if (kubeAvailable && !listed) rest[runs ? 'unlisted' : 'deleted'] = true;
    const n = node(on ?? '(not scheduled)');
    n.pods.push(rest);
    if (!rest.deleted) n.member = true;
  }
  const order = (n: TreeNode) => (n.name === FIRST ? 0 : n.name.startsWith('(') ? 2 : 1);
  const tree = [...nodes.values()].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  for (const n of tree) {
    n.pods.sort((a, b) => a.name.localeCompare(b.name));
    for (const p of n.pods) p.containers.sort((a, b) => a.name.localeCompare(b.name));
  }
  return tree.filter((n) => n.daemons.length > 0 || n.pods.length > 0 || n.ip);
}

/** The tree as text: `├─`/`└─` lines, nodes, then their pods, then each pod's containers. */
export function formatClusterTree(tree: TreeNode[], options: { color?: boolean } = {}): string[] {
  const paint = (code: number, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const stateColor = (state: string) => paint(state.startsWith('running') || state === 'Running' ? 32 : state.startsWith('exited') ? 90 : 33, state);
  const lines: string[] = [];
  for (const n of tree) {
    const daemons = n.daemons.map((d) => `${d.name}${d.state === 'running' ? '' : ` (${d.state})`}`).join(', ');
    const machine = n.member ? '' : '  (a machine, not a node yet: no kubelet)';
    lines.push(`${paint(1, n.name)}${n.ip ? `  ${n.ip}` : ''}${n.ready ? `  Ready=${n.ready}` : ''}${daemons ? `  · ${daemons}` : ''}${machine}`);
    n.pods.forEach((p, i) => {
      const last = i === n.pods.length - 1;
      const marks = p.deleted
        ? 'deleted: Docker keeps its exited containers'
        : [p.ip, p.phase, p.static ? 'static' : undefined, p.owner ? `← ${p.owner}` : undefined, p.unlisted ? unlistedMark(p, n) : undefined]
            .filter(Boolean)
            .join('  ');
      lines.push(`${last ? '└─' : '├─'} pod ${p.name}${marks ? `  ${marks}` : ''}`);
      const children = [...(p.pause ? [p.pause] : []), ...p.containers];
      children.forEach((c, j) => {
        const end = j === children.length - 1;
        lines.push(`${last ? '   ' : '│  '}${end ? '└─' : '├─'} ${c.name}  ${stateColor(c.state)}${c.earlier ? `  (+${c.earlier} earlier)` : ''}`);
      });
    });
  }
  return lines;
}

/** Why a running pod is not in the API server, as far as the snapshot tells. */
function unlistedMark(p: TreePod, n: TreeNode): string {
  if (!p.static) return 'not in the API server, yet its containers run';
  // A node the API server does not list (its kubelet runs standalone, chapter 2) writes no mirror pods.
  if (!n.ready) return 'not in the API server: its kubelet has not joined it, so no mirror pod';
  return 'not in the API server: no mirror pod (the kubelet writes it again)';
}

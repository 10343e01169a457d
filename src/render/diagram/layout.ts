import { appendAll, maxOf } from '../../runner/arrays.js';
import type { ClusterDiagram, DiagramContainer, DiagramDaemon, DiagramNode, DiagramObject, DiagramPod, DiagramTalk, DiagramWorkload } from './model.js';

// Where everything of a diagram goes. The shape is fixed by what is drawn (a node holds pods, a pod
// holds containers), so this is a grid with channels for the arrows rather than a general graph
// layout: arrows run in lanes between the boxes and never cross one (docs/diagrams.md says why).
//
//   stacked (phones): lanes on the left, then the API objects, then the nodes one under another;
//   side (wide screens): the nodes side by side with a bus above them; the API objects left of a
//   single node, above two or more (so two nodes fit a text column of ~900 px side by side).

export type Mode = 'stacked' | 'side';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Chip extends Box {
  label: string;
  state: string;
  /** More about the state (a daemon's, from the run's events): the chip's tooltip. */
  note?: string;
  change?: DiagramDaemon['change'];
  container?: DiagramContainer;
}

export interface PlacedPod extends Box {
  pod: DiagramPod;
  name: string;
  meta: string;
  chips: Chip[];
}

export interface PlacedNode extends Box {
  node: DiagramNode;
  title: string;
  daemons: Chip[];
  pods: PlacedPod[];
}

export interface ObjectRow {
  object: DiagramObject;
  kind: 'Deployment' | 'ReplicaSet' | 'Service';
  name: string;
  /** The row's top, inside its box. */
  y: number;
}

export interface PlacedObject extends Box {
  rows: ObjectRow[];
  /** Deployment → ReplicaSet arrows inside the box, each with its reason (the ReplicaSet's ownerReference). */
  inner: { points: [number, number][]; from: string; to: string; reason: string }[];
}

export interface Edge {
  kind: 'owns' | 'routes' | 'api' | 'store';
  from: string;
  to: string;
  points: [number, number][];
  /** Why the arrow is drawn (model.ts): its tooltip and the figure's list of arrows. */
  reason?: string;
}

export interface DiagramLayout {
  mode: Mode;
  width: number;
  height: number;
  objects: PlacedObject[];
  nodes: PlacedNode[];
  edges: Edge[];
}

/** Monospace text: every character is 0.6 em wide, so widths are known without a browser. */
export const FONT = 11;
export const SMALL = 10;
export const textWidth = (text: string, size = FONT) => text.length * size * 0.6;
const MAX_CHARS = 44;
export const DETAIL_CHARS = 52;
/** Room after a label for its `changed` tag. */
const TAG = 50;
export const clip = (text: string, max = MAX_CHARS) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const GAP = 12;
const NODE_PAD = 10;
const NODE_HEAD = 52;
const RIGHT_GUTTER = 26;
const LANE = 7;
const ROW = 34;
const CHIP_H = 16;
const POD_HEAD = 36;

/**
 * Chips in rows from (x, y): a row wraps when the next chip would pass `width`; returns the chips
 * and how many rows they took (0 for none).
 */
function placeChips(items: Omit<Chip, keyof Box>[], x: number, y: number, width: number): { chips: Chip[]; rows: number } {
  let dx = 0;
  let row = 0;
  const chips = items.map((item) => {
    const w = textWidth(item.label, SMALL) + 10;
    if (dx > 0 && dx + w > width) {
      dx = 0;
      row += 1;
    }
    const chip = { ...item, x: x + dx, y: y + row * (CHIP_H + 4), w, h: CHIP_H };
    dx += w + 4;
    return chip;
  });
  return { chips, rows: items.length ? row + 1 : 0 };
}

const podMeta = (p: DiagramPod) => clip([p.namespace, p.ip, p.phase, p.static ? 'static' : undefined].filter(Boolean).join(' · '), 52);
const containerLabel = (c: DiagramContainer) => clip(`${c.name}${c.earlier ? ` ×${c.earlier + 1}` : ''}`, 40);
const nodeTitle = (n: DiagramNode) =>
  [n.name, n.ip, n.ready ? `Ready=${n.ready}` : undefined, n.member ? undefined : '(a machine, not a node yet)'].filter(Boolean).join('  ');

function placePod(pod: DiagramPod, x: number, y: number, w: number): PlacedPod {
  const { chips, rows } = placeChips(
    pod.containers.map((c) => ({ label: containerLabel(c), state: c.state, container: c, ...(c.change ? { change: c.change } : {}) })),
    x + 8,
    y + POD_HEAD,
    w - 16,
  );
  return { pod, name: clip(pod.name), meta: podMeta(pod), x, y, w, h: POD_HEAD + rows * (CHIP_H + 4) + 4, chips };
}

function placeNode(node: DiagramNode, x: number, y: number, podWidth: number, width: number): PlacedNode {
  const { chips: daemons, rows } = placeChips(
    node.daemons.map((d) => ({ label: d.name, state: d.state, ...(d.from ? { note: d.from } : {}), ...(d.change ? { change: d.change } : {}) })),
    x + NODE_PAD,
    y + 26,
    podWidth,
  );
  // The header holds one row of daemons; more push the pods down.
  let top = y + NODE_HEAD + (Math.max(1, rows) - 1) * (CHIP_H + 4);
  const pods = node.pods.map((p) => {
    const placed = placePod(p, x + NODE_PAD, top, podWidth);
    top += placed.h + GAP;
    return placed;
  });
  const h = Math.max(NODE_HEAD, top - y - GAP + NODE_PAD);
  return { node, title: nodeTitle(node), x, y, w: width, h, daemons, pods };
}

function objectRows(w: DiagramWorkload): ObjectRow[] {
  const rows: ObjectRow[] = [];
  if (w.deployment) rows.push({ object: w.deployment, kind: 'Deployment', name: clip(w.deployment.key.slice('deployment '.length)), y: 0 });
  for (const rs of w.replicaSets) rows.push({ object: rs, kind: 'ReplicaSet', name: clip(rs.key.slice('replicaset '.length)), y: 0 });
  return rows;
}

/** One box's rows each: a Deployment with its ReplicaSets, a bare ReplicaSet, a Service. */
function objectGroups(d: ClusterDiagram): ObjectRow[][] {
  return [
    ...d.workloads.map(objectRows),
    ...d.services.map((s) => [{ object: s, kind: 'Service' as const, name: clip(s.key.slice('service '.length)), y: 0 }]),
  ];
}

function placeObjects(d: ClusterDiagram, x: number, y: number, w: number): PlacedObject[] {
  const groups = objectGroups(d);
  let top = y;
  return groups.map((rows) => {
    rows.forEach((r, i) => {
      r.y = top + 6 + i * ROW;
    });
    const box: PlacedObject = { x, y: top, w, h: 8 + rows.length * ROW, rows, inner: [] };
    const dep = rows.find((r) => r.kind === 'Deployment');
    // Deployment → each ReplicaSet: an elbow down the box's left side.
    if (dep)
      for (const r of rows.filter((row) => row.kind === 'ReplicaSet'))
        box.inner.push({
          points: [
            [x + 10, dep.y + 28],
            [x + 10, r.y + 10],
            [x + 18, r.y + 10],
          ],
          from: dep.object.key,
          to: r.object.key,
          reason: `ReplicaSet ${r.name} has Deployment ${r.object.owner ?? dep.name} as its controller (ownerReferences)`,
        });
    top += box.h + 10;
    return box;
  });
}

interface Lanes {
  /** Lane x of a source (a ReplicaSet or a Service with pods) in the channel left of node column c. */
  laneX: (source: number, column: number) => number;
  busY: (source: number) => number;
  apiBusY: number;
}

function sourcesOf(d: ClusterDiagram): DiagramObject[] {
  return [...d.workloads.flatMap((w) => w.replicaSets), ...d.services].filter((o) => o.pods.length > 0);
}

function route(lanes: Lanes, exit: [number, number], source: number, column: number, target: [number, number]): [number, number][] {
  const l0 = lanes.laneX(source, 0);
  if (column === 0) return [exit, [l0, exit[1]], [l0, target[1]], target];
  const lc = lanes.laneX(source, column);
  const bus = lanes.busY(source);
  return [exit, [l0, exit[1]], [l0, bus], [lc, bus], [lc, target[1]], target];
}

/** To the API server (or etcd): along the starting node's right channel, over the bus if it is another column. */
function talkRoute(start: [number, number], fromX: number, toX: number, apiBusY: number, target: [number, number]): [number, number][] {
  if (fromX === toX) return [start, [fromX, start[1]], [fromX, target[1]], target];
  return [start, [fromX, start[1]], [fromX, apiBusY], [toX, apiBusY], [toX, target[1]], target];
}

export function layoutDiagram(d: ClusterDiagram, mode: Mode): DiagramLayout {
  const allPods = d.nodes.flatMap((n) => n.pods);
  const podWidth = maxOf(
    allPods.map(
      (p) =>
        maxOf(
          p.containers.map((c) => textWidth(containerLabel(c), SMALL) + 10),
          Math.max(textWidth(clip(p.name)) + TAG, textWidth(podMeta(p), SMALL)),
        ) + 16,
    ),
    200,
  );
  const nodeWidth = maxOf(
    d.nodes.map((n) => textWidth(nodeTitle(n), 12) + TAG + 2 * NODE_PAD + RIGHT_GUTTER),
    NODE_PAD + podWidth + RIGHT_GUTTER,
  );
  const rows = objectGroups(d).flat();
  // Room for the indent under a Deployment and for a `changed` tag; the detail line clipped.
  const objectWidth = maxOf(
    rows.map((r) => Math.max(textWidth(`${r.kind} `, SMALL) + textWidth(r.name) + TAG, textWidth(clip(r.object.detail, DETAIL_CHARS), SMALL)) + 30),
    180,
  );
  const sources = sourcesOf(d);
  const gutter = sources.length ? sources.length * LANE + 12 : 8;
  const columns = mode === 'side' ? d.nodes.length : 1;
  const hasObjects = d.workloads.length + d.services.length > 0;

  let objects: PlacedObject[];
  let nodeX: (column: number) => number;
  let nodesTop: number;
  let laneX: (source: number, column: number) => number;
  let exitX: number;
  let busY: (source: number) => number = (s) => 12 + s * LANE;
  const busH = columns > 1 ? sources.length * LANE + 22 : 0;
  const bottomOf = (boxes: PlacedObject[]) => (boxes.at(-1) ? (boxes.at(-1) as PlacedObject).y + (boxes.at(-1) as PlacedObject).h : 0);
  if (mode === 'stacked') {
    const x = gutter;
    objects = placeObjects(d, x, 8, Math.max(objectWidth, nodeWidth));
    nodesTop = bottomOf(objects) + 18;
    nodeX = () => x;
    laneX = (s) => 6 + s * LANE;
    exitX = x;
  } else if (columns > 1 && hasObjects) {
    // Objects on top, lanes on their left as in the stacked drawing; the bus runs between them and the nodes.
    const x = gutter;
    objects = placeObjects(d, x, 8, objectWidth);
    const busTop = bottomOf(objects) + 2;
    busY = (s) => busTop + 12 + s * LANE;
    nodesTop = busTop + busH;
    nodeX = (c) => x + c * (nodeWidth + gutter);
    laneX = (s, c) => (c === 0 ? 6 + s * LANE : nodeX(c) - gutter + 6 + s * LANE);
    exitX = x;
  } else {
    objects = hasObjects ? placeObjects(d, 6, 8, objectWidth) : [];
    const first = (hasObjects ? 6 + objectWidth : 0) + gutter;
    nodeX = (c) => first + c * (nodeWidth + gutter);
    nodesTop = 8 + busH;
    laneX = (s, c) => nodeX(c) - gutter + 6 + s * LANE;
    exitX = 6 + objectWidth;
  }

  let stackTop = nodesTop;
  const nodes = d.nodes.map((n, i) => {
    const column = mode === 'side' ? i : 0;
    const placed = placeNode(n, nodeX(column), mode === 'side' ? nodesTop : stackTop, podWidth, nodeWidth);
    stackTop += placed.h + 18;
    return placed;
  });
  const lanes: Lanes = { laneX, busY, apiBusY: nodesTop - 8 };

  const podAt = new Map<string, { pod: PlacedPod; column: number; node: PlacedNode }>();
  nodes.forEach((n, i) => {
    for (const p of n.pods) podAt.set(p.pod.key, { pod: p, column: mode === 'side' ? i : 0, node: n });
  });
  const edges: Edge[] = [];
  const placedRows = objects.flatMap((o) => o.rows);
  // Two Services of one pod end a little apart, so both arrowheads show.
  const servicesIn = new Map<string, number>();
  sources.forEach((source, s) => {
    const row = placedRows.find((r) => r.object === source);
    if (!row) return;
    const kind = row.kind === 'Service' ? 'routes' : 'owns';
    for (const key of source.pods) {
      const at = podAt.get(key);
      if (!at) continue;
      const nth = kind === 'routes' ? (servicesIn.get(key) ?? 0) : 0;
      if (kind === 'routes') servicesIn.set(key, nth + 1);
      const y = at.pod.y + (kind === 'owns' ? 12 : Math.min(26 + nth * 5, at.pod.h - 6));
      const reason = source.reasons[key];
      edges.push({ kind, from: source.key, to: key, points: route(lanes, [exitX, row.y + 14], s, at.column, [at.pod.x, y]), ...(reason ? { reason } : {}) });
    }
  });
  const trunkX = (n: PlacedNode) => n.x + NODE_PAD + podWidth + 8;
  const storeX = (n: PlacedNode) => trunkX(n) + 9;
  for (const talk of d.talks) appendAll(edges, talkEdge(talk, podAt, nodes, trunkX, storeX, lanes.apiBusY));

  const bottom = maxOf([...nodes.map((n) => n.y + n.h), ...objects.map((o) => o.y + o.h)], 40);
  const right = maxOf([...nodes.map((n) => n.x + n.w), ...objects.map((o) => o.x + o.w)], 200);
  return { mode, width: Math.ceil(right + 6), height: Math.ceil(bottom + 8), objects, nodes, edges };
}

function talkEdge(
  talk: DiagramTalk,
  podAt: Map<string, { pod: PlacedPod; node: PlacedNode }>,
  nodes: PlacedNode[],
  trunkX: (n: PlacedNode) => number,
  storeX: (n: PlacedNode) => number,
  apiBusY: number,
): Edge[] {
  const to = podAt.get(talk.to);
  if (!to) return [];
  const lane = talk.kind === 'store' ? storeX : trunkX;
  // The etcd arrow low on both boxes (a pod without containers drawn is short), the API's high.
  const dy = (p: PlacedPod) => (talk.kind === 'store' ? Math.min(44, p.h - 8) : 14);
  const target: [number, number] = [to.pod.x + to.pod.w, to.pod.y + dy(to.pod)];
  let start: [number, number];
  let from: PlacedNode;
  let label: string;
  if ('pod' in talk.from) {
    const at = podAt.get(talk.from.pod);
    if (!at) return [];
    start = [at.pod.x + at.pod.w, at.pod.y + dy(at.pod)];
    from = at.node;
    label = talk.from.pod;
  } else {
    const { node, daemon } = talk.from;
    const n = nodes.find((x) => x.node.name === node);
    const chip = n?.daemons.find((c) => c.label === daemon);
    if (!n || !chip) return [];
    start = [chip.x + chip.w, chip.y + chip.h / 2];
    from = n;
    label = `${node}/${daemon}`;
  }
  return [{ kind: talk.kind, from: label, to: talk.to, points: talkRoute(start, lane(from), lane(to.node), apiBusY, target), reason: talk.reason }];
}

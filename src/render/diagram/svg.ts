import { escapeHtml } from '../html.js';
import {
  type Chip,
  clip,
  DETAIL_CHARS,
  type DiagramLayout,
  type Edge,
  FONT,
  type PlacedNode,
  type PlacedObject,
  type PlacedPod,
  SMALL,
  textWidth,
} from './layout.js';
import type { ChangeMark } from './model.js';

// A laid-out diagram as inline SVG. Colours come from the page's stylesheet (classes only), so the
// same markup follows the light and dark schemes and prints in black on white.

/** Below this scale the text is too small to read: the drawing scrolls sideways instead. */
export const MIN_SCALE = 0.8;
const n = (v: number) => Math.round(v * 10) / 10;
const attr = (v: string) => escapeHtml(v);
const cls = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(' ');

export function stateClass(state: string): string {
  if (state.startsWith('running') || state === 'Running') return 'state-running';
  if (state.startsWith('exited') || state === 'Succeeded') return 'state-exited';
  return 'state-other';
}

/** A `new`/`changed` tag right after a label (layout.ts keeps room for it): the highlight also reads without colour. */
function tag(change: ChangeMark | undefined, label: string, x: number, size: number, baseline: number): string {
  if (!change) return '';
  return `<text class="tag" x="${n(x + textWidth(label, size) + 6)}" y="${n(baseline)}" font-size="${SMALL - 1}">${change}</text>`;
}

function chip(c: Chip, kind: 'daemon' | 'ctr', data: string): string {
  const pause = kind === 'ctr' && c.label.startsWith('pause');
  const title = `${kind === 'daemon' ? 'daemon' : pause ? 'sandbox' : 'container'} ${c.label}: ${c.state}${c.note ? ` (${c.note})` : ''}${c.change ? `, ${c.change}` : ''}`;
  return `<g class="${cls(kind, pause && 'pause', stateClass(c.state), c.change)}" ${data}><title>${attr(title)}</title><rect x="${n(c.x)}" y="${n(c.y)}" width="${n(c.w)}" height="${c.h}" rx="3"/><text x="${n(c.x + 5)}" y="${n(c.y + 12)}" font-size="${SMALL}">${attr(c.label)}</text></g>`;
}

function nodeSvg(node: PlacedNode): string {
  const daemons = node.daemons.map((d) => chip(d, 'daemon', `data-daemon="${attr(d.label)}"`)).join('');
  return `<g class="${cls('node', node.node.change)}" data-node="${attr(node.node.name)}"><rect class="node-box" x="${n(node.x)}" y="${n(node.y)}" width="${n(node.w)}" height="${n(node.h)}" rx="6"/><text class="node-title" x="${n(node.x + 10)}" y="${n(node.y + 17)}" font-size="12">${attr(node.title)}</text>${tag(node.node.change, node.title, node.x + 10, 12, node.y + 17)}${daemons}</g>`;
}

function podSvg(p: PlacedPod, node: string): string {
  const chips = p.chips.map((c) => chip(c, 'ctr', `data-container="${attr(c.container?.name ?? c.label)}"`)).join('');
  return `<g class="${cls('pod', p.pod.static && 'static', p.pod.change)}" data-pod="${attr(p.pod.key)}" data-node="${attr(node)}"><rect class="pod-box" x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" rx="4"/><text class="pod-name" x="${n(p.x + 8)}" y="${n(p.y + 15)}" font-size="${FONT}">${attr(p.name)}</text><text class="pod-meta" x="${n(p.x + 8)}" y="${n(p.y + 29)}" font-size="${SMALL}">${attr(p.meta)}</text>${tag(p.pod.change, p.name, p.x + 8, FONT, p.y + 15)}${chips}</g>`;
}

function objectSvg(o: PlacedObject): string {
  const rows = o.rows
    .map((r) => {
      const x = o.x + (r.kind === 'ReplicaSet' && o.rows[0]?.kind === 'Deployment' ? 22 : 8);
      const nameX = x + textWidth(`${r.kind} `, SMALL);
      return `<g class="${cls('object', r.kind.toLowerCase(), r.object.change)}" data-object="${attr(r.object.key)}"><text class="kind" x="${n(x)}" y="${n(r.y + 12)}" font-size="${SMALL}">${r.kind}</text><text class="obj-name" x="${n(nameX)}" y="${n(r.y + 12)}" font-size="${FONT}">${attr(r.name)}</text><text class="obj-detail" x="${n(x)}" y="${n(r.y + 26)}" font-size="${SMALL}">${attr(clip(r.object.detail, DETAIL_CHARS))}</text>${tag(r.object.change, r.name, nameX, FONT, r.y + 12)}</g>`;
    })
    .join('');
  const inner = o.inner.map((e) => edgePaths({ kind: 'owns', ...e })).join('');
  return `<g class="objects"><rect class="object-box" x="${n(o.x)}" y="${n(o.y)}" width="${n(o.w)}" height="${n(o.h)}" rx="4"/>${inner}${rows}</g>`;
}

/** The line and, at its end, an arrowhead pointing along the last segment. */
function edgePaths(e: Edge): string {
  const d = e.points.map(([x, y], i) => `${i ? 'L' : 'M'}${n(x)} ${n(y)}`).join(' ');
  const [x1, y1] = e.points.at(-2) ?? [0, 0];
  const [x2, y2] = e.points.at(-1) ?? [0, 0];
  const dx = Math.sign(x2 - x1);
  const dy = Math.sign(y2 - y1);
  const head = `M${n(x2)} ${n(y2)} L${n(x2 - 6 * dx - 3.5 * dy)} ${n(y2 - 6 * dy + 3.5 * dx)} L${n(x2 - 6 * dx + 3.5 * dy)} ${n(y2 - 6 * dy - 3.5 * dx)} Z`;
  const data = e.from ? ` data-from="${attr(e.from)}" data-to="${attr(e.to)}"` : '';
  const why = e.reason ? `<title>${attr(`${e.from} → ${e.to}: ${e.reason}`)}</title>` : '';
  return `<g class="edge ${e.kind}"${data}${e.reason ? ` data-reason="${attr(e.reason)}"` : ''}>${why}<path class="line" d="${d}"/><path class="head" d="${head}"/></g>`;
}

const EDGE_WORDS: Record<Edge['kind'], string> = { owns: 'owns', routes: 'routes to', api: 'talks to the API server', store: 'stores in etcd' };
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the drawing shows, in words: its accessible name (short) and description (every node, pod and arrow). */
export function describeLayout(layout: DiagramLayout, title: string): { label: string; description: string } {
  const pods = layout.nodes.flatMap((n) => n.pods);
  const label = `${title}: ${plural(layout.nodes.length, 'node')} (${layout.nodes.map((n) => n.node.name).join(', ')}), ${plural(pods.length, 'pod')}, ${plural(layout.edges.length, 'arrow')}`;
  const state = (c: { name: string; state: string }) => `${c.name} ${c.state}`;
  const nodes = layout.nodes.map((n) => {
    const head = `Node ${n.title.replace(/ {2}/g, ', ')}${n.node.change ? ` (${n.node.change})` : ''}; daemons: ${n.node.daemons.map(state).join(', ') || 'none'}.`;
    const podLines = n.pods.map(
      (p) =>
        `Pod ${p.pod.key}${p.pod.phase ? ` ${p.pod.phase}` : ''}${p.pod.ip ? ` at ${p.pod.ip}` : ''}${p.pod.static ? ', static' : ''}${p.pod.change ? `, ${p.pod.change}` : ''}: ${p.pod.containers.map(state).join(', ')}.`,
    );
    return [head, ...podLines].join(' ');
  });
  const objects = layout.objects.flatMap((o) =>
    o.rows.map((r) => `${r.kind} ${r.name}${r.object.detail ? ` (${r.object.detail})` : ''}${r.object.change ? `, ${r.object.change}` : ''}.`),
  );
  const arrows = [...layout.objects.flatMap((o) => o.inner.map((e) => ({ ...e, kind: 'owns' as const }))), ...layout.edges].map(
    (e) => `${e.from} ${EDGE_WORDS[e.kind]}${e.kind === 'owns' || e.kind === 'routes' ? ` ${e.to}` : ` (${e.to})`}${e.reason ? `, because ${e.reason}` : ''}.`,
  );
  const description = [...nodes, ...objects, ...(arrows.length ? [`Arrows: ${arrows.join(' ')}`] : [])].join(' ');
  return { label, description };
}

/**
 * The drawing: `role="img"` named by its `<title>` and described by its `<desc>` (every node, pod
 * and arrow in words, for screen readers); `id` makes their ids unique in the page.
 */
export function diagramSvg(layout: DiagramLayout, title: string, id = 'diagram'): string {
  const { label, description } = describeLayout(layout, title);
  const ids = { title: `${id}-title`, desc: `${id}-desc` };
  return `<svg xmlns="http://www.w3.org/2000/svg" class="cluster cluster-${layout.mode}" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" style="min-width:${Math.round(layout.width * MIN_SCALE)}px" role="img" aria-labelledby="${attr(ids.title)}" aria-describedby="${attr(ids.desc)}"><title id="${attr(ids.title)}">${attr(label)}</title><desc id="${attr(ids.desc)}">${attr(description)}</desc>${layout.nodes.map(nodeSvg).join('')}${layout.objects.map(objectSvg).join('')}${layout.edges.map(edgePaths).join('')}${layout.nodes.flatMap((node) => node.pods.map((p) => podSvg(p, node.node.name))).join('')}</svg>`;
}

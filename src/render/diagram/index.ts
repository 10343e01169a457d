import type { Snapshot } from '../../runner/state/types.js';
import { escapeHtml, slug } from '../html.js';
import { type DiagramLayout, layoutDiagram } from './layout.js';
import { type ClusterDiagram, clusterDiagram, type DiagramContext } from './model.js';
import { diagramSvg, MIN_SCALE } from './svg.js';

export { clusterDiagram } from './model.js';

/** Container widths between which the stylesheet switches drawings (assets.ts writes one query per step). */
export const FITS = { min: 300, max: 2000, step: 20 } as const;

/** The smallest container width (a step of FITS) at which `width` px shows at MIN_SCALE or more. */
export function fitsWidth(width: number): number {
  return Math.min(FITS.max, Math.max(FITS.min, Math.ceil((width * MIN_SCALE) / FITS.step) * FITS.step));
}

const LEGEND = `<ul class="legend" aria-label="Legend">
<li><span class="key owns"></span>owns (Deployment → ReplicaSet → Pod)</li>
<li><span class="key routes"></span>routes to (Service → endpoints)</li>
<li><span class="key api"></span>talks to the API server</li>
<li><span class="key store"></span>stores in etcd</li>
<li><span class="key chip running"></span>running (a daemon or container)</li>
<li><span class="key chip exited"></span>exited (grey text, dashed)</li>
<li><span class="key chip other"></span>any other state: created, stopped, …</li>
<li><span class="key chip pause"><i>pause</i></span>the pod's sandbox (its pause container)</li>
<li><span class="key static"></span>static pod (a manifest on the node)</li>
<li><span class="key new"></span><b class="tag-word">new</b> since the drawing before</li>
<li><span class="key changed"></span><b class="tag-word">changed</b> since the drawing before</li>
</ul>`;

function arrowsList(layout: DiagramLayout): string {
  const arrows = [...layout.objects.flatMap((o) => o.inner.map((e) => ({ ...e, kind: 'owns' as const }))), ...layout.edges];
  if (arrows.length === 0) return '';
  const items = arrows
    .map(
      (e) => `<li><span class="key ${e.kind}"></span><code>${escapeHtml(e.from)}</code> → <code>${escapeHtml(e.to)}</code>: ${escapeHtml(e.reason ?? '')}</li>`,
    )
    .join('');
  return `<details class="arrows"><summary>Why each arrow (${arrows.length})</summary><ul>${items}</ul></details>`;
}

function notes(diagram: ClusterDiagram): string {
  const out: string[] = [];
  if (diagram.removed.length)
    out.push(`<p class="removed">Gone since the drawing before: ${diagram.removed.map((r) => `<code>${escapeHtml(r)}</code>`).join(', ')}</p>`);
  if (diagram.leftovers.length) {
    const list = diagram.leftovers
      .map(
        (l) =>
          `<code>${escapeHtml(l.pod)}</code> on ${escapeHtml(l.node)} (${l.containers.map((c) => `${escapeHtml(c.name)} ${escapeHtml(c.state)}`).join(', ')})`,
      )
      .join('; ');
    out.push(
      `<p class="leftovers">Not drawn: the exited containers Docker still keeps of pods the API server no longer has (deleted; <code>docker ps -a</code> lists them): ${list}</p>`,
    );
  }
  for (const m of diagram.machines) {
    const daemons = m.daemons.map((d) => `${escapeHtml(d.name)} ${escapeHtml(d.state)}`).join(', ');
    out.push(
      `<p class="machines">Not drawn: the machine <code>${escapeHtml(m.name)}</code>${daemons ? ` (${daemons})` : ''}. It is up, but not a node of this cluster yet: no kubelet runs there and the API server has no Node for it.</p>`,
    );
  }
  return out.join('');
}

/**
 * The cluster of `snapshot` as a figure: one drawing for wide screens and one for phones (the
 * stylesheet shows one), what changed since `previous` highlighted, what went away listed, every
 * arrow's reason in its tooltip and in a list under the drawing.
 */
export function diagramFigure(
  snapshot: Snapshot,
  previous: Snapshot | undefined,
  options: { title: string; kind: 'chapter' | 'block'; context?: { now?: DiagramContext; before?: DiagramContext } },
): string {
  const diagram = clusterDiagram(snapshot, previous, options.context);
  if (diagram.nodes.length === 0) return '';
  const id = `d-${slug(options.title)}`;
  const wide = layoutDiagram(diagram, 'side');
  const side = diagramSvg(wide, options.title, `${id}-side`);
  // The container width from which the wide drawing fits at 80 % or more (the stylesheet's .fits-N).
  const fits = fitsWidth(wide.width);
  const stacked = diagramSvg(layoutDiagram(diagram, 'stacked'), options.title, `${id}-stacked`);
  return `<figure class="cluster-diagram after-${options.kind} fits-${fits}" data-nodes="${diagram.nodes.length}"><div class="diagram-wide">${side}</div><div class="diagram-narrow">${stacked}</div><figcaption>${escapeHtml(options.title)}${notes(diagram)}${LEGEND}${arrowsList(wide)}</figcaption></figure>`;
}

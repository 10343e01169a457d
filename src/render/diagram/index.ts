import type { Snapshot } from '../../runner/state/types.js';
import { escapeHtml } from '../html.js';
import { layoutDiagram } from './layout.js';
import { clusterDiagram } from './model.js';
import { diagramSvg, MIN_SCALE } from './svg.js';

export { clusterDiagram } from './model.js';

const LEGEND = `<ul class="legend">
<li><span class="key owns"></span>owns (Deployment → ReplicaSet → Pod)</li>
<li><span class="key routes"></span>routes to (Service → endpoints)</li>
<li><span class="key api"></span>talks to the API server</li>
<li><span class="key store"></span>stores in etcd</li>
<li><span class="key static"></span>static pod (a manifest on the node)</li>
<li><span class="key new"></span>new or changed since the diagram before</li>
</ul>`;

/**
 * The cluster of `snapshot` as a figure: one drawing for wide screens and one for phones (the
 * stylesheet shows one), what changed since `previous` highlighted, what went away listed.
 */
export function diagramFigure(snapshot: Snapshot, previous: Snapshot | undefined, options: { title: string; kind: 'chapter' | 'block' }): string {
  const diagram = clusterDiagram(snapshot, previous);
  if (diagram.nodes.length === 0) return '';
  const wide = layoutDiagram(diagram, 'side');
  const side = diagramSvg(wide, options.title);
  // The container width from which the wide drawing fits at 80 % or more (the stylesheet's .fits-N, N in 500…2000).
  const fits = Math.min(2000, Math.max(500, Math.ceil((wide.width * MIN_SCALE) / 100) * 100));
  const stacked = diagramSvg(layoutDiagram(diagram, 'stacked'), options.title);
  const gone = diagram.removed.length
    ? `<p class="removed">Gone since the diagram before: ${diagram.removed.map((r) => `<code>${escapeHtml(r)}</code>`).join(', ')}</p>`
    : '';
  return `<figure class="cluster-diagram after-${options.kind} fits-${fits}"><div class="diagram-wide">${side}</div><div class="diagram-narrow">${stacked}</div><figcaption>${escapeHtml(options.title)}${gone}${LEGEND}</figcaption></figure>`;
}

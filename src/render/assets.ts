/** The site's stylesheet and script, written next to the pages: nothing is loaded from elsewhere. */

export const STYLE_CSS = `:root {
  color-scheme: light dark;
  --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --border: #d1d9e0;
  --accent: #0969da; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --code-bg: #f6f8fa; --out-bg: #0d1117; --out-fg: #e6edf3;
  --current: #ddf4ff; --bad-bg: #ffebe9; --warn-bg: #fff8c5;
  --d-node: #f6f8fa; --d-box: #ffffff; --d-static: #fff8c5; --d-owns: #0969da; --d-routes: #1a7f37; --d-api: #8250df; --d-store: #9a6700; --d-new: #bc4c00;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --border: #3d444d;
    --accent: #4493f8; --ok: #3fb950; --bad: #f85149; --warn: #d29922; --code-bg: #151b23; --out-bg: #010409;
    --current: #1f3a5f; --bad-bg: #3c1618; --warn-bg: #3b2e0a;
    --d-node: #151b23; --d-box: #0d1117; --d-static: #2e2a18; --d-owns: #58a6ff; --d-routes: #3fb950; --d-api: #bc8cff; --d-store: #d29922; --d-new: #f0883e;
  }
  .hljs-doctag, .hljs-keyword, .hljs-template-tag, .hljs-type { color: #ff7b72 !important; }
  .hljs-title, .hljs-title.class_, .hljs-title.function_ { color: #d2a8ff !important; }
  .hljs-attr, .hljs-attribute, .hljs-literal, .hljs-meta, .hljs-number, .hljs-operator, .hljs-variable { color: #79c0ff !important; }
  .hljs-regexp, .hljs-string, .hljs-meta .hljs-string { color: #a5d6ff !important; }
  .hljs-built_in, .hljs-symbol { color: #ffa657 !important; }
  .hljs-comment, .hljs-code, .hljs-formula { color: #8b949e !important; }
  .hljs-name, .hljs-quote, .hljs-selector-tag { color: #7ee787 !important; }
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: baseline; gap: 1rem; padding: .7rem 1.5rem; border-bottom: 1px solid var(--border); background: var(--panel); position: sticky; top: 0; z-index: 2; }
header.top .title { font-weight: 700; font-size: 1.1rem; color: var(--fg); }
header.top .run { color: var(--muted); font-size: .85rem; margin-left: auto; }
header.top button { font: inherit; font-size: .8rem; padding: .15rem .6rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); cursor: pointer; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); max-width: 80rem; margin: 0 auto; }
nav.chapters { padding: 1.2rem 1rem; border-right: 1px solid var(--border); position: sticky; top: 3rem; align-self: start; max-height: calc(100vh - 3rem); overflow: auto; }
nav.chapters ol { list-style: none; margin: 0; padding: 0; }
nav.chapters li { margin: .15rem 0; }
nav.chapters a { display: block; padding: .25rem .5rem; border-radius: 6px; color: var(--fg); }
nav.chapters a[aria-current="page"] { background: var(--current); font-weight: 600; }
nav.chapters .num { display: inline-block; width: 1.6rem; color: var(--muted); }
main { padding: 1.5rem 2.5rem 4rem; min-width: 0; }
main h1 { font-size: 2rem; margin: .2rem 0 1rem; }
main h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--border); padding-bottom: .3rem; }
main p, main li { max-width: 46rem; }
code { font: .9em/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--code-bg); padding: .1em .3em; border-radius: 4px; }
pre { margin: 0; overflow-x: auto; }
pre code { background: none; padding: 0; font-size: .85rem; }
pre.prose { background: var(--code-bg); padding: .8rem 1rem; border-radius: 6px; border: 1px solid var(--border); margin: 1rem 0; }
figure.block { margin: 1.2rem 0; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
figure.block.failed { border-color: var(--bad); }
figure.block > figcaption { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; padding: .35rem .7rem; background: var(--panel); border-bottom: 1px solid var(--border); font-size: .8rem; }
figure.block > pre { padding: .8rem 1rem; background: var(--code-bg); }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; border: 1px solid var(--border); background: var(--bg); color: var(--muted); font-weight: 600; white-space: nowrap; }
.badge.runs { color: #fff; background: var(--accent); border-color: var(--accent); }
.badge.writes { color: #fff; background: #8250df; border-color: #8250df; }
.badge.fails { color: #fff; background: var(--warn); border-color: var(--warn); }
.badge.passed { color: var(--ok); border-color: var(--ok); }
.badge.failed { color: var(--bad); border-color: var(--bad); }
.badge.skipped { color: var(--muted); }
figcaption .where { margin-left: auto; color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.result { border-top: 1px solid var(--border); }
.result details { border-top: 1px solid var(--border); }
.result details:first-child { border-top: 0; }
.result summary { cursor: pointer; padding: .3rem .7rem; font-size: .8rem; font-weight: 600; color: var(--muted); background: var(--panel); }
pre.output { background: var(--out-bg); color: var(--out-fg); padding: .7rem 1rem; font: .8rem/1.45 ui-monospace, "DejaVu Sans Mono", monospace; max-height: 32rem; overflow: auto; }
pre.output .stderr { color: #ffa198; }
pre.output .cmd { color: #7ee787; }
pre.output .meta { color: #8b949e; }
.failure, .expected { margin: 0; padding: .6rem 1rem; font-size: .85rem; white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.failure { background: var(--bad-bg); color: var(--bad); }
.expected { background: var(--warn-bg); color: var(--warn); }
pre.diff { padding: .6rem 1rem; font: .8rem/1.45 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg); }
pre.diff .add { color: var(--ok); } pre.diff .del { color: var(--bad); } pre.diff .chg { color: var(--warn); } pre.diff .sum { color: var(--muted); font-weight: 600; }
nav.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--border); }
nav.pager a { display: block; padding: .6rem 1rem; border: 1px solid var(--border); border-radius: 8px; }
table.toc { border-collapse: collapse; width: 100%; max-width: 52rem; margin: 1rem 0; }
table.toc td, table.toc th { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--border); }
section.tree pre { background: var(--out-bg); color: var(--out-fg); padding: .8rem 1rem; border-radius: 8px; }
.muted { color: var(--muted); }
@media (max-width: 900px) { header.top { position: static; flex-wrap: wrap; } .layout { grid-template-columns: 1fr; } nav.chapters { position: static; border-right: 0; border-bottom: 1px solid var(--border); max-height: none; } main { padding: 1rem; } }
/* The cluster diagrams (src/render/diagram): inline SVG coloured from here. */
figure.cluster-diagram { container-type: inline-size; margin: 1rem 0; padding: .75rem; border: 1px solid var(--border); border-radius: 8px; background: var(--panel); }
figure.cluster-diagram .diagram-wide, figure.cluster-diagram .diagram-narrow { overflow-x: auto; }
figure.cluster-diagram .diagram-narrow { display: none; }
/* The stacked drawing where the wide one would have to shrink below 80 %: each figure says from which width on the wide one fits (.fits-N). */
@container (max-width: 499px) { .fits-500 .diagram-wide { display: none; } .fits-500 .diagram-narrow { display: block !important; } }
@container (max-width: 599px) { .fits-600 .diagram-wide { display: none; } .fits-600 .diagram-narrow { display: block !important; } }
@container (max-width: 699px) { .fits-700 .diagram-wide { display: none; } .fits-700 .diagram-narrow { display: block !important; } }
@container (max-width: 799px) { .fits-800 .diagram-wide { display: none; } .fits-800 .diagram-narrow { display: block !important; } }
@container (max-width: 899px) { .fits-900 .diagram-wide { display: none; } .fits-900 .diagram-narrow { display: block !important; } }
@container (max-width: 999px) { .fits-1000 .diagram-wide { display: none; } .fits-1000 .diagram-narrow { display: block !important; } }
@container (max-width: 1099px) { .fits-1100 .diagram-wide { display: none; } .fits-1100 .diagram-narrow { display: block !important; } }
@container (max-width: 1199px) { .fits-1200 .diagram-wide { display: none; } .fits-1200 .diagram-narrow { display: block !important; } }
@container (max-width: 1299px) { .fits-1300 .diagram-wide { display: none; } .fits-1300 .diagram-narrow { display: block !important; } }
@container (max-width: 1399px) { .fits-1400 .diagram-wide { display: none; } .fits-1400 .diagram-narrow { display: block !important; } }
@container (max-width: 1499px) { .fits-1500 .diagram-wide { display: none; } .fits-1500 .diagram-narrow { display: block !important; } }
@container (max-width: 1599px) { .fits-1600 .diagram-wide { display: none; } .fits-1600 .diagram-narrow { display: block !important; } }
@container (max-width: 1699px) { .fits-1700 .diagram-wide { display: none; } .fits-1700 .diagram-narrow { display: block !important; } }
@container (max-width: 1799px) { .fits-1800 .diagram-wide { display: none; } .fits-1800 .diagram-narrow { display: block !important; } }
@container (max-width: 1899px) { .fits-1900 .diagram-wide { display: none; } .fits-1900 .diagram-narrow { display: block !important; } }
@container (max-width: 1999px) { .fits-2000 .diagram-wide { display: none; } .fits-2000 .diagram-narrow { display: block !important; } }
figure.cluster-diagram > figcaption { margin-top: .5rem; font-size: .85rem; color: var(--muted); }
figure.cluster-diagram .removed { margin: .3rem 0 0; }
ul.legend { display: flex; flex-wrap: wrap; gap: .2rem 1.1rem; list-style: none; margin: .4rem 0 0; padding: 0; font-size: .8rem; }
ul.legend li { max-width: none; }
ul.legend .key { display: inline-block; width: 1.6rem; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: .4rem; }
ul.legend .key.owns { border-color: var(--d-owns); }
ul.legend .key.routes { border-top-style: dashed; border-color: var(--d-routes); }
ul.legend .key.api { border-color: var(--d-api); }
ul.legend .key.store { border-top-style: dotted; border-color: var(--d-store); }
ul.legend .key.static { width: 1.2rem; height: .8rem; border: 1px dashed var(--muted); background: var(--d-static); }
ul.legend .key.new { width: 1.2rem; height: .8rem; border: 2.5px solid var(--d-new); }
.block-diagram figure.cluster-diagram { margin: 0; border: 0; border-radius: 0; }
svg.cluster { display: block; max-width: 100%; height: auto; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.cluster text { fill: var(--fg); }
svg.cluster .node-box { fill: var(--d-node); stroke: var(--border); stroke-width: 1.5; }
svg.cluster .node-title, svg.cluster .pod-name, svg.cluster .obj-name { font-weight: 600; }
svg.cluster .pod-box, svg.cluster .object-box { fill: var(--d-box); stroke: var(--border); }
svg.cluster .pod.static > .pod-box { fill: var(--d-static); stroke: var(--muted); stroke-dasharray: 4 2; }
svg.cluster .pod-meta, svg.cluster .kind, svg.cluster .obj-detail { fill: var(--muted); }
svg.cluster .daemon > rect, svg.cluster .ctr > rect { fill: var(--panel); stroke: var(--border); }
svg.cluster .ctr.pause > text { font-style: italic; }
svg.cluster .state-running > rect { stroke: var(--ok); }
svg.cluster .state-exited > rect { stroke-dasharray: 2 2; }
svg.cluster .state-exited > text { fill: var(--muted); }
svg.cluster .state-other > rect { stroke: var(--warn); }
svg.cluster .edge .line { fill: none; stroke-width: 1.4; }
svg.cluster .edge.owns .line { stroke: var(--d-owns); } svg.cluster .edge.owns .head { fill: var(--d-owns); }
svg.cluster .edge.routes .line { stroke: var(--d-routes); stroke-dasharray: 5 3; } svg.cluster .edge.routes .head { fill: var(--d-routes); }
svg.cluster .edge.api .line { stroke: var(--d-api); stroke-width: 1.1; } svg.cluster .edge.api .head { fill: var(--d-api); }
svg.cluster .edge.store .line { stroke: var(--d-store); stroke-dasharray: 2 2; } svg.cluster .edge.store .head { fill: var(--d-store); }
svg.cluster .new > rect, svg.cluster .changed > rect, svg.cluster .pod.static.new > .pod-box, svg.cluster .pod.static.changed > .pod-box { stroke: var(--d-new); stroke-width: 2.5; }
svg.cluster .new > rect, svg.cluster .pod.static.new > .pod-box { stroke-dasharray: none; }
svg.cluster .changed > rect, svg.cluster .pod.static.changed > .pod-box { stroke-dasharray: 5 3; }
svg.cluster .object.new > .obj-name, svg.cluster .object.changed > .obj-detail { fill: var(--d-new); }
svg.cluster .tag { fill: var(--d-new); font-weight: 700; }
@media print {
  header.top, nav.chapters, nav.pager { display: none; }
  .layout { display: block; }
  figure.cluster-diagram { break-inside: avoid; background: none; }
  figure.cluster-diagram .diagram-wide { display: block !important; }
  figure.cluster-diagram .diagram-narrow { display: none !important; }
  svg.cluster { min-width: 0 !important; }
}
/* highlight.js, GitHub-like */
.hljs-doctag, .hljs-keyword, .hljs-meta .hljs-keyword, .hljs-template-tag, .hljs-template-variable, .hljs-type, .hljs-variable.language_ { color: #cf222e; }
.hljs-title, .hljs-title.class_, .hljs-title.function_ { color: #8250df; }
.hljs-attr, .hljs-attribute, .hljs-literal, .hljs-meta, .hljs-number, .hljs-operator, .hljs-variable, .hljs-selector-attr, .hljs-selector-class, .hljs-selector-id { color: #0550ae; }
.hljs-regexp, .hljs-string, .hljs-meta .hljs-string { color: #0a3069; }
.hljs-built_in, .hljs-symbol { color: #953800; }
.hljs-comment, .hljs-code, .hljs-formula { color: #6e7781; }
.hljs-name, .hljs-quote, .hljs-selector-tag, .hljs-selector-pseudo { color: #116329; }
.hljs-subst { color: #24292f; }
.hljs-section { color: #0550ae; font-weight: bold; }
.hljs-bullet { color: #953800; }
`;

/** Keyboard navigation (← →) and "expand all outputs"; the pages work without it. */
export const BOOK_JS = `(function () {
  'use strict';
  document.addEventListener('keydown', function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || /input|textarea/i.test(event.target.tagName)) return;
    var rel = event.key === 'ArrowLeft' ? 'prev' : event.key === 'ArrowRight' ? 'next' : null;
    var link = rel && document.querySelector('link[rel="' + rel + '"]');
    if (link) window.location.href = link.getAttribute('href');
  });
  var toggle = document.getElementById('toggle-outputs');
  if (toggle) toggle.addEventListener('click', function () {
    var all = document.querySelectorAll('.result details');
    var open = toggle.getAttribute('aria-pressed') !== 'true';
    all.forEach(function (d) { d.open = open; });
    toggle.setAttribute('aria-pressed', String(open));
    toggle.textContent = open ? 'Collapse all outputs' : 'Expand all outputs';
  });
})();
`;

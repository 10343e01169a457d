/** The site's stylesheet and script, written next to the pages: nothing is loaded from elsewhere. */
import { FITS } from './diagram/index.js';

/**
 * Every colour of the site, light and dark, as CSS custom properties. Each text colour is at least
 * 4.5:1 (WCAG AA) against the backgrounds it sits on; test/unit/site-contrast.test.ts reads them
 * back from the stylesheet and checks every pair.
 */
const LIGHT = {
  fg: '#1f2328',
  muted: '#59636e',
  bg: '#ffffff',
  panel: '#f6f8fa',
  border: '#d1d9e0',
  accent: '#0969da',
  ok: '#1a7f37',
  bad: '#cf222e',
  warn: '#9a6700',
  'code-bg': '#f6f8fa',
  'out-bg': '#0d1117',
  'out-fg': '#e6edf3',
  'out-err': '#ffa198',
  'out-cmd': '#7ee787',
  'out-meta': '#8b949e',
  current: '#ddf4ff',
  'bad-bg': '#ffebe9',
  'warn-bg': '#fff8c5',
  'badge-runs-bg': '#0969da',
  'badge-runs-fg': '#ffffff',
  'badge-writes-bg': '#8250df',
  'badge-writes-fg': '#ffffff',
  'badge-fails-bg': '#9a6700',
  'badge-fails-fg': '#ffffff',
  'd-node': '#f6f8fa',
  'd-box': '#ffffff',
  'd-static': '#fff8c5',
  'd-owns': '#0969da',
  'd-routes': '#1a7f37',
  'd-api': '#8250df',
  'd-store': '#9a6700',
  'd-new': '#bc4c00',
  // highlight.js tokens (GitHub's light theme; comments darker than GitHub's to reach 4.5:1)
  'hl-keyword': '#cf222e',
  'hl-title': '#8250df',
  'hl-attr': '#0550ae',
  'hl-string': '#0a3069',
  'hl-built-in': '#953800',
  'hl-comment': '#57606a',
  'hl-name': '#116329',
  'hl-subst': '#1f2328',
  'hl-section': '#0550ae',
  'hl-bullet': '#953800',
};

const DARK: typeof LIGHT = {
  fg: '#e6edf3',
  muted: '#9198a1',
  bg: '#0d1117',
  panel: '#151b23',
  border: '#3d444d',
  accent: '#4493f8',
  ok: '#3fb950',
  bad: '#f85149',
  warn: '#d29922',
  'code-bg': '#151b23',
  'out-bg': '#010409',
  'out-fg': '#e6edf3',
  'out-err': '#ffa198',
  'out-cmd': '#7ee787',
  'out-meta': '#8b949e',
  current: '#1f3a5f',
  'bad-bg': '#3c1618',
  'warn-bg': '#3b2e0a',
  'badge-runs-bg': '#1f6feb',
  'badge-runs-fg': '#ffffff',
  'badge-writes-bg': '#6e40c9',
  'badge-writes-fg': '#ffffff',
  'badge-fails-bg': '#d29922',
  'badge-fails-fg': '#0d1117',
  'd-node': '#151b23',
  'd-box': '#0d1117',
  'd-static': '#2e2a18',
  'd-owns': '#58a6ff',
  'd-routes': '#3fb950',
  'd-api': '#bc8cff',
  'd-store': '#d29922',
  'd-new': '#f0883e',
  'hl-keyword': '#ff7b72',
  'hl-title': '#d2a8ff',
  'hl-attr': '#79c0ff',
  'hl-string': '#a5d6ff',
  'hl-built-in': '#ffa657',
  'hl-comment': '#8b949e',
  'hl-name': '#7ee787',
  'hl-subst': '#e6edf3',
  'hl-section': '#79c0ff',
  'hl-bullet': '#ffa657',
};

const vars = (scheme: typeof LIGHT) =>
  Object.entries(scheme)
    .map(([k, v]) => `--${k}: ${v};`)
    .join(' ');

/** One container query per width step: below it, a figure of that class shows its stacked drawing (docs/diagrams.md). */
function fitsQueries(): string {
  const rules: string[] = [];
  for (let n = FITS.min; n <= FITS.max; n += FITS.step)
    rules.push(
      `@container (width < ${n}px) { .fits-${n} .diagram-wide { display: none; } figure.cluster-diagram.fits-${n} .diagram-narrow { display: block; } }`,
    );
  return rules.join('\n');
}

export const STYLE_CSS = `:root { color-scheme: light dark; ${vars(LIGHT)} }
@media screen and (prefers-color-scheme: dark) {
  :root { ${vars(DARK)} }
}
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 1rem/1.6 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; overflow-wrap: break-word; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
/* Anchors land below the sticky header. */
[id] { scroll-margin-top: 4.5rem; }
.skip-link { position: absolute; left: .5rem; top: -3rem; z-index: 10; padding: .4rem .8rem; border-radius: 6px; background: var(--bg); color: var(--accent); border: 2px solid var(--accent); font-weight: 600; }
.skip-link:focus { top: .5rem; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1rem; padding: .7rem 1.5rem; border-bottom: 1px solid var(--border); background: var(--panel); position: sticky; top: 0; z-index: 2; }
header.top .title { font-weight: 700; font-size: 1.1rem; color: var(--fg); }
header.top .run { color: var(--muted); font-size: .85rem; margin-left: auto; }
header.top .to-chapters { display: none; font-size: .9rem; }
header.top button { font: inherit; font-size: .8rem; padding: .15rem .6rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); cursor: pointer; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); max-width: 80rem; margin: 0 auto; }
nav.chapters { padding: 1.2rem 1rem; border-right: 1px solid var(--border); position: sticky; top: 3rem; align-self: start; max-height: calc(100vh - 3rem); overflow: auto; }
nav.chapters h2 { display: none; }
nav.chapters ol { list-style: none; margin: 0; padding: 0; }
nav.chapters li { margin: .15rem 0; }
nav.chapters a { display: block; padding: .25rem .5rem; border-radius: 6px; color: var(--fg); }
nav.chapters a[aria-current="page"] { background: var(--current); font-weight: 600; }
nav.chapters .num { display: inline-block; width: 1.6rem; color: var(--muted); }
nav.chapters a[aria-current="page"] .num { color: inherit; }
main { padding: 1.5rem 2.5rem 4rem; min-width: 0; }
main:focus { outline: none; }
main h1 { font-size: 2rem; margin: .2rem 0 1rem; line-height: 1.25; }
main h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--border); padding-bottom: .3rem; }
main p, main li { max-width: 46rem; }
/* Tables scroll inside themselves, never the page. */
main table { display: block; max-width: 100%; overflow-x: auto; }
code { font: .9em/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--code-bg); padding: .1em .3em; border-radius: 4px; }
/* Long inline code (paths, flags) wraps instead of widening the page. */
:not(pre) > code { overflow-wrap: anywhere; }
pre { margin: 0; overflow-x: auto; }
pre code { background: none; padding: 0; font-size: .85rem; }
pre.prose { background: var(--code-bg); padding: .8rem 1rem; border-radius: 6px; border: 1px solid var(--border); margin: 0; }
.code-wrap { position: relative; margin: 1rem 0; }
.code-wrap > .copy { position: absolute; top: .35rem; right: .35rem; }
button.copy { font: inherit; font-size: .75rem; line-height: 1.4; padding: .05rem .5rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); cursor: pointer; }
figure.block { margin: 1.2rem 0; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
figure.block.failed { border-color: var(--bad); }
figure.block > figcaption { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; padding: .35rem .7rem; background: var(--panel); border-bottom: 1px solid var(--border); font-size: .8rem; }
figure.block > pre { padding: .8rem 1rem; background: var(--code-bg); }
.badge { display: inline-block; max-width: 100%; padding: 0 .5rem; border-radius: 999px; border: 1px solid var(--border); background: var(--bg); color: var(--muted); font-weight: 600; overflow-wrap: anywhere; }
.badge.runs { color: var(--badge-runs-fg); background: var(--badge-runs-bg); border-color: var(--badge-runs-bg); }
.badge.writes { color: var(--badge-writes-fg); background: var(--badge-writes-bg); border-color: var(--badge-writes-bg); }
.badge.fails { color: var(--badge-fails-fg); background: var(--badge-fails-bg); border-color: var(--badge-fails-bg); }
.badge.passed { color: var(--ok); border-color: var(--ok); }
.badge.failed { color: var(--bad); border-color: var(--bad); }
.badge.skipped { color: var(--muted); }
figcaption .where { margin-left: auto; color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.result { border-top: 1px solid var(--border); }
.result details { border-top: 1px solid var(--border); }
.result details:first-child { border-top: 0; }
.result summary { cursor: pointer; padding: .3rem .7rem; font-size: .8rem; font-weight: 600; color: var(--muted); background: var(--panel); }
pre.output { background: var(--out-bg); color: var(--out-fg); padding: .7rem 1rem; font: .8rem/1.45 ui-monospace, "DejaVu Sans Mono", monospace; max-height: 32rem; overflow: auto; }
pre.output .stderr { color: var(--out-err); }
pre.output .cmd { color: var(--out-cmd); }
pre.output .meta { color: var(--out-meta); }
.command-list { background: var(--out-bg); padding: .35rem 0; }
.result .command-list details.command { border-top: 0; }
.command-list .command > summary, .command-list div.command { display: block; padding: .1rem 1rem; font: .8rem/1.45 ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 400; background: var(--out-bg); color: var(--out-fg); overflow-wrap: anywhere; }
.command-list .command > summary { list-style: none; }
.command-list .command > summary::-webkit-details-marker { display: none; }
.command-list .command > summary::before { content: "▸ "; color: var(--out-meta); }
.command-list .command[open] > summary::before { content: "▾ "; }
.command-list div.command { padding-left: calc(1rem + 2ch); }
.command-list code.cmd { color: var(--out-cmd); background: var(--out-bg); padding: 0; font: inherit; }
.command-list .meta { color: var(--out-meta); }
.command-list pre.output { margin: 0; padding: .2rem 1rem .5rem calc(1rem + 2ch); max-height: 20rem; }
.failure, .expected { margin: 0; padding: .6rem 1rem; font-size: .85rem; white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
aside.prediction { margin: 1.2rem 0 .4rem; padding: .6rem 1rem; border: 1px solid var(--border); border-left: 4px solid var(--accent); border-radius: 8px; background: var(--panel); color: var(--fg); }
aside.prediction .prediction-label { margin: 0; font-size: .8rem; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
aside.prediction .question { margin: .2rem 0 .4rem; font-weight: 600; }
aside.prediction ol.answers { margin: 0 0 .3rem; padding-left: 1.6rem; }
aside.prediction code.answer-key { font-size: .75em; color: var(--muted); background: var(--bg); }
aside.prediction details.prediction-verdict { margin-top: .3rem; }
aside.prediction details.prediction-verdict summary { cursor: pointer; font-size: .85rem; font-weight: 600; color: var(--muted); }
aside.prediction details.prediction-verdict p { margin: .3rem 0 0; }
.failure { background: var(--bad-bg); color: var(--bad); }
.expected { background: var(--warn-bg); color: var(--warn); }
pre.diff { padding: .6rem 1rem; font: .8rem/1.45 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg); }
pre.diff .add { color: var(--ok); } pre.diff .del { color: var(--bad); } pre.diff .chg { color: var(--warn); } pre.diff .sum { color: var(--muted); font-weight: 600; }
nav.pager { display: flex; justify-content: space-between; gap: 1rem; margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--border); }
nav.pager a { display: block; padding: .6rem 1rem; border: 1px solid var(--border); border-radius: 8px; }
nav.on-this-page { margin: 0 0 1.5rem; padding: .6rem 1rem; border: 1px solid var(--border); border-radius: 8px; background: var(--panel); max-width: 46rem; font-size: .9rem; }
nav.on-this-page h2 { margin: 0 0 .3rem; padding: 0; border: 0; font-size: .9rem; color: var(--muted); }
nav.on-this-page ol { margin: 0; padding-left: 1.3rem; columns: 2 16rem; column-gap: 2rem; }
nav.on-this-page li { break-inside: avoid; }
.intro { max-width: 46rem; }
.intro pre { background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: .7rem 1rem; }
table.toc { border-collapse: collapse; width: 100%; max-width: 52rem; margin: 1rem 0; }
table.toc td, table.toc th { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--border); }
section.tree pre { background: var(--out-bg); color: var(--out-fg); padding: .8rem 1rem; border-radius: 8px; }
.muted { color: var(--muted); }
@media (max-width: 900px) {
  /* Phones: the page first, the chapter list after it (the header links there). */
  header.top { position: static; padding: .6rem 1rem; }
  header.top .run { margin-left: 0; flex-basis: 100%; }
  header.top .to-chapters { display: inline; margin-left: auto; }
  [id] { scroll-margin-top: .5rem; }
  .layout { grid-template-columns: minmax(0, 1fr); }
  nav.chapters { order: 2; position: static; border-right: 0; border-top: 1px solid var(--border); max-height: none; }
  nav.chapters h2 { display: block; font-size: 1.1rem; margin: 0 0 .5rem; }
  main { padding: 1rem; }
  main h1 { font-size: 1.6rem; }
  nav.pager { flex-direction: column; }
}
/* The cluster diagrams (src/render/diagram): inline SVG coloured from here. */
figure.cluster-diagram { container-type: inline-size; margin: 1rem 0; padding: .75rem; border: 1px solid var(--border); border-radius: 8px; background: var(--panel); }
figure.cluster-diagram .diagram-wide, figure.cluster-diagram .diagram-narrow { overflow-x: auto; }
figure.cluster-diagram .diagram-narrow { display: none; }
/* The stacked drawing where the wide one would have to shrink below 80 %: each figure says from which width on the wide one fits (.fits-N). */
${fitsQueries()}
figure.cluster-diagram > figcaption { margin-top: .5rem; font-size: .85rem; color: var(--muted); }
figure.cluster-diagram > figcaption p { margin: .3rem 0 0; max-width: none; }
figure.cluster-diagram details.arrows { margin-top: .4rem; }
figure.cluster-diagram details.arrows summary { cursor: pointer; font-weight: 600; }
figure.cluster-diagram details.arrows ul { list-style: none; margin: .3rem 0 0; padding: 0; }
figure.cluster-diagram details.arrows li { margin: .15rem 0; max-width: none; }
ul.legend { display: flex; flex-wrap: wrap; gap: .2rem 1.1rem; list-style: none; margin: .4rem 0 0; padding: 0; font-size: .8rem; }
ul.legend li { max-width: none; }
.key { display: inline-block; width: 1.6rem; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: .4rem; }
.key.owns { border-color: var(--d-owns); }
.key.routes { border-top-style: dashed; border-color: var(--d-routes); }
.key.api { border-color: var(--d-api); }
.key.store { border-top-style: dotted; border-color: var(--d-store); }
.key.static { width: 1.2rem; height: .8rem; border: 1px dashed var(--muted); background: var(--d-static); }
.key.new { width: 1.2rem; height: .8rem; border: 2.5px solid var(--d-new); }
.key.changed { width: 1.2rem; height: .8rem; border: 2.5px dashed var(--d-new); }
.key.chip { width: 1.4rem; height: .85rem; border: 1px solid var(--border); border-radius: 3px; background: var(--panel); }
.key.chip.running { border-color: var(--ok); }
.key.chip.exited { border-style: dashed; }
.key.chip.other { border-color: var(--warn); }
.key.chip.pause { width: auto; height: auto; padding: 0 .3rem; font-size: .75rem; line-height: 1.2; color: var(--fg); border-color: var(--ok); }
ul.legend .tag-word { color: var(--d-new); }
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
  header.top, nav.chapters, nav.pager, .skip-link, button.copy, nav.on-this-page { display: none !important; }
  .layout { display: block; }
  main { padding: 0; }
  /* Nothing is cut at the right edge: code and outputs wrap, nothing scrolls. */
  pre, pre.output, pre.diff, pre code { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; max-height: none; }
  figure.block, figure.cluster-diagram { break-inside: avoid-page; }
  figure.cluster-diagram { background: none; }
  /* The stacked drawing (~400 px) prints at its own size: its text stays readable. */
  figure.cluster-diagram .diagram-wide { display: none !important; }
  figure.cluster-diagram .diagram-narrow { display: block !important; overflow: visible; }
}
/* highlight.js: the token colours are the scheme's --hl-* */
.hljs-doctag, .hljs-keyword, .hljs-meta .hljs-keyword, .hljs-template-tag, .hljs-template-variable, .hljs-type, .hljs-variable.language_ { color: var(--hl-keyword); }
.hljs-title, .hljs-title.class_, .hljs-title.function_ { color: var(--hl-title); }
.hljs-attr, .hljs-attribute, .hljs-literal, .hljs-meta, .hljs-number, .hljs-operator, .hljs-variable, .hljs-selector-attr, .hljs-selector-class, .hljs-selector-id { color: var(--hl-attr); }
.hljs-regexp, .hljs-string, .hljs-meta .hljs-string { color: var(--hl-string); }
.hljs-built_in, .hljs-symbol { color: var(--hl-built-in); }
.hljs-comment, .hljs-code, .hljs-formula { color: var(--hl-comment); }
.hljs-name, .hljs-quote, .hljs-selector-tag, .hljs-selector-pseudo { color: var(--hl-name); }
.hljs-subst { color: var(--hl-subst); }
.hljs-section { color: var(--hl-section); font-weight: bold; }
.hljs-bullet { color: var(--hl-bullet); }
`;

/**
 * Keyboard navigation (← →, never while a code block, a drawing or a field has the focus or the
 * pointer over something that scrolls sideways), copy buttons on code blocks, and "unfold all";
 * the pages work without it.
 */
export const BOOK_JS = `(function () {
  'use strict';
  var KEEP = 'pre, code, input, textarea, select, button, summary, [contenteditable], .diagram-wide, .diagram-narrow, table';
  var hovered = null;
  document.addEventListener('pointerover', function (event) { hovered = event.target; });
  function scrollsSideways(el) {
    for (; el && el !== document.body; el = el.parentElement) if (el.scrollWidth > el.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(el).overflowX)) return true;
    return false;
  }
  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var rel = event.key === 'ArrowLeft' ? 'prev' : event.key === 'ArrowRight' ? 'next' : null;
    if (!rel) return;
    var target = event.target;
    if (target && target.closest && target.closest(KEEP)) return;
    if (hovered && hovered.closest && hovered.closest(KEEP) && scrollsSideways(hovered)) return;
    var link = document.querySelector('link[rel="' + rel + '"]');
    if (link) window.location.href = link.getAttribute('href');
  });

  // Copy buttons: on a block's caption, or over a prose code block.
  function copyText(text, button) {
    var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    else { fallback(text); done(); }
  }
  function fallback(text) {
    var area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); } catch (e) {}
    document.body.removeChild(area);
  }
  document.querySelectorAll('figure.block > pre > code, pre.prose > code').forEach(function (code) {
    var pre = code.parentElement;
    var button = document.createElement('button');
    button.type = 'button'; button.className = 'copy'; button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy this code block');
    button.addEventListener('click', function () { copyText(code.textContent, button); });
    var caption = pre.parentElement.tagName === 'FIGURE' && pre.parentElement.querySelector(':scope > figcaption');
    if (caption) { caption.appendChild(button); return; }
    var wrap = document.createElement('div');
    wrap.className = 'code-wrap';
    pre.parentNode.insertBefore(wrap, pre);
    wrap.appendChild(pre); wrap.appendChild(button);
  });

  // Unfold all: every block's output, commands, state diff and drawing (the label says which way it goes).
  var toggle = document.getElementById('toggle-outputs');
  if (toggle) {
    var all = function () { return document.querySelectorAll('.result details'); };
    var label = function () {
      var closed = Array.prototype.some.call(all(), function (d) { return !d.open; });
      toggle.textContent = closed ? 'Unfold all' : 'Fold all';
      toggle.setAttribute('aria-pressed', String(!closed));
    };
    toggle.hidden = false;
    label();
    document.addEventListener('toggle', label, true);
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-pressed') !== 'true';
      all().forEach(function (d) { d.open = open; });
      label();
    });
  }
})();
`;

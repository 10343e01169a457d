import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type MarkdownIt from 'markdown-it';
import { createMarkdown } from '../markdown/markdown.js';
import { onNewLine, textLines } from '../runner/command-output.js';
import { withPath } from '../runner/files.js';
import type { RecordedBlock, Transcript } from '../runner/record/transcript.js';
import { blockHash, transcriptBlocks } from '../runner/record/transcript.js';
import { BadArguments } from '../runner/select.js';
import { formatDiff } from '../runner/state/diff.js';
import { type Block, type Book, type Chapter, executable } from '../runner/types.js';
import { BOOK_JS, STYLE_CSS } from './assets.js';
import { diagramFigure } from './diagram/index.js';
import { escapeHtml, formatMs, highlight, slug, stripAnsi } from './html.js';
import { checkSiteFolder, discardBuild, installSite, recoverSite, SITE_MARKER, sitePaths, startBuilding } from './install-site.js';
import { realFolder, refuseMounts } from './out-folder.js';
import { predictionHtml } from './prediction.js';
import { drawingContext, type SnapshotTimeline, snapshotTimeline } from './timeline.js';
import { writtenText } from './written-text.js';

export interface RenderOptions {
  book: Book;
  /** The recorded run whose outputs and state diffs go under the blocks; without one, code only. */
  transcript?: Transcript;
  outDir: string;
  /** Render into a folder holding files the renderer did not write (they are kept beside the site). */
  force?: boolean;
  /** Ctrl-C: stop before the swap, leaving the folder as it was. */
  signal?: AbortSignal;
  /** Files the command read (a transcript): the site's folder must not hold them. */
  inputs?: string[];
  /** Writes one file of the new site (default: fs writeFile, mode 0644). */
  write?: (file: string, text: string) => Promise<void>;
}

export interface RenderResult {
  outDir: string;
  pages: string[];
  /** Blocks whose code changed since the transcript was recorded: their recorded output is not shown. */
  stale: string[];
}

export const pageName = (chapter: Pick<Chapter, 'id'>) => `${chapter.id}.html`;

/** The badges that say what a block does when the book runs. */
function badges(block: Block): string {
  const out = [`<span class="badge lang">${escapeHtml(block.lang || 'text')}</span>`];
  if (block.attrs.run) out.push('<span class="badge runs" title="runs on the machine">runs</span>');
  if (block.attrs.file) out.push(`<span class="badge writes" title="written to the machine">writes ${escapeHtml(block.attrs.file)}</span>`);
  if (block.attrs.fails) out.push(`<span class="badge fails">must fail${block.attrs.fails.text ? `: ${escapeHtml(block.attrs.fails.text)}` : ''}</span>`);
  if (block.attrs.name) out.push(`<span class="badge name">${escapeHtml(block.attrs.name)}</span>`);
  return out.join('');
}

function outputHtml(record: RecordedBlock): string {
  let text = '';
  const parts: string[] = [];
  const push = (html: string, raw: string) => {
    parts.push(html);
    text += raw;
  };
  for (const chunk of record.output) {
    const raw = stripAnsi(chunk.text);
    push(chunk.stream === 'stderr' ? `<span class="stderr">${escapeHtml(raw)}</span>` : escapeHtml(raw), raw);
  }
  // The runner's own lines start on a line of their own, whatever the block's output ended with.
  const meta = (line: string) => {
    const raw = onNewLine(text, `${line}\n`);
    push(`${raw.startsWith('\n') ? '\n' : ''}<span class="meta">${escapeHtml(line)}</span>\n`, raw);
  };
  for (const w of record.waits) meta(`waited for ${w.message ?? 'a condition'}: ${w.polls} poll${w.polls === 1 ? '' : 's'}`);
  for (const d of record.daemons) meta(`daemon ${d.node ? `${d.node}/` : ''}${d.name} ${d.action}`);
  return parts.join('');
}

/** Each `$` command of a ts block on its own line, its output folded under it. */
function commandsHtml(record: RecordedBlock): string {
  return record.commands
    .map((c) => {
      const stdout = stripAnsi(c.stdout);
      const stderr = stripAnsi(c.stderr);
      const lines = textLines(stdout).length + textLines(stderr).length;
      const where = c.node ? `${escapeHtml(c.node)} ` : '';
      const facts = `exit ${c.exitCode ?? 'killed'} · ${formatMs(c.durationMs)}${lines ? ` · ${lines} line${lines === 1 ? '' : 's'} of output` : ' · no output'}`;
      const head = `<code class="cmd">${where}$ ${escapeHtml(c.command)}</code> <span class="meta">${facts}</span>`;
      if (!lines) return `<div class="command">${head}</div>`;
      const body = escapeHtml(stdout) + (stderr ? `<span class="stderr">${escapeHtml(stderr)}</span>` : '');
      return `<details class="command"><summary>${head}</summary><pre class="output">${body}</pre></details>`;
    })
    .join('');
}

function diffHtml(record: RecordedBlock): string {
  if (!record.state || record.state.diff.changes.length === 0) return '';
  const lines = formatDiff(record.state.diff).map((line) => {
    const cls = line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('~') ? 'chg' : 'sum';
    return `<span class="${cls}">${escapeHtml(line)}</span>`;
  });
  return `<details class="state"><summary>State after this block: ${escapeHtml(lines.length ? (formatDiff(record.state.diff).at(-1) ?? '') : '')}</summary><pre class="diff">${lines.join('\n')}</pre></details>`;
}

function resultHtml(
  block: Block,
  record: RecordedBlock | undefined,
  stale: boolean,
  timeline: SnapshotTimeline,
  book: Book,
  transcript: Transcript | undefined,
): string {
  if (!record) return '';
  if (stale)
    return '<div class="result"><p class="expected">This block changed since the run was recorded; re-record with <code>book run --record</code>.</p></div>';
  const parts: string[] = [];
  if (record.failure) parts.push(`<pre class="failure">${escapeHtml(`${record.failure.file}:${record.failure.line}: ${record.failure.message}`)}</pre>`);
  if (record.expectedFailure) parts.push(`<pre class="expected">failed as expected: ${escapeHtml(stripAnsi(record.expectedFailure))}</pre>`);
  const output = outputHtml(record);
  if (output.trim()) parts.push(`<details class="output" open><summary>Output</summary><pre class="output">${output}</pre></details>`);
  if (block.kind === 'ts' && record.commands.length > 0)
    parts.push(
      `<details class="commands" open><summary>Commands on the machine (${record.commands.length})</summary><div class="command-list">${commandsHtml(record)}</div></details>`,
    );
  parts.push(diffHtml(record));
  const drawing = timeline.blocks.get(block.id);
  const figure = drawing
    ? diagramFigure(drawing.snapshot, drawing.previous, {
        title: `The cluster after ${block.attrs.name ?? `line ${block.line}`}`,
        kind: 'block',
        context: drawingContext(book, transcript, drawing),
      })
    : '';
  if (figure) parts.push(`<details class="block-diagram"><summary>The cluster after this block</summary>${figure}</details>`);
  const body = parts.filter(Boolean).join('');
  return body ? `<div class="result">${body}</div>` : '';
}

function statusBadge(record: RecordedBlock | undefined, stale: boolean): string {
  if (!record) return '';
  if (stale) return '<span class="badge skipped">changed since recording</span>';
  const time = record.status === 'skipped' ? '' : ` · ${formatMs(record.durationMs)}`;
  return `<span class="badge ${record.status}">${record.status}${time}</span>`;
}

interface PageContext {
  book: Book;
  transcript?: Transcript;
  recorded: Map<string, RecordedBlock>;
  timeline: SnapshotTimeline;
  stale: string[];
}

function markdownFor(chapter: Chapter, ctx: PageContext): MarkdownIt {
  const md = createMarkdown();
  const byLine = new Map(chapter.blocks.map((b) => [b.line, b]));
  // The chapter's drawing has its own id: a heading of the same name gets `-1`.
  const usedSlugs = new Map<string, number>([
    ['cluster-diagram', 1],
    ['cluster-diagram-heading', 1],
    ['ownership-tree', 1],
    ['ownership-tree-heading', 1],
    ['main', 1],
    ['chapters', 1],
  ]);
  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    if (!token) return '';
    const block = token.map ? byLine.get(token.map[0] + 1) : undefined;
    if (block?.prediction) return predictionHtml(block.prediction, recordedAnswer(block, chapter, ctx), md);
    const lang = block?.lang ?? token.info.trim().split(/\s+/)[0] ?? '';
    // A file block shows what the run wrote: `${K8S_VERSION}` and `${state.NAME}` as the recorded run had them.
    const shown = block?.kind === 'file' ? writtenText(block, ctx.recorded.get(block.id), ctx.transcript?.versions) : token.content;
    const { html, language } = highlight(shown, lang);
    // Focusable (tabindex): a keyboard scrolls a long line sideways, and ← → stay in the block.
    if (!block || block.kind === 'prose') return `<pre class="prose" tabindex="0"><code class="hljs language-${escapeHtml(language)}">${html}</code></pre>\n`;
    const record = ctx.recorded.get(block.id);
    const stale = Boolean(record && record.hash !== blockHash(block));
    if (stale) ctx.stale.push(block.id);
    const classes = ['block', `block-${block.kind}`, record && !stale ? record.status : ''].filter(Boolean).join(' ');
    return `<figure class="${classes}" id="block-${escapeHtml(slug(block.id))}" data-block="${escapeHtml(block.id)}">
<figcaption>${badges(block)}${statusBadge(record, stale)}<a class="where" href="#block-${escapeHtml(slug(block.id))}">${escapeHtml(path.basename(block.file))}:${block.line}</a></figcaption>
<pre tabindex="0"><code class="hljs language-${escapeHtml(language)}">${html}</code></pre>
${resultHtml(block, record, stale, ctx.timeline, ctx.book, ctx.transcript)}</figure>\n`;
  };
  md.renderer.rules.heading_open = (tokens, idx, options, _env, self) => {
    const token = tokens[idx];
    const inline = tokens[idx + 1];
    if (token && inline && token.tag !== 'h1') {
      let id = slug(inline.content);
      const n = usedSlugs.get(id) ?? 0;
      usedSlugs.set(id, n + 1);
      if (n > 0) id = `${id}-${n}`;
      token.attrSet('id', id);
    }
    return self.renderToken(tokens, idx, options);
  };
  const defaultLink = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const href = token?.attrGet('href');
    // Links between chapters point at their pages.
    if (token && href && /^[\w.-]+\.md(#.*)?$/.test(href)) token.attrSet('href', href.replace(/\.md(?=#|$)/, '.html'));
    return defaultLink ? defaultLink(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
  return md;
}

/** The answer the recorded run gave to a prediction: from its answering block's record, unless that block changed since. */
function recordedAnswer(predict: Block, chapter: Chapter, ctx: PageContext): string | undefined {
  const answering = chapter.blocks.find((b) => b.answering?.id === predict.id);
  const record = answering ? ctx.recorded.get(answering.id) : undefined;
  if (!answering || !record || record.hash !== blockHash(answering)) return undefined;
  return record.answer;
}

function runLine(transcript: Transcript | undefined): string {
  if (!transcript) return 'code only: no recorded run (book run --record)';
  const when = transcript.recordedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return `recorded ${escapeHtml(when)} on ${escapeHtml(transcript.target.type)} target · ${escapeHtml(transcript.status ?? 'unfinished')}`;
}

function layout(ctx: PageContext, options: { title: string; current?: Chapter; body: string; prev?: Chapter; next?: Chapter }): string {
  const nav = ctx.book.chapters
    .map((c) => {
      const current = c === options.current ? ' aria-current="page"' : '';
      return `<li><a href="${pageName(c)}"${current}><span class="num">${c.number}</span>${escapeHtml(c.title)}</a></li>`;
    })
    .join('\n');
  const rel = [
    options.prev ? `<link rel="prev" href="${pageName(options.prev)}">` : '',
    options.next ? `<link rel="next" href="${pageName(options.next)}">` : '',
  ].join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/style.css">
${rel}
</head>
<body>
<a class="skip-link" href="#main">Skip to the content</a>
<header class="top"><a class="title" href="index.html">${escapeHtml(ctx.book.config.title)}</a><a class="to-chapters" href="#chapters">Chapters ↓</a><span class="run">${runLine(ctx.transcript)}</span>${
    options.current && ctx.transcript
      ? '<button type="button" id="toggle-outputs" aria-pressed="false" title="Unfold (or fold) every block\'s output, commands, state diff and drawing" hidden>Unfold all</button>'
      : ''
  }</header>
<div class="layout">
<nav class="chapters" id="chapters" aria-label="Chapters"><h2>Chapters</h2><ol>
${nav}
</ol></nav>
<main id="main" tabindex="-1">
${options.body}
</main>
</div>
<script src="assets/book.js"></script>
</body>
</html>
`;
}

/** "On this page": the chapter's sections (its h2s), after its title, when there are enough to need one. */
export function onThisPage(html: string, min = 4): string {
  const sections = [...html.matchAll(/<h2 id="([^"]+)">([\s\S]*?)<\/h2>/g)].map(([, id, inner]) => ({
    id: id as string,
    text: (inner as string).replace(/<[^>]+>/g, ''),
  }));
  if (sections.length < min) return html;
  const list = sections.map((s) => `<li><a href="#${s.id}">${s.text}</a></li>`).join('');
  const toc = `<nav class="on-this-page" aria-label="On this page"><h2>On this page</h2><ol>${list}</ol></nav>`;
  const end = html.indexOf('</h1>');
  return end < 0 ? toc + html : `${html.slice(0, end + 5)}\n${toc}${html.slice(end + 5)}`;
}

function ownershipTree(transcript: Transcript | undefined): string {
  const tree = transcript?.finalState?.ownershipTree;
  if (typeof tree !== 'string') return '';
  return `<section class="tree" id="ownership-tree"><h2 id="ownership-tree-heading">The ownership tree at the end of the run</h2><pre>${escapeHtml(tree)}</pre></section>`;
}

function chapterDiagram(ctx: PageContext, chapter: Chapter): string {
  const drawing = ctx.timeline.chapters.get(chapter.id);
  if (!drawing) return '';
  const figure = diagramFigure(drawing.snapshot, drawing.previous, {
    title: `The cluster after chapter ${chapter.number}, ${chapter.title}`,
    kind: 'chapter',
    context: drawingContext(ctx.book, ctx.transcript, drawing),
  });
  return figure
    ? `<section class="chapter-diagram" id="cluster-diagram"><h2 id="cluster-diagram-heading">The cluster after this chapter</h2>${figure}</section>`
    : '';
}

function chapterPage(ctx: PageContext, chapter: Chapter, index: number): string {
  const md = markdownFor(chapter, ctx);
  const prev = ctx.book.chapters[index - 1];
  const next = ctx.book.chapters[index + 1];
  const last = index === ctx.book.chapters.length - 1;
  const pager = `<nav class="pager" aria-label="Pages">${prev ? `<a class="prev" rel="prev" href="${pageName(prev)}">← ${escapeHtml(prev.title)}</a>` : '<a class="prev" href="index.html">← Contents</a>'}${
    next ? `<a class="next" rel="next" href="${pageName(next)}">${escapeHtml(next.title)} →</a>` : '<a class="next" href="index.html">Contents →</a>'
  }</nav>`;
  const diagram = chapterDiagram(ctx, chapter);
  const tree = last ? ownershipTree(ctx.transcript) : '';
  const body = `<article class="chapter" data-chapter="${escapeHtml(chapter.id)}">${onThisPage(md.render(chapter.source) + diagram + tree)}</article>${pager}`;
  return layout(ctx, { title: `${chapter.title} — ${ctx.book.config.title}`, current: chapter, body, prev, next });
}

function indexPage(ctx: PageContext): string {
  const recordedChapters = new Map((ctx.transcript?.chapters ?? []).map((c) => [c.id, c]));
  const rows = ctx.book.chapters
    .map((c) => {
      const blocks = c.blocks.filter(executable).length;
      const rec = recordedChapters.get(c.id);
      const status = rec?.status
        ? `<span class="badge ${rec.status}">${rec.status}${rec.durationMs ? ` · ${formatMs(rec.durationMs)}` : ''}</span>`
        : '<span class="muted">not recorded</span>';
      return `<tr><td>${c.number}</td><td><a href="${pageName(c)}">${escapeHtml(c.title)}</a></td><td>${blocks} block${blocks === 1 ? '' : 's'}</td><td>${status}</td></tr>`;
    })
    .join('\n');
  const first = ctx.book.chapters[0];
  const body = `<h1>${escapeHtml(ctx.book.config.title)}</h1>
<div class="intro">
<p>You build a Kubernetes cluster by hand, one component at a time: the kubelet and its static pods, etcd and the API
server, the controller manager, the scheduler, then pod networking, Services, DNS and a second node. Every code block
here ran, in order, against a real machine: under each, what it printed and changed; after each chapter, a drawing
of the cluster.</p>
<p>To run it yourself, from a clone of the project (a Docker daemon, or root on Linux):</p>
<pre><code>npm ci
npx book machine up &amp;&amp; npx book run</code></pre>
${first ? `<p>Or read the recorded run first: <a href="${pageName(first)}">chapter ${first.number}, ${escapeHtml(first.title)}</a>.</p>` : ''}
</div>
<p class="muted">${runLine(ctx.transcript)}</p>
<table class="toc"><thead><tr><th>#</th><th>Chapter</th><th>Blocks</th><th>Recorded run</th></tr></thead><tbody>
${rows}
</tbody></table>
${first ? `<p><a class="start" href="${pageName(first)}">Start reading: ${escapeHtml(first.title)} →</a></p>` : ''}
${ownershipTree(ctx.transcript)}`;
  return layout(ctx, { title: ctx.book.config.title, body, next: first });
}

/**
 * Folders a site must never replace: the file system's root, and any holding the book, the
 * transcript or the reader's working folder. Compared where they really are (links followed).
 */
function refuseOutFolder(named: string, outDir: string, inputs: string[]): void {
  const shown = path.resolve(named) === outDir ? outDir : `${named} (${outDir})`;
  const holds = (dir: string, p: string) => {
    const relative = path.relative(dir, p);
    return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  };
  if (path.dirname(outDir) === outDir) throw new BadArguments(`--out ${shown}: is the root of the file system; give a folder of its own for the site`);
  const cwd = realFolder('--out', process.cwd());
  const held = inputs.map((input) => realFolder('--out', input)).find((input) => holds(outDir, input));
  if (held !== undefined)
    throw new BadArguments(
      `--out ${shown}: holds ${held === cwd ? 'the folder you are in' : held}; give a folder of its own for the site, e.g. ${path.join(named, 'site')}`,
    );
}

/**
 * Renders the book to a static site: index.html, one page per chapter, assets/. Built aside and
 * swapped in whole (install-site.ts): interrupted (`signal`) or failing anywhere, the folder keeps
 * the site it had. `write` is how each file is written (tests inject failures there).
 */
export async function renderSite(options: RenderOptions): Promise<RenderResult> {
  const { book, transcript } = options;
  // Compared and replaced where it really is: through a link, the link's target, never the link.
  const outDir = realFolder('--out', options.outDir);
  refuseOutFolder(options.outDir, outDir, [book.dir, process.cwd(), ...(options.inputs ?? [])]);
  refuseMounts('--out', outDir);
  const ctx: PageContext = {
    book,
    transcript,
    recorded: transcript ? transcriptBlocks(transcript) : new Map(),
    timeline: snapshotTimeline(transcript),
    stale: [],
  };
  const pages = ['index.html', ...book.chapters.map(pageName)];
  const files = ['assets/style.css', 'assets/book.js', ...pages];
  const paths = sitePaths(outDir);
  await mkdir(path.dirname(outDir), { recursive: true });
  recoverSite(paths);
  const carry = checkSiteFolder('--out', outDir, files, Boolean(options.force));
  const write =
    options.write ?? ((file: string, text: string) => writeFile(file, text, { mode: 0o644 }).catch((error: unknown) => Promise.reject(withPath(error, file))));
  try {
    startBuilding(paths);
    await mkdir(path.join(paths.building, 'assets'), { recursive: true });
    const put = async (name: string, text: string) => {
      if (options.signal?.aborted) throw new SiteInterrupted();
      await write(path.join(paths.building, name), text);
    };
    await put('assets/style.css', STYLE_CSS);
    await put('assets/book.js', BOOK_JS);
    await put('index.html', indexPage(ctx));
    for (const [i, chapter] of book.chapters.entries()) await put(pageName(chapter), chapterPage(ctx, chapter, i));
    await put(SITE_MARKER, `${JSON.stringify({ by: 'book render', files }, null, 1)}\n`);
    if (options.signal?.aborted) throw new SiteInterrupted();
    // Synchronous: no signal handler runs between the renames.
    installSite(paths, carry);
  } catch (error) {
    discardBuild(paths);
    throw error;
  }
  return { outDir, pages, stale: ctx.stale };
}

/** Ctrl-C while the site was being built: the folder keeps its previous site. */
export class SiteInterrupted extends Error {
  readonly code = 'INTERRUPTED';
  constructor() {
    super('render stopped before the new site was swapped in; the folder keeps the site it had');
    this.name = 'SiteInterrupted';
  }
}

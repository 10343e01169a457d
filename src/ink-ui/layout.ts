/**
 * How much of each panel the live part shows, so that it always stays shorter than the terminal.
 *
 * Why it matters: once Ink's live output is as tall as the terminal, Ink clears the screen and
 * rewrites the whole scrollback on every frame (its "fullscreen" path): a book run stuck on it
 * (in a pty reporting 0 rows) wrote 1.2 MB to the terminal instead of ~100 KB. The book's full live
 * part (8 chapters, a running block, its output, the daemons) is ~35 lines, near a 40-row
 * terminal's height. Panels shrink in the order a reader misses them least.
 */

export const EXCERPT_LINES = 6;
export const TAIL_LINES = 8;

/** The chapter list folded: a count of those before, the current one and the next, a count after. */
export function foldChapters<T extends { status: string }>(chapters: T[]): { before: T[]; shown: T[]; after: number } {
  let at = chapters.findIndex((c) => c.status === 'running');
  if (at < 0) at = chapters.findIndex((c) => c.status === 'pending');
  if (at < 0) at = Math.max(0, chapters.length - 1);
  const shown = chapters.slice(at, at + 2);
  return { before: chapters.slice(0, at), shown, after: chapters.length - at - shown.length };
}

export function foldedHeight(chapters: { status: string }[]): number {
  const { before, shown, after } = foldChapters(chapters);
  return (before.length > 0 ? 1 : 0) + shown.length + (after > 0 ? 1 : 0);
}

export interface LiveParts {
  chapters: number;
  /** Lines of the folded chapter list (foldedHeight). */
  foldedChapters: number;
  daemons: number;
  running: boolean;
  /** The running block's code lines, retry lines and output lines so far. */
  codeLines: number;
  retries: number;
  outputLines: number;
  /** Lines below the panels: the prompt, the "stopping…" line. */
  extra: number;
}

export interface LiveSizes {
  foldChapters: boolean;
  excerptLines: number;
  tailLines: number;
  daemons: 'full' | 'summary' | 'hidden';
}

/** The live part's height for these sizes, line for line as App and its panels draw it. */
export function liveHeight(sizes: LiveSizes, parts: LiveParts): number {
  let height = 1 + (sizes.foldChapters ? parts.foldedChapters : parts.chapters);
  if (parts.running) {
    const excerpt = Math.min(sizes.excerptLines, parts.codeLines);
    height += 1 + 1 + excerpt + (parts.codeLines > excerpt ? 1 : 0) + parts.retries + Math.min(sizes.tailLines, parts.outputLines);
  }
  if (parts.daemons > 0 && sizes.daemons !== 'hidden') height += 1 + (sizes.daemons === 'full' ? 1 + parts.daemons : 1);
  return height + parts.extra;
}

/** The largest sizes whose live part fits in `rows - 1` lines (Ink needs one for the cursor). */
export function fitLive(rows: number, parts: LiveParts): LiveSizes {
  const budget = rows - 1;
  const steps: Partial<LiveSizes>[] = [
    {},
    { foldChapters: true },
    { tailLines: 4 },
    { excerptLines: 3 },
    { daemons: 'summary' },
    { tailLines: 2, excerptLines: 1 },
    { daemons: 'hidden' },
    { tailLines: 0, excerptLines: 0 },
  ];
  let sizes: LiveSizes = { foldChapters: false, excerptLines: EXCERPT_LINES, tailLines: TAIL_LINES, daemons: 'full' };
  for (const step of steps) {
    sizes = { ...sizes, ...step };
    if (liveHeight(sizes, parts) <= budget) return sizes;
  }
  return sizes;
}

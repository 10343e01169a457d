export { escapeHtml } from '../markdown/highlight.js';

import { highlight as highlightCode } from '../markdown/highlight.js';
import { ANSI } from '../runner/command-output.js';

/** Highlighted at build time: the pages carry the markup, no highlighter runs in the browser. */
export const highlight = highlightCode;

/** Terminal colours do not belong in a page. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r(?!\n)/g, '\n');
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'section'
  );
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

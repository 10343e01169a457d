import { visible } from './errors.js';
import type { RunEvent } from './events.js';

/** Terminal colour and cursor sequences (CSI): the site and the folded summaries drop them. */
export const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * A `$` command's output folded to one line, for the terminal and the plain log: its first
 * non-empty line (cut to `width`) and how many lines there were, and stderr's count. The whole
 * output stays with the command (the transcript, `o`, the site's folded panel). The line is cut
 * before anything runs over it: whatever the output's size, this reads a few hundred characters.
 */
export function foldedOutput(stdout: string, stderr: string, width = 72): string | undefined {
  const out = lineCount(stdout);
  const err = lineCount(stderr);
  if (out === 0 && err === 0) return undefined;
  const parts: string[] = [];
  if (out > 0) {
    const line = firstNonEmptyLine(stdout);
    // Enough for `width` characters once colours are dropped; a longer line is cut anyway.
    const raw = line.slice(0, width * 8);
    // Colours are the terminal's business, not a summary's: dropped, then the rest made visible.
    const first = visible(raw.replace(ANSI, '')).trim();
    const cut = first.length > width || raw.length < line.length ? `${first.slice(0, width - 1)}…` : first;
    parts.push(out === 1 ? cut : `${cut} … (${out} lines)`);
  }
  if (err > 0) parts.push(`stderr: ${err} line${err === 1 ? '' : 's'}`);
  return `↳ ${parts.join(' · ')}`;
}

/** How many lines textLines would give, without splitting the text. */
export function lineCount(text: string): number {
  if (text === '') return 0;
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return text.endsWith('\n') ? count : count + 1;
}

/** The first line with something besides whitespace in it, or ''. */
function firstNonEmptyLine(text: string): string {
  for (let from = 0; from < text.length; ) {
    const nl = text.indexOf('\n', from);
    const end = nl === -1 ? text.length : nl;
    // A line of only whitespace is skipped without copying it.
    for (let i = from; i < end; i++) if (!/\s/.test(text.charAt(i))) return text.slice(from, end);
    if (nl === -1) break;
    from = nl + 1;
  }
  return '';
}

/** Text as lines, without the empty one after a final newline. */
export function textLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** A chunk that starts a new piece of output on its own line, whatever the last piece ended with. */
export function onNewLine(sofar: string, text: string): string {
  return sofar === '' || sofar.endsWith('\n') ? text : `\n${text}`;
}

/** A `$` command as the reader sees it in a log: its first line, after the node it ran on when not the first. */
export function commandLine(event: Extract<RunEvent, { type: 'command:start' }>): string {
  return `${event.node ? `${event.node} ` : ''}$ ${event.command.split('\n')[0]}`;
}

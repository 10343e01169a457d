import { visible } from './errors.js';
import type { RunEvent } from './events.js';

/** Terminal colour and cursor sequences (CSI): the site and the folded summaries drop them. */
export const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * A `$` command's output folded to one line, for the terminal and the plain log: its first
 * non-empty line (cut to `width`) and how many lines there were, and stderr's count. The whole
 * output stays with the command (the transcript, `o`, the site's folded panel).
 */
export function foldedOutput(stdout: string, stderr: string, width = 72): string | undefined {
  const out = textLines(stdout);
  const err = textLines(stderr);
  if (out.length === 0 && err.length === 0) return undefined;
  const parts: string[] = [];
  if (out.length > 0) {
    // Colours are the terminal's business, not a summary's: dropped, then the rest made visible.
    const first = visible((out.find((line) => line.trim() !== '') ?? '').replace(ANSI, '')).trim();
    const cut = first.length > width ? `${first.slice(0, width - 1)}…` : first;
    parts.push(out.length === 1 ? cut : `${cut} … (${out.length} lines)`);
  }
  if (err.length > 0) parts.push(`stderr: ${err.length} line${err.length === 1 ? '' : 's'}`);
  return `↳ ${parts.join(' · ')}`;
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

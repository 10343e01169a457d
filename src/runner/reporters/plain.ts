import { commandLine, foldedOutput } from '../command-output.js';
import { diagnosticLines } from '../diagnostics.js';
import { formatDuration } from '../durations.js';
import { visible } from '../errors.js';
import type { RunEvent } from '../events.js';
import { visibleOutput } from '../output-limits.js';
import { formatDiff } from '../state/diff.js';
import { clusterTree, formatClusterTree } from '../state/tree.js';
import type { Snapshot } from '../state/types.js';
import { verdict } from './prediction-lines.js';

export interface PlainOptions {
  write: (text: string) => void;
  /** GitHub Actions: ::group:: per chapter and ::error annotations. */
  github?: boolean;
  /** Symbols carry the meaning; colour only decorates (and is off with NO_COLOR). */
  color?: boolean;
  /** The cluster drawn as a tree after each chapter (default on; `--no-tree` turns it off). */
  tree?: boolean;
}

const SYMBOL = { passed: '✓', failed: '✗', skipped: '-' } as const;

/** A GitHub workflow command's message: one line, with `%`, CR and LF escaped as the runner expects. */
function annotation(lines: string[]): string {
  return lines.join('\n').replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Line-oriented text, no cursor movement: for pipes, logs and CI. */
export function plainReporter(options: PlainOptions): (event: RunEvent) => void {
  const { write, github = false, color = false, tree = true } = options;
  /** The cluster after the latest block: what the chapter's tree draws. */
  let latest: Snapshot | undefined;
  /** The last event of each daemon so far: an old transcript's snapshot may call the book's own daemon stopped (state/tree.ts). */
  const daemonEvents = new Map<string, string>();
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const partial = new Map<string, string>();
  /** What each running `$` command streamed so far, by command id. */
  const commandOutput = new Map<number, { stdout: string; stderr: string }>();
  /** What a block or a command printed, as the log shows it: its control characters escaped (colours kept with `color`). */
  const shown = (text: string) => visibleOutput(text, { colour: color });
  const flush = (key: string) => {
    const rest = partial.get(key);
    if (rest) write(`    │ ${shown(rest)}\n`);
    partial.delete(key);
  };
  /** The first lines of a block's diagnostics, for its GitHub annotation. */
  const hints = new Map<string, string[]>();
  const output = (key: string, text: string) => {
    const lines = ((partial.get(key) ?? '') + text).split('\n');
    partial.set(key, lines.pop() ?? '');
    for (const line of lines) write(`    │ ${shown(line)}\n`);
  };
  return (event) => {
    switch (event.type) {
      case 'run:start':
        write(`${visible(event.title)} — ${event.chapters.length} chapter(s) on target ${event.target}\n`);
        break;
      case 'chapter:start':
        if (github) write(`::group::${event.chapter.id} ${visible(event.chapter.title)}\n`);
        write(`\n▶ ${event.chapter.id}  ${visible(event.chapter.title)}\n`);
        break;
      case 'block:start':
        write(`  … ${event.block.id} (${event.block.file}:${event.block.line})${event.attempt > 1 ? ` attempt ${event.attempt}` : ''}\n`);
        break;
      case 'command:start':
        if (event.block.kind !== 'ts') break;
        flush(event.block.id);
        write(`    ${shown(commandLine(event))}\n`);
        break;
      case 'block:output':
        output(event.block.id, event.text);
        break;
      case 'command:output': {
        const sofar = commandOutput.get(event.id) ?? { stdout: '', stderr: '' };
        sofar[event.stream] += event.text;
        commandOutput.set(event.id, sofar);
        break;
      }
      case 'command:end': {
        // A ts block's command output is the command's: one folded line under it (the transcript keeps it whole).
        // Built from what streamed, so a `$.quiet` command shows none.
        const streamed = commandOutput.get(event.id);
        commandOutput.delete(event.id);
        const folded = streamed ? foldedOutput(streamed.stdout, streamed.stderr) : undefined;
        if (folded) {
          flush(event.block.id);
          write(`      ${folded}\n`);
        }
        break;
      }
      case 'daemon':
        daemonEvents.set(event.node ? `${event.node}/${event.name}` : event.name, event.action);
        write(`    ⚙ daemon ${event.node ? `${event.node}/` : ''}${event.name} ${event.action}${event.pid ? ` (pid ${event.pid})` : ''}\n`);
        break;
      case 'block:retry':
        flush(event.block.id);
        write(`  ↻ ${event.block.id} failed (${shown(event.failure.message.split('\n')[0] ?? '')}), retrying\n`);
        break;
      case 'block:diagnostics': {
        flush(event.block.id);
        write(`  ${paint(31, '✗')} ${event.block.id} failed; what the machine says (${formatDuration(event.durationMs)}):\n`);
        for (const line of diagnosticLines(event.sections)) write(`    ${shown(line)}\n`);
        // The annotation carries the sections that say something is wrong, not the all-clear ones.
        const telling = event.sections.filter((s) => !s.quiet).slice(0, 2);
        hints.set(
          event.block.id,
          telling.flatMap((s) => [`${s.title}:`, ...s.lines.slice(0, 3)]),
        );
        break;
      }
      case 'block:end': {
        flush(event.block.id);
        const symbol = SYMBOL[event.status];
        const colored = paint(event.status === 'passed' ? 32 : event.status === 'failed' ? 31 : 90, symbol);
        const expected = event.expectedFailure ? ` — failed as expected: ${shown(event.expectedFailure.split('\n')[0] ?? '')}` : '';
        write(`  ${colored} ${event.block.id}${event.status === 'skipped' ? ' (skipped)' : ` (${formatDuration(event.durationMs)})`}${expected}\n`);
        if (event.failure) {
          const f = event.failure;
          // A transcript recorded before the codes has none.
          const code = f.code ? `[${f.code}] ` : '';
          write(`    ${f.file}:${f.line}: ${code}${shown(f.message).split('\n').join('\n    ')}\n`);
          if (f.exitCode !== undefined && f.exitCode !== null) write(`    exit code ${f.exitCode}\n`);
          if (github)
            write(`::error file=${f.file},line=${f.line}::${annotation([`${code}${f.message.split('\n')[0] ?? ''}`, ...(hints.get(event.block.id) ?? [])])}\n`);
        }
        break;
      }
      case 'state':
        latest = event.snapshot;
        // What the block changed in the cluster, Terraform-style; nothing when nothing changed.
        for (const line of formatDiff(event.diff, { color })) write(`      ${line}\n`);
        break;
      case 'prediction:result': {
        // A reader who was asked (--step) hears the verdict from the prompts; this is the log's line.
        if (event.asked || event.answer === undefined) break;
        write(`  ${verdict(event).head}\n`);
        break;
      }
      case 'checkpoint':
        write(`  ⚑ checkpoint ${event.chapter.id} → ${event.file}\n`);
        break;
      case 'chapter:end':
        write(`  ${SYMBOL[event.status]} ${event.chapter.id} ${event.status} (${formatDuration(event.durationMs)})\n`);
        if (tree && latest && event.status !== 'skipped') {
          const lines = formatClusterTree(clusterTree(latest, { daemonEvents }), { color });
          if (lines.length > 0) write(`  cluster after ${event.chapter.id}:\n${lines.map((l) => `    ${l}\n`).join('')}`);
        }
        if (github) write('::endgroup::\n');
        break;
      case 'run:end':
        write(
          `\n${event.passed} passed, ${event.failed} failed, ${event.skipped} skipped (${formatDuration(event.durationMs)})${event.status === 'interrupted' ? ' — interrupted' : ''}\n`,
        );
        break;
    }
  };
}

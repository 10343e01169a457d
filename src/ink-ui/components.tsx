import { Box, Text } from 'ink';
import { maxOf } from '../runner/arrays.js';
import { textLines } from '../runner/command-output.js';
import { formatDuration } from '../runner/durations.js';
import { clip } from './clip.js';
import { EXCERPT_LINES, foldChapters, TAIL_LINES } from './layout.js';
import type { ChapterRow, DaemonRow, DoneItem, Prompt, RunningBlock } from './model.js';
import { CHECKPOINT, COLOR, SYMBOL } from './symbols.js';

/** Colour is only decoration: off under NO_COLOR, and every line still says what it means. */
const tint = (color: string | undefined) => (process.env.NO_COLOR ? undefined : color);

/** One finished line in the scrollback. */
export function DoneLine({ item, width = 200 }: { item: DoneItem /** The terminal's columns: output lines are cut, never wrapped. */; width?: number }) {
  switch (item.kind) {
    case 'title':
      return (
        <Text bold>
          {item.title} — {item.chapters} chapter(s) on target {item.target}
        </Text>
      );
    case 'chapter-start':
      return (
        <Text bold>
          {'\n'}── {item.id} {item.title}
        </Text>
      );
    case 'block': {
      const failure = item.failure;
      return (
        <Box flexDirection="column">
          <Text>
            {'  '}
            <Text color={tint(COLOR[item.status])}>{SYMBOL[item.status]}</Text> {item.id}
            {item.status === 'skipped' ? ' (skipped)' : ` (${formatDuration(item.durationMs)})`}
            {item.attempts > 1 ? ` after ${item.attempts} attempts` : ''}
            <Text dimColor> {item.where}</Text>
            {item.expected ? ` — failed as expected: ${item.expected.split('\n')[0]}` : ''}
          </Text>
          {failure ? (
            <Text color={tint('red')}>
              {'    '}
              {failure.file}:{failure.line}: {failure.code ? `[${failure.code}] ` : ''}
              {failure.message.split('\n').join('\n    ')}
              {failure.exitCode !== undefined && failure.exitCode !== null ? `\n    exit code ${failure.exitCode}` : ''}
              {failure.stderrTail ? `\n    ${failure.stderrTail.split('\n').join('\n    ')}` : ''}
            </Text>
          ) : null}
        </Box>
      );
    }
    case 'output':
      // A command's table stays a table: each line cut to the terminal, one Text for all of them.
      return (
        <Box paddingLeft={4}>
          <Text dimColor>{item.lines.map((line) => `│ ${clip(line, width - 6)}`).join('\n')}</Text>
        </Box>
      );
    case 'tree':
      return (
        <Box flexDirection="column" paddingLeft={2}>
          <Text dimColor>cluster after {item.chapter}:</Text>
          <Box paddingLeft={2}>
            <Text>{item.lines.map((line) => clip(line, width - 6)).join('\n')}</Text>
          </Box>
        </Box>
      );
    case 'prose':
      // Already wrapped to the terminal's width by the reader (src/terminal/prose.ts).
      return (
        <Box paddingLeft={2} marginTop={1}>
          <Text>{item.lines.join('\n')}</Text>
        </Box>
      );
    case 'prediction':
      return (
        <Box paddingLeft={2} marginTop={item.tone === 'question' ? 1 : 0}>
          <Text color={tint(item.tone === 'right' ? 'green' : item.tone === 'wrong' ? 'red' : item.tone === 'question' ? 'cyan' : undefined)}>
            {item.tone === 'right' ? `${SYMBOL.passed} ` : item.tone === 'wrong' ? `${SYMBOL.failed} ` : ''}
            {item.lines.join('\n')}
          </Text>
        </Box>
      );
    case 'diagnostics':
      return (
        <Box flexDirection="column" paddingLeft={2}>
          <Text color={tint('red')}>
            {SYMBOL.failed} {item.block} failed; what the machine says:
          </Text>
          <Box paddingLeft={2}>
            <Text>{item.lines.map((line) => clip(line, width - 4)).join('\n')}</Text>
          </Box>
        </Box>
      );
    case 'diff':
      // One Text for the whole diff: one layout node instead of one per line.
      return (
        <Box paddingLeft={6}>
          <Text>{item.lines.join('\n')}</Text>
        </Box>
      );
    case 'chapter-end':
      return (
        <Text>
          {'  '}
          <Text color={tint(COLOR[item.status])}>{SYMBOL[item.status]}</Text> {item.id} {item.status} ({formatDuration(item.durationMs)})
        </Text>
      );
    case 'checkpoint':
      return (
        <Text>
          {'  '}
          <Text color={tint('blue')}>{CHECKPOINT}</Text> checkpoint {item.chapter} → {item.file}
        </Text>
      );
    case 'end':
      return (
        <Text bold>
          {'\n'}
          {item.passed} passed, {item.failed} failed, {item.skipped} skipped ({formatDuration(item.durationMs)})
          {item.status === 'interrupted' ? ' — interrupted' : ''}
        </Text>
      );
  }
}

/**
 * The book's chapters: status symbol, duration (running ones tick), checkpoint marker. Folded on a
 * short terminal: finished and later chapters become one count line each, so the live part stays
 * shorter than the screen (layout.ts).
 */
export function ChapterList({ chapters, now, fold = false }: { chapters: ChapterRow[]; now: number; fold?: boolean }) {
  const width = maxOf(
    chapters.map((c) => c.id.length),
    0,
  );
  const { before, shown, after } = fold ? foldChapters(chapters) : { before: [], shown: chapters, after: 0 };
  const passed = before.filter((c) => c.status === 'passed').length;
  return (
    <Box flexDirection="column">
      {before.length > 0 ? (
        <Text dimColor>
          {SYMBOL.passed} {before.length} chapter(s) done{passed < before.length ? ` (${before.length - passed} not passed)` : ''}
        </Text>
      ) : null}
      {shown.map((c) => {
        const ms = c.durationMs ?? (c.status === 'running' && c.startedAt ? now - c.startedAt : undefined);
        return (
          <Text key={c.id} wrap="truncate-end">
            <Text color={tint(COLOR[c.status])}>{SYMBOL[c.status]}</Text> {c.id.padEnd(width)} <Text dimColor={c.status === 'pending'}>{c.title}</Text>
            {ms !== undefined ? ` ${formatDuration(ms)}` : ''}
            {c.checkpoint ? <Text color={tint('blue')}> {CHECKPOINT}</Text> : ''}
          </Text>
        );
      })}
      {after > 0 ? (
        <Text dimColor>
          {SYMBOL.pending} {after} more chapter(s)
        </Text>
      ) : null}
    </Box>
  );
}

export function codeLines(running: RunningBlock): string[] {
  return running.block.code.replace(/\n$/, '').split('\n');
}

/** The running block's output so far, and the live tail of the `$` command running now (indented under it). */
export function outputLines(running: RunningBlock): string[] {
  const lines = running.partial ? [...running.lines, running.partial] : running.lines;
  const command = running.command;
  if (!command) return lines;
  const live = textLines(command.stdout + command.stderr).slice(-LIVE_COMMAND_LINES);
  return [...lines, ...live.map((line) => `  ${line}`)];
}

/** How many of a running command's last lines the running panel shows. */
const LIVE_COMMAND_LINES = 5;

/** The running block: where it is in the .md, its first lines, and the tail of its output. */
export function RunningPanel({
  running,
  now,
  excerptLines = EXCERPT_LINES,
  tailLines = TAIL_LINES,
  width = 200,
}: {
  running: RunningBlock;
  now: number;
  excerptLines?: number;
  tailLines?: number;
  /** The terminal's columns: longer lines are cut before Ink measures them. */
  width?: number;
}) {
  const { block } = running;
  const code = codeLines(running);
  const shown = code.slice(0, excerptLines);
  const numberWidth = String(block.codeLine + shown.length).length;
  const output = outputLines(running);
  const tail = tailLines > 0 ? output.slice(-tailLines) : [];
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text wrap="truncate-end">
        <Text color={tint('cyan')}>{SYMBOL.running}</Text> <Text bold>{block.id}</Text> {block.file}:{block.line}
        {running.attempt > 1 ? ` attempt ${running.attempt}` : ''} {formatDuration(Math.max(0, now - running.startedAt))}
      </Text>
      {shown.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the key is the .md line number
        <Text key={`${block.id}:${block.codeLine + i}`} wrap="truncate-end" dimColor>
          {'  '}
          {String(block.codeLine + i).padStart(numberWidth)} │ {clip(line, width)}
        </Text>
      ))}
      {code.length > shown.length ? <Text dimColor>{`  ${' '.repeat(numberWidth)} │ … ${code.length - shown.length} more line(s)`}</Text> : null}
      {running.retries.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: retries only grow
        <Text key={`retry${i}`} color={tint('yellow')} wrap="truncate-end">
          {'  '}↻ attempt {i + 1} failed: {r}
        </Text>
      ))}
      {tail.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a tail window, not a list of identities
        <Text key={`out${i}`} wrap="truncate-end">
          {'  │ '}
          {clip(line, width)}
        </Text>
      ))}
    </Box>
  );
}

/** Daemons on the machine: state, restarts, last log line; or one count line on a short terminal. */
export function DaemonsPanel({ daemons, summary = false, width = 200 }: { daemons: DaemonRow[]; summary?: boolean; width?: number }) {
  if (daemons.length === 0) return null;
  if (summary) {
    const down = daemons.filter((d) => d.state !== 'running').map((d) => d.name);
    return (
      <Box marginTop={1}>
        <Text wrap="truncate-end">
          <Text bold>daemons</Text> {daemons.length - down.length} running
          {down.length > 0 ? <Text color={tint('red')}> · not running: {down.join(', ')}</Text> : ''}
        </Text>
      </Box>
    );
  }
  const nameWidth = maxOf(daemons.map((d) => d.name.length));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>daemons</Text>
      {daemons.map((d) => (
        <Text key={d.name} wrap="truncate-end">
          {'  '}
          <Text color={tint(d.state === 'running' ? 'green' : 'red')}>{d.state === 'running' ? '●' : '○'}</Text> {d.name.padEnd(nameWidth)} {d.state.padEnd(7)}
          {d.restarts !== undefined ? ` restarts ${d.restarts}` : ''}
          {d.logs.length > 0 ? <Text dimColor> │ {clip(d.logs[d.logs.length - 1] ?? '', width)}</Text> : ''}
        </Text>
      ))}
    </Box>
  );
}

export const STEP_KEYS = '[Enter] run · [s] skip · [q] quit · [o] full output of the last block';
export const FAILURE_KEYS = '[r] retry the block · [q] quit · [o] full output';
export const PREDICT_KEYS = '[Enter] no prediction';

export function PromptLine({ prompt }: { prompt: Prompt }) {
  if (prompt.kind === 'predict') {
    return (
      <Box marginTop={1}>
        <Text color={tint('cyan')} wrap="truncate-end">
          your prediction for {prompt.block.id}: [1–{prompt.answers}] an answer · {PREDICT_KEYS}
        </Text>
      </Box>
    );
  }
  if (prompt.kind === 'before') {
    return (
      <Box marginTop={1}>
        <Text color={tint('cyan')} wrap="truncate-end">
          next: {prompt.block.id} ({prompt.block.file}:{prompt.block.line}) — {STEP_KEYS}
        </Text>
      </Box>
    );
  }
  return (
    <Box marginTop={1} flexDirection="column">
      <Text color={tint('red')} wrap="truncate-end">
        {SYMBOL.failed} {prompt.block.id} failed at {prompt.failure.file}:{prompt.failure.line}: {prompt.failure.message.split('\n')[0]}
      </Text>
      <Text color={tint('yellow')}>{FAILURE_KEYS}</Text>
    </Box>
  );
}

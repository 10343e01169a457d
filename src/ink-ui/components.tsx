import { Box, Text } from 'ink';
import { formatDuration } from '../runner/durations.js';
import type { ChapterRow, DaemonRow, DoneItem, Prompt, RunningBlock } from './model.js';
import { CHECKPOINT, COLOR, SYMBOL } from './symbols.js';

/** Colour is only decoration: off under NO_COLOR, and every line still says what it means. */
const tint = (color: string | undefined) => (process.env.NO_COLOR ? undefined : color);

/** One finished line in the scrollback. */
export function DoneLine({ item }: { item: DoneItem }) {
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
              {failure.file}:{failure.line}: {failure.message.split('\n').join('\n    ')}
              {failure.exitCode !== undefined && failure.exitCode !== null ? `\n    exit code ${failure.exitCode}` : ''}
              {failure.stderrTail ? `\n    ${failure.stderrTail.split('\n').join('\n    ')}` : ''}
            </Text>
          ) : null}
        </Box>
      );
    }
    case 'diff':
      return (
        <Box flexDirection="column" paddingLeft={6}>
          {item.lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the lines of a finished diff never move
            <Text key={i}>{line}</Text>
          ))}
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
 * shorter than the screen (Ink clears and redraws everything once it is taller).
 */
export function ChapterList({ chapters, now, fold = false }: { chapters: ChapterRow[]; now: number; fold?: boolean }) {
  const width = Math.max(0, ...chapters.map((c) => c.id.length));
  const at = chapters.findIndex((c) => c.status === 'running');
  const shown = fold && at >= 0 ? chapters.slice(at, at + 2) : chapters;
  const before = fold && at >= 0 ? chapters.slice(0, at) : [];
  const after = fold && at >= 0 ? chapters.length - at - shown.length : 0;
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

export const EXCERPT_LINES = 6;
export const TAIL_LINES = 8;

/** The running block: where it is in the .md, its first lines, and the tail of its output. */
export function RunningPanel({ running, now, compact = false }: { running: RunningBlock; now: number; compact?: boolean }) {
  const { block } = running;
  const code = block.code.replace(/\n$/, '').split('\n');
  const shown = code.slice(0, compact ? 3 : EXCERPT_LINES);
  const numberWidth = String(block.codeLine + shown.length).length;
  const tail = [...running.lines, ...(running.partial ? [running.partial] : [])].slice(compact ? -4 : -TAIL_LINES);
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
          {String(block.codeLine + i).padStart(numberWidth)} │ {line}
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
          {line}
        </Text>
      ))}
    </Box>
  );
}

/** Daemons on the machine: state, restarts, last log line. */
export function DaemonsPanel({ daemons }: { daemons: DaemonRow[] }) {
  if (daemons.length === 0) return null;
  const width = Math.max(...daemons.map((d) => d.name.length));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>daemons</Text>
      {daemons.map((d) => (
        <Text key={d.name} wrap="truncate-end">
          {'  '}
          <Text color={tint(d.state === 'running' ? 'green' : 'red')}>{d.state === 'running' ? '●' : '○'}</Text> {d.name.padEnd(width)} {d.state.padEnd(7)}
          {d.restarts !== undefined ? ` restarts ${d.restarts}` : ''}
          {d.logs.length > 0 ? <Text dimColor> │ {d.logs[d.logs.length - 1]}</Text> : ''}
        </Text>
      ))}
    </Box>
  );
}

export const STEP_KEYS = '[Enter] run · [s] skip · [q] quit';
export const FAILURE_KEYS = '[r] retry the block · [q] quit';

export function PromptLine({ prompt }: { prompt: Prompt }) {
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

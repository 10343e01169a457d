import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../src/ink-ui/App.js';
import { startInkUi } from '../../src/ink-ui/index.js';
import { UiStore } from '../../src/ink-ui/store.js';
import type { RunEvent } from '../../src/runner/events.js';
import type { Block, Chapter } from '../../src/runner/types.js';

/** A real run of a small book on a test namespace (test/fixtures/events/record.mjs). */
const EVENTS: RunEvent[] = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'events', 'small-book.json'), 'utf8'));
const at = (type: string, blockId?: string) => EVENTS.findIndex((e) => e.type === type && (!blockId || (e as { block?: Block }).block?.id === blockId));

/** Ink draws at most maxFps times a second: wait for the frame rather than for a tick. */
const tick = () => new Promise((r) => setTimeout(r, 50));
/** Frames are stable: recorded events, a clock fixed at the last event's time; only trailing blanks go. */
const normalise = (frame: string | undefined) =>
  (frame ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();

function mount(options: { onInterrupt?: () => void; onForceQuit?: () => void; rows?: number } = {}) {
  const { rows, ...storeOptions } = options;
  const store = new UiStore({ throttleMs: 0, color: false, ...storeOptions });
  let now = 0;
  const ui = render(<App store={store} interactive clock={() => now} rows={rows} />);
  const feed = async (events: RunEvent[]) => {
    for (const e of events) {
      if ('time' in e) now = e.time;
      store.listener(e);
    }
    await tick();
  };
  return { store, ui, feed, frame: () => normalise(ui.lastFrame()), advance: (ms: number) => (now += ms) };
}

afterEach(() => vi.restoreAllMocks());

describe('the Ink UI on a recorded run', () => {
  it('shows the running block: its .md line, source excerpt, live output tail, chapter list and daemons', async () => {
    const { feed, frame } = mount();
    await feed(EVENTS.slice(0, at('block:output', 'look') + 2));
    const f = frame();
    expect(f).toMatchSnapshot();
    expect(f).toContain('▶ look <book>/01-daemons.md:8');
    expect(f).toMatch(/ 9 │ echo "one"\n.*10 │ echo "two" >&2/);
    expect(f).toMatch(/│ one\n\s+│ lo\n\s+│ two/);
    expect(f).toMatch(/▶ 01-daemons A daemon of our own/);
    expect(f).toMatch(/○ 02-failure A failure/);
    expect(f).toMatch(/● sleeper running restarts 0 │ sleeper up/);
    // finished lines and the first block's state diff are in the scrollback
    expect(f).toMatch(
      /✓ start-sleeper \(\d+ms\) <book>\/01-daemons.md:3\n(?:\s+│ .*\n)*\s+\+ daemon sleeper {2}state=running restarts=0\n\s+1 to add, 0 to change, 0 to remove/,
    );
  });

  it('prints each block’s state diff under it, and nothing for a block that changed nothing', async () => {
    const { feed, frame } = mount();
    await feed(EVENTS.slice(0, at('state', 'restart-sleeper') + 1));
    const f = frame();
    expect(f).toMatch(/✓ restart-sleeper .*\n(?:\s+│ .*\n)*\s+~ daemon sleeper {2}restarts: 0 → 1\n\s+0 to add, 1 to change, 0 to remove/);
    // A block that changed nothing: its output stays, and no diff follows it.
    expect(f).toMatch(/✓ look \(\d+ms\) <book>\/01-daemons.md:8\n(?:\s+│ .*\n)*\s+✓ restart-sleeper/);
  });

  it('keeps each finished block’s output in the scrollback: the first and last lines of a long one, cut to the width', async () => {
    const { feed, frame, store } = mount();
    await feed(EVENTS.slice(0, at('block:end', 'look') + 1));
    // What `look` printed stays under it once it has finished.
    expect(frame()).toMatch(/✓ look \(\d+ms\) <book>\/01-daemons.md:8\n\s+│ one\n\s+│ lo[^\n]*\n\s+│ two/);
    const block = (EVENTS[at('block:start', 'look')] as { block: Block }).block;
    const long = Array.from({ length: 40 }, (_, i) => `line ${i + 1} ${i === 0 ? 'x'.repeat(300) : ''}`).join('\n');
    await feed([
      { type: 'block:start', block, attempt: 1, time: 1 },
      { type: 'block:output', block, stream: 'stdout', text: `${long}\n` },
      { type: 'block:end', block, status: 'passed', durationMs: 5, attempts: 1 },
    ]);
    const f = frame();
    const kept = f.slice(f.lastIndexOf('✓ look'));
    expect(kept).toMatch(/│ line 1 x+\n/);
    expect(kept).toMatch(/│ line 12\n\s+│ … 22 more lines\n\s+│ line 35\n/);
    expect(kept).toMatch(/│ line 40/);
    expect(kept).not.toContain('line 13\n');
    // 100 columns (ink-testing-library's terminal): the 300-character line is cut, not wrapped.
    for (const line of kept.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    // `o` prints all of it, once.
    expect(store.press('o')).toBe(true);
    await tick();
    const full = frame().slice(frame().lastIndexOf('full output of look:'));
    for (let i = 1; i <= 40; i++) expect(full).toMatch(new RegExp(`│ line ${i}\\b`));
    expect(store.press('o')).toBe(false);
  });

  it('shows the terminal controls a block prints (a window title, a clear screen) escaped, not obeyed', async () => {
    const { feed, frame } = mount();
    await feed(EVENTS.slice(0, at('block:end', 'look') + 1));
    const block = (EVENTS[at('block:start', 'look')] as { block: Block }).block;
    await feed([
      { type: 'block:start', block, attempt: 1, time: 1 },
      { type: 'block:output', block, stream: 'stdout', text: 'before \u001b]0;pwned\u0007\u001b[2J\u001b[H after\n' },
    ]);
    const live = frame();
    await feed([{ type: 'block:end', block, status: 'passed', durationMs: 5, attempts: 1 }]);
    for (const f of [live, frame()]) {
      expect(f).toContain('before \\x1b]0;pwned\\x07\\x1b[2J\\x1b[H after');
      expect(f).not.toMatch(/\u001b\]|\u001b\[2J|\u0007/);
    }
  });

  it('ends with every chapter’s status, the failure with its .md line, and the summary; the live part is gone', async () => {
    const { feed, frame } = mount();
    await feed(EVENTS);
    const f = frame();
    expect(f).toMatchSnapshot();
    expect(f).toMatch(/✗ flaky \(.*\) after 2 attempts <book>\/02-failure.md:3\n\s+<book>\/02-failure.md:5: command failed with exit code 3: exit 3/);
    expect(f).toMatch(/- never \(skipped\)/);
    expect(f).toMatch(/✓ 01-daemons passed/);
    expect(f).toMatch(/✗ 02-failure failed/);
    expect(f).toMatch(/3 passed, 1 failed, 1 skipped/);
    expect(f).not.toContain('daemons\n');
  });

  it('marks a chapter with ⚑ when its checkpoint event arrives', async () => {
    const { feed, frame } = mount();
    const end = at('chapter:end');
    await feed(EVENTS.slice(0, end + 1));
    expect(frame()).not.toContain('⚑');
    const chapter = (EVENTS[end] as { chapter: Chapter }).chapter;
    await feed([{ type: 'checkpoint', chapter, file: '.book/checkpoints/01-daemons.json' }]);
    expect(frame()).toMatch(/⚑ checkpoint 01-daemons → \.book\/checkpoints\/01-daemons\.json/);
    expect(frame()).toMatch(/✓ 01-daemons A daemon of our own \d+(ms|\.\ds) ⚑/);
  });
});

describe('a short terminal', () => {
  const upTo = at('block:start', 'flaky');
  const livePart = (f: string) => f.slice(f.lastIndexOf('── 02-failure A failure') + '── 02-failure A failure'.length).replace(/^\n+/, '');

  // Ink clears the screen and rewrites the whole scrollback on every frame once the live part is
  // as tall as the terminal: it must stay shorter at every height.
  it('keeps the live part shorter than the terminal, shrinking panels as rows run out', async () => {
    for (const rows of [8, 10, 12, 16, 20, 24, 40]) {
      const { feed, frame } = mount({ rows });
      await feed(EVENTS.slice(0, upTo + 3));
      const live = livePart(frame());
      expect(live.split('\n').length, `${rows} rows:\n${live}`).toBeLessThan(rows);
      expect(live, `${rows} rows`).toMatch(/▶ 02-failure A failure/);
    }
  });

  it('folds finished chapters into one line only when the list does not fit', async () => {
    const short = mount({ rows: 10 });
    await short.feed(EVENTS.slice(0, upTo + 3));
    const live = livePart(short.frame());
    expect(live).toMatch(/^✓ 1 chapter\(s\) done\n▶ 02-failure A failure/);
    expect(live).not.toMatch(/^✓ 01-daemons/m);
    const tall = mount({ rows: 60 });
    await tall.feed(EVENTS.slice(0, upTo + 3));
    expect(tall.frame()).toMatch(/^✓ 01-daemons +A daemon of our own/m);
    expect(tall.frame()).toMatch(/● sleeper running restarts 1/);
  });
});

describe('keys', () => {
  const block = (EVENTS[at('block:start', 'look')] as { block: Block }).block;
  const failure = (EVENTS[at('block:end', 'flaky')] as { failure: NonNullable<Extract<RunEvent, { type: 'block:end' }>['failure']> }).failure;

  it('--step: Enter runs, s skips, q quits; other keys are ignored', async () => {
    const { store, ui, feed, frame } = mount();
    await feed(EVENTS.slice(0, at('state', 'start-sleeper') + 1));
    for (const [key, expected] of [
      ['\r', 'run'],
      ['s', 'skip'],
      ['q', 'quit'],
    ] as const) {
      const answer = store.beforeBlock(block);
      await vi.waitFor(() => expect(frame()).toContain('next: look (<book>/01-daemons.md:8) — [Enter] run · [s] skip · [q] quit'));
      ui.stdin.write('x');
      ui.stdin.write(key);
      await expect(answer).resolves.toBe(expected);
      await vi.waitFor(() => expect(frame()).not.toContain('[Enter] run'));
    }
  });

  it('after a failure: r retries, q quits', async () => {
    const { store, ui, frame } = mount();
    const retry = store.afterFailure(block, failure);
    await vi.waitFor(() => expect(frame()).toContain('[r] retry the block · [q] quit'));
    expect(frame()).toContain('✗ look failed at <book>/02-failure.md:5: command failed with exit code 3: exit 3');
    ui.stdin.write('\r');
    ui.stdin.write('r');
    await expect(retry).resolves.toBe('retry');
    const quit = store.afterFailure(block, failure);
    ui.stdin.write('q');
    await expect(quit).resolves.toBe('quit');
  });

  it('Ctrl-C stops the run and answers a pending question "quit"; a second one leaves at once', async () => {
    const onInterrupt = vi.fn();
    const onForceQuit = vi.fn();
    const { store, ui, frame } = mount({ onInterrupt, onForceQuit });
    const answer = store.beforeBlock(block);
    await tick();
    ui.stdin.write('\u0003');
    await expect(answer).resolves.toBe('quit');
    expect(onInterrupt).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(frame()).toContain('stopping…'));
    ui.stdin.write('\u0003');
    expect(onForceQuit).toHaveBeenCalledTimes(1);
    expect(onInterrupt).toHaveBeenCalledTimes(1);
  });
});

describe('a terminal that reports no size', () => {
  it('is taken as 24×80, so Ink never clears the screen to redraw everything', async () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: true, rows: 0, columns: 0 }) as unknown as NodeJS.WriteStream;
    const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
    let written = '';
    (stdout as unknown as PassThrough).on('data', (chunk: Buffer) => {
      written += chunk;
    });
    const ui = startInkUi({ step: false, onInterrupt: () => {}, stdout, stdin, color: false });
    expect([stdout.rows, stdout.columns]).toEqual([24, 80]);
    for (const e of EVENTS.slice(0, at('block:start', 'flaky') + 3)) ui.listener(e);
    await new Promise((r) => setTimeout(r, 600));
    await ui.stop();
    expect(written).toContain('02-failure');
    expect(written).not.toContain('\u001b[2J');
  });
});

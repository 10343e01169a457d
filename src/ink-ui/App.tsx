import { Box, Static, Text, useInput, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { ChapterList, DaemonsPanel, DoneLine, PromptLine, RunningPanel } from './components.js';
import type { UiStore } from './store.js';

export interface AppProps {
  store: UiStore;
  /** Keys are read only when stdin is a terminal that supports raw mode. */
  interactive: boolean;
  /** For tests: a fixed clock makes running durations stable. */
  clock?: () => number;
  /** The terminal's height; below 32 rows the live part is compacted. Default: the stdout's. */
  rows?: number;
}

export const COMPACT_BELOW_ROWS = 32;

/**
 * Finished lines (block results, their state diffs, chapter ends, checkpoints) go to <Static>:
 * printed once, they scroll away like a log. Only the live part below redraws: the chapter list,
 * the running block with its output, the daemons, and the question the reader must answer.
 */
export function App({ store, interactive, clock = Date.now, rows }: AppProps) {
  const model = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { stdout } = useStdout();
  const compact = (rows ?? stdout.rows ?? 100) < COMPACT_BELOW_ROWS;
  const [now, setNow] = useState(clock);
  useEffect(() => {
    if (model.finished) return;
    const timer = setInterval(() => setNow(clock()), 1000);
    return () => clearInterval(timer);
  }, [model.finished, clock]);
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') store.press('ctrl-c');
      else if (key.return) store.press('return');
      else if (input) store.press(input.toLowerCase());
    },
    { isActive: interactive },
  );
  const current = Math.max(now, clock());
  return (
    <>
      <Static items={model.done}>{(item) => <DoneLine key={item.key} item={item} />}</Static>
      {model.finished ? null : (
        <Box flexDirection="column" marginTop={1}>
          <ChapterList chapters={model.chapters} now={current} fold={compact} />
          {model.running ? <RunningPanel running={model.running} now={current} compact={compact} /> : null}
          <DaemonsPanel daemons={model.daemons} />
          {model.prompt ? <PromptLine prompt={model.prompt} /> : null}
          {model.interrupting ? <Text color={process.env.NO_COLOR ? undefined : 'yellow'}>stopping… (Ctrl-C again to leave at once)</Text> : null}
        </Box>
      )}
    </>
  );
}

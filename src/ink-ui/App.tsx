import { Box, Static, Text, useInput, useStdout } from 'ink';
import { useSyncExternalStore } from 'react';
import { ChapterList, codeLines, DaemonsPanel, DoneLine, outputLines, PromptLine, RunningPanel } from './components.js';
import { fitLive, foldedHeight } from './layout.js';
import type { UiStore } from './store.js';

export interface AppProps {
  store: UiStore;
  /** Keys are read only when stdin is a terminal that supports raw mode. */
  interactive: boolean;
  /** For tests: a fixed clock makes running durations stable. */
  clock?: () => number;
  /** The terminal's height, which the live part must stay under (layout.ts). Default: the stdout's. */
  rows?: number;
}

/**
 * Finished lines (block results, their state diffs, chapter ends, checkpoints) go to <Static>:
 * printed once, they scroll away like a log. Only the live part below redraws: the chapter list,
 * the running block with its output, the daemons, and the question the reader must answer.
 */
export function App({ store, interactive, clock = Date.now, rows }: AppProps) {
  const model = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { stdout } = useStdout();
  useInput(
    (input, key) => {
      if (key.ctrl && input === 'c') store.press('ctrl-c');
      else if (key.return) store.press('return');
      else if (input) store.press(input.toLowerCase());
    },
    { isActive: interactive },
  );
  // The store publishes at least once a second while the run goes on, so durations tick.
  const current = clock();
  const columns = stdout.columns || 80;
  const prompt = model.prompt ? (model.prompt.kind === 'failure' ? 3 : 2) : 0;
  const sizes = fitLive(rows ?? stdout.rows ?? 100, {
    chapters: model.chapters.length,
    foldedChapters: foldedHeight(model.chapters),
    daemons: model.daemons.length,
    running: Boolean(model.running),
    codeLines: model.running ? codeLines(model.running).length : 0,
    retries: model.running?.retries.length ?? 0,
    outputLines: model.running ? outputLines(model.running).length : 0,
    extra: prompt + (model.interrupting ? 1 : 0),
  });
  return (
    <>
      <Static items={model.done}>{(item) => <DoneLine key={item.key} item={item} width={columns} />}</Static>
      {model.finished ? null : (
        <Box flexDirection="column" marginTop={1}>
          <ChapterList chapters={model.chapters} now={current} fold={sizes.foldChapters} />
          {model.running ? (
            <RunningPanel running={model.running} now={current} excerptLines={sizes.excerptLines} tailLines={sizes.tailLines} width={columns} />
          ) : null}
          {sizes.daemons === 'hidden' ? null : <DaemonsPanel daemons={model.daemons} summary={sizes.daemons === 'summary'} width={columns} />}
          {model.prompt ? <PromptLine prompt={model.prompt} /> : null}
          {model.interrupting ? <Text color={process.env.NO_COLOR ? undefined : 'yellow'}>stopping… (Ctrl-C again to leave at once)</Text> : null}
        </Box>
      )}
    </>
  );
}

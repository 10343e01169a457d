import { render } from 'ink';
import type { RunEvent } from '../runner/events.js';
import type { RunOptions } from '../runner/execute.js';
import { BookReader } from '../terminal/prose.js';
import { App } from './App.js';
import { UiStore } from './store.js';

export interface InkUiOptions {
  /** --step: ask before every block. */
  step: boolean;
  /** Ctrl-C (the terminal is in raw mode, so no SIGINT arrives): stop the run. */
  onInterrupt: () => void;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  color?: boolean;
  /** The cluster drawn as a tree after each chapter (default on). */
  tree?: boolean;
}

export interface InkUi {
  listener: (event: RunEvent) => void;
  beforeBlock?: RunOptions['beforeBlock'];
  predict?: RunOptions['predict'];
  afterFailure?: RunOptions['afterFailure'];
  /** Draws the last frame, unmounts and gives the terminal back (raw mode off, cursor shown). */
  stop(): Promise<void>;
}

/** The terminal UI: listens to the runner's events and answers its hooks; never drives the run. */
export function startInkUi(options: InkUiOptions): InkUi {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  // A terminal that reports no size (0×0: some ptys, `script` without a controlling terminal) would
  // put Ink on its fullscreen path: a clear and a rewrite of the whole scrollback every frame.
  // Assume the VT100's 24×80 until a resize says otherwise.
  if (stdout.isTTY && !stdout.rows) Object.assign(stdout, { rows: 24, columns: stdout.columns || 80 });
  const interactive = Boolean(stdin.isTTY && typeof stdin.setRawMode === 'function');
  const store = new UiStore({
    color: options.color ?? !process.env.NO_COLOR,
    onInterrupt: options.onInterrupt,
    tree: options.tree,
    // Reading mode: the prose is wrapped to the terminal as it is when the block comes up.
    reader: options.step
      ? new BookReader(() => ({ width: Math.max(40, (stdout.columns || 80) - 4), color: options.color ?? !process.env.NO_COLOR }))
      : undefined,
    // A second Ctrl-C while stopping: leave now, with the terminal restored.
    onForceQuit: () => {
      instance.unmount();
      process.exit(130);
    },
  });
  const instance = render(<App store={store} interactive={interactive} />, { stdout, stdin, exitOnCtrlC: false, patchConsole: true, maxFps: 10 });
  return {
    listener: store.listener,
    beforeBlock: options.step && interactive ? store.beforeBlock : undefined,
    predict: options.step && interactive ? store.predict : undefined,
    afterFailure: interactive ? store.afterFailure : undefined,
    async stop() {
      store.publish();
      // React commits the store's change in a microtask: let it land before unmounting draws the last frame.
      await new Promise((resolve) => setImmediate(resolve));
      instance.unmount();
      await instance.waitUntilExit().catch(() => {});
    },
  };
}

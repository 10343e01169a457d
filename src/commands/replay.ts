import path from 'node:path';
import { definedTarget } from '../runner/book-config.js';
import { EventBus, listenerWarning, type RunEvent } from '../runner/events.js';
import { compileChapters, runBook } from '../runner/execute.js';
import { bookStateDir, checkStateDir } from '../runner/files.js';
import { checkNodeAttributes } from '../runner/node-set.js';
import {
  checkTranscriptOfBook,
  defaultTranscriptPath,
  Redactor,
  ReplaySession,
  readTranscript,
  redactingRelay,
  registeringInstrument,
  startReplay,
} from '../runner/record/index.js';
import { selectChapters } from '../runner/select.js';
import { FIRST_NODE } from '../runner/targets/nodes.js';
import { exitCodeFor, type Io, openBook } from './common.js';
import { checkOutputFiles } from './output-paths.js';
import { attachReporters } from './reporting.js';
import { onStopSignals } from './stop-signals.js';

export interface ReplayCommandOptions {
  book?: string;
  transcript?: string;
  /** Replay from the first chapter up to this one (later chapters need the state of earlier ones). */
  to?: string;
  reporter?: 'plain' | 'json' | 'junit';
  junit?: string;
  ci?: boolean;
  /** Draw the cluster as a tree after each chapter (default true; --no-tree). */
  tree?: boolean;
}

/**
 * `book replay`: the book's blocks run for real (compiled, checked, asserted), but every call to
 * the machine, Docker and the API server is answered from a recorded transcript. CI runs the
 * book's checks, the reporters and the renderer this way with no machine.
 */
export async function replayCommand(options: ReplayCommandOptions, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    if (options.ci && options.junit === undefined) await checkStateDir(book);
    const [junitFile] = await checkOutputFiles([
      { flag: '--junit', file: options.junit ?? (options.ci ? path.join(bookStateDir(book), 'junit-replay.xml') : undefined), kind: 'junit' },
    ]);
    const chapters = selectChapters(book, { to: options.to });
    await compileChapters(chapters);
    const file = options.transcript ?? defaultTranscriptPath(book);
    const transcript = await readTranscript(file);
    checkTranscriptOfBook(file, transcript, book);
    // The recorded run's versions: its file blocks wrote these values.
    book.versions = transcript.versions;
    const config = definedTarget(book.config, book.config.target);
    const replay = startReplay(new ReplaySession(transcript), { runtimeDir: config?.runtimeDir, dockerSocket: config?.dockerSocket });
    checkNodeAttributes(chapters, [FIRST_NODE, ...replay.nodes.names]);
    // As in `book run`: the reporters hear the run's events with secrets blanked, since a replayed
    // block prints what its code prints (a token in a command, a password in an error) afresh.
    // A reporter's or the recorder's error is a warning, never a block's failure (events.ts).
    const onListenerError = (error: unknown, event: RunEvent) => io.err(listenerWarning(error, event));
    const bus = new EventBus({ onListenerError });
    const shown = new EventBus({ onListenerError, bound: false });
    const redactor = new Redactor();
    bus.on(redactingRelay(redactor, (event) => shown.emit(event)).listener);
    const reporter = options.reporter ?? 'plain';
    const reporting = attachReporters(shown, {
      reporter,
      io,
      junitFile,
      color: false,
      tree: options.tree,
    });
    // Ctrl-C (or a SIGTERM) stops it as it stops a run: the verdict and the JUnit file of what ran.
    const interrupt = new AbortController();
    const stopListening = onStopSignals(() => interrupt.abort());
    try {
      const result = await runBook({
        book,
        chapters,
        target: replay.target,
        nodes: replay.nodes,
        bus,
        instrument: registeringInstrument(replay.instrument, redactor),
        signal: interrupt.signal,
      });
      await reporting.finish();
      return result.exitCode;
    } finally {
      stopListening();
    }
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

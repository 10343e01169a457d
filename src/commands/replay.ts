import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EventBus } from '../runner/events.js';
import { compileChapters, EXIT, runBook } from '../runner/execute.js';
import { defaultTranscriptPath, ReplaySession, readTranscript, startReplay, TranscriptError } from '../runner/record/index.js';
import { jsonReporter } from '../runner/reporters/json.js';
import { junitReporter } from '../runner/reporters/junit.js';
import { plainReporter } from '../runner/reporters/plain.js';
import { selectChapters } from '../runner/select.js';
import { ReplayTarget } from '../runner/targets/replay.js';
import { exitCodeFor, type Io, openBook } from './common.js';

export interface ReplayCommandOptions {
  book?: string;
  transcript?: string;
  /** Replay from the first chapter up to this one (later chapters need the state of earlier ones). */
  to?: string;
  reporter?: 'plain' | 'json' | 'junit';
  junit?: string;
  ci?: boolean;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(`${file}.${process.pid}.tmp`, text);
  await rename(`${file}.${process.pid}.tmp`, file);
}

/**
 * `book replay`: the book's blocks run for real (compiled, checked, asserted), but every call to
 * the machine, Docker and the API server is answered from a recorded transcript. CI runs the
 * book's checks, the reporters and the renderer this way with no machine.
 */
export async function replayCommand(options: ReplayCommandOptions, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    const chapters = selectChapters(book, { to: options.to });
    compileChapters(chapters);
    const file = options.transcript ?? defaultTranscriptPath(book);
    const transcript = await readTranscript(file);
    const bus = new EventBus();
    const reporter = options.reporter ?? 'plain';
    if (reporter === 'plain') bus.on(plainReporter({ write: io.out, github: Boolean(process.env.GITHUB_ACTIONS), color: false }));
    if (reporter === 'json') bus.on(jsonReporter(io.out));
    const junitFile = options.junit ?? (options.ci ? path.join(book.dir, '..', '.book', 'junit-replay.xml') : undefined);
    const junit = reporter === 'junit' || junitFile ? junitReporter() : undefined;
    if (junit) bus.on(junit.listener);
    const session = new ReplaySession(transcript);
    const replay = startReplay(session);
    const config = book.config.targets[book.config.target];
    const target = new ReplayTarget(session, config?.runtimeDir, config?.dockerSocket);
    const result = await runBook({ book, chapters, target, bus, instrument: replay.instrument, snapshot: replay.snapshot });
    if (junit && reporter === 'junit' && !junitFile) io.out(junit.xml());
    if (junit && junitFile) await writeAtomic(junitFile, junit.xml());
    return result.exitCode;
  } catch (error) {
    if (error instanceof TranscriptError) {
      io.err(`book: ${error.message}\n`);
      return EXIT.badBook;
    }
    return exitCodeFor(error, io);
  }
}

import path from 'node:path';
import { EventBus } from '../runner/events.js';
import { compileChapters, runBook } from '../runner/execute.js';
import { bookStateDir } from '../runner/files.js';
import { checkNodeAttributes } from '../runner/node-set.js';
import { defaultTranscriptPath, ReplaySession, readTranscript, startReplay } from '../runner/record/index.js';
import { nodePrefix } from '../runner/record/proxies.js';
import { ReplayTarget } from '../runner/record/replay-target.js';
import { selectChapters } from '../runner/select.js';
import { FIRST_NODE, type NodeTargets } from '../runner/targets/nodes.js';
import { exitCodeFor, type Io, openBook } from './common.js';
import { attachReporters } from './reporting.js';

export interface ReplayCommandOptions {
  book?: string;
  transcript?: string;
  /** Replay from the first chapter up to this one (later chapters need the state of earlier ones). */
  to?: string;
  reporter?: 'plain' | 'json' | 'junit';
  junit?: string;
  ci?: boolean;
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
    await compileChapters(chapters);
    const file = options.transcript ?? defaultTranscriptPath(book);
    const transcript = await readTranscript(file);
    // The recorded run's versions: its file blocks wrote these values.
    book.versions = transcript.versions;
    const session = new ReplaySession(transcript);
    const nodes = replayNodes(session);
    checkNodeAttributes(chapters, [FIRST_NODE, ...nodes.names]);
    const bus = new EventBus();
    const reporter = options.reporter ?? 'plain';
    const reporting = attachReporters(bus, {
      reporter,
      io,
      junitFile: options.junit ?? (options.ci ? path.join(bookStateDir(book), 'junit-replay.xml') : undefined),
      color: false,
    });
    const replay = startReplay(session);
    const config = book.config.targets[book.config.target];
    const target = new ReplayTarget(session, config?.runtimeDir, config?.dockerSocket);
    const result = await runBook({ book, chapters, target, nodes, bus, instrument: replay.instrument, snapshot: replay.snapshot });
    await reporting.finish();
    return result.exitCode;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** The recorded run's other nodes: targets answering from the transcript under their `nodes.NAME.` calls. */
function replayNodes(session: ReplaySession): NodeTargets {
  const recorded = session.transcript.target.nodes ?? [];
  const place = (name: string) => {
    const node = recorded.find((n) => n.name === name);
    if (!node) throw new Error(`the transcript has no node named "${name}"`);
    return { runtimeDir: node.runtimeDir, dockerSocket: node.dockerSocket };
  };
  return {
    names: recorded.map((n) => n.name),
    place,
    open: async (name) => new ReplayTarget(session, place(name).runtimeDir, place(name).dockerSocket, nodePrefix(name), name),
  };
}

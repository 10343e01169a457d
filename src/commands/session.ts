import path from 'node:path';
import { definedTarget } from '../runner/book-config.js';
import { type BlockResult, checkpointFile, fingerprint, readCheckpoint, removeCheckpointsFrom, writeCheckpoint } from '../runner/checkpoints.js';
import { exitCodeOf, formatError } from '../runner/errors.js';
import type { EventBus } from '../runner/events.js';
import { lockMachine, MachineBusy } from '../runner/lock.js';
import { prepareResume, ResumeRefused } from '../runner/resume.js';
import { formatDiff } from '../runner/state/diff.js';
import type { Snapshot } from '../runner/state/types.js';
import type { NodeTargets } from '../runner/targets/nodes.js';
import type { Target } from '../runner/targets/target.js';
import type { Book, Chapter } from '../runner/types.js';
import { vagrantSnapshotRestore, vagrantSnapshotSave } from '../runner/vagrant.js';
import type { Io } from './common.js';

/** The VM snapshot recorded with the checkpoint before `from`, if any. */
async function savedSnapshot(book: Book, target: Target, from: Chapter): Promise<string | undefined> {
  const previous = book.chapters[book.chapters.indexOf(from) - 1];
  if (!previous) return undefined;
  const read = await readCheckpoint(checkpointFile(book, target.name, previous.id));
  return read.ok ? read.checkpoint.machineSnapshot?.name : undefined;
}

export interface Session {
  state: Record<string, unknown>;
  /** The machine's state as the run starts, when the drift check already took it. */
  baseline?: Snapshot;
  afterChapter: (chapter: Chapter, state: Record<string, unknown>, snapshot: Snapshot | undefined) => Promise<void>;
  release: () => Promise<void>;
}

/**
 * Everything around one `book run` that is not running blocks: the machine lock, the checkpoint
 * to resume from (with its drift check), and writing a checkpoint after each chapter passes.
 * Returns an exit code instead of a session when the run must not start.
 */
export async function openSession(args: {
  book: Book;
  chapters: Chapter[];
  target: Target;
  /** The target's other nodes: the drift check reads them too. */
  nodes?: NodeTargets;
  bus: EventBus;
  io: Io;
  force?: boolean;
}): Promise<Session | number> {
  const { book, chapters, target, nodes, bus, io } = args;
  const config = definedTarget(book.config, target.name);
  const vagrantDir = config?.type === 'vagrant' ? path.resolve(book.dir, '..', config.dir) : undefined;
  await target.connect();
  let lock: Awaited<ReturnType<typeof lockMachine>>;
  try {
    lock = await lockMachine(target);
  } catch (error) {
    if (error instanceof MachineBusy) {
      io.err(formatError(error.code, error.message));
      return exitCodeOf(error.code);
    }
    throw error;
  }
  const first = chapters[0] as Chapter;
  let results: BlockResult[] = [];
  let state: Record<string, unknown> = {};
  let baseline: Snapshot | undefined;
  try {
    let resume: Awaited<ReturnType<typeof prepareResume>>;
    try {
      resume = await prepareResume(book, target, first, { force: args.force, kubeconfig: book.config.kubeconfig, nodes });
    } catch (error) {
      // A target with machine snapshots goes back to the checkpoint instead of refusing.
      const saved = error instanceof ResumeRefused && error.exitCode === 1 && vagrantDir ? await savedSnapshot(book, target, first) : undefined;
      if (!saved || !vagrantDir) throw error;
      io.err(`book: ${(error as Error).message.split(';')[0]}; restoring the VM snapshot ${saved}\n`);
      await vagrantSnapshotRestore(vagrantDir, saved);
      await target.close();
      await target.connect();
      resume = await prepareResume(book, target, first, { force: true, kubeconfig: book.config.kubeconfig, nodes });
    }
    if (resume) {
      state = resume.state;
      baseline = resume.live;
      results = resume.results.filter((r) => book.chapters.findIndex((c) => c.id === r.chapter) < book.chapters.indexOf(first));
      if (resume.proseChanged.length) io.err(`book: note: the prose of ${resume.proseChanged.join(', ')} changed since its checkpoint (its code did not)\n`);
      if (resume.changed.length) io.err(`book: warning: continuing (--force) although ${resume.changed.join(', ')} changed since its checkpoint\n`);
    }
  } catch (error) {
    await lock.release();
    if (error instanceof ResumeRefused) {
      io.err(formatError(error.code, error.message));
      if (error.diff) {
        // formatDiff ends with the summary line.
        for (const line of formatDiff(error.diff, { color: false })) io.err(`  ${line}\n`);
      }
      return error.exitCode;
    }
    throw error;
  }
  let machine: Awaited<ReturnType<Target['identity']>>;
  try {
    // Later chapters' checkpoints describe a history this run is about to replace.
    await removeCheckpointsFrom(book, target.name, book.chapters.indexOf(first));
    machine = await target.identity();
  } catch (error) {
    // No session, so no one else will release the lock: a later run must not find it held.
    await lock.release();
    throw error;
  }
  bus.on((event) => {
    if (event.type === 'block:end')
      results.push({ block: event.block.id, chapter: event.block.chapterId, status: event.status, durationMs: Math.round(event.durationMs) });
  });
  return {
    state,
    baseline,
    release: () => lock.release(),
    afterChapter: async (chapter, chapterState, snapshot) => {
      const upTo = book.chapters.slice(0, book.chapters.indexOf(chapter) + 1);
      const file = checkpointFile(book, target.name, chapter.id);
      await writeCheckpoint(file, {
        book: book.config.title,
        target: target.name,
        chapter: { ...fingerprint(chapter), number: chapter.number, title: chapter.title },
        chapters: upTo.map(fingerprint),
        state: JSON.parse(JSON.stringify(chapterState)) as Record<string, unknown>,
        results: [...results],
        snapshot: snapshot ?? null,
        machine,
        machineSnapshot: vagrantDir ? { type: 'vagrant', name: await vagrantSnapshotSave(vagrantDir, chapter.id) } : null,
        createdAt: new Date().toISOString(),
      });
      bus.emit({ type: 'checkpoint', chapter, file });
    },
  };
}

import { fingerprint, listCheckpoints } from '../runner/checkpoints.js';
import { resolveTargetName, targetConfig } from '../runner/targets/index.js';
import { exitCodeFor, type Io, openBook } from './common.js';

/** `book checkpoints`: what a `--from` could resume from, and what is wrong with the rest. */
export async function checkpointsCommand(options: { book?: string; target?: string; json?: boolean }, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    const target = await resolveTargetName(book, options.target);
    targetConfig(book, target);
    const all = await listCheckpoints(book, target);
    const rows = all.map((r) => {
      if (!r.ok) return { file: r.file, ok: false as const, problem: r.problem };
      const c = r.checkpoint;
      const changed = c.chapters.filter((then) => {
        const now = book.chapters.find((ch) => ch.id === then.id);
        return !now || fingerprint(now).codeHash !== then.codeHash;
      });
      return {
        file: r.file,
        ok: true as const,
        chapter: c.chapter.id,
        number: c.chapter.number,
        createdAt: c.createdAt,
        blocks: c.results.length,
        stateKeys: Object.keys(c.state),
        machine: c.machine,
        machineSnapshot: c.machineSnapshot,
        changedSince: changed.map((ch) => ch.id),
        resume: `book run --from ${book.chapters[book.chapters.findIndex((ch) => ch.id === c.chapter.id) + 1]?.number ?? '(end)'}`,
      };
    });
    if (options.json) {
      io.out(`${JSON.stringify({ target, checkpoints: rows }, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.out(`no checkpoints for target ${target} (book run writes one after each chapter that passes)\n`);
      return 0;
    }
    for (const row of rows) {
      if (!row.ok) io.out(`✗ ${row.file}: unusable — ${row.problem}\n`);
      else
        io.out(
          `✓ ${row.chapter.padEnd(26)} ${row.createdAt}  ${String(row.blocks).padStart(3)} blocks  ${row.changedSince.length ? `changed since: ${row.changedSince.join(', ')}` : `resume: ${row.resume}`}\n`,
        );
    }
    return 0;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

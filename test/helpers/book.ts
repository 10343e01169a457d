import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { selectChapters } from '../../src/runner/select.js';
import { createTarget } from '../../src/runner/targets/index.js';

/** Writes a throwaway book: `{ '01-a.md': '...' , 'book.yaml': '...' }` → its directory. */
export function writeBook(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'book-test-'));
  const dir = path.join(root, 'book');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

export function localTargetYaml(netns: string, runtimeDir: string): string {
  return `title: Test book
target: t
targets:
  t:
    type: local
    netns: ${netns}
    runtimeDir: ${runtimeDir}
    dockerSocket: ${runtimeDir}/docker.sock
`;
}

/** Runs a book programmatically and returns every event it emitted. */
export async function runAndCollect(dir: string, options: { from?: string; only?: string; signal?: AbortSignal; state?: Record<string, unknown> } = {}) {
  const book = await loadBook(dir);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const target = await createTarget(book);
  try {
    const result = await runBook({ book, chapters: selectChapters(book, options), target, bus, signal: options.signal, state: options.state });
    return { ...result, events, book };
  } finally {
    await target.close();
  }
}

export function ends(events: RunEvent[]) {
  return events.filter((e): e is Extract<RunEvent, { type: 'block:end' }> => e.type === 'block:end');
}

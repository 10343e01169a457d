import { Chalk, type ChalkInstance } from 'chalk';
import { type Change, type Fields, type Snapshot, SOURCES, type SourceState, type StateDiff } from './types.js';

const EMPTY: SourceState = { available: true, items: {} };

function describe(s: SourceState): string {
  return s.available ? 'available' : `unavailable (${s.reason})`;
}

/**
 * What changed between two snapshots, Terraform-style: `+` added, `~` changed (field by field),
 * `-` removed. A source that went unavailable says so once; its objects are not "removed" (they
 * are unknown, not gone). Without `before`, everything in `after` is added.
 */
export function diffSnapshots(before: Snapshot | undefined, after: Snapshot): StateDiff {
  const changes: Change[] = [];
  for (const name of SOURCES) {
    const a = before?.sources[name] ?? EMPTY;
    const b = after.sources[name] ?? EMPTY;
    if (describe(a) !== describe(b) && before) changes.push({ op: '~', key: name, changes: [{ field: 'source', old: describe(a), new: describe(b) }] });
    if (!b.available) continue;
    // The same items (a source the snapshot kept from a reading that did not change): nothing changed.
    if (a.available && a.items === b.items) continue;
    const old: Record<string, Fields> = a.available ? a.items : {};
    for (const [key, fields] of Object.entries(b.items)) {
      const prev = old[key];
      if (!prev) {
        changes.push({ op: '+', key, fields });
        continue;
      }
      const fieldChanges = [...new Set([...Object.keys(prev), ...Object.keys(fields)])]
        .filter((f) => (prev[f] ?? '') !== (fields[f] ?? ''))
        .map((f) => ({ field: f, old: prev[f] ?? '', new: fields[f] ?? '' }));
      if (fieldChanges.length > 0) changes.push({ op: '~', key, changes: fieldChanges });
    }
    if (a.available) for (const [key, fields] of Object.entries(a.items)) if (!(key in b.items)) changes.push({ op: '-', key, fields });
  }
  return {
    changes,
    add: changes.filter((c) => c.op === '+').length,
    change: changes.filter((c) => c.op === '~').length,
    remove: changes.filter((c) => c.op === '-').length,
  };
}

/** Colour decorates, the symbols carry the meaning: NO_COLOR (which chalk itself ignores) turns it off. */
export function makeChalk(color: boolean): ChalkInstance {
  return new Chalk({ level: color && !process.env.NO_COLOR ? 1 : 0 });
}

const show = (v: string) => (v === '' ? '(none)' : v);
const fieldList = (fields: Fields) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** One line per change, then the count line; nothing at all for an empty diff. */
export function formatDiff(diff: StateDiff, options: { color?: boolean } = {}): string[] {
  if (diff.changes.length === 0) return [];
  const c = makeChalk(Boolean(options.color));
  const lines = diff.changes.map((change) => {
    if (change.op === '+') return `${c.green('+')} ${c.green(change.key)}  ${fieldList(change.fields)}`.trimEnd();
    if (change.op === '-') return `${c.red('-')} ${c.red(change.key)}`;
    const fields = change.changes.map((f) => `${f.field}: ${show(f.old)} → ${c.bold(show(f.new))}`).join(', ');
    return `${c.yellow('~')} ${c.yellow(change.key)}  ${fields}`;
  });
  lines.push(summaryLine(diff));
  return lines;
}

export function summaryLine(diff: StateDiff): string {
  return `${diff.add} to add, ${diff.change} to change, ${diff.remove} to remove`;
}

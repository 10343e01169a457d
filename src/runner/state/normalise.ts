import type { Fields } from './types.js';

/**
 * Churn that says nothing about what changed: object uids and static-pod hashes inside names,
 * container ids, ages and timestamps. Every source keeps only fields whose change is real.
 */
const UID = /(?<![0-9a-f])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})(?![0-9a-f])/g;
const LONG_ID = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g;

export function stripIds(text: string): string {
  return text.replace(UID, '…').replace(LONG_ID, (id) => id.slice(0, 12));
}

/** Adds `key` to `items`, with ` (2)`, ` (3)` … when normalisation made two keys equal. */
export function addItem(items: Record<string, Fields>, key: string, fields: Fields): void {
  let unique = key;
  for (let n = 2; unique in items; n++) unique = `${key} (${n})`;
  items[unique] = fields;
}

/** Drops empty fields so an added object's line shows only what it has. */
export function compact(fields: Record<string, string | number | undefined | null>): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  return out;
}

/** "the API server … is not reachable (connection refused): is …?" → a short, stable reason. */
export function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n')[0] ?? message;
  return first
    .replace(/^k8s\.\w+ is not available: /, '')
    .replace(/^machine: .* failed: /, '')
    .replace(/: is kube-apiserver running and ready\?$/, '')
    .replace(/ \(the book writes it[^)]*\)$/, '')
    .trim();
}

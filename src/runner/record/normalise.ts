/**
 * Volatile values blanked before a call in a replay is compared with the recorded one: two runs of
 * the same book differ in container ids, pod IPs, pod-name hashes, uids, timestamps and ages, and
 * still make the same calls.
 */

const RULES: [RegExp, string][] = [
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\b/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uid>'],
  [/\b[0-9a-f]{64}\b/g, '<id>'],
  [/\b[0-9a-f]{12}\b/g, '<id>'],
  [/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g, '<ip>'],
  // ReplicaSet pod-template hashes and pod-name suffixes use this alphabet (no vowels, no 0/1/3).
  [/-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b/g, '-<hash>-<rand>'],
  [/-[bcdfghjklmnpqrstvwxz2456789]{8,10}\b/g, '-<hash>'],
  [/-[bcdfghjklmnpqrstvwxz2456789]{5}\b/g, '-<rand>'],
  [/\b\d+(?:\.\d+)?(?:ms|s|m|h|d)\b/g, '<age>'],
  [/"resourceVersion":"\d+"/g, '"resourceVersion":"<n>"'],
];

export function normaliseVolatile(text: string): string {
  let out = text;
  for (const [re, to] of RULES) out = out.replace(re, to);
  return out;
}

/** JSON with sorted keys and functions dropped: the same arguments always print the same. */
export function stableJson(value: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v === 'bigint') return String(v);
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v)) return `<buffer ${v.length}>`;
    if (Array.isArray(v)) return v.map((x) => walk(x) ?? null);
    if (v && typeof v === 'object') {
      if (seen.has(v)) return '<cycle>';
      seen.add(v);
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = walk((v as Record<string, unknown>)[k]);
        if (x !== undefined) out[k] = x;
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(value) ?? null);
}

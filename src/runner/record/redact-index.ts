import { REDACTED, type Span } from './redact-spans.js';
import { MIN_TOKEN, type Token } from './redact-tokens.js';

/** A polynomial hash of MIN_TOKEN characters, rolled one character on (mod 2^32). */
const B = 0x01000193;
const B_TOP = Array.from({ length: MIN_TOKEN - 1 }).reduce<number>((p) => Math.imul(p, B), 1);
const BLOOM_BITS = 21;
/** The characters of RUN: base64, base64url, hex. */
const IN_RUN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') IN_RUN[c.charCodeAt(0)] = 1;

function hashAt(text: string, at: number): number {
  let h = 0;
  for (let i = at; i < at + MIN_TOKEN; i++) h = (Math.imul(h, B) + text.charCodeAt(i)) | 0;
  return h;
}

/**
 * Finds registered tokens in text by their MIN_TOKEN-character windows: a token's every window
 * (any piece of it that long is still the secret) or, for a token only secret whole, its first
 * window, checked against the whole token. A run of base64 characters holding one is blanked
 * whole, so no tail shorter than a window is left beside it. Windows are hashed as they roll
 * (a bit set in front of the map), so ordinary output costs a few operations a character.
 */
export class TokenIndex {
  private readonly windows = new Map<number, { window: string; whole?: string }[]>();
  private readonly bloom = new Uint32Array(1 << (BLOOM_BITS - 5));

  get size(): number {
    return this.windows.size;
  }

  add(token: Token): void {
    const t = token.text;
    if (t.length < MIN_TOKEN) return;
    if (token.whole) this.put(t, 0, t);
    else for (let i = 0; i + MIN_TOKEN <= t.length; i++) this.put(t, i);
  }

  /** Spans of the runs (RUN) that hold a registered token or a piece of one: one pass, hashing as it goes. */
  spans(text: string): Span[] {
    if (this.windows.size === 0 || text.length < MIN_TOKEN) return [];
    const spans: Span[] = [];
    const n = text.length;
    let start = -1;
    let h = 0;
    let held = false;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 0;
      if (c < 128 && IN_RUN[c] === 1) {
        if (start < 0) {
          start = i;
          h = 0;
          held = false;
        }
        h = i - start >= MIN_TOKEN ? (Math.imul(h - Math.imul(text.charCodeAt(i - MIN_TOKEN), B_TOP), B) + c) | 0 : (Math.imul(h, B) + c) | 0;
        if (!held && i - start + 1 >= MIN_TOKEN && this.maybe(h)) held = this.holdsAt(text, i + 1 - MIN_TOKEN, h);
        continue;
      }
      if (start < 0) continue;
      if (held) {
        // The run's base64 padding goes with it.
        let end = i;
        while (end < n && end < i + 2 && text.charCodeAt(end) === 61) end++;
        spans.push({ start, end, text: REDACTED });
      }
      start = -1;
    }
    return spans;
  }

  private put(token: string, at: number, whole?: string): void {
    const h = hashAt(token, at);
    const window = token.slice(at, at + MIN_TOKEN);
    const list = this.windows.get(h) ?? [];
    if (!list.some((e) => e.window === window && e.whole === whole)) list.push(whole === undefined ? { window } : { window, whole });
    this.windows.set(h, list);
    const bit = h >>> (32 - BLOOM_BITS);
    this.bloom[bit >>> 5] = (this.bloom[bit >>> 5] as number) | (1 << (bit & 31));
  }

  private maybe(h: number): boolean {
    const bit = h >>> (32 - BLOOM_BITS);
    return ((this.bloom[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  private holdsAt(text: string, at: number, h: number): boolean {
    for (const e of this.windows.get(h) ?? []) if (text.startsWith(e.whole ?? e.window, at)) return true;
    return false;
  }
}

/**
 * Secrets never reach a transcript: known shapes (PEM private keys, kubeconfig credentials,
 * Authorization headers, credential flags and query parameters, token-auth CSV lines, JWT
 * signatures; redact-shapes.ts) and what the book wrote to files nobody else may read (mode
 * without group/other read bits): the file whole, its credential values, and every secret token
 * in it (redact-tokens.ts), wherever, however cut or re-formatted, they show up later.
 */

import { TokenIndex } from './redact-index.js';
import { secretsByShape, shapeSpans } from './redact-shapes.js';
import { applySpans, applySpansToChunks, mergeSpans, REDACTED, type Span } from './redact-spans.js';
import { credentialValues, secretTokens } from './redact-tokens.js';

export { redactShapes, secretsByShape } from './redact-shapes.js';
export { REDACTED } from './redact-spans.js';

/** The shorter a registered value, the likelier it occurs by chance; below this it is not a secret. */
const MIN_SECRET = 8;

/** Texts up to this long are remembered once redacted, up to MEMO_ENTRIES of them. */
const MEMO_TEXT = 1024;
const MEMO_ENTRIES = 50_000;

/** Object keys whose string value is a credential (the fields KUBECONFIG_FIELD finds in text). */
const CREDENTIAL_KEY = /^(?:token|token-secret|client-key-data|password|id-token|refresh-token|client-secret)$/;

/** A file mode that lets only its owner read: its content is a secret. */
export function isPrivateMode(mode: number | undefined): boolean {
  return mode !== undefined && (mode & 0o044) === 0;
}

export class Redactor {
  /** Exact values: a file's whole content, a credential field's value. */
  private readonly literals = new Set<string>();
  /**
   * The literals split by whether they hold a token: those that do can only occur where the
   * index finds one, so most text skips them (undefined: to be worked out again).
   */
  private split?: { free: string[]; anchored: string[] };
  private readonly tokens = new TokenIndex();
  /**
   * Short texts already redacted, with what they became: the state after each block repeats most
   * of the last one's names and fields, so the reporters' redaction of it is mostly lookups.
   * Emptied whenever a secret is registered (a text redacted before may hold it).
   */
  private readonly memo = new Map<string, string>();
  /** Objects already redacted whole (redactUnchanging), with what they became; renewed whenever a secret is registered. */
  private deep = new WeakMap<object, unknown>();
  /** Texts whose shapes were learned already (learnShapes): learning them again registers nothing new. */
  private readonly shapesLearned = new Set<string>();

  /** Registers a secret value: blanked wherever it appears (whitespace around it ignored), and its tokens however cut. */
  register(value: string): void {
    const v = value.trim();
    if (v.length < MIN_SECRET || v === REDACTED || this.literals.has(v)) return;
    this.literals.add(v);
    this.learned();
    for (const t of secretTokens(v, true)) this.tokens.add(t);
  }

  /** A secret was registered: what was redacted before may hold it. */
  private learned(): void {
    this.split = undefined;
    this.memo.clear();
    this.deep = new WeakMap();
  }

  /** A file written on the machine: private files are secrets, and so is every credential inside one. */
  registerFile(content: string, mode: number | undefined): boolean {
    this.learnShapes(content);
    if (!isPrivateMode(mode)) return false;
    const whole = content.trim();
    if (whole.length < MIN_SECRET) return true;
    // The whole file as `cat` shows it, with either line end.
    this.literals.add(whole);
    this.literals.add(whole.replace(/\r?\n/g, '\r\n'));
    this.literals.add(whole.replace(/\r\n/g, '\n'));
    this.learned();
    for (const v of credentialValues(content)) this.register(v);
    for (const t of secretTokens(content)) this.tokens.add(t);
    return true;
  }

  get size(): number {
    return this.literals.size + this.tokens.size;
  }

  /**
   * Registers the secrets `text` shows by their shape (a private key, a credential field): a
   * piece of one printed later (a failure message's last lines, without the key's BEGIN line)
   * is then blanked by its tokens.
   */
  learnShapes(text: string): void {
    if (this.shapesLearned.has(text)) return;
    for (const s of secretsByShape(text)) this.register(s);
    if (text.length > MEMO_TEXT * 64) return;
    if (this.shapesLearned.size >= MEMO_ENTRIES / 50) this.shapesLearned.clear();
    this.shapesLearned.add(text);
  }

  redact(text: string): string {
    return applySpans(text, this.spans(text));
  }

  /** redact, remembered for short texts (the many names and fields of each state snapshot). */
  private redactShort(text: string): string {
    if (text.length > MEMO_TEXT) return this.redact(text);
    const known = this.memo.get(text);
    if (known !== undefined) return known;
    // A flat copy: `text` may be a slice that keeps a much longer string alive.
    const own = ` ${text}`.slice(1);
    const redacted = this.redact(own);
    if (this.memo.size >= MEMO_ENTRIES) this.memo.clear();
    this.memo.set(own, redacted);
    return redacted;
  }

  /**
   * Consecutive chunks of one stream (output as it arrived): redacted as their concatenation, so
   * a secret split between two chunks is caught, then cut back into as many chunks.
   */
  redactChunks(chunks: readonly string[]): string[] {
    if (chunks.length < 2) return chunks.map((c) => this.redact(c));
    return applySpansToChunks(chunks, this.spans(chunks.join('')));
  }

  /**
   * A block's output, the chunks of its streams interleaved: a stream's chunks are redacted
   * together (redactChunks) when there are several, the rest is left to redactDeep.
   */
  redactStreams<T extends { stream: string; text: string }>(entries: readonly T[]): T[] {
    const out = [...entries];
    const byStream = new Map<string, number[]>();
    for (const [i, e] of entries.entries()) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), i]);
    for (const at of byStream.values()) {
      if (at.length < 2) continue;
      const texts = this.redactChunks(at.map((i) => (entries[i] as T).text));
      at.forEach((i, k) => {
        out[i] = { ...(entries[i] as T), text: texts[k] ?? '' };
      });
    }
    return out;
  }

  /** Every string in a JSON-like value, keys included. */
  redactDeep<T>(value: T): T {
    return this.walk(value, undefined) as T;
  }

  /**
   * redactDeep for values never changed once made (the state snapshots and their diffs): an object
   * met before is answered with its redacted copy, until a secret is registered. A snapshot keeps
   * the items of a source that did not change (snapshot.ts), so most of each state event is found.
   */
  redactUnchanging<T>(value: T): T {
    return this.walk(value, this.deep) as T;
  }

  private walk(v: unknown, memo: WeakMap<object, unknown> | undefined): unknown {
    if (typeof v === 'string') return this.redactShort(v);
    if (!v || typeof v !== 'object') return v;
    const known = memo?.get(v);
    if (known !== undefined) return known;
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x) => this.walk(x, memo));
    else {
      const fields: Record<string, unknown> = {};
      // A credential field's value is a secret whatever it looks like (a bootstrap token Secret's `token-secret`).
      for (const [k, x] of Object.entries(v))
        fields[this.redactShort(k)] = typeof x === 'string' && CREDENTIAL_KEY.test(k) && x !== '' ? REDACTED : this.walk(x, memo);
      out = fields;
    }
    memo?.set(v, out);
    return out;
  }

  private spans(text: string): Span[] {
    const tokens = this.tokens.spans(text);
    const spans = [...tokens, ...shapeSpans(text)];
    this.split ??= this.splitLiterals();
    for (const list of tokens.length > 0 ? [this.split.free, this.split.anchored] : [this.split.free])
      for (const secret of list) {
        if (secret.length > text.length) continue;
        for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + secret.length))
          spans.push({ start: at, end: at + secret.length, text: REDACTED });
      }
    return mergeSpans(spans);
  }

  private splitLiterals(): { free: string[]; anchored: string[] } {
    const free: string[] = [];
    const anchored: string[] = [];
    for (const v of this.literals) (this.tokens.spans(v).length > 0 ? anchored : free).push(v);
    return { free, anchored };
  }
}

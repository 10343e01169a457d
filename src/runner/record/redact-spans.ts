/**
 * Redaction as spans: every rule (registered secrets, shapes) says which ranges of the original
 * text to blank, and the text is rebuilt once. Rules never see each other's «redacted», so their
 * order does not matter, and the same spans can be cut back along chunk boundaries.
 */

export const REDACTED = '«redacted»';

/** [start, end) of the text, and what stands in its place. */
export interface Span {
  start: number;
  end: number;
  text: string;
}

/** Sorted, with overlapping or touching spans joined: an outer span's text wins, else REDACTED. */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  let cur = { ...(sorted[0] as Span) };
  for (let i = 1; i < sorted.length; i++) {
    const next = sorted[i] as Span;
    if (next.start > cur.end) {
      out.push(cur);
      cur = { ...next };
    } else if (next.end > cur.end) {
      cur = { start: cur.start, end: next.end, text: REDACTED };
    }
  }
  out.push(cur);
  return out;
}

/** The text with its (merged) spans replaced. */
export function applySpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + s.text;
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Chunks of one stream whose concatenation the (merged) spans were found in, each redacted on its
 * own: a span's text goes where it starts, and what it covers of later chunks is dropped, so a
 * secret split across two chunks leaves no piece behind.
 */
export function applySpansToChunks(chunks: readonly string[], spans: Span[]): string[] {
  const out: string[] = [];
  let offset = 0;
  let k = 0;
  for (const chunk of chunks) {
    const end = offset + chunk.length;
    let piece = '';
    let at = offset;
    while (k < spans.length && (spans[k] as Span).start < end) {
      const s = spans[k] as Span;
      if (s.start >= at) piece += chunk.slice(at - offset, s.start - offset) + s.text;
      at = Math.max(at, Math.min(s.end, end));
      if (s.end > end) break;
      k++;
    }
    out.push(piece + chunk.slice(at - offset));
    offset = end;
  }
  return out;
}

import { visible } from './errors.js';

/**
 * What a block prints, cut to a bounded size before anything turns it into text to show or store
 * (docs/runner.md, "Output a block prints, and its limits"). One policy, with its limits as
 * parameters:
 *
 * - a line longer than `line` keeps its first words within that length and says how much of it was
 *   cut: `… (19.1 MiB cut)`;
 * - of the whole, the first lines are kept while the kept text is under `head`, then the last
 *   lines up to `tail`, with a line between them saying how much was left out:
 *   `… (95.4 MiB of output cut)`.
 *
 * A cut never splits a word (a run of characters without a space, quote, comma or bracket): a
 * word that reaches the cut is left out whole, so a credential is either kept whole (and redacted,
 * which happens after the cut) or not shown at all. For the same reason the kept tail never starts
 * inside a private key's body (the lines up to its END line are left out with the rest).
 * Sizes count characters (bytes, for ASCII). Cutting is linear in the input and runs no regular
 * expression over it; the same text gives the same result however it is split into chunks, and
 * cutting a cut text again changes nothing.
 */

export interface OutputLimits {
  /** A line longer than this is cut (its kept words and the note are at most this long). */
  line: number;
  /** Lines from the start are kept while what is kept stays under this. */
  head: number;
  /** Then the last lines, up to this (the note included). */
  tail: number;
}

/** What the events carry, per stream of a command (an sh block is one command): what the reporters show. */
export const OUTPUT_LIMITS: OutputLimits = { line: 16 * 1024, head: 256 * 1024, tail: 768 * 1024 };
/** What a transcript records per stream of a command (its output, the command's record and the call's result). */
export const RECORD_LIMITS: OutputLimits = { line: 16 * 1024, head: 64 * 1024, tail: 192 * 1024 };
/** A failure's message, its stderr tail, a wait's message. */
export const MESSAGE_LIMITS: OutputLimits = { line: 4 * 1024, head: 8 * 1024, tail: 24 * 1024 };

/** The longest note a cut writes (`… (1048575.9 MiB of output cut)` and its line end). */
export const NOTE_MAX = 40;

/** A size for a note: `512 B`, `12.3 KiB`, `95.4 MiB`. */
export function sizeText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The note that ends a cut line. */
export const lineNote = (cut: number) => `… (${sizeText(cut)} cut)`;
/** The line that stands for the lines left out between the head and the tail. */
export const outputNote = (cut: number) => `… (${sizeText(cut)} of output cut)\n`;

/** Characters a credential never holds: whitespace, quotes, commas, semicolons, brackets, `&`. */
function isBoundary(c: number): boolean {
  switch (c) {
    case 9: // \t
    case 11:
    case 12:
    case 13: // \r
    case 32: // space
    case 34: // "
    case 38: // &
    case 39: // '
    case 40: // (
    case 41: // )
    case 44: // ,
    case 59: // ;
    case 60: // <
    case 62: // >
    case 91: // [
    case 93: // ]
    case 96: // `
    case 123: // {
    case 125: // }
      return true;
    default:
      return false;
  }
}

/** The last index before `end` of a boundary character, or -1. */
function lastBoundary(text: string, end: number): number {
  for (let i = Math.min(end, text.length) - 1; i >= 0; i--) if (isBoundary(text.charCodeAt(i))) return i;
  return -1;
}

/** Where the longest suffix of whole lines of `text` no longer than `limit` starts. */
function suffixStart(text: string, limit: number): number {
  if (text.length <= limit) return 0;
  const p = text.length - limit;
  if (text.charCodeAt(p - 1) === 10) return p;
  const nl = text.indexOf('\n', p);
  return nl === -1 ? text.length : nl + 1;
}

const KEY_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
const KEY_END = /-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

/** Where a kept tail may start: after a private key's END line when the tail would start inside the key. */
function afterKeyBody(text: string): number {
  const end = text.search(KEY_END);
  if (end === -1) return 0;
  const begin = text.search(KEY_BEGIN);
  if (begin !== -1 && begin < end) return 0;
  const nl = text.indexOf('\n', end);
  return nl === -1 ? text.length : nl + 1;
}

/**
 * One stream's output, cut as it comes: `push` returns what may be shown now (the head, as its
 * words complete), `end` the rest (the note and the tail). `push(a) + push(b) + end()` is
 * `cutOutput(a + b)`. Holds at most `tail` twice over, plus a line.
 */
export class OutputCutter {
  private readonly keep: number;
  private readonly headRoom: number;
  private headLen = 0;
  private inHead = true;
  // The current line.
  private col = 0;
  private held = '';
  private placed = 0;
  private dropping = false;
  private kept = '';
  private keptLen = 0;
  // The tail: its text so far, and where cut lines (shorter than they were) sit in it.
  private pieces: string[] = [];
  private tailLen = 0;
  private tailTotal = 0;
  private tailBase = 0;
  private deficits: { at: number; deficit: number }[] = [];
  private dropped = 0;

  constructor(private readonly limits: OutputLimits = OUTPUT_LIMITS) {
    if (limits.line < 2 * NOTE_MAX || limits.head < limits.line + 1 || limits.tail < 2 * (limits.line + 1) + NOTE_MAX)
      throw new RangeError(`output limits too small: ${JSON.stringify(limits)}`);
    this.keep = limits.line - NOTE_MAX;
    this.headRoom = limits.head - limits.line - 1;
  }

  push(text: string): string {
    let out = '';
    let pos = 0;
    const { line } = this.limits;
    while (pos < text.length) {
      if (this.col === 0 && !this.dropping) {
        // A line starts: in the head while the head has room for it, else in the tail.
        if (this.inHead && this.headLen > this.headRoom) this.inHead = false;
        // Whole lines at once, each no longer than `line`, while they stay where this one goes.
        let end = pos;
        for (;;) {
          if (this.inHead && this.headLen + (end - pos) > this.headRoom) break;
          const nl = text.indexOf('\n', end);
          if (nl === -1 || nl - end > line) break;
          end = nl + 1;
        }
        if (end > pos) {
          const run = text.slice(pos, end);
          if (this.inHead) {
            out += run;
            this.headLen += run.length;
          } else this.pushTail(run, 0);
          pos = end;
          continue;
        }
      }
      const nl = text.indexOf('\n', pos);
      out += this.addSegment(text.slice(pos, nl === -1 ? text.length : nl));
      if (nl === -1) break;
      out += this.endLine('\n');
      pos = nl + 1;
    }
    return out;
  }

  /** The rest: the line not ended yet, and the tail (after its note when lines were left out). The cutter starts anew. */
  end(): string {
    let out = this.col > 0 || this.dropping ? this.endLine('') : '';
    if (!this.inHead || this.pieces.length > 0) {
      let joined = this.pieces.join('');
      if (this.tailTotal > this.limits.tail) {
        let start = suffixStart(joined, this.limits.tail - NOTE_MAX);
        start += afterKeyBody(joined.slice(start));
        this.drop(start);
        joined = joined.slice(start);
        out += outputNote(this.dropped);
      }
      out += joined;
    }
    this.reset();
    return out;
  }

  private reset(): void {
    Object.assign(this, new OutputCutter(this.limits));
  }

  /** Text of the current line, up to (not including) its line end. */
  private addSegment(seg: string): string {
    if (seg === '') return '';
    if (this.dropping) {
      this.col += seg.length;
      return '';
    }
    this.col += seg.length;
    if (this.col > this.limits.line) {
      // Too long: its words within the first `keep` characters stay, the rest is counted.
      const room = this.keep - this.placed;
      const window = room <= this.held.length ? this.held.slice(0, room) : this.held + seg.slice(0, room - this.held.length);
      const kept = window.slice(0, lastBoundary(window, window.length) + 1);
      this.keptLen = this.placed + kept.length;
      this.held = '';
      this.dropping = true;
      if (this.inHead) {
        this.headLen += kept.length;
        return kept;
      }
      this.kept = kept;
      return '';
    }
    this.held += seg;
    if (!this.inHead) return '';
    // In the head, words go out as they complete, within the first `keep` characters of the line.
    const b = lastBoundary(this.held, Math.min(this.held.length, this.keep - this.placed));
    if (b < 0) return '';
    const out = this.held.slice(0, b + 1);
    this.held = this.held.slice(b + 1);
    this.placed += out.length;
    this.headLen += out.length;
    return out;
  }

  private endLine(nl: string): string {
    let text: string;
    let deficit = 0;
    if (this.dropping) {
      const cut = this.col - this.keptLen;
      const note = lineNote(cut);
      text = (this.inHead ? '' : this.kept) + note + nl;
      deficit = cut - note.length;
    } else text = this.held + nl;
    this.col = 0;
    this.held = '';
    this.placed = 0;
    this.dropping = false;
    this.kept = '';
    this.keptLen = 0;
    if (this.inHead) {
      this.headLen += text.length;
      return text;
    }
    this.pushTail(text, deficit);
    return '';
  }

  private pushTail(text: string, deficit: number): void {
    if (deficit > 0) this.deficits.push({ at: this.tailBase + this.tailLen, deficit });
    this.pieces.push(text);
    this.tailLen += text.length;
    this.tailTotal += text.length;
    if (this.tailLen > 2 * this.limits.tail) {
      const joined = this.pieces.join('');
      const start = suffixStart(joined, this.limits.tail);
      this.drop(start);
      this.pieces = [joined.slice(start)];
    }
  }

  /** Leaves out the tail's first `n` characters (whole lines), counting what they stood for. */
  private drop(n: number): void {
    if (n <= 0) return;
    const upTo = this.tailBase + n;
    let more = 0;
    while (this.deficits.length > 0 && (this.deficits[0] as { at: number }).at < upTo) more += (this.deficits.shift() as { deficit: number }).deficit;
    this.dropped += n + more;
    this.tailBase = upTo;
    this.tailLen -= n;
  }
}

/** A text cut by the policy above (OutputCutter in one go). */
export function cutOutput(text: string, limits: OutputLimits = OUTPUT_LIMITS): string {
  // Short text cannot be cut: no work.
  if (text.length <= limits.line && text.length <= limits.head - limits.line - 1) return text;
  const cutter = new OutputCutter(limits);
  return cutter.push(text) + cutter.end();
}

/** A colour sequence (SGR), or one character `visible` escapes. */
const COLOUR_OR_CONTROL = /\u001b\[[0-9;:]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Output made safe for a terminal or a log, as errors.ts `visible` does for input: every control
 * character but newline and tab (a title, a screen clear, a carriage return that overwrites a
 * line, a bidirectional override) is shown as an escape (`\x1b`); with `colour`, SGR colour
 * sequences stay. Run it over cut text only (its lines are bounded).
 */
export function visibleOutput(text: string, options: { colour?: boolean } = {}): string {
  if (!options.colour) return visible(text);
  return text.replace(COLOUR_OR_CONTROL, (c) => (c.length > 1 ? c : visible(c)));
}

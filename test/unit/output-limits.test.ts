// Output a block prints, and its limits (docs/runner.md): every place that turns a command's output
// into text to show or store cuts it first, with one policy (src/runner/output-limits.ts). Checked
// with generated outputs (line lengths around the limits, control characters of every kind, keys,
// chunkings) under small limits, and a few MB under the real ones for time and size.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldedOutput } from '../../src/runner/command-output.js';
import { boundedEvents, EventBus, type RunEvent } from '../../src/runner/events.js';
import {
  cutOutput,
  MESSAGE_LIMITS,
  NOTE_MAX,
  OUTPUT_LIMITS,
  OutputCutter,
  type OutputLimits,
  RECORD_LIMITS,
  visibleOutput,
} from '../../src/runner/output-limits.js';
import { plainReporter } from '../../src/runner/reporters/plain.js';
import { lastLines } from '../../src/runner/shell.js';
import type { Block } from '../../src/runner/types.js';

const RUNS = { numRuns: 300 };

/** Small limits, so generated text crosses them: a line of 80–200, a head and a tail of a few lines. */
const limitsArb: fc.Arbitrary<OutputLimits> = fc
  .record({ line: fc.integer({ min: 2 * NOTE_MAX, max: 200 }), head: fc.integer({ min: 0, max: 600 }), tail: fc.integer({ min: 0, max: 800 }) })
  .map(({ line, head, tail }) => ({ line, head: line + 1 + head, tail: 2 * (line + 1) + NOTE_MAX + tail }));

/** Characters a command prints; none of them spells a note's words. */
const CHARS = ['a', 'b', 'x', 'y', 'z', '0', '=', '-', '/', '+', ' ', '\t', '"', ',', '\n', '\n', '\r', '\u0000', '\u001b', '\u0007', '\u009b', '\u202e'];
/** Lines around a line limit of 80–200: short ones, ones near the limit, long ones. */
const lineArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(...CHARS.filter((c) => c !== '\n')), maxLength: 20 }),
  fc
    .tuple(fc.constantFrom(...CHARS.filter((c) => c !== '\n')), fc.integer({ min: 60, max: 260 }), fc.boolean())
    .map(([c, n, words]) => (words ? `${c}${'ab '.repeat(n)}`.slice(0, n) : c.repeat(n))),
  fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 400 }),
);
const textArb = fc.array(lineArb, { maxLength: 40 }).chain((lines) => fc.constantFrom(lines.join('\n'), `${lines.join('\n')}\n`));

/** Splits text into chunks at generated points (a chunk may end mid-line, mid-word, or be empty). */
function chunked(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of at) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}

const BOUNDARY = /[\s"',;()[\]{}<>&`]+/;
const NOTE_WORDS = /^(…|\d+(\.\d)?|B|KiB|MiB|cut|of|output)$/;
const words = (text: string) => text.split(BOUNDARY).filter(Boolean);
const lines = (text: string) => text.split('\n');

describe('cutOutput and OutputCutter', () => {
  it('give the same text however the output is split into chunks', () => {
    fc.assert(
      fc.property(textArb, limitsArb, fc.array(fc.nat(), { maxLength: 12 }), (text, limits, cuts) => {
        const cutter = new OutputCutter(limits);
        const streamed =
          chunked(text, cuts)
            .map((c) => cutter.push(c))
            .join('') + cutter.end();
        expect(streamed).toBe(cutOutput(text, limits));
      }),
      RUNS,
    );
  });

  it('keep every line within the line limit and the whole within head + tail', () => {
    fc.assert(
      fc.property(textArb, limitsArb, (text, limits) => {
        const out = cutOutput(text, limits);
        for (const line of lines(out)) expect(line.length).toBeLessThanOrEqual(limits.line);
        expect(out.length).toBeLessThanOrEqual(limits.head + limits.tail + 1);
      }),
      RUNS,
    );
  });

  it('change nothing in output within the limits, and nothing when cut again', () => {
    fc.assert(
      fc.property(textArb, limitsArb, (text, limits) => {
        const out = cutOutput(text, limits);
        if (text.length <= limits.tail && lines(text).every((l) => l.length <= limits.line)) expect(out).toBe(text);
        expect(cutOutput(out, limits)).toBe(out);
      }),
      RUNS,
    );
  });

  it('never split a word: what is kept of a cut line or a cut output is whole words, and a note says what was cut', () => {
    fc.assert(
      fc.property(textArb, limitsArb, (text, limits) => {
        const out = cutOutput(text, limits);
        const known = new Set(words(text));
        for (const w of words(out)) if (!NOTE_WORDS.test(w)) expect(known.has(w), `"${w}" is not a word of the output`).toBe(true);
        if (out !== text) expect(out).toMatch(/… \(\d+(\.\d)? (B|KiB|MiB)( of output)? cut\)/);
      }),
      RUNS,
    );
  });

  it('keep a secret whole or leave it out whole, wherever the cuts fall', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_.-]{8,60}$/);
    fc.assert(
      fc.property(textArb, secret, fc.nat(), limitsArb, (text, s, at, limits) => {
        const p = at % (text.length + 1);
        const out = cutOutput(`${text.slice(0, p)} ${s} ${text.slice(p)}`, limits);
        // Any piece of the secret shown is all of it.
        for (const w of words(out)) if (w.length >= 4 && s.includes(w) && w !== s) expect(text).toContain(w);
      }),
      RUNS,
    );
  });

  it('never start the kept tail inside a private key', () => {
    const body = Array.from({ length: 30 }, (_, i) => `${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.slice(0, 20)}${String(i).padStart(4, '0')}`);
    const key = ['-----BEGIN PRIVATE KEY-----', ...body, '-----END PRIVATE KEY-----'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), limitsArb, (before, after, limits) => {
        const text = [...Array.from({ length: before }, (_, i) => `before ${i}`), ...key, ...Array.from({ length: after }, (_, i) => `after ${i}`)].join('\n');
        const out = lines(cutOutput(text, limits));
        const begin = out.indexOf(key[0] as string);
        for (const line of body) if (out.includes(line)) expect(begin, `${line} shown without its BEGIN line`).toBeGreaterThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it('cut a few MB of every shape in bounded time and size under the real limits', () => {
    const mb = 4 * 1024 * 1024;
    const shapes = {
      'one line of NULs': '\u0000'.repeat(mb),
      'short lines': 'y\n'.repeat(mb / 2),
      'long lines': `${'word '.repeat(10_000)}\n`.repeat(mb / 50_000),
      'control characters': '\u001b]0;pwned\u0007\u001b[2J\r'.repeat(mb / 16),
    };
    for (const [name, text] of Object.entries(shapes))
      for (const limits of [OUTPUT_LIMITS, RECORD_LIMITS, MESSAGE_LIMITS]) {
        const t0 = performance.now();
        const cutter = new OutputCutter(limits);
        let out = '';
        for (let at = 0; at < text.length; at += 65_536) out += cutter.push(text.slice(at, at + 65_536));
        out += cutter.end();
        expect(performance.now() - t0, name).toBeLessThan(1500);
        expect(out.length, name).toBeLessThanOrEqual(limits.head + limits.tail + 1);
        expect(out, name).toBe(cutOutput(text, limits));
        expect(out, name).toMatch(/cut\)/);
      }
  });
});

describe('visibleOutput', () => {
  it('shows every control character but newline and tab as an escape; colours only when asked', () => {
    const controls = fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((n) => String.fromCharCode(n)), maxLength: 60 });
    const sgr = fc.constantFrom('\u001b[31m', '\u001b[0m', '\u001b[1;32m', '\u001b[38;5;2m');
    fc.assert(
      fc.property(fc.array(fc.oneof(controls, sgr, fc.constantFrom('\u202e', '\u2066', 'x')), { maxLength: 10 }), (parts) => {
        const text = parts.join('');
        const plain = visibleOutput(text);
        expect(plain).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        const colour = visibleOutput(text, { colour: true });
        expect(colour.replace(/\u001b\[[0-9;:]*m/g, '')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
      RUNS,
    );
    expect(visibleOutput('\u001b]0;pwned\u0007\u001b[2J')).toBe('\\x1b]0;pwned\\x07\\x1b[2J');
  });
});

const block = { id: 'big', kind: 'sh', file: 'book/01.md', line: 3, codeLine: 4, code: 'x\n', chapterId: '01' } as unknown as Block;

describe('the events carry bounded output', () => {
  it('a stream cut as it comes, its note and tail before its command:end, command:end cut alike', () => {
    fc.assert(
      fc.property(textArb, limitsArb, fc.array(fc.nat(), { maxLength: 8 }), (text, limits, cuts) => {
        const heard: RunEvent[] = [];
        const bound = boundedEvents((e) => heard.push(e), limits);
        bound({ type: 'block:start', block, attempt: 1, time: 0 });
        for (const c of chunked(text, cuts)) bound({ type: 'block:output', block, stream: 'stdout', text: c });
        bound({ type: 'command:end', block, id: 1, command: 'x', exitCode: 0, durationMs: 1, stdout: text, stderr: '' });
        const streamed = heard.flatMap((e) => (e.type === 'block:output' ? [e.text] : [])).join('');
        expect(streamed).toBe(cutOutput(text, limits));
        const end = heard.at(-1);
        expect(end?.type === 'command:end' && end.stdout).toBe(streamed);
      }),
      { numRuns: 150 },
    );
  });

  it("a listener's error never reaches the emitter: said once, the other listeners still hear", () => {
    const warnings: string[] = [];
    const bus = new EventBus({ onListenerError: (error) => warnings.push(String(error)) });
    const heard: string[] = [];
    bus.on(() => {
      throw new RangeError('Invalid string length');
    });
    bus.on((e) => heard.push(e.type));
    expect(() => {
      bus.emit({ type: 'block:start', block, attempt: 1, time: 0 });
      bus.emit({ type: 'block:output', block, stream: 'stdout', text: 'ok\n' });
      bus.emit({ type: 'block:end', block, status: 'passed', durationMs: 1, attempts: 1 });
    }).not.toThrow();
    expect(heard).toEqual(['block:start', 'block:output', 'block:end']);
    expect(warnings).toEqual(['RangeError: Invalid string length']);
  });

  it('failures are cut: a 3 MB line of stderr is not repeated whole', () => {
    const line = 'y'.repeat(3 * 1024 * 1024);
    const tail = lastLines(`${line}\nlast words\n`, 8);
    expect(tail.length).toBeLessThanOrEqual(MESSAGE_LIMITS.head + MESSAGE_LIMITS.tail + 1);
    expect(tail).toMatch(/^… \(3\.0 MiB cut\)\nlast words$/);
    // Within the limits, as before: the last lines, trailing whitespace left out.
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z ]{0,20}$/), { maxLength: 20 }), fc.integer({ min: 1, max: 10 }), (ls, n) => {
        const text = ls.join('\n');
        expect(lastLines(text, n)).toBe(text.trimEnd().split('\n').slice(-n).join('\n'));
      }),
    );
  });

  it('a folded summary reads a few hundred characters of a line of any length', () => {
    const t0 = performance.now();
    const folded = foldedOutput('\u0000'.repeat(20 * 1024 * 1024), '');
    expect(performance.now() - t0).toBeLessThan(500);
    expect(folded).toBe(`↳ ${'\\x00'.repeat(17)}\\x0…`);
  });

  it('the plain reporter escapes what a block prints: no title, no screen clear', () => {
    let log = '';
    const report = plainReporter({ write: (t) => (log += t) });
    report({ type: 'block:output', block, stream: 'stdout', text: '\u001b]0;pwned\u0007\u001b[2Jok\r\n' });
    report({ type: 'block:end', block, status: 'passed', durationMs: 1, attempts: 1 });
    expect(log).toContain('│ \\x1b]0;pwned\\x07\\x1b[2Jok\\x0d');
    expect(log).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dockerFrameSplitter, lineSplitter } from '../../src/runner/targets/byte-splitters.js';

/** Bytes cut into chunks at the given points (sorted, deduplicated, inside the bytes). */
function chop(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, at));
    from = at;
  }
  return chunks;
}

const frame = (stream: number, payload: Buffer) => {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

describe('lineSplitter', () => {
  it('gives every whole line of the bytes, whatever the chunks, multi-byte characters whole', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/\n/g, ' '))),
        fc.string({ maxLength: 10 }).map((s) => s.replace(/\n/g, ' ')),
        fc.array(fc.nat()),
        (lines, rest, cuts) => {
          const bytes = Buffer.from(lines.map((l) => `${l}\n`).join('') + rest, 'utf8');
          const seen: string[] = [];
          const split = lineSplitter((line) => seen.push(line));
          for (const chunk of chop(bytes, cuts)) split(chunk);
          // A last line without its newline is not a line yet.
          expect(seen).toEqual(lines);
        },
      ),
    );
  });
});

describe('lineSplitter after a listener threw', () => {
  it('gives the next chunks whole lines, not the thrown one joined to them', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).map((s) => s.replace(/\n/g, ' ')),
        fc.nat(9),
        (bad, cut) => {
          const seen: string[] = [];
          const split = lineSplitter((line) => {
            if (line === bad) throw new Error('a listener that fails');
            seen.push(line);
          });
          const bytes = Buffer.from(`${bad}\n`);
          const at = Math.min(cut, bytes.length - 1);
          split(bytes.subarray(0, at));
          expect(() => split(bytes.subarray(at))).toThrow('a listener that fails');
          split(Buffer.from('next\n'));
          expect(seen).toEqual(['next']);
        },
      ),
    );
  });
});

describe('dockerFrameSplitter', () => {
  it("gives each frame's stream and payload in order, whatever the chunks", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 300 }))), fc.array(fc.nat()), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map(([stream, payload]) => frame(stream, Buffer.from(payload))));
        const seen: [number, number[]][] = [];
        const corrupt: string[] = [];
        const split = dockerFrameSplitter(
          (stream, payload) => seen.push([stream, [...payload]]),
          (why) => corrupt.push(why),
        );
        for (const chunk of chop(bytes, cuts)) split(chunk);
        expect(corrupt).toEqual([]);
        expect(seen).toEqual(frames.map(([stream, payload]) => [stream, [...payload]]));
      }),
    );
  });

  it('stops at a header that is not one, says so once, and gives nothing after it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 4 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }).filter((h) => (h[0] ?? 0) > 2 || h[1] !== 0 || h[2] !== 0 || h[3] !== 0),
        fc.array(fc.nat()),
        (good, bad, cuts) => {
          const bytes = Buffer.concat([...good.map((p) => frame(1, Buffer.from(p))), Buffer.from(bad), frame(1, Buffer.from('after'))]);
          const seen: string[] = [];
          const corrupt: string[] = [];
          const split = dockerFrameSplitter(
            (_, payload) => seen.push(payload.toString('hex')),
            (why) => corrupt.push(why),
          );
          for (const chunk of chop(bytes, cuts)) split(chunk);
          expect(corrupt).toHaveLength(1);
          expect(seen).toEqual(good.map((p) => Buffer.from(p).toString('hex')));
        },
      ),
    );
  });
});

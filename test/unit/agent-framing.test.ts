// How the runner cuts its agent's bytes: JSON lines, and the frames of a Docker exec's attached
// stream. Generated inputs, split into chunks at generated places: every line comes out whole and
// in order whatever the cut (a multi-byte character cut in two included), and the frames give
// each stream's payloads in order, as docker-modem's demuxStream (what the target used before)
// gives them for stdout and stderr frames.
import { PassThrough } from 'node:stream';
import Modem from 'docker-modem';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execFrameSplitter, lineSplitter } from '../../src/runner/targets/agent-framing.js';

/** `bytes` cut at the generated places (sorted, deduplicated, inside the buffer). */
function cut(bytes: Buffer, places: number[]): Buffer[] {
  const at = [...new Set(places.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    if (p > from) chunks.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return chunks;
}

/** A Docker exec frame: stream byte, three zero bytes, the length big-endian, the payload. */
function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const line = fc.string({ unit: fc.constantFrom('a', '{', '"', 'é', '€', '𝄞', ' ', '\\', '\r'), maxLength: 40 });

describe('the agent’s lines', () => {
  it('every complete line comes out whole and in order, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), line, fc.array(fc.nat(), { maxLength: 20 }), (lines, unfinished, places) => {
        const seen: string[] = [];
        const push = lineSplitter((l) => seen.push(l));
        for (const chunk of cut(Buffer.from(lines.map((l) => `${l}\n`).join('') + unfinished), places)) push(chunk);
        // A line without its newline is not a line yet.
        expect(seen).toEqual(lines);
      }),
    );
  });
});

describe('a Docker exec’s frames', () => {
  it('give stdout and stderr as docker-modem’s demuxStream gives them, however the bytes are cut', async () => {
    const modem = new Modem({ socketPath: '/nonexistent' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.uint8Array({ maxLength: 300 })), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (frames, places) => {
          const bytes = Buffer.concat(frames.map(([stream, payload]) => frame(stream, Buffer.from(payload))));
          const chunks = cut(bytes, places);
          const ours = { out: [] as Buffer[], err: [] as Buffer[] };
          const push = execFrameSplitter(
            (c) => ours.out.push(Buffer.from(c)),
            (c) => ours.err.push(Buffer.from(c)),
          );
          for (const chunk of chunks) push(chunk);

          const input = new PassThrough();
          const out = new PassThrough();
          const err = new PassThrough();
          const theirs = { out: [] as Buffer[], err: [] as Buffer[] };
          out.on('data', (c: Buffer) => theirs.out.push(c));
          err.on('data', (c: Buffer) => theirs.err.push(c));
          modem.demuxStream(input, out, err);
          const ended = new Promise((resolve) => input.on('end', resolve));
          for (const chunk of chunks) input.write(chunk);
          input.end();
          await ended;
          await new Promise((resolve) => setImmediate(resolve));

          // docker-modem sends stdin's frames to stderr and stops parsing at stream 3; Docker's own
          // stdcopy (which ours follows) sends stdin's to stdout. A node's dockerd sends neither to an exec.
          if (frames.every(([s]) => s === 1 || s === 2)) {
            expect(Buffer.concat(ours.out)).toEqual(Buffer.concat(theirs.out));
            expect(Buffer.concat(ours.err)).toEqual(Buffer.concat(theirs.err));
          }
          // And what the frames said, independently of either: each stream's payloads in order.
          expect(Buffer.concat(ours.out)).toEqual(Buffer.concat(frames.filter(([s]) => s <= 1).map(([, p]) => Buffer.from(p))));
          expect(Buffer.concat(ours.err)).toEqual(Buffer.concat(frames.filter(([s]) => s >= 2).map(([, p]) => Buffer.from(p))));
        },
      ),
    );
  });
});

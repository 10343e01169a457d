// Polls make the same call hundreds of times; the transcript keeps a run of equal answers as one
// call with `repeat` (record/fold.ts), and a replay answers it that many times (record/replay.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldRepeats } from '../../src/runner/record/fold.js';
import { ReplaySession } from '../../src/runner/record/replay.js';
import { blockHash, type RecordedCall, type Transcript } from '../../src/runner/record/transcript.js';
import type { Block } from '../../src/runner/types.js';

// A few paths, arguments and answers, so that generated blocks repeat calls and answers often.
const call = fc.record({
  kind: fc.constantFrom('k8s' as const, 'docker' as const),
  path: fc.constantFrom('core.readNode', 'core.listNamespacedPod', 'docker.listContainers'),
  args: fc.constantFrom([{ name: 'a' }], [{ name: 'b' }], []),
  answer: fc.oneof(
    fc.constantFrom('not yet', 'ready', 'gone').map((result) => ({ result })),
    fc.constant({ error: { name: 'Error', message: 'refused' } }),
  ),
  durationMs: fc.nat(50),
});
type Generated = { kind: RecordedCall['kind']; path: string; args: readonly unknown[]; answer: object; durationMs: number };
const recorded = (calls: Generated[]) => calls.map(({ answer, args, ...rest }) => ({ ...rest, args: [...args], ...answer }) as RecordedCall);

/** The answers each call key got, in order, with repeats spelled out. */
function answersByKey(calls: RecordedCall[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const c of calls) {
    const key = `${c.kind} ${c.path} ${JSON.stringify(c.args)}`;
    const list = byKey.get(key) ?? [];
    for (let i = 0; i < (c.repeat ?? 1); i++) list.push(JSON.stringify([c.result, c.error]));
    byKey.set(key, list);
  }
  return byKey;
}

const block = { id: 'ch#poll', info: 'ts run name=poll', code: 'await waitFor(() => k8s.core.readNode({ name: "a" }))' } as unknown as Block;
function session(calls: RecordedCall[]): ReplaySession {
  const transcript = {
    format: 'build-a-minikube/transcript@3',
    chapters: [{ id: 'ch', number: 1, title: 'ch', file: 'ch.md', hash: 'x', blocks: [{ id: block.id, kind: 'ts', line: 1, hash: blockHash(block), calls }] }],
  } as unknown as Transcript;
  const replay = new ReplaySession(transcript);
  replay.enter(block);
  return replay;
}

describe('folded repeats in a transcript', () => {
  it('keep every call key answering the same answers in the same order, and never grow (generated)', () => {
    fc.assert(
      fc.property(fc.array(call, { maxLength: 60 }), (generated) => {
        const calls = recorded(generated);
        const folded = foldRepeats(calls);
        expect(answersByKey(folded)).toEqual(answersByKey(calls));
        expect(folded.length).toBeLessThanOrEqual(calls.length);
        expect(foldRepeats(folded)).toEqual(folded);
      }),
    );
  });

  it('fold a poll of 300 equal answers into one call, and a replay answers it 300 times, then the next answer (generated)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), (polls) => {
        const notYet = { kind: 'k8s', path: 'core.readNode', args: [{ name: 'a' }], result: { ready: false }, durationMs: 3 } as RecordedCall;
        const ready = { ...notYet, result: { ready: true } };
        const folded = foldRepeats([...Array.from({ length: polls }, () => ({ ...notYet })), ready]);
        expect(folded).toHaveLength(2);
        expect(folded[0]?.repeat).toBe(polls);
        const replay = session(folded);
        for (let i = 0; i < polls; i++) expect(replay.find('k8s', 'core.readNode', [{ name: 'a' }])?.result).toEqual({ ready: false });
        expect(replay.find('k8s', 'core.readNode', [{ name: 'a' }])?.result).toEqual({ ready: true });
        expect(replay.find('k8s', 'core.readNode', [{ name: 'a' }])).toBeUndefined();
      }),
      { numRuns: 20 },
    );
  });

  it('replays a folded block exactly as the unfolded one (generated)', () => {
    fc.assert(
      fc.property(fc.array(call, { maxLength: 40 }), (generated) => {
        const calls = recorded(generated);
        const plain = session(calls);
        const folded = session(foldRepeats(calls));
        for (const c of calls) {
          const a = plain.find(c.kind, c.path, c.args);
          const b = folded.find(c.kind, c.path, c.args);
          expect([b?.result, b?.error]).toEqual([a?.result, a?.error]);
        }
      }),
    );
  });
});

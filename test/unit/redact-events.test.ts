import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.js';
import { REDACTED, Redactor } from '../../src/runner/record/redact.js';
import { redactingRelay } from '../../src/runner/record/redact-events.js';
import type { Block } from '../../src/runner/types.js';

// What the reporters are shown (plain, json, JUnit, the UI): a block's output, cut into chunks
// anywhere (inside a secret, inside a private key), interleaved across streams and commands, must
// come out with every secret blanked, nothing else lost, and before the event that ends it.

const block = { id: 'leaky', chapterId: '01', kind: 'sh', line: 3, info: 'sh run', code: '' } as unknown as Block;

/** Private keys as openssl and Node print them (generated once: RSA is slow). */
const KEYS = [
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
];
const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));

const token = (seed: number, encoding: 'hex' | 'base64') => createHash('sha256').update(`token:${seed}`).digest(encoding).replace(/=+$/, '').slice(0, 40);

const WORDS = ['kube-apiserver', 'Running', 'node/k8s-worker', 'configured', '10.96.0.1:443', 'ok', 'pod/web-1 created', ''];

/** One line of output: words, a registered secret inside words, or a private key (several lines). */
type Line = { text: string; secret?: string; key?: string };
const line: fc.Arbitrary<Line> = fc.oneof(
  fc.array(fc.constantFrom(...WORDS), { maxLength: 4 }).map((w) => ({ text: `${w.join(' ')}\n` })),
  fc.record({ seed: fc.integer(), enc: fc.constantFrom<'hex' | 'base64'>('hex', 'base64'), before: fc.constantFrom(...WORDS) }).map(({ seed, enc, before }) => {
    const secret = token(seed, enc);
    return { text: `${before} token=${secret} done\n`, secret };
  }),
  fc.constantFrom(...KEYS).map((key) => ({ text: key, key })),
);

/** Where a line goes: a block stream, or a stream of one of two `$` commands. */
const place = fc.record({ command: fc.constantFrom(undefined, 1, 2), stream: fc.constantFrom<'stdout' | 'stderr'>('stdout', 'stderr') });
const streamKey = (p: { command?: number; stream: string }) => `${p.command ?? 'block'}/${p.stream}`;

interface Scenario {
  streams: Map<string, { place: { command?: number; stream: 'stdout' | 'stderr' }; text: string; lines: Line[] }>;
  events: RunEvent[];
}

/** The run's events for one block: its streams cut at random points, the chunks interleaved at random. */
const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    lines: fc.array(fc.tuple(place, line), { minLength: 1, maxLength: 12 }),
    cuts: fc.array(fc.nat(), { maxLength: 40 }),
    order: fc.array(fc.nat(), { maxLength: 200 }),
  })
  .map(({ lines, cuts, order }) => {
    const streams: Scenario['streams'] = new Map();
    for (const [p, l] of lines) {
      const s = streams.get(streamKey(p)) ?? { place: p, text: '', lines: [] };
      s.text += l.text;
      s.lines.push(l);
      streams.set(streamKey(p), s);
    }
    // Each stream's text cut at some of the cut points.
    const queues = [...streams.values()].map((s) => {
      const at = [...new Set(cuts.map((c) => c % (s.text.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...at, s.text.length].slice(1).map((end, i, all) => s.text.slice(i === 0 ? 0 : all[i - 1], end));
      return { place: s.place, chunks: chunks.filter(Boolean) };
    });
    const events: RunEvent[] = [{ type: 'block:start', block, attempt: 1, time: 0 }];
    for (const id of [1, 2]) events.push({ type: 'command:start', block, id, command: `kubectl get secret ${id}`, time: 0 });
    let next = 0;
    while (queues.some((q) => q.chunks.length > 0)) {
      const live = queues.filter((q) => q.chunks.length > 0);
      const q = live[(order[next++ % Math.max(1, order.length)] ?? 0) % live.length] as (typeof queues)[number];
      const text = q.chunks.shift() as string;
      events.push(
        q.place.command === undefined
          ? { type: 'block:output', block, stream: q.place.stream, text }
          : { type: 'command:output', block, id: q.place.command, stream: q.place.stream, text },
      );
    }
    for (const id of [1, 2]) {
      const mine = [...streams.values()].filter((s) => s.place.command === id);
      const stdout = mine
        .filter((s) => s.place.stream === 'stdout')
        .map((s) => s.text)
        .join('');
      events.push({ type: 'command:end', block, id, command: `kubectl get secret ${id}`, exitCode: 0, durationMs: 1, stdout, stderr: '' });
    }
    events.push({ type: 'block:end', block, status: 'passed', durationMs: 2, attempts: 1 });
    return { streams, events };
  });

function relay(redactor: Redactor, events: RunEvent[]): RunEvent[] {
  const shown: RunEvent[] = [];
  const { listener } = redactingRelay(redactor, (e) => shown.push(e));
  for (const e of events) listener(e);
  return shown;
}

function redactorFor(s: Scenario): Redactor {
  const redactor = new Redactor();
  for (const stream of s.streams.values()) for (const l of stream.lines) if (l.secret) redactor.register(l.secret);
  return redactor;
}

const shownText = (shown: RunEvent[], p: { command?: number; stream: string }) =>
  shown
    .filter(
      (e) =>
        (e.type === 'block:output' || e.type === 'command:output') && e.stream === p.stream && (e.type === 'command:output' ? e.id : undefined) === p.command,
    )
    .map((e) => (e as { text: string }).text)
    .join('');

describe('the reporters see secrets blanked, however the output was cut', () => {
  it('shows no secret and no private key, in any event', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const shown = JSON.stringify(relay(redactorFor(s), s.events));
        for (const stream of s.streams.values())
          for (const l of stream.lines) {
            if (l.secret) expect(shown).not.toContain(l.secret.slice(0, 16));
            if (l.key) for (const body of keyBody(l.key)) expect(shown).not.toContain(body);
          }
      }),
      { numRuns: 300 },
    );
  });

  it('loses nothing else: each stream reads as it was, secrets aside, before the event that ends it', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const shown = relay(redactorFor(s), s.events);
        for (const stream of s.streams.values()) {
          const text = shownText(shown, stream.place);
          const expected = stream.lines.map((l) => (l.secret ? l.text.replace(l.secret, REDACTED) : l.key ? null : l.text));
          // Lines with no secret come out exactly, in order, between the redacted ones.
          let from = 0;
          for (const want of expected) {
            if (want === null) {
              const at = text.indexOf(REDACTED, from);
              expect(at).toBeGreaterThanOrEqual(from);
              from = at + REDACTED.length;
              continue;
            }
            const at = text.indexOf(want, from);
            expect(at, `${JSON.stringify(want)} in ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(from);
            from = at + want.length;
          }
        }
        // No output after the command or block it belongs to has ended.
        const ended = new Set<string>();
        for (const e of shown) {
          if (e.type === 'command:end') ended.add(`command ${e.id}`);
          if (e.type === 'block:end') ended.add('block');
          if (e.type === 'command:output') expect(ended.has(`command ${e.id}`)).toBe(false);
          if (e.type === 'block:output') expect(ended.has('block')).toBe(false);
        }
        // Every other event is passed on once, in its order.
        const others = (list: RunEvent[]) => list.filter((e) => e.type !== 'block:output' && e.type !== 'command:output').map((e) => e.type);
        expect(others(shown)).toEqual(others(s.events));
      }),
      { numRuns: 300 },
    );
  });

  it('passes output with no secret in it through unchanged, chunk boundaries aside', () => {
    const plain = scenario.filter((s) => [...s.streams.values()].every((st) => st.lines.every((l) => !l.secret && !l.key)));
    fc.assert(
      fc.property(plain, (s) => {
        const shown = relay(new Redactor(), s.events);
        for (const stream of s.streams.values()) expect(shownText(shown, stream.place)).toBe(stream.text);
      }),
      { numRuns: 200 },
    );
  });

  it('blanks what a failed block reports: its command, stderr tail, diagnostics and the wait message', () => {
    const redactor = new Redactor();
    const secret = token(7, 'base64');
    redactor.register(secret);
    const failure = {
      code: 'COMMAND_FAILED' as const,
      message: `curl -H "x-token: ${secret}" failed`,
      file: 'book/01.md',
      line: 3,
      stderrTail: `denied ${secret}`,
    };
    const shown = JSON.stringify(
      relay(redactor, [
        { type: 'command:start', block, id: 1, command: `echo ${secret}`, time: 0 },
        { type: 'wait', block, message: `until ${secret}`, polls: 2, lastFalseAt: 1, trueAt: 2 },
        { type: 'block:retry', block, attempt: 2, failure },
        { type: 'block:diagnostics', block, sections: [{ title: 'logs', lines: [`apiserver ${secret}`] }] as never, durationMs: 1 },
        { type: 'block:end', block, status: 'failed', durationMs: 1, attempts: 2, failure },
        { type: 'block:end', block, status: 'passed', durationMs: 1, attempts: 1, expectedFailure: `exit code 1: kubectl --token=${secret} get pods` },
      ]),
    );
    expect(shown).not.toContain(secret.slice(0, 16));
    // The command, the wait, the retry and the end (message and tail each), the diagnostics, the expected failure.
    expect(shown.split(REDACTED).length - 1).toBe(8);
  });

  it('blanks the pieces of a private key that its output showed whole, wherever they show later (a failure message has its last lines only)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), fc.integer({ min: 2, max: 12 }), fc.array(fc.nat(), { maxLength: 6 }), (key, tail, cuts) => {
        const redactor = new Redactor();
        const lines = key.trimEnd().split('\n');
        const at = [...new Set(cuts.map((c) => c % key.length))].sort((a, b) => a - b);
        const chunks = [0, ...at, key.length]
          .slice(1)
          .map((end, i, all) => key.slice(i === 0 ? 0 : all[i - 1], end))
          .filter(Boolean);
        const message = `command failed with exit code 1: cat sa.key; false\n${lines.slice(-tail).join('\n')}`;
        const shown = JSON.stringify(
          relay(redactor, [
            { type: 'command:start', block, id: 1, command: 'cat sa.key; false', time: 0 },
            ...chunks.map((text): RunEvent => ({ type: 'command:output', block, id: 1, stream: 'stdout', text })),
            { type: 'command:end', block, id: 1, command: 'cat sa.key; false', exitCode: 1, durationMs: 1, stdout: key, stderr: '' },
            { type: 'block:end', block, status: 'failed', durationMs: 1, attempts: 1, failure: { code: 'COMMAND_FAILED', message, file: 'b.md', line: 1 } },
          ]),
        );
        for (const body of keyBody(key)) expect(shown).not.toContain(body);
      }),
      { numRuns: 60 },
    );
  });

  it('holds a credential found by its shape whole when a line passes the hold limit, however the chunks fall', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60_000, max: 70_000 }),
        fc.integer(),
        fc.array(fc.integer({ min: -20, max: 60 }), { maxLength: 4 }),
        (filler, seed, cuts) => {
          const secret = token(seed, 'base64');
          const text = `${'.'.repeat(filler)} {"token":"${secret}"} done`;
          // Cuts around the secret, some of them past the limit.
          const at = [...new Set(cuts.map((c) => filler + 11 + c))].sort((a, b) => a - b);
          const chunks = [0, ...at, text.length]
            .slice(1)
            .map((end, i, all) => text.slice(i === 0 ? 0 : all[i - 1], end))
            .filter(Boolean);
          const shown = relay(new Redactor(), [
            ...chunks.map((t): RunEvent => ({ type: 'block:output', block, stream: 'stdout', text: t })),
            { type: 'block:end', block, status: 'passed', durationMs: 1, attempts: 1 },
          ]);
          const out = shown.map((e) => (e.type === 'block:output' ? e.text : '')).join('');
          for (let i = 0; i + 16 <= secret.length; i++) expect(out).not.toContain(secret.slice(i, i + 16));
          expect(out.startsWith('.'.repeat(filler))).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("shows an attempt's output before the next attempt starts (and before the reader is asked), never under it", () => {
    const shown: RunEvent[] = [];
    const relayed = redactingRelay(new Redactor(), (e) => shown.push(e));
    relayed.listener({ type: 'block:start', block, attempt: 1, time: 0 });
    relayed.listener({ type: 'block:output', block, stream: 'stdout', text: '{"message":"forbidden"}' });
    relayed.listener({ type: 'block:start', block, attempt: 2, time: 0 });
    relayed.listener({ type: 'block:output', block, stream: 'stdout', text: 'partial' });
    relayed.releaseBlock(block.id);
    expect(shown.map((e) => (e.type === 'block:output' ? e.text : e.type === 'block:start' ? `start ${e.attempt}` : e.type))).toEqual([
      'start 1',
      '{"message":"forbidden"}',
      'start 2',
      'partial',
    ]);
  });

  it('remembers what it redacted, and forgets it when a secret is registered: the same answers as a redactor that never remembered', () => {
    const step = fc.oneof(
      fc.record({ register: fc.integer().map((seed) => token(seed % 5, 'hex')) }),
      fc.record({ redact: fc.tuple(fc.nat(4), fc.constantFrom(...WORDS)).map(([seed, w]) => `${w} ${token(seed, 'hex')} ${w}`) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const remembering = new Redactor();
        // Remembered: a text redacted while its secret was unknown must not stay as it was.
        const registered: string[] = [];
        for (const s of steps) {
          if ('register' in s) {
            remembering.register(s.register);
            registered.push(s.register);
            continue;
          }
          const fresh = new Redactor();
          for (const r of registered) fresh.register(r);
          expect(remembering.redactDeep({ [s.redact]: s.redact })).toEqual(fresh.redactDeep({ [s.redact]: s.redact }));
        }
      }),
      { numRuns: 300 },
    );
  });
  it('redacts an unchanging object it met before as a redactor that never remembered would, secrets registered or learned in between', () => {
    // A pool of objects, each met again and again (a snapshot's items kept while a source is unchanged).
    const pool = [0, 1, 2, 3].map((seed) => ({
      [`container k8s_${seed}`]: { state: 'running', token: `t${seed}`, note: `${WORDS[seed]} ${token(seed, 'hex')}` },
      lines: [`${token(seed + 1, 'base64')} x`, WORDS[seed + 1] ?? ''],
    }));
    const step = fc.oneof(
      fc.record({ register: fc.nat(6).map((seed) => token(seed, 'hex')) }),
      fc.record({ learn: fc.nat(6).map((seed) => `Authorization: Bearer ${token(seed, 'base64')}`) }),
      fc.record({ redact: fc.nat(pool.length - 1) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const remembering = new Redactor();
        const told: ({ register: string } | { learn: string })[] = [];
        for (const s of steps) {
          if (!('redact' in s)) {
            if ('register' in s) remembering.register(s.register);
            else remembering.learnShapes(s.learn);
            told.push(s);
            continue;
          }
          const fresh = new Redactor();
          for (const t of told) 'register' in t ? fresh.register(t.register) : fresh.learnShapes(t.learn);
          const value = pool[s.redact];
          expect(remembering.redactUnchanging(value)).toEqual(fresh.redactDeep(value));
        }
      }),
      { numRuns: 300 },
    );
  });
});

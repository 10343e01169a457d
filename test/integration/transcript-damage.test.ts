// Property-based (fast-check): the committed transcript of the real book, damaged at one random
// inner place (a value replaced by null, a number, text, a list or an object, or removed), is
// either refused on load with TRANSCRIPT_INVALID, naming the file and the place, or it replays
// and renders with no error but the runner's own (a failed block, a replay mismatch), never
// [INTERNAL]. Replay and render run in this process, from src, as `book replay` and `book render`.
// FUZZ_RUNS=N raises the number of cases; FUZZ_SEED=S replays a seed fast-check printed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCommand } from '../../src/commands/render.js';
import { replayCommand } from '../../src/commands/replay.js';
import { readTranscript, TranscriptError } from '../../src/runner/record/transcript.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BOOK = path.join(ROOT, 'book');
const TRANSCRIPT = path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json');
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? 0) || n, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Place = (string | number)[];
type Damage = { kind: 'remove' } | { kind: 'set'; value: Json };

const original = JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as { [key: string]: Json };
const dir = mkdtempSync(path.join(tmpdir(), 'book-damage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = (node: Json): (string | number)[] =>
  Array.isArray(node) ? node.map((_, i) => i) : node !== null && typeof node === 'object' ? Object.keys(node) : [];

/**
 * Where damage starts: anywhere from the top, in the baseline, in a block, in its state, in one of
 * its calls (`*`: an index a step picks). Weighted towards the blocks, where most of a transcript is.
 */
const regions = fc.oneof(
  { weight: 1, arbitrary: fc.constant([]) },
  { weight: 1, arbitrary: fc.constant(['baseline']) },
  { weight: 2, arbitrary: fc.constant(['chapters', '*', 'blocks', '*']) },
  { weight: 2, arbitrary: fc.constant(['chapters', '*', 'blocks', '*', 'state']) },
  { weight: 2, arbitrary: fc.constant(['chapters', '*', 'blocks', '*', 'calls', '*']) },
);

/** Where a region and `steps` lead: each step picks a child (modulo their number); a leaf, or a region's key a block lacks, ends the way. */
function placeOf(region: readonly string[], steps: number[]): Place {
  const place: Place = [];
  let node: Json = original;
  const left = [...steps];
  const go = (key: string | number) => {
    place.push(key);
    node = (node as Record<string | number, Json>)[key] as Json;
  };
  for (const key of region) {
    const keys = children(node);
    const next = key === '*' ? keys[(left.shift() ?? 0) % Math.max(keys.length, 1)] : keys.includes(key) ? key : undefined;
    if (next === undefined) break;
    go(next);
  }
  for (const step of left) {
    const keys = children(node);
    if (keys.length === 0) break;
    go(keys[step % keys.length] as string | number);
  }
  return place.length > 0 ? place : ['title'];
}

/** The transcript with one place damaged: only the objects on the way there are copied. */
function damage(node: Json, place: Place, what: Damage): Json {
  const [key, ...rest] = place as [string | number, ...Place];
  const copy = (Array.isArray(node) ? [...node] : { ...(node as Record<string, Json>) }) as Record<string | number, Json>;
  if (rest.length > 0) copy[key] = damage(copy[key] as Json, rest, what);
  else if (what.kind === 'set') copy[key] = what.value;
  else if (Array.isArray(copy)) copy.splice(key as number, 1);
  else delete copy[key];
  return copy as Json;
}

/** `chapters[2].blocks[3].state`, as the loader names a place (a key that is not a name in brackets). */
const placeText = (place: Place) =>
  place
    .map((k) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`))
    .join('')
    .replace(/^\./, '');

const small = fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>;
const damages: fc.Arbitrary<Damage> = fc.oneof(
  fc.constant({ kind: 'remove' as const }),
  fc.constantFrom<Json>(null, 0, -1, 1.5, 1e12, '', 'x', true, [], {}).map((value) => ({ kind: 'set' as const, value })),
  fc
    .oneof(fc.integer(), fc.string({ maxLength: 12 }), fc.array(small, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), small, { maxKeys: 3 }))
    .map((value) => ({ kind: 'set' as const, value: value as Json })),
);

/** What a command printed as `book: [CODE]` lines. */
const codes = (text: string) => [...text.matchAll(/^book: \[([A-Z_]+)\]/gm)].map((m) => m[1]);

let cases = 0;

/** Refused before anything is shown: TRANSCRIPT_INVALID, the file, the place (or a place under it), the way out. */
function expectRefusal(error: Error, file: string, place: Place, label: string): void {
  expect(error, label).toBeInstanceOf(TranscriptError);
  const refused = error as TranscriptError;
  expect(refused.code, `${label}: ${refused.message}`).toBe('TRANSCRIPT_INVALID');
  expect(refused.message, label).toContain(file);
  if (place[0] === 'format') {
    expect(refused.message, label).toMatch(/is not a transcript of this runner/);
    return;
  }
  const where = placeText(place).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(refused.message, label).toMatch(new RegExp(`is not a whole transcript \\(${where}[.[:]`));
  expect(refused.hint, label).toMatch(/book run .*--record --transcript /);
}

/** Accepted: `book replay` (up to the damaged chapter: later ones cannot see it) and `book render` end with the runner's own codes. */
async function expectReadable(file: string, site: string, place: Place, label: string): Promise<void> {
  const chapter = place[0] === 'chapters' ? (original.chapters as { id: string }[])[place[1] as number]?.id : undefined;
  const replay = capture();
  const replayed = await replayCommand({ book: BOOK, transcript: file, reporter: 'plain', ...(chapter ? { to: chapter } : {}) }, replay.io);
  expect(codes(replay.said()), `${label}: ${replay.said().slice(-2000)}`).not.toContain('INTERNAL');
  expect([0, 1, 2], `${label}: ${replay.said().slice(-2000)}`).toContain(replayed);
  const render = capture();
  const rendered = await renderCommand({ book: BOOK, transcript: file, out: site }, render.io);
  expect(codes(render.said()), `${label}: ${render.said()}`).not.toContain('INTERNAL');
  expect([0, 2], `${label}: ${render.said()}`).toContain(rendered);
}

/** The committed transcript with each place damaged as given, written to a file of its own. */
function edited(name: string, ...edits: [Place, Damage][]): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(edits.reduce((t, [place, what]) => damage(t, place, what), original as Json)));
  return file;
}

const set = (value: Json): Damage => ({ kind: 'set', value });
const REMOVE: Damage = { kind: 'remove' };

async function refusal(file: string): Promise<TranscriptError> {
  const error = await readTranscript(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TranscriptError);
  return error as TranscriptError;
}

/** An Io that keeps what a command printed. */
function capture() {
  let said = '';
  const keep = (text: string) => {
    said += text;
  };
  return { io: { out: keep, err: keep }, said: () => said };
}

describe('a transcript damaged inside is refused whole on load, naming the place', () => {
  it('a source without items: replay stops before anything is shown, exit 2, TRANSCRIPT_INVALID and the command to record it again', async () => {
    const file = edited('no-items', [['baseline', 'sources', 'docker', 'items'], set(null)]);
    expect((await refusal(file)).message).toBe(
      `${file} is not a whole transcript (baseline.sources.docker.items: expected an object, got null): it is damaged, or was not written by this runner; record it again`,
    );
    const { io, said } = capture();
    expect(await replayCommand({ book: BOOK, transcript: file, reporter: 'plain' }, io)).toBe(2);
    expect(said()).toMatch(/^book: \[TRANSCRIPT_INVALID\] .*no-items\.json is not a whole transcript \(baseline\.sources\.docker\.items: /);
    expect(said()).toContain(`→ sudo npx book run --target local --record --transcript ${file}`);
    expect(said().split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('a change of a diff that is null or a number: render refuses it with exit 2 and writes no site', async () => {
    for (const [name, value, got] of [
      ['null-change', null, 'null'],
      ['number-change', 1, 'the number 1'],
    ] as const) {
      const file = edited(name, [['chapters', 2, 'blocks', 3, 'state', 'diff', 'changes'], set([value])]);
      const { io, said } = capture();
      const out = path.join(dir, `${name}-site`);
      expect(await renderCommand({ book: BOOK, transcript: file, out }, io)).toBe(2);
      expect(said()).toContain(
        `[TRANSCRIPT_INVALID] ${file} is not a whole transcript (chapters[2].blocks[3].state.diff.changes[0]: expected an object, got ${got})`,
      );
      expect(existsSync(out)).toBe(false);
    }
  });

  it('what the runner reads of a call, a command, a snapshot or a failure is checked; a key that is not a name is quoted', async () => {
    const block = ['chapters', 1, 'blocks', 0];
    const state = ['chapters', 2, 'blocks', 3, 'state'];
    const cases: [Place, Damage, string][] = [
      [[...block, 'calls', 0, 'result', 'stdout'], set(3), 'chapters[1].blocks[0].calls[0].result.stdout: expected a string, got the number 3'],
      [[...block, 'commands', 0, 'exitCode'], set('0'), 'chapters[1].blocks[0].commands[0].exitCode: expected a number, got "0"'],
      [
        ['baseline', 'sources', 'daemons', 'items', 'daemon cri-dockerd', 'state'],
        set(5),
        'baseline.sources.daemons.items["daemon cri-dockerd"].state: expected a string, got the number 5',
      ],
      [
        [...state, 'snapshot', 'sources', 'kubernetes', 'available'],
        REMOVE,
        'chapters[2].blocks[3].state.snapshot.sources.kubernetes.available: missing (expected one of true, false)',
      ],
      [[...state, 'diff', 'changes', 0, 'op'], set('*'), 'chapters[2].blocks[3].state.diff.changes[0].op: expected one of "+", "-", "~", got "*"'],
      [[...block, 'failure'], set({ code: 'BLOCK_FAILED', message: 'm', file: 'f' }), 'chapters[1].blocks[0].failure.line: missing (expected a number)'],
      [['baseline', 'logs'], REMOVE, 'baseline.logs: missing (expected an object)'],
    ];
    for (const [i, [place, what, problem]] of cases.entries()) expect((await refusal(edited(`case-${i}`, [place, what]))).message).toContain(`(${problem})`);
  });

  it('fields a later runner may add are kept, and a snapshot from before the network source loads', async () => {
    const block = ['chapters', 2, 'blocks', 3];
    const file = edited(
      'later',
      [['later'], set(1)],
      [['chapters', 0, 'later'], set(1)],
      [[...block, 'later'], set({ any: ['thing'] })],
      [[...block, 'calls', 0, 'later'], set(1)],
      [[...block, 'state', 'snapshot', 'sources', 'later'], set({ available: true, items: {} })],
      [[...block, 'state', 'diff', 'changes', 0, 'later'], set(1)],
      [['baseline', 'sources', 'network'], REMOVE],
    );
    const transcript = await readTranscript(file);
    expect(transcript.chapters[2]?.blocks[3]).toMatchObject({ later: { any: ['thing'] } });
    expect(transcript.baseline?.sources.network).toBeUndefined();
  });
});

describe('a damaged transcript of the real book', () => {
  it('is refused on load with TRANSCRIPT_INVALID at the damaged place, or replays and renders with no [INTERNAL]', async () => {
    const seen = { refused: 0, replayed: 0 };
    await fc.assert(
      fc.asyncProperty(regions, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), damages, async (region, steps, what) => {
        const place = placeOf(region, steps);
        const label = `${placeText(place)} ${what.kind === 'remove' ? 'removed' : `= ${JSON.stringify(what.value)}`}`;
        const file = path.join(dir, `damaged-${++cases}.json`);
        const site = path.join(dir, `site-${cases}`);
        writeFileSync(file, JSON.stringify(damage(original, place, what)));
        try {
          const loaded = await readTranscript(file).catch((error: unknown) => error);
          if (loaded instanceof Error) {
            expectRefusal(loaded, file, place, label);
            seen.refused++;
            return;
          }
          seen.replayed++;
          await expectReadable(file, site, place, label);
        } finally {
          rmSync(file, { force: true });
          rmSync(site, { recursive: true, force: true });
        }
      }),
      runs(30),
    );
    // Both sides were exercised (a seed that refused everything would prove little about the readers).
    expect(seen.refused).toBeGreaterThan(0);
    console.log(`damaged transcripts: ${seen.refused} refused on load, ${seen.replayed} replayed and rendered`);
  }, 900_000);
});

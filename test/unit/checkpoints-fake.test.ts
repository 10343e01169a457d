// Checkpoints and --from on a FAKE machine (test/fakes/fake-target.ts): the real `book run`
// command, its lock, checkpoints and drift check, without root. The same on real machines:
// test/integration/checkpoints.test.ts and vagrant-checkpoints.test.ts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunCommandOptions, runCommand } from '../../src/commands/run.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

const YAML = 'title: Fake book\ntarget: fake\ntargets:\n  fake:\n    type: ssh\n    host: fake.invalid\n';
const CHAPTERS = {
  '01-one.md':
    '# One\n\nA manifest and a value.\n\n```yaml file=/etc/kubernetes/manifests/one.yaml\nkind: Pod\n```\n\n```ts run name=set\nstate.count = 1\nstate.words = ["one"]\n```\n',
  '02-two.md': '# Two\n\n```ts run name=add\nassert.equal(state.count, 1)\nstate.count++\nstate.words.push("two")\n```\n',
  '03-three.md': '# Three\n\n```sh run name=mark\ntouch /var/three-ran\n```\n',
};

/** A book on a fake machine of its own; `book(...)` runs `book run ARGS` on it. */
function fakeBook(files: Record<string, string> = CHAPTERS) {
  const dir = writeBook({ 'book.yaml': YAML, ...files });
  const machine = new FakeTarget();
  machines.push(machine);
  const checkpoint = (id: string) => path.join(dir, '..', '.book', 'checkpoints', 'fake', `${id}.json`);
  const body = (id: string) => JSON.parse(readFileSync(checkpoint(id), 'utf8')).body;
  const book = async (options: Omit<RunCommandOptions, 'book' | 'reporter'> = {}) => {
    let out = '';
    let err = '';
    const code = await runCommand({ book: dir, reporter: 'plain', ...options }, { out: (t) => (out += t), err: (t) => (err += t) }, async () => machine);
    return { code, out, err };
  };
  return { dir, machine, book, checkpoint, body };
}

describe('checkpoints and --from on a fake machine', () => {
  it('writes a checkpoint (0600) after each chapter that passes, with its state and the results so far', async () => {
    const { book, checkpoint, body } = fakeBook();
    const run = await book();
    expect(run.code, run.out + run.err).toBe(0);
    for (const id of ['01-one', '02-two', '03-three']) expect(statSync(checkpoint(id)).mode & 0o777).toBe(0o600);
    expect(body('02-two').state).toEqual({ count: 2, words: ['one', 'two'] });
    expect(body('02-two').results.map((r: { block: string }) => r.block)).toEqual(['01-one#1', 'set', 'add']);
  });

  it('--from N restores the state of chapter N-1 and goes on from there', async () => {
    const { book, body, machine } = fakeBook();
    expect((await book()).code).toBe(0);
    rmMark(machine);
    const resumed = await book({ from: '2' });
    expect(resumed.code, resumed.out + resumed.err).toBe(0);
    // Chapter 2 saw chapter 1's count (1), not the end of the first run (2).
    expect(body('02-two').state).toEqual({ count: 2, words: ['one', 'two'] });
    expect(resumed.out).not.toMatch(/01-one/);
    expect(existsSync(machine.local('/var/three-ran'))).toBe(true);
  });

  it('refuses to resume without the checkpoint before, saying what to run; nothing runs', async () => {
    const { book, machine } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    const resumed = await book({ from: '3' });
    expect(resumed.code).toBe(2);
    expect(resumed.err).toMatch(/\[CHECKPOINT_MISSING\] no checkpoint for 02-two .*book run --to 2/);
    expect(existsSync(machine.local('/var/three-ran'))).toBe(false);
  });

  it('refuses a damaged checkpoint (truncated, or edited so its checksum fails)', async () => {
    const { book, checkpoint } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    const text = readFileSync(checkpoint('01-one'), 'utf8');
    writeFileSync(checkpoint('01-one'), text.slice(0, text.length / 2));
    expect(await book({ from: '2' })).toMatchObject({ code: 2, err: expect.stringMatching(/\[CHECKPOINT_DAMAGED\] .*truncated/) });
    writeFileSync(checkpoint('01-one'), text.replace('"count":1', '"count":7'));
    expect(await book({ from: '2' })).toMatchObject({ code: 2, err: expect.stringMatching(/\[CHECKPOINT_DAMAGED\] .*checksum/) });
  });

  it('refuses when an earlier chapter’s code changed (unless --force); changed prose is only noted', async () => {
    const { book, dir } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    const file = path.join(dir, '01-one.md');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('A manifest and a value.', 'A manifest, and a value.'));
    const proseOnly = await book({ from: '2' });
    expect(proseOnly.code, proseOnly.err).toBe(0);
    expect(proseOnly.err).toMatch(/note: the prose of 01-one changed/);
    expect((await book({ to: '1' })).code).toBe(0);
    writeFileSync(file, original.replace('state.count = 1', 'state.count = 1 // changed'));
    expect(await book({ from: '2' })).toMatchObject({ code: 1, err: expect.stringMatching(/\[CHAPTER_CHANGED\] chapter\(s\) 01-one changed/) });
    const forced = await book({ from: '2', force: true });
    expect(forced.code).toBe(0);
    expect(forced.err).toMatch(/warning: continuing \(--force\) although 01-one changed/);
  });

  it('refuses a checkpoint whose snapshot is damaged inside under a good checksum (another runner wrote it), naming the place; never [INTERNAL]', async () => {
    const { book, checkpoint } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    const file = checkpoint('01-one');
    const good = JSON.parse(readFileSync(file, 'utf8'));
    /** Every place inside the snapshot, as a path of keys. */
    const places: string[][] = [];
    const walk = (v: unknown, at: string[]) => {
      if (at.length > 0) places.push(at);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    };
    walk(good.body.snapshot, []);
    const damage = fc.record({ at: fc.constantFrom(...places), value: fc.constantFrom<unknown>(null, 7, [], 'text', { x: 1 }, true) });
    await fc.assert(
      fc.asyncProperty(damage, async ({ at, value }) => {
        const body = structuredClone(good.body);
        let parent = body.snapshot;
        for (const key of at.slice(0, -1)) parent = parent[key];
        parent[at.at(-1) as string] = value;
        const text = JSON.stringify(body);
        writeFileSync(file, `{"format":${JSON.stringify(good.format)},"sha256":"${createHash('sha256').update(text).digest('hex')}","body":${text}}\n`);
        const resumed = await book({ from: '2', to: '2' });
        expect(resumed.err).not.toMatch(/INTERNAL|at .*\.ts:\d+/);
        if (resumed.code === 2) expect(resumed.err).toMatch(/\[CHECKPOINT_DAMAGED\] .*snapshot/);
        else expect([0, 1]).toContain(resumed.code);
      }),
      { numRuns: 40 },
    );
    // A field's text made a number is such damage: refused at load, with the place.
    const body = structuredClone(good.body);
    body.snapshot.sources.manifests.items = { 'manifest one.yaml': { kind: 3 } };
    const text = JSON.stringify(body);
    writeFileSync(file, `{"format":${JSON.stringify(good.format)},"sha256":"${createHash('sha256').update(text).digest('hex')}","body":${text}}\n`);
    expect(await book({ from: '2' })).toMatchObject({ code: 2, err: expect.stringMatching(/\[CHECKPOINT_DAMAGED\] .*snapshot\.sources\.manifests\.items/) });
  });

  it('refuses a machine that is not the one the checkpoint was taken on', async () => {
    const { book, machine } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    machine.instance = 'fake-2';
    expect(await book({ from: '2' })).toMatchObject({ code: 1, err: expect.stringMatching(/\[MACHINE_RECREATED\] .*fake-1 → fake-2/) });
  });

  it('refuses a machine that drifted since the checkpoint, showing the difference; --force goes on', async () => {
    const { book, machine } = fakeBook();
    expect((await book({ to: '1' })).code).toBe(0);
    writeFileSync(machine.local('/etc/kubernetes/manifests/one.yaml'), 'kind: Deployment\n');
    const drifted = await book({ from: '2' });
    expect(drifted.code).toBe(1);
    expect(drifted.err).toMatch(/\[MACHINE_DRIFTED\] the machine drifted since the checkpoint of 01-one/);
    expect(drifted.err).toMatch(/~ manifest one\.yaml/);
    expect((await book({ from: '2', force: true })).code).toBe(0);
  });

  it('a chapter that fails gets no checkpoint, and the later ones of an earlier run are removed', async () => {
    const { book, checkpoint, dir } = fakeBook();
    expect((await book()).code).toBe(0);
    writeFileSync(path.join(dir, '02-two.md'), CHAPTERS['02-two.md'].replace('state.count++', 'state.count++\nthrow new Error("no")'));
    const failed = await book({ from: '2', force: true });
    expect(failed.code).toBe(1);
    expect(existsSync(checkpoint('01-one'))).toBe(true);
    expect(existsSync(checkpoint('02-two'))).toBe(false);
    expect(existsSync(checkpoint('03-three'))).toBe(false);
  });

  it('refuses to run while another run holds the machine', async () => {
    const { book, machine } = fakeBook();
    writeFileSync(
      machine.local('/run/book-fake/book-run.lock'),
      JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), since: 'now' }),
    );
    expect(await book()).toMatchObject({ code: 2, err: expect.stringMatching(/\[MACHINE_BUSY\]/) });
    expect(existsSync(machine.local('/var/three-ran'))).toBe(false);
  });
});

/** Forgets that chapter 3 ran, so a later run must run it again to bring the mark back. */
function rmMark(machine: FakeTarget) {
  rmSync(machine.local('/var/three-ran'), { force: true });
}

// Predictions at run time (docs/predictions.md) on a FAKE machine (test/fakes/fake-target.ts): the
// block after a `yaml predict` says which answer held with answer(key); the runner checks the
// call, emits prediction:ask and prediction:result, and asks the reader only when stepping.
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { type RunOptions, runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { BookError } from '../../src/runner/types.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';
import { PREDICT, ts } from '../helpers/predictions.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

async function run(chapter: string, extra: Partial<RunOptions> = {}) {
  const book = await loadBook(writeBook({ '01-a.md': `# A\n\nProse.\n\n${chapter}` }));
  const target = new FakeTarget();
  machines.push(target);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const result = await runBook({ book, chapters: book.chapters, target, bus, snapshot: false, diagnose: false, ...extra });
  const ended = (id: string) => events.find((e): e is Extract<RunEvent, { type: 'block:end' }> => e.type === 'block:end' && e.block.id === id);
  const of = <T extends RunEvent['type']>(type: T) => events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  return { result, events, ended, of };
}

describe.each([true, false])('answer() (isolate: %s)', (isolate) => {
  it('the cluster’s answer is checked and reported; nothing is asked without a predict hook', async () => {
    const { result, ended, of } = await run(`${PREDICT}\n${ts('scale', "answer(1 + 1 === 2 ? 'pending' : 'refused')")}`, { isolate });
    expect(result.exitCode).toBe(0);
    expect(ended('scale')?.status).toBe('passed');
    expect(of('prediction:ask')).toMatchObject([{ block: { id: 'scale' }, prediction: { id: 'scale-without-scheduler', line: 5 } }]);
    expect(of('prediction:ask')[0]?.prediction.answers.map((a) => a.key)).toEqual(['pending', 'refused', 'anyway']);
    expect(of('prediction:result')).toMatchObject([{ answer: 'pending', chosen: undefined, asked: false }]);
  });

  it('the reader’s pick is asked before the block runs, and reported with the cluster’s answer', async () => {
    const order: string[] = [];
    const { of } = await run(`${PREDICT}\n${ts('scale', "answer('pending')")}`, {
      isolate,
      predict: async (block) => {
        order.push(`predict ${block.id}`);
        return 'refused';
      },
      beforeBlock: async (block) => {
        order.push(`before ${block.id}`);
        return 'run';
      },
    });
    expect(order).toEqual(['predict scale', 'before scale']);
    expect(of('prediction:result')).toMatchObject([{ answer: 'pending', chosen: 'refused', asked: true }]);
  });

  it('a block that never calls answer fails, naming the prediction and the call to make', async () => {
    const { result, ended, of } = await run(`${PREDICT}\n${ts('scale', 'const x = 1')}`, { isolate });
    expect(result.exitCode).toBe(1);
    expect(ended('scale')).toMatchObject({ status: 'failed', failure: { line: 14 } });
    expect(ended('scale')?.failure?.message).toMatch(
      /^block scale follows the prediction at \S*01-a\.md:5 and never said which answer held: call answer\('pending'\|'refused'\|'anyway'\)$/,
    );
    expect(of('prediction:result')).toMatchObject([{ answer: undefined }]);
  });

  it('an unknown key fails at the line of the call, naming the answers', async () => {
    const { ended } = await run(`${PREDICT}\n${ts('scale', "const n = 4\nanswer('maybe')")}`, { isolate });
    expect(ended('scale')).toMatchObject({ status: 'failed', failure: { line: 16 } });
    expect(ended('scale')?.failure?.message).toMatch(
      /answer\('maybe'\): the prediction at .*01-a\.md:5 has no such answer; its answers are 'pending', 'refused', 'anyway'/,
    );
  });

  it('two different answers fail at the second; the same one twice is fine', async () => {
    const twice = await run(`${PREDICT}\n${ts('scale', "answer('pending')\nanswer('pending')")}`, { isolate });
    expect(twice.ended('scale')?.status).toBe('passed');
    const changed = await run(`${PREDICT}\n${ts('scale', "answer('pending')\nanswer('refused')")}`, { isolate });
    expect(changed.ended('scale')).toMatchObject({ status: 'failed', failure: { line: 16 } });
    expect(changed.ended('scale')?.failure?.message).toBe("answer('refused') after answer('pending'): a block says once which answer held");
  });

  it('answer() in a block that follows no prediction is an error saying so', async () => {
    const { ended } = await run(ts('plain', "answer('pending')"), { isolate });
    expect(ended('plain')).toMatchObject({ status: 'failed', failure: { line: 6 } });
    expect(ended('plain')?.failure?.message).toMatch(/block plain follows no prediction: put a ```yaml predict block right before it/);
  });

  it('a retry says its answer again: the answer of the attempt that passed counts', async () => {
    const code =
      "const first = !(await machine.exists('marker'))\nawait machine.writeFile('marker', 'x')\nanswer(first ? 'refused' : 'anyway')\nif (first) throw new Error('flaky')";
    const { ended, of } = await run(`${PREDICT}\n${ts('scale', code, 'retries=1')}`, { isolate });
    expect(ended('scale')).toMatchObject({ status: 'passed', attempts: 2 });
    expect(of('prediction:result')).toMatchObject([{ answer: 'anyway' }]);
  });
});

describe('a chapter that hides answer()', () => {
  it('a top-level `answer` declared before an answering block is refused before anything runs', async () => {
    const dir = writeBook({ '01-a.md': `# A\n\n${ts('decl', 'const answer = 42')}${PREDICT}\n${ts('scale', "answer('pending')")}` });
    const book = await loadBook(dir);
    const target = new FakeTarget();
    machines.push(target);
    const failed = await runBook({ book, chapters: book.chapters, target, bus: new EventBus(), snapshot: false }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(BookError);
    expect((failed as BookError).issues).toMatchObject([
      { line: 3, message: expect.stringMatching(/block decl declares `answer`, which hides answer\(\) from block scale/) },
    ]);
    expect(target.commands).toEqual([]);
  });

  it('`answer` as a name stays free in chapters without predictions', async () => {
    const { result } = await run(`${ts('decl', 'const answer = 42')}${ts('use', 'assert.equal(answer, 42)')}`);
    expect(result.exitCode).toBe(0);
  });
});

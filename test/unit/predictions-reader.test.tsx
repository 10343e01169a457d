// Predictions as the reader meets them (docs/predictions.md), on the FAKE machine: --step asks
// before the answering block runs (line prompts, on a PassThrough and on a real pipe, and the Ink
// UI) and says "you said X; the cluster did Y" after it; without --step, and in a replay, nothing
// is asked and the cluster's answer is reported; the transcript keeps it and the site shows it.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { render } from 'ink-testing-library';
import { afterAll, describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/commands/replay.js';
import { runCommand } from '../../src/commands/run.js';
import { App } from '../../src/ink-ui/App.js';
import { linePrompts } from '../../src/ink-ui/line-prompt.js';
import type { Prompt } from '../../src/ink-ui/model.js';
import { UiStore } from '../../src/ink-ui/store.js';
import { renderSite } from '../../src/render/index.js';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { readTranscript } from '../../src/runner/record/transcript.js';
import type { Book } from '../../src/runner/types.js';
import { BookReader } from '../../src/terminal/prose.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';
import { PREDICTING_CHAPTER, QUESTION, WHY } from '../helpers/predictions.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

const YAML = 'title: Predicting book\ntarget: fake\ntargets:\n  fake:\n    type: ssh\n    host: fake.invalid\n';

function fakeMachine(): FakeTarget {
  const machine = new FakeTarget();
  machines.push(machine);
  return machine;
}

/** `book run` (the command, as the CLI runs it) on a fake machine; `input` is where --step reads. */
async function bookRun(dir: string, options: { step?: boolean; reporter?: 'plain' | 'json'; transcript?: string }, input?: Readable) {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), input };
  const machine = fakeMachine();
  const code = await runCommand(
    { book: dir, reporter: options.reporter ?? 'plain', step: options.step, transcript: options.transcript },
    io,
    async () => machine,
  );
  return { code, out, err };
}

/**
 * A real pipe as stdin, as in `printf … | book run --step`: a FIFO that a process writes `text`
 * into and closes. (A child's own stdout would not do: Node drains it when the child exits.)
 */
function pipeOf(text: string): Readable {
  const fifo = path.join(mkdtempSync(path.join(tmpdir(), 'book-pipe-')), 'stdin');
  execFileSync('mkfifo', [fifo]);
  const input = createReadStream(fifo);
  spawn('sh', ['-c', 'printf "%s" "$1" > "$2"', 'sh', text, fifo], { stdio: 'ignore' });
  return input;
}

const RIGHT = 'prediction scale-without-scheduler: you said "pending"; the cluster did "pending" — right';
const WRONG = 'prediction scale-without-scheduler: you said "refused"; the cluster did "pending" — wrong';

/** A book run on the fake machine (no snapshots, no diagnostics) with a reader's hooks: the prompts' or the UI's. */
function runStepped(book: Book, bus: EventBus, hooks: Pick<Parameters<typeof runBook>[0], 'predict' | 'beforeBlock' | 'afterFailure'>) {
  return runBook({ book, chapters: book.chapters, target: fakeMachine(), bus, snapshot: false, diagnose: false, ...hooks });
}

describe('--step with line prompts: the reader predicts, then sees the verdict', () => {
  async function stepRun(answers: string) {
    const book = await loadBook(writeBook({ '01-scale.md': PREDICTING_CHAPTER }));
    const input = new PassThrough();
    let shown = '';
    const output = { write: (t: string) => (shown += t) };
    const prompts = linePrompts({ input, output, reader: new BookReader(() => ({ width: 100, color: false })) });
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    bus.on(prompts.listener);
    input.write(answers);
    const result = await runStepped(book, bus, { predict: prompts.predict, beforeBlock: prompts.beforeBlock, afterFailure: prompts.afterFailure });
    prompts.close();
    return { result, shown, events };
  }

  it('a reader who picks the right answer (by number) is told so, with why', async () => {
    const { result, shown } = await stepRun('1\n\n');
    expect(result.exitCode).toBe(0);
    expect(shown).toContain(
      `  Predict: ${QUESTION}\n    1. They are created, and stay Pending with no node.  [pending]\n    2. The API server refuses the change.  [refused]\n`,
    );
    expect(shown).toContain('  ? your prediction: 1–3 or a key, Enter for none: ');
    expect(shown).toContain('  you predicted "pending"\n');
    expect(shown).toContain(`  ${RIGHT}\n    pending: They are created, and stay Pending with no node.\n    why: ${WHY}\n`);
    // The prose before the question; the code (which would tell) only after the pick.
    expect(shown.indexOf('Stop the scheduler, then scale.')).toBeLessThan(shown.indexOf('Predict:'));
    expect(shown.indexOf('you predicted')).toBeLessThan(shown.indexOf("answer(1 + 1 === 2 ? 'pending' : 'refused')"));
    expect(shown).not.toContain('question:');
  });

  it('a reader who picks a wrong answer (by key) is told so, with why', async () => {
    const { shown, events } = await stepRun('what\nrefused\n\n');
    expect(shown.match(/\? your prediction/g)?.length).toBe(2);
    expect(shown).toContain(`  ${WRONG}\n    pending: They are created, and stay Pending with no node.\n    why: ${WHY}\n`);
    expect(events.find((e) => e.type === 'prediction:result')).toMatchObject({ answer: 'pending', chosen: 'refused', asked: true });
  });

  it('Enter alone is no prediction: the cluster’s answer and why still follow', async () => {
    const { shown } = await stepRun('\n\n');
    expect(shown).toContain('  no prediction\n');
    expect(shown).toContain('prediction scale-without-scheduler: you made no prediction; the cluster did "pending"\n');
    expect(shown).toContain(`why: ${WHY}`);
  });
});

describe('the plain prompts on a pipe (book run --step --reporter plain)', () => {
  it('reads the answers written to the pipe: a wrong pick, then Enter runs the block', async () => {
    const dir = writeBook({ 'book.yaml': YAML, '01-scale.md': PREDICTING_CHAPTER });
    const run = await bookRun(dir, { step: true }, pipeOf('2\n\n'));
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toContain(`Predict: ${QUESTION}`);
    expect(run.out).toContain('you predicted "refused"');
    expect(run.out).toContain(`  ${WRONG}\n`);
    expect(run.out).toContain(`why: ${WHY}`);
    // The log's one line is for runs that ask nothing.
    expect(run.out).not.toMatch(/^ {2}prediction scale-without-scheduler: the cluster did/m);
  });

  it('the end of the input is no prediction, and the step question then quits as before (exit 130)', async () => {
    const dir = writeBook({ 'book.yaml': YAML, '01-scale.md': PREDICTING_CHAPTER });
    const run = await bookRun(dir, { step: true }, pipeOf(''));
    expect(run.code).toBe(130);
    expect(run.out).toContain('no prediction');
    expect(run.out).toMatch(/- scale \(skipped\)/);
  });

  it('without --step nothing is asked: one line says what the cluster did', async () => {
    const dir = writeBook({ 'book.yaml': YAML, '01-scale.md': PREDICTING_CHAPTER });
    const run = await bookRun(dir, {}, pipeOf('1\n'));
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toContain('  prediction scale-without-scheduler: the cluster did "pending"\n');
    expect(run.out).not.toContain('Predict:');
    expect(run.out).not.toContain('your prediction');
  });
});

describe('--step in the Ink UI: a number picks, then the verdict', () => {
  /** Resolves when the store asks the reader this kind of question. */
  async function prompted(store: UiStore, kind: Prompt['kind']): Promise<void> {
    for (let i = 0; i < 400; i++) {
      if (store.getSnapshot().prompt?.kind === kind) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${kind} question`);
  }

  async function inkRun(key: string) {
    const book = await loadBook(writeBook({ '01-scale.md': PREDICTING_CHAPTER }));
    const store = new UiStore({ throttleMs: 0, color: false, reader: new BookReader(() => ({ width: 100, color: false })) });
    const ui = render(<App store={store} interactive rows={60} />);
    const bus = new EventBus();
    bus.on(store.listener);
    const running = runStepped(book, bus, { predict: store.predict, beforeBlock: store.beforeBlock });
    await prompted(store, 'predict');
    await new Promise((r) => setTimeout(r, 50));
    const asking = ui.lastFrame() ?? '';
    expect(store.press('x')).toBe(false);
    expect(store.press(key)).toBe(true);
    await prompted(store, 'before');
    store.press('return');
    const result = await running;
    await new Promise((r) => setTimeout(r, 50));
    const frames = ui.frames.join('\n');
    ui.unmount();
    return { result, asking, frames };
  }

  it('shows the question with numbered answers and waits; the right pick is marked right, with why', async () => {
    const { result, asking, frames } = await inkRun('1');
    expect(result.exitCode).toBe(0);
    expect(asking).toContain(`Predict: ${QUESTION}`);
    expect(asking).toContain('3. The kubelets start them anyway.');
    expect(asking).toContain('your prediction for scale: [1–3] an answer · [Enter] no prediction');
    expect(asking).not.toContain("answer(1 + 1 === 2 ? 'pending' : 'refused')");
    expect(frames).toContain(`✓ ${RIGHT}`);
    expect(frames).toContain(`why: ${WHY}`);
  });

  it('a wrong pick is marked wrong', async () => {
    const { frames } = await inkRun('2');
    expect(frames).toContain(`✗ ${WRONG}`);
  });
});

describe('the recorded answer: transcript, replay, site', () => {
  it('the transcript keeps the cluster’s answer; a replay asks nothing and gives the same answer; the site folds it with why', async () => {
    const dir = writeBook({ 'book.yaml': YAML, '01-scale.md': PREDICTING_CHAPTER });
    const file = path.join(dir, '..', 'transcript.json');
    // Recorded while stepping: the reader's pick is theirs, not the transcript's.
    const recorded = await bookRun(dir, { step: true, transcript: file }, pipeOf('2\n\n'));
    expect(recorded.code, recorded.out + recorded.err).toBe(0);
    const transcript = await readTranscript(file);
    const block = transcript.chapters[0]?.blocks.find((b) => b.id === 'scale');
    expect(block?.answer).toBe('pending');
    expect(JSON.stringify(transcript)).not.toContain('refused"');

    let out = '';
    let err = '';
    const code = await replayCommand({ book: dir, transcript: file, reporter: 'json' }, { out: (t) => (out += t), err: (t) => (err += t) });
    expect(code, out + err).toBe(0);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'prediction:ask')).toMatchObject([{ block: 'scale', prediction: { question: QUESTION } }]);
    expect(events.filter((e) => e.type === 'prediction:result')).toEqual([expect.objectContaining({ block: 'scale', answer: block?.answer, asked: false })]);
    expect(`${out}${err}`).not.toContain('your prediction');

    const site = path.join(dir, '..', 'site');
    const book = await loadBook(dir);
    await renderSite({ book, transcript, outDir: site });
    const page = readFileSync(path.join(site, '01-scale.html'), 'utf8');
    const aside = page.slice(page.indexOf('<aside class="prediction"'), page.indexOf('</aside>'));
    expect(aside).toContain(`<p class="question" id="predict-scale-without-scheduler-q">${QUESTION}</p>`);
    expect(aside).toContain('<li data-answer="refused">The API server refuses the change. <code class="answer-key">refused</code></li>');
    expect(aside).toContain(
      '<details class="prediction-verdict"><summary>What the cluster did</summary><p class="cluster-answer">They are created, and stay Pending with no node. <code class="answer-key">pending</code></p>',
    );
    expect(aside).toContain(`<p class="why">${WHY}</p>`);
    // Before the block that answers it; and not shown as YAML.
    expect(page.indexOf('<aside class="prediction"')).toBeLessThan(page.indexOf('data-block="scale"'));
    expect(page).not.toContain('question:');

    const bare = path.join(dir, '..', 'site-bare');
    await renderSite({ book, outDir: bare });
    const plain = readFileSync(path.join(bare, '01-scale.html'), 'utf8');
    expect(plain).toContain('<ol class="answers">');
    expect(plain).not.toContain('What the cluster did');
    expect(plain).not.toContain(WHY);
  });
});

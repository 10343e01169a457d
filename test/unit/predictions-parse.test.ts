// `yaml predict` blocks in the book format (docs/predictions.md): what parses, and what is
// refused at its file:line before anything runs. Malformed bodies are generated (fast-check):
// a valid prediction with one thing broken, of every class the schema refuses.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCommand } from '../../src/commands/run.js';
import { loadBook } from '../../src/runner/load-book.js';
import { parseChapter } from '../../src/runner/parse.js';
import type { BookError } from '../../src/runner/types.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';
import { PREDICT, QUESTION, ts, WHY } from '../helpers/predictions.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 0) || 300;
const DEFAULTS = { timeoutMs: 60_000, retries: 0 };
const parse = (text: string) => parseChapter('book/01-a.md', '01-a', 1, text, DEFAULTS);

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

/** Text a reader reads: starts with a letter, then printable ASCII (YAML quotes what it must). */
const text = fc.stringMatching(/^[A-Za-z][ -~]{0,40}$/).map((s) => s.trimEnd());
const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const answers = fc.uniqueArray(fc.tuple(key, text), { minLength: 2, maxLength: 6, selector: ([k]) => k });
interface Body {
  question: unknown;
  answers: unknown;
  why?: unknown;
  [extra: string]: unknown;
}
const valid = fc.record(
  { question: text, answers: answers.map((pairs) => Object.fromEntries(pairs)), why: text },
  { requiredKeys: ['question', 'answers'] },
) as fc.Arbitrary<Body>;

/** A value that is not text: what a YAML scalar or collection can be instead. */
const notText = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(text, { maxLength: 2 }),
  fc.dictionary(key, text, { maxKeys: 2 }),
  fc.constant(''),
  fc.constant('   '),
);

/** One thing broken, and the key (top-level, or under answers) the issue should point at when it has one. */
type Broken = { body: Body | string; at?: { key: string; under?: 'answers' }; what: string };
const broken: fc.Arbitrary<Broken> = fc
  .oneof(
    fc
      .tuple(
        valid,
        key.filter((k) => !['question', 'answers', 'why'].includes(k)),
        text,
      )
      .map(([b, k, v]) => ({ body: { ...b, [k]: v }, at: { key: k }, what: 'unknown key' })),
    valid.map(({ question: _, ...b }) => ({ body: b as Body, what: 'no question' })),
    fc.tuple(valid, notText).map(([b, v]) => ({ body: { ...b, question: v }, at: { key: 'question' }, what: 'question not text' })),
    fc
      .tuple(
        valid,
        notText.filter((v) => v !== null),
      )
      .map(([b, v]) => ({ body: { ...b, why: v }, at: { key: 'why' }, what: 'why not text' })),
    valid.map(({ answers: _, ...b }) => ({ body: b as Body, what: 'no answers' })),
    fc
      .tuple(valid, fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.integer()))
      .map(([b, v]) => ({ body: { ...b, answers: v }, at: { key: 'answers' }, what: 'answers not a map' })),
    fc.tuple(valid, fc.uniqueArray(fc.tuple(key, text), { minLength: 0, maxLength: 1, selector: ([k]) => k })).map(([b, pairs]) => ({
      body: { ...b, answers: Object.fromEntries(pairs) },
      at: { key: 'answers' },
      what: 'too few answers',
    })),
    fc.tuple(valid, fc.uniqueArray(fc.tuple(key, text), { minLength: 7, maxLength: 10, selector: ([k]) => k })).map(([b, pairs]) => ({
      body: { ...b, answers: Object.fromEntries(pairs) },
      at: { key: 'answers' },
      what: 'too many answers',
    })),
    fc
      .tuple(valid, fc.constantFrom('Pending', '1st', '-x', 'a_b', 'a b', 'é', 'A', 'x.y'))
      .filter(([b, k]) => Object.keys(b.answers as object).length < 6 && !(k in (b.answers as object)))
      .map(([b, k]) => ({
        body: { ...b, answers: { ...(b.answers as object), [k]: 'some text' } },
        at: { key: k, under: 'answers' as const },
        what: 'bad key',
      })),
    fc.tuple(valid, notText).map(([b, v]) => {
      const [first] = Object.keys(b.answers as object) as [string];
      return { body: { ...b, answers: { ...(b.answers as object), [first]: v } }, at: { key: first, under: 'answers' as const }, what: 'answer not text' };
    }),
    fc.constantFrom(
      'question: [unclosed\nanswers:\n',
      '- a list\n- not a map\n',
      'just text\n',
      '',
      'question: Q\nanswers:\n  a: A\n  a: B\n',
      'question: "open\n',
    ),
  )
  .map((b) => (typeof b === 'string' ? { body: b, what: 'not a mapping or not YAML' } : b));

const bodyText = (body: Body | string) => (typeof body === 'string' ? body : stringify(body));

/** A chapter: random prose, the prediction, its answering block; and the lines of the predict fence. */
function chapterWith(body: string, proseLines: number) {
  const prose = Array.from({ length: proseLines }, (_, i) => `Prose line ${i}.`).join('\n\n');
  const head = `# A\n\n${prose}\n\n`;
  const fence = head.split('\n').length;
  const text = `${head}\`\`\`yaml predict name=p\n${body}\`\`\`\n\n${ts('answers-it', "answer('x')")}`;
  return { text, fence, closing: fence + body.split('\n').length };
}

/** The chapter line of `key:` in the body (under `answers:` when asked). */
function lineOf(body: string, fence: number, at: { key: string; under?: string }): number {
  const lines = body.split('\n');
  const start = at.under ? lines.findIndex((l) => l.startsWith(`${at.under}:`)) : -1;
  const index = lines.findIndex(
    (l, i) =>
      i > start &&
      (at.under ? /^\s+/.test(l) : !/^\s/.test(l)) &&
      l
        .trim()
        .replace(/^"|"(?=:)/g, '')
        .startsWith(`${at.key}:`),
  );
  return fence + 1 + index;
}

describe('yaml predict: the body', () => {
  it(`generated malformed bodies (${RUNS}) are each refused at a line of the block, the wrong key's own when it has one`, () => {
    fc.assert(
      fc.property(broken, fc.integer({ min: 0, max: 4 }), ({ body, at, what }, proseLines) => {
        const yaml = bodyText(body);
        const { text, fence, closing } = chapterWith(yaml, proseLines);
        const { issues } = parse(text);
        expect(issues.length, `${what}:\n${yaml}`).toBeGreaterThan(0);
        for (const issue of issues) {
          expect(issue.file).toBe('book/01-a.md');
          expect(issue.line, `${what}: ${issue.message}\n${yaml}`).toBeGreaterThanOrEqual(fence);
          expect(issue.line, `${what}: ${issue.message}\n${yaml}`).toBeLessThanOrEqual(closing);
          expect(issue.hint, issue.message).toBeTruthy();
        }
        if (at) expect(issues.map((i) => i.line)).toContain(lineOf(yaml, fence, at));
      }),
      { numRuns: RUNS },
    );
  });

  it(`generated valid bodies (${RUNS}) parse to their question, answers in order, and why; the next block answers them`, () => {
    fc.assert(
      fc.property(valid, fc.integer({ min: 0, max: 4 }), (body, proseLines) => {
        const { text, fence } = chapterWith(bodyText(body), proseLines);
        const { chapter, issues } = parse(text);
        expect(issues).toEqual([]);
        const predict = chapter.blocks.find((b) => b.kind === 'predict');
        expect(predict?.prediction).toEqual({
          id: 'p',
          file: 'book/01-a.md',
          line: fence,
          question: (body.question as string).trim(),
          answers: Object.entries(body.answers as Record<string, string>).map(([k, t]) => ({ key: k, text: t.trim() })),
          ...(body.why === undefined ? {} : { why: (body.why as string).trim() }),
        });
        expect(chapter.blocks.find((b) => b.id === 'answers-it')?.answering).toBe(predict?.prediction);
      }),
      { numRuns: RUNS },
    );
  });

  it('says what is wrong and what to write', () => {
    // The fence is at line 5: the body's line k is the chapter's line 5 + k.
    const issues = (body: string) => parse(chapterWith(body, 0).text).issues.map((i) => `${i.line}: ${i.message} → ${i.hint}`);
    expect(issues('question: Q\nanswers:\n  a: A\n  b: B\nwhen: now\n')).toEqual([
      '10: unknown key "when" in the prediction → a prediction takes question:, answers: and why:',
    ]);
    expect(issues('question: 7\nanswers:\n  a: A\n  b: B\n')[0]).toMatch(/^6: question must be text \(got 7\) → /);
    expect(issues('question: Q\nanswers:\n  a: A\n')[0]).toMatch(/^7: answers has 1 answer; a prediction offers 2 to 6 → write 2 to 6 answers/);
    expect(issues('question: Q\nanswers:\n  Pending: A\n  b: B\n')[0]).toMatch(/^8: answer key "Pending": an answer key is lowercase letters/);
    expect(issues('question: Q\nanswers:\n  a: A\n  a: B\n')[0]).toMatch(/^9: the prediction is not YAML: Map keys must be unique → /);
  });
});

describe('yaml predict: the fence and its place', () => {
  const chapter = (...parts: string[]) => `# A\n\n${parts.join('\n')}`;

  it('the example parses; the block right after it answers it; default names of other blocks do not shift', () => {
    const { chapter: parsed, issues } = parse(chapter('```sh run\ntrue\n```\n', PREDICT, ts('scale', "answer('pending')"), '```sh run\ntrue\n```\n'));
    expect(issues).toEqual([]);
    expect(parsed.blocks.map((b) => [b.id, b.kind])).toEqual([
      ['01-a#1', 'sh'],
      ['scale-without-scheduler', 'predict'],
      ['scale', 'ts'],
      ['01-a#3', 'sh'],
    ]);
    const scale = parsed.blocks[2];
    expect(scale?.answering).toMatchObject({ id: 'scale-without-scheduler', line: 7, question: QUESTION, why: WHY });
    expect(scale?.answering?.answers.map((a) => a.key)).toEqual(['pending', 'refused', 'anyway']);
  });

  it('a prediction not followed by a ts run block is refused at its line, saying what follows instead', () => {
    const cases: [string, RegExp][] = [
      [chapter(PREDICT, '```sh run\ntrue\n```\n'), /the next block is `sh run` at line 12/],
      [chapter(PREDICT, '```text\nan example\n```\n', ts('scale', "answer('pending')")), /the next block is `text` at line 12/],
      [
        chapter(PREDICT, PREDICT.replace('name=scale-without-scheduler', 'name=again'), ts('scale', "answer('pending')")),
        /the next block is `yaml predict name=again`/,
      ],
      [chapter(PREDICT, 'The end.\n'), /no block follows it in this chapter/],
    ];
    for (const [text, instead] of cases) {
      const { issues } = parse(text);
      expect(issues[0]).toMatchObject({ line: 3, message: expect.stringMatching(/^a prediction is answered by the ts run block right after it, and /) });
      expect(issues[0]?.message).toMatch(instead);
      expect(issues[0]?.hint).toBe("put a ```ts run block that calls answer('pending'|'refused'|'anyway') right after this one");
    }
  });

  it('refuses attributes that belong to blocks that run, languages other than yaml, and misspellings', () => {
    const fence = (info: string) => parse(chapter(PREDICT.replace('yaml predict name=scale-without-scheduler', info), ts('scale', "answer('pending')"))).issues;
    for (const [info, message] of [
      ['yaml predict timeout=30s', 'timeout= does not apply to a prediction: it does not run'],
      ['yaml predict retries=2', 'retries= does not apply to a prediction: it does not run'],
      ['yaml predict fails', 'fails does not apply to a prediction: it does not run'],
      ['yaml predict fails="x"', 'fails does not apply to a prediction: it does not run'],
      ['yaml predict run', 'a prediction does not run: the ts run block right after it answers it'],
      ['yaml predict file=/etc/x', 'a prediction does not write a file'],
      ['ts predict', 'a prediction is written in YAML, not `ts`'],
      ['yaml Predict', '`Predict` is not `predict`'],
      ['yaml predict=yes', '`predict=yes` is not `predict`: predict takes no value'],
      ['yaml predict nmae=x', 'unknown attribute "nmae="'],
    ])
      expect(fence(info as string), info).toContainEqual(expect.objectContaining({ line: 3, message }));
  });

  it('a predict fence that Markdown reads as text (indented, a zero-width space in front) is an error at its line, not a question silently lost', () => {
    const indented = PREDICT.split('\n')
      .map((l) => (l ? `    ${l}` : l))
      .join('\n');
    for (const text of [chapter(indented, ts('scale', "answer('pending')")), chapter(`\u200b${PREDICT}`, ts('scale', "answer('pending')"))]) {
      const { chapter: parsed, issues } = parse(text);
      expect(issues[0]).toMatchObject({
        line: 3,
        message: expect.stringMatching(/^this (fence|line looks like a fence) \(```yaml predict name=scale-without-scheduler\)/),
      });
      // Read as the fence it meant, so nothing after it is blamed for it.
      expect(issues.every((i) => i.line === 3)).toBe(true);
      expect(parsed.blocks.find((b) => b.id === 'scale')?.answering?.id).toBe('scale-without-scheduler');
    }
  });

  it('a prediction’s name is unique in the book, like any block’s', async () => {
    const dir = writeBook({ '01-a.md': chapter(PREDICT, ts('scale', "answer('pending')")), '02-b.md': `# B\n\n${ts('scale-without-scheduler', 'true')}` });
    const error = await loadBook(dir).catch((e: unknown) => e);
    expect((error as BookError).issues).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringMatching(/duplicate block name "scale-without-scheduler" \(first used at .*01-a\.md:3\)/) }),
    ]);
  });

  it('`book run` refuses a malformed prediction with exit 2 and its file:line, before the machine is touched', async () => {
    const dir = writeBook({
      'book.yaml': 'title: T\ntarget: fake\ntargets:\n  fake:\n    type: ssh\n    host: fake.invalid\n',
      '01-a.md': chapter(
        '```sh run\ntouch /var/ran\n```\n',
        PREDICT.replace('  refused: The API server refuses the change.\n', '  Refused: no\n'),
        ts('scale', "answer('pending')"),
      ),
    });
    const machine = new FakeTarget();
    machines.push(machine);
    let err = '';
    const code = await runCommand({ book: dir, reporter: 'plain' }, { out: () => {}, err: (t) => (err += t) }, async () => machine);
    expect(code).toBe(2);
    expect(err).toMatch(/01-a\.md:11: answer key "Refused": an answer key is lowercase letters/);
    expect(machine.commands).toEqual([]);
  });
});

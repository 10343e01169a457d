// Issue 27, "no bad input falls through": a fence that says it runs either runs, exactly, or is an
// error at its own line. Never silently prose (indented four spaces, `RUN`, `run=yes`, `SH run`),
// and never blamed on another line (a zero-width space or a stray backtick in front of the fence
// made the fence's closing line open a fence of its own). Properties over generated chapters
// (fast-check), run over src/ (the fuzz tests run over dist/).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimsToRun, parseInfo } from '../../src/runner/info-string.js';
import { parseChapter } from '../../src/runner/parse.js';

const DEFAULTS = { timeoutMs: 60_000, retries: 0 };
/** FUZZ_RUNS=N for a long run (as test/unit/fuzz.test.ts); FUZZ_SEED=N repeats one. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? 0) || n, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
const parse = (text: string) => parseChapter('book/01-a.md', '01-a', 1, text, DEFAULTS);

/** Prose that is never a fence, a list, a quote or code: words, inline code, emphasis, links. */
const proseLine = fc
  .array(fc.constantFrom('the', 'kubelet', 'runs', 'run', 'a', 'pod.', '`sh run`', '*run*', '[run](x.md)', 'sh', 'RUN', 'étcd', '~', '`x`', '1.'), {
    minLength: 1,
    maxLength: 8,
  })
  .map((words) => words.join(' '))
  .filter((line) => !/^(?:[-*+>#~]|\d+\.)/.test(line));
/** Paragraphs, each followed by a blank line (so the fence line starts a block of its own). */
const prose = fc.array(fc.array(proseLine, { minLength: 1, maxLength: 3 }), { maxLength: 3 }).map((ps) => ps.map((p) => `${p.join('\n')}\n\n`).join(''));

const RUNNABLE = ['sh', 'ts', 'bash', 'shell', 'typescript'];
/** Every spelling of run but the exact one. */
const RUN_MISSPELLED = ['RUN', 'Run', 'rUn', 'run=yes', 'run=true', 'RUN=1', 'run=', 'run:true', 'Run:yes', '{run}', 'run}'];
/** Words that are not run, in any spelling: prose fences may carry them. */
const OTHER = ['linenos', 'dry-run', 'running', 'rerun', 'runs', 'prun', 'title="a run b"', '{.numberLines}', 'hl_lines="1 2"', 'name-run'];
/** Attributes a runnable fence may carry. */
const GOOD_ATTRS = ['name=blk', 'timeout=90s', 'retries=2', 'fails'];

/** Where a fence stands: at the top, in a quote, in a list item (its continuation lines indented to the item's text). */
const container = fc.constantFrom(
  { first: '', next: '' },
  { first: '> ', next: '> ' },
  { first: '- ', next: '  ' },
  { first: '1. ', next: '   ' },
  { first: '> - ', next: '>   ' },
);

const fenceCase = fc.record({
  before: prose,
  after: prose,
  container,
  indent: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 4, max: 9 })),
  tabIndent: fc.boolean(),
  marker: fc.constantFrom('```', '~~~', '````'),
  lang: fc.constantFrom(...RUNNABLE, 'SH', 'Ts', 'BASH', 'yaml', 'text', ''),
  run: fc.constantFrom('exact', 'misspelled', 'none'),
  misspelled: fc.constantFrom(...RUN_MISSPELLED),
  attrs: fc.uniqueArray(fc.constantFrom(...GOOD_ATTRS), { maxLength: 2 }),
  others: fc.array(fc.constantFrom(...OTHER), { maxLength: 2 }),
  runFirst: fc.boolean(),
});

type FenceCase = typeof fenceCase extends fc.Arbitrary<infer T> ? T : never;

function build(c: FenceCase) {
  const indent = c.tabIndent && c.container.first === '' ? '\t'.repeat(Math.ceil(c.indent / 4)) : ' '.repeat(c.indent);
  const runWord = c.run === 'exact' ? ['run'] : c.run === 'misspelled' ? [c.misspelled] : [];
  const words = c.runFirst ? [...runWord, ...c.attrs, ...c.others] : [...c.attrs, ...runWord, ...c.others];
  const info = [c.lang, ...words].filter(Boolean).join(' ');
  const opener = `${c.container.first}${indent}${c.marker}${info}`;
  const body = ['echo one', 'echo two'];
  const lines = [opener, ...body.map((b) => `${c.container.next}${indent}${b}`), `${c.container.next}${indent}${c.marker}`];
  const text = `${c.before}${lines.join('\n')}\n\n${c.after}`;
  const line = c.before.split('\n').length;
  const columns = indent.includes('\t') ? 4 * indent.length : indent.length;
  return { text, line, info, columns };
}

describe('a fence that says run runs, exactly, or is an error at its line', () => {
  it('holds for fences of every spelling, indentation and place (quote, list item)', () => {
    fc.assert(
      fc.property(fenceCase, (c) => {
        const { text, line, columns } = build(c);
        const { chapter, issues } = parse(text);
        const block = chapter.blocks.find((b) => b.line === line);
        const runnable = chapter.blocks.filter((b) => b.kind !== 'prose');
        if (c.run === 'none') {
          // No run in any spelling: prose, or an indented code block; never an error, never run.
          expect(issues).toEqual([]);
          expect(runnable).toEqual([]);
          return;
        }
        // Meant to run: an issue at its line, or a block that runs; nothing blamed elsewhere.
        for (const issue of issues) expect(issue.line).toBe(line);
        const valid = c.run === 'exact' && RUNNABLE.includes(c.lang) && c.others.length === 0 && columns <= 3;
        if (valid) {
          expect(issues).toEqual([]);
          expect(block?.kind).toBe(c.lang === 'ts' || c.lang === 'typescript' ? 'ts' : 'sh');
          expect(block?.code).toBe('echo one\necho two\n');
        } else expect(issues.length).toBeGreaterThan(0); // and with an issue, nothing of the book runs
      }),
      runs(1500),
    );
  });

  it('names what is wrong and what to write, for the known examples', () => {
    const one = (text: string) => {
      const { issues } = parse(text);
      expect(issues).toHaveLength(1);
      return issues[0] as { line: number; message: string; hint?: string };
    };
    const indented = one('# T\n\n    ```sh run\n    echo hi\n    ```\n');
    expect(indented).toMatchObject({ line: 3, message: expect.stringContaining('indented by 4 spaces') });
    expect(indented.hint).toContain('remove the indentation');
    expect(one('\t```sh run\necho\n```\n').message).toContain('a tab counts as 4');
    expect(one('```sh RUN\necho\n```\n')).toMatchObject({ line: 1, message: '`RUN` is not `run`', hint: 'write run in lowercase: ```sh run' });
    expect(one('```sh run=yes\necho\n```\n').message).toBe('`run=yes` is not `run`: run takes no value');
    expect(one('```SH run\necho\n```\n')).toMatchObject({ message: '`SH` is not `sh`', hint: 'write the language as ```sh run' });
    expect(one('```sh,run\necho\n```\n').hint).toBe('write ```sh run');
    expect(one('```sh run`\necho\n```\n').message).toContain('holds a backtick (U+0060) at column 10');
    expect(one('~~~ts Run\nawait 1\n~~~\n').message).toBe('`Run` is not `run`');
  });

  it('keeps prose fences prose: no run, no error', () => {
    for (const text of [
      '```sh\necho\n```\n',
      '```\nx\n```\n',
      '    ```sh\n    echo\n    ```\n',
      '```sh dry-run\n```\n',
      '```text how it runs\n```\n',
      '> ```yaml\n> a: 1\n> ```\n',
    ]) {
      const { chapter, issues } = parse(text);
      expect(issues).toEqual([]);
      expect(chapter.blocks.every((b) => b.kind === 'prose')).toBe(true);
    }
  });

  it('a fence that runs, left open inside another fence, is named at its line', () => {
    const { issues } = parse('```text\nout\n\n```sh run\necho hi\n```\n\nprose\n');
    expect(issues).toEqual([expect.objectContaining({ line: 4, message: expect.stringContaining('the fence opened at line 1 (```text) is not closed') })]);
    // A longer outer fence shows a fence on purpose.
    expect(parse('````markdown\n```sh run\necho\n```\n````\n').issues).toEqual([]);
  });

  it('parseInfo and claimsToRun agree: an info string that claims to run is never prose', () => {
    const word = fc.constantFrom(
      ...RUNNABLE,
      'SH',
      'yaml',
      'run',
      ...RUN_MISSPELLED,
      ...OTHER,
      ...GOOD_ATTRS,
      'file=/x',
      'FILE=/x',
      'file',
      'File',
      'mode=0600',
      'x=1',
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), (words) => {
        const info = words.join(' ');
        const parsed = parseInfo(info, { file: 'f.md', line: 3 });
        if (claimsToRun(info)) expect(Array.isArray(parsed) || parsed.kind !== 'prose').toBe(true);
        else expect(!Array.isArray(parsed) && parsed.kind === 'prose').toBe(true);
      }),
      runs(2000),
    );
  });
});

/** Characters a reader cannot see, and the visible ones that slip in front of a fence. */
const INVISIBLE = [
  '\u200b',
  '\ufeff',
  '\u00a0',
  '\u00ad',
  '\u2060',
  '\u200c',
  '\u200d',
  '\u0000',
  '\u0001',
  '\u001b',
  '\u007f',
  '\u000b',
  '\u000c',
  '\u2009',
  '\u3000',
  '\u202e',
  '\u2028',
  '\u0085',
  '\u180e',
  '\u3164',
  '\u2800',
  '\ufffd',
];
const STRAY = ['`', 'x', '\\', '.', 'é', '~', '!'];

describe('a character in front of a fence is named at its own line', () => {
  const corrupted = fc.record({
    before: prose,
    after: prose,
    container: fc.constantFrom({ first: '', next: '' }, { first: '> ', next: '> ' }, { first: '- ', next: '  ' }),
    indent: fc.integer({ min: 0, max: 3 }),
    lang: fc.constantFrom('sh', 'ts', 'bash'),
    char: fc.oneof(fc.constantFrom(...INVISIBLE), fc.constantFrom(...STRAY)),
    // Where, counting from the start of the text after the container: in the indentation, or among the backticks.
    at: fc.nat(),
    later: fc.boolean(),
  });

  it('holds for every such character at every place before the fence (and among its backticks)', () => {
    fc.assert(
      fc.property(corrupted, (c) => {
        const indent = ' '.repeat(c.indent);
        const fenceText = `${indent}\`\`\`${c.lang} run`;
        const at = c.at % (c.indent + 3); // before the fence, or between two of its backticks
        const opener = `${c.container.first}${fenceText.slice(0, at)}${c.char}${fenceText.slice(at)}`;
        const closer = `${c.container.next}${indent}\`\`\``;
        // A later block of the chapter, well formed: it must not be blamed, nor swallowed.
        const later = c.later ? `\`\`\`sh run\necho later\n\`\`\`\n\n` : '';
        const text = `${c.before}${opener}\n${c.container.next}${indent}echo hi\n${closer}\n\n${c.after}${later}`;
        const line = c.before.split('\n').length;
        const { chapter, issues } = parse(text);
        expect(issues.length).toBeGreaterThan(0);
        for (const issue of issues) expect(issue.line).toBe(line);
        // The first issue names the character: its code point (U+XXXX) and column.
        const code = `U+${(c.char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
        expect(issues[0]?.message).toContain(code);
        if (c.char !== '`') expect(issues[0]?.message).toContain(`column ${c.container.first.length + at + 1}`);
        if (c.later) expect(chapter.blocks.some((b) => b.kind === 'sh' && b.code === 'echo later\n')).toBe(true);
      }),
      runs(1500),
    );
  });

  it('a fence of four backticks closed by three names the extra backtick at the opening line', () => {
    const { issues } = parse('# T\n\n````sh run\necho hi\n```\n\nmore prose\n');
    expect(issues).toEqual([
      expect.objectContaining({
        line: 3,
        message: expect.stringMatching(/4 backticks .* the ``` at line 5 does not close it, and U\+0060 \(a backtick\) at column 1 is one too many/),
      }),
    ]);
    // Closed by four, it is a fence of four on purpose (it may hold ``` lines).
    expect(parse('````sh run\ncat <<EOF\n```yaml\na: 1\n```\nEOF\n````\n').issues).toEqual([]);
  });

  it('the examples of the issue', () => {
    const zwsp = parse('# T\n\n\u200b```sh run\necho hi\n```\n\nprose\n\n```sh run\necho 2\n```\n');
    expect(zwsp.issues).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining('U+200B (a zero-width space) at column 1, before the fence') }),
    ]);
    // The block after it is read as it stands (before, the zero-width space made it the text of a fence).
    expect(zwsp.chapter.blocks.filter((b) => b.kind === 'sh').map((b) => b.line)).toEqual([3, 9]);
    expect(parse('x```sh run\necho\n```\n').issues).toEqual([
      expect.objectContaining({ line: 1, message: expect.stringContaining('U+0078 (`x`) at column 1') }),
    ]);
    expect(parse('\ufeff\n```sh run\necho\n```\n\n\ufeff```ts run\nawait 1\n```\n').issues).toEqual([
      expect.objectContaining({ line: 6, message: expect.stringContaining('U+FEFF (a byte-order mark) at column 1') }),
    ]);
  });
});

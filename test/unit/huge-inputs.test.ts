// Inputs under the size limits but with more parts than a function call takes as arguments: a
// chapter with 100,000+ problems, or an output chunk of 100,000+ lines. Spreading them into one
// call (`issues.push(...found)`) overflowed the stack, and the reader saw "[INTERNAL] Maximum call
// stack size exceeded" instead of the chapter's line. The kinds and counts are generated.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, emptyModel, MAX_LINES } from '../../src/ink-ui/model.js';
import { appendAll, maxOf } from '../../src/runner/arrays.js';
import type { RunEvent } from '../../src/runner/events.js';
import { loadBook } from '../../src/runner/load-book.js';
import { type Block, BookError } from '../../src/runner/types.js';
import { writeBook } from '../helpers/book.js';

/** Past what V8 takes as one call's arguments on Node 20 and newer (~120,000 with the default stack). */
const MANY = fc.integer({ min: 150_000, max: 180_000 });

/** Chapter text with `count` copies of one kind of problem, each reported at a line of its own (under 4 MiB in all). */
const chapterOf: Record<string, (count: number) => string> = {
  // An unknown option on every block.
  'unknown option': (count) => '```sh run x=1\n```\n'.repeat(count),
  // The same name on every block: each after the first is a duplicate.
  'duplicate name': (count) => '```sh run name=a\n```\n'.repeat(count),
  // A fence of ours indented four spaces: prose that would silently not run, reported each time.
  'indented fence': (count) => '    ```sh run\n    ```\n'.repeat(count),
};

describe('inputs with more parts than one call takes', () => {
  it('a chapter with 150,000+ problems is refused with BookError at its lines, never a RangeError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(chapterOf)), MANY, async (kind, count) => {
        const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-a.md': `# A\n\n${(chapterOf[kind] as (n: number) => string)(count)}` });
        const error = await loadBook(dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, kind).toBeInstanceOf(BookError);
        const issues = (error as BookError).issues;
        expect(issues.length).toBeGreaterThan(0);
        expect(path.basename(issues[0]?.file ?? '')).toBe('01-a.md');
        expect(issues[0]?.line).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 4 },
    );
  }, 240_000);

  it('a chapter whose repaired fences leave 150,000+ lines loads', async () => {
    await fc.assert(
      fc.asyncProperty(MANY, async (count) => {
        // An unclosed fence is repaired in place (the lines array is replaced whole).
        const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n' });
        writeFileSync(path.join(dir, '01-a.md'), `# A\n\n    \`\`\`sh run\n    echo hi\n    \`\`\`\n${'\n'.repeat(count)}`);
        const error = await loadBook(dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error !== undefined) expect(error).toBeInstanceOf(BookError);
      }),
      { numRuns: 2 },
    );
  }, 120_000);

  it('the terminal UI takes an output chunk of 150,000+ lines, keeping its last lines', () => {
    fc.assert(
      fc.property(MANY, fc.stringMatching(/^[a-z]{1,8}$/), (count, word) => {
        const block = { id: 'big', kind: 'sh', file: 'book/01.md', line: 3, codeLine: 4, code: 'x\n', chapterId: '01' } as unknown as Block;
        const model = emptyModel();
        const events: RunEvent[] = [
          { type: 'block:start', block, attempt: 1, time: 0 },
          { type: 'block:output', block, stream: 'stdout', text: `${word}\n`.repeat(count) },
        ];
        for (const event of events) apply(model, event);
        expect(model.running?.total).toBe(count);
        expect(model.running?.lines.length).toBe(MAX_LINES);
        expect(model.running?.lines.at(-1)).toBe(word);
      }),
      { numRuns: 3 },
    );
  });

  it('appendAll and maxOf agree with push and Math.max where those work, and go on where they overflow', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.array(fc.integer()), fc.integer(), (start, items, floor) => {
        expect(appendAll([...start], items)).toEqual([...start, ...items]);
        expect(maxOf(items, floor)).toBe(Math.max(floor, ...items));
      }),
    );
    const huge = Array.from({ length: 300_000 }, (_, i) => i);
    expect(appendAll([], huge)).toHaveLength(300_000);
    expect(maxOf(huge)).toBe(299_999);
    expect(() => [].push(...(huge as never[]))).toThrow(RangeError);
  });
});

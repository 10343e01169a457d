// The pure parts of issue 27's limits, on generated inputs: how deep JSON nests (read before a
// transcript or checkpoint is parsed), the cap on listed issues, and book.yaml's lines for
// `chapters:` entries and duplicate keys (found with an index and a set now, not by scans).
// The files themselves (FIFOs, devices, links, sizes) are test/integration/special-inputs.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBookConfig } from '../../src/runner/book-config.js';
import { jsonTooDeep } from '../../src/runner/input-file.js';
import { countIssues, limitIssues, MAX_ISSUES } from '../../src/runner/issue-limit.js';
import type { BookIssue } from '../../src/runner/types.js';

/** How deep a JSON value nests: a scalar 0, `[]` 1, `[[1]]` 2. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('jsonTooDeep', () => {
  it('is undefined exactly when the value nests no deeper than the bound (strings full of brackets and escapes included)', () => {
    const text = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\n', 'é') });
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.option(text, { nil: undefined }),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (value, inString, bound, pretty) => {
          const data = inString === undefined ? value : { s: inString, v: value };
          const json = pretty ? JSON.stringify(data, null, 1) : JSON.stringify(data);
          const found = jsonTooDeep(json, bound);
          expect(found === undefined, json).toBe(depthOf(data) <= bound);
          if (found) expect(found.line).toBeLessThanOrEqual(json.split('\n').length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('names the line where the nesting first goes past the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 30 }), (blank, bound) => {
        const json = `${'\n'.repeat(blank)}${'[\n'.repeat(bound + 1)}${']'.repeat(bound + 1)}`;
        expect(jsonTooDeep(json, bound)?.line).toBe(blank + bound + 1);
      }),
    );
  });
});

describe('limitIssues', () => {
  const issue = fc.record({ file: fc.constantFrom('book.yaml', '01-a.md'), line: fc.integer({ min: 1, max: 1000 }), message: fc.string({ maxLength: 5 }) });

  it('lists at most MAX_ISSUES and one "and N more", and the count stays right when folded twice (book.yaml, then the book)', () => {
    fc.assert(
      fc.property(fc.array(issue, { maxLength: 300 }), fc.array(issue, { maxLength: 300 }), fc.nat({ max: 100_000 }), (config, chapters, unlisted) => {
        const fromConfig = limitIssues(config as BookIssue[], unlisted);
        expect(fromConfig.length).toBeLessThanOrEqual(MAX_ISSUES + 1);
        expect(countIssues(fromConfig)).toBe(config.length + unlisted);
        const all = limitIssues([...fromConfig, ...(chapters as BookIssue[])]);
        expect(all.length).toBeLessThanOrEqual(MAX_ISSUES + 1);
        expect(countIssues(all)).toBe(config.length + unlisted + chapters.length);
        // Nothing is dropped while there is room, and what is listed comes first, in order.
        if (unlisted === 0 && config.length + chapters.length <= MAX_ISSUES) expect(all).toEqual([...config, ...chapters]);
        else {
          expect(all.slice(0, -1)).toEqual([...config, ...chapters].slice(0, all.length - 1));
          expect(all.at(-1)?.message).toMatch(new RegExp(`^and ${config.length + unlisted + chapters.length - (all.length - 1)} more problems? \\(`));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseBookConfig: lines found through the index', () => {
  const stem = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/)).map(([n, s]) => `${String(n).padStart(2, '0')}-${s}`);
  const noise = fc.array(fc.constantFrom('', '# a comment', '  # indented comment'), { maxLength: 2 });

  it('gives the line of each `chapters:` entry, block or flow, with comments and blank lines between', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(stem, noise), { minLength: 1, maxLength: 12 }), fc.boolean(), noise, (entries, flow, before) => {
        const lines = [...before, flow ? 'chapters: [' : 'chapters:'];
        const expected: number[] = [];
        for (const [name, gap] of entries) {
          lines.push(...gap);
          lines.push(flow ? `  ${name},` : `  - ${name}`);
          expected.push(lines.length);
        }
        if (flow) lines.push(']');
        const parsed = parseBookConfig('book.yaml', `${lines.join('\n')}\n`);
        expect(parsed.issues).toEqual([]);
        expect(parsed.config.chapters).toEqual(entries.map(([name]) => name));
        expect(parsed.chapterLines).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reports a key held twice at the line of the second, in any map of the file', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 10 }), fc.nat(), fc.nat(), fc.boolean(), (keys, from, to, nested) => {
        const again = keys[from % keys.length] as string;
        const order = [...keys];
        order.splice((from % keys.length) + 1 + (to % (keys.length - (from % keys.length))), 0, again);
        const indent = nested ? '  ' : '';
        const lines = [...(nested ? ['defaults:'] : []), ...order.map((k) => `${indent}${k}: 1`)];
        const second = lines.lastIndexOf(`${indent}${again}: 1`) + 1;
        const parsed = parseBookConfig('book.yaml', `${lines.join('\n')}\n`);
        expect(parsed.issues).toEqual([
          { file: 'book.yaml', line: second, message: `"${again}" is here twice: map keys must be unique`, hint: 'keep one of them' },
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('lists at most ten unknown keys by name, then how many more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), (n) => {
        const text = Array.from({ length: n }, (_, i) => `zz${i}: 1`).join('\n');
        const [issue, ...rest] = parseBookConfig('book.yaml', `${text}\n`).issues;
        expect(rest).toEqual([]);
        expect(issue?.line).toBe(1);
        const named = issue?.message.match(/"zz\d+"/g) ?? [];
        expect(named.length).toBe(Math.min(n, 10));
        if (n > 10) expect(issue?.message).toMatch(new RegExp(`and ${n - 10} more$`));
      }),
      { numRuns: 100 },
    );
  });
});

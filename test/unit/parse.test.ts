import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileBlock } from '../../src/runner/compile.js';
import { parseInfo } from '../../src/runner/info-string.js';
import { checkUniqueNames, parseChapter } from '../../src/runner/parse.js';
import type { BookIssue } from '../../src/runner/types.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'parse');
const DEFAULTS = { timeoutMs: 60_000, retries: 0 };

/** Everything the runner and renderer rely on, as plain data: the fixture's expected output. */
async function summarize(name: string, text: string) {
  const { chapter, issues } = parseChapter(`book/${name}`, name.replace(/\.md$/, ''), 1, text, DEFAULTS);
  const all: BookIssue[] = [...issues, ...checkUniqueNames([chapter])];
  for (const block of chapter.blocks) {
    if (block.kind !== 'ts') continue;
    const compiled = await compileBlock(block);
    if (!('body' in compiled)) all.push(compiled);
  }
  return {
    title: chapter.title,
    blocks: chapter.blocks.map((b) => ({
      id: b.id,
      kind: b.kind,
      lang: b.lang,
      line: b.line,
      codeLine: b.codeLine,
      attrs: b.attrs,
      timeoutMs: b.timeoutMs,
      retries: b.retries,
      code: b.code,
    })),
    issues: all,
  };
}

describe('parser fixtures (input .md → expected blocks and issues)', () => {
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.md'))) {
    it(file, async () => {
      const actual = await summarize(file, readFileSync(path.join(FIXTURES, file), 'utf8'));
      const expectedFile = path.join(FIXTURES, file.replace(/\.md$/, '.expected.json'));
      // A new fixture's expected output is written on purpose (UPDATE_FIXTURES=1), then read: a
      // missing one fails, or a fixture would pass on its first run whatever the parser said.
      if (process.env.UPDATE_FIXTURES === '1') writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      if (!existsSync(expectedFile))
        expect.fail(
          `${path.relative(process.cwd(), expectedFile)} is missing: check the parser's output for ${file}, then write it with UPDATE_FIXTURES=1 npx vitest run --config vitest.config.ts test/unit/parse.test.ts`,
        );
      expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
    });
  }
});

describe('parser rules', () => {
  it('is pure: the same text gives the same chapter, hash included', () => {
    const text = readFileSync(path.join(FIXTURES, 'good.md'), 'utf8');
    const a = parseChapter('x.md', 'x', 1, text, DEFAULTS);
    const b = parseChapter('x.md', 'x', 1, text, DEFAULTS);
    expect(a).toEqual(b);
    expect(parseChapter('x.md', 'x', 1, `${text}\n`, DEFAULTS).chapter.hash).not.toBe(a.chapter.hash);
  });

  it('reports a name used in two chapters at the second use, naming the first', () => {
    const one = parseChapter('book/01-a.md', '01-a', 1, '```sh run name=kubelet\ntrue\n```\n', DEFAULTS).chapter;
    const two = parseChapter('book/02-b.md', '02-b', 2, '# B\n\n```sh run name=kubelet\ntrue\n```\n', DEFAULTS).chapter;
    expect(checkUniqueNames([one, two])).toEqual([
      {
        file: 'book/02-b.md',
        line: 3,
        message: 'duplicate block name "kubelet" (first used at book/01-a.md:1)',
        hint: 'give this block another name, e.g. name=kubelet-2',
      },
    ]);
  });

  it('numbers default names by executable blocks only', () => {
    const text = '```text\nprose\n```\n\n```sh run\na\n```\n\n```yaml file=/x\nb\n```\n';
    const ids = parseChapter('c.md', '05-c', 5, text, DEFAULTS).chapter.blocks.map((b) => b.id);
    expect(ids).toEqual(['05-c#prose-1', '05-c#1', '05-c#2']);
  });

  it('a block that reads as CommonJS (module, exports, a top-level return) is refused for that, not as an export', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('console.log(typeof module)', 'exports.x = 1', 'module.exports = {}', 'if (Date.now() > 0) return', 'return 1'),
        fc.constantFrom('', 'const a = 1\n', 'await Promise.resolve()\n'),
        async (cjs, before) => {
          const { chapter } = parseChapter('c.md', '05-c', 5, `\`\`\`ts run\n${before}${cjs}\n\`\`\`\n`, DEFAULTS);
          const compiled = await compileBlock(chapter.blocks[0] as Parameters<typeof compileBlock>[0]);
          if (before.startsWith('await')) {
            // Top-level await keeps it an ES module: `module` is then an ordinary (undefined) name, and a
            // top-level return is esbuild's own parse error. Either way, never "cannot export".
            if (!('body' in compiled)) expect(compiled.message).not.toMatch(/export/);
          } else {
            expect('body' in compiled).toBe(false);
            expect((compiled as BookIssue).message).toMatch(/reads it as a CommonJS module/);
          }
        },
      ),
      { numRuns: 30 },
    );
    // A name that only looks like them is ordinary code.
    const { chapter } = parseChapter('c.md', '05-c', 5, '```ts run\nconst modules = 1\nconsole.log(modules)\n```\n', DEFAULTS);
    expect('body' in (await compileBlock(chapter.blocks[0] as Parameters<typeof compileBlock>[0]))).toBe(true);
  });

  it('file= naming a folder (/, a trailing slash, . or ..) is refused; a file path is taken', () => {
    const segment = fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,8}$/).filter((p) => p !== '.' && p !== '..');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), fc.constantFrom('/', '/.', '/..', ''), (parts, end) => {
        const file = `/${parts.join('/')}${end === '' && parts.length === 0 ? '' : end}`;
        const parsed = parseInfo(`yaml file=${file}`, { file: 'c.md', line: 1 });
        const folder = parts.length === 0 || end !== '';
        if (folder) expect(Array.isArray(parsed) && parsed[0]?.message, file).toBe(`file=${file} names a folder, not a file`);
        else expect(!Array.isArray(parsed) && parsed.attrs.file, file).toBe(file);
      }),
      { numRuns: 200 },
    );
  });
});

// Which files make the book: a chapter that chapters: in book.yaml leaves out, and a settings file
// under another name (book.yml, Book.yaml), would each be silently ignored; both are refused, at
// the file, before anything runs. Chapter sets, lists and file names are generated.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadBook } from '../../src/runner/load-book.js';
import { BookError } from '../../src/runner/types.js';
import { writeBook } from '../helpers/book.js';

/** The issues loadBook reports for a book, or none when it loads. */
async function issuesOf(dir: string): Promise<string[]> {
  try {
    await loadBook(dir);
    return [];
  } catch (error) {
    if (!(error instanceof BookError)) throw error;
    return error.issues.map((i) => `${path.basename(i.file)}:${i.line}: ${i.message}`);
  }
}

describe('the files that make a book', () => {
  it('a chapter that chapters: leaves out is refused at its file; a list naming them all loads, in its order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.func(fc.boolean()),
        fc.boolean(),
        async (numbers, keep, reverse) => {
          const stems = numbers.map((n) => `${String(n).padStart(2, '0')}-c${n}`);
          const listed = stems.filter((_, i) => keep(i) as boolean);
          fc.pre(listed.length > 0);
          if (reverse) listed.reverse();
          const files: Record<string, string> = { 'book.yaml': `title: T\ntarget: local\nchapters: [${listed.join(', ')}]\n` };
          for (const stem of stems) files[`${stem}.md`] = `# ${stem}\n\nProse.\n`;
          const dir = writeBook(files);
          const issues = await issuesOf(dir);
          const left = stems.filter((s) => !listed.includes(s));
          expect(issues.filter((i) => /does not list it/.test(i)).sort()).toEqual(
            left.map((s) => `${s}.md:1: is a chapter, but chapters: in book.yaml does not list it, so it would be left out`).sort(),
          );
          if (left.length === 0) expect((await loadBook(dir)).chapters.map((c) => c.id)).toEqual(listed);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('settings under another name than book.yaml are refused, naming the file; beside a book.yaml they are not its business', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('book.yml', 'Book.yaml', 'BOOK.YAML', 'book.YML', 'Book.Yml'), fc.boolean(), async (name, alsoYaml) => {
        const dir = writeBook({ '01-a.md': '# A\n\nProse.\n' });
        writeFileSync(path.join(dir, name), 'title: Mine\ntarget: ssh\n');
        if (alsoYaml) writeFileSync(path.join(dir, 'book.yaml'), 'title: T\ntarget: local\n');
        const issues = await issuesOf(dir);
        // (On a case-insensitive file system Book.yaml is book.yaml: then it is read, and there is no issue.)
        if (alsoYaml) expect(issues).toEqual([]);
        else expect(issues).toContain(`${name}:1: is not read: the book's settings are read from book.yaml only`);
      }),
      { numRuns: 20 },
    );
  });

  it('a NUL byte anywhere in a chapter is refused at its line, before Markdown turns it into U+FFFD', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('Prose.', '```sh run', 'echo "a b"', '```', '', '# Heading'), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        async (lines, lineAt, columnAt) => {
          const line = lineAt % lines.length;
          const column = columnAt % ((lines[line] as string).length + 1);
          const withNul = lines.map((l, i) => (i === line ? `${l.slice(0, column)}\0${l.slice(column)}` : l));
          const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-a.md': `# A\n\n${withNul.join('\n')}\n` });
          const issues = await issuesOf(dir);
          expect(issues).toContain(
            `01-a.md:${line + 3}: holds a NUL byte (U+0000) at column ${column + 1}: a chapter is text, and a NUL in it would not reach the machine as written`,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('YAML the library would warn about or advise on is refused in our words, at its line, with nothing on stderr', async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await fc.assert(
        fc.asyncProperty(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/), async (a, b) => {
          const listKey = await issuesOf(writeBook({ 'book.yaml': `title: T\n? [${a}, ${b}]\n: 1\n`, '01-a.md': '# A\n' }));
          expect(listKey.join('\n')).toMatch(/book\.yaml:2: unknown key \(a key that is not a name/);
          const twoDocs = await issuesOf(writeBook({ 'book.yaml': `title: ${a}\n---\ntitle: ${b}\n`, '01-a.md': '# A\n' }));
          expect(twoDocs.join('\n')).toMatch(/book\.yaml:\d+: holds a second YAML document/);
          const predicted = await issuesOf(
            writeBook({
              'book.yaml': 'title: T\n',
              '01-a.md': `# A\n\n\`\`\`yaml predict\nquestion: ${a}?\n---\nanswers: {x: ${b}, y: ${a}}\n\`\`\`\n\n\`\`\`ts run\nanswer('x')\n\`\`\`\n`,
            }),
          );
          expect(predicted.join('\n')).toMatch(/01-a\.md:\d+: the prediction holds a second YAML document/);
          for (const text of [...listKey, ...twoDocs, ...predicted]) expect(text).not.toMatch(/parseAllDocuments|mapAsMap/);
        }),
        { numRuns: 10 },
      );
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a book.yaml that is empty or only comments is refused at line 1; only an absent one means the defaults', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('', '# a comment', '   ', '#', '# target: ssh'), { maxLength: 5 }), async (lines) => {
        const issues = await issuesOf(writeBook({ 'book.yaml': lines.join('\n'), '01-a.md': '# A\n' }));
        expect(issues).toEqual(['book.yaml:1: is empty: it sets nothing']);
      }),
      { numRuns: 20 },
    );
    expect(await issuesOf(writeBook({ '01-a.md': '# A\n' }))).toEqual([]);
  });
});

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
});

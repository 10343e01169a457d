// A reader's files stay where they are, whatever path an output is given: an --out reached through
// links (to the book, to its parent, to a folder of the reader's, to nothing), names longer than a
// file system takes, a mount point, hidden names beside an output planted ahead (a link where the
// temp file would go), a folder's mode and owner, and target names that every object inherits.
// Layouts and names are generated (fast-check); each case compares the whole tree afterwards.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointsCommand } from '../../src/commands/checkpoints.js';
import { conformanceCommand } from '../../src/commands/conformance.js';
import { renderCommand } from '../../src/commands/render.js';
import { replayCommand } from '../../src/commands/replay.js';
import { writeAtomic } from '../../src/runner/files.js';
import { loadBook } from '../../src/runner/load-book.js';
import { capture, tree } from '../helpers/files.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A book, the reader's notes beside it, a folder of theirs with files in it, an empty folder. */
function workspace() {
  const root = mkdtempSync(path.join(tmpdir(), 'output-links-'));
  roots.push(root);
  const book = path.join(root, 'book');
  mkdirSync(book);
  writeFileSync(path.join(book, 'book.yaml'), 'title: Links\ntarget: local\n');
  writeFileSync(path.join(book, '01-one.md'), '# One\n\n```sh run\ntrue\n```\n');
  writeFileSync(path.join(root, 'notes.txt'), 'the reader’s own notes\n');
  mkdirSync(path.join(root, 'theirs', 'deep'), { recursive: true });
  writeFileSync(path.join(root, 'theirs', 'deep', 'photo.jpg'), 'jpeg');
  writeFileSync(path.join(root, 'theirs', 'CNAME'), 'book.example\n');
  mkdirSync(path.join(root, 'empty'));
  return { root, book };
}

const ENDS = ['book', '.', 'theirs', 'theirs/deep', 'empty', 'missing', 'book/..', 'notes.txt'] as const;

describe('render --out through links', () => {
  it('never moves, replaces or deletes an entry of the reader’s, and a link named as --out stays a link', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDS),
        fc.nat(3),
        fc.constantFrom('', 'site', 'a/b'),
        fc.boolean(),
        fc.boolean(),
        async (end, hops, below, force, fromInside) => {
          const ws = workspace();
          // A chain of `hops` links, each to the next, the last to `end` (relative or absolute).
          let target = path.join(ws.root, end);
          for (let i = 0; i < hops; i++) {
            const link = path.join(ws.root, `link${i}`);
            symlinkSync(i % 2 ? target : path.relative(ws.root, target) || '.', link);
            target = link;
          }
          const out = below ? path.join(target, below) : target;
          const before = tree(ws.root);
          const io = capture();
          const cwd = process.cwd();
          if (fromInside) process.chdir(path.join(ws.root, 'empty'));
          let code: number;
          try {
            code = await renderCommand({ book: ws.book, out, force }, io);
          } finally {
            process.chdir(cwd);
          }
          const after = tree(ws.root);
          // Every entry there before is there after, unchanged (a carried entry keeps its path and inode).
          for (const [entry, was] of Object.entries(before)) expect(after[entry], `${entry} after render --out ${out}: ${io.text()}`).toBe(was);
          expect(io.text()).not.toMatch(/INTERNAL|\n\s+at /);
          if (code === 0) expect(statSync(path.join(out, 'index.html')).isFile()).toBe(true);
          else {
            expect(code, io.text()).toBe(2);
            expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('replacing a folder keeps its mode and owner', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0o700, 0o750, 0o755, 0o2775), fc.nat(60000), async (mode, uid) => {
        const ws = workspace();
        const out = path.join(ws.root, 'site');
        mkdirSync(out);
        writeFileSync(path.join(out, 'mine.txt'), 'mine');
        chownSync(out, uid, uid);
        chmodSync(out, mode);
        expect(await renderCommand({ book: ws.book, out, force: true }, capture())).toBe(0);
        const info = statSync(out);
        expect([(info.mode & 0o7777).toString(8), info.uid, info.gid]).toEqual([mode.toString(8), uid, uid]);
        expect(readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('mine');
      }),
      { numRuns: 12 },
    );
  });

  it('a hidden folder of the reader’s where the site is built or put aside is never removed', async () => {
    // Also a copy of a rendered site (its marker, and the files the marker lists) with notes added.
    const cases = [...[false, true].flatMap((copiedSite) => ['.site.book-old', `.site.book-new-${2 ** 22 + 1}`].map((name) => ({ name, copiedSite })))];
    for (const { name, copiedSite } of cases) {
      const ws = workspace();
      const aside = path.join(ws.root, name);
      mkdirSync(aside);
      writeFileSync(path.join(aside, 'keep.txt'), 'keep');
      if (copiedSite) {
        writeFileSync(path.join(aside, '.book-site.json'), JSON.stringify({ files: ['index.html'] }));
        writeFileSync(path.join(aside, 'index.html'), '<p>an old page</p>');
      }
      const before = tree(ws.root);
      const io = capture();
      const code = await renderCommand({ book: ws.book, out: path.join(ws.root, 'site') }, io);
      const after = tree(ws.root);
      for (const [entry, was] of Object.entries(before)) expect(after[entry], `${name}: ${io.text()}`).toBe(was);
      expect(code === 0 || /is in the way/.test(io.text()), io.text()).toBe(true);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('a mount point at --out or inside it is refused before anything is built', () => {
    const ws = workspace();
    // In a mount namespace of its own: the tmpfs is gone with the process.
    const script = `
      set -e
      mkdir -p "$1/mnt" "$1/holder/sub"
      mount -t tmpfs none "$1/mnt"; mount -t tmpfs none "$1/holder/sub"
      for out in "$1/mnt" "$1/holder"; do node "$2" render --book "$1/book" --out "$out" --force 2>&1 || echo "exit $?"; done
      ls -A "$1/mnt" "$1/holder"
      # A file system too small for the site: the error names the file, and nothing is left aside.
      mkdir -p "$1/tiny"; mount -t tmpfs -o size=8k none "$1/tiny"
      node "$2" render --book "$1/book" --out "$1/tiny/site" 2>&1 || echo "exit $?"
      echo "left: $(ls -A "$1/tiny")"
    `;
    const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
    const text = execFileSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script, 'x', ws.root, bin], { encoding: 'utf8' });
    expect(text).toMatch(/--out \S+\/mnt: is a mount point/);
    expect(text).toMatch(/--out \S+\/holder: holds a mount point/);
    expect(text.match(/exit 2/g)).toHaveLength(2);
    expect(text).toMatch(/\[OUTPUT_UNWRITABLE\] cannot write \S+\/tiny\/\S+: no space left on the device/);
    expect(text).toMatch(/exit 3\nleft: $/m);
    expect(text).not.toMatch(/INTERNAL|index\.html/);
    expect(text).toMatch(/^left: $/m);
  });
});

describe('names longer than a file system takes', () => {
  // The book of this repository and its recorded run: replay writes --junit after replaying chapter 0.
  const BOOK = path.join(import.meta.dirname, '..', '..', 'book');
  const TRANSCRIPT = path.join(import.meta.dirname, '..', 'fixtures', 'transcript', 'book.json');

  it('are refused before anything runs, for every output; shorter ones work, and nothing is left aside', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: 300 }), fc.constantFrom('a', 'é', '日'), fc.constantFrom('--junit', '--out'), async (length, char, flag) => {
        const ws = workspace();
        const name = char.repeat(Math.ceil(length / Buffer.byteLength(char)));
        const target = path.join(ws.root, name);
        const before = tree(ws.root);
        const io = capture();
        const code =
          flag === '--out'
            ? await renderCommand({ book: ws.book, out: target }, io)
            : await replayCommand({ book: BOOK, transcript: TRANSCRIPT, to: '0', junit: target, reporter: 'plain' }, io);
        expect(io.text()).not.toMatch(/INTERNAL|\n\s+at /);
        const after = tree(ws.root);
        if (Buffer.byteLength(name) > 255) {
          expect(code, io.text()).toBe(2);
          expect(io.text()).toMatch(/is \d+ bytes long, and file systems take at most 255/);
          expect(after).toEqual(before);
        } else {
          expect(code, io.text()).toBe(0);
          // The output and nothing else beside it: no hidden temp file or folder left.
          expect(Object.keys(after).filter((k) => !k.includes(path.sep) && !(k in before))).toEqual([name]);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('writeAtomic', () => {
  it('never writes through, over or in place of an entry planted beside the file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/),
        fc.array(fc.constantFrom('link', 'file', 'dir'), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(99999), { minLength: 1, maxLength: 4 }),
        async (base, kinds, numbers) => {
          const root = mkdtempSync(path.join(tmpdir(), 'atomic-'));
          roots.push(root);
          const victim = path.join(root, 'victim.txt');
          writeFileSync(victim, 'precious', { mode: 0o600 });
          const dir = path.join(root, 'out');
          mkdirSync(dir);
          // Where a temp file could be guessed to go: this process's pid, and other numbers.
          kinds.forEach((kind, i) => {
            const planted = path.join(dir, `.${base}.${[process.pid, ...numbers][i % (numbers.length + 1)]}.tmp`);
            if (lstatSync(planted, { throwIfNoEntry: false })) return;
            if (kind === 'link') symlinkSync(victim, planted);
            else if (kind === 'file') writeFileSync(planted, 'theirs');
            else mkdirSync(planted);
          });
          const before = tree(root);
          await writeAtomic(path.join(dir, base), 'new text', 0o644);
          const after = tree(root);
          for (const [entry, was] of Object.entries(before)) expect(after[entry], entry).toBe(was);
          expect(Object.keys(after).filter((k) => !(k in before))).toEqual([path.join('out', base)]);
          expect(readFileSync(path.join(dir, base), 'utf8')).toBe('new text');
          expect(readFileSync(victim, 'utf8')).toBe('precious');
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('target names', () => {
  const inherited = Object.getOwnPropertyNames(Object.prototype);

  it('a name every object inherits is no target, in book.yaml or on the command line', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...inherited), fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,12}$/)), async (name) => {
        fc.pre(!['local', 'auto', 'docker', 'vagrant', 'ssh'].includes(name));
        const ws = workspace();
        writeFileSync(path.join(ws.book, 'book.yaml'), `title: Names\ntarget: ${JSON.stringify(name)}\n`);
        await expect(loadBook(ws.book)).rejects.toMatchObject({ code: 'BOOK_INVALID' });
        writeFileSync(path.join(ws.book, 'book.yaml'), 'title: Names\ntarget: local\n');
        const io = capture();
        expect(await checkpointsCommand({ book: ws.book, target: name }, io), io.text()).toBe(2);
        expect(io.text()).toMatch(/\[ARGUMENTS_INVALID\] --target .*: the book has no target named/);
      }),
      { numRuns: 60 },
    );
  });
});

describe('book conformance --out', () => {
  const OURS = ['e2e.log', 'junit.xml', 'report.txt', 'summary.json'];

  it('refuses a folder holding a file of the reader’s under one of its names, before reaching any machine', async () => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(OURS, { minLength: 1 }), fc.subarray(OURS), async (theirs, listed) => {
        const ws = workspace();
        const out = path.join(ws.root, 'results');
        mkdirSync(out);
        for (const name of theirs) writeFileSync(path.join(out, name), `the reader’s ${name}`);
        // A marker from an earlier run lists some names: those files are the runner's to replace.
        writeFileSync(path.join(out, '.book-conformance.json'), JSON.stringify({ by: 'book conformance', files: listed }));
        const before = tree(ws.root);
        const io = capture();
        // No such book: a run whose --out passed stops there, before any machine.
        const code = await conformanceCommand({ book: path.join(ws.root, 'no-book'), out }, io);
        expect(code, io.text()).toBe(2);
        const foreign = theirs.filter((name) => !listed.includes(name));
        if (foreign.length > 0) expect(io.text()).toMatch(/which book conformance did not write/);
        else expect(io.text()).not.toMatch(/did not write/);
        expect(tree(ws.root)).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });
});

// Issue 27, data loss: an output path (--junit, --transcript, --out) never overwrites a reader's
// file, an input of the command or a special file, and a rendered site is swapped in whole —
// interrupted or failing at any point, the folder keeps what it had. Paths and interruption
// points are generated (fast-check); each case checks the files byte for byte afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCommand } from '../../src/commands/render.js';
import { replayCommand } from '../../src/commands/replay.js';
import { runCommand } from '../../src/commands/run.js';
import { renderSite } from '../../src/render/index.js';
import { loadBook } from '../../src/runner/load-book.js';
import { capture, tree } from '../helpers/files.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A book with two chapters, a book.yaml and, beside it, a transcript-looking file of its own. */
function workspace() {
  const root = mkdtempSync(path.join(tmpdir(), 'output-safety-'));
  roots.push(root);
  const book = path.join(root, 'book');
  mkdirSync(book);
  writeFileSync(path.join(book, 'book.yaml'), 'title: Safety\ntarget: local\n');
  writeFileSync(path.join(book, '01-one.md'), '# One\n\n```sh run\ntrue\n```\n');
  writeFileSync(path.join(book, '02-two.md'), '# Two\n\nProse only.\n');
  writeFileSync(path.join(root, 'notes.txt'), 'the reader’s own notes\n');
  writeFileSync(path.join(root, 'transcript.json'), '{"format": "not ours"}\n');
  return { root, book };
}

/** Output paths drawn from the command's inputs, the reader's files and special files, reached in several ways. */
const SPECIAL = [
  'chapter',
  'book.yaml',
  'notes',
  'transcript',
  'link-to-chapter',
  'hardlink-to-chapter',
  'dotdot-chapter',
  'dangling-link',
  'looping-link',
  'fifo',
  'socket',
  'device',
  'folder',
] as const;
type Special = (typeof SPECIAL)[number];

async function makeSpecial(ws: { root: string; book: string }, kind: Special): Promise<{ file: string; close?: () => void }> {
  const at = (name: string) => path.join(ws.root, `${kind}-${name}`);
  switch (kind) {
    case 'chapter':
      return { file: path.join(ws.book, '01-one.md') };
    case 'book.yaml':
      return { file: path.join(ws.book, 'book.yaml') };
    case 'notes':
      return { file: path.join(ws.root, 'notes.txt') };
    case 'transcript':
      return { file: path.join(ws.root, 'transcript.json') };
    case 'link-to-chapter':
      symlinkSync(path.join(ws.book, '01-one.md'), at('l'));
      return { file: at('l') };
    case 'hardlink-to-chapter':
      linkSync(path.join(ws.book, '02-two.md'), at('h'));
      return { file: at('h') };
    case 'dotdot-chapter':
      return { file: path.join(ws.book, '..', 'book', '.', '02-two.md') };
    case 'dangling-link':
      symlinkSync(path.join(ws.root, 'nowhere'), at('d'));
      return { file: at('d') };
    case 'looping-link':
      symlinkSync(at('loop'), at('loop'));
      return { file: at('loop') };
    case 'fifo':
      execFileSync('mkfifo', [at('fifo')]);
      return { file: at('fifo') };
    case 'socket': {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(at('sock'), resolve));
      return { file: at('sock'), close: () => server.close() };
    }
    case 'device':
      // A device node of the test's own (as /dev/null is), never the system's.
      execFileSync('mknod', [at('null'), 'c', '1', '3']);
      return { file: at('null') };
    case 'folder':
      mkdirSync(at('dir'));
      return { file: at('dir') };
  }
}

const refusesEarly = () => Promise.reject(new Error('the machine must not be reached'));

describe('output files never replace an input, a reader’s file or a special file', () => {
  it('run --junit / --transcript / --record and replay --junit refuse them, leaving every file as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SPECIAL), fc.constantFrom('run --junit', 'run --transcript', 'replay --junit'), async (kind, how) => {
        const ws = workspace();
        const { file, close } = await makeSpecial(ws, kind);
        const before = tree(ws.root);
        const io = capture();
        let code: number;
        if (how === 'run --junit') code = await runCommand({ book: ws.book, target: 'local', junit: file, reporter: 'plain' }, io, refusesEarly);
        else if (how === 'run --transcript') code = await runCommand({ book: ws.book, target: 'local', transcript: file, reporter: 'plain' }, io, refusesEarly);
        else code = await replayCommand({ book: ws.book, transcript: path.join(ws.root, 'transcript.json'), junit: file }, io);
        expect(code, io.text()).toBe(2);
        expect(io.text()).toMatch(/\[ARGUMENTS_INVALID\]/);
        expect(io.text()).not.toMatch(/\n\s+at /);
        expect(tree(ws.root)).toEqual(before);
        close?.();
      }),
      { numRuns: 40 },
    );
  });

  it('two outputs naming the same file are refused, however the path is spelled', async () => {
    const ws = workspace();
    const out = path.join(ws.root, 'out');
    mkdirSync(out);
    symlinkSync(path.join(out, 'same.xml'), path.join(ws.root, 'alias.xml'));
    for (const [junit, transcript] of [
      [path.join(out, 'same.xml'), path.join(out, 'same.xml')],
      [path.join(out, 'same.xml'), path.join(out, '..', 'out', 'same.xml')],
    ]) {
      const io = capture();
      expect(await runCommand({ book: ws.book, target: 'local', junit, transcript, reporter: 'plain' }, io, refusesEarly)).toBe(2);
      expect(io.text()).toMatch(/name the same file/);
    }
  });

  it('a file this runner wrote is replaced, through a link too, and the link stays a link', async () => {
    const ws = workspace();
    const junit = path.join(ws.root, 'report.xml');
    writeFileSync(junit, '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="book" tests="0">\n</testsuites>\n');
    symlinkSync(junit, path.join(ws.root, 'report-link.xml'));
    const io = capture();
    // The machine is refused after the checks: the outputs passed them.
    const code = await runCommand({ book: ws.book, target: 'local', junit: path.join(ws.root, 'report-link.xml'), reporter: 'plain' }, io, async () => {
      throw Object.assign(new Error('no machine here'), { code: 'MACHINE_UNREACHABLE' });
    });
    expect(code, io.text()).toBe(3);
    expect(lstatSync(path.join(ws.root, 'report-link.xml')).isSymbolicLink()).toBe(true);
  });
});

/** A site rendered once, with (or without) files of the reader's in its folder. */
async function siteWith(foreign: boolean) {
  const ws = workspace();
  const out = path.join(ws.root, 'site');
  const book = await loadBook(ws.book);
  await renderSite({ book, outDir: out });
  if (foreign) {
    writeFileSync(path.join(out, 'CNAME'), 'book.example\n');
    mkdirSync(path.join(out, 'images'));
    writeFileSync(path.join(out, 'images', 'logo.svg'), '<svg/>');
    writeFileSync(path.join(out, 'assets', 'extra.css'), 'body{}');
  }
  // The book changes: a third chapter, so the new site differs from the old.
  writeFileSync(path.join(ws.book, '03-three.md'), '# Three\n\nMore.\n');
  return { ...ws, out, book: await loadBook(ws.book) };
}

const leftovers = (root: string) => readdirSync(root).filter((n) => n.includes('.book-new-') || n.includes('.book-old'));

describe('book render swaps the site in whole', () => {
  it('failing or interrupted at any file, the folder keeps the site it had, and nothing is left aside', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(8), fc.constantFrom('write error', 'ctrl-c'), async (foreign, failAt, how) => {
        const ws = await siteWith(foreign);
        const before = tree(ws.out);
        let writes = 0;
        const abort = new AbortController();
        const write = async (file: string, text: string) => {
          if (writes++ === failAt) {
            if (how === 'ctrl-c') abort.abort();
            else throw Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC' });
          }
          writeFileSync(file, text);
        };
        const result = await renderSite({ book: ws.book, outDir: ws.out, force: foreign, write, signal: abort.signal }).then(
          () => 'done',
          (error: Error) => error.message,
        );
        // Seven files are written (two assets, index, three pages, the marker): past them the render completes.
        if (failAt < 7) {
          expect(result).not.toBe('done');
          expect(tree(ws.out)).toEqual(before);
        } else expect(result).toBe('done');
        expect(leftovers(ws.root)).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('a folder with files of the reader’s is refused; with --force they are kept, byte for byte, beside the new site', async () => {
    const ws = await siteWith(true);
    const theirs = (t: Record<string, string>) =>
      Object.fromEntries(Object.entries(t).filter(([k]) => ['CNAME', 'images', path.join('images', 'logo.svg'), path.join('assets', 'extra.css')].includes(k)));
    const before = tree(ws.out);
    const io = capture();
    expect(await renderCommand({ book: ws.book.dir, out: ws.out }, io)).toBe(2);
    expect(io.text()).toMatch(/holds files book render did not write \(CNAME, assets\/extra\.css, images\)/);
    expect(tree(ws.out)).toEqual(before);
    expect(await renderCommand({ book: ws.book.dir, out: ws.out, force: true }, capture())).toBe(0);
    const after = tree(ws.out);
    expect(theirs(after)).toEqual(theirs(before));
    expect(Object.keys(after)).toContain('03-three.html');
    // Rendered again without --force: the reader's files still make the folder theirs.
    expect(await renderCommand({ book: ws.book.dir, out: ws.out }, capture())).toBe(2);
  });

  it('refuses a reader’s file with the name of a page even with --force, and folders that hold the book or the working folder', async () => {
    const ws = workspace();
    const out = path.join(ws.root, 'mine');
    mkdirSync(out);
    writeFileSync(path.join(out, 'index.html'), '<p>my own page</p>');
    const before = tree(ws.root);
    for (const [dir, force] of [
      [out, true],
      [ws.book, true],
      [ws.root, true],
      [process.cwd(), true],
      ['/', true],
    ] as const) {
      const io = capture();
      expect(await renderCommand({ book: ws.book, out: dir, force }, io), `${dir}: ${io.text()}`).toBe(2);
    }
    expect(tree(ws.root)).toEqual(before);
  });

  it.skipIf(!existsSync(BIN))(
    'Ctrl-C at a random moment leaves the old site or the new one, never a mix',
    async () => {
      const ws = await siteWith(false);
      // A book big enough that rendering takes a while; the interruptions fall at random points of one render's time.
      for (let i = 4; i < 40; i++)
        writeFileSync(path.join(ws.book.dir, `${String(i).padStart(2, '0')}-c.md`), `# C${i}\n\n${'Prose *and* `code`. '.repeat(1500)}\n`);
      const render = () => spawn(process.execPath, [BIN, 'render', '--book', ws.book.dir, '--out', ws.out], { stdio: 'ignore' });
      const exited = (child: ReturnType<typeof spawn>) => new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      const t0 = performance.now();
      expect(await exited(render())).toBe(0);
      const whole = performance.now() - t0;
      let previous = tree(ws.out);
      const seen: string[] = [];
      const fractions = fc.sample(fc.double({ min: 0.05, max: 1.1, noNaN: true }), 8);
      for (const fraction of [0.3, 0.6, ...fractions]) {
        const child = render();
        // Listened for from the start: a render may end before the signal is sent.
        const exit = exited(child);
        await new Promise((r) => setTimeout(r, whole * fraction));
        child.kill('SIGINT');
        const code = await exit;
        const now = tree(ws.out);
        if (JSON.stringify(now) === JSON.stringify(previous)) {
          // Stopped before the swap: by the runner (130) or by the signal itself, before its handler was set.
          expect([130, null]).toContain(code);
          seen.push('kept');
        } else {
          // Swapped: the whole new site, every chapter's page (the signal may land after the swap, as the process exits).
          expect([0, null]).toContain(code);
          expect(Object.keys(now).filter((k) => k.endsWith('.html'))).toHaveLength(40);
          seen.push('new');
        }
        expect(leftovers(ws.root)).toEqual([]);
        previous = now;
      }
      // The interruptions fell inside renders too: the test saw the old site kept.
      expect(seen, seen.join(', ')).toContain('kept');
    },
    60_000,
  );
});

// Issue 27: no bad input hangs or falls through. Where the CLI reads an input (a chapter,
// book.yaml, a transcript, a checkpoint) a FIFO, a socket, a device, a folder, a link to nothing
// or a loop, or a file over its size limit must end, within a deadline, with exit 2, its code and
// the file's name, and no stack trace; a book.yaml that is there but broken must never mean the
// defaults. src/runner/input-file.ts reads every one of them (docs/validation.md, "Issue 27 classes").
//
// The CLI runs from src, bundled here into node_modules/.cache (as scripts/build.mjs bundles dist/,
// which this test does not touch), so it needs no fresh `npm run build`. Every case has a deadline:
// a spawned CLI is killed, a read in this process loses a Promise.race, and parseBookConfig (which
// is synchronous) runs in a worker thread that is ended; a hang fails the case instead of the suite.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the build scripts
import { PACKAGE_BUNDLE } from '../../scripts/esbuild-options.mjs';
import { runCommand } from '../../src/commands/run.js';
import { INPUT_LIMITS, InputFileError, readInputFile } from '../../src/runner/input-file.js';
import { loadBook } from '../../src/runner/load-book.js';
import { BookError } from '../../src/runner/types.js';
import { FakeTarget } from '../fakes/fake-target.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', `book-special-inputs-${process.pid}`);
const CLI = path.join(CACHE, 'dist', 'cli.js');
const API = path.join(CACHE, 'dist', 'runner-api.js');
const AS_ROOT = process.getuid?.() === 0;

/** Every FIFO made here: one a regressed read blocked on is given a writer (and so EOF) at the end. */
const fifos: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  // As scripts/build.mjs does (dist/ is left alone); vagrant/ beside it, where PACKAGE_ROOT looks.
  await build({
    entryPoints: ['src/cli.ts', 'src/runner-api.ts', 'src/runner/isolate/worker.ts'].map((f) => path.join(ROOT, f)),
    outbase: path.join(ROOT, 'src'),
    outdir: path.join(CACHE, 'dist'),
    ...PACKAGE_BUNDLE,
  });
  symlinkSync(path.join(ROOT, 'vagrant'), path.join(CACHE, 'vagrant'));
}, 60_000);

afterAll(async () => {
  for (const fifo of fifos) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader waiting on it: as it should be
    }
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await parser?.terminate();
  rmSync(CACHE, { recursive: true, force: true });
});

/** The promise, or a failure naming what hung once `ms` have passed. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms: it hangs`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `book ARGS` from src; killed at the deadline (its result then says so). */
function book(args: string[], deadlineMs = 10_000): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '', BOOK_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n(killed: no verdict within ${deadlineMs} ms)`;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Runs `jobs` two at a time (two cores). */
async function inPairs<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

// ---------------------------------------------------------------------------------------------
// The special files.

type Kind =
  | 'fifo'
  | 'socket'
  | 'dev-zero'
  | 'dev-null'
  | 'link-to-dev-zero'
  | 'link-to-fifo'
  | 'directory'
  | 'dangling-link'
  | 'looping-link'
  | 'loop-of-two'
  | 'oversize';

/** What the refusal says for each, after the file's name. */
const REASON: Record<Kind, RegExp> = {
  fifo: /^is a FIFO \(named pipe\), not a file$/,
  socket: /^is a socket, not a file$/,
  'dev-zero': /^is a device \(a character device\), not a file$/,
  'dev-null': /^is a device \(a character device\), not a file$/,
  'link-to-dev-zero': /^is a device \(a character device\), not a file$/,
  'link-to-fifo': /^is a FIFO \(named pipe\), not a file$/,
  directory: /^is a directory, not a file$/,
  'dangling-link': /^is a link to nothing$/,
  'looping-link': /^is a link that loops$/,
  'loop-of-two': /^is a link that loops$/,
  oversize: /^is too large: .*\d+ bytes\)?, over the limit of .*\d+ bytes\)? for /,
};
const KINDS = Object.keys(REASON) as Kind[];
/** The kinds that can be put at a path of the test's choosing. */
const PLACEABLE = KINDS.filter((k) => k !== 'dev-zero' && k !== 'dev-null');

/**
 * Makes a special file of `kind` at `file` (or returns the device's own path); the path to read.
 * `limitBytes`: an oversize file is a sparse one just past it (nothing is written).
 */
async function makeSpecial(kind: Kind, file: string, limitBytes: number, extra = 1): Promise<string> {
  switch (kind) {
    case 'fifo':
      execFileSync('mkfifo', [file]);
      fifos.push(file);
      return file;
    case 'socket': {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, resolve);
      });
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return file;
    }
    case 'dev-zero':
      return '/dev/zero';
    case 'dev-null':
      return '/dev/null';
    case 'link-to-dev-zero':
      symlinkSync('/dev/zero', file);
      return file;
    case 'link-to-fifo':
      execFileSync('mkfifo', [`${file}.fifo`]);
      fifos.push(`${file}.fifo`);
      symlinkSync(`${file}.fifo`, file);
      return file;
    case 'directory':
      mkdirSync(file);
      return file;
    case 'dangling-link':
      symlinkSync(path.join(path.dirname(file), 'nothing-here'), file);
      return file;
    case 'looping-link':
      symlinkSync(path.basename(file), file);
      return file;
    case 'loop-of-two':
      symlinkSync(`${path.basename(file)}.other`, file);
      symlinkSync(path.basename(file), `${file}.other`);
      return file;
    case 'oversize':
      writeFileSync(file, '');
      truncateSync(file, limitBytes + extra);
      return file;
  }
}

const scratch = () => mkdtempSync(path.join(tmpdir(), 'book-special-'));

// ---------------------------------------------------------------------------------------------

describe('readInputFile: only a regular file, never past its limit', () => {
  it('refuses every special file (generated: kind, limit, through a link or not) within its deadline, saying what it is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1 << 30 }),
        async (kind, limitBytes, viaLink, extra) => {
          const dir = scratch();
          try {
            const made = await makeSpecial(kind, path.join(dir, 'input'), limitBytes, extra);
            const file = viaLink ? path.join(dir, 'link') : made;
            if (viaLink) symlinkSync(made, file);
            const error = await within(
              5000,
              `reading ${kind}`,
              readInputFile(file, { limitBytes, what: 'a chapter' }).then(
                () => undefined,
                (e: unknown) => e,
              ),
            );
            expect(error, kind).toBeInstanceOf(InputFileError);
            const refused = error as InputFileError;
            expect(refused.reason, kind).toMatch(REASON[kind]);
            expect(refused.message.startsWith(file), refused.message).toBe(true);
            expect(refused.hint.length).toBeGreaterThan(0);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 80 },
    );
  }, 30_000);

  it('reads a regular file (or a link to one) whole when it is within the limit, exactly at it included, and refuses one byte more', async () => {
    const dir = scratch();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 4096 }),
          fc.oneof(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -5000, max: 5000 })),
          fc.boolean(),
          async (bytes, delta, viaLink) => {
            const limitBytes = Math.max(0, bytes.length + delta);
            const file = path.join(dir, 'input');
            rmSync(file, { force: true });
            rmSync(`${file}.real`, { force: true });
            writeFileSync(viaLink ? `${file}.real` : file, bytes);
            if (viaLink) symlinkSync(`${file}.real`, file);
            const read = await within(
              5000,
              'a regular file',
              readInputFile(file, { limitBytes, what: 'a chapter' }).catch((e: unknown) => e),
            );
            if (bytes.length <= limitBytes) expect(Buffer.compare(read as Buffer, Buffer.from(bytes))).toBe(0);
            else {
              // Both numbers said exactly: `1.5 KiB (1536 bytes)`, or `500 bytes` below a KiB.
              expect(read).toBeInstanceOf(InputFileError);
              const said = /^is too large: (.+), over the limit of (.+) for a chapter$/.exec((read as InputFileError).reason);
              expect(said?.[1]).toMatch(new RegExp(`(^|\\()${bytes.length} bytes\\)?$`));
              expect(said?.[2]).toMatch(new RegExp(`(^|\\()${limitBytes} bytes\\)?$`));
            }
          },
        ),
        { numRuns: 200 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('never reads past the limit of a file whose size lies (/proc says 0 bytes)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/proc/self/status', '/proc/self/maps', '/proc/self/environ', '/proc/cpuinfo'),
        fc.integer({ min: 0, max: 4096 }),
        async (file, limitBytes) => {
          const read = await within(
            5000,
            file,
            readInputFile(file, { limitBytes, what: 'a chapter' }).catch((e: unknown) => e),
          );
          if (read instanceof InputFileError) expect(read.reason).toMatch(/it grew while being read/);
          else expect((read as Buffer).length).toBeLessThanOrEqual(limitBytes);
        },
      ),
      { numRuns: 60 },
    );
  }, 30_000);

  it('tells a missing file from a link to nothing, and a path through a file', async () => {
    const dir = scratch();
    try {
      writeFileSync(path.join(dir, 'file'), 'x');
      for (const [file, problem, reason] of [
        [path.join(dir, 'none'), 'missing', /^does not exist$/],
        [path.join(dir, 'file', 'below'), 'missing', /^does not exist \(a part of its path is a file/],
      ] as const) {
        const error = (await within(
          5000,
          file,
          readInputFile(file, { limitBytes: 10, what: 'a chapter' }).catch((e: unknown) => e),
        )) as InputFileError;
        expect(error.problem).toBe(problem);
        expect(error.reason).toMatch(reason);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(AS_ROOT)('says a file cannot be read (permission denied) (not as root: root reads anything)', async () => {
    const dir = scratch();
    try {
      writeFileSync(path.join(dir, 'secret'), 'x', { mode: 0o000 });
      const error = (await readInputFile(path.join(dir, 'secret'), { limitBytes: 10, what: 'a chapter' }).catch((e: unknown) => e)) as InputFileError;
      expect(error.reason).toBe('cannot be read (permission denied)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------

const YAML = 'title: Special\ntarget: t\ntargets:\n  t:\n    type: local\n    netns: book-no-such-ns\n    runtimeDir: /run/book-no-such-ns\n';
const CHAPTER = '# A\n\nSome prose.\n\n```sh run name=hello\necho hello\n```\n';

/** A book of two chapters and a book.yaml under a fresh root (root/book, root/.book beside it). */
function writeBook(files: Record<string, string> = {}): string {
  const root = scratch();
  const dir = path.join(root, 'book');
  mkdirSync(dir);
  for (const [name, text] of Object.entries({
    'book.yaml': YAML,
    '01-a.md': CHAPTER,
    '02-b.md': CHAPTER.replace('# A', '# B').replace('hello', 'bye'),
    ...files,
  }))
    writeFileSync(path.join(dir, name), text);
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return dir;
}

const shown = (file: string) => path.relative(ROOT, file);
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unanchored = (pattern: RegExp) => pattern.source.replace(/^\^/, '').replace(/\$$/, '');
const NO_STACK = /\n\s+at /;

const COMMANDS: Record<string, (dir: string) => string[]> = {
  list: (d) => ['list', '--book', d],
  run: (d) => ['run', '--book', d],
  render: (d) => ['render', '--book', d, '--out', path.join(d, '..', 'site')],
  replay: (d) => ['replay', '--book', d],
  checkpoints: (d) => ['checkpoints', '--book', d],
};

describe('every command that reads the book refuses a special chapter or book.yaml: exit 2, the file:1, no hang', () => {
  // FIFOs and /dev/zero (the inputs that hung or filled the memory) under every command, as a
  // chapter and as book.yaml; the other kinds as book.yaml under list (the same loadBook serves all
  // five commands, and the properties below put every kind in every place in-process).
  const cases = PLACEABLE.flatMap((kind) =>
    (['01-a.md', 'book.yaml'] as const).flatMap((slot) =>
      Object.keys(COMMANDS)
        .filter((command) => kind === 'fifo' || kind === 'link-to-dev-zero' || (command === 'list' && slot === 'book.yaml'))
        .map((command) => ({ kind, slot, command })),
    ),
  );

  it(`${cases.length} cases: each ends within its deadline with BOOK_INVALID at the file`, async () => {
    const results = await inPairs(
      cases.map(({ kind, slot, command }) => async () => {
        const dir = writeBook();
        const file = path.join(dir, slot);
        rmSync(file);
        await makeSpecial(kind, file, slot === 'book.yaml' ? INPUT_LIMITS.bookYaml : INPUT_LIMITS.chapter);
        return { kind, slot, command, file, ran: await book((COMMANDS[command] as (d: string) => string[])(dir)) };
      }),
    );
    for (const { kind, slot, command, file, ran } of results) {
      const what = `book ${command} with ${slot} as ${kind}: ${ran.stderr}`;
      expect(ran.code, what).toBe(2);
      expect(ran.stderr, what).toMatch(/^book: \[BOOK_INVALID\] /);
      const line = ran.stderr.split('\n').find((l) => l.startsWith(`${shown(file)}:1: `));
      expect(line, what).toBeDefined();
      expect(line?.slice(`${shown(file)}:1: `.length), what).toMatch(REASON[kind]);
      expect(ran.stderr, what).not.toMatch(NO_STACK);
    }
  }, 120_000);

  it.skipIf(AS_ROOT)('an unreadable book.yaml is BOOK_INVALID, not the defaults (not as root)', async () => {
    const dir = writeBook();
    writeFileSync(path.join(dir, 'book.yaml'), YAML, { mode: 0o000 });
    const ran = await book(['list', '--book', dir]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain(`${shown(path.join(dir, 'book.yaml'))}:1: cannot be read (permission denied)`);
  });

  it('a book.yaml that is a link to nothing never falls back to the defaults (their target is another machine)', async () => {
    // Generated: where the link points, and whether the chapters are fine; only an absent book.yaml means defaults.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Kind>('dangling-link', 'looping-link', 'loop-of-two', 'directory', 'fifo', 'link-to-dev-zero'), async (kind) => {
        const dir = writeBook();
        rmSync(path.join(dir, 'book.yaml'));
        await makeSpecial(kind, path.join(dir, 'book.yaml'), INPUT_LIMITS.bookYaml);
        const error = await within(
          5000,
          `loadBook with book.yaml as ${kind}`,
          loadBook(dir).catch((e: unknown) => e),
        );
        expect(error).toBeInstanceOf(BookError);
        expect((error as BookError).issues).toEqual([
          expect.objectContaining({ file: shown(path.join(dir, 'book.yaml')), line: 1, message: expect.stringMatching(REASON[kind]) }),
        ]);
      }),
      { numRuns: 12 },
    );
    // Only a truly absent one is the defaults.
    const dir = writeBook();
    rmSync(path.join(dir, 'book.yaml'));
    expect((await loadBook(dir)).config.target).toBe('auto');
  }, 30_000);

  it('special chapters among ordinary ones (generated): each is an issue at its file, none hangs, the rest are read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.constantFrom(...PLACEABLE), { nil: undefined, freq: 2 }), { minLength: 1, maxLength: 6 }), async (slots) => {
        const dir = writeBook({ '01-a.md': '', '02-b.md': '' });
        rmSync(path.join(dir, '01-a.md'));
        rmSync(path.join(dir, '02-b.md'));
        const special: { file: string; kind: Kind }[] = [];
        for (const [i, kind] of slots.entries()) {
          const file = path.join(dir, `${String(i + 1).padStart(2, '0')}-c${i}.md`);
          if (kind) {
            await makeSpecial(kind, file, INPUT_LIMITS.chapter);
            special.push({ file, kind });
          } else writeFileSync(file, CHAPTER.replace('name=hello', `name=c${i}`));
        }
        const result = await within(
          10_000,
          `loadBook of ${slots.join(', ')}`,
          loadBook(dir).catch((e: unknown) => e),
        );
        if (special.length === 0) {
          expect(result).not.toBeInstanceOf(Error);
          return;
        }
        expect(result).toBeInstanceOf(BookError);
        const issues = (result as BookError).issues;
        expect(issues.map((i) => i.file).sort()).toEqual(special.map((s) => shown(s.file)).sort());
        for (const { file, kind } of special) expect(issues.find((i) => i.file === shown(file))?.message).toMatch(REASON[kind]);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe('transcripts: render and replay refuse a special one with TRANSCRIPT_INVALID, naming it', () => {
  const deep = (n: number) =>
    JSON.stringify({
      format: 'build-a-minikube/transcript@1',
      title: 'Special',
      recordedAt: '2026-01-01T00:00:00Z',
      target: { name: 't', type: 'local' },
      runner: { node: 'v20', platform: 'linux-x64' },
      baseline: { sources: { x: 0 } },
      chapters: [],
      finalState: {},
    }).replace('"x":0', `"x":${'['.repeat(n)}${']'.repeat(n)}`);

  it('a FIFO, a socket, /dev/zero, a link to it, a folder, a link to nothing or a loop, one over 64 MiB, one nested 200,000 deep', async () => {
    const kinds = [...KINDS, 'deep' as const];
    const jobs = kinds.flatMap((kind) =>
      ['render', 'replay'].map((command) => async () => {
        const dir = writeBook();
        let file = path.join(dir, '..', 'transcript.json');
        if (kind === 'deep') writeFileSync(file, deep(200_000));
        else file = await makeSpecial(kind, file, INPUT_LIMITS.transcript);
        const args = command === 'render' ? ['render', '--book', dir, '--out', path.join(dir, '..', 'site')] : ['replay', '--book', dir];
        return { kind, command, file, ran: await book([...args, '--transcript', file]) };
      }),
    );
    for (const { kind, command, file, ran } of await inPairs(jobs)) {
      const what = `book ${command} --transcript ${kind}: ${ran.stderr}`;
      expect(ran.code, what).toBe(2);
      expect(ran.stderr, what).toMatch(/^book: \[TRANSCRIPT_INVALID\] /);
      expect(ran.stderr, what).toContain(file);
      if (kind === 'deep') expect(ran.stderr, what).toMatch(/nests deeper than 256 levels at line 1/);
      else expect(ran.stderr, what).toMatch(new RegExp(`transcript ${escapeRegExp(file)}: it ${unanchored(REASON[kind])}`));
      expect(ran.stderr, what).not.toMatch(NO_STACK);
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe('checkpoints: a special file where a checkpoint goes is a damaged checkpoint, never a hang', () => {
  it('book checkpoints lists each as unusable, saying what it is', async () => {
    const jobs = [...PLACEABLE, 'folder-is-fifo' as const].map((kind) => async () => {
      const dir = writeBook();
      const folder = path.join(dir, '..', '.book', 'checkpoints', 't');
      let file = path.join(folder, '01-a.json');
      if (kind === 'folder-is-fifo') {
        mkdirSync(path.dirname(folder), { recursive: true });
        file = await makeSpecial('fifo', folder, 0);
      } else {
        mkdirSync(folder, { recursive: true });
        await makeSpecial(kind, file, INPUT_LIMITS.checkpoint);
      }
      return { kind, file, ran: await book(['checkpoints', '--book', dir]) };
    });
    for (const { kind, file, ran } of await inPairs(jobs)) {
      const what = `book checkpoints with ${kind}: ${ran.stdout}${ran.stderr}`;
      // The command reports what is wrong with each checkpoint (exit 0), as for a truncated one.
      expect(ran.code, what).toBe(0);
      const line = ran.stdout.split('\n').find((l) => l.startsWith(`✗ ${file}: unusable — it `));
      expect(line, what).toBeDefined();
      if (kind === 'folder-is-fifo') expect(line).toMatch(/it is not a folder of checkpoints \(ENOTDIR\)/);
      else expect(line?.replace(/^.*unusable — it /, ''), what).toMatch(REASON[kind]);
    }
  }, 120_000);

  it('book run --from 2 refuses each with CHECKPOINT_DAMAGED (exit 2) within its deadline, on a FAKE machine', async () => {
    const yaml = 'title: Fake book\ntarget: fake\ntargets:\n  fake:\n    type: ssh\n    host: fake.invalid\n';
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PLACEABLE, 'deep' as const), async (kind) => {
        const dir = writeBook({ 'book.yaml': yaml });
        const file = path.join(dir, '..', '.book', 'checkpoints', 'fake', '01-a.json');
        mkdirSync(path.dirname(file), { recursive: true });
        if (kind === 'deep') writeFileSync(file, `{"format":"build-a-minikube/checkpoint@1","sha256":"x","body":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
        else await makeSpecial(kind, file, INPUT_LIMITS.checkpoint);
        const machine = new FakeTarget();
        cleanups.push(() => machine.remove());
        let err = '';
        const code = await within(
          10_000,
          `book run --from 2 with a checkpoint that is ${kind}`,
          runCommand({ book: dir, reporter: 'plain', from: '2' }, { out: () => {}, err: (t) => (err += t) }, async () => machine),
        );
        expect(code, err).toBe(2);
        expect(err).toMatch(/^book: \[CHECKPOINT_DAMAGED\] the checkpoint .*01-a\.json cannot be used: it /);
        if (kind === 'deep') expect(err).toMatch(/nests deeper than 256 levels/);
        else expect(err.replace(/^.*cannot be used: it /, '').split('. Run chapter')[0]).toMatch(REASON[kind]);
        expect(machine.commands.filter((c) => c.includes('echo'))).toEqual([]);
      }),
      { numRuns: 20 },
    );
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// book.yaml of pathological shapes. parseBookConfig is synchronous: it runs in a worker thread
// that is ended at the deadline, so a blow-up fails the case instead of the run.

let parser: Worker | undefined;
let asked = 0;
const answers = new Map<number, (answer: Parsed) => void>();
interface Parsed {
  issues: { file: string; line: number; message: string; hint?: string }[];
  chapterLines: number[];
  ms: number;
  error?: string;
}

function parseInWorker(text: string, deadlineMs: number): Promise<Parsed> {
  parser ??= (() => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.api).then(({ parseBookConfig }) => parentPort.on('message', ({ id, text }) => {
         const started = performance.now();
         try {
           const { issues, chapterLines } = parseBookConfig('book.yaml', text);
           parentPort.postMessage({ id, issues, chapterLines, ms: performance.now() - started });
         } catch (error) {
           parentPort.postMessage({ id, issues: [], chapterLines: [], ms: 0, error: String(error && error.stack || error) });
         }
       }));`,
      { eval: true, workerData: { api: `file://${API}` } },
    );
    worker.on('message', (m: Parsed & { id: number }) => answers.get(m.id)?.(m));
    return worker;
  })();
  const id = ++asked;
  const worker = parser;
  return new Promise<Parsed>((resolve, reject) => {
    const timer = setTimeout(() => {
      answers.delete(id);
      parser = undefined;
      void worker.terminate();
      reject(new Error(`parseBookConfig gave no answer within ${deadlineMs} ms for: ${text.slice(0, 300)}…`));
    }, deadlineMs);
    answers.set(id, (answer) => {
      clearTimeout(timer);
      answers.delete(id);
      resolve(answer);
    });
    worker.postMessage({ id, text });
  });
}

/** Anchors that reference anchors, `levels` deep and `width` wide, in block or flow style, under a prefix. */
const aliasBomb = fc.record({
  levels: fc.integer({ min: 2, max: 12 }),
  width: fc.integer({ min: 2, max: 12 }),
  flow: fc.boolean(),
  prefix: fc.uniqueArray(fc.constantFrom('title: Bomb', '# a comment', '', 'kubeconfig: /etc/kubernetes/admin.kubeconfig'), { maxLength: 3 }),
  under: fc.constantFrom('', 'targets', 'chapters', 'x'),
});

describe('book.yaml: alias bombs and 100,000 entries end quickly with issues at their lines', () => {
  it('an alias bomb (generated: depth, width, style, place) is BOOK_INVALID at a line of the bomb, never an internal error or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(aliasBomb, async ({ levels, width, flow, prefix, under }) => {
        const lines: string[] = [...prefix];
        const indent = under ? '  ' : '';
        if (under === 'chapters') lines.push('chapters:');
        else if (under) lines.push(`${under}:`);
        const first = lines.length + 1;
        for (let level = 0; level < levels; level++) {
          const items = Array.from({ length: width }, () => (level === 0 ? 'lol' : `*a${level - 1}`));
          const key = under === 'chapters' ? '- ' : `k${level}: `;
          if (flow) lines.push(`${indent}${key}&a${level} [${items.join(', ')}]`);
          else {
            lines.push(`${indent}${key}&a${level}`);
            for (const item of items) lines.push(`${indent}  - ${item}`);
          }
        }
        const last = lines.length;
        const text = `${lines.join('\n')}\n`;
        const parsed = await parseInWorker(text, 10_000);
        expect(parsed.error).toBeUndefined();
        expect(parsed.issues.length).toBeGreaterThan(0);
        for (const issue of parsed.issues) expect(issue.line).toBeGreaterThanOrEqual(1);
        for (const issue of parsed.issues) expect(issue.line).toBeLessThanOrEqual(lines.length);
        // Values once expanded: width^levels and then some. Past a million, it is called a bomb at one of its lines.
        if (width ** levels > 1_000_000) {
          const bomb = parsed.issues.find((i) => /alias bomb/.test(i.message));
          expect(bomb, JSON.stringify(parsed.issues)).toBeDefined();
          expect(bomb?.line).toBeGreaterThanOrEqual(first);
          expect(bomb?.line).toBeLessThanOrEqual(last);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('more than 1000 aliases (generated count) is an issue at the one too many', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 990, max: 5000 }), async (count) => {
        const text = `x: &x 1\nchapters:\n${Array.from({ length: count }, () => '  - *x').join('\n')}\n`;
        const parsed = await parseInWorker(text, 10_000);
        expect(parsed.error).toBeUndefined();
        const tooMany = parsed.issues.find((i) => /more than 1000 aliases/.test(i.message));
        if (count > 1000) expect(tooMany?.line).toBe(1003);
        else expect(tooMany).toBeUndefined();
      }),
      { numRuns: 8 },
    );
  }, 60_000);

  /** Shapes of 100,000 entries (or as many as fit in book.yaml's 1 MiB): what must be said, and where. */
  const SHAPES: Record<string, { text: (n: number) => string; first: RegExp; line: number }> = {
    'unknown keys': {
      text: (n) => `title: T\n${Array.from({ length: n }, (_, i) => `k${i}: 1\n`).join('')}`,
      first: /^unknown keys "k0", .* and \d+ more$/,
      line: 2,
    },
    'chapters that do not exist (block)': { text: (n) => `chapters:\n${Array.from({ length: n }, (_, i) => `- 1-${i}\n`).join('')}`, first: /^$/, line: 2 },
    'chapters that do not exist (flow)': { text: (n) => `chapters: [${Array.from({ length: n }, (_, i) => `1-${i}`).join(',')}]\n`, first: /^$/, line: 1 },
    'targets of nothing': { text: (n) => `targets:\n${Array.from({ length: n }, (_, i) => `  t${i}:\n`).join('')}`, first: /^targets\.t0: /, line: 2 },
    'one key 100,000 times': { text: (n) => Array.from({ length: n }, () => 'title: T\n').join(''), first: /"title" is here twice/, line: 2 },
    'chapters of deep nesting': { text: (n) => `chapters: ${'['.repeat(n)}${']'.repeat(n)}\n`, first: /nested too deeply/, line: 1 },
  };

  it('parseBookConfig: 100,000 entries of each shape (generated count) answer within the hang guard, with at most 51 issues', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(SHAPES)), fc.integer({ min: 20_000, max: 100_000 }), async (shape, n) => {
        const { text, first, line } = SHAPES[shape] as (typeof SHAPES)[string];
        let source = text(n);
        if (source.length > INPUT_LIMITS.bookYaml) source = text(Math.floor((n * INPUT_LIMITS.bookYaml) / source.length) - 10);
        const parsed = await parseInWorker(source, 20_000);
        expect(parsed.error).toBeUndefined();
        expect(parsed.issues.length).toBeLessThanOrEqual(51);
        if (shape.startsWith('chapters that')) {
          // Not an issue of book.yaml itself: each entry's line is known, for loadBook to name.
          expect(parsed.issues).toEqual([]);
          expect(parsed.chapterLines[0]).toBe(line);
          expect(parsed.chapterLines.at(-1)).toBe(shape.includes('block') ? parsed.chapterLines.length + 1 : 1);
        } else {
          expect(parsed.issues[0]?.message).toMatch(first);
          expect(parsed.issues[0]?.line).toBe(line);
        }
      }),
      { numRuns: 8 },
    );
  }, 180_000);

  it('book list on a book.yaml of 100,000 entries ends (a 20 s hang guard, not a timing) with a short report, the lines named', async () => {
    const cases = {
      'unknown keys': SHAPES['unknown keys'],
      'chapters that do not exist (block)': SHAPES['chapters that do not exist (block)'],
      'one key 100,000 times': SHAPES['one key 100,000 times'],
    };
    for (const [shape, { text }] of Object.entries(cases) as [string, { text: (n: number) => string }][]) {
      const dir = writeBook({ 'book.yaml': text(100_000) });
      const ran = await book(['list', '--book', dir], 20_000);
      const what = `${shape}: ${ran.stderr.slice(0, 2000)}`;
      expect(ran.code, what).toBe(2);
      expect(ran.stderr, what).toMatch(/^book: \[BOOK_INVALID\] /);
      expect(ran.stderr.split('\n').length, what).toBeLessThan(120);
      expect(ran.stderr, what).not.toMatch(NO_STACK);
      if (shape.startsWith('chapters')) {
        // Each missing chapter at its own entry's line, then how many more.
        expect(ran.stderr).toContain(`${shown(path.join(dir, 'book.yaml'))}:2: chapter "1-0" is listed but 1-0.md does not exist`);
        expect(ran.stderr).toContain(`${shown(path.join(dir, 'book.yaml'))}:51: chapter "1-49" is listed`);
        // …and the book's two chapters (01-a, 02-b), which a list of none of them would leave out.
        expect(ran.stderr).toMatch(/and 99952 more problems \(100002 in all; the first 50 are listed\)/);
      }
    }
  }, 90_000);

  it('book list on a billion laughs: BOOK_INVALID at the line of the bomb', async () => {
    const lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      lol.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const dir = writeBook({ 'book.yaml': `${lol.join('\n')}\n` });
    const ran = await book(['list', '--book', dir]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(
      new RegExp(`${escapeRegExp(shown(path.join(dir, 'book.yaml')))}:7: the aliases here expand book\\.yaml to more than 1,000,000 values`),
    );
    expect(ran.stderr).not.toMatch(/INTERNAL/);
  });
});

describe('book.yaml: a chapter listed but missing is named at its entry (generated lists)', () => {
  it('each missing one at the line of its entry; a chapter listed twice at the second', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ exists: fc.boolean(), before: fc.array(fc.constantFrom('', '  # a comment'), { maxLength: 2 }) }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (entries, flow, twice) => {
          const lines = ['title: Listed', 'chapters:'];
          const files: Record<string, string> = {};
          const expected: { line: number; message: string }[] = [];
          if (flow) lines[1] = 'chapters: [';
          for (const [i, entry] of entries.entries()) {
            lines.push(...entry.before);
            const stem = `${String(i + 1).padStart(2, '0')}-c${i}`;
            lines.push(flow ? `  ${stem},` : `  - ${stem}`);
            if (entry.exists) files[`${stem}.md`] = CHAPTER.replace('name=hello', `name=c${i}`);
            else expected.push({ line: lines.length, message: `chapter "${stem}" is listed but ${stem}.md does not exist` });
          }
          if (twice) {
            const stem = '01-c0';
            lines.push(flow ? `  ${stem},` : `  - ${stem}`);
            if (entries[0]?.exists)
              expected.push({
                line: lines.length,
                message: `chapter "${stem}" is listed twice (first at line ${lines.findIndex((l) => l.includes(stem)) + 1})`,
              });
            else expected.push({ line: lines.length, message: `chapter "${stem}" is listed but ${stem}.md does not exist` });
          }
          if (flow) lines.push(']');
          const dir = writeBook({ 'book.yaml': `${lines.join('\n')}\n`, ...files });
          rmSync(path.join(dir, '01-a.md'));
          rmSync(path.join(dir, '02-b.md'));
          const result = await within(
            5000,
            'loadBook',
            loadBook(dir).catch((e: unknown) => e),
          );
          if (expected.length === 0) {
            expect(result).not.toBeInstanceOf(Error);
            return;
          }
          expect(result).toBeInstanceOf(BookError);
          const issues = (result as BookError).issues.filter((i) => i.file.endsWith('book.yaml')).map(({ line, message }) => ({ line, message }));
          expect(issues).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});

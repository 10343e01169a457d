// A file= block writes regular files only. On the local target the machine's files are this
// host's: a block naming a device, a FIFO, a socket or a folder must fail at its line with a
// sentence saying what is there, leave that thing as it was (same inode, same type) and leave no
// temp file behind; a regular file, or a symbolic link to one, is written (the link stays a link).
// The ssh and docker targets write with atomicWriteScript on the node: run here with bash against
// the same kinds, it must answer the same, in the same words.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicWriteScript } from '../../src/runner/targets/target.js';
import { ends, localTargetYaml, runAndCollect, writeBook } from '../helpers/book.js';
import { canUseNetns, testMachine } from '../helpers/netns.js';
import { BOOK_BIN } from '../helpers/runtimes.js';

const NETNS = `book-fileblk-${process.pid}`;
const RUNTIME = `/run/book-fileblk-${process.pid}`;
const ONLY = 'not a file: a file= block writes regular files only';

/** What a case puts at the path the block names (all of it under the test's own folder). */
const KINDS = [
  'fifo',
  'socket',
  'folder',
  'char device',
  'block device',
  'regular file',
  'missing',
  'link to regular file',
  'link to char device',
  'link to fifo',
  'link to folder',
  'dangling link',
  'under a regular file',
] as const;
type Kind = (typeof KINDS)[number];

/** What the write must say, or null when it must write. `file` is the path named; `real`, where its link leads. */
function expected(kind: Kind, file: string, real: string): string | null {
  const linked = (what: string) => `${file} is a symbolic link to ${real}, which is a ${what}, ${ONLY}`;
  switch (kind) {
    case 'fifo':
      return `${file} is a FIFO (named pipe), ${ONLY}`;
    case 'socket':
      return `${file} is a socket, ${ONLY}`;
    case 'folder':
      return `${file} is a folder, ${ONLY}`;
    case 'char device':
      return `${file} is a character device, ${ONLY}`;
    case 'block device':
      return `${file} is a block device, ${ONLY}`;
    case 'link to char device':
      return linked('character device');
    case 'link to fifo':
      return linked('FIFO (named pipe)');
    case 'link to folder':
      return linked('folder');
    case 'under a regular file':
      return `cannot write ${file}: ${path.dirname(file)} is a regular file, not a folder`;
    default:
      return null;
  }
}

interface Made {
  /** The path the write names. */
  file: string;
  /** Where the write lands (the link's end, or `file`). */
  real: string;
  /** What must be unchanged by a refused write (and by any write, for a link itself). */
  fingerprint: () => string;
  close: () => Promise<void>;
}

/** `[inode, type]` of a path, its link text when it is one; `-` when absent. */
function fingerprintOf(file: string): string {
  try {
    const s = lstatSync(file);
    return `${s.ino}:${s.mode & 0o170000}:${s.isSymbolicLink() ? readlinkSync(file) : ''}:${s.isFile() ? readFileSync(file, 'utf8') : ''}`;
  } catch {
    return '-';
  }
}

/** Makes `kind` at `folder/name` (a device node of our own: major 1 minor 3, as /dev/null; a block device of an unassigned major). */
async function make(kind: Kind, folder: string, name: string): Promise<Made> {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  const other = path.join(folder, `other-${name}`);
  let server: net.Server | undefined;
  let real = file;
  let watched = [file];
  const link = async (to: Kind) => {
    await make(to, folder, `other-${name}`).then((m) => {
      server = (m as Made & { server?: net.Server }).server ?? server;
    });
    symlinkSync(`other-${name}`, file);
    real = other;
    watched = [file, other];
  };
  switch (kind) {
    case 'fifo':
      execFileSync('mkfifo', [file]);
      break;
    case 'socket':
      server = net.createServer();
      await new Promise<void>((resolve, reject) => server?.once('error', reject).listen(file, resolve));
      break;
    case 'folder':
      mkdirSync(file);
      writeFileSync(path.join(file, 'inside'), 'kept\n');
      break;
    case 'char device':
      execFileSync('mknod', [file, 'c', '1', '3']);
      break;
    case 'block device':
      execFileSync('mknod', [file, 'b', '240', '77']);
      break;
    case 'regular file':
      writeFileSync(file, 'the old text\n', { mode: 0o640 });
      break;
    case 'missing':
      break;
    case 'link to regular file':
      await link('regular file');
      break;
    case 'link to char device':
      await link('char device');
      break;
    case 'link to fifo':
      await link('fifo');
      break;
    case 'link to folder':
      await link('folder');
      break;
    case 'dangling link':
      symlinkSync(`other-${name}`, file);
      real = other;
      watched = [file];
      break;
    case 'under a regular file': {
      writeFileSync(file, 'a file, not a folder\n');
      const under = path.join(file, 'inside.yaml');
      const made: Made = { file: under, real: under, fingerprint: () => fingerprintOf(file), close: async () => {} };
      return made;
    }
  }
  const made: Made & { server?: net.Server } = {
    file,
    real,
    fingerprint: () => watched.map(fingerprintOf).join(' '),
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    server,
  };
  return made;
}

/** The temp files a write may have left in `folder` (and in a folder a link leads to). */
function leftovers(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) => /\.book-/.test(path.basename(f)));
}

/** A file block's text: lines without backticks or `$` (the runner's substitutions). */
const text = fc.array(fc.stringMatching(/^[A-Za-z0-9 .,:=#-]{1,40}$/), { minLength: 1, maxLength: 4 }).map((lines) => `${lines.join('\n')}\n`);
const mode = fc.constantFrom(undefined, 0o600, 0o644, 0o755);

describe.skipIf(!canUseNetns)('file= blocks on the local target: regular files only', () => {
  const machine = testMachine(NETNS, RUNTIME);
  let root: string;
  beforeAll(() => {
    machine.setUp();
    root = mkdtempSync(path.join(tmpdir(), 'book-fileblk-'));
  });
  afterAll(() => {
    machine.tearDown();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses what is not a regular file at the block line, untouched; writes files and through links', async () => {
    let n = 0;
    const seen = new Set<Kind>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/),
        fc.nat({ max: 3 }),
        text,
        mode,
        async (kind, name, prose, content, mode) => {
          seen.add(kind);
          const folder = path.join(root, `case-${n++}`);
          const made = await make(kind, folder, name);
          try {
            const before = made.fingerprint();
            const line = 3 + prose * 2;
            const dir = writeBook({
              'book.yaml': localTargetYaml(NETNS, RUNTIME),
              '01-a.md': `# A\n\n${'Some prose.\n\n'.repeat(prose)}\`\`\`text file=${made.file}${mode === undefined ? '' : ` mode=0${mode.toString(8)}`}\n${content}\`\`\`\n`,
            });
            const run = await runAndCollect(dir);
            const [end] = ends(run.events);
            const message = expected(kind, made.file, made.real);
            if (message) {
              expect(run.exitCode, kind).not.toBe(0);
              expect(end?.status).toBe('failed');
              expect(end?.failure?.line).toBe(line);
              expect(end?.failure?.message).toContain(message);
              expect(end?.failure?.message).not.toMatch(/E[A-Z]{2,}:|\.tmp|book-tmp/);
              expect(made.fingerprint(), `${kind} untouched`).toBe(before);
            } else {
              expect(end?.failure, kind).toBeUndefined();
              expect(run.exitCode).toBe(0);
              expect(readFileSync(made.real, 'utf8')).toBe(content);
              expect(statSync(made.real).mode & 0o777).toBe(mode ?? 0o644);
              expect(lstatSync(made.real).isFile()).toBe(true);
              if (made.real !== made.file) {
                expect(lstatSync(made.file).isSymbolicLink(), 'the link stays a link').toBe(true);
                expect(readlinkSync(made.file)).toBe(`other-${name}`);
              }
            }
            expect(leftovers(folder)).toEqual([]);
          } finally {
            await made.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(seen.size, 'most kinds generated').toBeGreaterThan(8);
  });

  it('every kind, once each: the same answers as atomicWriteScript on the other targets', async () => {
    for (const kind of KINDS) {
      const folder = path.join(root, `each-${kind.replace(/ /g, '-')}`);
      const made = await make(kind, folder, 'target.conf');
      try {
        const before = made.fingerprint();
        const dir = writeBook({ 'book.yaml': localTargetYaml(NETNS, RUNTIME), '01-a.md': `# A\n\n\`\`\`text file=${made.file}\nx: 1\n\`\`\`\n` });
        const run = await runAndCollect(dir);
        const message = expected(kind, made.file, made.real);
        const failure = ends(run.events)[0]?.failure;
        const script = spawnSync('bash', ['-c', atomicWriteScript(made.file, 0o644)], { input: 'x: 1\n', encoding: 'utf8' });
        if (message) {
          expect(failure?.message, kind).toContain(message);
          expect(failure?.message, 'the local target and the script say the same').toContain(script.stderr.trim());
          expect(script.status).toBe(1);
          expect(made.fingerprint()).toBe(before);
        } else {
          expect(failure, kind).toBeUndefined();
          expect(script.status, script.stderr).toBe(0);
        }
        expect(leftovers(folder)).toEqual([]);
      } finally {
        await made.close();
      }
    }
  });

  it('book run prints the refusal at the block line and does not say passed (a device node of our own)', async () => {
    const folder = path.join(root, 'cli');
    const made = await make('char device', folder, 'full');
    const before = made.fingerprint();
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md': `# A\n\n\`\`\`text file=${made.file}\nx\n\`\`\`\n\n\`\`\`sh run name=after\ntrue\n\`\`\`\n`,
    });
    const r = spawnSync(process.execPath, [BOOK_BIN, 'run', '--book', dir, '--reporter', 'plain'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`01-a.md:3:`);
    expect(r.stdout).toContain(`${made.file} is a character device, ${ONLY}`);
    expect(r.stdout).toMatch(/0 passed, 1 failed, 1 skipped/);
    expect(r.stdout + r.stderr).not.toMatch(/EISDIR|EEXIST|ENOTDIR|\.tmp'/);
    expect(made.fingerprint()).toBe(before);
    expect(leftovers(folder)).toEqual([]);
  });
});

describe.skipIf(process.platform !== 'linux' || process.getuid?.() !== 0)('atomicWriteScript (what the ssh and docker targets run on the node)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'book-fileblk-sh-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Names a shell must keep whole: spaces, quotes, a leading dash, unicode. */
  const name = fc
    .oneof(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/), fc.stringMatching(/^[-a-zA-Z0-9 '"$*ü.]{1,12}$/))
    .filter((s) => s !== '.' && s !== '..');

  it('refuses the same kinds in the same words, untouched, no temp file; writes files and through links', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), name, text, mode, async (kind, name, content, mode) => {
        const folder = path.join(root, `case-${n++}`);
        const made = await make(kind, folder, name);
        try {
          const before = made.fingerprint();
          const r = spawnSync('bash', ['-c', atomicWriteScript(made.file, mode ?? 0o644)], { input: content, encoding: 'utf8', timeout: 10_000 });
          const message = expected(kind, made.file, made.real);
          if (message) {
            expect(r.status, kind).toBe(1);
            expect(r.stderr.trim()).toBe(message);
            expect(made.fingerprint(), `${kind} untouched`).toBe(before);
          } else {
            expect(r.stderr).toBe('');
            expect(r.status, kind).toBe(0);
            expect(readFileSync(made.real, 'utf8')).toBe(content);
            expect(statSync(made.real).mode & 0o777).toBe(mode ?? 0o644);
            expect(lstatSync(made.real).isFile()).toBe(true);
            if (made.real !== made.file) expect(readlinkSync(made.file), 'the link stays a link').toBe(`other-${name}`);
          }
          expect(leftovers(folder)).toEqual([]);
        } finally {
          await made.close();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a failed write (a folder it may not write in) is a sentence without the temp file, and leaves none', () => {
    const folder = path.join(root, 'read-only');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'f'), 'old\n');
    // A read-only bind is root-proof where chmod is not: emulate with an immutable folder when chattr works, else skip.
    const immutable = spawnSync('chattr', ['+i', folder]).status === 0;
    try {
      if (!immutable) return;
      const r = spawnSync('bash', ['-c', atomicWriteScript(path.join(folder, 'f'), 0o644)], { input: 'new\n', encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`cannot write ${folder}/f: operation not permitted`);
      expect(readFileSync(path.join(folder, 'f'), 'utf8')).toBe('old\n');
    } finally {
      if (immutable) spawnSync('chattr', ['-i', folder]);
    }
    expect(leftovers(folder)).toEqual([]);
  });
});

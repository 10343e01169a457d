// A careless reader's inputs (issue 16): each ends within seconds with exit 2, its error code, the
// file:line where there is one, a next step, and no stack trace, before the machine is touched.
// The book's target is a local machine whose namespace does not exist: had anything reached for
// the machine, the run would have said so (exit 3) instead.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBook } from '../helpers/book.js';
import { BOOK_BIN } from '../helpers/runtimes.js';

const YAML = 'title: Careless\ntarget: t\ntargets:\n  t:\n    type: local\n    netns: book-no-such-ns\n    runtimeDir: /run/book-no-such-ns\n';
const OK = '# A\n\nSome prose.\n\n```sh run name=hello\necho hello\n```\n';

function book(args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [BOOK_BIN, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { code: r.status, out: r.stdout + r.stderr, seconds: (performance.now() - started) / 1000 };
}

interface Case {
  files?: Record<string, string | Buffer>;
  /** After the book is written: links, folders. */
  prepare?: (dir: string) => void;
  args: (dir: string) => string[];
  code: string;
  /** What the message must say: the place and the problem. */
  says: RegExp;
}

const run = (dir: string) => ['run', '--book', dir];
const CASES: Record<string, Case> = {
  'a thin space in an info string': {
    files: { '01-a.md': '# A\n\n```sh\u2009run\ntrue\n```\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: .*U\+2009/,
  },
  'an info string ending in a line separator': {
    files: { '01-a.md': '# A\n\n```ts run name=x\u2028\ntrue\n```\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: .*U\+2028/,
  },
  'a run fence never closed, prose after it': {
    files: { '01-a.md': '# A\n\n```sh run\nrm -rf /tmp/nothing\n\nThen we look at it.\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: the fence opened here .*never closed/,
  },
  '```run with no language': {
    files: { '01-a.md': '# A\n\n```run name=x\ntrue\n```\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: "\(no language\)" blocks cannot run/,
  },
  'a chapter in Latin-1': {
    files: { '01-a.md': Buffer.from('# A\n\nna\xefve caf\xe9\n', 'latin1') },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: is not UTF-8/,
  },
  'a chapter named 2_intro.md': {
    files: { '01-a.md': OK, '2_intro.md': '# B\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /2_intro\.md:1: looks like a chapter[\s\S]*02-intro\.md/,
  },
  'a folder named like a chapter': {
    files: { '01-a.md': OK },
    prepare: (d) => mkdirSync(path.join(d, '02-b.md')),
    args: run,
    code: 'BOOK_INVALID',
    says: /02-b\.md:1: is a directory/,
  },
  'a chapter link to nothing': {
    files: { '01-a.md': OK },
    prepare: (d) => symlinkSync('/no/such/file.md', path.join(d, '02-b.md')),
    args: run,
    code: 'BOOK_INVALID',
    says: /02-b\.md:1: is a link to nothing/,
  },
  '--book a link that loops': {
    files: { '01-a.md': OK },
    prepare: (d) => {
      symlinkSync(path.join(d, '..', 'loop-b'), path.join(d, '..', 'loop-a'));
      symlinkSync(path.join(d, '..', 'loop-a'), path.join(d, '..', 'loop-b'));
    },
    args: (d) => ['run', '--book', path.join(d, '..', 'loop-a')],
    code: 'BOOK_INVALID',
    says: /loop-a:1: is a link that loops, not a book directory/,
  },
  '--book a link to nothing': {
    files: { '01-a.md': OK },
    prepare: (d) => symlinkSync('/no/such/book', path.join(d, '..', 'gone')),
    args: (d) => ['run', '--book', path.join(d, '..', 'gone')],
    code: 'BOOK_INVALID',
    says: /gone:1: is a link to nothing, not a book directory/,
  },
  'a timeout no timer can hold': {
    files: { '01-a.md': '# A\n\n```sh run timeout=40000m\ntrue\n```\n' },
    args: run,
    code: 'BOOK_INVALID',
    says: /01-a\.md:3: bad duration timeout=40000m/,
  },
  'book.yaml: an empty title': {
    files: { 'book.yaml': `${YAML}\ntitle:\n`.replace('title: Careless\n', ''), '01-a.md': OK },
    args: run,
    code: 'BOOK_INVALID',
    says: /book\.yaml:\d+: title: .*null/,
  },
  'book.yaml: retries as text': {
    files: { 'book.yaml': `${YAML}defaults:\n  retries: twice\n`, '01-a.md': OK },
    args: run,
    code: 'BOOK_INVALID',
    says: /book\.yaml:9: defaults\.retries: .*"twice"/,
  },
  'book.yaml: a typo inside a target': {
    files: { 'book.yaml': `${YAML}    dokcerSocket: /x.sock\n`, '01-a.md': OK },
    args: run,
    code: 'BOOK_INVALID',
    says: /book\.yaml:8: unknown key "dokcerSocket" in targets\.t/,
  },
  'book.yaml: port 0': {
    files: { 'book.yaml': 'target: s\ntargets:\n  s:\n    type: ssh\n    host: h\n    port: 0\n', '01-a.md': OK },
    args: run,
    code: 'BOOK_INVALID',
    says: /book\.yaml:6: targets\.s\.port: .*>=1/,
  },
  'an unknown --target': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    args: (d) => ['run', '--book', d, '--target', 'staging'],
    code: 'ARGUMENTS_INVALID',
    says: /no target named "staging"; use one of: .*\bt\b/,
  },
  'replay --force': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    args: (d) => ['replay', '--book', d, '--force'],
    code: 'ARGUMENTS_INVALID',
    says: /book replay does not take --force/,
  },
  '--junit that is a folder': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    args: (d) => ['run', '--book', d, '--junit', d],
    code: 'ARGUMENTS_INVALID',
    says: /--junit .*is a folder/,
  },
  '--transcript under a file': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    args: (d) => ['run', '--book', d, '--record', '--transcript', path.join(d, '01-a.md', 't.json')],
    code: 'ARGUMENTS_INVALID',
    says: /--transcript .*01-a\.md is a file, not a folder/,
  },
  '--from that is no chapter reference': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    args: (d) => ['run', '--book', d, '--from', 'kubelet'],
    code: 'ARGUMENTS_INVALID',
    says: /--from takes a chapter number or name/,
  },
  'a transcript of the wrong shape': {
    files: { 'book.yaml': YAML, '01-a.md': OK },
    prepare: (d) => writeFileSync(path.join(d, 't.json'), JSON.stringify({ format: 'build-a-minikube/transcript@1', title: 'x', chapters: 'none' })),
    args: (d) => ['render', '--book', d, '--transcript', path.join(d, 't.json'), '--out', path.join(d, '..', 'site')],
    code: 'TRANSCRIPT_INVALID',
    says: /t\.json is not a whole transcript \(recordedAt: /,
  },
};

describe('bad input: exit 2, the place, what to do, nothing run', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const dir = writeBook({ 'book.yaml': YAML, ...(c.files as Record<string, string>) });
      c.prepare?.(dir);
      const r = book(c.args(dir));
      expect(r.code, r.out).toBe(2);
      expect(r.out).toContain(`[${c.code}]`);
      expect(r.out).toMatch(c.says);
      expect(r.out, 'a next step').toMatch(/→|use one of|takes|re-record|give|choose|rename|save|close|retype|start the info string|write/);
      expect(r.out, 'no stack trace').not.toMatch(/\n\s+at .*:\d+:\d+/);
      expect(r.seconds).toBeLessThan(10);
    });
  }
});

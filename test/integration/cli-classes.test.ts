// Issue 27 classes at the CLI, spawned as a reader runs it: words after -- or stray arguments,
// --help after an unknown command, escape sequences in the input, trouble of the host (no bash on
// PATH, a .book/ in the way, a full disk or a closed pipe on stdout), and --from's checks coming
// before the machine. Inputs are generated; no case may print a stack trace or [INTERNAL].
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeBook } from '../helpers/book.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');

function book(args: string[], options: { env?: NodeJS.ProcessEnv; stdout?: 'pipe' | number; input?: string } = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '', ...options.env },
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', all: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

const noTrace = (text: string) => {
  expect(text).not.toMatch(/\n\s+at .*:\d+:\d+/);
  expect(text).not.toMatch(/\[INTERNAL\]/);
};

const COMMANDS = [['list'], ['run'], ['render'], ['replay'], ['checkpoints'], ['machine', 'status'], ['machine', 'up'], ['machine', 'down']];
const word = fc.stringMatching(/^[a-zA-Z0-9_./=:-]{1,12}$/).filter((w) => !w.startsWith('-'));

describe.skipIf(!existsSync(BIN))('the CLI refuses what it would otherwise drop', () => {
  const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-a.md': '# A\n\nProse.\n' });

  it('an output named /dev/stdout or /dev/stderr while it is piped is refused as a pipe or socket, not as a link to nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom('--junit', '--transcript'), fc.constantFrom('/dev/stdout', '/dev/stderr', '/proc/self/fd/1'), (flag, file) => {
        const args =
          flag === '--junit' ? ['replay', '--book', dir, '--transcript', '/nonexistent.json', flag, file] : ['run', '--book', dir, '--record', flag, file];
        const r = book(args);
        expect(r.code, r.all).toBe(2);
        // A pipe from a shell; vitest's children get a socket pair.
        expect(r.stderr).toMatch(new RegExp(`${flag} ${file}: leads to a (pipe|socket) \\((pipe|socket):\\[\\d+\\]\\), not a file`));
        noTrace(r.all);
      }),
      { numRuns: 6 },
    );
  });

  it('words after -- are refused by every command but machine shell, and nothing runs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMANDS), fc.array(word, { minLength: 1, maxLength: 3 }), (command, words) => {
        const r = book([...command, '--book', dir, '--', ...words]);
        expect(r.code, r.all).toBe(2);
        expect(r.stderr).toMatch(/\[ARGUMENTS_INVALID\].*takes nothing after --/);
        noTrace(r.all);
      }),
      { numRuns: 12 },
    );
  });

  it('stray words are refused, not dropped', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMANDS), word, (command, extra) => {
        fc.pre(!['up', 'status', 'down', 'shell'].includes(extra));
        const r = book([...command, extra, '--book', dir]);
        expect(r.code, r.all).toBe(2);
        expect(r.stderr).toMatch(/\[ARGUMENTS_INVALID\]/);
      }),
      { numRuns: 10 },
    );
  });

  it('--help after an unknown command is an error, after a known one it is help', () => {
    fc.assert(
      fc.property(word, fc.constantFrom(['--help'], ['-h'], ['--help', '--book', 'x']), (command, help) => {
        fc.pre(!['list', 'run', 'render', 'replay', 'checkpoints', 'machine'].includes(command));
        const r = book([command, ...help]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/unknown command/);
      }),
      { numRuns: 10 },
    );
    expect(book(['list', '--help']).code).toBe(0);
  });

  it('escape sequences and other controls from the input are shown, never sent to the terminal', () => {
    const control = fc.constantFrom('\x1b[2J', '\x1b]0;pwned\x07', '\r', '\x9b31m', '\u202e', '\x08\x08', '\x1bc');
    fc.assert(
      fc.property(control, fc.constantFrom('command', 'title', 'chapter'), (sequence, where) => {
        let r: ReturnType<typeof book>;
        if (where === 'command') r = book([`x${sequence}`]);
        else {
          const b = writeBook({
            'book.yaml': `title: "T${sequence.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"\n`,
            '01-a.md': where === 'title' ? `# A${sequence}\n\nProse.\n` : `# A\n\n\`\`\`sh run wat${sequence}\ntrue\n\`\`\`\n`,
          });
          r = book(['list', '--book', b]);
        }
        expect(r.all).not.toMatch(/[\x1b\x07\x08\x9b\r\u202e]/);
        noTrace(r.all);
      }),
      { numRuns: 20 },
    );
  });
});

describe.skipIf(!existsSync(BIN))('trouble of the host has its own code', () => {
  it('no bash on PATH: HOST_TOOL_MISSING, exit 3', () => {
    const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
    const empty = path.join(path.dirname(dir), 'empty-bin');
    mkdirSync(empty);
    const r = book(['run', '--book', dir], { env: { PATH: empty } });
    expect(r.stderr).toMatch(/\[HOST_TOOL_MISSING\].*bash/);
    expect(r.code).toBe(3);
    noTrace(r.all);
  });

  it('a .book that is a file, or a file where its checkpoints folder goes: STATE_UNUSABLE before anything runs', () => {
    for (const blocker of ['.book', '.book/checkpoints', '.book/checkpoints/local']) {
      const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
      const file = path.join(path.dirname(dir), blocker);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, 'in the way');
      const r = book(['run', '--book', dir, '--target', 'local']);
      expect(r.stderr, blocker).toMatch(/\[STATE_UNUSABLE\]/);
      expect(r.code).toBe(2);
      noTrace(r.all);
    }
  });

  it.skipIf(!existsSync('/dev/full'))('stdout on a full disk: OUTPUT_UNWRITABLE, exit 3', () => {
    const dir = writeBook({ '01-a.md': '# A\n\nProse.\n' });
    const fd = openSync('/dev/full', 'w');
    const r = book(['list', '--book', dir], { stdout: fd });
    expect(r.stderr).toMatch(/\[OUTPUT_UNWRITABLE\]/);
    expect(r.code).toBe(3);
    noTrace(r.stderr);
  });

  it('a reader that stops reading is not an error: the command keeps its verdict', () => {
    const chapters = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`${String(i + 1).padStart(2, '0')}-c.md`, `# C${i}\n\nProse.\n`]));
    const dir = writeBook(chapters);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" list --book "${dir}" | true; echo "status \${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/status 0/);
    noTrace(r.stderr);
  });
});

describe.skipIf(!existsSync(BIN))('--from checks what needs no machine first', () => {
  // A target that cannot be reached: a namespace that does not exist.
  const yaml =
    'title: T\ntarget: gone\ntargets:\n  gone: { type: local, netns: book-absent-netns, runtimeDir: /run/book-absent, dockerSocket: /run/book-absent/docker.sock }\n';
  const chapters = { '01-a.md': '# A\n\n```sh run\ntrue\n```\n', '02-b.md': '# B\n\n```sh run\ntrue\n```\n' };

  it('no checkpoint: CHECKPOINT_MISSING, not MACHINE_UNREACHABLE', () => {
    const dir = writeBook({ 'book.yaml': yaml, ...chapters });
    const r = book(['run', '--book', dir, '--from', '2']);
    expect(r.stderr).toMatch(/\[CHECKPOINT_MISSING\]/);
    expect(r.code).toBe(2);
  });

  it('a damaged checkpoint (any bytes): CHECKPOINT_DAMAGED, not MACHINE_UNREACHABLE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const dir = writeBook({ 'book.yaml': yaml, ...chapters });
        const file = path.join(path.dirname(dir), '.book', 'checkpoints', 'gone', '01-a.json');
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, bytes);
        const r = book(['run', '--book', dir, '--from', '2']);
        expect(r.stderr).toMatch(/\[CHECKPOINT_DAMAGED\]/);
        expect(r.code).toBe(2);
        noTrace(r.all);
      }),
      { numRuns: 5 },
    );
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, testMachine } from '../helpers/netns.js';
import { bookCommand, RUNTIMES, type Runtime } from '../helpers/runtimes.js';

const NETNS = `book-verdict-${process.pid}`;
const RUNTIME = `/run/book-verdict-${process.pid}`;

function book(runtime: Runtime, args: string[]) {
  const started = performance.now();
  const command = bookCommand(runtime, args);
  const r = spawnSync(command.file, command.args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...command.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - started) / 1000 };
}

// Ordinary mistakes in a reader's block: each must end the run with that block failed at its
// line, the summary printed and exit 1, in `book run` and in `book replay` (no false pass).
const CASES = {
  'loops forever': { code: 'while (true) {}', attrs: ' timeout=2s', line: 3, error: 'BLOCK_TIMEOUT' },
  'never settles': { code: 'await new Promise(() => {})', attrs: ' timeout=2s', line: 3, error: 'BLOCK_TIMEOUT' },
  'throws in a timer': {
    code: 'setTimeout(() => { throw new Error("boom") }, 10)\nawait new Promise((r) => setTimeout(r, 500))',
    attrs: '',
    line: 4,
    error: 'BLOCK_FAILED',
  },
  'un-awaited failing $': { code: '$`false`\nawait new Promise((r) => setTimeout(r, 500))', attrs: '', line: 4, error: 'COMMAND_FAILED' },
};

describe.skipIf(!canUseNetns)('every run ends with a verdict (book run and book replay)', () => {
  const machine = testMachine(NETNS, RUNTIME);
  beforeAll(machine.setUp);
  afterAll(machine.tearDown);

  for (const [name, c] of Object.entries(CASES).flatMap(([name, c]) => RUNTIMES.map((runtime) => [name, { ...c, runtime }] as const))) {
    it(`a block that ${name} (${c.runtime})`, () => {
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-a.md': `# A\n\n\`\`\`ts run name=mistake${c.attrs}\n${c.code}\n\`\`\`\n\n\`\`\`sh run name=after\ntrue\n\`\`\`\n`,
      });
      const transcript = path.join(dir, '..', 'transcript.json');
      for (const args of [
        ['run', '--book', dir, '--reporter', 'plain', '--transcript', transcript],
        ['replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain'],
      ]) {
        const r = book(c.runtime, args);
        expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toMatch(new RegExp(`01-a\\.md:${c.line}: \\[${c.error}\\]`));
        expect(r.stdout).toMatch(/0 passed, 1 failed, 1 skipped/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stderr, 'no warnings for the reader').not.toMatch(/warning/i);
        expect(r.seconds).toBeLessThan(15);
      }
    });
  }
});

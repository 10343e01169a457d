import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, testMachine } from '../helpers/netns.js';
import { bookCommand, RUNTIMES, type Runtime } from '../helpers/runtimes.js';
import { runAsync } from '../helpers/spawn.js';

const NETNS = `book-verdict-${process.pid}`;
const RUNTIME = `/run/book-verdict-${process.pid}`;

/** `book ARGS` to its end (killed at `deadlineMs`), without blocking vitest's worker (test/helpers/spawn.ts). */
async function book(runtime: Runtime, args: string[], deadlineMs = 60_000) {
  const started = performance.now();
  const command = bookCommand(runtime, args);
  const r = await runAsync(command.file, command.args, {
    timeout: deadlineMs,
    env: { ...process.env, ...command.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { ...r, seconds: (performance.now() - started) / 1000 };
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
  // Commands the run stopped at the timeout: a replay waits for the same stop (not the recorded output).
  'runs a command past its timeout': { code: 'await $`sleep 30`', attrs: ' timeout=2s', line: 3, error: 'BLOCK_TIMEOUT' },
  'leaves a background job holding its output': { code: 'await $`sleep 30 &`', attrs: ' timeout=2s', line: 3, error: 'BLOCK_TIMEOUT' },
};

// Mistakes that once waited for the block's timeout or lost the message: the block has timeout=60s
// and the run a 30 s deadline, so one that waited for the timeout would not end in time.
const AT_ONCE = {
  'calls process.exit(3)': {
    code: 'process.exit(3)',
    line: 4,
    error: 'BLOCK_FAILED',
    message: 'the block called process.exit(3): a block cannot end the runner; throw an error to fail it',
  },
  'calls process.exit(0) after a line': {
    code: 'const x = 1\nprocess.exit(0)',
    line: 5,
    error: 'BLOCK_FAILED',
    message: 'the block called process.exit(0): a block cannot end the runner; throw an error to fail it',
  },
  'throws an error that refers to itself': {
    code: 'const e: any = new Error("circ"); e.self = e; e.cause = e; throw e',
    line: 4,
    error: 'BLOCK_FAILED',
    message: 'circ',
  },
  'throws an error with a circular graph attached': {
    code: 'const e: any = new Error("circ")\nlet g: any = { e }\nfor (let i = 0; i < 40; i++) g = { l: g, r: g, e }\ne.graph = g\nthrow e',
    line: 4,
    error: 'BLOCK_FAILED',
    message: 'circ',
  },
  // A plain object has no stack: the block's line.
  'throws a plain object with a message': { code: 'throw { message: "plain" }', line: 3, error: 'BLOCK_FAILED', message: 'plain' },
  'throws a plain object with a number for a message': { code: 'throw { message: 5 }', line: 3, error: 'BLOCK_FAILED', message: '5' },
};

describe.skipIf(!canUseNetns)('every run ends with a verdict (book run and book replay)', () => {
  const machine = testMachine(NETNS, RUNTIME);
  beforeAll(machine.setUp);
  afterAll(machine.tearDown);

  for (const [name, c] of Object.entries(CASES).flatMap(([name, c]) => RUNTIMES.map((runtime) => [name, { ...c, runtime }] as const))) {
    it(`a block that ${name} (${c.runtime})`, async () => {
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-a.md': `# A\n\n\`\`\`ts run name=mistake${c.attrs}\n${c.code}\n\`\`\`\n\n\`\`\`sh run name=after\ntrue\n\`\`\`\n`,
      });
      const transcript = path.join(dir, '..', 'transcript.json');
      for (const args of [
        ['run', '--book', dir, '--reporter', 'plain', '--transcript', transcript],
        ['replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain'],
      ]) {
        const r = await book(c.runtime, args);
        expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toMatch(new RegExp(`01-a\\.md:${c.line}: \\[${c.error}\\]`));
        expect(r.stdout).toMatch(/0 passed, 1 failed, 1 skipped/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        expect(r.stderr, 'no warnings for the reader').not.toMatch(/warning/i);
        expect(r.seconds).toBeLessThan(15);
      }
    });
  }

  for (const [name, c] of Object.entries(AT_ONCE).flatMap(([name, c]) => RUNTIMES.map((runtime) => [name, { ...c, runtime }] as const))) {
    it(`a block that ${name} fails at once, at its line, with its message (${c.runtime})`, async () => {
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-a.md': `# A\n\n\`\`\`ts run name=mistake timeout=60s\n${c.code}\n\`\`\`\n\n\`\`\`sh run name=after\ntrue\n\`\`\`\n`,
      });
      const transcript = path.join(dir, '..', 'transcript.json');
      for (const args of [
        ['run', '--book', dir, '--reporter', 'plain', '--transcript', transcript],
        ['replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain'],
      ]) {
        const r = await book(c.runtime, args, 30_000);
        expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toContain(`01-a.md:${c.line}: [${c.error}] ${c.message}\n`);
        expect(r.stdout).not.toMatch(/timed out|raise timeout=|Maximum call stack/);
        expect(r.stdout).toMatch(/0 passed, 1 failed, 1 skipped/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    });
  }

  // process.exit with fails=, writes to process.stdout/stderr and import(): the chapter goes on (a
  // new thread after the exit, state kept), and the json reporter's stdout is JSON lines only.
  for (const runtime of RUNTIMES) {
    it(`a block that exits as expected, writes raw output and imports: the next blocks run (${runtime})`, async () => {
      const writes = [
        "process.stdout.write('raw out\\n')",
        "process.stderr.write(Buffer.from('raw err\\n'))",
        "console.log('logged')",
        "const fs = await import('node:fs')",
        "process.stdout.write(typeof fs.readFileSync + '\\n')",
      ].join('\n');
      const fence = (info: string, code: string) => `\`\`\`${info}\n${code}\n\`\`\`\n\n`;
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-a.md': `# A\n\n${fence('ts run name=writes', writes)}${fence('ts run name=exits timeout=60s fails="process.exit"', 'state.before = 1\nprocess.exit(3)')}${fence('ts run name=after', "assert.equal(state.before, 1)\nprocess.stdout.write('after ran\\n')")}${fence('sh run name=last', 'true')}`,
      });
      const transcript = path.join(dir, '..', 'transcript.json');
      for (const args of [
        ['run', '--book', dir, '--reporter', 'json', '--transcript', transcript],
        ['replay', '--book', dir, '--transcript', transcript, '--reporter', 'json'],
      ]) {
        const r = await book(runtime, args, 30_000);
        expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(0);
        const events = r.stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { type: string; block?: string; text?: string; status?: string; expectedFailure?: string; passed?: number });
        const output = (block: string) =>
          events
            .filter((e) => e.type === 'block:output' && e.block === block)
            .map((e) => e.text)
            .join('');
        expect(output('writes')).toBe('raw out\nraw err\nlogged\nfunction\n');
        expect(output('after')).toBe('after ran\n');
        const ends = Object.fromEntries(events.filter((e) => e.type === 'block:end').map((e) => [e.block, e]));
        expect(ends.exits).toMatchObject({ status: 'passed', expectedFailure: expect.stringContaining('the block called process.exit(3)') });
        expect(ends.after?.status).toBe('passed');
        expect(events.at(-1)).toMatchObject({ type: 'run:end', passed: 4 });
        expect(r.stderr).not.toMatch(/raw (out|err)/);
      }
    });
  }
});

// The runner's logic on a FAKE machine (test/fakes/fake-target.ts): no root, no namespace.
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { type RunOptions, runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

async function run(files: Record<string, string>, extra: Partial<RunOptions> & { target?: FakeTarget } = {}) {
  const book = await loadBook(writeBook(files));
  const target = extra.target ?? new FakeTarget();
  machines.push(target);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const started = performance.now();
  const result = await runBook({ book, chapters: book.chapters, target, bus, snapshot: false, diagnose: false, ...extra }).catch((error: Error) => ({ error }));
  const ends = events.filter((e): e is Extract<RunEvent, { type: 'block:end' }> => e.type === 'block:end');
  const byId = Object.fromEntries(ends.map((e) => [e.block.id, e]));
  return { result, events, byId, seconds: (performance.now() - started) / 1000, end: events.at(-1) as Extract<RunEvent, { type: 'run:end' }> };
}

const ts = (name: string, code: string, attrs = '') => `\`\`\`ts run name=${name}${attrs ? ` ${attrs}` : ''}\n${code}\n\`\`\`\n\n`;
const sh = (name: string, code: string, attrs = '') => `\`\`\`sh run name=${name}${attrs ? ` ${attrs}` : ''}\n${code}\n\`\`\`\n\n`;

describe('the runner on a fake machine: every run ends with a verdict', () => {
  it('a block awaiting a promise that never settles fails at its timeout; the run goes on to its verdict', async () => {
    const { byId, end, seconds } = await run({ '01-a.md': `# A\n\n${ts('never', 'await new Promise(() => {})', 'timeout=1s')}${sh('after', 'true')}` });
    expect(byId.never).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_TIMEOUT', line: 3 } });
    expect(byId.after?.status).toBe('skipped');
    expect(end).toMatchObject({ type: 'run:end', status: 'failed', exitCode: 1, failed: 1, skipped: 1 });
    expect(seconds).toBeLessThan(10);
  });

  it('a throw inside setTimeout fails that block at the line that threw', async () => {
    const code = 'setTimeout(() => {\n  throw new Error("boom from a timer")\n}, 10)\nawait new Promise((r) => setTimeout(r, 300))';
    const { byId, end } = await run({ '01-a.md': `# A\n\n${ts('timer', code)}${sh('after', 'true')}` });
    expect(byId.timer).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: 'boom from a timer', line: 5 } });
    expect(end).toMatchObject({ status: 'failed', exitCode: 1 });
  });

  it('an un-awaited $ that fails fails its block at the $ line', async () => {
    const { byId } = await run({ '01-a.md': `# A\n\n${ts('unawaited', 'const x = 1\n$`exit 3`\nawait new Promise((r) => setTimeout(r, 500))')}` });
    expect(byId.unawaited).toMatchObject({ status: 'failed', failure: { code: 'COMMAND_FAILED', line: 5, exitCode: 3 } });
  });

  it('an error thrown after its block ended fails the next block, and points at the code that threw', async () => {
    const first = ts('schedules', 'setTimeout(() => { throw new Error("late") }, 200)');
    const second = ts('waits', 'await new Promise((r) => setTimeout(r, 600))');
    const { byId } = await run({ '01-a.md': `# A\n\n${first}${second}` });
    expect(byId.schedules?.status).toBe('passed');
    expect(byId.waits).toMatchObject({ status: 'failed', failure: { message: 'late', line: 4 } });
  });

  it('retries=, fails= and timeout= are honoured; a failure skips the rest', async () => {
    const flaky = sh('flaky', 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ "$n" -ge 2 ]', 'retries=2');
    const expected = sh('expected', 'echo "no such thing" >&2; exit 4', 'fails="no such thing"');
    const wrong = sh('wrong', 'echo other >&2; exit 1', 'fails="no such thing"');
    const { byId, end } = await run({ '01-a.md': `# A\n\n${flaky}${expected}${wrong}${sh('later', 'true')}`, '02-b.md': `# B\n\n${sh('never', 'true')}` });
    expect(byId.flaky).toMatchObject({ status: 'passed', attempts: 3 });
    expect(byId.expected).toMatchObject({ status: 'passed', expectedFailure: expect.stringContaining('exit code 4') });
    expect(byId.wrong).toMatchObject({ status: 'failed', failure: { code: 'EXPECTATION_UNMET' } });
    expect(byId.later?.status).toBe('skipped');
    expect(byId.never?.status).toBe('skipped');
    expect(end).toMatchObject({ passed: 2, failed: 1, skipped: 2, exitCode: 1 });
  });

  it('the reader skips and quits (exit 130), and retries after a failure', async () => {
    const answers: ('run' | 'skip' | 'quit')[] = ['run', 'skip', 'run', 'quit'];
    let retried = 0;
    const files = {
      '01-a.md': `# A\n\n${sh('one', 'true')}${sh('two', 'true')}${sh('three', 'test -e mark || { touch mark; exit 1; }')}${sh('four', 'true')}`,
    };
    const { byId, end } = await run(files, {
      beforeBlock: async () => answers.shift() ?? 'quit',
      afterFailure: async () => (retried++ === 0 ? 'retry' : 'quit'),
    });
    expect(byId.one?.status).toBe('passed');
    expect(byId.two?.status).toBe('skipped');
    expect(byId.three).toMatchObject({ status: 'passed', attempts: 2 });
    expect(byId.four?.status).toBe('skipped');
    expect(end).toMatchObject({ status: 'interrupted', exitCode: 130 });
  });

  it('an interrupt stops the running block (its command killed) and ends the run with 130', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { byId, end, seconds } = await run({ '01-a.md': `# A\n\n${sh('slow', 'sleep 30')}` }, { signal: controller.signal });
    expect(byId.slow).toMatchObject({ status: 'failed', failure: { code: 'INTERRUPTED' } });
    expect(end).toMatchObject({ status: 'interrupted', exitCode: 130 });
    expect(seconds).toBeLessThan(5);
  });

  it('state and declarations carry as documented: declarations within a chapter, state across chapters', async () => {
    const { byId, end } = await run({
      // (Not `answer`: that is a global of every block, for predictions.)
      '01-a.md': `# A\n\n${ts('declare', 'const meaning = 42\nstate.seen = meaning')}${ts('use', 'assert.equal(meaning, 42)')}`,
      '02-b.md': `# B\n\n${ts('across', 'assert.equal(state.seen, 42)\nassert.equal(typeof meaning, "undefined")')}`,
    });
    expect(Object.values(byId).map((e) => e.status)).toEqual(['passed', 'passed', 'passed']);
    expect(end.exitCode).toBe(0);
  });

  it('a machine that cannot be reached still ends the run with run:end, exit 3', async () => {
    const { result, end } = await run({ '01-a.md': `# A\n\n${sh('one', 'true')}` }, { target: new FakeTarget({ unreachable: true }) });
    expect((result as { error: Error }).error.name).toBe('MachineUnreachable');
    expect(end).toMatchObject({ type: 'run:end', status: 'failed', exitCode: 3 });
  });

  it('a synchronous loop cannot stop the run: its thread is ended at the timeout; a retry starts a new one, with state kept', async () => {
    const loop = ts('loop', "if (!(await machine.exists('marker'))) {\n  await machine.writeFile('marker', 'x')\n  while (true) {}\n}", 'timeout=1s');
    const before = ts('before', "const declared = 1\nstate.kept = 'yes'");
    const after = ts('after', "assert.equal(state.kept, 'yes')\nassert.equal(typeof declared, 'undefined')");
    let retries = 0;
    const { byId, end, seconds } = await run(
      { '01-a.md': `# A\n\n${before}${loop}${after}` },
      { afterFailure: async () => (retries++ === 0 ? 'retry' : 'quit') },
    );
    expect(retries).toBe(1);
    expect(byId.loop).toMatchObject({ status: 'passed', attempts: 2 });
    expect(byId.after?.status, JSON.stringify(byId.after?.failure)).toBe('passed');
    expect(end).toMatchObject({ status: 'passed', exitCode: 0 });
    expect(seconds).toBeLessThan(15);
  });

  it('a synchronous loop without a retry fails at its timeout and the run ends with its verdict', async () => {
    const { byId, end, seconds } = await run({ '01-a.md': `# A\n\n${ts('spin', 'while (true) {}', 'timeout=1s')}${sh('after', 'true')}` });
    expect(byId.spin).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_TIMEOUT', line: 3 } });
    expect(end).toMatchObject({ status: 'failed', exitCode: 1, skipped: 1 });
    expect(seconds).toBeLessThan(10);
  });

  it("a block's thread reaches the runner's objects: handles with methods, errors with their fields, no callbacks", async () => {
    const code = [
      "const daemon = await machine.daemon('sleeper', ['sleep', '30'])",
      "assert.equal(daemon.name, 'sleeper')",
      "assert.equal((await daemon.restart()).name, 'sleeper')",
      'assert.equal((await daemon.status()).running, true)',
      'await daemon.stop()',
      "await assert.rejects(machine.readFile('/nonexistent/file'), (e) => e.code === 'ENOENT')",
      "await assert.rejects(async () => machine.writeFile('x', () => 1), /a function cannot cross/)",
      'const out = await $`echo hello`',
      "assert.equal(String(out), 'hello')",
      "assert.deepEqual(out.lines(), ['hello'])",
    ].join('\n');
    const { byId } = await run({ '01-a.md': `# A\n\n${ts('remote', code)}` });
    expect(byId.remote?.status, JSON.stringify(byId.remote?.failure)).toBe('passed');
  });
});

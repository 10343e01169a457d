// The runner's logic on a FAKE machine (test/fakes/fake-target.ts): no root, no namespace.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { type RunOptions, runBook } from '../../src/runner/execute.js';
import { CIRCULAR, errorToWire, toWire } from '../../src/runner/isolate/wire.js';
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

// A hostile reader's block: each mistake fails its block at once, at its line, with a plain message
// (blocks have timeout=60s: a run that reached it would miss the test's deadline, not pass).
describe('mistakes that end, flood or escape the kernel thread fail their block at once, at its line', () => {
  /** The run, or a failure when it does not end by `ms` (the block's timeout is far later). */
  const within = async <T>(ms: number, work: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the run did not end within ${ms / 1000}s`)), ms);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `const pad${i} = ${i}\n`).join('');
  const exitCall = (code: number | null) => `process.exit(${code === null ? '' : code})`;
  const exitMessage = (code: number | null) => `the block called ${exitCall(code)}: a block cannot end the runner; throw an error to fail it`;

  it('process.exit(N) fails the block at the line that called it; with fails= the next block runs in a new thread, state kept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }), fc.nat(3), async (code, pad) => {
        const exits = `${filler(pad)}state.reached = ${pad}\n${exitCall(code)}\nstate.after = true`;
        // The fence at line 3, its code from line 4: process.exit is at line 4 + pad + 1.
        const failed = await within(20_000, run({ '01-a.md': `# A\n\n${ts('exits', exits, 'timeout=60s')}${ts('next', 'true')}` }));
        expect(failed.byId.exits).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', line: 5 + pad, message: exitMessage(code) } });
        expect(failed.byId.next?.status).toBe('skipped');
        expect(failed.end).toMatchObject({ status: 'failed', exitCode: 1 });

        const before = ts('before', "const declared = 1\nstate.kept = 'yes'");
        const expected = ts('exits', exits, 'timeout=60s fails="process.exit"');
        const after = ts(
          'after',
          `assert.equal(state.kept, 'yes')\nassert.equal(state.reached, ${pad})\nassert.equal(state.after, undefined)\nassert.equal(typeof declared, 'undefined')`,
        );
        const passed = await within(20_000, run({ '01-a.md': `# A\n\n${before}${expected}${after}${sh('last', 'true')}` }));
        expect(passed.byId.exits).toMatchObject({ status: 'passed', expectedFailure: exitMessage(code) });
        expect(passed.byId.after?.status, JSON.stringify(passed.byId.after?.failure)).toBe('passed');
        expect(passed.end).toMatchObject({ status: 'passed', exitCode: 0, passed: 4 });
      }),
      { numRuns: 6 },
    );
  });

  it('process.exit after its block ended (in a timer) fails the next block, naming the line that called it', async () => {
    const first = ts('schedules', 'setTimeout(() => process.exit(2), 100)');
    const second = ts('waits', 'await new Promise((r) => setTimeout(r, 600))', 'timeout=60s');
    const { byId } = await within(20_000, run({ '01-a.md': `# A\n\n${first}${second}` }));
    expect(byId.schedules?.status).toBe('passed');
    expect(byId.waits).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: exitMessage(2), line: 4 } });
  });

  // A thrown error that refers to itself, at a generated depth and place, with a wide or deep graph attached.
  const cycles = fc.record({
    depth: fc.nat(6),
    back: fc.constantFrom('e', 'middle'),
    via: fc.constantFrom('self', 'cause', 'data', 'list'),
    load: fc.constantFrom('none', 'wide', 'shared'),
    message: fc.string({ minLength: 1, maxLength: 30 }).filter((m) => m.trim() === m && m.length > 0),
  });
  const cycleCode = (c: { depth: number; back: string; via: string; load: string; message: string }) =>
    [
      `const e: any = new Error(${JSON.stringify(c.message)})`,
      'let node: any = e, middle: any = e',
      `for (let i = 0; i < ${c.depth}; i++) { const next: any = {}; node.${c.via === 'list' ? 'items' : c.via} = ${c.via === 'list' ? '[1, next]' : 'next'}; node = next; if (i === ${Math.floor(c.depth / 2)}) middle = next }`,
      `node.${c.via === 'list' ? 'items' : c.via} = ${c.via === 'list' ? `[${c.back}]` : c.back}`,
      c.load === 'wide' ? 'e.wide = Array.from({ length: 100000 }, (_, i) => ({ i, e }))' : '',
      // 2^40 paths through 40 objects: a copy without bounds never ends.
      c.load === 'shared' ? 'let dag: any = { e }; for (let i = 0; i < 40; i++) dag = { l: dag, r: dag }; e.dag = dag' : '',
      'throw e',
    ].join('\n');

  it('a thrown error with circular references fails at its line with its message, at once', async () => {
    await fc.assert(
      fc.asyncProperty(cycles, async (c) => {
        const { byId } = await within(20_000, run({ '01-a.md': `# A\n\n${ts('circular', cycleCode(c), 'timeout=60s')}` }));
        // The fence at line 3, `new Error(...)` at line 4.
        expect(byId.circular).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: c.message, line: 4 } });
      }),
      { numRuns: 8 },
    );
    const cause = await within(20_000, run({ '01-a.md': `# A\n\n${ts('cause', "const e: any = new Error('circ')\ne.cause = e\nthrow e", 'timeout=60s')}` }));
    expect(cause.byId.cause).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: 'circ', line: 4 } });
  });

  it('an error crosses from the kernel thread bounded: cycles as "[circular]", depth and breadth cut, always cloneable', () => {
    fc.assert(
      fc.property(fc.nat(12), fc.nat(12), fc.constantFrom('self', 'cause', 'nested'), fc.nat(3000), (depth, at, via, width) => {
        const e = new Error('circ') as Error & Record<string, unknown>;
        let node: Record<string, unknown> = e;
        const chain: Record<string, unknown>[] = [e];
        for (let i = 0; i < depth; i++) {
          const next: Record<string, unknown> = {};
          node[via] = next;
          node = next;
          chain.push(next);
        }
        node[via] = chain[Math.min(at, chain.length - 1)];
        e.wide = Array.from({ length: width }, (_, i) => i);
        e.many = Object.fromEntries(Array.from({ length: width }, (_, i) => [`k${i}`, i]));
        const wire = errorToWire(e);
        expect(wire).toMatchObject({ $error: true, name: 'Error', message: 'circ' });
        const text = JSON.stringify(structuredClone(wire));
        if (depth < 7) expect(text).toContain(JSON.stringify(CIRCULAR));
        expect(text.length).toBeLessThan(20_000);
        expect((wire.fields.wide as unknown[]).length).toBeLessThanOrEqual(101);
      }),
    );
    const e = new Error('circ') as Error & { self?: unknown; cause?: unknown };
    e.self = e;
    e.cause = e;
    expect(errorToWire(e).fields).toEqual({ self: CIRCULAR, cause: CIRCULAR });
  });

  it("a thrown plain object with a message fails with that message (in the thread and in the runner's)", async () => {
    const message = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.double({ noNaN: true }));
    await fc.assert(
      fc.asyncProperty(message, fc.boolean(), fc.boolean(), async (m, extra, isolate) => {
        const thrown = `throw { message: ${JSON.stringify(m)}${extra ? ', code: 42, detail: { deep: [1, 2] }' : ''} }`;
        const { byId } = await within(20_000, run({ '01-a.md': `# A\n\n${ts('plain', thrown, 'timeout=60s')}` }, { isolate }));
        // A plain object has no stack: the block's line.
        expect(byId.plain).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: String(m), line: 3 } });
      }),
      { numRuns: 10 },
    );
    // Other values as before.
    const other = await within(20_000, run({ '01-a.md': `# A\n\n${ts('other', 'throw 7', 'timeout=60s')}` }));
    expect(other.byId.other).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: '7', line: 3 } });
  });

  it("process.stdout.write and process.stderr.write are the block's output, in order with console.log", async () => {
    const piece = fc.record({
      how: fc.constantFrom('stdout', 'stderr', 'buffer', 'log', 'callback'),
      text: fc.string({ minLength: 1, maxLength: 20 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (pieces) => {
        const code = pieces
          .map(({ how, text }) => {
            const t = JSON.stringify(text);
            if (how === 'log') return `console.log(${t})`;
            if (how === 'buffer') return `process.stdout.write(Buffer.from(${t}))`;
            if (how === 'callback') return `await new Promise((done) => process.stderr.write(${t}, done))`;
            return `process.${how}.write(${t})`;
          })
          .join('\n');
        const expected = pieces.map(({ how, text }) => (how === 'log' ? `${text}\n` : text)).join('');
        const { byId, events } = await within(
          20_000,
          run({ '01-a.md': `# A\n\n${ts('writes', `${code}\nconsole.log('end')`, 'timeout=60s')}${ts('next', "process.stdout.write('next\\n')")}` }),
        );
        expect(byId.writes?.status, JSON.stringify(byId.writes?.failure)).toBe('passed');
        const output = (id: string) =>
          events
            .filter((e): e is Extract<RunEvent, { type: 'block:output' }> => e.type === 'block:output' && e.block.id === id)
            .map((e) => {
              expect(e.stream).toBe('log');
              return e.text;
            })
            .join('');
        expect(output('writes')).toBe(`${expected}end\n`);
        expect(output('next')).toBe('next\n');
      }),
      { numRuns: 8 },
    );
  });

  it("import() in a block loads the module, in the thread and in the runner's, and lines still map", async () => {
    const code = [
      "const fs = await import('node:fs')",
      "const { join } = await import('node:path')",
      "const later = async () => (await import('node:os')).EOL",
      "assert.equal(typeof fs.readFileSync, 'function')",
      "assert.equal(join('a', 'b'), 'a/b')",
      "assert.equal(await later(), '\\n')",
      "throw new Error('after ' + (await import('node:util')).format('%s', 'imports'))",
    ].join('\n');
    for (const isolate of [true, false]) {
      const { byId } = await within(20_000, run({ '01-a.md': `# A\n\n${ts('imports', code, 'timeout=60s')}` }, { isolate }));
      expect(byId.imports).toMatchObject({ status: 'failed', failure: { code: 'BLOCK_FAILED', message: 'after imports', line: 10 } });
    }
  });
});

describe('what crosses between a block’s thread and the runner', () => {
  it('an array answered by a call crosses as data (its methods are the thread’s own), never as a handle', () => {
    const kept: object[] = [];
    const keep = (value: object) => kept.push(value);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.integer(), fc.record({ Id: fc.string(), RepoTags: fc.array(fc.string()) })), { maxLength: 20 }),
        (items) => {
          const crossed = toWire(items, keep);
          expect(Array.isArray(crossed)).toBe(true);
          expect(crossed).toEqual(items);
          expect(kept).toEqual([]);
        },
      ),
    );
  });
});

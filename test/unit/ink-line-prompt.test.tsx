import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { linePrompts } from '../../src/ink-ui/line-prompt.js';
import { parseChapter } from '../../src/runner/parse.js';
import type { Block } from '../../src/runner/types.js';
import { BookReader } from '../../src/terminal/prose.js';

const block = { id: 'start-kubelet', file: 'book/01-kubelet.md', line: 40 } as Block;

describe('--step without the Ink UI: line prompts', () => {
  it('Enter runs, s skips, q quits; an unknown answer asks again', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (c: Buffer) => {
      shown += c.toString();
    });
    const prompts = linePrompts({ input, output });
    input.write('\n');
    await expect(prompts.beforeBlock(block)).resolves.toBe('run');
    input.write('what\ns\n');
    await expect(prompts.beforeBlock(block)).resolves.toBe('skip');
    input.write('Q\n');
    await expect(prompts.beforeBlock(block)).resolves.toBe('quit');
    input.write('x\nr\n');
    await expect(prompts.afterFailure(block, { code: 'BLOCK_FAILED', message: 'boom', file: block.file, line: 41 })).resolves.toBe('retry');
    expect(shown).toContain('? next: start-kubelet (book/01-kubelet.md:40) — Enter runs, s skips, q quits, o shows the last output: ');
    expect(shown.match(/\? next: start-kubelet/g)?.length).toBe(4);
    prompts.close();
  });

  it('answers "quit" when interrupted or when input ends', async () => {
    const controller = new AbortController();
    const input = new PassThrough();
    const prompts = linePrompts({ input, output: new PassThrough(), signal: controller.signal });
    const pending = prompts.beforeBlock(block);
    controller.abort();
    await expect(pending).resolves.toBe('quit');
    const other = linePrompts({ input: new PassThrough(), output: new PassThrough() });
    const waiting = other.afterFailure(block, { code: 'BLOCK_FAILED', message: 'boom', file: block.file, line: 41 });
    other.close();
    await expect(waiting).resolves.toBe('quit');
  });

  it('reading mode: the prose before each block, its code, the closing prose; o shows the last output', async () => {
    const source =
      '# Pods\n\nA pod is **one or more** containers sharing a `pause` container.\n\n```sh run name=ps\ndocker ps\n```\n\nThat was the *first* look.\n';
    const { chapter } = parseChapter('book/01-pods.md', '01-pods', 1, source, { timeoutMs: 1000, retries: 0 });
    const ps = chapter.blocks.find((b) => b.id === 'ps') as Block;
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (c: Buffer) => {
      shown += c.toString();
    });
    const prompts = linePrompts({ input, output, reader: new BookReader(() => ({ width: 40, color: false })) });
    prompts.listener({ type: 'chapter:start', chapter, time: 0 });
    input.write('o\n\n');
    await expect(prompts.beforeBlock(ps)).resolves.toBe('run');
    expect(shown).toContain('(no block has printed anything yet)');
    // wrapped to 40 columns, inline code kept in backticks without colour
    expect(shown).toMatch(/Pods\n {2}====\n\n {2}A pod is one or more containers sharing\n {2}a `pause` container\.\n\n {2}6 │ docker ps\n/);
    expect(shown.indexOf('A pod is')).toBeLessThan(shown.indexOf('? next: ps'));
    prompts.listener({ type: 'block:start', block: ps, attempt: 1, time: 0 });
    prompts.listener({ type: 'block:output', block: ps, stream: 'stdout', text: 'CONTAINER ID   IMAGE\nabc   pause\n' });
    prompts.listener({ type: 'block:end', block: ps, status: 'passed', durationMs: 1, attempts: 1 });
    prompts.listener({ type: 'chapter:end', chapter, status: 'passed', durationMs: 1 });
    expect(shown).toContain('That was the first look.');
    input.write('o\nq\n');
    await expect(prompts.beforeBlock(ps)).resolves.toBe('quit');
    expect(shown).toContain('full output of ps:\nCONTAINER ID   IMAGE\nabc   pause\n');
    prompts.close();
  });
});

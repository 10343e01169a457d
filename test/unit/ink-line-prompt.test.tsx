import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { linePrompts } from '../../src/ink-ui/line-prompt.js';
import type { Block } from '../../src/runner/types.js';

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
    await expect(prompts.afterFailure(block, { message: 'boom', file: block.file, line: 41 })).resolves.toBe('retry');
    expect(shown).toContain('? next: start-kubelet (book/01-kubelet.md:40) — Enter runs, s skips, q quits: ');
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
    const waiting = other.afterFailure(block, { message: 'boom', file: block.file, line: 41 });
    other.close();
    await expect(waiting).resolves.toBe('quit');
  });
});

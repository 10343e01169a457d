// An sh block's failure names the .md line of the command that failed, from the mark its EXIT trap
// prints: only a line of the block's own code. A block that prints a mark of its own (any number),
// or removes the traps, must not send the reader outside the block.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/runner/events.js';
import { runShBlock } from '../../src/runner/run/sh-block.js';
import type { Target } from '../../src/runner/targets/target.js';
import type { Block } from '../../src/runner/types.js';

/** A machine (a fake: no shell runs) whose command fails with this stderr. */
const failingWith = (stderr: string) =>
  ({
    exec: async (_: string, options: { onStderr?: (text: string) => void }) => {
      options.onStderr?.(stderr);
      return { stdout: '', stderr, exitCode: 1, durationMs: 1 };
    },
  }) as unknown as Target;

describe('the line an sh block failed at', () => {
  it('is inside the block whatever marks its output holds, and the mark’s line when it is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('true', 'false', 'echo x'), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 0, max: 99_999 }), { minLength: 0, maxLength: 3 }),
        async (lines, codeLine, marks) => {
          const code = `${lines.join('\n')}\n`;
          const block = { id: 'b', chapterId: '01', kind: 'sh', file: 'book/01.md', line: codeLine - 1, codeLine, code } as unknown as Block;
          const stderr = marks.map((m) => `noise\n\u001eBOOKLINE ${m}\n`).join('');
          const error = (await runShBlock(block, failingWith(stderr), new EventBus(), { id: 1, versionExports: '' }).catch((e) => e)) as { mdLine?: number };
          const last = marks.at(-1);
          const own = last !== undefined && last > 3 && last - 3 <= lines.length;
          if (own) expect(error.mdLine).toBe(codeLine + last - 4);
          else expect(error.mdLine).toBeUndefined();
          if (error.mdLine !== undefined) expect(error.mdLine).toBeLessThan(codeLine + lines.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

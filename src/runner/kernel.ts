import assert from 'node:assert/strict';
import { format } from 'node:util';
import vm from 'node:vm';
import { originalPositionFor } from '@jridgewell/trace-mapping';
import { type CompiledBlock, WRAPPER_LINES } from './compile.js';
import type { Block } from './types.js';

const FRAME = /book-blocks\/(\d+)\.js:(\d+):(\d+)/g;
const registry = new Map<number, CompiledBlock>();
let nextId = 1;

/**
 * The .md line of the innermost frame of block code in a stack, if any; of `prefer`'s code when
 * it has a frame (a function another block declared, called from this one: the call is the line).
 */
export function mdLineFromStack(stack: string | undefined, prefer?: Block): { block: Block; line: number } | undefined {
  if (typeof stack !== 'string' || !stack) return undefined;
  let first: { block: Block; line: number } | undefined;
  for (const match of stack.matchAll(FRAME)) {
    const compiled = registry.get(Number(match[1]));
    if (!compiled) continue;
    const generatedLine = Number(match[2]) - WRAPPER_LINES;
    const column = Math.max(0, Number(match[3]) - 1);
    let position = originalPositionFor(compiled.map, { line: generatedLine, column });
    if (position.line === null) position = originalPositionFor(compiled.map, { line: generatedLine, column: 0, bias: -1 as never });
    if (position.line === null) continue;
    const frame = { block: compiled.block, line: compiled.block.codeLine + position.line - 1 };
    if (!prefer || frame.block === prefer) return frame;
    first ??= frame;
  }
  return first;
}

export type Globals = Record<string, unknown>;

/**
 * One chapter's notebook kernel: blocks run in order over one scope object, and each block's
 * top-level declarations are copied into it when the block ends, so later blocks see them.
 * Blocks run in this realm (not a vm context) so that assert, instanceof and JSON behave as usual.
 */
export class ChapterKernel {
  private readonly scope: Record<string, unknown> = Object.create(null);

  constructor(globals: Globals) {
    Object.assign(this.scope, globals);
  }

  async run(compiled: CompiledBlock, _signal?: AbortSignal): Promise<void> {
    const id = nextId++;
    registry.set(id, compiled);
    const fn = vm.compileFunction(compiled.body, ['__scope', '__import'], { filename: `/book-blocks/${id}.js` }) as (
      scope: Record<string, unknown>,
      importer: (specifier: string) => Promise<unknown>,
    ) => Promise<Record<string, unknown>>;
    // The block's `import` statements and `import()` expressions (compile.ts), resolved from here.
    const exported = await fn(this.scope, (specifier) => import(specifier));
    Object.assign(this.scope, exported);
  }
}

export function makeConsole(write: (text: string) => void): Console {
  const line = (...args: unknown[]) => write(`${format(...args)}\n`);
  return { ...console, log: line, info: line, warn: line, error: line, debug: line, dir: (v: unknown) => line(v), table: (v: unknown) => line(v) } as Console;
}

export { assert };

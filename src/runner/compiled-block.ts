import { TraceMap } from '@jridgewell/trace-mapping';
import type { Block } from './types.js';

/** A `ts run` block turned into the body of a function over the chapter's scope. */
export interface CompiledBlock {
  block: Block;
  /** Function body; the block's JS starts on its line 2. */
  body: string;
  /** Top-level names the block declares; copied into the chapter scope when it ends. */
  names: string[];
  map: TraceMap;
  /** The source map: esbuild's, or each line to itself for plain JavaScript (sent as text to a kernel in another thread). */
  mapText: string;
}

/**
 * A compiled block whose map is read from its text when first asked for: only a failure's stack
 * needs it, and parsing it for every block cost each block's run a little.
 */
export function compiledBlock(block: Block, body: string, names: string[], mapText: string): CompiledBlock {
  let map: TraceMap | undefined;
  return {
    block,
    body,
    names,
    mapText,
    get map() {
      map ??= new TraceMap(mapText);
      return map;
    },
  };
}

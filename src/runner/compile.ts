import { TraceMap } from '@jridgewell/trace-mapping';
import { type Node, parse as parseJs } from 'acorn';
import { type TransformFailure, transform } from 'esbuild';
import type { Block, BookIssue } from './types.js';

/** A `ts run` block turned into the body of a function over the chapter's scope. */
export interface CompiledBlock {
  block: Block;
  /** Function body; the block's JS starts on its line 2. */
  body: string;
  /** Top-level names the block declares; copied into the chapter scope when it ends. */
  names: string[];
  map: TraceMap;
  /** The source map as esbuild wrote it (for a kernel in another thread). */
  mapText: string;
}

/** Lines the wrapper puts before the block's own code. */
export const WRAPPER_LINES = 1;

interface AcornNode extends Node {
  [key: string]: unknown;
}

function patternNames(node: AcornNode | null | undefined, out: string[]): void {
  if (!node) return;
  switch (node.type) {
    case 'Identifier':
      out.push(node.name as string);
      break;
    case 'ObjectPattern':
      for (const p of node.properties as AcornNode[]) patternNames((p.type === 'RestElement' ? p.argument : p.value) as AcornNode, out);
      break;
    case 'ArrayPattern':
      for (const e of node.elements as AcornNode[]) patternNames(e, out);
      break;
    case 'RestElement':
      patternNames(node.argument as AcornNode, out);
      break;
    case 'AssignmentPattern':
      patternNames(node.left as AcornNode, out);
      break;
  }
}

/** `import x, { a as b } from 'm'` → `const __m0 = await __import('m'); const x = __m0.default, b = __m0.a;` on one line. */
function rewriteImport(node: AcornNode, n: number): string {
  const source = JSON.stringify((node.source as AcornNode).value);
  const tmp = `__m${n}`;
  const bindings: string[] = [];
  for (const s of node.specifiers as AcornNode[]) {
    const local = (s.local as AcornNode).name as string;
    if (s.type === 'ImportDefaultSpecifier') bindings.push(`${local} = ${tmp}.default`);
    else if (s.type === 'ImportNamespaceSpecifier') bindings.push(`${local} = ${tmp}`);
    else {
      const imported = s.imported as AcornNode;
      const name = imported.type === 'Identifier' ? (imported.name as string) : String(imported.value);
      bindings.push(`${local} = ${tmp}[${JSON.stringify(name)}]`);
    }
  }
  return `const ${tmp} = await __import(${source});${bindings.length ? ` const ${bindings.join(', ')};` : ''}`;
}

// Blocks are immutable once parsed; `book run` checks the whole book before it starts and runBook
// compiles again, so the second time must cost nothing.
const compiledBlocks = new WeakMap<Block, Promise<CompiledBlock | BookIssue>>();

/**
 * Compiles one `ts run` block; a syntax error comes back as a BookIssue at the .md line.
 * Asynchronous on purpose: esbuild's sync API costs ~1.5-2 ms a call (a worker thread waits on
 * the esbuild process), while async calls issued together are pipelined to it (~0.5 ms a block).
 */
export function compileBlock(block: Block): Promise<CompiledBlock | BookIssue> {
  let result = compiledBlocks.get(block);
  if (!result) {
    result = compileUncached(block);
    compiledBlocks.set(block, result);
  }
  return result;
}

async function compileUncached(block: Block): Promise<CompiledBlock | BookIssue> {
  let js: string;
  let mapText: string;
  try {
    const out = await transform(block.code, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: block.file,
      logLevel: 'silent',
    });
    js = out.code;
    mapText = out.map;
  } catch (error) {
    const first = (error as TransformFailure).errors?.[0];
    const line = first?.location ? block.codeLine + first.location.line - 1 : block.line;
    return {
      file: block.file,
      line,
      message: `TypeScript does not parse: ${first?.text ?? String(error)}`,
      hint: first?.location?.lineText ? `fix this line: ${first.location.lineText.trim()}` : 'fix the syntax of this block',
    };
  }
  const map = new TraceMap(mapText);
  // esbuild prints every top-level statement from column 0 and indents nested ones: a block with no
  // line starting like a declaration declares nothing, and needs no parse (most blocks only act).
  if (!TOP_LEVEL_DECLARATION.test(js) && !DYNAMIC_IMPORT.test(js)) return { block, body: functionBody(js, []), names: [], map, mapText };
  let program: AcornNode;
  try {
    program = parseJs(js, { ecmaVersion: 'latest', sourceType: 'module', allowAwaitOutsideFunction: true }) as unknown as AcornNode;
  } catch (error) {
    return { file: block.file, line: block.line, message: `block does not parse: ${(error as Error).message}`, hint: 'fix the syntax of this block' };
  }
  // esbuild wraps a file that uses `module`, `exports` or a top-level `return` as CommonJS (its
  // body in a function, `export default require_…()`): say so, not "blocks cannot export".
  if (/^var __commonJS = /m.test(js) && /^export default require_\w+\(\);\s*$/m.test(js))
    return {
      file: block.file,
      line: block.line,
      message: 'this block uses `module`, `exports` or a top-level `return`, so the compiler reads it as a CommonJS module',
      hint: 'a block runs as code in order in an ES module: leave out module and exports, and end early with if/else (or throw) instead of a top-level return',
    };
  const names: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let imports = 0;
  for (const node of program.body as AcornNode[]) {
    if (node.type === 'ImportDeclaration') {
      edits.push({ start: node.start, end: node.end, text: rewriteImport(node, imports++) });
      for (const s of node.specifiers as AcornNode[]) names.push((s.local as AcornNode).name as string);
      continue;
    }
    let declaration = node;
    if (node.type === 'ExportNamedDeclaration' && node.declaration) {
      // Blocks share names through the chapter scope; `export` adds nothing, so drop the keyword.
      declaration = node.declaration as AcornNode;
      edits.push({ start: node.start, end: declaration.start, text: '' });
    } else if (node.type.startsWith('Export')) {
      return {
        file: block.file,
        line: block.line,
        message: 'blocks cannot export',
        hint: 'declare with const/let/function: top-level names are visible in the later blocks of the chapter',
      };
    }
    if (declaration.type === 'VariableDeclaration') {
      for (const d of declaration.declarations as AcornNode[]) patternNames(d.id as AcornNode, names);
    } else if (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') {
      names.push(((declaration.id as AcornNode).name as string) ?? '');
    }
  }
  // `import('m')` anywhere in the block: the block's code is a function's body, which has no module
  // loader of its own (vm: "A dynamic import callback was not specified"), and Node 20 has no stable
  // way to lend it one. It loads as the block's import statements do, on the same line.
  for (const node of importExpressions(program)) edits.push({ start: node.start, end: node.start + 'import'.length, text: '__import' });
  for (const edit of edits.sort((a, b) => b.start - a.start)) js = js.slice(0, edit.start) + edit.text + js.slice(edit.end);
  const exported = [...new Set(names.filter(Boolean))];
  return { block, body: functionBody(js, exported), names: exported, map, mapText };
}

const TOP_LEVEL_DECLARATION = /^(?:const|let|var|function|async|class|import|export|using|await\s+using)\b/m;
/** Maybe an `import(…)` expression (or the words in a string or comment: then the parse finds none). */
const DYNAMIC_IMPORT = /\bimport\s*\(/;

/** Every `import(…)` expression in a program, at any depth. */
function importExpressions(root: AcornNode): AcornNode[] {
  const found: AcornNode[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) for (const item of value) stack.push(item);
    else if (value && typeof value === 'object' && typeof (value as AcornNode).type === 'string') {
      const node = value as AcornNode;
      if (node.type === 'ImportExpression') found.push(node);
      for (const key of Object.keys(node)) if (key !== 'type' && key !== 'loc') stack.push(node[key]);
    }
  }
  return found;
}

function functionBody(js: string, exported: string[]): string {
  return `return (async () => { with (__scope) {\n${js}\n;return { ${exported.join(', ')} }; } })();`;
}

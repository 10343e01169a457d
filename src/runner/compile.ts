import { type Node, parse as parseJs } from 'acorn';
import { type TransformFailure, transform } from 'esbuild';
import { type CompiledBlock, compiledBlock } from './compiled-block.js';
import type { Block, BookIssue } from './types.js';

export type { CompiledBlock } from './compiled-block.js';

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

/**
 * A block that is already JavaScript as Node 20 runs it (most blocks only call `$` and assert: no
 * types) needs no compiler: esbuild costs ~0.3 ms a block even with all of them sent at once, which
 * was a tenth of a block's whole cost on a 2-core box (docs/benchmarks.md). Its code runs as
 * written, lines kept, so its map is the identity. Anything esbuild would treat otherwise than Node
 * goes through esbuild as before: what does not parse as ES2023 (types, `using`, decorators),
 * `module`/`exports` (read as CommonJS), top-level `this` (undefined in a module), class fields
 * (their semantics follow tsconfig in TypeScript), a `<` and a `>` operator in one block
 * (`f<A, B>(x)` is a call with type arguments in TypeScript), a hashbang, line breaks other than \n.
 * The words are looked for anywhere, strings and comments too: a false alarm only costs the compile.
 */
export function plainProgram(code: string): AcornNode | undefined {
  if (NOT_PLAIN_WORDS.test(code) || NOT_PLAIN_CHARACTERS.test(code) || code.startsWith('#!')) return undefined;
  let program: AcornNode;
  try {
    program = parseJs(code, { ecmaVersion: 2023, sourceType: 'module', allowAwaitOutsideFunction: true, preserveParens: true }) as unknown as AcornNode;
  } catch {
    return undefined;
  }
  // `f<A, B>(x)` and `get<Pod | undefined>(name)` are comparisons to JavaScript and calls to
  // TypeScript, in any shape: a block with both a `<` and a `>` operator goes through esbuild.
  let less = false;
  let greater = false;
  const differs = someNode(program, (node) => {
    if (node.type === 'PropertyDefinition') return true;
    if (node.type !== 'BinaryExpression' && node.type !== 'AssignmentExpression') return false;
    const operator = node.operator as string;
    less ||= operator === '<';
    greater ||= operator.startsWith('>');
    return less && greater;
  });
  return differs ? undefined : program;
}

const NOT_PLAIN_WORDS = /\b(?:module|exports|this)\b/;
/** Line breaks V8 counts that a split on \n does not: the identity map would be off by them. */
const NOT_PLAIN_CHARACTERS = /[\r\u2028\u2029]/;

/** A source map from each line of `code` to the same line of the block (plain JavaScript runs as written). */
function identityMap(file: string, code: string): string {
  const lines = code.split('\n').length;
  return JSON.stringify({ version: 3, sources: [file], names: [], mappings: `AAAA${';AACA'.repeat(lines - 1)}` });
}

/** esbuild's JavaScript for a TypeScript block and its map; a syntax error as a BookIssue at its .md line. */
async function transpile(block: Block): Promise<{ js: string; mapText: string } | BookIssue> {
  try {
    const out = await transform(block.code, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: block.file,
      logLevel: 'silent',
      // Every import is kept (but `import type`), used in its block or not: the names a block
      // imports are the chapter's, as its other declarations are, and plain JavaScript keeps them too.
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    });
    return { js: out.code, mapText: out.map };
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
}

/** Compiles a block now (no cache); `plain: false` sends plain JavaScript through esbuild too (tests compare the two ways). */
export async function compileUncached(block: Block, options: { plain?: boolean } = {}): Promise<CompiledBlock | BookIssue> {
  const plain = options.plain === false ? undefined : plainProgram(block.code);
  let js: string;
  let mapText: string;
  let program: AcornNode;
  if (plain) {
    js = block.code;
    mapText = identityMap(block.file, js);
    program = plain;
  } else {
    const transpiled = await transpile(block);
    if (!('js' in transpiled)) return transpiled;
    ({ js, mapText } = transpiled);
    // esbuild prints every top-level statement from column 0 and indents nested ones: a block with no
    // line starting like a declaration declares nothing, and needs no parse (most blocks only act).
    if (!TOP_LEVEL_DECLARATION.test(js) && !DYNAMIC_IMPORT.test(js)) return compiledBlock(block, functionBody(js, []), [], mapText);
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
  }
  const names: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let imports = 0;
  for (const node of program.body as AcornNode[]) {
    if (node.type === 'ImportDeclaration') {
      // `import { type A } from 'm'` is `import {} from 'm'` after esbuild: a type, nothing to load.
      const onlyTypes = !plain && (node.specifiers as AcornNode[]).length === 0 && js.slice(node.start, node.end).includes('{');
      edits.push({ start: node.start, end: node.end, text: onlyTypes ? '' : rewriteImport(node, imports++) });
      for (const s of node.specifiers as AcornNode[]) names.push((s.local as AcornNode).name as string);
      continue;
    }
    let declaration = node;
    if (node.type === 'ExportNamedDeclaration' && node.declaration) {
      // Blocks share names through the chapter scope; `export` adds nothing, so drop the keyword.
      declaration = node.declaration as AcornNode;
      edits.push({ start: node.start, end: declaration.start, text: '' });
    } else if (exportsOwnNames(node)) {
      // `export { a, b }` of the block's own names, which esbuild writes for `export const a`: dropped too.
      edits.push({ start: node.start, end: node.end, text: '' });
      continue;
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
  // An edit keeps the lines it replaces (an import over several lines, say), so the lines after it stay where the map says.
  for (const edit of edits.sort((a, b) => b.start - a.start))
    js = js.slice(0, edit.start) + edit.text + lineBreaks(js.slice(edit.start, edit.end)) + js.slice(edit.end);
  const exported = [...new Set(names.filter(Boolean))];
  return compiledBlock(block, functionBody(js, exported), exported, mapText);
}

/** `export { a, b }`: no source, no renaming (what esbuild writes for `export const a = …`). */
function exportsOwnNames(node: AcornNode): boolean {
  if (node.type !== 'ExportNamedDeclaration' || node.declaration || node.source) return false;
  return (node.specifiers as AcornNode[]).every((s) => {
    const exported = s.exported as AcornNode;
    return exported.type === 'Identifier' && exported.name === (s.local as AcornNode).name;
  });
}

/** The line breaks of a text, and nothing else. */
function lineBreaks(text: string): string {
  return '\n'.repeat(text.split('\n').length - 1);
}

const TOP_LEVEL_DECLARATION = /^(?:const|let|var|function|async|class|import|export|using|await\s+using)\b/m;
/** Maybe an `import(…)` expression (or the words in a string or comment: then the parse finds none). */
const DYNAMIC_IMPORT = /\bimport\s*\(/;

/** Every node of a program, at any depth, for which `test` holds (all of them, or the first only). */
function findNodes(root: AcornNode, test: (node: AcornNode) => boolean, firstOnly = false): AcornNode[] {
  const found: AcornNode[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) for (const item of value) stack.push(item);
    else if (value && typeof value === 'object' && typeof (value as AcornNode).type === 'string') {
      const node = value as AcornNode;
      if (test(node)) {
        found.push(node);
        if (firstOnly) return found;
      }
      for (const key of Object.keys(node)) if (key !== 'type' && key !== 'loc') stack.push(node[key]);
    }
  }
  return found;
}

/** Whether some node of a program is one `test` looks for. */
function someNode(root: AcornNode, test: (node: AcornNode) => boolean): boolean {
  return findNodes(root, test, true).length > 0;
}

/** Every `import(…)` expression in a program, at any depth. */
function importExpressions(root: AcornNode): AcornNode[] {
  return findNodes(root, (node) => node.type === 'ImportExpression');
}

function functionBody(js: string, exported: string[]): string {
  return `return (async () => { with (__scope) {\n${js}\n;return { ${exported.join(', ')} }; } })();`;
}

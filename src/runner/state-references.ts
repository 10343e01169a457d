import type { BookIssue, Chapter } from './types.js';

/**
 * `${state.NAME}` in a file block: a value an earlier `ts` block found on the machine (the node's
 * address, say) written into the file. A shell variable cannot be spelled this way (bash calls
 * `${state.x}` a bad substitution), so no script's own text is taken for one.
 */
const REFERENCE = /\$\{state\.([A-Za-z_$][\w$]*)\}/g;

/** A fresh copy of the pattern (global, its one group the name): for split and replace elsewhere. */
export const stateReferencePattern = (): RegExp => new RegExp(REFERENCE.source, 'g');

/** The `${state.NAME}` references in a text: each name with its 0-based line. */
export function stateReferences(text: string): { line: number; name: string }[] {
  const found: { line: number; name: string }[] = [];
  text.split('\n').forEach((content, line) => {
    for (const match of content.matchAll(REFERENCE)) found.push({ line, name: match[1] ?? '' });
  });
  return found;
}

/** Thrown when a reference has no value a file can hold; the message names the reference. */
export class StateValueMissing extends Error {}

/** The text with each `${state.NAME}` replaced by the run's value: a string, a number or a boolean. */
export function substituteState(text: string, state: Record<string, unknown>): string {
  return text.replace(REFERENCE, (_whole, name: string) => {
    const value = Object.hasOwn(state, name) ? state[name] : undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    const what = value === undefined ? 'is not set' : `is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}`;
    throw new StateValueMissing(
      `\${state.${name}}: state.${name} ${what}, and a file can only hold a string, a number or a boolean; an earlier ts block sets it`,
    );
  });
}

/** Whether a `ts` block's code names `state.NAME` (as `state.NAME` or `state['NAME']`). */
function mentions(code: string, name: string): boolean {
  const escaped = name.replace(/\$/g, '\\$');
  return new RegExp(`\\bstate\\s*(?:\\?\\.|\\.)\\s*${escaped}(?![\\w$])|\\bstate\\s*\\[\\s*(['"\`])${escaped}\\1\\s*\\]`).test(code);
}

/**
 * Each `${state.NAME}` that no earlier `ts` block of the book names: a typo or a block in the
 * wrong place, which would otherwise surface only when the run reaches the file.
 */
export function unsetStateReferences(chapters: readonly Chapter[]): BookIssue[] {
  const issues: BookIssue[] = [];
  const earlier: string[] = [];
  for (const chapter of chapters) {
    for (const block of chapter.blocks) {
      if (block.kind === 'file') {
        for (const ref of stateReferences(block.code)) {
          if (earlier.some((code) => mentions(code, ref.name))) continue;
          issues.push({
            file: block.file,
            line: block.codeLine + ref.line,
            message: `\${state.${ref.name}}: no earlier ts block sets state.${ref.name}`,
            hint: `set it in a ts block before this one (state.${ref.name} = …), or check the spelling`,
          });
        }
      }
      if (block.kind === 'ts') earlier.push(block.code);
    }
  }
  return issues;
}

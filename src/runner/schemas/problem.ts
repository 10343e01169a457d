import type { z } from 'zod';

/** A path's key as written in JavaScript: `.hash`, `[2]`, or `["daemon kubelet"]` for a key that is not a name. */
const step = (key: PropertyKey) =>
  typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(String(key))}]`;

/** The first thing wrong, as `chapters[2].blocks[0].hash: expected a string, got the number 3`. */
export function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'not a transcript';
  const where = issue.path.map(step).join('').replace(/^\./, '');
  return `${where || '(top)'}: ${issue.message}`;
}

const AN: Record<string, string> = { object: 'an object', record: 'an object', array: 'a list', int: 'a whole number', undefined: 'nothing' };

/** What a JSON value is, in words: `null`, `a list`, `the number 3`, `"text"` (cut). */
function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value === 'number' ? 'the number ' : ''}${value}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `one of "a", "b"`, the first few of a long list. */
function oneOf(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((v) => JSON.stringify(v));
  return `one of ${shown.join(', ')}${values.length > 5 ? `, … (${values.length} in all)` : ''}`;
}

const found = (expected: string, input: unknown) => (input === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${valueKind(input)}`);

/**
 * Messages for a reader of a damaged file (pass as `{ error: plainMessage }` to safeParse): what
 * was expected and what was there, or that a field is missing. Other issues keep zod's message.
 */
export function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') return found(AN[issue.expected] ?? `a ${issue.expected}`, issue.input);
  if (issue.code === 'invalid_value') return found(oneOf(issue.values), issue.input);
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) return 'is empty';
  // A discriminated union's tag (a change's `op`, a source's `available`): the issue holds the object.
  const tagged = issue as { code: string; options?: unknown[]; discriminator?: string; input?: unknown };
  if (tagged.code === 'invalid_union' && tagged.options?.length && tagged.discriminator !== undefined)
    return found(oneOf(tagged.options), (tagged.input as Record<string, unknown> | undefined)?.[tagged.discriminator]);
  return undefined;
}

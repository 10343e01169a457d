import type { PredictionKeys } from '../run/answer.js';

/**
 * What crosses between the runner and a chapter's kernel thread: messages, and values made safe
 * for structured clone (Buffers stay Buffers, errors keep their name, code and fields, objects
 * with methods stay behind as handles).
 */

/** One step of a path into a remote object: a property read, or a call with its arguments. */
export type Step = { get: string } | { call: unknown[] };

/** The objects a block reaches through the runner: `docker`, `k8s`, `machine`, `nodes`, or a handle. */
export type Root = 'docker' | 'k8s' | 'machine' | 'nodes' | { handle: number };

export interface WireError {
  $error: true;
  name: string;
  message: string;
  stack?: string;
  /** Own enumerable fields (code, statusCode, body, exitCode…), as far as they clone. */
  fields: Record<string, unknown>;
}

export interface WireHandle {
  $handle: number;
  /** The handle's own data fields, readable without a round trip (a daemon's name and pid). */
  data: Record<string, unknown>;
}

export interface WireBlock {
  id: string;
  chapterId: string;
  file: string;
  line: number;
  codeLine: number;
  /** The prediction the block answers with `answer(key)`, if it follows one. */
  prediction?: PredictionKeys;
}

export interface WireCompiled {
  block: WireBlock;
  body: string;
  names: string[];
  mapText: string;
}

export type ToKernel =
  | { t: 'init'; state: Record<string, unknown>; versions: Record<string, unknown>; nodes: string[]; instantWaits?: boolean }
  | { t: 'run'; id: number; compiled: WireCompiled }
  | { t: 'abort'; id: number; reason: unknown }
  | { t: 'reply'; call: number; ok: boolean; value: unknown }
  | { t: 'ping'; n: number };

export type FromKernel =
  | { t: 'call'; call: number; root: Root; path: Step[] }
  | { t: 'shell'; call: number; node?: string; command: string; quiet: boolean }
  | { t: 'output'; text: string }
  | { t: 'wait'; info: { message?: string; polls: number; lastFalseAt: number | null; trueAt: number } }
  | { t: 'waits'; pending: string[] }
  /** The running block said which answer of its prediction held (checked in the thread already). */
  | { t: 'answer'; key: string }
  | { t: 'done'; id: number; state: unknown }
  | { t: 'failed'; id: number; error: unknown; state: unknown }
  | { t: 'uncaught'; error: unknown }
  /** The block (`id`, none when no block ran) called process.exit: the thread ends after this message. */
  | { t: 'exit'; id?: number; error: unknown; state: unknown }
  | { t: 'pong'; n: number };

/** An object to call, not to copy: a method of its own (a daemon handle) or of its class (a Docker container). */
function hasMethods(value: object): boolean {
  if (Object.values(value).some((v) => typeof v === 'function')) return true;
  let proto = Object.getPrototypeOf(value);
  while (proto && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, key)?.value === 'function') return true;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

/**
 * How far a value is copied: an error's fields are bounded in depth, width and size (they are for
 * the reader's message, and a thrown object may drag a whole graph along); data a call passes or
 * returns is copied whole but for nesting no JSON needs. Either way a circular reference becomes
 * "[circular]", so no value makes the copy recurse until the stack overflows.
 */
interface Copy {
  /** The objects on the path from the root to here (a shared object seen twice is not a cycle). */
  path: Set<object>;
  depth: number;
  maxDepth: number;
  /** Keys of an object, items of an array. */
  maxWidth: number;
  /** Values still to copy in all, shared by the whole copy. */
  budget: { left: number };
  /** Error fields: a field that cannot be read or copied stays behind, and the rest cross. */
  lenient: boolean;
}

export const CIRCULAR = '[circular]';

const errorCopy = (path: Set<object>): Copy => ({ path, depth: 0, maxDepth: 8, maxWidth: 100, budget: { left: 2000 }, lenient: true });
const dataCopy = (): Copy => ({
  path: new Set(),
  depth: 0,
  maxDepth: 100,
  maxWidth: Number.POSITIVE_INFINITY,
  budget: { left: Number.POSITIVE_INFINITY },
  lenient: false,
});

/**
 * The message of anything thrown: an Error's, a plain object's `message` (`throw {message: 'x'}`,
 * `throw {message: 5}`), else the value as text.
 */
export function messageOf(thrown: unknown): string {
  if (thrown !== null && typeof thrown === 'object') {
    const message = read(thrown, 'message');
    if (message !== undefined && (message === null || typeof message !== 'object') && typeof message !== 'function') return String(message);
  }
  try {
    return String(thrown);
  } catch {
    return Object.prototype.toString.call(thrown);
  }
}

/** `value[key]`, or undefined when reading it throws (a getter, a revoked proxy). */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function keysOf(value: object, lenient: boolean): string[] {
  if (!lenient) return Object.keys(value);
  try {
    return Object.keys(value);
  } catch {
    return [];
  }
}

/**
 * Anything thrown, as an error that crosses: its name, message, stack and own fields (bounded,
 * circular references as "[circular]"). A plain object with a `message` is an error with that
 * message; any other value, an error with the value as text.
 */
export function errorToWire(error: unknown, within?: Copy): WireError {
  const object = error !== null && typeof error === 'object' ? error : undefined;
  const name = object ? read(object, 'name') : undefined;
  const stack = object ? read(object, 'stack') : undefined;
  const fields: Record<string, unknown> = {};
  if (object) {
    // Inside another error's fields the bounds go on; anywhere else an error starts its own.
    const copy: Copy = within?.lenient ? { ...within, depth: within.depth + 1 } : errorCopy(within?.path ?? new Set());
    const own = error instanceof Error ? [] : ['message', 'name', 'stack'];
    copy.path.add(object);
    let width = 0;
    for (const key of keysOf(object, true)) {
      if (own.includes(key)) continue;
      if (++width > copy.maxWidth) {
        fields['…'] = 'more fields left out';
        break;
      }
      const value = read(object, key);
      if (typeof value === 'function' || typeof value === 'symbol') continue;
      const copied = item(value, () => undefined, copy);
      if (copied !== undefined) fields[key] = copied;
    }
    copy.path.delete(object);
  }
  return {
    $error: true,
    name: typeof name === 'string' ? name : 'Error',
    message: messageOf(error),
    ...(typeof stack === 'string' ? { stack } : {}),
    fields,
  };
}

/**
 * A value for postMessage. `keep` turns an object with methods (a daemon handle, a Docker
 * container, a stream) into a handle the other side calls through; undefined means "send as data".
 */
export function toWire(value: unknown, keep: (value: object) => number | undefined, copy: Copy = dataCopy()): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') throw new TypeError('a function cannot cross to the runner (pass data, not callbacks)');
    if (typeof value === 'symbol') throw new TypeError(`a symbol (${String(value)}) cannot cross to the runner (pass data)`);
    return value;
  }
  if (copy.path.has(value)) return CIRCULAR;
  if (--copy.budget.left < 0) return '[left out: too much to show]';
  if (Buffer.isBuffer(value)) return { $buffer: value.toString('base64') };
  if (copy.lenient && copy.depth >= copy.maxDepth) return '[left out: nested too deep]';
  if (value instanceof Error) return errorToWire(value, copy);
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return value;
  // An error's Map may hold what does not clone; data's crosses as it is.
  if (value instanceof Map || value instanceof Set) return copy.lenient ? `[${value instanceof Map ? 'Map' : 'Set'} of ${value.size}]` : value;
  if (copy.depth >= copy.maxDepth) return '[left out: nested too deep]';
  // An array is data, whatever Array.prototype has: it crosses as a copy, never as a handle.
  if (copy.depth === 0 && !copy.lenient && !Array.isArray(value) && hasMethods(value)) {
    const id = keep(value);
    if (id !== undefined) {
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v;
      return { $handle: id, data } satisfies WireHandle;
    }
  }
  const inner: Copy = { ...copy, depth: copy.depth + 1 };
  copy.path.add(value);
  try {
    if (Array.isArray(value)) {
      const shown = value.length > copy.maxWidth ? value.slice(0, copy.maxWidth) : value;
      const items = shown.map((v) => item(v, keep, inner));
      if (shown.length < value.length) items.push(`[${value.length - shown.length} more left out]`);
      return items;
    }
    const out: Record<string, unknown> = {};
    let width = 0;
    for (const k of keysOf(value, copy.lenient)) {
      const v = copy.lenient ? read(value, k) : (value as Record<string, unknown>)[k];
      if (typeof v === 'function') continue;
      if (++width > copy.maxWidth) {
        out['…'] = 'more fields left out';
        break;
      }
      const copied = item(v, keep, inner);
      if (copied !== undefined || !copy.lenient) out[k] = copied;
    }
    return out;
  } finally {
    copy.path.delete(value);
  }
}

/** One item or field: in an error's fields, one that does not copy is left out, not the whole error. */
function item(value: unknown, keep: (value: object) => number | undefined, copy: Copy): unknown {
  if (!copy.lenient) return toWire(value, keep, copy);
  try {
    return toWire(value, keep, copy);
  } catch {
    return undefined;
  }
}

/** Back from the wire; `handle` makes the receiving side's object for a handle. */
export function fromWire(value: unknown, handle: (h: WireHandle) => unknown = (h) => h): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return value;
  const v = value as Record<string, unknown>;
  if (typeof v.$buffer === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$buffer, 'base64');
  if (v.$error === true) return wireToError(v as unknown as WireError);
  if (typeof v.$handle === 'number') return handle(v as unknown as WireHandle);
  if (Array.isArray(value)) return value.map((x) => fromWire(x, handle));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromWire(x, handle);
  return out;
}

export function wireToError(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  Object.assign(error, fromWire(wire.fields));
  return error;
}

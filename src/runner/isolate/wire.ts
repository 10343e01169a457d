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

export function errorToWire(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    try {
      fields[key] = toWire(value, () => undefined);
    } catch {
      // a field that does not clone stays behind
    }
  }
  return { $error: true, name: e.name, message: e.message, stack: e.stack, fields };
}

/**
 * A value for postMessage. `keep` turns an object with methods (a daemon handle, a Docker
 * container, a stream) into a handle the other side calls through; undefined means "send as data".
 */
export function toWire(value: unknown, keep: (value: object) => number | undefined, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') throw new TypeError('a function cannot cross to the runner (pass data, not callbacks)');
    return value;
  }
  if (Buffer.isBuffer(value)) return { $buffer: value.toString('base64') };
  if (value instanceof Error) return errorToWire(value);
  if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => toWire(v, keep, depth + 1));
  if (value instanceof Map || value instanceof Set) return value;
  if (depth === 0 && hasMethods(value)) {
    const id = keep(value);
    if (id !== undefined) {
      const data: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v;
      return { $handle: id, data } satisfies WireHandle;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'function') continue;
    out[k] = toWire(v, keep, depth + 1);
  }
  return out;
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

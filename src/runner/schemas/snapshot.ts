import { z } from 'zod';
import type { Change, FieldChange, Fields, Snapshot, SourceState, StateDiff } from '../state/types.js';
import type { ShapeOf } from './shape.js';

// A recorded snapshot and its diff (state/types.ts) as the replay, the reporters and the site read
// them: every item's fields are text, every change one of the three the diff writes. Loose
// objects: a later runner may add fields; the ones read must be there, with their type.

const fields: z.ZodType<Fields> = z.record(z.string(), z.string());

type Available = Extract<SourceState, { available: true }>;
type Unavailable = Extract<SourceState, { available: false }>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A source's items, `kind name` → fields, each field text: the same as a record of `fields`,
 * checked by hand because items are most of a transcript and a zod record copies every object it
 * checks (that took a third of the load time). The first wrong item is reported, at its path.
 */
const items = z.custom<Record<string, Fields>>().check((payload) => {
  const wrong = (input: unknown, path: string[], expected: 'record' | 'string') => {
    payload.issues.push({ code: 'invalid_type', expected, input, path });
  };
  const value = payload.value as unknown;
  if (!isObject(value)) return wrong(value, [], 'record');
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (!isObject(item)) return wrong(item, [key], 'record');
    for (const field of Object.keys(item)) if (typeof item[field] !== 'string') return wrong(item[field], [key, field], 'string');
  }
});

const sourceStateSchema = z.discriminatedUnion('available', [
  z.looseObject({ available: z.literal(true), items } satisfies ShapeOf<Available>),
  z.looseObject({ available: z.literal(false), reason: z.string() } satisfies ShapeOf<Unavailable>),
]);

const sources = z.looseObject({
  kubernetes: sourceStateSchema,
  docker: sourceStateSchema,
  manifests: sourceStateSchema,
  daemons: sourceStateSchema,
  // Transcripts recorded before the network source lack it: its readers take a missing source as empty.
  network: sourceStateSchema.optional() as unknown as typeof sourceStateSchema,
} satisfies ShapeOf<Snapshot['sources']>);

const took = z.number().optional();

export const snapshotSchema = z.looseObject({
  sources,
  logs: z.record(z.string(), z.array(z.string())),
  timings: z.looseObject({ kubernetes: took, docker: took, manifests: took, daemons: took, network: took } satisfies ShapeOf<Snapshot['timings']>),
} satisfies ShapeOf<Snapshot>);

const fieldChange = z.looseObject({ field: z.string(), old: z.string(), new: z.string() } satisfies ShapeOf<FieldChange>);

type Op<O extends Change['op']> = Extract<Change, { op: O }>;

const change = z.discriminatedUnion('op', [
  z.looseObject({ op: z.literal('+'), key: z.string(), fields } satisfies ShapeOf<Op<'+'>>),
  z.looseObject({ op: z.literal('-'), key: z.string(), fields } satisfies ShapeOf<Op<'-'>>),
  z.looseObject({ op: z.literal('~'), key: z.string(), changes: z.array(fieldChange) } satisfies ShapeOf<Op<'~'>>),
]);

const count = z.number().int().min(0);

export const stateDiffSchema = z.looseObject({
  changes: z.array(change),
  add: count,
  change: count,
  remove: count,
} satisfies ShapeOf<StateDiff>);

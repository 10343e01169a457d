import type { z } from 'zod';

/**
 * The schema a field of type V must have: one whose output is a V; optional when V may be
 * undefined and nullable when V may be null (so a schema is never stricter than the type about
 * either); anything at all for an `unknown` field.
 */
export type FieldSchema<V> = unknown extends V
  ? z.ZodType<V>
  : undefined extends V
    ? null extends V
      ? z.ZodOptional<z.ZodNullable<z.ZodType<NonNullable<V>>>>
      : z.ZodOptional<z.ZodType<Exclude<V, undefined>>>
    : null extends V
      ? z.ZodNullable<z.ZodType<Exclude<V, null>>>
      : z.ZodType<V>;

/**
 * A zod shape with a schema for every field of T, and no other field: `{…} satisfies ShapeOf<T>`
 * makes the compiler check a schema against the type the code reads, so the two cannot drift.
 */
export type ShapeOf<T> = { [K in keyof Required<T>]: FieldSchema<T[K]> };

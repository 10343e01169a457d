// Spreading an array into a call (`push(...items)`, `Math.max(...values)`) passes each item as an
// argument, and past ~100,000 of them the call overflows the stack: a chapter with that many
// problems, or an output chunk with that many lines, would end in "[INTERNAL] Maximum call stack
// size exceeded". These take an array of any length.

/** Appends every item to `target`, in order; returns `target`. */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** The largest of `values`, or `floor` when it is larger (or `values` is empty). */
export function maxOf(values: Iterable<number>, floor = Number.NEGATIVE_INFINITY): number {
  let max = floor;
  for (const value of values) if (value > max) max = value;
  return max;
}

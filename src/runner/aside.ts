import { createHash } from 'node:crypto';

/** The longest name of one file that Linux's file systems take (NAME_MAX), in bytes. */
export const NAME_MAX = 255;

/** Room kept after a stem for the suffixes put on it (`.book-new-PID`, `.PID.RANDOM.tmp`). */
const SUFFIX_ROOM = 40;

/**
 * The stem of the hidden names made beside `name` (a temp file, a site built aside): `.NAME`, or,
 * for a name too long to take a suffix, its head and a hash of the whole name, so that the stem and
 * any suffix still fit in NAME_MAX and two long names never share a stem.
 */
export function asideStem(name: string): string {
  const whole = `.${name}`;
  const room = NAME_MAX - SUFFIX_ROOM;
  if (Buffer.byteLength(whole) <= room) return whole;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  const head = [...name];
  while (Buffer.byteLength(`.${head.join('')}~${hash}`) > room) head.pop();
  return `.${head.join('')}~${hash}`;
}

/** The first part of `target` whose name is longer than NAME_MAX bytes, if any. */
export function overlongName(target: string): string | undefined {
  return target.split(/[\\/]+/).find((part) => Buffer.byteLength(part) > NAME_MAX);
}

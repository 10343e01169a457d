import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { BadArguments } from '../runner/select.js';

/**
 * Where `dir` really is: every link on the way followed, the part that does not exist yet kept as
 * written. A link named as the folder leads to its target (the site goes there, the link stays);
 * a link to nothing or one that loops is refused, never replaced by a folder.
 */
export function realFolder(flag: string, dir: string): string {
  const missing: string[] = [];
  let existing = path.resolve(dir);
  for (;;) {
    const info = lstatSync(existing, { throwIfNoEntry: false });
    if (info) {
      try {
        return path.join(realpathSync(existing), ...missing);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ELOOP' ? 'a link that loops' : 'a link to nothing';
        throw new BadArguments(`${flag} ${dir}: ${existing} is ${why}; give a folder, or a link to one`);
      }
    }
    const parent = path.dirname(existing);
    if (parent === existing) return path.join(existing, ...missing);
    missing.unshift(path.basename(existing));
    existing = parent;
  }
}

/** Mount points at `dir` or inside it (Linux's mountinfo; none known elsewhere). */
export function mountsAtOrUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))))
    .filter((mount) => mount === dir || mount.startsWith(prefix));
}

/**
 * A site is swapped in by renaming folders, which a mount point refuses (EBUSY), and an old site
 * is removed whole, which must never reach into a file system mounted inside it: refused first.
 */
export function refuseMounts(flag: string, dir: string): void {
  const mounts = mountsAtOrUnder(dir);
  if (mounts.length === 0) return;
  const at = mounts.includes(dir);
  throw new BadArguments(
    at
      ? `${flag} ${dir}: is a mount point, and book render swaps a new site in by renaming the folder; give a folder inside it, e.g. ${path.join(dir, 'site')}`
      : `${flag} ${dir}: holds a mount point (${mounts[0]}), and book render replaces the folder whole; give a folder of its own for the site`,
  );
}

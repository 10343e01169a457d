import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../../src/commands/common.js';

/** An Io that keeps what a command printed, both streams in order. */
export function capture(): Io & { text: () => string } {
  const chunks: string[] = [];
  return { out: (t) => chunks.push(t), err: (t) => chunks.push(t), text: () => chunks.join('') };
}

/**
 * Every entry under `dir`: what it is, its mode and owner, where a link points, a file's inode and
 * bytes, a special file's kind. Equal trees are equal to the byte, and a file moved away and back is not.
 */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(dir, relative)).sort()) {
      const entry = path.join(relative, name);
      const full = path.join(dir, entry);
      const info = lstatSync(full);
      const who = `${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid}`;
      if (info.isSymbolicLink()) out[entry] = `link ${readlinkSync(full)}`;
      else if (info.isDirectory()) {
        out[entry] = `dir ${who}`;
        walk(entry);
      } else if (info.isFile()) out[entry] = `file ${who} ${info.ino} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
      else out[entry] = `special ${info.mode.toString(8)} ${info.rdev}`;
    }
  };
  walk('');
  return out;
}

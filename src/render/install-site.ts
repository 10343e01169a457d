import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asideStem } from '../runner/aside.js';
import { BadArguments } from '../runner/select.js';

// A rendered site goes into its folder whole or not at all: it is built aside (a hidden folder
// beside it, same file system), then swapped in with two renames. What the folder held that the
// renderer did not write is refused, or with --force carried into the new site, never deleted.

/** The renderer's list of what it wrote, inside the site: what a later render may replace. */
export const SITE_MARKER = '.book-site.json';

/** In a folder this render is building: whose it is. A hidden folder without it is never removed. */
const BUILDING_MARKER = '.book-building';

export interface SitePaths {
  /** The folder the reader named. */
  dir: string;
  /** Where the new site is built. */
  building: string;
  /** Where the old site waits between the two renames. */
  old: string;
}

export function sitePaths(dir: string): SitePaths {
  const parent = path.dirname(dir);
  const stem = asideStem(path.basename(dir));
  return { dir, building: path.join(parent, `${stem}.book-new-${process.pid}`), old: path.join(parent, `${stem}.book-old`) };
}

/** Holds a file this renderer wrote there: a site (its marker), or a site being built. */
function holdsMarker(dir: string, marker: string): boolean {
  return lstatSync(path.join(dir, marker), { throwIfNoEntry: false })?.isFile() === true;
}

/** The folder the new site is built in, made new: a folder already there under its name is not this render's. */
export function startBuilding(paths: SitePaths): void {
  try {
    mkdirSync(paths.building);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new BadArguments(
      `--out ${paths.dir}: ${paths.building} is in the way (book render builds the site there, and never deletes a folder it did not make); move it away`,
    );
  }
  writeFileSync(path.join(paths.building, BUILDING_MARKER), `${process.pid}\n`);
}

/** Files (relative, `/`-separated) the site's marker says the renderer wrote; none if it has no marker. */
function markedFiles(dir: string): Set<string> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dir, SITE_MARKER), 'utf8')) as { files?: unknown };
    return new Set(Array.isArray(parsed.files) ? parsed.files.filter((f): f is string => typeof f === 'string') : []);
  } catch {
    return new Set();
  }
}

/** What `dir` holds that the renderer did not write (relative paths; a foreign folder is one entry). */
export function foreignEntries(dir: string): string[] {
  const ours = markedFiles(dir);
  ours.add(SITE_MARKER);
  ours.add(BUILDING_MARKER);
  const ourDirs = new Set(
    [...ours].flatMap((f) =>
      f
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  const foreign: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(dir, relative)).sort()) {
      const entry = relative ? `${relative}/${name}` : name;
      const info = lstatSync(path.join(dir, entry));
      if (info.isDirectory() && ourDirs.has(entry)) walk(entry);
      else if (!(info.isFile() && ours.has(entry))) foreign.push(entry);
    }
  };
  walk('');
  return foreign;
}

/** Undoes what an interrupted render left: the old site put back, half-built sites of dead renders removed. */
export function recoverSite(paths: SitePaths): void {
  const parent = path.dirname(paths.dir);
  const stem = asideStem(path.basename(paths.dir));
  const exists = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;
  // The old site aside is a site of ours (its marker, or emptied by the swap), or not ours to touch.
  if (exists(paths.old) && !oldSite(paths.old))
    throw new BadArguments(
      `--out ${paths.dir}: ${paths.old} is in the way (book render puts the old site there while it swaps in the new one) and holds what book render did not write; move it away`,
    );
  if (!exists(paths.dir) && exists(paths.old)) renameSync(paths.old, paths.dir);
  const building = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.book-new-(\\d+)$`);
  for (const entry of readdirSync(parent)) {
    const match = building.exec(entry);
    if (!match || alive(Number(match[1]))) continue;
    const abandoned = path.join(parent, entry);
    if (!holdsMarker(abandoned, BUILDING_MARKER)) continue;
    // Entries of the reader's carried in before the interruption go back first.
    carryBack(abandoned, paths.dir);
    rmSync(abandoned, { recursive: true, force: true });
  }
  // Both there: the swap was done, only the old site's removal was cut short.
  if (exists(paths.old) && exists(paths.dir)) rmSync(paths.old, { recursive: true, force: true });
}

/**
 * A folder (not a link) that a swap put aside: the previous site, or the reader's folder after its
 * entries were carried out. Nothing in it but what the renderer wrote: a folder of the reader's
 * under that name (a copied site with notes added) is never removed, marker or not.
 */
function oldSite(dir: string): boolean {
  if (!lstatSync(dir).isDirectory()) return false;
  if (readdirSync(dir).length === 0) return true;
  return holdsMarker(dir, SITE_MARKER) && foreignEntries(dir).length === 0;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The journal of entries carried from the old site into a new one, so an interruption can put them back. */
const CARRIED = '.book-carried.json';

function carried(dir: string): string[] {
  try {
    return JSON.parse(readFileSync(path.join(dir, CARRIED), 'utf8')) as string[];
  } catch {
    return [];
  }
}

/** Puts the reader's entries carried into `from` back into `to` (where they are not already). */
function carryBack(from: string, to: string): void {
  for (const entry of carried(from)) {
    const source = path.join(from, entry);
    const target = path.join(to, entry);
    if (!lstatSync(source, { throwIfNoEntry: false }) || lstatSync(target, { throwIfNoEntry: false })) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    renameSync(source, target);
  }
}

/**
 * Refuses an --out folder that holds entries the renderer did not write (unless `force`), and one
 * whose entries would collide with the site's own files even then. Returns what is to be carried.
 */
export function checkSiteFolder(flag: string, dir: string, siteFiles: string[], force: boolean): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  const foreign = foreignEntries(dir);
  if (foreign.length === 0) return [];
  const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
  if (!force)
    throw new BadArguments(
      `${flag} ${dir}: holds files book render did not write (${shown}), and book never deletes a file of yours; choose an empty or new folder, or pass --force to render there and keep them beside the site`,
    );
  const ours = new Set([...siteFiles, SITE_MARKER, CARRIED]);
  const clash = foreign.filter((f) => ours.has(f) || [...ours].some((o) => o.startsWith(`${f}/`)));
  if (clash.length > 0)
    throw new BadArguments(
      `${flag} ${dir}: ${clash.join(', ')} ${clash.length === 1 ? 'is' : 'are'} yours, and the site writes the same name; move ${clash.length === 1 ? 'it' : 'them'} first`,
    );
  return foreign;
}

/**
 * Swaps the built site in: the reader's entries carried across first (journalled), then the old
 * site renamed aside, the new one renamed into place, the old one removed. Interrupted anywhere,
 * recoverSite() puts the previous state back.
 */
export function installSite(paths: SitePaths, carry: string[]): void {
  const before = lstatSync(paths.dir, { throwIfNoEntry: false });
  const hadOld = before !== undefined;
  try {
    if (carry.length > 0) {
      renameJournal(paths.building, carry);
      for (const entry of carry) {
        const target = path.join(paths.building, entry);
        mkdirSync(path.dirname(target), { recursive: true });
        renameSync(path.join(paths.dir, entry), target);
      }
    }
    // The folder the reader had keeps its mode and owner: a private folder stays private.
    if (before) keepModeAndOwner(paths.building, before);
    if (hadOld) renameSync(paths.dir, paths.old);
    renameSync(paths.building, paths.dir);
  } catch (error) {
    // A rename refused (a mount point among the reader's entries, say): everything back as it was.
    if (hadOld && !lstatSync(paths.dir, { throwIfNoEntry: false })) renameSync(paths.old, paths.dir);
    carryBack(paths.building, paths.dir);
    throw error;
  }
  rmSync(path.join(paths.dir, CARRIED), { force: true });
  rmSync(path.join(paths.dir, BUILDING_MARKER), { force: true });
  if (hadOld) rmSync(paths.old, { recursive: true, force: true });
}

function keepModeAndOwner(dir: string, was: { mode: number; uid: number; gid: number }): void {
  chmodSync(dir, was.mode & 0o7777);
  try {
    chownSync(dir, was.uid, was.gid);
  } catch {
    // Not root: the folder stays this user's, as any folder the user makes.
  }
}

/** A build abandoned (interrupted, a write failed): removed, the previous site untouched. */
export function discardBuild(paths: SitePaths): void {
  if (holdsMarker(paths.building, BUILDING_MARKER)) rmSync(paths.building, { recursive: true, force: true });
}

function renameJournal(building: string, carry: string[]): void {
  const file = path.join(building, CARRIED);
  const temp = `${file}.tmp`;
  // Small and rewritten whole: a torn journal would lose track of the reader's files.
  writeFileSync(temp, JSON.stringify(carry));
  renameSync(temp, file);
}

import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DaemonStatus } from '../machine.js';
import { LOG_LINES, type MachineFiles } from './machine-files.js';
import { addItem, compact } from './normalise.js';

/**
 * The same answers as machineFilesScript and Machine.daemons(), read with node:fs: on the local
 * target the machine's files are this host's, and a snapshot after every block then costs no
 * process at all (the scripts remain for ssh and vagrant).
 *
 * Synchronous on purpose: a few dozen small files (manifests, pid files, /proc, log tails) read in
 * well under a millisecond, while each asynchronous call waits ~0.25 ms for libuv's thread pool
 * on this box, and the snapshot after every block was paying that a dozen times over.
 */

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

// existsSync first: a missing folder (a machine not up yet) is common, and a thrown ENOENT costs
// more than the read.
const visible = (dir: string) => (existsSync(dir) ? readOr(() => readdirSync(dir), [] as string[]) : []).filter((f) => !f.startsWith('.')).sort();

/**
 * A regular file's fd, or undefined: a FIFO or a device named like a pid file, a log or a daemon's
 * record would block the read (and the runner with it) or never end. Opened without blocking (never
 * as a controlling terminal), then checked.
 */
function openRegular(file: string): number | undefined {
  const fd = readOr<number | undefined>(() => openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY), undefined);
  if (fd === undefined) return undefined;
  if (readOr(() => fstatSync(fd).isFile(), false)) return fd;
  closeSync(fd);
  return undefined;
}

/** A regular file's text, or '' (absent, unreadable, not a regular file). */
function regularText(file: string): string {
  const fd = openRegular(file);
  if (fd === undefined) return '';
  try {
    return readOr(() => readFileSync(fd, 'utf8'), '');
  } finally {
    closeSync(fd);
  }
}

function running(pid: number | null): boolean {
  if (!pid) return false;
  const text = readOr<string | undefined>(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), undefined);
  return text !== undefined && !text.includes(') Z ');
}

function pidIn(file: string): number | null {
  const text = regularText(file);
  const digits = (text.split('\n')[0] ?? '').replace(/[^0-9]/g, '');
  return digits ? Number(digits) : null;
}

/** The last lines of a log, reading only its end. */
function tail(file: string, lines: number): string[] {
  const fd = openRegular(file);
  if (fd === undefined) return [];
  try {
    const { size } = fstatSync(fd);
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all
      .slice(-lines)
      .filter((line) => line !== '')
      .map((line) => line.replace(/\r/g, '').slice(0, 400));
  } finally {
    closeSync(fd);
  }
}

export async function readMachineFilesNative(runtimeDir: string, manifestsDir: string): Promise<MachineFiles> {
  const out: MachineFiles = { manifests: {}, provisioned: [], logs: {} };
  for (const name of visible(manifestsDir)) {
    const file = path.join(manifestsDir, name);
    const info = readOr(() => statSync(file), undefined);
    if (!info?.isFile()) continue;
    const data = readOr<Buffer | undefined>(() => readFileSync(file), undefined);
    if (!data) continue;
    const sha256 = createHash('sha256').update(data).digest('hex').slice(0, 12);
    addItem(out.manifests, `manifest ${name}`, compact({ size: String(info.size), sha256 }));
  }
  for (const name of visible(runtimeDir).filter((f) => f.endsWith('.pid'))) {
    const pid = pidIn(path.join(runtimeDir, name));
    out.provisioned.push({ name: name.slice(0, -4), pid, running: running(pid) });
  }
  for (const dir of [path.join(runtimeDir, 'daemons'), path.join(runtimeDir, 'logs')]) {
    for (const name of visible(dir).filter((f) => f.endsWith('.log'))) out.logs[name.slice(0, -4)] = tail(path.join(dir, name), LOG_LINES);
  }
  return out;
}

export async function readDaemonsNative(runtimeDir: string): Promise<DaemonStatus[]> {
  const dir = path.join(runtimeDir, 'daemons');
  const statuses: DaemonStatus[] = [];
  for (const file of visible(dir).filter((f) => f.endsWith('.json'))) {
    const name = file.slice(0, -5);
    const text = regularText(path.join(dir, file)) || '{}';
    const record = readOr(() => JSON.parse(text), {}) as { argv?: string[]; restarts?: number; startedAt?: string };
    const pid = pidIn(path.join(dir, `${name}.pid`));
    statuses.push({ name, argv: record.argv ?? [], pid, running: running(pid), restarts: record.restarts ?? 0, startedAt: record.startedAt ?? null });
  }
  return statuses;
}

import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DaemonStatus } from '../machine.js';
import { LOG_LINES, type MachineFiles } from './machine-files.js';
import { addItem, compact } from './normalise.js';

/**
 * The same answers as machineFilesScript and Machine.daemons(), read with node:fs: on the local
 * target the machine's files are this host's, and a snapshot after every block then costs no
 * process at all (the scripts remain for ssh and vagrant).
 */

const visible = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.startsWith('.')).sort();

async function running(pid: number | null): Promise<boolean> {
  if (!pid) return false;
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text !== undefined && !text.includes(') Z ');
}

async function pidIn(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const digits = (text.split('\n')[0] ?? '').replace(/[^0-9]/g, '');
  return digits ? Number(digits) : null;
}

/** The last lines of a log, reading only its end. */
async function tail(file: string, lines: number): Promise<string[]> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 16 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all
      .slice(-lines)
      .filter((line) => line !== '')
      .map((line) => line.replace(/\r/g, '').slice(0, 400));
  } finally {
    await handle.close();
  }
}

export async function readMachineFilesNative(runtimeDir: string, manifestsDir: string): Promise<MachineFiles> {
  const out: MachineFiles = { manifests: {}, provisioned: [], logs: {} };
  for (const name of await visible(manifestsDir)) {
    const file = path.join(manifestsDir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    const sha256 = createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
      .slice(0, 12);
    addItem(out.manifests, `manifest ${name}`, compact({ size: String(info.size), sha256 }));
  }
  for (const name of (await visible(runtimeDir)).filter((f) => f.endsWith('.pid'))) {
    const pid = await pidIn(path.join(runtimeDir, name));
    out.provisioned.push({ name: name.slice(0, -4), pid, running: await running(pid) });
  }
  for (const dir of [path.join(runtimeDir, 'daemons'), path.join(runtimeDir, 'logs')]) {
    for (const name of (await visible(dir)).filter((f) => f.endsWith('.log'))) out.logs[name.slice(0, -4)] = await tail(path.join(dir, name), LOG_LINES);
  }
  return out;
}

export async function readDaemonsNative(runtimeDir: string): Promise<DaemonStatus[]> {
  const dir = path.join(runtimeDir, 'daemons');
  const statuses: DaemonStatus[] = [];
  for (const file of (await visible(dir)).filter((f) => f.endsWith('.json'))) {
    const name = file.slice(0, -5);
    const record = JSON.parse(await readFile(path.join(dir, file), 'utf8').catch(() => '{}')) as { argv?: string[]; restarts?: number; startedAt?: string };
    const pid = await pidIn(path.join(dir, `${name}.pid`));
    statuses.push({ name, argv: record.argv ?? [], pid, running: await running(pid), restarts: record.restarts ?? 0, startedAt: record.startedAt ?? null });
  }
  return statuses;
}

import { hostname } from 'node:os';
import type { Target } from './targets/target.js';
import { shellQuote } from './targets/target.js';

export class MachineBusy extends Error {
  readonly code = 'MACHINE_BUSY';
  constructor(
    readonly holder: { pid: number; host: string; since: string },
    file: string,
  ) {
    super(`another book run (pid ${holder.pid} on ${holder.host}, since ${holder.since}) is using this machine; wait for it or stop it (lock: ${file})`);
    this.name = 'MachineBusy';
  }
}

export interface MachineLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One `book run` per machine: a lock file ON the machine, created atomically (noclobber). A lock
 * left by a runner that died (kill -9) on this host is taken over; one held by a live runner, or by
 * one on another host, is refused.
 */
export async function lockMachine(target: Target): Promise<MachineLock> {
  const file = `${target.runtimeDir}/book-run.lock`;
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  const tryTake = async () => {
    const script = `mkdir -p ${shellQuote(target.runtimeDir)}; if ( set -C; printf '%s\\n' ${shellQuote(mine)} > ${shellQuote(file)} ) 2>/dev/null; then echo TAKEN; else cat ${shellQuote(file)}; fi`;
    return (await target.exec(script)).stdout.trim();
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const answer = await tryTake();
    if (answer === 'TAKEN') {
      return {
        release: async () => {
          await target.exec(`[ "$(cat ${shellQuote(file)} 2>/dev/null)" = ${shellQuote(mine)} ] && rm -f ${shellQuote(file)}; true`);
        },
      };
    }
    let holder: { pid: number; host: string; since: string };
    try {
      holder = JSON.parse(answer) as typeof holder;
    } catch {
      holder = { pid: 0, host: 'unknown', since: 'unknown' };
    }
    const stale = holder.host === hostname() && !alive(holder.pid);
    if (!stale) throw new MachineBusy(holder, file);
    // Its runner is gone (killed): the lock protects nothing.
    await target.exec(`rm -f ${shellQuote(file)}`);
  }
  throw new MachineBusy({ pid: 0, host: 'unknown', since: 'unknown' }, file);
}

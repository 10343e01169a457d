import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

export const canUseNetns = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/sbin/ip');

/** A sealed network namespace of the test's own: loopback up, no route anywhere else. */
export function createNetns(name: string): { name: string; remove: () => void } {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // did not exist
  }
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('nsenter', [`--net=/var/run/netns/${name}`, '--', 'ip', 'link', 'set', 'lo', 'up']);
  return {
    name,
    remove: () => {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
}

/**
 * A test's own machine: a sealed namespace and a runtime folder, made before the tests and
 * removed after them with every daemon the tests started there (as `book machine down` stops them).
 */
export function testMachine(netns: string, runtimeDir: string): { setUp: () => void; tearDown: () => void } {
  let ns: { remove: () => void } | undefined;
  return {
    setUp: () => {
      ns = createNetns(netns);
    },
    tearDown: () => {
      try {
        execFileSync('bash', ['-c', `for p in ${runtimeDir}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
      } catch {}
      ns?.remove();
      rmSync(runtimeDir, { recursive: true, force: true });
    },
  };
}

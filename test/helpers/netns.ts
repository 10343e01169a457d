import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const canRunSshd = process.getuid?.() === 0 && existsSync(SSHD);

export interface Sshd {
  port: number;
  key: string;
  /** The host key's fingerprint, `SHA256:…`, as ssh-keygen -lf prints it. */
  hostKey: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A real OpenSSH server on 127.0.0.1 with throwaway host and client keys, for root only. */
/**
 * `privateDirs`: folders the sessions see as empty tmpfs mounts of their own (sshd runs in a mount
 * namespace of its own), so a script that deletes the cluster's files cannot touch this host's.
 */
export async function startSshd(options: { port?: number; privateDirs?: string[] } = {}): Promise<Sshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'book-sshd-'));
  const port = options.port ?? (await freePort());
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/host_key`]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/client_key`]);
  writeFileSync(`${dir}/authorized_keys`, readFileSync(`${dir}/client_key.pub`), { mode: 0o600 });
  mkdirSync('/run/sshd', { recursive: true });
  writeFileSync(
    `${dir}/sshd_config`,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      'LogLevel ERROR',
    ].join('\n'),
  );
  const sshd = [SSHD, '-D', '-e', '-f', `${dir}/sshd_config`];
  const privateDirs = options.privateDirs ?? [];
  // The mount points this helper made on the host (mkdirSync returns the first folder it created):
  // removed at stop, so a test run leaves no empty /run/book-… folders behind.
  const made = privateDirs.flatMap((d) => {
    const first = mkdirSync(d, { recursive: true });
    return first ? [{ first, last: d }] : [];
  });
  const child: ChildProcess = privateDirs.length
    ? spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '--',
          'bash',
          '-c',
          // $1 is sshd's command line, the rest the folders: shift, mount each, exec sshd.
          'cmd=$1; shift; for d; do mount -t tmpfs book-test "$d"; done; exec $cmd',
          'sshd',
          sshd.join(' '),
          ...privateDirs,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      )
    : spawn(sshd[0] as string, sshd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const fingerprint = /SHA256:\S+/.exec(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${dir}/host_key.pub`]).toString())?.[0] ?? '';
  return {
    port,
    key: `${dir}/client_key`,
    hostKey: fingerprint,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
      rmSync(dir, { recursive: true, force: true });
      for (const { first, last } of made.reverse()) removeEmptyUpTo(last, first);
    },
  };
}

/** rmdir `dir` and its parents up to `top`, each only while empty (anything written there stays). */
function removeEmptyUpTo(dir: string, top: string): void {
  for (let d = dir; d.startsWith(top); d = path.dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

// Host keys of the ssh target against a real sshd (issue 16): learned once into known_hosts
// (accept-new), a changed key refused with what to do, a key pinned in book.yaml checked instead.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SshTarget } from '../../src/runner/targets/ssh.js';
import { HostKeyRefused } from '../../src/runner/targets/target.js';
import { writeBook } from '../helpers/book.js';
import { BOOK_BIN } from '../helpers/runtimes.js';
import { canRunSshd, type Sshd, startSshd } from '../helpers/sshd.js';

const running: Sshd[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function sshd(port?: number): Promise<Sshd> {
  const s = await startSshd(port === undefined ? {} : { port });
  running.push(s);
  return s;
}

const knownHostsFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'book-kh-')), 'ssh', 'known_hosts');

function target(server: Sshd, options: { knownHosts?: string; hostKey?: string; key?: string }) {
  return new SshTarget({
    name: 'ssh',
    host: '127.0.0.1',
    port: server.port,
    user: 'root',
    key: options.key ?? server.key,
    runtimeDir: '/run/book-kh',
    dockerSocket: '/run/book-kh/docker.sock',
    env: {},
    knownHosts: options.knownHosts,
    hostKey: options.hostKey,
  });
}

async function connects(t: SshTarget): Promise<true | Error> {
  try {
    await t.connect();
    return true;
  } catch (error) {
    return error as Error;
  } finally {
    await t.close();
  }
}

describe.skipIf(!canRunSshd)('ssh host keys against a real sshd', () => {
  it('learns a new host once (0600), connects again, and refuses the same host with a changed key', async () => {
    const file = knownHostsFile();
    const first = await sshd();
    expect(await connects(target(first, { knownHosts: file }))).toBe(true);
    const learned = readFileSync(file, 'utf8');
    expect(learned).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${first.port} ssh-ed25519 \\S+\\n$`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await connects(target(first, { knownHosts: file }))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(learned);

    // The host is "reinstalled": the same address and port, a new host key.
    const { port, key } = first;
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const reinstalled = await sshd(port);
    const refused = await connects(target(reinstalled, { knownHosts: file, key: reinstalled.key }));
    expect(refused).toBeInstanceOf(HostKeyRefused);
    expect((refused as HostKeyRefused).message).toContain(`the host key of [127.0.0.1]:${port} changed: it is now ${reinstalled.hostKey}`);
    expect((refused as HostKeyRefused).hint).toContain(`ssh-keygen -R '[127.0.0.1]:${port}' -f ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(learned);
    expect(key).not.toBe(reinstalled.key);
  });

  it('checks a pinned key instead of known_hosts, and learns nothing', async () => {
    const file = knownHostsFile();
    const server = await sshd();
    expect(await connects(target(server, { knownHosts: file, hostKey: server.hostKey }))).toBe(true);
    const other = await sshd();
    const refused = await connects(target(server, { knownHosts: file, hostKey: other.hostKey }));
    expect(refused).toBeInstanceOf(HostKeyRefused);
    expect((refused as Error).message).toContain(`is ${server.hostKey}, not the ${other.hostKey} pinned in book.yaml`);
    expect(() => readFileSync(file)).toThrow();
  });

  it('book machine status on a host whose key changed: exit 3, the reason and what to do', async () => {
    const file = knownHostsFile();
    const server = await sshd();
    const dir = writeBook({
      'book.yaml': `target: s\ntargets:\n  s:\n    type: ssh\n    host: 127.0.0.1\n    port: ${server.port}\n    key: ${server.key}\n    runtimeDir: /run/book-kh\n`,
      '01-a.md': '# A\n',
    });
    // known_hosts already holds another key for this host and port.
    const other = await sshd();
    const stale = readFileSync(other.key.replace(/client_key$/, 'host_key.pub'), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `[127.0.0.1]:${server.port} ${stale}\n`);
    const r = spawnSync(process.execPath, [BOOK_BIN, 'machine', 'status', '--book', dir], {
      encoding: 'utf8',
      env: { ...process.env, BOOK_KNOWN_HOSTS: file, CI: 'true', NO_COLOR: '1' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[HOST_KEY_REFUSED\] the host key of \[127\.0\.0\.1\]:\d+ changed/);
    expect(r.stderr).toMatch(/ssh-keygen -R/);
  });
});

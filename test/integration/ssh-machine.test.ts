// `book machine status|down` on an ssh target, against a real sshd (issue 16). The sshd runs in a
// mount namespace of its own with the cluster's folders as empty tmpfs mounts, so machine-down.sh
// deletes the test's files there, never this host's.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshTarget } from '../../src/runner/targets/ssh.js';
import { writeBook } from '../helpers/book.js';
import { BOOK_BIN } from '../helpers/runtimes.js';
import { canRunSshd, type Sshd, startSshd } from '../helpers/sshd.js';

const RUNTIME = `/run/book-ssh-machine-${process.pid}`;
// /run/book-machine too: the local machine's runtime folder, which this host's own cluster uses.
const PRIVATE = ['/etc/kubernetes', '/var/lib/etcd', '/var/lib/kubelet', '/run/book-machine', RUNTIME];

describe.skipIf(!canRunSshd)('book machine status and down on an ssh target (real sshd)', () => {
  let sshd: Sshd;
  let dir: string;
  const book = (args: string[]) => {
    const r = spawnSync(process.execPath, [BOOK_BIN, ...args, '--book', dir], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  /** A command on the host as the ssh sessions see it (inside sshd's mount namespace). */
  const onHost = async (command: string) => {
    const t = new SshTarget({
      name: 'h',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      key: sshd.key,
      runtimeDir: RUNTIME,
      dockerSocket: `${RUNTIME}/docker.sock`,
      env: {},
    });
    try {
      return (await t.exec(command)).stdout.trim();
    } finally {
      await t.close();
    }
  };

  beforeAll(async () => {
    sshd = await startSshd({ privateDirs: PRIVATE });
    dir = writeBook({
      'book.yaml': `target: s\ntargets:\n  s:\n    type: ssh\n    host: 127.0.0.1\n    port: ${sshd.port}\n    key: ${sshd.key}\n    runtimeDir: ${RUNTIME}\n    dockerSocket: ${RUNTIME}/docker.sock\n`,
      '01-a.md':
        "# A\n\n```yaml file=/etc/kubernetes/manifests/web.yaml\nkind: Pod\n```\n\n```ts run name=start\nconst d = await machine.daemon('sleeper', ['sleep', '600'])\nstate.pid = (await d.status()).pid\n```\n",
    });
    const run = book(['run', '--reporter', 'plain']);
    expect(run.code, run.out + run.err).toBe(0);
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('status names the versions, the book’s daemons and Docker, and exits 3 while Docker does not answer', async () => {
    const status = book(['machine', 'status']);
    expect(status.out).toMatch(/^machine: +(up|down) /m);
    expect(status.out).toMatch(/^ {2}kubelet +\S/m);
    expect(status.out).toMatch(/^ {2}sleeper +running +pid \d+$/m);
    const up = /^machine: +up/m.test(status.out);
    expect(status.code, status.out + status.err).toBe(up ? 0 : 3);
    if (!up) expect(status.out).toContain(`not answering on ${RUNTIME}/docker.sock`);
  });

  it('down stops the book’s daemons and deletes the cluster’s files; status then lists none', async () => {
    const pid = await onHost(`cat ${RUNTIME}/daemons/sleeper.pid`);
    expect(await onHost(`kill -0 ${pid} && echo alive`)).toBe('alive');
    const down = book(['machine', 'down']);
    expect(down.code, down.out + down.err).toBe(0);
    expect(down.out).toMatch(/stopping sleeper/);
    expect(await onHost(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`)).toBe('gone');
    // Here those folders are mount points (the test's tmpfs): emptied, not removed.
    expect(down.out).toMatch(/emptying \/etc\/kubernetes/);
    expect(await onHost('find /etc/kubernetes /var/lib/kubelet -mindepth 1 | wc -l')).toBe('0');
    expect(await onHost(`find ${RUNTIME} -mindepth 1 | wc -l`)).toBe('0');
    expect(book(['machine', 'status']).out).toMatch(/daemons \(started by the book.*\):\n {2}none/);
  });
});

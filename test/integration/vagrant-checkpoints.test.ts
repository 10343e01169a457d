import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBook } from '../helpers/book.js';
import { canRunSshd, type Sshd, startSshd } from '../helpers/sshd.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const FAKES = path.join(import.meta.dirname, '..', 'fakes');
const RUNTIME = `/run/book-vagrant-${process.pid}`;

/**
 * The vagrant target's checkpoints: a VM snapshot per chapter, restored instead of refusing on
 * drift. VirtualBox cannot run here, so `vagrant` is test/fakes/vagrant (a named fake); the
 * machine behind it is real: an OpenSSH server on loopback.
 */
describe.skipIf(!canRunSshd)('vagrant snapshots with checkpoints (fake vagrant, real sshd)', () => {
  let sshd: Sshd;
  const log = `/tmp/book-fake-vagrant-${process.pid}.log`;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    spawnSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
    await sshd?.stop();
    rmSync(RUNTIME, { recursive: true, force: true });
    rmSync(log, { force: true });
  });

  /** A book on the fake-vagrant target `vm`, and the environment that puts the fake first on PATH. */
  const vagrantBook = (chapters: Record<string, string>) => {
    const dir = writeBook({ 'book.yaml': `title: V\ntarget: vm\ntargets:\n  vm:\n    type: vagrant\n    dir: vm\n    runtimeDir: ${RUNTIME}\n`, ...chapters });
    mkdirSync(path.join(dir, '..', 'vm'));
    return dir;
  };
  const fakeEnv = (extra: Record<string, string>) => ({
    ...process.env,
    CI: 'true',
    PATH: `${FAKES}:${process.env.PATH}`,
    FAKE_VAGRANT_PORT: String(sshd.port),
    FAKE_VAGRANT_KEY: sshd.key,
    FAKE_VAGRANT_LOG: log,
    ...extra,
  });

  it('saves a VM snapshot with each checkpoint and restores it when the machine drifted', () => {
    const dir = vagrantBook({
      '01-one.md': "# One\n\n```ts run\nawait machine.daemon('keeper', ['sleep', '901'])\nstate.ok = true\n```\n",
      '02-two.md': '# Two\n\n```ts run\nassert.equal(state.ok, true)\n```\n',
    });
    // What restoring the snapshot brings back: the daemon, as the VM had it.
    const restore = `cd ${RUNTIME}/daemons && (setsid bash -c 'echo $$ > keeper.pid; exec sleep 901' >/dev/null 2>&1 < /dev/null &) && sleep 0.3`;
    const env = fakeEnv({ FAKE_VAGRANT_RESTORE: restore });
    const book = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--book', dir], { encoding: 'utf8', env });
    const first = book(['run', '--to', '1']);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(dir, '..', '.book', 'checkpoints', 'vm', '01-one.json'), 'utf8')).body;
    expect(saved.machineSnapshot).toEqual({ type: 'vagrant', name: 'book-01-one' });
    spawnSync('bash', ['-c', `kill -KILL -- -"$(cat ${RUNTIME}/daemons/keeper.pid)"`]);
    const resumed = book(['run', '--from', '2']);
    expect(resumed.stderr).toContain('restoring the VM snapshot book-01-one');
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8');
    expect(calls).toContain('vagrant snapshot save --force book-01-one');
    expect(calls).toContain('vagrant snapshot restore --no-provision book-01-one');
    expect(calls).toContain('vagrant snapshot save --force book-02-two');
  });

  it('names the master VM for its ssh connection, and opens the worker with vagrant ssh k8s-worker', () => {
    const dir = vagrantBook({ '01-one.md': '# One\n\n```sh run\nhostname\n```\n' });
    const args = `/tmp/book-fake-vagrant-args-${process.pid}`;
    const env = fakeEnv({ FAKE_VAGRANT_ARGS: args });
    const book = (a: string[]) => spawnSync(process.execPath, [BIN, ...a, '--book', dir], { encoding: 'utf8', env });
    expect(book(['run']).status).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('vagrant ssh-config k8s-master');
    const shell = spawnSync(
      process.execPath,
      [BIN, 'machine', 'shell', '--book', dir, '--node', 'k8s-worker', '--', 'docker', 'ps', '--format', '{{.ID}} {{.Names}}'],
      { encoding: 'utf8', env },
    );
    expect(shell.status, shell.stderr).toBe(0);
    const [verb, vm, flag, line] = readFileSync(args, 'utf8').split('\n');
    expect([verb, vm, flag]).toEqual(['ssh', 'k8s-worker', '-c']);
    // The line, run as the VM would run it (sudo -i as a stand-in that just runs its command): each argument one word.
    const ran = spawnSync('bash', ['-c', 'sudo() { shift; "$@"; }; docker() { printf "%s|" "$@"; }; export -f docker; eval "$1"', 'fake', line ?? ''], {
      encoding: 'utf8',
    });
    expect(ran.stdout).toBe('ps|--format|{{.ID}} {{.Names}}|');
    rmSync(args, { force: true });
  });
});

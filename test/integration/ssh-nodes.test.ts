import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBook } from '../helpers/book.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
// A named fake `ssh` that prints its argv: nothing is dialled (the real sshd tests cover connections).
const FAKE_SSH = path.join(import.meta.dirname, '..', 'fakes', 'ssh-client');

const bookWith = (target: string) =>
  writeBook({ 'book.yaml': `title: N\ntarget: lab\ntargets:\n  lab:\n${target}`, '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
const shell = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, 'machine', 'shell', '--book', dir, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${FAKE_SSH}:${process.env.PATH}` },
  });

describe('an ssh target with more than one node (book.yaml nodes:)', () => {
  const target =
    '    type: ssh\n    host: 127.0.0.2\n    port: 2201\n    user: root\n    key: /root/.ssh/lab\n    nodes:\n      k8s-worker:\n        host: 127.0.0.3\n        port: 2202\n';

  it("opens the worker's own host, with the target's user and key, each argument one word", () => {
    const r = shell(bookWith(target), '--node', 'k8s-worker', '--', 'docker', 'ps', '--format', '{{.ID}} {{.Names}}');
    expect(r.status, r.stderr).toBe(0);
    const argv = r.stdout.trimEnd().split('\n');
    expect(argv.slice(0, 2)).toEqual(['-p', '2202']);
    expect(argv).toContain('-i');
    expect(argv[argv.indexOf('-i') + 1]).toBe('/root/.ssh/lab');
    expect(argv).toContain('root@127.0.0.3');
    const line = argv.at(-1) ?? '';
    expect(line).toContain('BOOK_NODE=k8s-worker');
    // The remote shell gets one line: run it here with a stand-in docker that shows its words.
    const ran = spawnSync('bash', ['-c', 'docker() { printf "%s|" "$@"; }; eval "$1"', 'remote', line], { encoding: 'utf8' });
    expect(ran.stdout).toBe('ps|--format|{{.ID}} {{.Names}}|');
  });

  it('names the nodes it has when asked for another, and refuses bad nodes: before anything runs', () => {
    const unknown = shell(bookWith(target), '--node', 'k8s-other', '--', 'true');
    // A node the book does not have is the command line's mistake: exit 2, as any bad argument.
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('ARGUMENTS_INVALID');
    expect(unknown.stderr).toContain('has no node named "k8s-other"');
    expect(unknown.stderr).toContain('k8s-master, k8s-worker');
    const noHost = shell(bookWith('    type: ssh\n    host: 127.0.0.2\n    nodes:\n      k8s-worker: { port: 22 }\n'), '--node', 'k8s-worker');
    expect(noHost.status).toBe(2);
    expect(noHost.stderr).toMatch(/book\.yaml:\d+: targets\.\w+\.nodes\.k8s-worker\.host is missing/);
    const master = shell(bookWith('    type: ssh\n    host: 127.0.0.2\n    nodes:\n      k8s-master: { host: 127.0.0.4 }\n'), '--node', 'k8s-worker');
    expect(master.status).toBe(2);
    expect(master.stderr).toContain('k8s-master is the target itself');
  });
});

// Blocks on a second node (docs/two-nodes.md): `node=` on sh and file blocks, `nodes['NAME']` in
// ts blocks, recorded under nodes.NAME.… and replayed. Each node is its own real sshd on
// 127.0.0.1 with its own client key (a worker block that reached the master's sshd would fail to
// sign in); both serve this host, so blocks tell the nodes apart by KUBECONFIG, set per node.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_KUBECONFIG } from '../../src/runner/targets/nodes.js';
import { writeBook } from '../helpers/book.js';
import { canRunSshd, type Sshd, startSshd } from '../helpers/sshd.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const OUT = `/tmp/book-nodes-${process.pid}`;
const RUNTIME = `/run/book-nodes-it-${process.pid}`;
const book = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '' } });

describe.skipIf(!canRunSshd)('blocks on another node (node=, nodes[...]), each node its own real sshd', () => {
  let sshd: Sshd;
  let workerSshd: Sshd;
  let yaml: string;
  beforeAll(async () => {
    sshd = await startSshd();
    workerSshd = await startSshd();
    yaml = `title: Nodes
kubeconfig: /etc/kubernetes/admin.kubeconfig
target: lab
targets:
  lab:
    type: ssh
    host: 127.0.0.1
    port: ${sshd.port}
    user: root
    key: ${sshd.key}
    runtimeDir: ${RUNTIME}
    dockerSocket: /nonexistent/docker.sock
    nodes:
      k8s-worker:
        host: 127.0.0.1
        port: ${workerSshd.port}
        key: ${workerSshd.key}
`;
  });
  afterAll(async () => {
    await sshd?.stop();
    await workerSshd?.stop();
    rmSync(OUT, { recursive: true, force: true });
    rmSync(RUNTIME, { recursive: true, force: true });
  });

  it('runs sh, file and ts blocks on the node they name, records their calls by node, and replays them', () => {
    const dir = writeBook({
      'book.yaml': yaml,
      '01-two.md': `# Two nodes

\`\`\`sh run name=on-master
mkdir -p ${OUT} && echo "$KUBECONFIG" > ${OUT}/master.txt
\`\`\`

\`\`\`sh run node=k8s-worker name=on-worker
echo "$KUBECONFIG" > ${OUT}/worker.txt
\`\`\`

\`\`\`text file=${OUT}/written-on-worker.txt node=k8s-worker name=worker-file
a file block on the worker
\`\`\`

\`\`\`ts run name=ts-nodes
const worker = nodes['k8s-worker']
assert.equal(worker.name, 'k8s-worker')
assert.equal(String(await worker.$\`echo $KUBECONFIG\`).trim(), '${NODE_KUBECONFIG}')
await worker.machine.writeFile('${OUT}/from-ts.txt', 'by machine.writeFile')
assert.equal(await nodes['k8s-master'].machine.readFile('${OUT}/from-ts.txt'), 'by machine.writeFile')
assert.deepEqual(Object.keys(nodes).sort(), ['k8s-master', 'k8s-worker'])
assert.throws(() => nodes['k8s-nope'], /no node named "k8s-nope" on this target: its nodes are k8s-master, k8s-worker/)
\`\`\`
`,
    });
    const transcript = path.join(OUT, 'transcript.json');
    const run = book('run', '--book', dir, '--reporter', 'plain', '--record', '--transcript', transcript);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(readFileSync(`${OUT}/master.txt`, 'utf8').trim()).toBe('/etc/kubernetes/admin.kubeconfig');
    expect(readFileSync(`${OUT}/worker.txt`, 'utf8').trim()).toBe(NODE_KUBECONFIG);
    expect(readFileSync(`${OUT}/written-on-worker.txt`, 'utf8')).toBe('a file block on the worker\n');
    const recorded = JSON.parse(readFileSync(transcript, 'utf8'));
    expect(recorded.target.nodes).toEqual([{ name: 'k8s-worker', runtimeDir: RUNTIME, dockerSocket: '/nonexistent/docker.sock' }]);
    const paths = (id: string) => recorded.chapters[0].blocks.find((b: { id: string }) => b.id === id).calls.map((c: { path: string }) => c.path) as string[];
    expect(paths('on-master')).toEqual(['exec']);
    expect(paths('on-worker')).toEqual(['nodes.k8s-worker.exec']);
    expect(paths('worker-file')).toEqual(['nodes.k8s-worker.writeFile']);
    expect(paths('ts-nodes')).toEqual(['nodes.k8s-worker.exec', 'nodes.k8s-worker.writeFile', 'readFile']);
    rmSync(`${OUT}/worker.txt`);
    const replay = book('replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain');
    expect(replay.status, `${replay.stdout}\n${replay.stderr}`).toBe(0);
    expect(replay.stdout).toMatch(/4 passed, 0 failed/);
    expect(existsSync(`${OUT}/worker.txt`), 'a replay touches no machine').toBe(false);
  });

  it('refuses a node= the target does not have, naming the line, before any block runs', () => {
    const dir = writeBook({
      'book.yaml': yaml,
      '01-bad.md': `# Bad

\`\`\`sh run name=first
mkdir -p ${OUT} && touch ${OUT}/must-not-exist
\`\`\`

\`\`\`sh run node=k8s-wroker
true
\`\`\`
`,
    });
    const run = book('run', '--book', dir, '--reporter', 'plain');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('01-bad.md:7');
    expect(run.stderr).toContain('node=k8s-wroker: this target has no such node');
    expect(run.stderr).toContain('its nodes are k8s-master, k8s-worker');
    expect(existsSync(`${OUT}/must-not-exist`)).toBe(false);
  });

  it('runs a block that only mentions nodes when a node is down, and says why where one is used', () => {
    // The worker's port has no sshd (the master's yaml with a port nobody listens on).
    const down = yaml.replace(`port: ${workerSshd.port}`, 'port: 1');
    const dir = writeBook({
      'book.yaml': down,
      '01-down.md': `# Down

\`\`\`ts run name=a-variable
const nodes = ['a', 'b']
assert.equal(nodes.length, 2)
\`\`\`
`,
      // Another chapter: the first one's own \`nodes\` shadows the global for the rest of it.
      '02-use.md': `# Use

\`\`\`ts run name=uses-the-worker
await nodes['k8s-worker'].$\`true\`
\`\`\`
`,
    });
    const run = book('run', '--book', dir, '--reporter', 'plain');
    expect(run.status, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/✓ a-variable/);
    expect(run.stdout).toMatch(/✗ uses-the-worker/);
    expect(run.stdout).toContain('node k8s-worker is not reachable:');
  });

  it('refuses node= on a ts block at parse time (ts blocks use nodes[...])', () => {
    const dir = writeBook({ 'book.yaml': yaml, '01-ts.md': '# T\n\n```ts run node=k8s-worker\nawait $`true`\n```\n' });
    const run = book('list', '--book', dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('node= applies to sh and file= blocks');
  });
});

// The whole book on the docker target: the nodes are privileged containers on a Docker that stands
// in for the reader's (scripts/reader-docker.sh: a dockerd of the test's own in a sealed network
// namespace, its own socket and data root), reached only through that Docker's API. Then the
// cluster is checked as a reader would check any cluster, a second book's machine comes up beside
// the first, and `down` must leave the host and the reader's Docker as they were.
//
// Needs root on Linux and Docker >= 23 at /usr/sbin/dockerd; a cold cache builds Kubernetes and
// the node image (tens of minutes).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveVersions } from '../../src/runner/versions.js';
import { clusterChecks } from '../helpers/cluster-checks.js';
import { bookCommand } from '../helpers/runtimes.js';
import { type Finished, runAsync } from '../helpers/spawn.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(root, 'bin', 'book.js');
const READER = path.join(root, 'scripts', 'reader-docker.sh');
const MIN = 60_000;
const NAME = 'book-e2e-reader';
const DOCKER_HOST = `unix:///run/${NAME}/docker.sock`;
const env = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline', DOCKER_HOST };
const versions = resolveVersions(path.join(root, 'vagrant', 'versions.sh'), process.env.K8S_VERSION || undefined);
const skip = process.platform !== 'linux' || process.getuid?.() !== 0;

function book(args: string[], timeout = 20 * MIN): Promise<Finished> {
  return runAsync(process.execPath, [BIN, ...args], { cwd: root, env, timeout });
}

const shellOn =
  (node?: string) =>
  async (command: string): Promise<Finished> => {
    const r = await book(['machine', 'shell', '--target', 'docker', ...(node ? ['--node', node] : []), '--', command], MIN);
    return { code: r.code, stdout: r.stdout.trim(), stderr: r.stderr };
  };
const onMachine = shellOn();
const onWorker = shellOn('k8s-worker');
const { checkClusterIndependently, checkOwnAccessControl } = clusterChecks(onMachine, onWorker, versions);

const sh = (command: string, extraEnv: NodeJS.ProcessEnv = {}) =>
  spawnSync('bash', ['-c', command], { encoding: 'utf8', env: { ...process.env, ...extraEnv } }).stdout;

/**
 * What a docker machine could leave behind. On the reader's Docker: containers, networks, volumes
 * (the node image is meant to stay). On this host: its links, firewall rules and mounts, and what
 * is in /etc, /usr/local/bin and /var/lib (names, sizes, modes).
 */
function hostState() {
  const docker = (args: string) => sh(`docker ${args}`, { DOCKER_HOST });
  const tree = (dir: string) => sh(`find ${dir} -xdev \\( -type f -o -type d -o -type l \\) -printf '%p %s %m\\n' 2>/dev/null | sort`);
  return {
    containers: docker("ps -a --format '{{.Names}} {{.Image}}'"),
    networks: docker("network ls --format '{{.Name}} {{.Driver}}'"),
    volumes: docker("volume ls --format '{{.Name}}'"),
    links: sh("ip -o link show | awk '{ print $2 }' | sort"),
    iptables: sh("iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'"),
    mounts: sh('findmnt -rn -o TARGET,FSTYPE | sort'),
    etc: tree('/etc'),
    bin: tree('/usr/local/bin'),
    varLib: tree('/var/lib'),
  };
}

/** A second book whose docker machine has a name and subnet of its own, and one chapter. */
function secondBook(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-second-')), 'book');
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, 'book.yaml'),
    'title: A second book\ntarget: docker\ntargets:\n  docker: { type: docker, machine: book-second, subnet: 192.168.57.0/24 }\n',
  );
  writeFileSync(
    path.join(dir, '00-where.md'),
    `# Where am I

\`\`\`ts run name=where
const address = String(await $\`ip -4 -o addr show eth0\`)
assert.match(address, /192\\.168\\.57\\.10\\//)
const other = String(await nodes['k8s-worker'].$\`hostname; ip -4 -o addr show eth0\`)
assert.match(other, /^k8s-worker\\n.*192\\.168\\.57\\.11\\//)
assert.deepEqual(await docker.listContainers(), [])
\`\`\`
`,
  );
  return dir;
}

describe.skipIf(skip)('the whole book on the docker target', () => {
  let before: ReturnType<typeof hostState> | undefined;
  const second = secondBook();

  beforeAll(() => {
    // The stand-in needs a Docker >= 23 on this host: provision.sh installs Debian 13's, as the
    // local target's up does (on a fresh machine this file may run before the local e2e).
    if (spawnSync('test', ['-x', '/usr/sbin/dockerd']).status !== 0) {
      const provisioned = spawnSync(
        'bash',
        [path.join(root, 'vagrant', 'provision.sh'), '--source', 'offline', '--daemons', 'none', '--keep-swap', '--no-images'],
        {
          encoding: 'utf8',
          env,
        },
      );
      expect(provisioned.status, provisioned.stderr).toBe(0);
    }
    // A clean stand-in: a run killed before its afterAll (a CI timeout) leaves its Docker's data
    // root, node containers and all, and `up` would bring that old cluster back.
    spawnSync('bash', [READER, 'stop', NAME]);
    const started = spawnSync('bash', [READER, 'start', NAME], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
  });
  afterAll(async () => {
    await book(['machine', 'down', '--book', second]);
    await book(['machine', 'down', '--target', 'docker']);
    spawnSync('bash', [READER, 'stop', NAME]);
  });

  it(
    'target auto picks the reader’s Docker; every chapter passes on nodes that are containers',
    async () => {
      before = hostState();
      const up = await book(['machine', 'up'], 60 * MIN);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stderr).toMatch(/book-minikube up in \d+ ms: k8s-master 192\.168\.56\.10, k8s-worker 192\.168\.56\.11/);
      const run = await book(['run', '--reporter', 'plain']);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/\d+ passed, 0 failed, 0 skipped/);
      await checkClusterIndependently();
      await checkOwnAccessControl();
    },
    80 * MIN,
  );

  it(
    'reaches the nodes only through the Docker API: no route from this host to them, yet shells, files and sockets work',
    async () => {
      // The nodes live in the stand-in Docker's sealed namespace: this host has no way to their addresses.
      expect(sh('ip route get 192.168.56.10 2>&1 || true')).not.toMatch(/dev br-/);
      expect((await onMachine('hostname')).stdout).toBe('k8s-master');
      expect((await onWorker('hostname')).stdout).toBe('k8s-worker');
      const status = await book(['machine', 'status', '--target', 'docker'], MIN);
      expect(status.code, status.stdout).toBe(0);
      expect(status.stdout).toMatch(/k8s-worker: container book-minikube-k8s-worker running/);
    },
    5 * MIN,
  );

  it(
    'a second book’s machine comes up beside the first, with its own names and subnet, and goes down alone (all of it under Deno 2)',
    async () => {
      // The runner under Deno: dockerode's exec streams, the agent's pipes and the image import through Deno's node compatibility.
      const deno = (args: string[], timeout: number) => {
        const command = bookCommand('deno', args);
        return runAsync(command.file, command.args, { cwd: root, env: { ...env, ...command.env }, timeout });
      };
      const up = await deno(['machine', 'up', '--book', second], 10 * MIN);
      expect(up.code, up.stderr).toBe(0);
      const run = await deno(['run', '--book', second, '--reporter', 'plain'], 5 * MIN);
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
      const shell = await deno(['machine', 'shell', '--book', second, '--node', 'k8s-worker', '--', 'hostname'], MIN);
      expect(shell.stdout.trim()).toBe('k8s-worker');
      expect((await deno(['machine', 'down', '--book', second], 5 * MIN)).code).toBe(0);
      expect(sh("docker ps -a --format '{{.Names}}' | sort", { DOCKER_HOST })).toBe('book-minikube-k8s-master\nbook-minikube-k8s-worker\n');
      expect((await onMachine('kubectl get nodes -o name')).stdout).toBe('node/k8s-master\nnode/k8s-worker');
    },
    15 * MIN,
  );

  it('machine down leaves the host and the reader’s Docker as they were (but for the node image)', async () => {
    expect(before).toBeDefined();
    const down = await book(['machine', 'down', '--target', 'docker'], 5 * MIN);
    expect(down.code, down.stderr).toBe(0);
    expect(hostState()).toEqual(before);
    expect(sh("docker images --format '{{.Repository}}'", { DOCKER_HOST })).toContain('build-a-minikube/node');
  });
});

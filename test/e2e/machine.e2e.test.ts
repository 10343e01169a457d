// The local machine for real: provision offline, bring it up (a sealed network namespace with our
// own dockerd + cri-dockerd), check versions and images, then the tutorial's first step — a
// standalone kubelet runs the seed's nginx pod from a static manifest, and the page is fetched
// from inside the namespace; the second node (k8s-worker) with its own namespaces, Docker and
// kubelet, linked to the first by eth0 only — and finally `down` leaves nothing behind.
//
// Needs root on Linux (and, on a cold cache, tens of minutes for the offline build).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { resolveVersions } from '../../src/runner/versions.js';
import { runAsync } from '../helpers/spawn.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const machine = join(root, 'vagrant/local-machine.sh');
// shared/ sits beside the checkout (CI lays a copy there); BOOK_SEED_DIR overrides.
const seedDir =
  process.env.BOOK_SEED_DIR ?? [join(root, '..', 'shared', 'seed'), '/work/shared/seed'].find((d) => existsSync(d)) ?? join(root, '..', 'shared', 'seed');
const seedPod = join(seedDir, 'resources/01-simple-nginx-pod.yml');

const NETNS_FILE = '/var/run/netns/book-minikube';
const DOCKER_HOST = 'unix:///run/book-machine/docker.sock';
const CRI = 'unix:///var/run/cri-dockerd.sock';
const DAEMONS_DIR = '/run/book-machine/daemons';
const WORKER_NETNS_FILE = '/var/run/netns/book-worker';
const WORKER_MNT = '/run/book-nodes/k8s-worker.mnt';
const WORKER_DOCKER = 'unix:///run/book-worker/docker.sock';
const env = { ...process.env, BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline', DOCKER_HOST };

const skipReason =
  process.platform !== 'linux'
    ? `the local machine needs Linux (this is ${process.platform})`
    : process.getuid?.() !== 0
      ? 'the local machine needs root (run the e2e tests as root)'
      : '';

const MIN = 60_000;

function run(cmd: string, args: string[], timeout = 5 * MIN) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const docker = (...args: string[]) => execFileSync('docker', args, { env, encoding: 'utf8' }).trim();
const inNs = (...args: string[]) => run('nsenter', [`--net=${NETNS_FILE}`, ...args], MIN);
const inWorker = (...args: string[]) => run('nsenter', [`--mount=${WORKER_MNT}`, `--net=${WORKER_NETNS_FILE}`, ...args], MIN);
const workerDocker = (...args: string[]) => execFileSync('docker', args, { env: { ...env, DOCKER_HOST: WORKER_DOCKER }, encoding: 'utf8' }).trim();

/** Poll fn until it returns a truthy value or the deadline passes (no fixed sleeps). */
async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The process exists and is not a zombie (a killed child of ours stays one until reaped). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe.skipIf(skipReason !== '')(`local machine (offline)${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let kubeletPid = 0;
  let dockerdPid = 0;
  let downDone = false;

  // From a clean machine: `up` adopts whatever already runs (a book run left cri-dockerd with
  // CNI, say), and this test is about the machine as `up` makes it.
  beforeAll(async () => {
    await runAsync(machine, ['down'], { env, timeout: 5 * MIN });
  }, 6 * MIN);

  afterAll(async () => {
    if (!downDone) await runAsync(machine, ['down'], { env, timeout: 5 * MIN });
  }, 6 * MIN);

  it(
    'comes up (provisioning offline if needed)',
    async () => {
      const r = await runAsync(machine, ['up'], { env, timeout: 90 * MIN });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(existsSync(NETNS_FILE)).toBe(true);
      // the namespace has no route off the box
      expect(inNs('ip', 'route', 'show', 'default').stdout.trim()).toBe('');
      expect(existsSync(WORKER_NETNS_FILE)).toBe(true);
      expect(inWorker('ip', 'route', 'show', 'default').stdout.trim()).toBe('');
      // Each kubelet's root is a shared mount before any kubelet starts: a kubelet that finds it
      // private bind-mounts it at start-up, racing its own pod-resources socket (EXDEV, exit).
      expect(run('findmnt', ['-n', '-o', 'PROPAGATION', '/var/lib/kubelet']).stdout.trim()).toBe('shared');
      expect(inWorker('findmnt', '-n', '-o', 'PROPAGATION', '/var/lib/kubelet').stdout.trim()).toBe('shared');
    },
    90 * MIN,
  );

  it('reports the pinned versions, running daemons and the images', () => {
    const pinned = resolveVersions(join(root, 'vagrant/versions.sh'), process.env.K8S_VERSION || undefined);
    const k8s = pinned.K8S_VERSION;
    // The book's pin (issue 11: the newest minor); another version only when asked for.
    if (process.env.K8S_VERSION) expect(k8s).toBe(process.env.K8S_VERSION);
    else expect(k8s).toMatch(/^v1\.37\.\d+$/);
    const r = run(machine, ['status', '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const s = JSON.parse(r.stdout);
    const why = JSON.stringify(s, null, 1);
    expect(s.up, why).toBe(true);
    expect(s.versions.kubelet).toContain(`Kubernetes ${k8s}`);
    expect(s.versions.kubectl).toContain(`Client Version: ${k8s}`);
    expect(s.versions.etcd).toContain(`etcd Version: ${pinned.ETCD_VERSION.slice(1)}`);
    expect(s.versions['cri-dockerd']).toContain(`cri-dockerd ${pinned.CRI_DOCKERD_VERSION.slice(1)}`);
    expect(s.versions.docker).toMatch(/Docker version (2[3-9]|[3-9]\d)\./);
    const daemons = Object.fromEntries(s.daemons.map((d: { name: string; state: string; pid: number }) => [d.name, d]));
    expect(daemons.dockerd.state, why).toBe('running');
    expect(daemons['cri-dockerd'].state, why).toBe('running');
    dockerdPid = daemons.dockerd.pid;
    for (const img of s.images) expect(img.state, img.ref).toBe('present');
    expect(s.nodes.map((n: { name: string; state: string }) => `${n.name} ${n.state}`)).toEqual(['k8s-master present', 'k8s-worker present']);
    expect(daemons['k8s-worker/dockerd'].state, why).toBe('running');
    expect(daemons['k8s-worker/cri-dockerd'].state, why).toBe('running');
    expect(s.images.map((i: { ref: string }) => i.ref)).toEqual(
      expect.arrayContaining([`registry.k8s.io/kube-apiserver:${k8s}`, pinned.PAUSE_IMAGE, 'nginx:latest']),
    );
    // the server answering on our socket is the machine's own dockerd, API >= 1.42
    const api = docker('version', '-f', '{{.Server.APIVersion}}');
    expect(Number(api.split('.')[1])).toBeGreaterThanOrEqual(42);
  });

  it("refuses a second book's local machine in another netns, up or down, and leaves this one as it was", () => {
    for (const action of ['up', 'down']) {
      const r = spawnSync('bash', [machine, action], {
        encoding: 'utf8',
        env: { ...process.env, BOOK_NETNS: 'book-e2e-other', BOOK_RUNTIME_DIR: '/run/book-e2e-other' },
      });
      expect(r.status, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain(
        `cannot bring the local machine ${action} in netns book-e2e-other: the local machine of netns book-minikube is up on this host`,
      );
      expect(r.stderr).toContain('what to do: one local machine per host');
    }
    expect(existsSync('/var/run/netns/book-e2e-other')).toBe(false);
    expect(run(machine, ['status']).code).toBe(0);
  });

  it(
    'runs the seed nginx pod with a standalone kubelet, reachable inside the namespace',
    async () => {
      // The seed's manifest, with no image ever pulled.
      const pod = YAML.parse(readFileSync(seedPod, 'utf8'));
      for (const c of pod.spec.containers) c.imagePullPolicy = 'IfNotPresent';
      mkdirSync('/etc/kubernetes/manifests', { recursive: true });
      writeFileSync('/etc/kubernetes/manifests/nginx.yaml', YAML.stringify(pod));

      // The tutorial's `kubelet --pod-manifest-path ...`, in the machine, as the runner would start it.
      mkdirSync(DAEMONS_DIR, { recursive: true });
      const log = openSync('/run/book-machine/logs/kubelet.log', 'a');
      const kubelet = spawn(
        'nsenter',
        [
          `--net=${NETNS_FILE}`,
          'kubelet',
          '--pod-manifest-path=/etc/kubernetes/manifests',
          `--container-runtime-endpoint=${CRI}`,
          '--fail-cgroupv1=false',
          '--fail-swap-on=false',
          '--hostname-override=k8s-master',
        ],
        { detached: true, stdio: ['ignore', log, log], env },
      );
      kubeletPid = kubelet.pid ?? 0;
      kubelet.unref();
      expect(kubeletPid).toBeGreaterThan(0);
      writeFileSync(join(DAEMONS_DIR, 'kubelet.pid'), `${kubeletPid}\n`);

      const names = () => docker('ps', '--format', '{{.Names}}').split('\n');
      const pause = await waitFor(
        'the pod sandbox k8s_POD_nginx_… and the container k8s_nginx_…',
        () => {
          if (!alive(kubeletPid)) throw new Error(`kubelet exited: ${readFileSync('/run/book-machine/logs/kubelet.log', 'utf8').slice(-2000)}`);
          const n = names();
          const p = n.find((x) => x.startsWith('k8s_POD_nginx'));
          return p && n.some((x) => x.startsWith('k8s_nginx_')) ? p : undefined;
        },
        3 * MIN,
      );
      // Docker API >= 1.52 has no top-level .NetworkSettings.IPAddress: read the bridge network's.
      const ip = docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', pause);
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const page = await waitFor(
        `http://${ip}/ from inside the namespace`,
        () => {
          const r = inNs('curl', '-s', '--max-time', '3', `http://${ip}/`);
          return r.code === 0 && r.stdout.includes('Welcome to nginx!') ? r.stdout : undefined;
        },
        MIN,
      );
      expect(page).toContain('<h1>Welcome to nginx!</h1>');
    },
    5 * MIN,
  );

  it(
    'has a second node: its own Docker and folders, a kubelet of its own, and eth0 to the master as the only link',
    async () => {
      // Each node's eth0 is one end of the same pair: the master reaches the worker, and nothing else.
      expect(inWorker('ip', '-br', '-4', 'addr', 'show', 'eth0').stdout).toContain('192.168.56.11/24');
      expect(inWorker('ip', '-o', 'link', 'show').stdout).not.toContain('eth0-peer');
      expect(workerDocker('info', '--format', '{{.DockerRootDir}}')).toBe('/var/lib/book-machine/nodes/k8s-worker/docker');
      expect(workerDocker('ps', '-aq')).toBe('');
      workerDocker('run', '-d', '--name', 'link-check', '-p', '8080:80', 'nginx:latest');
      const page = await waitFor(
        "the worker's nginx from the master, over the link",
        () => {
          const r = inNs('curl', '-s', '--max-time', '2', 'http://192.168.56.11:8080/');
          return r.code === 0 && r.stdout.includes('Welcome to nginx!');
        },
        MIN,
      );
      expect(page).toBe(true);
      workerDocker('rm', '-f', 'link-check');
      // Its /etc/kubernetes is its own: what it writes there is not the master's (this host's).
      expect(
        inWorker('bash', '-c', 'mkdir -p /etc/kubernetes/manifests && echo worker > /etc/kubernetes/whoami && cat /etc/kubernetes/whoami').stdout.trim(),
      ).toBe('worker');
      expect(existsSync('/etc/kubernetes/whoami')).toBe(false);
      // A kubelet of its own, under a cgroup root of its own, runs a static pod through the worker's cri-dockerd.
      const pod = YAML.parse(readFileSync(seedPod, 'utf8'));
      for (const c of pod.spec.containers) c.imagePullPolicy = 'IfNotPresent';
      expect(inWorker('bash', '-c', `cat > /etc/kubernetes/manifests/nginx.yaml <<'EOF'\n${YAML.stringify(pod)}EOF`).code).toBe(0);
      mkdirSync('/run/book-worker/daemons', { recursive: true });
      const log = openSync('/run/book-worker/logs/kubelet.log', 'a');
      const kubelet = spawn(
        'nsenter',
        [
          `--mount=${WORKER_MNT}`,
          `--net=${WORKER_NETNS_FILE}`,
          'kubelet',
          '--pod-manifest-path=/etc/kubernetes/manifests',
          '--container-runtime-endpoint=unix:///run/book-worker/cri-dockerd.sock',
          '--cgroup-root=/book-worker',
          '--fail-cgroupv1=false',
          '--fail-swap-on=false',
          '--hostname-override=k8s-worker',
        ],
        { detached: true, stdio: ['ignore', log, log], env },
      );
      kubelet.unref();
      writeFileSync('/run/book-worker/daemons/kubelet.pid', `${kubelet.pid}\n`);
      const names = await waitFor(
        "the worker's static pod: k8s_POD_nginx-k8s-worker_… and k8s_nginx_…",
        () => {
          const n = workerDocker('ps', '--format', '{{.Names}}').split('\n');
          return n.some((x) => x.startsWith('k8s_POD_nginx-k8s-worker')) && n.some((x) => x.startsWith('k8s_nginx_nginx-k8s-worker')) ? n : undefined;
        },
        3 * MIN,
      );
      expect(names.length).toBeGreaterThanOrEqual(2);
      // The master's Docker has none of it.
      expect(docker('ps', '--format', '{{.Names}}')).not.toContain('k8s-worker');
    },
    5 * MIN,
  );

  it(
    'goes down and leaves nothing behind',
    async () => {
      const r = await runAsync(machine, ['down'], { env, timeout: 5 * MIN });
      downDone = true;
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(existsSync(NETNS_FILE)).toBe(false);
      expect(existsSync('/run/book-machine')).toBe(false);
      expect(existsSync('/var/lib/book-machine')).toBe(false);
      expect(existsSync('/etc/kubernetes')).toBe(false);
      expect(existsSync('/var/lib/kubelet')).toBe(false);
      expect(existsSync('/var/run/cri-dockerd.sock')).toBe(false);
      expect(existsSync(WORKER_NETNS_FILE)).toBe(false);
      expect(existsSync('/run/book-nodes')).toBe(false);
      expect(existsSync('/run/book-worker')).toBe(false);
      expect(existsSync('/sys/fs/cgroup/memory/book-worker')).toBe(false);
      if (kubeletPid) expect(alive(kubeletPid)).toBe(false);
      if (dockerdPid) expect(alive(dockerdPid)).toBe(false);
      const mounts = readFileSync('/proc/self/mounts', 'utf8');
      expect(mounts).not.toMatch(/ \/(var\/lib\/kubelet|var\/lib\/book-machine|run\/book-machine|run\/book-nodes|run\/book-worker)[/ ]/);
      const st = run(machine, ['status', '--json']);
      expect(st.code).toBe(3);
      expect(JSON.parse(st.stdout).up).toBe(false);
    },
    6 * MIN,
  );
});

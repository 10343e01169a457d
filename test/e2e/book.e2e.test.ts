// The whole book on the local machine under Deno 2 (conformance.e2e runs it again under Node, the
// docker target's e2e on containers), then the cluster is checked independently of the book's own
// checks: through kubectl and docker on the machine and curl from inside its namespace. Writes a
// timing report to test-results/book-timing.json. The terminal UI and --from run the first
// chapters on fresh machines (a whole run costs ~5 minutes of CI).
//
// Needs root on Linux; provisions offline (a cold cache builds Kubernetes: tens of minutes).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveVersions } from '../../src/runner/versions.js';
import { clusterChecks } from '../helpers/cluster-checks.js';
import { type Runtime, bookCommand as runtimeCommand } from '../helpers/runtimes.js';
import { type Finished, runAsync } from '../helpers/spawn.js';
import { hasTmux, stopTerminals, Terminal } from '../helpers/terminal.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(root, 'bin', 'book.js');
const MIN = 60_000;
const env = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline' };
const versions = resolveVersions(path.join(root, 'vagrant', 'versions.sh'), process.env.K8S_VERSION || undefined);
const skip = process.platform !== 'linux' || process.getuid?.() !== 0;

/** The local target, named: the book's target: auto would pick a Docker daemon where one answers. */
function onLocal(args: string[]): string[] {
  if (args.includes('--target')) return args;
  if (args[0] === 'machine') return [...args.slice(0, 2), '--target', 'local', ...args.slice(2)];
  if (args[0] === 'run' || args[0] === 'checkpoints') return [args[0], '--target', 'local', ...args.slice(1)];
  return args;
}

function book(args: string[], timeout = 20 * MIN, runtime: Runtime = 'node'): Promise<Finished> {
  const command = runtimeCommand(runtime, onLocal(args));
  return runAsync(command.file, command.args, { cwd: root, env: { ...env, ...command.env }, timeout });
}

/** A command inside the machine, as `book machine shell -- CMD` runs it. */
async function onMachine(command: string) {
  const r = await book(['machine', 'shell', '--', command], MIN);
  return { code: r.code, stdout: r.stdout.trim(), stderr: r.stderr };
}

/** The same on the second node: `book machine shell --node k8s-worker -- CMD`. */
async function onWorker(command: string) {
  const r = await book(['machine', 'shell', '--node', 'k8s-worker', '--', command], MIN);
  return { code: r.code, stdout: r.stdout.trim(), stderr: r.stderr };
}

interface JsonEvent {
  type: string;
  block?: string;
  chapter?: string;
  time?: number;
  trueAt?: number;
  lastFalseAt?: number | null;
  status?: string;
  durationMs?: number;
}

const { checkClusterIndependently, checkOwnAccessControl, pollOnMachine } = clusterChecks(onMachine, onWorker, versions);

/** What of the host a machine could leave behind: links, firewall rules (counters aside), mounts. */
function hostState() {
  const sh = (command: string) => spawnSync('bash', ['-c', command], { encoding: 'utf8' }).stdout;
  return {
    links: sh("ip -o link show | awk '{ print $2 }' | sort"),
    iptables: sh("iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'"),
    mounts: sh('findmnt -rn -o TARGET,FSTYPE | sort'),
  };
}

/** Wall time of chapters 1–7, and how long after each wait's condition came true the next block began. */
function timingReport(events: JsonEvent[]) {
  const chapters = events.filter((e) => e.type === 'chapter:end').map((e) => ({ chapter: e.chapter, seconds: (e.durationMs ?? 0) / 1000 }));
  const wall = chapters.filter((c) => c.chapter !== '00-machine').reduce((sum, c) => sum + c.seconds, 0);
  const starts = events.filter((e) => e.type === 'block:start');
  const handoffs: { block?: string; detectMs: number; toNextBlockMs: number }[] = [];
  events.forEach((e, i) => {
    if (e.type !== 'wait' || e.trueAt === undefined) return;
    const laterWaitInBlock = events.slice(i + 1).some((f) => f.type === 'wait' && f.block === e.block);
    if (laterWaitInBlock) return;
    const next = starts.find((s) => (s.time ?? 0) >= (e.trueAt ?? 0) && s.block !== e.block);
    if (!next) return;
    handoffs.push({ block: e.block, detectMs: e.lastFalseAt ? e.trueAt - e.lastFalseAt : 0, toNextBlockMs: (next.time ?? 0) - e.trueAt });
  });
  return { chapters, wallSeconds1to7: Number(wall.toFixed(1)), handoffs };
}

/** The book CLI as a terminal runs it: `node bin/book.js ARGS`. */
const bookCommand = (args: string[]) => `${process.execPath} ${BIN} ${onLocal(args).join(' ')}`;

/** A reader's book of one chapter on this machine: a pod whose image no one ever built. */
function brokenPodBook(pod: string): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-broken-')), 'book');
  mkdirSync(dir);
  copyFileSync(path.join(root, 'book', 'book.yaml'), path.join(dir, 'book.yaml'));
  writeFileSync(
    path.join(dir, '01-broken.md'),
    `# A pod that cannot start

\`\`\`ts run name=wait-for-${pod} timeout=30s
await k8s.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: '${pod}' }, spec: { containers: [{ name: 'app', image: 'never-built:1' }] } } })
await waitFor(async () => (await k8s.core.readNamespacedPod({ name: '${pod}', namespace: 'default' })).status?.phase === 'Running', { message: '${pod} is Running' })
\`\`\`
`,
  );
  return dir;
}

/** What the kubelet and Docker say about an image that is nowhere: the reason a reader needs. */
const PULL_FAILED = /Failed to pull image "never-built:1"|ErrImagePull|ImagePullBackOff/;

describe.skipIf(skip)('the whole book on the local machine', () => {
  let hostBefore: ReturnType<typeof hostState> | undefined;
  afterAll(async () => {
    stopTerminals();
    await book(['machine', 'down'], 5 * MIN);
  });

  it(
    'passes every chapter under Deno 2 from a fresh machine, and reports its timings (the later runs are under Node)',
    async () => {
      await book(['machine', 'down'], 5 * MIN);
      hostBefore = hostState();
      const up = await book(['machine', 'up'], 60 * MIN);
      expect(up.code, up.stderr).toBe(0);
      const run = await book(['run', '--reporter', 'json'], 20 * MIN, 'deno');
      // The run's output is kept whole (test-results/book-run.jsonl), and a failure names its blocks.
      mkdirSync(path.join(root, 'test-results'), { recursive: true });
      writeFileSync(path.join(root, 'test-results', 'book-run.jsonl'), run.stdout);
      const events = run.stdout
        .trim()
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as JsonEvent];
          } catch {
            return [];
          }
        });
      const failures = events.filter((e) => (e.type === 'block:end' && e.status === 'failed') || e.type === 'block:diagnostics');
      expect(run.code, `${JSON.stringify(failures, null, 1).slice(0, 8000)}\n${run.stderr}`).toBe(0);
      expect(run.stderr, 'no warnings for the reader').toBe('');
      expect(events.at(-1), run.stderr).toMatchObject({ type: 'run:end', status: 'passed', failed: 0, skipped: 0 });
      await checkClusterIndependently();
      await checkOwnAccessControl();
      const report = timingReport(events);
      writeFileSync(path.join(root, 'test-results', 'book-timing.json'), `${JSON.stringify(report, null, 2)}\n`);
      console.log(JSON.stringify(report, null, 2));
      expect(report.handoffs.length).toBeGreaterThan(5);
    },
    70 * MIN,
  );

  it(
    'a block waiting for a pod that can never start: plain output, JUnit and the UI say why',
    async () => {
      const plainBook = brokenPodBook('broken-plain');
      const junit = path.join(plainBook, '..', 'junit.xml');
      const run = await book(['run', '--book', plainBook, '--reporter', 'plain', '--junit', junit], 3 * MIN);
      expect(run.code, run.stdout).toBe(1);
      const says = run.stdout.slice(run.stdout.indexOf('what the machine says'));
      expect(says, run.stdout).toMatch(/── Events \(since the block started.*\n(?:\s+.*\n)*?\s+Warning \w+ pod\/default\/broken-plain/);
      expect(says).toMatch(PULL_FAILED);
      expect(run.stdout).toMatch(/timed out after 30s; still waiting for broken-plain is Running \(last value: false\)/);
      const failure = /<failure [^>]*>([^<]*)<\/failure>/.exec(readFileSync(junit, 'utf8'))?.[1] ?? '';
      expect(failure).toMatch(/what the machine says:/);
      expect(failure).toMatch(PULL_FAILED);

      if (hasTmux) {
        const uiBook = brokenPodBook('broken-ui');
        const term = new Terminal(bookCommand(['run', '--book', uiBook]));
        try {
          const asked = await term.waitFor(/\[r\] retry the block · \[q\] quit/, 2 * MIN, 2000);
          expect(asked).toMatch(/✗ wait-for-broken-ui failed; what the machine says:/);
          expect(asked.slice(asked.indexOf('what the machine says'))).toMatch(PULL_FAILED);
          term.keys('q');
          expect(await term.waitFor(/EXIT=\d+/, MIN, 2000)).toMatch(/EXIT=1/);
        } finally {
          term.close();
        }
      }
      await onMachine('kubectl delete pod broken-plain broken-ui --ignore-not-found --wait=false');
    },
    10 * MIN,
  );

  it.skipIf(!hasTmux)(
    'reads like a book in a terminal: --step shows the prose before its block; after a run the outputs are on the screen',
    async () => {
      expect((await book(['machine', 'down'], 5 * MIN)).code).toBe(0);
      expect((await book(['machine', 'up'], 10 * MIN)).code).toBe(0);
      const reading = new Terminal(bookCommand(['run', '--step']), { cwd: root });
      try {
        const first = await reading.waitFor(/next: versions \(book\/00-machine\.md:\d+\)/, MIN);
        expect(first).toContain('Let us check the versions, as the tutorial did.');
        expect(first).not.toMatch(/✓ versions/);
        reading.keys('Enter');
        const second = await reading.waitFor(/next: machine-ready/, MIN);
        expect(second).toMatch(/✓ versions \(/);
        expect(second).toMatch(/The same facts, checked: the kubelet is the version the machine was built for/);
        reading.keys('q');
        expect(await reading.waitFor(/EXIT=\d+/, MIN)).toMatch(/EXIT=130/);
      } finally {
        reading.close();
      }

      const whole = new Terminal(bookCommand(['run', '--to', '06-scheduler']), { cwd: root });
      try {
        const screen = await whole.waitFor(/EXIT=\d+/, 10 * MIN, 100_000);
        expect(screen, screen.slice(-3000)).toMatch(/EXIT=0/);
        expect(screen).toMatch(/\d+ passed, 0 failed, 0 skipped/);
        // kubectl's table and docker ps's, kept under their blocks after the run.
        expect(screen).toMatch(/│ NAME +STATUS +ROLES +AGE +VERSION.*\n.*│ k8s-master +(?:Not)?Ready/);
        expect(screen).toMatch(/│ NAMES +IMAGE +STATUS\n.*│ k8s_(?:POD|nginx)_nginx-k8s-master_default_/);
      } finally {
        whole.close();
      }
    },
    20 * MIN,
  );

  it(
    "resumes into each networking chapter with --from, from its predecessor's checkpoint",
    async () => {
      expect((await book(['machine', 'down'], 5 * MIN)).code).toBe(0);
      // A machine that is down answers no shell: exit 3, what the CLI says of an unreachable machine.
      expect((await onMachine('true')).code).toBe(3);
      expect((await book(['machine', 'up'], 10 * MIN)).code).toBe(0);
      const first = await book(['run', '--reporter', 'plain', '--to', '06-scheduler']);
      expect(first.code, first.stdout).toBe(0);
      // The cluster heals itself after the checkpoint: a container killed, the kubelet starts its
      // next attempt. That is not drift (issue 14): --from 07 must still resume.
      const killed = await onMachine(
        "p=$(kubectl get pods -l app=nginx -o 'jsonpath={.items[0].metadata.name}') && docker kill $(docker ps -q --filter label=io.kubernetes.pod.name=$p --filter label=io.kubernetes.container.name=nginx)",
      );
      expect(killed.code, killed.stderr).toBe(0);
      const restarted = await pollOnMachine(
        "kubectl get pods -l app=nginx -o 'jsonpath={.items[*].status.containerStatuses[0].restartCount}'",
        (out) => out.split(' ').some((n) => Number(n) > 0),
        60,
      );
      expect(restarted.stdout).toMatch(/[1-9]/);
      await pollOnMachine("kubectl get pods -l app=nginx -o 'jsonpath={.items[*].status.containerStatuses[0].ready}'", (out) => out === 'true true', 60);
      for (const [from, to] of [
        ['07-pod-network', '07-pod-network'],
        ['08-services', '08-services'],
        ['09-dns', '09-dns'],
        // The machine ran chapters 0-6 only, so chapter 10 joins the worker as in a whole run (on a
        // machine that ran chapters 12-13 it could not: RBAC is on and the kubelet bootstrapped).
        ['10-second-node', '10-second-node'],
      ] as const) {
        const resumed = await book(['run', '--reporter', 'plain', '--from', from, '--to', to]);
        expect(resumed.code, `--from ${from}\n${resumed.stdout}\n${resumed.stderr}`).toBe(0);
        expect(resumed.stdout).toContain(`▶ ${from}`);
        expect(resumed.stdout).not.toContain('▶ 06-scheduler');
        expect(resumed.stdout).toMatch(/\d+ passed, 0 failed, 0 skipped/);
      }
      // Chapters 0-10 only: chapter 12's image policy is not there yet.
      await checkClusterIndependently(false);
    },
    30 * MIN,
  );

  it('machine down leaves the host as it was: no bridge, veth, iptables rule or mount left', async () => {
    expect(hostBefore).toBeDefined();
    expect((await book(['machine', 'down'], 5 * MIN)).code).toBe(0);
    expect(hostState()).toEqual(hostBefore);
  });
});

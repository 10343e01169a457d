// The snapshot keeps what it derived from a node's reading while the reading is the same object
// (the agent's client gives the same object for a reading word for word the same), and the diff
// skips items it kept. Any sequence of readings — the same object again, a copy of it, a changed
// one — on two nodes: each snapshot says what the plain derivations of that reading say, and each
// diff is the diff of copies that share nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MachineClients } from '../../src/runner/clients.js';
import { diffSnapshots } from '../../src/runner/state/diff.js';
import { containerItems, type DockerContainer } from '../../src/runner/state/docker.js';
import { takeSnapshot } from '../../src/runner/state/index.js';
import { daemonItems, machineFilesFromFacts } from '../../src/runner/state/machine-files.js';
import { nodeKey } from '../../src/runner/state/snapshot.js';
import type { Fields, Snapshot } from '../../src/runner/state/types.js';
import type { MachineFileFacts, NodeState, Target } from '../../src/runner/targets/target.js';

/** A node whose agent answers the reading the test holds; nothing else answers (no API server, an empty network). */
function readingNode(name: string, current: () => NodeState): Target {
  return {
    name,
    type: 'fake',
    runtimeDir: '/run/book-kept',
    dockerSocket: '/run/book-kept/docker.sock',
    connect: async () => {},
    exec: async () => ({ stdout: '', stderr: '', exitCode: 0, signal: null, durationMs: 0 }),
    writeFile: async () => {},
    readFile: async () => {
      throw new Error('no such file');
    },
    openTcp: async () => {
      throw new Error('no network');
    },
    openUnix: async () => {
      throw new Error('no network');
    },
    identity: async () => ({ instance: name, bootId: 'b' }) as never,
    nodeState: async () => current(),
    shellArgv: () => [],
    close: async () => {},
  };
}

const facts: fc.Arbitrary<MachineFileFacts> = fc.record({
  manifests: fc.array(fc.tuple(fc.constantFrom('etcd.yaml', 'kube-apiserver.yaml'), fc.nat(999), fc.constantFrom('aaaaaaaaaaaa', 'bbbbbbbbbbbb')), {
    maxLength: 2,
  }),
  provisioned: fc.array(fc.tuple(fc.constantFrom('dockerd', 'cri-dockerd'), fc.option(fc.nat(99), { nil: null }), fc.boolean()), { maxLength: 2 }),
  logs: fc.dictionary(fc.constantFrom('dockerd', 'kubelet'), fc.array(fc.constantFrom('started', 'ready', 'error: x'), { maxLength: 3 })),
  daemons: fc.array(
    fc.record({
      name: fc.constantFrom('etcd', 'kubelet'),
      argv: fc.constant([] as string[]),
      pid: fc.option(fc.nat(99), { nil: null }),
      running: fc.boolean(),
      restarts: fc.nat(3),
      startedAt: fc.constant(null),
    }),
    { maxLength: 2 },
  ),
});
const containers = fc.array(
  fc.record({
    Id: fc.constantFrom('a1', 'b2', 'c3'),
    Names: fc.constantFrom(['/web'], ['/db']),
    Image: fc.constantFrom('nginx', 'redis'),
    State: fc.constantFrom('running', 'exited'),
    Created: fc.nat(9),
  }),
  { maxLength: 3 },
);
const reading: fc.Arbitrary<NodeState> = fc.record({
  netChanged: fc.constant(false),
  files: facts,
  docker: fc.record({ fingerprint: fc.constant('f'), containers: containers as fc.Arbitrary<unknown[]> }),
});
/** What comes next on a node: the same object, a copy of it (the same words, another object), or another reading. */
const next = fc.oneof(fc.constant('same' as const), fc.constant('copy' as const), reading);

/** The node's items as the plain derivations give them, before any node's key is added. */
function expected(state: NodeState): Record<'docker' | 'manifests' | 'daemons', Record<string, Fields>> {
  const files = machineFilesFromFacts(state.files as MachineFileFacts);
  const docker = state.docker as { containers: unknown[] };
  return { docker: containerItems(docker.containers as DockerContainer[]), manifests: files.manifests, daemons: daemonItems(files.daemons, files.provisioned) };
}

describe('the snapshot keeps what it derived from a reading that did not change', () => {
  it('says what each reading says, on two nodes, and diffs as copies that share nothing would', async () => {
    await fc.assert(
      fc.asyncProperty(reading, reading, fc.array(fc.tuple(next, next), { minLength: 1, maxLength: 8 }), async (first, second, steps) => {
        let [a, b] = [first, second];
        const master = readingNode('master', () => a);
        const worker = readingNode('worker', () => b);
        const context = {
          target: master,
          clients: new MachineClients(master, '/etc/kubernetes/admin.kubeconfig'),
          nodes: [{ name: 'k8s-worker', target: worker, clients: new MachineClients(worker, '/etc/kubernetes/admin.kubeconfig') }],
        };
        let last: Snapshot | undefined;
        for (const [forA, forB] of [['same', 'same'] as const, ...steps]) {
          a = forA === 'same' ? a : forA === 'copy' ? structuredClone(a) : forA;
          b = forB === 'same' ? b : forB === 'copy' ? structuredClone(b) : forB;
          const snapshot = await takeSnapshot(context);
          const [ea, eb] = [expected(a), expected(b)];
          for (const source of ['docker', 'manifests', 'daemons'] as const) {
            const merged = { ...ea[source] };
            for (const [key, fields] of Object.entries(eb[source])) merged[nodeKey(key, 'k8s-worker')] = fields;
            expect(snapshot.sources[source]).toEqual({ available: true, items: merged });
          }
          expect(diffSnapshots(last, snapshot)).toEqual(diffSnapshots(structuredClone(last), structuredClone(snapshot)));
          last = snapshot;
        }
      }),
      { numRuns: 150 },
    );
  });
});

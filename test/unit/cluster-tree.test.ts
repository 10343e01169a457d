// The cluster drawn as a tree (issue 17, terminal part), from the snapshots of the committed
// transcript of the real book: what each chapter built, as nodes → pods → containers.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UiStore } from '../../src/ink-ui/store.js';
import type { RunEvent } from '../../src/runner/events.js';
import type { RecordedChapter, Transcript } from '../../src/runner/record/transcript.js';
import { clusterTree, formatClusterTree } from '../../src/runner/state/tree.js';
import type { Snapshot } from '../../src/runner/state/types.js';
import { BOOK_BIN } from '../helpers/runtimes.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const TRANSCRIPT = path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json');
const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as Transcript;
const snapshotAfter = (id: string) => (transcript.chapters.find((c) => c.id === id) as RecordedChapter).blocks.at(-1)?.state?.snapshot as Snapshot;
const items = (s: Snapshot, source: 'kubernetes' | 'docker') => {
  const src = s.sources[source];
  return src.available ? Object.entries(src.items) : [];
};

describe('the cluster as a tree', () => {
  it('after the scheduler chapter: two nginx-deployment pods on the node, each with its pause container, owned by their ReplicaSet', () => {
    const [master, ...others] = clusterTree(snapshotAfter('06-scheduler'));
    expect(master?.name).toBe('k8s-master');
    const deployment = master?.pods.filter((p) => p.name.startsWith('default/nginx-deployment-')) ?? [];
    expect(deployment).toHaveLength(2);
    for (const pod of deployment) {
      expect(pod.pause).toMatchObject({ name: 'pause', state: 'running' });
      expect(pod.containers.map((c) => c.name)).toEqual(['nginx']);
      expect(pod.owner).toMatch(/^replicaset default\/nginx-deployment-[a-z0-9]+$/);
      expect(pod.static).toBe(false);
    }
    // The control plane runs as static pods, from the manifests on the node.
    const statics = master?.pods.filter((p) => p.static).map((p) => p.name.split('/')[1]);
    expect(statics).toEqual(expect.arrayContaining(['etcd-k8s-master', 'kube-apiserver-k8s-master', 'kube-scheduler-k8s-master']));
    expect(others.every((n) => n.pods.length === 0)).toBe(true);
  });

  it('holds every pod and sandbox of the snapshot, under the node that runs it, in every chapter', () => {
    for (const chapter of transcript.chapters) {
      const snapshot = chapter.blocks.at(-1)?.state?.snapshot;
      if (!snapshot) continue;
      const tree = clusterTree(snapshot);
      const drawn = new Map(tree.flatMap((n) => n.pods.map((p) => [p.name, { node: n.name, pod: p }] as const)));
      for (const [key, fields] of items(snapshot, 'kubernetes').filter(([k]) => k.startsWith('pod '))) {
        expect(drawn.get(key.slice(4))?.node, `${chapter.id}: ${key}`).toBe(fields.node ?? '(not scheduled)');
      }
      const sandboxes = items(snapshot, 'docker').filter(([k]) => /k8s_POD_/.test(k)).length;
      const pauses = tree.flatMap((n) => n.pods).reduce((sum, p) => sum + (p.pause ? 1 + p.pause.earlier : 0), 0);
      expect(pauses, chapter.id).toBe(sandboxes);
    }
  });

  it('after the second node: both nodes, each with its own kube-proxy as a static pod', () => {
    const tree = clusterTree(snapshotAfter('10-second-node'));
    expect(tree.map((n) => n.name)).toEqual(['k8s-master', 'k8s-worker']);
    for (const node of tree) expect(node.pods.find((p) => p.name === `kube-system/kube-proxy-${node.name}`)?.static, node.name).toBe(true);
    const lines = formatClusterTree(tree);
    expect(lines[0]).toMatch(/^k8s-master {2}192\.168\.56\.10 {2}Ready=True/);
    // The worker's slice is the next free /24, 10.244.1.0/24 or 10.244.2.0/24 (chapter 10 says why).
    expect(lines.join('\n')).toMatch(/\n[├└]─ pod default\/nginx-deployment-\S+ {2}10\.244\.[1-9]\d*\.\d+ {2}Running {2}← replicaset /);
    expect(lines.join('\n')).toMatch(/\n[│ ] {2}[├└]─ pause {2}running/);
  });

  it('says what Docker keeps of deleted pods, which machine is not a node yet, and that cri-dockerd runs once the book restarted it (issue 29)', () => {
    const cni = snapshotAfter('07-pod-network');
    // The run's daemon events up to the chapter's end: the book started its own cri-dockerd.
    const events = new Map<string, string>();
    for (const chapter of transcript.chapters.slice(0, transcript.chapters.findIndex((c) => c.id === '07-pod-network') + 1))
      for (const b of chapter.blocks) for (const d of b.daemons ?? []) events.set(d.node ? `${d.node}/${d.name}` : d.name, d.action);
    const [master, worker] = clusterTree(cni, { daemonEvents: events });
    expect(master?.daemons.find((d) => d.name === 'cri-dockerd')?.state).toBe('running');
    const recorded = (cni.sources.daemons as { items: Record<string, Record<string, string>> }).items['daemon cri-dockerd'];
    if (recorded?.restarts === undefined) {
      // Recorded before daemonItems merged them: without the events, the stale pid file is all there is.
      expect(master?.daemons.find((d) => d.name === 'cri-dockerd')?.from).toMatch(/book's own cri-dockerd \(started/);
      expect(clusterTree(cni)[0]?.daemons.find((d) => d.name === 'cri-dockerd')?.state).toBe('stopped');
    }
    // The pods the chapter replaced: deleted, their exited sandboxes kept by Docker.
    const deleted = master?.pods.filter((p) => p.deleted).map((p) => p.name) ?? [];
    const listed = new Set(items(cni, 'kubernetes').map(([k]) => k.slice(4)));
    expect(deleted).toHaveLength(2);
    for (const name of deleted) expect(listed.has(name)).toBe(false);
    for (const p of master?.pods ?? [])
      expect(p.deleted ?? false, p.name).toBe(!listed.has(p.name) && ![p.pause, ...p.containers].some((c) => c?.state === 'running'));
    expect(worker).toMatchObject({ name: 'k8s-worker', member: false, pods: [] });
    const lines = formatClusterTree([master, worker].filter((n) => n !== undefined));
    expect(lines.join('\n')).toMatch(/^k8s-master .*· cri-dockerd, dockerd, kubelet$/m);
    expect(lines.filter((l) => l.includes('deleted: Docker keeps its exited containers'))).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/^k8s-worker .*\(a machine, not a node yet: no kubelet\)$/m);
    expect(clusterTree(snapshotAfter('10-second-node')).every((n) => n.member)).toBe(true);
  });

  it('marks a running pod the API server does not list (a static pod with no mirror, a pod being stopped), never as deleted', () => {
    // Chapter 2's static pods really are unlisted (the kubelet runs standalone, no Node): said so.
    const standalone = formatClusterTree(clusterTree(snapshotAfter('02-api-server'))).join('\n');
    expect(standalone).toMatch(/pod kube-system\/kube-apiserver-k8s-master .*its kubelet has not joined it, so no mirror pod/);
    // Any recorded chapter, with any of its listed pods gone from the API (as when chapter 14 deletes etcd's mirror pod).
    const chapters = transcript.chapters.filter((c) => c.blocks.at(-1)?.state?.snapshot?.sources.kubernetes?.available);
    const withPods = chapters.filter((c) => items(snapshotAfter(c.id), 'kubernetes').some(([k]) => k.startsWith('pod ')));
    fc.assert(
      fc.property(
        fc.constantFrom(...withPods.map((c) => c.id)).chain((id) => {
          const pods = items(snapshotAfter(id), 'kubernetes')
            .filter(([k]) => k.startsWith('pod '))
            .map(([k]) => k);
          return fc.tuple(fc.constant(id), fc.subarray(pods, { minLength: 1 }));
        }),
        ([id, gone]) => {
          const snapshot = structuredClone(snapshotAfter(id));
          const kube = snapshot.sources.kubernetes as { items: Record<string, unknown> };
          for (const key of gone) delete kube.items[key];
          const tree = clusterTree(snapshot);
          const lines = formatClusterTree(tree).join('\n');
          for (const key of gone) {
            const on = tree.find((n) => n.pods.some((p) => p.name === key.slice(4)));
            const pod = on?.pods.find((p) => p.name === key.slice(4));
            if (!on || !pod) continue; // no container of it on any node: nothing left to draw
            const runs = [pod.pause, ...pod.containers].some((c) => c?.state.startsWith('running'));
            expect(pod.unlisted ?? false, key).toBe(runs);
            expect(pod.deleted ?? false, key).toBe(!runs);
            if (runs) {
              const line = lines.split('\n').find((l) => l.includes(`pod ${pod.name} `)) ?? '';
              // A static pod on a node the API server lists lost its mirror; on one it does not list (chapter 2), its kubelet never wrote one.
              const why = !pod.static
                ? /not in the API server, yet its containers run/
                : on.ready
                  ? /no mirror pod \(the kubelet writes it again\)/
                  : /its kubelet has not joined it/;
              expect(line, key).toMatch(why);
              expect(line).not.toMatch(/Running/);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is printed after each chapter by book replay --reporter plain, and not with --no-tree', () => {
    const run = (extra: string[]) =>
      spawnSync(process.execPath, [BOOK_BIN, 'replay', '--book', path.join(ROOT, 'book'), '--transcript', TRANSCRIPT, '--reporter', 'plain', ...extra], {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      }).stdout;
    const out = run([]);
    expect(out).toMatch(/✓ 06-scheduler passed \([^)]*\)\n {2}cluster after 06-scheduler:\n {4}k8s-master /);
    expect(out.match(/cluster after /g)?.length).toBe(transcript.chapters.length);
    expect(run(['--no-tree'])).not.toContain('cluster after');
  });

  it('is kept in the Ink UI after the chapter ends, and left out when turned off', () => {
    const chapter = { id: '06-scheduler', number: 6, title: 'The scheduler', file: 'x.md', source: '', blocks: [], hash: '' };
    const events = [
      { type: 'chapter:start', chapter, time: 0 },
      { type: 'state', block: { id: 'b' }, snapshot: snapshotAfter('06-scheduler'), diff: { changes: [] } },
      { type: 'chapter:end', chapter, status: 'passed', durationMs: 1 },
    ] as unknown as RunEvent[];
    for (const tree of [true, false]) {
      const store = new UiStore({ throttleMs: 0, color: false, tree });
      for (const e of events) store.listener(e);
      const drawn = store.getSnapshot().done.filter((d) => d.kind === 'tree');
      expect(drawn.length, String(tree)).toBe(tree ? 1 : 0);
      if (tree) expect((drawn[0] as { lines: string[] }).lines.filter((l) => l.includes('nginx-deployment-')).length).toBe(2);
    }
  });
});

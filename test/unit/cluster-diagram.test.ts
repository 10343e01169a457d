// The site's cluster diagrams (issue 17): the model drawn from a snapshot, and the layout's
// promises (every pod once, under its node; arrows between the right boxes and never through
// one; nothing outside the picture), on the committed transcript and on generated clusters.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Box, type DiagramLayout, layoutDiagram, type Mode } from '../../src/render/diagram/layout.js';
import { clusterDiagram } from '../../src/render/diagram/model.js';
import { diagramSvg } from '../../src/render/diagram/svg.js';
import type { RecordedChapter, Transcript } from '../../src/runner/record/transcript.js';
import type { Fields, Snapshot } from '../../src/runner/state/types.js';
import { podsIn } from '../helpers/snapshot-pods.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const transcript = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json'), 'utf8')) as Transcript;
const snapshotAfter = (id: string) => (transcript.chapters.find((c) => c.id === id) as RecordedChapter).blocks.at(-1)?.state?.snapshot as Snapshot;

const inside = (outer: Box, inner: Box) =>
  inner.x >= outer.x - 0.01 && inner.y >= outer.y - 0.01 && inner.x + inner.w <= outer.x + outer.w + 0.01 && inner.y + inner.h <= outer.y + outer.h + 0.01;

/** Does the axis-parallel segment a→b pass through the inside of box (its border excluded)? */
function crosses([ax, ay]: [number, number], [bx, by]: [number, number], box: Box): boolean {
  const [x1, x2] = [Math.min(ax, bx), Math.max(ax, bx)];
  const [y1, y2] = [Math.min(ay, by), Math.max(ay, by)];
  return x2 > box.x + 0.5 && x1 < box.x + box.w - 0.5 && y2 > box.y + 0.5 && y1 < box.y + box.h - 0.5;
}

/** Everything the layout promises, whatever the cluster. */
function checkLayout(layout: DiagramLayout, snapshot: Snapshot) {
  const picture = { x: 0, y: 0, w: layout.width, h: layout.height };
  const pods = layout.nodes.flatMap((n) => n.pods.map((p) => ({ ...p, node: n })));
  expect(new Set(pods.map((p) => p.pod.key))).toEqual(podsIn(snapshot));
  expect(pods.length).toBe(podsIn(snapshot).size);
  for (const n of layout.nodes) {
    expect(inside(picture, n)).toBe(true);
    for (const d of n.daemons) expect(inside(n, d)).toBe(true);
  }
  for (const p of pods) {
    expect(inside(p.node, p), p.pod.key).toBe(true);
    for (const c of p.chips) expect(inside(p, c), `${p.pod.key} ${c.label}`).toBe(true);
  }
  for (const o of layout.objects) expect(inside(picture, o)).toBe(true);
  const boxes: Box[] = [...layout.objects, ...pods, ...layout.nodes.flatMap((n) => n.daemons)];
  const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  for (const [i, a] of boxes.entries())
    for (const b of boxes.slice(i + 1)) expect(overlap(a, b), `boxes at ${a.x},${a.y} and ${b.x},${b.y} overlap`).toBe(false);
  for (const e of layout.edges) {
    const to = pods.find((p) => p.pod.key === e.to);
    expect(to, `${e.kind} ${e.from} → ${e.to}`).toBeDefined();
    const end = e.points.at(-1) as [number, number];
    // The arrow ends on its target's border.
    const onBorder = to && (Math.abs(end[0] - to.x) < 0.01 || Math.abs(end[0] - (to.x + to.w)) < 0.01) && end[1] > to.y && end[1] < to.y + to.h;
    expect(onBorder, `${e.kind} ${e.from} → ${e.to} ends at ${end}`).toBe(true);
    for (let i = 1; i < e.points.length; i++) {
      const a = e.points[i - 1] as [number, number];
      const b = e.points[i] as [number, number];
      expect(a[0] === b[0] || a[1] === b[1], `${e.from} → ${e.to}: segments are horizontal or vertical`).toBe(true);
      for (const box of boxes) expect(crosses(a, b, box), `${e.kind} ${e.from} → ${e.to} runs through a box at ${box.x},${box.y}`).toBe(false);
      expect(inside(picture, { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), w: Math.abs(a[0] - b[0]), h: Math.abs(a[1] - b[1]) })).toBe(true);
    }
  }
}

describe('the cluster diagram of a chapter', () => {
  it('after the scheduler chapter: two nginx-deployment pods with their pause, owned by the ReplicaSet, new since the chapter before', () => {
    const d = clusterDiagram(snapshotAfter('06-scheduler'), snapshotAfter('05-controller-manager'));
    const master = d.nodes.find((n) => n.name === 'k8s-master');
    const nginx = master?.pods.filter((p) => p.key.startsWith('default/nginx-deployment-')) ?? [];
    expect(nginx).toHaveLength(2);
    for (const p of nginx) {
      expect(p.containers.map((c) => c.name)).toEqual(['pause', 'nginx']);
      expect(p.change).toBe('changed'); // pending before, on the node now
    }
    const rs = d.workloads.flatMap((w) => w.replicaSets).find((r) => r.key.startsWith('replicaset default/nginx-deployment-'));
    expect(rs?.pods.sort()).toEqual(nginx.map((p) => p.key).sort());
    // The API server first; the kubelet and the control plane's other parts talk to it, it to etcd.
    expect(master?.pods[0]?.name).toBe('kube-apiserver-k8s-master');
    const talks = d.talks.map((t) => `${'pod' in t.from ? t.from.pod : `${t.from.node}/${t.from.daemon}`} ${t.kind} ${t.to}`);
    expect(talks).toEqual(
      expect.arrayContaining([
        'k8s-master/kubelet api kube-system/kube-apiserver-k8s-master',
        'kube-system/kube-scheduler-k8s-master api kube-system/kube-apiserver-k8s-master',
        'kube-system/kube-apiserver-k8s-master store kube-system/etcd-k8s-master',
      ]),
    );
    expect(master?.pods.find((p) => p.name === 'kube-scheduler-k8s-master')?.change).toBe('new');
  });

  it('after the second node: Services point at their endpoints on both nodes, each kubelet at the one API server', () => {
    const d = clusterDiagram(snapshotAfter('10-second-node'), snapshotAfter('09-dns'));
    const service = d.services.find((s) => s.key === 'service default/nginx-deployment');
    const slice = Object.entries((snapshotAfter('10-second-node').sources.kubernetes as { items: Record<string, Fields> }).items).find(
      ([k, f]) => k.startsWith('endpointslice default/') && f.service === 'nginx-deployment',
    )?.[1];
    // The EndpointSlice names its pods (a host-network pod's address is shared), and none is blanked as a secret.
    expect(slice?.pods).toBeDefined();
    expect(slice?.pods).not.toContain('redacted');
    const ips = new Map(d.nodes.flatMap((n) => n.pods.map((p) => [p.key, { ip: p.ip, node: n.name }] as const)));
    expect(service?.pods.map((k) => ips.get(k)?.ip).sort()).toEqual(slice?.endpoints?.split(',').sort());
    expect(new Set(service?.pods.map((k) => ips.get(k)?.node))).toEqual(new Set(['k8s-master', 'k8s-worker']));
    const kubelets = d.talks.filter((t) => 'daemon' in t.from && t.from.daemon === 'kubelet');
    expect(kubelets.map((t) => ('node' in t.from ? t.from.node : ''))).toEqual(['k8s-master', 'k8s-worker']);
    expect(new Set(kubelets.map((t) => t.to))).toEqual(new Set(['kube-system/kube-apiserver-k8s-master']));
    // The worker's daemons ran before it joined: its box was there, it is changed (an address, Ready).
    const worker = d.nodes.find((n) => n.name === 'k8s-worker');
    expect(worker).toMatchObject({ change: 'changed', ready: 'True' });
    expect(worker?.pods.find((p) => p.name === 'kube-proxy-k8s-worker')?.change).toBe('new');
  });

  it('lays out every chapter of the real book, wide and stacked, keeping its promises', () => {
    for (const chapter of transcript.chapters) {
      const snapshot = chapter.blocks.at(-1)?.state?.snapshot;
      if (!snapshot) continue;
      for (const mode of ['side', 'stacked'] as Mode[]) checkLayout(layoutDiagram(clusterDiagram(snapshot), mode), snapshot);
    }
  });

  it('draws as SVG what it laid out: one group per pod with its containers, one per arrow', () => {
    const snapshot = snapshotAfter('10-second-node');
    const layout = layoutDiagram(clusterDiagram(snapshot), 'side');
    const svg = diagramSvg(layout, 'after the second node');
    expect(svg.match(/<g class="pod[ "]/g)?.length).toBe(podsIn(snapshot).size);
    expect(svg.match(/<g class="edge /g)?.length).toBe(layout.edges.length + layout.objects.reduce((n, o) => n + o.inner.length, 0));
    expect(svg).toMatch(/aria-label="after the second node: 2 nodes, \d+ pods"/);
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});

// Generated clusters: any number of nodes, Deployments, Services, bare and static pods.
const name = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);
const clusterArb = fc
  .record({
    nodes: fc.integer({ min: 1, max: 3 }),
    workloads: fc.array(fc.record({ name, ns: fc.constantFrom('default', 'team-a'), pods: fc.array(fc.nat(2), { maxLength: 6 }) }), { maxLength: 3 }),
    // node 3: pending (no node yet, nothing in Docker); names up to 60 characters (drawn clipped).
    bare: fc.array(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9-]{0,59}$/), node: fc.nat(3), docker: fc.boolean() }), { maxLength: 4 }),
    statics: fc.uniqueArray(fc.constantFrom('kube-apiserver', 'etcd', 'kube-scheduler', 'kube-proxy'), { maxLength: 4 }),
    services: fc.array(fc.record({ workload: fc.nat(3), withPods: fc.boolean() }), { maxLength: 3 }),
  })
  .map((c): Snapshot => {
    const nodes = ['k8s-master', 'k8s-worker', 'node-c'].slice(0, c.nodes);
    const kube: Record<string, Fields> = {};
    const docker: Record<string, Fields> = {};
    const daemons: Record<string, Fields> = {};
    const manifests: Record<string, Fields> = {};
    let ip = 1;
    const place = (ns: string, pod: string, node: string, app: string, inApi = true, inDocker = true) => {
      const address = `10.244.${nodes.indexOf(node)}.${ip++}`;
      if (inApi) kube[`pod ${ns}/${pod}`] = { phase: 'Running', node, ip: address };
      const prefix = node === 'k8s-master' ? '' : `${node}/`;
      if (inDocker) {
        docker[`container ${prefix}k8s_POD_${pod}_${ns}_…_0`] = { state: 'running' };
        docker[`container ${prefix}k8s_${app}_${pod}_${ns}_…_0`] = { state: 'exited (1)' };
      }
      return address;
    };
    for (const [i, n] of nodes.entries()) {
      const prefix = i === 0 ? '' : `${n}/`;
      kube[`node ${n}`] = { ready: 'True', ip: `192.168.56.${10 + i}` };
      for (const d of ['dockerd', 'cri-dockerd', 'kubelet']) daemons[`daemon ${prefix}${d}`] = { state: 'running' };
    }
    for (const s of c.statics) {
      manifests[`manifest ${s}.yaml`] = { size: '1' };
      place('kube-system', `${s}-k8s-master`, 'k8s-master', s);
    }
    const workloadIps: { ns: string; name: string; pods: string[]; ips: string[] }[] = [];
    c.workloads.forEach((w, i) => {
      const deployment = `${w.name}${i}`;
      const rs = `${deployment}-5d8f9`;
      kube[`deployment ${w.ns}/${deployment}`] = { replicas: `${w.pods.length}/${w.pods.length} ready` };
      kube[`replicaset ${w.ns}/${rs}`] = { replicas: `${w.pods.length}/${w.pods.length} ready`, owner: deployment };
      const pods = w.pods.map((_, j) => `${rs}-p${j}xyz`);
      const ips = w.pods.map((n, j) => place(w.ns, pods[j] as string, nodes[n % nodes.length] as string, w.name));
      workloadIps.push({ ns: w.ns, name: deployment, pods, ips });
    });
    for (const [i, b] of c.bare.entries()) {
      if (b.node === 3) kube[`pod default/${b.name}-${i}`] = { phase: 'Pending' };
      else place('default', `${b.name}-${i}`, nodes[b.node % nodes.length] as string, 'app', true, b.docker);
    }
    c.services.forEach((s, i) => {
      const target = workloadIps[s.workload % Math.max(1, workloadIps.length)];
      const ns = target?.ns ?? 'default';
      kube[`service ${ns}/svc${i}`] = { type: 'ClusterIP', clusterIP: `10.96.0.${20 + i}`, ports: '80/TCP' };
      if (target)
        kube[`endpointslice ${ns}/svc${i}-abcde`] = {
          service: `svc${i}`,
          endpoints: target.ips.join(','),
          ...(s.withPods && target.pods.length ? { pods: target.pods.join(',') } : {}),
        };
    });
    const available = (items: Record<string, Fields>) => ({ available: true as const, items });
    return {
      sources: { kubernetes: available(kube), docker: available(docker), daemons: available(daemons), manifests: available(manifests), network: available({}) },
      logs: {},
      timings: {},
    };
  });

describe('the cluster diagram of any cluster (generated)', () => {
  it('keeps the layout promises in both modes, and routes each Service to exactly its endpoints', () => {
    fc.assert(
      fc.property(clusterArb, (snapshot) => {
        const d = clusterDiagram(snapshot);
        for (const mode of ['side', 'stacked'] as Mode[]) checkLayout(layoutDiagram(d, mode), snapshot);
        const kube = (snapshot.sources.kubernetes as { items: Record<string, Fields> }).items;
        for (const s of d.services) {
          const [, ns = '', svc = ''] = /^service ([^/]+)\/(.+)$/.exec(s.key) ?? [];
          const slice = Object.entries(kube).find(([k, f]) => k.startsWith(`endpointslice ${ns}/`) && f.service === svc)?.[1];
          const byIp = new Map(d.nodes.flatMap((n) => n.pods.map((p) => [p.ip, p.key] as const)));
          const expected = (slice?.endpoints ?? '')
            .split(',')
            .filter(Boolean)
            .map((a) => byIp.get(a));
          expect(s.pods.sort()).toEqual(expected.sort());
        }
      }),
      { numRuns: 150 },
    );
  });

  it('marks what is new and what changed against the snapshot before, and lists what is gone', () => {
    fc.assert(
      fc.property(clusterArb, clusterArb, (before, now) => {
        const d = clusterDiagram(now, before);
        const podsBefore = podsIn(before);
        for (const p of d.nodes.flatMap((n) => n.pods)) expect(p.change === 'new', p.key).toBe(!podsBefore.has(p.key));
        const podsNow = podsIn(now);
        const gone = d.removed.filter((r) => r.startsWith('pod ')).map((r) => r.slice(4));
        expect(new Set(gone)).toEqual(new Set([...podsBefore].filter((p) => !podsNow.has(p))));
        // Against itself nothing is new, changed or gone.
        const same = clusterDiagram(now, now);
        expect(JSON.stringify(same)).not.toMatch(/"change"/);
        expect(same.removed).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

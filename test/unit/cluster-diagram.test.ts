// The site's cluster diagrams (issues 17, 29): the model drawn from a snapshot, and the layout's
// promises (every live pod once, under its node; arrows between the right boxes and never through
// one; nothing outside the picture), on the committed transcript and on generated clusters.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Box, type DiagramLayout, layoutDiagram, type Mode } from '../../src/render/diagram/layout.js';
import { clusterDiagram, type WrittenFile } from '../../src/render/diagram/model.js';
import { diagramSvg } from '../../src/render/diagram/svg.js';
import { drawingContext, snapshotTimeline } from '../../src/render/timeline.js';
import { loadBook } from '../../src/runner/load-book.js';
import type { RecordedChapter, Transcript } from '../../src/runner/record/transcript.js';
import { daemonItems } from '../../src/runner/state/machine-files.js';
import { clusterTree } from '../../src/runner/state/tree.js';
import type { Fields, Snapshot } from '../../src/runner/state/types.js';
import type { Book } from '../../src/runner/types.js';
import { deletedPods, livePods } from '../helpers/live-pods.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const transcript = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json'), 'utf8')) as Transcript;
const snapshotAfter = (id: string) => (transcript.chapters.find((c) => c.id === id) as RecordedChapter).blocks.at(-1)?.state?.snapshot as Snapshot;
const timeline = snapshotTimeline(transcript);
let book: Book;
beforeAll(async () => {
  book = await loadBook(path.join(ROOT, 'book'));
});
/** A chapter's drawing as the site draws it: against the chapter before, with what the run knew (daemon events, files written). */
const chapterDiagram = (id: string) => {
  const drawing = timeline.chapters.get(id);
  if (!drawing) throw new Error(`no drawing after ${id}`);
  return clusterDiagram(drawing.snapshot, drawing.previous, drawingContext(book, transcript, drawing));
};

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
  expect(new Set(pods.map((p) => p.pod.key))).toEqual(livePods(snapshot));
  expect(pods.length).toBe(livePods(snapshot).size);
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
    // No reason, no arrow.
    expect(e.reason, `${e.kind} ${e.from} → ${e.to}`).toMatch(/\S/);
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
    const d = chapterDiagram('06-scheduler');
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
    const d = chapterDiagram('10-second-node');
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
    // The worker machine ran Docker before it joined, but was no node: it is new in this drawing.
    const worker = d.nodes.find((n) => n.name === 'k8s-worker');
    expect(worker).toMatchObject({ change: 'new', ready: 'True', member: true });
    expect(worker?.pods.find((p) => p.name === 'kube-proxy-k8s-worker')?.change).toBe('new');
  });

  it('lays out every drawing of the real book (chapters and busy blocks), wide and stacked, keeping its promises', () => {
    for (const drawing of [...timeline.chapters.values(), ...timeline.blocks.values()]) {
      const d = clusterDiagram(drawing.snapshot, drawing.previous, drawingContext(book, transcript, drawing));
      for (const mode of ['side', 'stacked'] as Mode[]) checkLayout(layoutDiagram(d, mode), drawing.snapshot);
    }
  });

  it('draws as SVG what it laid out: one group per pod with its containers, one per arrow, named and described for screen readers', () => {
    const snapshot = snapshotAfter('10-second-node');
    const d = chapterDiagram('10-second-node');
    const layout = layoutDiagram(d, 'side');
    const svg = diagramSvg(layout, 'after the second node', 'd-test');
    expect(svg.match(/<g class="pod[ "]/g)?.length).toBe(livePods(snapshot).size);
    expect(svg.match(/<g class="edge /g)?.length).toBe(layout.edges.length + layout.objects.reduce((n, o) => n + o.inner.length, 0));
    expect(svg).toMatch(/role="img" aria-labelledby="d-test-title" aria-describedby="d-test-desc"/);
    expect(svg).toMatch(/<title id="d-test-title">after the second node: 2 nodes \(k8s-master, k8s-worker\), \d+ pods, \d+ arrows<\/title>/);
    const desc = (/<desc id="d-test-desc">([^<]*)<\/desc>/.exec(svg)?.[1] ?? '')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    // Every node, pod and arrow is named in words.
    for (const n of d.nodes) expect(desc).toContain(`Node ${n.name}`);
    for (const p of d.nodes.flatMap((n) => n.pods)) expect(desc).toContain(`Pod ${p.key}`);
    for (const t of d.talks) expect(desc).toContain(t.reason);
    // Every arrow says why in its tooltip.
    expect(svg.match(/<g class="edge [^>]*data-reason="[^"]+"[^>]*><title>/g)?.length).toBe(svg.match(/<g class="edge /g)?.length);
    expect(svg).not.toMatch(/NaN|undefined/);
  });
});

/** `pod ns/name` keys the API server lists in a snapshot. */
const apiPods = (s: Snapshot) => new Set(Object.keys(s.sources.kubernetes.available ? s.sources.kubernetes.items : {}).filter((k) => k.startsWith('pod ')));

describe('the drawings of the committed transcript tell the truth (issue 29)', () => {
  it('a daemon the book restarted as its own is drawn running: cri-dockerd on both nodes, from the CNI chapter on', () => {
    for (const chapter of transcript.chapters) {
      if (!timeline.chapters.has(chapter.id)) continue;
      const d = chapterDiagram(chapter.id);
      for (const node of d.nodes.filter((n) => !n.name.startsWith('('))) {
        const cri = node.daemons.find((x) => x.name === 'cri-dockerd');
        expect(cri?.state, `${chapter.id} ${node.name}`).toBe('running');
      }
    }
    // A transcript recorded before daemonItems merged the two: its snapshot says stopped (the provisioned
    // pid file), and the run's daemon events say the book's own runs. Recorded since: the snapshot says running.
    const item = (snapshotAfter('07-pod-network').sources.daemons as { items: Record<string, Fields> }).items['daemon cri-dockerd'];
    const worker = chapterDiagram('10-second-node').nodes.find((n) => n.name === 'k8s-worker');
    if (item?.restarts === undefined) {
      expect(item?.state).toBe('stopped');
      expect(worker?.daemons.find((x) => x.name === 'cri-dockerd')).toMatchObject({ state: 'running', from: expect.stringContaining('started') });
    } else expect(item.state).toBe('running');
  });

  it('a pod deleted in block N is drawn in no later drawing, and said gone once, in the drawing right after it went', () => {
    const drawings = [...timeline.chapters.entries()];
    const blocks = transcript.chapters.flatMap((c) => c.blocks.filter((b) => b.state?.snapshot));
    let checked = 0;
    for (const [i, b] of blocks.entries()) {
      const before = i > 0 ? apiPods((blocks[i - 1] as (typeof blocks)[number]).state?.snapshot as Snapshot) : new Set<string>();
      const now = apiPods(b.state?.snapshot as Snapshot);
      for (const pod of [...before].filter((p) => !now.has(p))) {
        const key = pod.slice(4);
        // Every chapter drawing after block N (from its chapter on) leaves it out, or it came back.
        const chapterOf = transcript.chapters.findIndex((c) => c.blocks.includes(b));
        let saidGone = 0;
        for (const [id, drawing] of drawings.slice(chapterOf)) {
          if (apiPods(drawing.snapshot).has(pod)) continue;
          const d = chapterDiagram(id);
          expect(
            d.nodes.flatMap((n) => n.pods.map((p) => p.key)),
            `${id}: ${key}`,
          ).not.toContain(key);
          if (d.removed.includes(pod)) saidGone++;
          checked++;
        }
        expect(saidGone, key).toBeLessThanOrEqual(1);
      }
    }
    expect(checked).toBeGreaterThan(0);
    // The CNI chapter replaced the Deployment's two pods: gone in its drawing, their exited sandboxes listed as leftovers.
    const cni = chapterDiagram('07-pod-network');
    const replaced = cni.removed.filter((r) => r.startsWith('pod default/nginx-deployment-'));
    expect(replaced).toHaveLength(2);
    expect(cni.leftovers.map((l) => `pod ${l.pod}`).sort()).toEqual(replaced.sort());
    for (const l of cni.leftovers) expect(l.containers.every((c) => !c.state.startsWith('running'))).toBe(true);
    // The Services chapter's client pod, deleted there, is never drawn as a pod.
    for (const id of ['08-services', '09-dns', '10-second-node', '15-recap'])
      expect(chapterDiagram(id).nodes.flatMap((n) => n.pods.map((p) => p.key))).not.toContain('default/service-client');
    // Listed as leftover containers under a later drawing, until the kubelet's garbage collection removes them.
    expect(
      ['08-services', '09-dns', '10-second-node', '15-recap'].some((id) => chapterDiagram(id).leftovers.some((l) => l.pod === 'default/service-client')),
    ).toBe(true);
  });

  it('the recap draws on each node exactly the pods the API server lists there', () => {
    const snapshot = snapshotAfter('15-recap');
    const kube = (snapshot.sources.kubernetes as { items: Record<string, Fields> }).items;
    for (const node of chapterDiagram('15-recap').nodes) {
      const listed = Object.entries(kube)
        .filter(([k, f]) => k.startsWith('pod ') && f.node === node.name)
        .map(([k]) => k.slice(4))
        .sort();
      expect(node.pods.map((p) => p.key).sort(), node.name).toEqual(listed);
    }
    expect(chapterDiagram('15-recap').nodes.find((n) => n.name === 'k8s-master')?.pods).toHaveLength(10);
  });

  it('every arrow has its reason in the recorded state: none before the kubelet is told about the API server, CoreDNS watches it', () => {
    const talk = (id: string) =>
      chapterDiagram(id).talks.map((t) => `${'pod' in t.from ? t.from.pod : `${t.from.node}/${t.from.daemon}`} ${t.kind}: ${t.reason}`);
    // Chapter 2: the API server runs, the kubelet has no kubeconfig yet; only the API server → etcd (its --etcd-servers).
    expect(talk('02-api-server')).toEqual([
      expect.stringMatching(
        /^kube-system\/kube-apiserver-k8s-master store: kube-apiserver --etcd-servers=http:\/\/127\.0\.0\.1:2379 \(manifest kube-apiserver\.yaml/,
      ),
    ]);
    // The kubelet's --kubeconfig where the transcript recorded its flags, else the Node it registered.
    expect(talk('03-kubelet-joins')).toContainEqual(
      expect.stringMatching(/^k8s-master\/kubelet api: (kubelet --kubeconfig=\/etc\/kubernetes\/admin\.kubeconfig|Node k8s-master in the API server)/),
    );
    expect(talk('06-scheduler')).toContainEqual(
      expect.stringMatching(/^kube-system\/kube-scheduler-k8s-master api: kube-scheduler --kubeconfig=\/etc\/kubernetes\/scheduler\.conf/),
    );
    expect(talk('09-dns')).toContainEqual(
      expect.stringMatching(/^kube-system\/coredns-\w+-\w+ api: CoreDNS watches Services and EndpointSlices: its Corefile's "kubernetes cluster\.local/),
    );
    expect(talk('10-second-node')).toContainEqual(
      expect.stringMatching(
        /^kube-system\/kube-proxy-k8s-worker api: kube-proxy --kubeconfig=\/etc\/kubernetes\/kubelet\.kubeconfig \(manifest kube-proxy\.yaml on k8s-worker/,
      ),
    );
    for (const id of timeline.chapters.keys()) {
      const d = chapterDiagram(id);
      for (const t of d.talks) expect(t.reason, id).toMatch(/\S/);
      for (const o of [...d.services, ...d.workloads.flatMap((w) => w.replicaSets)])
        for (const p of o.pods) expect(o.reasons[p], `${id} ${o.key} → ${p}`).toMatch(/\S/);
    }
    // Without the files the book wrote, a static pod's flags are unknown: no arrow from it.
    const bare = clusterDiagram(snapshotAfter('06-scheduler'));
    expect(bare.talks.filter((t) => 'pod' in t.from)).toEqual([]);
  });

  it('the second machine is not drawn before it is a node, and the drawing says why', () => {
    for (const id of ['00-machine', '05-controller-manager', '09-dns']) {
      const d = chapterDiagram(id);
      expect(
        d.nodes.map((n) => n.name),
        id,
      ).not.toContain('k8s-worker');
      expect(
        d.machines.map((m) => m.name),
        id,
      ).toEqual(['k8s-worker']);
    }
    expect(chapterDiagram('10-second-node').machines).toEqual([]);
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
    const place = (ns: string, pod: string, node: string, app: string, inApi = true, inDocker = true, appState = 'exited (1)') => {
      const address = `10.244.${nodes.indexOf(node)}.${ip++}`;
      if (inApi) kube[`pod ${ns}/${pod}`] = { phase: 'Running', node, ip: address };
      const prefix = node === 'k8s-master' ? '' : `${node}/`;
      if (inDocker) {
        docker[`container ${prefix}k8s_POD_${pod}_${ns}_…_0`] = { state: 'running' };
        docker[`container ${prefix}k8s_${app}_${pod}_${ns}_…_0`] = { state: appState };
      }
      return address;
    };
    for (const [i, n] of nodes.entries()) {
      const prefix = i === 0 ? '' : `${n}/`;
      kube[`node ${n}`] = { ready: 'True', ip: `192.168.56.${10 + i}` };
      for (const d of ['dockerd', 'cri-dockerd', 'kubelet']) daemons[`daemon ${prefix}${d}`] = { state: 'running' };
    }
    // The control plane runs from manifests the book wrote: their flags are the arrows' reasons.
    const files: WrittenFile[] = [];
    for (const s of c.statics) {
      const flags =
        s === 'kube-apiserver'
          ? ['--etcd-servers=http://127.0.0.1:2379']
          : s === 'etcd'
            ? ['--data-dir=/var/lib/etcd']
            : [`--kubeconfig=/etc/kubernetes/${s}.conf`];
      const content = `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: ${s}\n    command:\n    - ${s}\n${flags.map((f) => `    - ${f}\n`).join('')}`;
      files.push({ path: `/etc/kubernetes/manifests/${s}.yaml`, content, block: `write-${s}` });
      manifests[`manifest ${s}.yaml`] = { size: String(content.length), sha256: createHash('sha256').update(content).digest('hex').slice(0, 12) };
      place('kube-system', `${s}-k8s-master`, 'k8s-master', s, true, true, 'running');
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
    const snapshot: Snapshot = {
      sources: { kubernetes: available(kube), docker: available(docker), daemons: available(daemons), manifests: available(manifests), network: available({}) },
      logs: {},
      timings: {},
    };
    writtenBy.set(snapshot, files);
    return snapshot;
  });
/** The manifests each generated snapshot's "book" wrote. */
const writtenBy = new WeakMap<Snapshot, WrittenFile[]>();
const filesFor = (s: Snapshot) => ({ now: { files: writtenBy.get(s) ?? [] } });

/** The snapshot after the API server deleted `pods`: their objects gone, Docker's containers of them exited. */
function deleting(s: Snapshot, pods: Set<string>): Snapshot {
  const kube = Object.fromEntries(
    Object.entries((s.sources.kubernetes as { items: Record<string, Fields> }).items).filter(([k]) => !pods.has(k.slice(4)) || !k.startsWith('pod ')),
  );
  const docker = Object.fromEntries(
    Object.entries((s.sources.docker as { items: Record<string, Fields> }).items).map(([k, f]) => {
      const parts = k.replace(/^container (?:[^/]+\/(?=k8s_))?/, '').split('_');
      return [k, pods.has(`${parts[3]}/${parts[2]}`) ? { ...f, state: 'exited (0)' } : f];
    }),
  );
  const out = { ...s, sources: { ...s.sources, kubernetes: { available: true as const, items: kube }, docker: { available: true as const, items: docker } } };
  writtenBy.set(out, writtenBy.get(s) ?? []);
  return out;
}

describe('the cluster diagram of any cluster (generated)', () => {
  it('keeps the layout promises in both modes, and routes each Service to exactly its endpoints', () => {
    fc.assert(
      fc.property(clusterArb, (snapshot) => {
        const d = clusterDiagram(snapshot, undefined, filesFor(snapshot));
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
        const podsBefore = livePods(before);
        for (const p of d.nodes.flatMap((n) => n.pods)) expect(p.change === 'new', p.key).toBe(!podsBefore.has(p.key));
        const podsNow = livePods(now);
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

describe('the model of any cluster tells the truth (generated, issue 29)', () => {
  it("a pod deleted in block N is drawn in no later drawing; the drawing right after says it is gone, once; Docker's leftovers are listed as such", () => {
    fc.assert(
      fc.property(
        clusterArb.chain((before) => {
          const pods = [...apiPods(before)].map((k) => k.slice(4));
          return fc.tuple(fc.constant(before), fc.subarray(pods));
        }),
        ([before, chosen]) => {
          const gone = new Set(chosen);
          const after = deleting(before, gone);
          const drawnBefore = new Set(clusterDiagram(before).nodes.flatMap((n) => n.pods.map((p) => p.key)));
          const next = clusterDiagram(after, before, filesFor(after));
          const later = clusterDiagram(after, after, filesFor(after));
          for (const pod of gone) {
            for (const d of [next, later])
              expect(
                d.nodes.flatMap((n) => n.pods.map((p) => p.key)),
                pod,
              ).not.toContain(pod);
            expect(next.removed.includes(`pod ${pod}`), pod).toBe(drawnBefore.has(pod));
            expect(later.removed, pod).not.toContain(`pod ${pod}`);
          }
          // What Docker keeps of them is listed, never drawn as a live pod.
          expect(new Set(next.leftovers.map((l) => l.pod))).toEqual(deletedPods(after));
          for (const l of next.leftovers) expect(gone.has(l.pod)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a daemon the book restarted as its own is one daemon, running: in new snapshots (daemonItems) and in old ones (the run's events)", () => {
    const daemonName = fc.constantFrom('cri-dockerd', 'dockerd', 'kubelet', 'etcd');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: daemonName, running: fc.boolean() }), { selector: (d) => d.name }),
        fc.uniqueArray(fc.record({ name: daemonName, running: fc.boolean(), restarts: fc.nat(3) }), { selector: (d) => d.name }),
        (provisioned, own) => {
          const items = daemonItems(
            own.map((d) => ({
              name: d.name,
              argv: [d.name, '--kubeconfig=/etc/kubernetes/x.conf'],
              pid: 1,
              running: d.running,
              restarts: d.restarts,
              startedAt: null,
            })),
            provisioned.map((d) => ({ name: d.name, pid: 1, running: d.running })),
          );
          expect(Object.keys(items).sort()).toEqual([...new Set([...provisioned, ...own].map((d) => `daemon ${d.name}`))].sort());
          for (const d of own)
            expect(items[`daemon ${d.name}`]).toEqual({
              state: d.running ? 'running' : 'stopped',
              restarts: String(d.restarts),
              kubeconfig: '/etc/kubernetes/x.conf',
            });
          // An old snapshot: only the provisioned pid file, stale; the run's events say the book runs it.
          const old: Snapshot = {
            sources: {
              kubernetes: { available: false, reason: 'down' },
              docker: { available: true, items: {} },
              manifests: { available: true, items: {} },
              daemons: {
                available: true,
                items: Object.fromEntries(provisioned.map((d) => [`daemon ${d.name}`, { state: d.running ? 'running' : 'stopped' }])),
              },
              network: { available: true, items: {} },
            },
            logs: {},
            timings: {},
          };
          const events = new Map(own.map((d) => [d.name, d.running ? 'started' : 'stopped']));
          const drawn = clusterDiagram(old, undefined, { now: { daemonEvents: events } }).nodes[0]?.daemons ?? [];
          for (const d of provisioned) {
            const expected = events.has(d.name) ? (events.get(d.name) === 'stopped' ? 'stopped' : 'running') : d.running ? 'running' : 'stopped';
            expect(drawn.find((x) => x.name === d.name)?.state, d.name).toBe(expected);
          }
          // The terminal tree says the same.
          const tree = clusterTree(old, { daemonEvents: events })[0]?.daemons ?? [];
          expect(Object.fromEntries(tree.map((x) => [x.name, x.state]))).toEqual(Object.fromEntries(drawn.map((x) => [x.name, x.state])));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('every arrow has a reason from the recorded state, and a static pod whose manifest is unknown gets none', () => {
    fc.assert(
      fc.property(clusterArb, (snapshot) => {
        const d = clusterDiagram(snapshot, undefined, filesFor(snapshot));
        for (const t of d.talks)
          expect(t.reason).toMatch(
            /^(kubelet --kubeconfig=|Node \S+ in the API server|kube-\S+ --kubeconfig=\/etc\/kubernetes\/kube-\S+\.conf \(manifest |kube-apiserver --etcd-servers=)/,
          );
        const statics = (snapshot.sources.manifests as { items: Record<string, Fields> }).items;
        const apiRuns = Boolean(statics['manifest kube-apiserver.yaml']);
        // Every client the manifests name talks to the API server while it runs, and only then.
        for (const role of ['kube-scheduler', 'kube-proxy'])
          expect(
            d.talks.some((t) => 'pod' in t.from && t.from.pod === `kube-system/${role}-k8s-master`),
            role,
          ).toBe(apiRuns && Boolean(statics[`manifest ${role}.yaml`]));
        expect(d.talks.some((t) => t.kind === 'store')).toBe(apiRuns && Boolean(statics['manifest etcd.yaml']));
        // No file, no flag, no arrow from a pod.
        expect(clusterDiagram(snapshot).talks.filter((t) => 'pod' in t.from)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

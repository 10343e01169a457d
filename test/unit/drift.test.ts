import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { driftView } from '../../src/runner/resume.js';
import { diffSnapshots } from '../../src/runner/state/diff.js';
import type { Fields, Snapshot } from '../../src/runner/state/types.js';

const snap = (docker: Record<string, Fields>, kubernetes: Record<string, Fields> = {}): Snapshot => {
  const empty = { available: true as const, items: {} };
  return {
    sources: {
      kubernetes: { available: true, items: kubernetes },
      docker: { available: true, items: docker },
      manifests: empty,
      daemons: empty,
      network: empty,
    },
    logs: {},
    timings: {},
  };
};
const drift = (before: Snapshot, after: Snapshot) => diffSnapshots(driftView(before), driftView(after)).changes.map((c) => `${c.op} ${c.key}`);

describe('drift: what --from refuses', () => {
  const running = { image: 'nginx:latest', state: 'running' };
  const pod = { 'pod default/nginx-k8s-master': { phase: 'Running', restarts: '0' } };

  it('does not count a container the kubelet restarted (same pod and container, a new attempt)', () => {
    const before = snap({ 'container k8s_nginx_nginx-k8s-master_default_…_0': running }, pod);
    const after = snap(
      {
        'container k8s_nginx_nginx-k8s-master_default_…_0': { image: 'nginx:latest', state: 'exited (137)' },
        'container k8s_nginx_nginx-k8s-master_default_…_1': running,
      },
      { 'pod default/nginx-k8s-master': { phase: 'Running', restarts: '1' } },
    );
    expect(drift(before, after)).toEqual([]);
  });

  it('still counts a container that stopped, a missing pod, and a container that is not the same one', () => {
    const before = snap({ 'container k8s_nginx_nginx-k8s-master_default_…_0': running }, pod);
    expect(drift(before, snap({ 'container k8s_nginx_nginx-k8s-master_default_…_0': { image: 'nginx:latest', state: 'exited (0)' } }, pod))).toEqual([
      '- container k8s_nginx_nginx-k8s-master_default_…',
    ]);
    expect(drift(before, snap({ 'container k8s_nginx_nginx-k8s-master_default_…_0': running }))).toEqual(['- pod default/nginx-k8s-master']);
    expect(drift(before, snap({ 'container k8s_other_nginx-k8s-master_default_…_0': running }, pod))).toEqual([
      '+ container k8s_other_nginx-k8s-master_default_…',
      '- container k8s_nginx_nginx-k8s-master_default_…',
    ]);
  });

  // Generated: a ReplicaSet's pods, on either node, renamed by the ReplicaSet (deleted and replaced).
  const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
  const suffix = fc.stringMatching(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const node = fc.constantFrom('', 'k8s-worker/');
  const replicaSet = fc.record({
    namespace: label,
    name: fc.tuple(label, fc.stringMatching(/^[a-f0-9]{6,10}$/)).map(([a, b]) => `${a}-${b}`),
    container: label,
  });
  const world = (
    rs: { namespace: string; name: string; container: string },
    pods: { suffix: string; node: string; attempt: number }[],
    withReplicaSet = true,
  ) =>
    snap(
      Object.fromEntries(
        pods.flatMap((p) => [
          [`container ${p.node}k8s_${rs.container}_${rs.name}-${p.suffix}_${rs.namespace}_…_${p.attempt}`, running],
          [`container ${p.node}k8s_POD_${rs.name}-${p.suffix}_${rs.namespace}_…_0`, { image: 'registry.k8s.io/pause:3.10.2', state: 'running' }],
        ]),
      ),
      Object.fromEntries([
        ...(withReplicaSet ? [[`replicaset ${rs.namespace}/${rs.name}`, { replicas: `${pods.length}/${pods.length} ready` }]] : []),
        ...pods.map((p) => [`pod ${rs.namespace}/${rs.name}-${p.suffix}`, { phase: 'Running' }]),
      ]),
    );
  const pods = (n: number) => fc.uniqueArray(fc.record({ suffix, node, attempt: fc.nat(3) }), { minLength: n, maxLength: n, selector: (p) => p.suffix });

  it("does not count a ReplicaSet's pod that was replaced by another: replicas are counted, not named (generated)", () => {
    fc.assert(
      fc.property(
        replicaSet,
        fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(pods(n), pods(n))),
        (rs, [before, after]) => {
          // The same number on each node; names and attempts are the ReplicaSet's and the kubelet's business.
          const sorted = (list: { node: string }[]) => list.map((p) => p.node).sort();
          fc.pre(JSON.stringify(sorted(before)) === JSON.stringify(sorted(after)));
          expect(drift(world(rs, before), world(rs, after))).toEqual([]);
        },
      ),
    );
  });

  it('still counts a replica more or less, and names pods that no ReplicaSet owns (generated)', () => {
    fc.assert(
      fc.property(
        replicaSet,
        fc.integer({ min: 1, max: 4 }).chain((n) => pods(n + 1)),
        (rs, list) => {
          const fewer = list.slice(1);
          expect(drift(world(rs, list), world(rs, fewer)).length).toBeGreaterThan(0);
          expect(drift(world(rs, fewer), world(rs, list)).length).toBeGreaterThan(0);
          // Without the ReplicaSet, a pod whose name merely looks generated is a pod of its own.
          const renamed = list.map((p, i) => (i === 0 ? { ...p, suffix: p.suffix === 'bbbbb' ? 'ccccc' : 'bbbbb' } : p));
          fc.pre(new Set(renamed.map((p) => p.suffix)).size === renamed.length);
          expect(drift(world(rs, list, false), world(rs, renamed, false))).toContain(`- pod ${rs.namespace}/${rs.name}-${list[0]?.suffix}`);
        },
      ),
    );
  });

  it("does not count a static pod's old sandbox still running beside the new one (their keys differ only by the ` (2)` of a collision)", () => {
    const pause = { image: 'registry.k8s.io/pause:3.10.2', state: 'running' };
    const kcm = { 'pod kube-system/kube-controller-manager-k8s-master': { phase: 'Running' } };
    const during = snap(
      {
        'container k8s_POD_kube-controller-manager-k8s-master_kube-system_…_0': pause,
        'container k8s_POD_kube-controller-manager-k8s-master_kube-system_…_0 (2)': pause,
      },
      kcm,
    );
    const after = snap({ 'container k8s_POD_kube-controller-manager-k8s-master_kube-system_…_0': pause }, kcm);
    expect(drift(during, after)).toEqual([]);
    expect(drift(after, during)).toEqual([]);
    expect(drift(after, snap({}, kcm))).toEqual(['- container k8s_POD_kube-controller-manager-k8s-master_kube-system_…']);
  });
});

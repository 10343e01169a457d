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
});

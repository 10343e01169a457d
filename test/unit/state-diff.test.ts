import { describe, expect, it } from 'vitest';
import { diffSnapshots, formatDiff, summaryLine } from '../../src/runner/state/diff.js';
import type { Snapshot, SourceState } from '../../src/runner/state/types.js';

const off = (reason: string): SourceState => ({ available: false, reason });
function snap(sources: Partial<Snapshot['sources']>): Snapshot {
  const empty: SourceState = { available: true, items: {} };
  return { sources: { kubernetes: empty, docker: empty, manifests: empty, daemons: empty, network: empty, ...sources }, logs: {}, timings: {} };
}
const ANSI = /\u001b\[[0-9;]*m/g;

describe('diffSnapshots', () => {
  const before = snap({
    kubernetes: {
      available: true,
      items: {
        'pod default/nginx': { phase: 'Pending', node: 'k8s-master', ready: '0/1', restarts: '0' },
        'pod default/old': { phase: 'Running' },
      },
    },
    daemons: { available: true, items: { 'daemon kubelet': { state: 'running', restarts: '0' } } },
  });
  const after = snap({
    kubernetes: {
      available: true,
      items: {
        'pod default/nginx': { phase: 'Running', node: 'k8s-master', ip: '172.17.0.2', ready: '1/1', restarts: '0' },
        'service default/kubernetes': { type: 'ClusterIP', clusterIP: '10.0.0.1', ports: '443/TCP' },
      },
    },
    daemons: { available: true, items: { 'daemon kubelet': { state: 'running', restarts: '0' } } },
  });

  it('lists added, changed (field by field, old → new) and removed objects, and counts them', () => {
    const diff = diffSnapshots(before, after);
    expect(diff.changes).toEqual([
      {
        op: '~',
        key: 'pod default/nginx',
        changes: [
          { field: 'phase', old: 'Pending', new: 'Running' },
          { field: 'ready', old: '0/1', new: '1/1' },
          { field: 'ip', old: '', new: '172.17.0.2' },
        ],
      },
      { op: '+', key: 'service default/kubernetes', fields: { type: 'ClusterIP', clusterIP: '10.0.0.1', ports: '443/TCP' } },
      { op: '-', key: 'pod default/old', fields: { phase: 'Running' } },
    ]);
    expect(summaryLine(diff)).toBe('1 to add, 1 to change, 1 to remove');
  });

  it('is empty when nothing changed, and then prints nothing', () => {
    const diff = diffSnapshots(after, structuredClone(after));
    expect(diff).toEqual({ changes: [], add: 0, change: 0, remove: 0 });
    expect(formatDiff(diff)).toEqual([]);
  });

  it('says when a source becomes (un)available, without calling its objects removed', () => {
    const noApi = snap({ kubernetes: off('no kubeconfig at /etc/kubernetes/admin.kubeconfig'), daemons: after.sources.daemons });
    const up = diffSnapshots(noApi, after);
    expect(up.changes[0]).toEqual({
      op: '~',
      key: 'kubernetes',
      changes: [{ field: 'source', old: 'unavailable (no kubeconfig at /etc/kubernetes/admin.kubeconfig)', new: 'available' }],
    });
    expect(up.add).toBe(2);
    const down = diffSnapshots(after, snap({ kubernetes: off('connection refused'), daemons: after.sources.daemons }));
    expect(down.changes.map((c) => [c.op, c.key])).toEqual([['~', 'kubernetes']]);
    expect(down.remove).toBe(0);
    expect(diffSnapshots(noApi, structuredClone(noApi)).changes).toEqual([]);
  });

  it('formats Terraform-style; the symbols carry the meaning without colour', () => {
    const diff = diffSnapshots(before, after);
    const plain = formatDiff(diff, { color: false });
    expect(plain).toEqual([
      '~ pod default/nginx  phase: Pending → Running, ready: 0/1 → 1/1, ip: (none) → 172.17.0.2',
      '+ service default/kubernetes  type=ClusterIP clusterIP=10.0.0.1 ports=443/TCP',
      '- pod default/old',
      '1 to add, 1 to change, 1 to remove',
    ]);
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      const colored = formatDiff(diff, { color: true });
      expect(colored.join('\n')).toMatch(ANSI);
      expect(colored.map((l) => l.replace(ANSI, ''))).toEqual(plain);
      process.env.NO_COLOR = '1';
      expect(formatDiff(diff, { color: true })).toEqual(plain);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});

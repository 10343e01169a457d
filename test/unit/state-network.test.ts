import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/runner/state/diff.js';
import { chainItems, linkItems, networkItems } from '../../src/runner/state/network.js';
import type { Snapshot } from '../../src/runner/state/types.js';

/** `ip -d -j addr show` and `iptables-save` in the local machine after chapter 9 (CNI, kube-proxy, CoreDNS). */
const captured = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'events', 'network.txt'), 'utf8');

const snap = (network: Record<string, Record<string, string>>): Snapshot => {
  const empty = { available: true as const, items: {} };
  return {
    sources: { kubernetes: empty, docker: empty, manifests: empty, daemons: empty, network: { available: true, items: network } },
    logs: {},
    timings: {},
  };
};

describe('the network source', () => {
  const items = networkItems(captured);

  it('shows the cni0 bridge with the pod gateway, and each pod veth on it', () => {
    expect(items['link cni0']).toMatchObject({ kind: 'bridge', ip: '10.244.0.1/24', state: 'UP' });
    const veths = Object.entries(items).filter(([key, f]) => key.startsWith('link veth') && f.master === 'cni0');
    expect(veths.length).toBeGreaterThanOrEqual(2);
    for (const [, f] of veths) expect(f).toEqual({ kind: 'veth', master: 'cni0', state: 'UP' });
    expect(items['link eth0']?.ip).toBe('192.168.56.10/24');
  });

  it("names the Service each of kube-proxy's chains serves, and where each endpoint chain DNATs", () => {
    const svc = Object.entries(items).filter(([key, f]) => key.startsWith('chain nat/KUBE-SVC-') && f.service === 'default/nginx-deployment:http');
    expect(svc).toHaveLength(1);
    const seps = Object.entries(items).filter(([key, f]) => key.startsWith('chain nat/KUBE-SEP-') && f.service === 'default/nginx-deployment:http');
    expect(seps).toHaveLength(2);
    for (const [, f] of seps) expect(f.dnat).toMatch(/^10\.244\.0\.\d+:80$/);
    expect(Number(items['chain nat/KUBE-SERVICES']?.rules)).toBeGreaterThan(2);
    expect(Object.keys(items).some((key) => key.startsWith('chain nat/KUBE-SVC-') && items[key]?.service === 'kube-system/kube-dns:dns')).toBe(true);
  });

  it('leaves built-in chains out and keeps tables apart', () => {
    const text =
      '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FORWARD - [0:0]\n-A INPUT -j KUBE-FORWARD\n-A KUBE-FORWARD -j ACCEPT\nCOMMIT\n*nat\n:KUBE-FORWARD - [0:0]\nCOMMIT\n';
    expect(chainItems(text)).toEqual({ 'chain filter/KUBE-FORWARD': { rules: '1' }, 'chain nat/KUBE-FORWARD': { rules: '0' } });
  });

  it('survives output that is not what it expects', () => {
    expect(linkItems('not json')).toEqual({});
    expect(linkItems('{"an": "object"}')).toEqual({});
    expect(networkItems('')).toEqual({});
  });

  it('diffs a recreated pod as one veth gone and one added', () => {
    const before = snap({ 'link veth1': { kind: 'veth', master: 'cni0', state: 'UP' } });
    const after = snap({ 'link veth2': { kind: 'veth', master: 'cni0', state: 'UP' } });
    const diff = diffSnapshots(before, after);
    expect(diff.changes.map((c) => `${c.op} ${c.key}`)).toEqual(['+ link veth2', '- link veth1']);
  });
});

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { K8s } from '../../src/runner/clients.js';
import { diffSnapshots } from '../../src/runner/state/diff.js';
import { containerItems, type DockerContainer } from '../../src/runner/state/docker.js';
import { type KubernetesLists, kubernetesItems, kubernetesLists } from '../../src/runner/state/kubernetes.js';
import { daemonItems, machineFilesScript, parseMachineFiles } from '../../src/runner/state/machine-files.js';
import { shortReason, stripIds } from '../../src/runner/state/normalise.js';
import type { Snapshot } from '../../src/runner/state/types.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'events');
/** `GET /containers/json?all=1` of the local machine's Docker 26.1 (API 1.45) running the cluster. */
const containers = (): DockerContainer[] => JSON.parse(readFileSync(path.join(FIXTURES, 'docker-containers.json'), 'utf8'));
/** `kubectl get … -A -o json` of the same cluster (managedFields and annotations trimmed). */
const lists = (): KubernetesLists => JSON.parse(readFileSync(path.join(FIXTURES, 'k8s-lists.json'), 'utf8'));

function snapWith(kubernetes: Record<string, Record<string, string>>, docker: Record<string, Record<string, string>>): Snapshot {
  return {
    sources: {
      kubernetes: { available: true, items: kubernetes },
      docker: { available: true, items: docker },
      manifests: { available: true, items: {} },
      daemons: { available: true, items: {} },
      network: { available: true, items: {} },
    },
    logs: {},
    timings: {},
  };
}

describe('docker containers', () => {
  it('lists pause containers too, with image, state, network mode and IP, and uids elided from names', () => {
    const items = containerItems(containers());
    expect(items['container k8s_POD_nginx-k8s-master_default_…_0']).toEqual({
      image: 'registry.k8s.io/pause:3.10.1',
      state: 'running',
      network: 'bridge',
      ip: '172.17.0.2',
    });
    expect(Object.keys(items).filter((k) => k.startsWith('container k8s_POD_')).length).toBe(7);
    expect(Object.keys(items).join('\n')).not.toMatch(/[0-9a-f]{32}/);
  });

  it('names the other container for container:<id> network mode, not its id', () => {
    const items = containerItems(containers());
    expect(items['container k8s_etcd_etcd-k8s-master_kube-system_…_0']?.network).toBe('container:k8s_POD_etcd-k8s-master_kube-system_…_0');
    for (const fields of Object.values(items)) expect(fields.network ?? '').not.toMatch(/container:[0-9a-f]{12}/);
  });

  it('reads the IP from NetworkSettings.Networks (Docker API ≥1.52 has no top-level IPAddress)', () => {
    const modern = containers().map((c) => ({ ...c, NetworkSettings: { Networks: c.NetworkSettings?.Networks } }));
    expect(containerItems(modern)['container k8s_POD_nginx-k8s-master_default_…_0']?.ip).toBe('172.17.0.2');
    const exited =
      containerItems(containers())['container k8s_nginx_nginx-k8s-master_default_…_0 (2)'] ??
      containerItems(containers())['container k8s_nginx_nginx-k8s-master_default_…_0'];
    expect(exited?.state).toMatch(/^(running|exited \(\d+\))$/);
  });

  it('sees no change when only ids, uptimes and creation times change', () => {
    const a = containers();
    const b = a.map((c) => ({
      ...c,
      Id: c.Id.split('').reverse().join(''),
      Status: c.Status?.replace(/(About )?(an?|\d+) (seconds?|minutes?|hours?)/, '3 hours'),
      Created: (c.Created ?? 0) + 100,
    }));
    // container:<id> references follow the new ids
    for (const c of b) {
      const mode = c.HostConfig?.NetworkMode ?? '';
      if (mode.startsWith('container:')) {
        const other = a.find((x) => x.Id.startsWith(mode.slice(10)));
        c.HostConfig = { NetworkMode: `container:${other?.Id.split('').reverse().join('')}` };
      }
    }
    expect(diffSnapshots(snapWith({}, containerItems(a)), snapWith({}, containerItems(b))).changes).toEqual([]);
  });
});

describe('kubernetes objects', () => {
  it('keeps nodes, pods (phase, node, IP, ready, restarts), deployments, replicasets, services, endpointslices', () => {
    const items = kubernetesItems(lists());
    const kinds = [...new Set(Object.keys(items).map((k) => k.split(' ')[0]))];
    expect(kinds).toEqual(['node', 'pod', 'deployment', 'replicaset', 'service', 'endpointslice']);
    expect(items['endpointslice default/nginx-deployment-8fl26']).toEqual({
      service: 'nginx-deployment',
      endpoints: '10.244.0.3,10.244.0.4',
      pods: 'nginx-deployment-d8b657495-2kd95 nginx-deployment-d8b657495-6wbjr',
      ports: '80/TCP',
    });
    // A host-network endpoint's address is the node's: the pod behind it is named.
    expect(items['endpointslice kube-system/kube-dns-fz9dx']).toMatchObject({ endpoints: '192.168.56.10', pods: 'coredns-fc744fdc8-j5vgw' });
    expect(items['node k8s-master']).toMatchObject({ ready: expect.stringMatching(/True|False|Unknown/) });
    expect(items['service default/kubernetes']).toMatchObject({ type: 'ClusterIP', ports: '443/TCP' });
    const pod = items['pod kube-system/etcd-k8s-master'];
    expect(pod).toMatchObject({ node: 'k8s-master', ready: expect.stringMatching(/^\d\/1$/), restarts: expect.stringMatching(/^\d+$/) });
    expect(Object.keys(items['deployment default/nginx-deployment'] ?? {})).toEqual(['replicas', 'updated', 'available']);
  });

  it('normalises churn away: resourceVersions, uids, timestamps, heartbeats', () => {
    const a = lists();
    const b = lists();
    for (const list of Object.values(b) as { metadata?: Record<string, unknown>; status?: { conditions?: Record<string, unknown>[] } }[][]) {
      for (const o of list) {
        if (o.metadata)
          Object.assign(o.metadata, { resourceVersion: '999999', uid: '00000000-0000-0000-0000-000000000000', creationTimestamp: '2030-01-01T00:00:00Z' });
        for (const c of o.status?.conditions ?? []) Object.assign(c, { lastHeartbeatTime: '2030-01-01T00:00:00Z', lastTransitionTime: '2030-01-01T00:00:00Z' });
      }
    }
    expect(diffSnapshots(snapWith(kubernetesItems(a), {}), snapWith(kubernetesItems(b), {})).changes).toEqual([]);
    const running = lists();
    const pod = running.pods.find((p) => p.metadata?.name === 'nginx-k8s-master');
    if (pod?.status) pod.status.containerStatuses = pod.status.containerStatuses?.map((s) => ({ ...s, restartCount: s.restartCount + 1 }));
    const diff = diffSnapshots(snapWith(kubernetesItems(a), {}), snapWith(kubernetesItems(running), {}));
    expect(diff.changes).toEqual([{ op: '~', key: 'pod default/nginx-k8s-master', changes: [expect.objectContaining({ field: 'restarts' })] }]);
  });
});

describe('the API lists', () => {
  it('fetches the six lists in one round trip, on kept-alive connections', async () => {
    const recorded = lists();
    const byPath: Record<string, unknown[]> = {
      '/api/v1/nodes': recorded.nodes,
      '/api/v1/pods': recorded.pods,
      '/apis/apps/v1/deployments': recorded.deployments,
      '/apis/apps/v1/replicasets': recorded.replicasets,
      '/api/v1/services': recorded.services,
      '/apis/discovery.k8s.io/v1/endpointslices': recorded.endpointslices,
    };
    const seen: string[] = [];
    let connections = 0;
    const server = http.createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      const items = byPath[req.url ?? ''];
      res.writeHead(items ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'List', items: items ?? [] }));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'u', token: 'admin-token' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const k8s = { kc, server: 'https://127.0.0.1:6443' } as unknown as K8s;
      const first = await kubernetesLists(k8s);
      expect(kubernetesItems(first)).toEqual(kubernetesItems(recorded));
      expect(seen.sort()).toEqual(
        Object.keys(byPath)
          .map((p) => `${p} Bearer admin-token`)
          .sort(),
      );
      const opened = connections;
      await kubernetesLists(k8s);
      expect(connections).toBe(opened);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('machine files and daemons', () => {
  it('reads manifests, provisioned daemons and log tails in one script, and parses its output', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'state-files-'));
    mkdirSync(`${dir}/manifests`);
    mkdirSync(`${dir}/run/daemons`, { recursive: true });
    mkdirSync(`${dir}/run/logs`);
    writeFileSync(`${dir}/manifests/nginx.yaml`, 'kind: Pod\n');
    writeFileSync(`${dir}/manifests/etcd.yaml`, 'kind: Pod\nmetadata: {name: etcd}\n');
    writeFileSync(`${dir}/run/dockerd.pid`, `${process.pid}\n`);
    writeFileSync(`${dir}/run/cri-dockerd.pid`, '999999999\n');
    writeFileSync(`${dir}/run/daemons/kubelet.log`, 'one\ntwo\nthree\r\nfour\n');
    writeFileSync(`${dir}/run/logs/dockerd.log`, 'level=info msg="API listen"\n');
    try {
      const stdout = execFileSync('bash', ['-c', machineFilesScript(`${dir}/run`, `${dir}/manifests`)], { encoding: 'utf8' });
      const out = parseMachineFiles(stdout);
      expect(out.manifests).toEqual({
        'manifest etcd.yaml': { size: '33', sha256: expect.stringMatching(/^[0-9a-f]{12}$/) },
        'manifest nginx.yaml': { size: '10', sha256: createHash('sha256').update('kind: Pod\n').digest('hex').slice(0, 12) },
      });
      expect(out.provisioned).toEqual([
        { name: 'cri-dockerd', pid: 999999999, running: false },
        { name: 'dockerd', pid: process.pid, running: true },
      ]);
      expect(out.logs).toEqual({ kubelet: ['two', 'three', 'four'], dockerd: ['level=info msg="API listen"'] });
      const daemons = daemonItems(
        [{ name: 'kubelet', argv: ['kubelet'], pid: 42, running: true, restarts: 2, startedAt: '2026-01-01T00:00:00Z' }],
        out.provisioned,
      );
      expect(daemons).toEqual({
        'daemon cri-dockerd': { state: 'stopped' },
        'daemon dockerd': { state: 'running' },
        'daemon kubelet': { state: 'running', restarts: '2' },
      });
      // nothing there yet: no error, nothing listed
      expect(parseMachineFiles(execFileSync('bash', ['-c', machineFilesScript(`${dir}/none`, `${dir}/none`)], { encoding: 'utf8' }))).toEqual({
        manifests: {},
        provisioned: [],
        logs: {},
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps reasons short and stable', () => {
    expect(
      shortReason(
        new Error(
          'k8s.core is not available: there is no kubeconfig at /etc/kubernetes/admin.kubeconfig on the machine yet, so no API server to talk to (the book writes it when it starts kube-apiserver)',
        ),
      ),
    ).toBe('there is no kubeconfig at /etc/kubernetes/admin.kubeconfig on the machine yet, so no API server to talk to');
    expect(stripIds('k8s_POD_web_default_29651cfa-70f1-4f20-b80f-f7b02ecc650d_0')).toBe('k8s_POD_web_default_…_0');
  });
});

// The snapshot's six API lists: all at once while the API server answers; while it does not, one
// first (a snapshot then costs one failed request, not six) — and the first answer brings all back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { K8s } from '../../src/runner/clients.js';
import { kubernetesLists } from '../../src/runner/state/kubernetes.js';

let server: http.Server;
let answering = true;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(answering ? 200 : 503, { 'content-type': 'application/json' });
    res.end(answering ? '{"items":[]}' : '{"message":"not ready"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the API lists of a snapshot', () => {
  it('asks once before the other five while the API server fails, and all six again once it answers', async () => {
    const kc = new KubeConfig();
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const k8s = { kc, server: url } as unknown as K8s;
    const asked = async (fn: () => Promise<unknown>) => {
      requests.length = 0;
      await fn().catch(() => undefined);
      return [...requests].sort();
    };
    expect(await asked(() => kubernetesLists(k8s))).toHaveLength(6);
    answering = false;
    expect(await asked(() => kubernetesLists(k8s))).toHaveLength(6); // it answered last time
    await expect(kubernetesLists(k8s)).rejects.toThrow(/HTTP 503/);
    expect(await asked(() => kubernetesLists(k8s))).toEqual(['/api/v1/nodes']);
    answering = true;
    const lists = await kubernetesLists(k8s);
    expect(Object.keys(lists)).toEqual(['nodes', 'pods', 'deployments', 'replicasets', 'services', 'endpointslices']);
    expect(await asked(() => kubernetesLists(k8s))).toHaveLength(6);
  });
});

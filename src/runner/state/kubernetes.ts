import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, V1Deployment, V1EndpointSlice, V1Node, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { K8s } from '../clients.js';
import { addItem, compact } from './normalise.js';
import type { Fields } from './types.js';

export interface KubernetesLists {
  nodes: V1Node[];
  pods: V1Pod[];
  deployments: V1Deployment[];
  replicasets: V1ReplicaSet[];
  services: V1Service[];
  endpointslices: V1EndpointSlice[];
}

const nsName = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? '?'}`;

/**
 * Only what a reader watches change: readiness, phase, placement, IPs, restarts, replica counts.
 * uids, resourceVersions, timestamps and heartbeats are left out, so they never show as changes.
 */
export function kubernetesItems(lists: KubernetesLists): Record<string, Fields> {
  const items: Record<string, Fields> = {};
  for (const n of lists.nodes) {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
    const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    addItem(items, `node ${n.metadata?.name}`, compact({ ready, version: n.status?.nodeInfo?.kubeletVersion, ip }));
  }
  for (const p of lists.pods) {
    const statuses = p.status?.containerStatuses ?? [];
    const specCount = p.spec?.containers?.length ?? statuses.length;
    const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
    const ready = `${statuses.filter((s) => s.ready).length}/${specCount}`;
    addItem(
      items,
      `pod ${nsName(p)}`,
      compact({ phase: p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase, node: p.spec?.nodeName, ip: p.status?.podIP, ready, restarts }),
    );
  }
  for (const d of lists.deployments) {
    addItem(
      items,
      `deployment ${nsName(d)}`,
      compact({
        replicas: `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1} ready`,
        updated: d.status?.updatedReplicas ?? 0,
        available: d.status?.availableReplicas ?? 0,
      }),
    );
  }
  for (const r of lists.replicasets) {
    const owner = r.metadata?.ownerReferences?.find((o) => o.controller)?.name;
    addItem(items, `replicaset ${nsName(r)}`, compact({ replicas: `${r.status?.readyReplicas ?? 0}/${r.spec?.replicas ?? 0} ready`, owner }));
  }
  for (const s of lists.services) {
    const ports = (s.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
    addItem(items, `service ${nsName(s)}`, compact({ type: s.spec?.type, clusterIP: s.spec?.clusterIP, ports }));
  }
  for (const e of lists.endpointslices ?? []) {
    const serving = (e.endpoints ?? []).filter((p) => p.conditions?.ready !== false);
    const ready = serving.flatMap((p) => p.addresses);
    // The pods behind the addresses: a host-network pod's address is its node's, shared by many.
    const pods = serving.flatMap((p) => (p.targetRef?.kind === 'Pod' && p.targetRef.name ? [p.targetRef.name] : []));
    const ports = (e.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
    addItem(
      items,
      `endpointslice ${nsName(e)}`,
      compact({
        service: e.metadata?.labels?.['kubernetes.io/service-name'],
        endpoints: ready.sort().join(','),
        // Spaces, not commas: a comma list of long names reads like a token-auth line to the redactor.
        pods: pods.sort().join(' '),
        ports,
      }),
    );
  }
  return items;
}

/** A keep-alive agent per kubeconfig: after the first snapshot the lists reuse their connections. */
const agents = new WeakMap<KubeConfig, { agent: http.Agent; options: https.RequestOptions }>();

async function agentFor(kc: KubeConfig, secure: boolean): Promise<{ agent: http.Agent; options: https.RequestOptions }> {
  const known = agents.get(kc);
  if (known) return known;
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const servername = kc.getCurrentCluster()?.tlsServerName;
  if (servername) options.servername = servername;
  const tls = { ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized, servername: options.servername };
  const agent = secure ? new https.Agent({ ...tls, keepAlive: true, maxSockets: 8 }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
  const made = { agent, options };
  agents.set(kc, made);
  return made;
}

/**
 * Six lists in parallel: one round trip's worth of latency. The runner's clients open a new
 * connection (a new tunnel into the machine, a new TLS handshake) per request; these requests go
 * through the same kubeconfig and forward, on kept-alive connections (~150 ms → ~20 ms).
 */
async function listAll(k8s: K8s): Promise<KubernetesLists> {
  const kc = k8s.kc;
  const base = kc.getCurrentCluster()?.server;
  if (!base) throw new Error('the kubeconfig has no current cluster');
  const secure = base.startsWith('https:');
  const { agent, options } = await agentFor(kc, secure);
  const list = <T>(path: string) =>
    new Promise<T[]>((resolve, reject) => {
      const request = (secure ? https : http).get(new URL(path, base), { ...options, agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${response.statusCode} ${body.slice(0, 200)}`));
          try {
            resolve((JSON.parse(body) as { items?: T[] }).items ?? []);
          } catch (error) {
            reject(error);
          }
        });
      });
      request.on('error', (error: Error & { code?: string }) =>
        reject(
          /ECONNRESET|ECONNREFUSED|socket hang up/.test(`${error.code ?? ''} ${error.message}`)
            ? new Error(`the API server at ${k8s.server} is not reachable (connection refused or reset)`)
            : error,
        ),
      );
    });
  // An API server that did not answer last time is asked once before the other five: while it is
  // down (its kubeconfig written, the process not started yet) a snapshot costs one refused connection.
  const first = list<V1Node>('/api/v1/nodes');
  if (unanswered.has(kc)) await first;
  const [nodes, pods, deployments, replicasets, services, endpointslices] = await Promise.all([
    first,
    list<V1Pod>('/api/v1/pods'),
    list<V1Deployment>('/apis/apps/v1/deployments'),
    list<V1ReplicaSet>('/apis/apps/v1/replicasets'),
    list<V1Service>('/api/v1/services'),
    list<V1EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices'),
  ]);
  return { nodes, pods, deployments, replicasets, services, endpointslices };
}

/** Kubeconfigs whose API server failed the last snapshot's lists. */
const unanswered = new WeakSet<KubeConfig>();

/** The six lists, remembering whether the API server answered them (asked once first while it does not). */
export async function kubernetesLists(k8s: K8s): Promise<KubernetesLists> {
  const kc = k8s.kc;
  try {
    const lists = await listAll(k8s);
    unanswered.delete(kc);
    return lists;
  } catch (error) {
    unanswered.add(kc);
    throw error;
  }
}

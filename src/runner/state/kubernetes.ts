import type { V1Deployment, V1Node, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { K8s } from '../clients.js';
import { addItem, compact } from './normalise.js';
import type { Fields } from './types.js';

export interface KubernetesLists {
  nodes: V1Node[];
  pods: V1Pod[];
  deployments: V1Deployment[];
  replicasets: V1ReplicaSet[];
  services: V1Service[];
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
  return items;
}

/** Five lists in parallel: one round trip's worth of latency. */
export async function kubernetesLists(k8s: K8s): Promise<KubernetesLists> {
  const [nodes, pods, deployments, replicasets, services] = await Promise.all([
    k8s.core.listNode(),
    k8s.core.listPodForAllNamespaces(),
    k8s.apps.listDeploymentForAllNamespaces(),
    k8s.apps.listReplicaSetForAllNamespaces(),
    k8s.core.listServiceForAllNamespaces(),
  ]);
  return { nodes: nodes.items, pods: pods.items, deployments: deployments.items, replicasets: replicasets.items, services: services.items };
}

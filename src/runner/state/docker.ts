import type Docker from 'dockerode';
import { addItem, compact, stripIds } from './normalise.js';
import type { Fields } from './types.js';

/** The fields of `GET /containers/json?all=1` this snapshot reads (Docker API 1.41 … ≥1.52). */
export interface DockerContainer {
  Id: string;
  Names?: string[];
  Image?: string;
  State?: string;
  Status?: string;
  Created?: number;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string } | null> | null } | null;
}

function containerName(c: DockerContainer): string {
  return stripIds((c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''));
}

/** `Exited (137) 3 seconds ago` → `exited (137)`; running containers' uptime is churn. */
function state(c: DockerContainer): string {
  const s = c.State ?? 'unknown';
  const code = s === 'exited' ? /Exited \((-?\d+)\)/.exec(c.Status ?? '')?.[1] : undefined;
  return code !== undefined ? `${s} (${code})` : s;
}

/**
 * The container's IP: Docker API ≥1.52 dropped the top-level NetworkSettings.IPAddress, so it is
 * read from the network the container is attached to (its network mode's first, then any).
 */
function ip(c: DockerContainer): string {
  const networks = c.NetworkSettings?.Networks ?? {};
  const mode = c.HostConfig?.NetworkMode ?? '';
  const preferred = networks[mode === 'default' ? 'bridge' : mode]?.IPAddress;
  if (preferred) return preferred;
  for (const n of Object.values(networks)) if (n?.IPAddress) return n.IPAddress;
  return c.NetworkSettings?.IPAddress ?? '';
}

/**
 * Containers keyed by name (cri-dockerd's `k8s_POD_<pod>_<ns>_<uid>_<n>` with the uid elided).
 * A `container:<id>` network mode names the other container, as `docker ps` users know it.
 */
export function containerItems(list: DockerContainer[]): Record<string, Fields> {
  const byId = new Map(list.map((c) => [c.Id, containerName(c)]));
  const items: Record<string, Fields> = {};
  const sorted = [...list].sort((a, b) => (a.Created ?? 0) - (b.Created ?? 0) || containerName(a).localeCompare(containerName(b)));
  for (const c of sorted) {
    let network = c.HostConfig?.NetworkMode ?? '';
    if (network.startsWith('container:')) {
      const other = network.slice('container:'.length);
      const name = byId.get(other) ?? [...byId].find(([id]) => id.startsWith(other))?.[1];
      network = `container:${name ?? '(removed)'}`;
    }
    const image = c.Image?.startsWith('sha256:') ? c.Image.slice(7, 19) : c.Image;
    addItem(items, `container ${containerName(c)}`, compact({ image, state: state(c), network, ip: ip(c) }));
  }
  return items;
}

export async function dockerItems(docker: Docker): Promise<Record<string, Fields>> {
  return containerItems((await docker.listContainers({ all: true })) as unknown as DockerContainer[]);
}

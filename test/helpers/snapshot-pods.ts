import type { Snapshot } from '../../src/runner/state/types.js';

// The pods of a snapshot, read from its own items (not through the code that draws them): what a
// drawing of the snapshot must show.

const SANDBOX = /k8s_POD_([^_]+)_([^_]+)_/;

/** `namespace/name` of every pod the API server lists or Docker has a sandbox for. */
export function podsIn(s: Snapshot): Set<string> {
  const pods = new Set<string>();
  const kube = s.sources.kubernetes.available ? s.sources.kubernetes.items : {};
  for (const key of Object.keys(kube)) if (key.startsWith('pod ')) pods.add(key.slice(4));
  for (const pod of podsWithSandbox(s)) pods.add(pod);
  return pods;
}

/** `namespace/name` of every pod with a pause container (a sandbox) in Docker. */
export function podsWithSandbox(s: Snapshot): Set<string> {
  const pods = new Set<string>();
  const docker = s.sources.docker.available ? s.sources.docker.items : {};
  for (const key of Object.keys(docker)) {
    const m = SANDBOX.exec(key);
    if (m) pods.add(`${m[2]}/${m[1]}`);
  }
  return pods;
}

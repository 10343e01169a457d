import type { Snapshot } from '../../src/runner/state/types.js';
import { podsIn } from './snapshot-pods.js';

// The pods a drawing of a snapshot must show as pods (issue 29), read from the snapshot's own items
// (not through the code that draws them): every pod the API server lists; a pod it does not list
// only while one of its containers runs (a static pod before its mirror pod exists). When the API
// server does not answer, every pod Docker has (nothing says which are gone).

/** `namespace/name` → the states of its Docker containers. */
function dockerPods(s: Snapshot): Map<string, string[]> {
  const pods = new Map<string, string[]>();
  const docker = s.sources.docker.available ? s.sources.docker.items : {};
  for (const [key, f] of Object.entries(docker)) {
    const parts = key.replace(/^container (?:[^/]+\/(?=k8s_))?/, '').split('_');
    if (parts[0] !== 'k8s' || parts.length < 6) continue;
    const pod = `${parts[3]}/${parts[2]}`;
    pods.set(pod, [...(pods.get(pod) ?? []), f.state ?? '']);
  }
  return pods;
}

export function livePods(s: Snapshot): Set<string> {
  if (!s.sources.kubernetes.available) return podsIn(s);
  const listed = new Set(Object.keys(s.sources.kubernetes.items).flatMap((k) => (k.startsWith('pod ') ? [k.slice(4)] : [])));
  for (const [pod, states] of dockerPods(s)) if (states.some((st) => st.startsWith('running'))) listed.add(pod);
  return listed;
}

/** Pods Docker keeps whose object the API server (answering) no longer has, none of their containers running. */
export function deletedPods(s: Snapshot): Set<string> {
  const live = livePods(s);
  return new Set([...dockerPods(s).keys()].filter((p) => s.sources.kubernetes.available && !live.has(p)));
}

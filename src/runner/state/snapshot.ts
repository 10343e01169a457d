import { existsSync } from 'node:fs';
import type { MachineClients } from '../clients.js';
import { Machine } from '../machine.js';
import type { NodeState, Target } from '../targets/target.js';
import { containerItems, type DockerContainer, dockerItems } from './docker.js';
import { kubernetesItems, kubernetesLists } from './kubernetes.js';
import { daemonItems, LOG_LINES, MANIFESTS_DIR, machineFilesFromFacts, machineFilesScript, parseMachineFiles } from './machine-files.js';
import { readDaemonsNative, readMachineFilesNative } from './machine-files-native.js';
import { NETWORK_SCRIPT, networkItems } from './network.js';
import { shortReason } from './normalise.js';
import type { Fields, Snapshot, SourceName, SourceState } from './types.js';

export interface SnapshotContext {
  target: Target;
  clients: MachineClients;
  /** The static-pod folder on the machine. */
  manifestsDir?: string;
  /** The other nodes opened for this run (their Docker, files, daemons and network). */
  nodes?: SnapshotNode[];
  /** A source that has not answered by then is "unavailable (timed out …)"; default 3 s. */
  timeoutMs?: number;
}

/** What the runner calls after every block; tests inject their own. */
export type SnapshotFn = () => Promise<Snapshot>;

/** The promise's answer, or an error saying none came within `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function source(name: SourceName, timings: Snapshot['timings'], ms: number, read: () => Promise<Record<string, Fields>>): Promise<SourceState> {
  const t0 = performance.now();
  try {
    return { available: true, items: await within(read(), ms) };
  } catch (error) {
    return { available: false, reason: shortReason(error) };
  } finally {
    timings[name] = performance.now() - t0;
  }
}

const noDockerDaemon = (socket: string) => new Error(`no Docker daemon answers on ${socket}`);

/** A docker client that cannot reach the socket says "socket hang up": say which socket instead. */
function dockerReason(error: unknown, socket: string): Error {
  const message = (error as Error)?.message ?? String(error);
  if (/socket hang up|ECONNRESET|ECONNREFUSED|ENOENT/.test(`${(error as { code?: string })?.code ?? ''} ${message}`)) return noDockerDaemon(socket);
  return error as Error;
}

/**
 * What a snapshot derives from a node's reading, kept by the reading's parts: the agent's client
 * gives the same object for a reading that did not change (agent.ts parseReading), and the same
 * items then let the diff and the transcript's redaction skip them (diff.ts, redact.ts).
 */
const filesOfFacts = new WeakMap<object, ReturnType<typeof machineFilesFromFacts>>();
const itemsOfContainers = new WeakMap<object, Record<string, Fields>>();
const itemsOfDaemons = new WeakMap<object, Record<string, Fields>>();

function memo<K extends object, V>(cache: WeakMap<K, V>, key: K, make: () => V): V {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const made = make();
  cache.set(key, made);
  return made;
}

/** A node other than the first, whose machine sources join the snapshot under `kind NODE/name` keys. */
export interface SnapshotNode {
  name: string;
  target: Target;
  clients: MachineClients;
}

type MachineSource = Exclude<SourceName, 'kubernetes'>;

/** One node's machine sources (Docker, its files, daemons, network), each under the timeout. */
async function machineSources(target: Target, clients: MachineClients, manifestsDir: string, ms: number, timings: Snapshot['timings'], read?: string[]) {
  const machine = new Machine(target, { onDaemon: () => {}, signal: () => undefined });
  // On the local target the machine's files are this host's: read them without a process.
  const root = target.nativeRoot ? await within(target.nativeRoot(), ms).catch(() => undefined) : undefined;
  const native = root !== undefined;
  // Elsewhere the machine's agent reads them all in one message where it can (the docker target), else scripts do.
  const state = !native && target.nodeState ? target.nodeState({ manifestsDir, logLines: LOG_LINES, read }) : undefined;
  state?.catch(() => {});
  const facts = state?.then((s) => {
    const facts = s.files;
    if (!facts) throw new Error(`reading the machine's files failed: ${s.filesError ?? 'no answer'}`);
    return memo(filesOfFacts, facts, () => machineFilesFromFacts(facts));
  });
  const files = native
    ? readMachineFilesNative(root + target.runtimeDir, root + manifestsDir)
    : (facts ??
      target.exec(machineFilesScript(target.runtimeDir, manifestsDir)).then((r) => {
        if (r.exitCode !== 0) throw new Error(`reading the machine's files failed: ${r.stderr.trim().split('\n').pop()}`);
        return parseMachineFiles(r.stdout);
      }));
  files.catch(() => {});
  const [docker, manifests, daemons, network] = await Promise.all([
    source('docker', timings, ms, async () => {
      // No socket file, no daemon: say so without a request (the local machine's socket is a file here).
      if (native && !existsSync(target.dockerSocket)) throw noDockerDaemon(target.dockerSocket);
      if (state) return dockerFromNodeState(target, (await state).docker);
      const client = await clients.dockerClient();
      return dockerItems(client).catch((error) => {
        throw dockerReason(error, target.dockerSocket);
      });
    }),
    source('manifests', timings, ms, async () => (await files).manifests),
    source('daemons', timings, ms, async () => {
      const recorded = native ? readDaemonsNative(root + target.runtimeDir) : facts ? facts.then((f) => f.daemons) : machine.daemons();
      const [daemons, f] = await Promise.all([recorded, files]);
      // From a reading, both are parts of the object kept for it: their items are kept with it.
      if (facts) return memo(itemsOfDaemons, f, () => daemonItems(daemons, f.provisioned));
      return daemonItems(daemons, f.provisioned);
    }),
    source('network', timings, ms, () => readNetwork(target, state ? () => state.then((s) => s.netChanged) : target.networkChanged?.bind(target))),
  ]);
  const logs = await within(files, ms).then(
    (f) => f.logs,
    () => ({}),
  );
  return { sources: { docker, manifests, daemons, network } as Record<MachineSource, SourceState>, logs };
}

/** The network each target showed last, kept while its machine says nothing changed there. */
const lastNetwork = new WeakMap<Target, Record<string, Fields>>();

/** `changed` asks the machine whether its network changed since it was last asked (undefined: cannot tell). */
async function readNetwork(target: Target, changed: (() => Promise<boolean>) | undefined): Promise<Record<string, Fields>> {
  const before = lastNetwork.get(target);
  // Asked before the read: a change during the read leaves a notification, and the next snapshot reads again.
  // The first ask starts the machine's watch; its answer is "changed" then anyway.
  const same = changed ? !(await changed()) : false;
  if (before && same) return before;
  const r = await target.exec(NETWORK_SCRIPT, { readOnly: true });
  if (r.exitCode !== 0) {
    lastNetwork.delete(target);
    throw new Error(`reading the machine's network failed: ${r.stderr.trim().split('\n').pop()}`);
  }
  const items = networkItems(r.stdout);
  lastNetwork.set(target, items);
  return items;
}

/** The node's containers from its agent's answer (the docker target). */
function dockerFromNodeState(target: Target, answer: NodeState['docker']): Record<string, Fields> {
  if ('error' in answer) throw /connection refused|No such file/.test(answer.error) ? noDockerDaemon(target.dockerSocket) : new Error(answer.error);
  const list = answer.containers as DockerContainer[];
  return memo(itemsOfContainers, list, () => containerItems(list));
}

/** `container k8s_POD_…` on node k8s-worker is `container k8s-worker/k8s_POD_…`. */
export function nodeKey(key: string, node: string): string {
  const space = key.indexOf(' ');
  return space < 0 ? `${node}/${key}` : `${key.slice(0, space)} ${node}/${key.slice(space + 1)}`;
}

/** Merged items by the first node's items, then the other node's (its name with them): kept while both are. */
const merged = new WeakMap<object, WeakMap<object, { node: string; items: Record<string, Fields> }>>();

/** Adds a node's items to the first node's; a source the node could not give is one item saying so. */
function mergeNode(into: SourceState, from: SourceState, node: string, name: SourceName): SourceState {
  if (!into.available) return into;
  if (!from.available) return { available: true, items: { ...into.items, [`unavailable ${node}/${name}`]: { state: 'unavailable' } } };
  const byFirst = memo(merged, into.items, () => new WeakMap<object, { node: string; items: Record<string, Fields> }>());
  const known = byFirst.get(from.items);
  if (known?.node === node) return { available: true, items: known.items };
  const items = { ...into.items };
  for (const [key, fields] of Object.entries(from.items)) items[nodeKey(key, node)] = fields;
  byFirst.set(from.items, { node, items });
  return { available: true, items };
}

/**
 * Every source in parallel, each in one round trip (the API server's five lists go out at once),
 * each under a short timeout: an unreachable source is "unavailable", never an error or a hang.
 * The other nodes' machine sources join the first node's, keyed by node.
 */
export async function takeSnapshot(ctx: SnapshotContext): Promise<Snapshot> {
  const ms = ctx.timeoutMs ?? 3000;
  const timings: Snapshot['timings'] = {};
  const manifestsDir = ctx.manifestsDir ?? MANIFESTS_DIR;
  const others = ctx.nodes ?? [];
  // The first node's read asks for the kubeconfig too, and goes first: the kubeconfig's own read
  // below then finds it there (the docker target) instead of asking the machine again.
  const first = machineSources(ctx.target, ctx.clients, manifestsDir, ms, timings, [ctx.clients.kubeconfigFile]);
  const [kubernetes, firstNode, ...rest] = await Promise.all([
    source('kubernetes', timings, ms, async () => {
      await ctx.clients.refreshK8s();
      return kubernetesItems(await kubernetesLists(ctx.clients.k8sGlobal()));
    }),
    first,
    ...others.map((node) => machineSources(node.target, node.clients, manifestsDir, ms, {})),
  ]);
  const sources = { kubernetes, ...firstNode.sources };
  const logs = { ...firstNode.logs };
  rest.forEach((node, i) => {
    const name = (others[i] as SnapshotNode).name;
    for (const key of Object.keys(node.sources) as MachineSource[]) sources[key] = mergeNode(sources[key], node.sources[key], name, key);
    for (const [daemon, lines] of Object.entries(node.logs)) logs[`${name}/${daemon}`] = lines;
  });
  return { sources, logs, timings };
}

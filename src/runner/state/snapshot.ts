import { existsSync } from 'node:fs';
import type { MachineClients } from '../clients.js';
import { Machine } from '../machine.js';
import type { Target } from '../targets/target.js';
import { dockerItems } from './docker.js';
import { kubernetesItems, kubernetesLists } from './kubernetes.js';
import { daemonItems, MANIFESTS_DIR, machineFilesScript, parseMachineFiles } from './machine-files.js';
import { readDaemonsNative, readMachineFilesNative } from './machine-files-native.js';
import { NETWORK_SCRIPT, networkItems } from './network.js';
import { shortReason } from './normalise.js';
import type { Fields, Snapshot, SourceName, SourceState } from './types.js';

export interface SnapshotContext {
  target: Target;
  clients: MachineClients;
  /** The static-pod folder on the machine. */
  manifestsDir?: string;
  /** A source that has not answered by then is "unavailable (timed out …)"; default 3 s. */
  timeoutMs?: number;
}

/** What the runner calls after every block; tests inject their own. */
export type SnapshotFn = () => Promise<Snapshot>;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
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
 * Every source in parallel, each in one round trip (the API server's five lists go out at once),
 * each under a short timeout: an unreachable source is "unavailable", never an error or a hang.
 */
export async function takeSnapshot(ctx: SnapshotContext): Promise<Snapshot> {
  const ms = ctx.timeoutMs ?? 3000;
  const timings: Snapshot['timings'] = {};
  const target = ctx.target;
  const machine = new Machine(target, { onDaemon: () => {}, signal: () => undefined });
  // On the local target the machine's files are this host's: read them without a process.
  const native = target.type === 'local';
  const manifestsDir = ctx.manifestsDir ?? MANIFESTS_DIR;
  const files = native
    ? readMachineFilesNative(target.runtimeDir, manifestsDir)
    : target.exec(machineFilesScript(target.runtimeDir, manifestsDir)).then((r) => {
        if (r.exitCode !== 0) throw new Error(`reading the machine's files failed: ${r.stderr.trim().split('\n').pop()}`);
        return parseMachineFiles(r.stdout);
      });
  files.catch(() => {});
  const [kubernetes, docker, manifests, daemons, network] = await Promise.all([
    source('kubernetes', timings, ms, async () => {
      await ctx.clients.refreshK8s();
      return kubernetesItems(await kubernetesLists(ctx.clients.k8sGlobal()));
    }),
    source('docker', timings, ms, async () => {
      // No socket file, no daemon: say so without a request (the local machine's socket is a file here).
      if (native && !existsSync(target.dockerSocket)) throw noDockerDaemon(target.dockerSocket);
      const client = await ctx.clients.dockerClient();
      return dockerItems(client).catch((error) => {
        throw dockerReason(error, ctx.target.dockerSocket);
      });
    }),
    source('manifests', timings, ms, async () => (await files).manifests),
    source('daemons', timings, ms, async () => {
      const [recorded, f] = await Promise.all([native ? readDaemonsNative(target.runtimeDir) : machine.daemons(), files]);
      return daemonItems(recorded, f.provisioned);
    }),
    source('network', timings, ms, async () => {
      const r = await target.exec(NETWORK_SCRIPT);
      if (r.exitCode !== 0) throw new Error(`reading the machine's network failed: ${r.stderr.trim().split('\n').pop()}`);
      return networkItems(r.stdout);
    }),
  ]);
  const logs = await within(files, ms).then(
    (f) => f.logs,
    () => ({}),
  );
  return { sources: { kubernetes, docker, manifests, daemons, network }, logs, timings };
}

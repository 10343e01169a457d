import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { TargetConfig } from '../types.js';
import {
  DOCKER_ANSWER_MS,
  DockerTarget,
  dockerHint,
  dockerStatus,
  dockerTrouble,
  oneLine,
  pingReaderDocker,
  readerDocker,
  readerDockerPlace,
} from './docker.js';
import { FIRST_NODE, WORKER_NODE } from './node-names.js';
import { within } from './reader-docker.js';
import { MachineUnreachable } from './target.js';

// The docker target's lifecycle (`book machine up|status|down --target docker`): the node image,
// the nodes' network, a volume and a privileged container per node, and the node's own daemons
// (vagrant/node-machine.sh inside it). Everything through the reader's Docker API; on the host
// only Docker's own objects and the build cache change (docs/docker-target.md).

export type DockerTargetConfig = Extract<TargetConfig, { type: 'docker' }>;

/** What the lifecycle prints: its own lines and the node scripts' output. */
export interface MachineIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The label that marks every object of a machine: `down` removes what carries it, and only that. */
export const MACHINE_LABEL = 'build-a-minikube.machine';
const NODE_LABEL = 'build-a-minikube.node';
export const NODE_IMAGE_REPO = 'build-a-minikube/node';
/** Inside the image (vagrant/node-image.sh). */
const NODE_SCRIPT = '/usr/share/book-minikube/vagrant/node-machine.sh';

/** The nodes, their host numbers in the subnet (the seed's VMs were .10 and .11). */
export const DOCKER_NODES = [
  { name: FIRST_NODE, host: 10 },
  { name: WORKER_NODE, host: 11 },
] as const;

export function nodeContainer(config: DockerTargetConfig, node: string): string {
  return `${config.machine}-${node}`;
}

export function nodeAddress(config: DockerTargetConfig, host: number): string {
  return `${config.subnet.split('.').slice(0, 3).join('.')}.${host}`;
}

/** A target for one node of the machine (the first is the book's target itself). */
export function dockerNodeTarget(targetName: string, config: DockerTargetConfig, node: string, env: Record<string, string>, docker?: Docker): DockerTarget {
  return new DockerTarget({
    name: node === FIRST_NODE ? targetName : `${targetName}/${node}`,
    container: nodeContainer(config, node),
    runtimeDir: config.runtimeDir,
    dockerSocket: config.dockerSocket,
    env,
    docker,
  });
}

/** Runs a host command, its stderr to io.err; resolves with its stdout (exit ≠ 0 rejects). */
function hostCommand(argv: string[], env: NodeJS.ProcessEnv, io: MachineIo): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => io.err(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(Object.assign(new Error(`${path.basename(args[0] ?? cmd)} exited with ${code}`), { exitCode: code })),
    );
  });
}

/** A Docker API call of status or down: answered within DOCKER_ANSWER_MS, its errors said as the reader should see them. */
function ask<T>(call: Promise<T>, what: string): Promise<T> {
  const place = readerDockerPlace();
  return within(call, DOCKER_ANSWER_MS, place, what).catch((error: unknown) => {
    throw dockerStatus(error) === 404 ? error : dockerTrouble(error, place, what);
  });
}

/** A list the Docker API answered, checked: a daemon (or something posing as one) may answer anything. */
function listed<T>(value: unknown, what: string): T[] {
  if (!Array.isArray(value))
    throw new MachineUnreachable(`the Docker at ${readerDockerPlace()} answered ${what} with something that is not a list`, dockerHint(undefined));
  return value as T[];
}

/**
 * The node image for these versions: already in the reader's Docker (by the recipe's id), or built
 * by vagrant/node-image.sh into the build cache and imported. Resolves with its reference.
 */
export async function ensureNodeImage(docker: Docker, vagrantDir: string, env: NodeJS.ProcessEnv, io: MachineIo): Promise<string> {
  const script = path.join(vagrantDir, 'node-image.sh');
  const recipe = await hostCommand(['bash', script, '--recipe'], env, io);
  const ref = `${NODE_IMAGE_REPO}:${recipe}`;
  try {
    await docker.getImage(ref).inspect();
    return ref;
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
  io.err(`[machine] node image ${ref}: building (cold: the binaries and Debian's packages; log on stderr)\n`);
  let tarball: string;
  try {
    tarball = await hostCommand(['bash', script], env, io);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    throw new MachineUnreachable(
      `the node image could not be built (node-image.sh exited with ${code})`,
      'read the lines above; the offline build log is in $BOOK_CACHE/logs',
    );
  }
  const t0 = performance.now();
  const [repo, tag] = ref.split(':') as [string, string];
  const progress = await docker.importImage(createReadStream(tarball), {
    repo,
    tag,
    changes: ['ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/sbin/book-node-init"]', 'ENV container=docker', `LABEL ${MACHINE_LABEL}.recipe=${recipe}`],
  } as unknown as Record<string, unknown>);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (error: Error | null, output: { error?: string }[]) => {
      const failed = error?.message ?? output.find((o) => o.error)?.error;
      if (failed) reject(new Error(`docker import of ${tarball}: ${failed}`));
      else resolve();
    }),
  );
  io.err(`[machine] node image ${ref}: imported in ${Math.round(performance.now() - t0)} ms\n`);
  return ref;
}

/**
 * The machine's network, on the book's subnet. A plain bridge, as kind's: an `internal` one would
 * seal the nodes, but its isolation rules drop every bridged packet whose address is outside the
 * subnet, and pods talk across nodes with their own addresses (10.244.x).
 */
async function ensureNetwork(docker: Docker, config: DockerTargetConfig): Promise<void> {
  const existing = (await docker.listNetworks({ filters: { name: [config.machine] } })).find((n) => n.Name === config.machine);
  if (existing) {
    if (existing.Labels?.[MACHINE_LABEL] !== config.machine)
      throw new MachineUnreachable(
        `a Docker network named ${config.machine} exists and is not this book's`,
        `give this target another machine: name in book.yaml, or remove that network`,
      );
    // The machine's network, made for another subnet (book.yaml changed, or another book's target of the same machine name).
    const subnets = existing.IPAM?.Config?.map((c) => c.Subnet) ?? [];
    if (subnets.length > 0 && !subnets.includes(config.subnet))
      throw new MachineUnreachable(
        `the machine ${config.machine} is up on ${subnets.join(', ')}, not on ${config.subnet} as book.yaml says`,
        `bring it down first (book machine down), or give this target another machine: name`,
      );
    return;
  }
  try {
    await docker.createNetwork({
      Name: config.machine,
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: config.subnet }] },
      Labels: { [MACHINE_LABEL]: config.machine },
    });
  } catch (error) {
    const message = (error as Error).message;
    if (/overlap/i.test(message)) {
      const taken = (await docker.listNetworks()).find((n) => n.IPAM?.Config?.some((c) => c.Subnet === config.subnet));
      throw new MachineUnreachable(
        `the subnet ${config.subnet} is taken on this Docker${taken ? ` by the network ${taken.Name}` : ''}`,
        'give this book’s docker target another subnet: in book.yaml (subnet: 192.168.57.0/24), or bring that machine down',
      );
    }
    throw dockerTrouble(error, readerDockerPlace(), `to make the network ${config.machine}`);
  }
}

/** A node's container, created (privileged, as kind and minikube run nodes) and started. */
async function ensureNode(docker: Docker, config: DockerTargetConfig, image: string, node: { name: string; host: number }): Promise<void> {
  const name = nodeContainer(config, node.name);
  const container = docker.getContainer(name);
  try {
    const info = await container.inspect();
    if (info.Config.Labels?.[MACHINE_LABEL] !== config.machine)
      throw new MachineUnreachable(
        `a container named ${name} exists and is not this book's`,
        'give this target another machine: name in book.yaml, or remove that container',
      );
    if (info.Config.Image !== image)
      throw new MachineUnreachable(
        `the node ${name} runs ${info.Config.Image}, not ${image} (another version or recipe)`,
        'run book machine down, then book machine up',
      );
    if (!info.State.Running) await container.start();
    return;
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
  const labels = { [MACHINE_LABEL]: config.machine, [NODE_LABEL]: node.name };
  const volume = `${name}-var`;
  await docker.createVolume({ Name: volume, Labels: labels });
  const create = (modules: boolean) =>
    docker.createContainer({
      name,
      Image: image,
      Hostname: node.name,
      Labels: labels,
      HostConfig: {
        Privileged: true,
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'],
        // The node's own cgroup tree: its kubelet's kubepods cannot meet another node's.
        CgroupnsMode: 'private',
        Tmpfs: { '/run': 'rw,nosuid,nodev,exec,mode=755', '/tmp': 'rw,nosuid,nodev,exec,mode=1777' },
        // /var on a volume: the node's Docker cannot put overlay on overlay.
        Mounts: [
          { Type: 'volume', Source: volume, Target: '/var' },
          // A host path that is missing is an error with Mounts (Binds would create it on the host).
          ...(modules ? [{ Type: 'bind' as const, Source: '/lib/modules', Target: '/lib/modules', ReadOnly: true }] : []),
        ],
        NetworkMode: config.machine,
        RestartPolicy: { Name: 'no' },
      },
      NetworkingConfig: { EndpointsConfig: { [config.machine]: { IPAMConfig: { IPv4Address: nodeAddress(config, node.host) } } } },
    } as Docker.ContainerCreateOptions);
  let created: Docker.Container;
  try {
    created = await create(true);
  } catch (error) {
    // Docker Desktop's VM and kernels with every module built in have no /lib/modules to lend.
    if (!/lib\/modules/.test((error as Error).message)) throw error;
    created = await create(false);
  }
  await created.start();
}

/** `book machine up` on a docker target: exit status 0, or throws MachineUnreachable (3). */
export async function dockerMachineUp(
  targetName: string,
  config: DockerTargetConfig,
  options: { vagrantDir: string; k8sVersion: string; io: MachineIo; docker?: Docker },
): Promise<number> {
  const { io } = options;
  const docker = options.docker ?? readerDocker();
  const t0 = performance.now();
  await pingReaderDocker(docker);
  const env = { ...process.env, K8S_VERSION: options.k8sVersion };
  // The network first: a subnet taken on this Docker is said before minutes of a cold image build.
  await ensureNetwork(docker, config);
  const image = await ensureNodeImage(docker, options.vagrantDir, env, io);
  for (const node of DOCKER_NODES) await ensureNode(docker, config, image, node);
  // The nodes' daemons come up side by side.
  const codes = await Promise.all(
    DOCKER_NODES.map(async (node) => {
      const target = dockerNodeTarget(targetName, config, node.name, {}, docker);
      try {
        const result = await target.exec(`bash ${NODE_SCRIPT} up`, {
          env: { K8S_VERSION: options.k8sVersion, BOOK_RUNTIME_DIR: config.runtimeDir },
          onStderr: io.err,
          onStdout: io.out,
        });
        return result.exitCode ?? 1;
      } finally {
        await target.close();
      }
    }),
  );
  if (codes.some((code) => code !== 0)) {
    throw new MachineUnreachable('a node did not come up (its lines above say why)', `run: book machine down --target ${targetName}, then up again`);
  }
  io.err(
    `[machine] ${config.machine} up in ${Math.round(performance.now() - t0)} ms: ${DOCKER_NODES.map((n) => `${n.name} ${nodeAddress(config, n.host)}`).join(', ')} — enter it with: book machine shell --target ${targetName}\n`,
  );
  return 0;
}

/** `book machine status`: each node's container and daemons; 3 when not up. */
export async function dockerMachineStatus(targetName: string, config: DockerTargetConfig, options: { io: MachineIo; docker?: Docker }): Promise<number> {
  const { io } = options;
  const docker = options.docker ?? readerDocker();
  await pingReaderDocker(docker);
  let up = true;
  io.out(`machine ${config.machine} on ${readerDockerPlace()} (network ${config.subnet})\n`);
  for (const node of DOCKER_NODES) {
    const name = nodeContainer(config, node.name);
    let state = 'absent';
    try {
      const info = await ask(docker.getContainer(name).inspect(), `an inspect of ${name}`);
      const status = info?.State?.Status;
      if (typeof status !== 'string')
        throw new MachineUnreachable(`the Docker at ${readerDockerPlace()} gave an answer that is not a container's state for ${name}`, dockerHint(undefined));
      state = info.State.Paused ? 'paused' : oneLine(status);
      // A container of that name that this book did not make is not its node, whatever it runs.
      if (info.Config?.Labels?.[MACHINE_LABEL] !== config.machine) state = `${state}, and not this book's (no ${MACHINE_LABEL}=${config.machine} label)`;
    } catch (error) {
      if (dockerStatus(error) !== 404) throw error;
    }
    io.out(`${node.name}: container ${name} ${state}${state === 'paused' ? ` (docker unpause ${name})` : ''}\n`);
    if (state !== 'running') {
      up = false;
      continue;
    }
    const target = dockerNodeTarget(targetName, config, node.name, {}, docker);
    try {
      const result = await target.exec(`bash ${NODE_SCRIPT} status`, { env: { BOOK_RUNTIME_DIR: config.runtimeDir } });
      io.out(result.stdout.split('\n').slice(1).join('\n'));
      if (result.exitCode !== 0) up = false;
    } finally {
      await target.close();
    }
  }
  io.out(`machine: ${up ? 'up' : 'down'}\n`);
  return up ? 0 : 3;
}

/**
 * `book machine down`: the book's daemons stopped and the kernel settings restored (in each node),
 * then every container, volume and network that carries this machine's label. The node image and
 * the build cache stay.
 */
export async function dockerMachineDown(targetName: string, config: DockerTargetConfig, options: { io: MachineIo; docker?: Docker }): Promise<number> {
  const { io } = options;
  const docker = options.docker ?? readerDocker();
  const t0 = performance.now();
  await pingReaderDocker(docker);
  const mine = { label: [`${MACHINE_LABEL}=${config.machine}`] };
  const containers = listed<Docker.ContainerInfo>(
    await ask(docker.listContainers({ all: true, filters: mine }), 'the list of containers'),
    'the list of containers',
  );
  for (const c of containers) {
    if (c.State === 'paused') await ask(docker.getContainer(c.Id).unpause(), `an unpause of ${c.Id.slice(0, 12)}`);
    if (c.State === 'running' || c.State === 'paused') {
      const node = c.Labels[NODE_LABEL] ?? FIRST_NODE;
      const target = dockerNodeTarget(targetName, config, node, {}, docker);
      try {
        await target.exec(`bash ${NODE_SCRIPT} down`, { env: { BOOK_RUNTIME_DIR: config.runtimeDir }, onStderr: io.err });
      } finally {
        await target.close();
      }
    }
    io.err(`[machine] removing container ${c.Names?.[0]?.replace(/^\//, '')}\n`);
    await ask(docker.getContainer(c.Id).remove({ force: true, v: true }), `the removal of ${c.Id.slice(0, 12)}`);
  }
  const volumes = (await ask(docker.listVolumes({ filters: mine }), 'the list of volumes'))?.Volumes ?? [];
  for (const v of listed<Docker.VolumeInspectInfo>(volumes, 'the list of volumes')) {
    io.err(`[machine] removing volume ${v.Name}\n`);
    await ask(docker.getVolume(v.Name).remove(), `the removal of volume ${v.Name}`);
  }
  for (const n of listed<Docker.NetworkInspectInfo>(await ask(docker.listNetworks({ filters: mine }), 'the list of networks'), 'the list of networks')) {
    io.err(`[machine] removing network ${n.Name}\n`);
    await ask(docker.getNetwork(n.Id).remove(), `the removal of network ${n.Name}`);
  }
  io.err(`[machine] ${config.machine} down in ${Math.round(performance.now() - t0)} ms (the node image and the build cache stay)\n`);
  return 0;
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { definedTarget } from '../book-config.js';
import type { Book } from '../types.js';
import { DOCKER_NODES, dockerNodeTarget } from './docker-machine.js';
import { LocalTarget } from './local.js';
import { FIRST_NODE, WORKER_NODE } from './node-names.js';
import { SshTarget, type SshTargetOptions } from './ssh.js';
import type { Target } from './target.js';
import { vagrantSshConfig } from './vagrant-ssh.js';

export { FIRST_NODE, WORKER_NODE };

/** `kubectl` on a node other than the first: the node's own kubeconfig (chapter 10 writes it), as on a real worker. */
export const NODE_KUBECONFIG = '/etc/kubernetes/kubelet.kubeconfig';

/** The local machine's second node, as vagrant/local-machine.sh makes it (docs/two-nodes.md). */
export const LOCAL_WORKER = {
  name: WORKER_NODE,
  netns: 'book-worker',
  mountNamespace: '/run/book-nodes/k8s-worker.mnt',
  /** The netns of the master whose worker it is, written by local-machine.sh. */
  ownerFile: '/run/book-nodes/k8s-worker.master',
  runtimeDir: '/run/book-worker',
  dockerSocket: '/run/book-worker/docker.sock',
} as const;

/** A target's nodes besides the first: their names, and a target for each, opened on demand. */
export interface NodeTargets {
  readonly names: readonly string[];
  /** Where a node keeps the runner's files and its Docker socket (a transcript records it for the replay). */
  place(name: string): NodePlace;
  open(name: string): Promise<Target>;
}

export interface NodePlace {
  runtimeDir: string;
  dockerSocket: string;
}

export const NO_OTHER_NODES: NodeTargets = {
  names: [],
  place: (name) => {
    throw new Error(`no node named "${name}"`);
  },
  open: (name) => Promise.reject(new Error(`no node named "${name}"`)),
};

/** The other nodes of the book's target `targetName`, as book.yaml and the machine scripts define them. */
export function nodeTargets(book: Book, targetName = book.config.target): NodeTargets {
  const config = definedTarget(book.config, targetName);
  if (!config) return NO_OTHER_NODES;
  const env = (dockerSocket: string) => ({ DOCKER_HOST: `unix://${dockerSocket}`, KUBECONFIG: NODE_KUBECONFIG });
  /** An ssh or vagrant node: its own connection, the target's runtime folder and Docker socket. */
  const sshNode = (name: string, connection: Pick<SshTargetOptions, 'host' | 'port' | 'user' | 'key' | 'hostKey' | 'knownHosts'>, place: NodePlace) =>
    new SshTarget({ name: `${targetName}/${name}`, ...connection, ...place, env: env(place.dockerSocket) });
  const place: NodePlace = { runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket };
  switch (config.type) {
    case 'local':
      return {
        names: [LOCAL_WORKER.name],
        place: () => ({ runtimeDir: LOCAL_WORKER.runtimeDir, dockerSocket: LOCAL_WORKER.dockerSocket }),
        open: async (name) => {
          if (name !== LOCAL_WORKER.name) throw new Error(`the local machine has no node named "${name}"`);
          const { netns, mountNamespace, runtimeDir, dockerSocket, ownerFile } = LOCAL_WORKER;
          // Another book's machine (a test's namespace) must not reach this machine's worker.
          const owner = await readFile(ownerFile, 'utf8').then(
            (text) => text.trim(),
            () => undefined,
          );
          if (owner !== config.netns)
            throw new Error(
              `the local machine in netns ${config.netns} has no ${name}${owner ? ` (the worker on this host belongs to the machine in ${owner})` : ''}: run book machine up`,
            );
          return new LocalTarget({ name: `${targetName}/${name}`, netns, mountNamespace, runtimeDir, dockerSocket, env: env(dockerSocket) });
        },
      };
    case 'ssh': {
      const nodes = config.nodes ?? {};
      return {
        names: Object.keys(nodes),
        place: () => place,
        open: async (name) => {
          const node = nodes[name];
          if (!node) throw new Error(`the ssh target "${targetName}" has no node named "${name}"`);
          return sshNode(name, node, place);
        },
      };
    }
    case 'docker': {
      // The machine's other node containers, on the same runtime folder and Docker socket paths.
      const others: string[] = DOCKER_NODES.map((n) => n.name).filter((n) => n !== FIRST_NODE);
      return {
        names: others,
        place: () => place,
        open: async (name) => {
          if (!others.includes(name)) throw new Error(`the docker machine has no node named "${name}"`);
          return dockerNodeTarget(targetName, config, name, env(config.dockerSocket));
        },
      };
    }
    case 'vagrant':
      // The Vagrantfile's second VM.
      return {
        names: [WORKER_NODE],
        place: () => place,
        open: async (name) => sshNode(name, { ...(await vagrantSshConfig(path.resolve(book.dir, '..', config.dir), name)), knownHosts: false }, place),
      };
  }
}

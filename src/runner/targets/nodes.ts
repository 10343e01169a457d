import path from 'node:path';
import type { Book } from '../types.js';
import { LocalTarget } from './local.js';
import { SshTarget } from './ssh.js';
import type { Target } from './target.js';
import { vagrantSshConfig } from './vagrant-ssh.js';

/** The node a target is (its blocks' `$`, `docker`, `machine`); the others are `nodes['NAME']`. */
export const FIRST_NODE = 'k8s-master';

/** `kubectl` on a node other than the first: the node's own kubeconfig (chapter 10 writes it), as on a real worker. */
export const NODE_KUBECONFIG = '/etc/kubernetes/kubelet.kubeconfig';

/** The local machine's second node, as vagrant/local-machine.sh makes it (docs/two-nodes.md). */
export const LOCAL_WORKER = {
  name: 'k8s-worker',
  netns: 'book-worker',
  mountNamespace: '/run/book-nodes/k8s-worker.mnt',
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
  const config = book.config.targets[targetName];
  if (!config) return NO_OTHER_NODES;
  const env = (dockerSocket: string) => ({ DOCKER_HOST: `unix://${dockerSocket}`, KUBECONFIG: NODE_KUBECONFIG });
  switch (config.type) {
    case 'local':
      return {
        names: [LOCAL_WORKER.name],
        place: () => ({ runtimeDir: LOCAL_WORKER.runtimeDir, dockerSocket: LOCAL_WORKER.dockerSocket }),
        open: async (name) => {
          if (name !== LOCAL_WORKER.name) throw new Error(`the local machine has no node named "${name}"`);
          const { netns, mountNamespace, runtimeDir, dockerSocket } = LOCAL_WORKER;
          return new LocalTarget({ name: `${targetName}/${name}`, netns, mountNamespace, runtimeDir, dockerSocket, env: env(dockerSocket) });
        },
      };
    case 'ssh': {
      const nodes = config.nodes ?? {};
      return {
        names: Object.keys(nodes),
        place: () => ({ runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket }),
        open: async (name) => {
          const node = nodes[name];
          if (!node) throw new Error(`the ssh target "${targetName}" has no node named "${name}"`);
          return new SshTarget({
            name: `${targetName}/${name}`,
            ...node,
            runtimeDir: config.runtimeDir,
            dockerSocket: config.dockerSocket,
            env: env(config.dockerSocket),
          });
        },
      };
    }
    case 'vagrant':
      return {
        names: ['k8s-worker'],
        place: () => ({ runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket }),
        open: async (name) => {
          const ssh = await vagrantSshConfig(path.resolve(book.dir, '..', config.dir), name);
          return new SshTarget({
            name: `${targetName}/${name}`,
            ...ssh,
            runtimeDir: config.runtimeDir,
            dockerSocket: config.dockerSocket,
            env: env(config.dockerSocket),
          });
        },
      };
  }
}

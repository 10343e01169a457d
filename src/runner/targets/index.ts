import path from 'node:path';
import { BadArguments } from '../select.js';
import type { Book, TargetConfig } from '../types.js';
import { LocalTarget } from './local.js';
import { SshTarget } from './ssh.js';
import type { Target } from './target.js';
import { vagrantSshConfig } from './vagrant-ssh.js';

export type { Target } from './target.js';
export { parseSshConfig, vagrantSshConfig } from './vagrant-ssh.js';

/** The book's target of that name; an unknown name is a bad argument (exit 2), before any connection. */
export function targetConfig(book: Book, name = book.config.target): TargetConfig {
  const config = book.config.targets[name];
  if (!config) {
    throw new BadArguments(
      `--target ${name}: the book has no target named "${name}"; use one of: ${Object.keys(book.config.targets).join(', ')} (or define it in book.yaml under targets:)`,
    );
  }
  return config;
}

/** Builds the named target of a book; the environment makes `docker` and `kubectl` find the machine's daemons. */
export async function createTarget(book: Book, name = book.config.target): Promise<Target> {
  const config = targetConfig(book, name);
  const env = { DOCKER_HOST: `unix://${config.dockerSocket}`, KUBECONFIG: book.config.kubeconfig };
  switch (config.type) {
    case 'local':
      return new LocalTarget({ name, netns: config.netns, runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket, env });
    case 'ssh':
      return new SshTarget({
        name,
        host: config.host,
        port: config.port,
        user: config.user,
        key: config.key,
        hostKey: config.hostKey,
        runtimeDir: config.runtimeDir,
        dockerSocket: config.dockerSocket,
        env,
      });
    case 'vagrant': {
      const dir = path.resolve(book.dir, '..', config.dir);
      const ssh = await vagrantSshConfig(dir);
      // A Vagrant VM gets a new host key with each `vagrant up` (its ssh-config says so: no known_hosts).
      return new SshTarget({ name, ...ssh, knownHosts: false, runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket, env });
    }
  }
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Book } from '../types.js';
import { LocalTarget } from './local.js';
import { SshTarget } from './ssh.js';
import { MachineUnreachable, type Target } from './target.js';

export type { Target } from './target.js';

/** Builds the named target of a book; the environment makes `docker` and `kubectl` find the machine's daemons. */
export async function createTarget(book: Book, name = book.config.target): Promise<Target> {
  const config = book.config.targets[name];
  if (!config) {
    throw new MachineUnreachable(
      `no target named "${name}"`,
      `use one of: ${Object.keys(book.config.targets).join(', ')} (or define it in book.yaml under targets:)`,
    );
  }
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
        runtimeDir: config.runtimeDir,
        dockerSocket: config.dockerSocket,
        env,
      });
    case 'vagrant': {
      const dir = path.resolve(book.dir, '..', config.dir);
      const ssh = await vagrantSshConfig(dir);
      return new SshTarget({ name, ...ssh, runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket, env });
    }
  }
}

/** `vagrant ssh-config k8s-master` → the connection the master's VM offers (the Vagrantfile defines two). */
export async function vagrantSshConfig(dir: string, vm = 'k8s-master'): Promise<{ host: string; port: number; user: string; key?: string }> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('vagrant', ['ssh-config', vm], { cwd: dir, timeout: 60_000 }));
  } catch (error) {
    throw new MachineUnreachable(
      `vagrant ssh-config failed in ${dir}: ${(error as Error).message.split('\n')[0]}`,
      'run: book machine up --target vagrant (needs Vagrant and VirtualBox)',
    );
  }
  return parseSshConfig(stdout);
}

export function parseSshConfig(text: string): { host: string; port: number; user: string; key?: string } {
  const get = (key: string) => new RegExp(`^\\s*${key}\\s+(.+)$`, 'mi').exec(text)?.[1]?.trim().replace(/^"|"$/g, '');
  return { host: get('HostName') ?? '127.0.0.1', port: Number(get('Port') ?? 22), user: get('User') ?? 'vagrant', key: get('IdentityFile') };
}

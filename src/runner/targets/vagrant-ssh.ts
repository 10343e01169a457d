import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MachineUnreachable } from './target.js';

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

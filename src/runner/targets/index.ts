import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { AUTO_TARGET, DEFAULT_TARGETS, definedTarget } from '../book-config.js';
import { BadArguments } from '../select.js';
import type { Book, TargetConfig } from '../types.js';
import { dockerAnswers } from './docker.js';
import { dockerNodeTarget } from './docker-machine.js';
import { LocalTarget } from './local.js';
import { FIRST_NODE } from './node-names.js';
import { SshTarget } from './ssh.js';
import { MachineUnreachable, type Target } from './target.js';
import { vagrantSshConfig } from './vagrant-ssh.js';

export type { Target } from './target.js';
export { parseSshConfig, vagrantSshConfig } from './vagrant-ssh.js';

/** What `target: auto` learns of the reader's Docker (docker.ts dockerAnswers). */
export interface DockerAnswer {
  answers: boolean;
  /** Why it did not answer. */
  why?: string;
  place: { shown: string; from: string; chosen: boolean };
}

/**
 * The target a command uses: the one named, or for `auto` (the default) the book's docker target
 * where a Docker daemon answers (DOCKER_HOST, a docker context, or the default socket), else its
 * local target where this is Linux as root. A Docker the reader chose (DOCKER_HOST or a context)
 * that does not answer is an error, not a reason to provision this host instead. Otherwise a clear
 * error that says what to install.
 */
export async function resolveTargetName(book: Book, name = book.config.target, answers: () => Promise<DockerAnswer> = dockerAnswers): Promise<string> {
  if (name !== AUTO_TARGET || definedTarget(book.config, AUTO_TARGET)) return name;
  // The book's own target of that type before the built-in one of the same type (by what it is, not its name).
  const ofType = (type: string) => {
    const all = Object.entries(book.config.targets).filter(([, c]) => c.type === type);
    return (all.find(([n, c]) => !isDeepStrictEqual(c, DEFAULT_TARGETS[n])) ?? all[0])?.[0];
  };
  const docker = ofType('docker');
  const answer = docker ? await answers() : undefined;
  if (docker && answer?.answers) return docker;
  if (answer?.place.chosen) {
    throw new MachineUnreachable(
      `target: auto: ${answer.place.from} names the Docker at ${answer.place.shown}, and it does not answer (${answer.why ?? 'no answer'})`,
      `start that Docker, or unset ${answer.place.from === 'DOCKER_HOST' ? 'DOCKER_HOST' : 'DOCKER_CONTEXT (docker context use default)'}, or name a target: --target local (docs/targets.md)`,
    );
  }
  const local = ofType('local');
  if (local && process.platform === 'linux' && process.getuid?.() === 0) return local;
  throw new MachineUnreachable(
    `target: auto found no machine to use: no Docker daemon answers${answer ? ` at ${answer.place.shown} (${answer.why ?? 'no answer'})` : ''}${process.platform === 'linux' ? ', and the local target needs root' : ''}`,
    'install and start Docker (Docker Desktop, OrbStack, colima or Docker Engine), or run as root on Linux (the local target), or name a target: --target ssh (docs/targets.md)',
  );
}

/** The book's target of that name; an unknown name is a bad argument (exit 2), before any connection. */
export function targetConfig(book: Book, name = book.config.target): TargetConfig {
  const config = definedTarget(book.config, name);
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
    case 'docker':
      return dockerNodeTarget(name, config, FIRST_NODE, env);
    case 'vagrant': {
      const dir = path.resolve(book.dir, '..', config.dir);
      const ssh = await vagrantSshConfig(dir);
      // A Vagrant VM gets a new host key with each `vagrant up` (its ssh-config says so: no known_hosts).
      return new SshTarget({ name, ...ssh, knownHosts: false, runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket, env });
    }
  }
}

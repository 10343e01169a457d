import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { echoed } from '../runner/echo.js';
import { BadArguments } from '../runner/select.js';
import { dockerMachineDown, dockerMachineStatus, dockerMachineUp } from '../runner/targets/docker-machine.js';
import { createTarget, resolveTargetName, targetConfig } from '../runner/targets/index.js';
import { FIRST_NODE, NODE_KUBECONFIG, nodeTargets } from '../runner/targets/nodes.js';
import { commandLine, shellQuote, type Target } from '../runner/targets/target.js';
import { exitCodeFor, type Io, machineVersions, openBook, PACKAGE_ROOT } from './common.js';

export interface MachineCommandOptions {
  book?: string;
  target?: string;
  /** `machine shell --node NAME`: a node other than the first. */
  node?: string;
  command?: string[];
}

function inherit(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

const VAGRANT_DIR = path.join(PACKAGE_ROOT, 'vagrant');

/** Copies vagrant/*.sh to the machine and runs one of them there (ssh targets). */
async function runRemoteScript(target: Target, script: string, args: string[], io: Io, k8sVersion: string): Promise<number> {
  const dir = '/var/lib/book-machine/provision';
  for (const file of await readdir(VAGRANT_DIR)) {
    if (file.endsWith('.sh')) await target.writeFile(`${dir}/${file}`, await readFile(path.join(VAGRANT_DIR, file)), 0o755);
  }
  // The scripts find the book's daemons and Docker where the target's book.yaml entry puts them.
  const env = `K8S_VERSION=${shellQuote(k8sVersion)} BOOK_RUNTIME_DIR=${shellQuote(target.runtimeDir)} BOOK_DOCKER_SOCKET=${shellQuote(target.dockerSocket)}`;
  const result = await target.exec(`${env} bash ${dir}/${script} ${args.join(' ')}`, { onStdout: io.out, onStderr: io.err });
  return result.exitCode ?? 1;
}

export async function machineCommand(action: string, options: MachineCommandOptions, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    // The one setting that picks Kubernetes reaches the provisioning scripts as K8S_VERSION.
    const { K8S_VERSION } = machineVersions(book);
    const name = await resolveTargetName(book, options.target);
    const config = targetConfig(book, name);
    const node = options.node && options.node !== FIRST_NODE ? options.node : undefined;
    if (config.type === 'docker' && action !== 'shell') {
      const machineIo = { out: io.out, err: io.err };
      if (action === 'up') return await dockerMachineUp(name, config, { vagrantDir: VAGRANT_DIR, k8sVersion: K8S_VERSION, io: machineIo });
      if (action === 'status') return await dockerMachineStatus(name, config, { io: machineIo });
      if (action === 'down') return await dockerMachineDown(name, config, { io: machineIo });
      throw new Error(`unknown action ${action}`);
    }
    if (config.type === 'local') {
      const env = { ...process.env, K8S_VERSION, BOOK_NETNS: config.netns, BOOK_RUNTIME_DIR: config.runtimeDir };
      if (action !== 'shell') return await inherit(['bash', path.join(VAGRANT_DIR, 'local-machine.sh'), action], env);
    } else if (config.type === 'vagrant' && node) {
      // The worker's VM, as `vagrant ssh k8s-worker` opens it (a single argument is a command line).
      const command = options.command ?? [];
      const run = command.length ? ['-c', `sudo -i bash -c ${shellQuote(commandLine(command))}`] : [];
      return await inherit(['vagrant', 'ssh', node, ...run], { ...process.env, VAGRANT_CWD: path.resolve(book.dir, '..', config.dir) });
    }
    if (node) {
      const others = nodeTargets(book, name);
      if (!others.names.includes(node)) {
        // A name the book does not have is the command line's mistake (exit 2), not the machine's.
        const known = `its nodes: ${[FIRST_NODE, ...others.names].join(', ')}`;
        throw new BadArguments(
          `--node: the ${config.type} target "${name}" has no node named ${echoed(node)}; ${known}${config.type === 'ssh' ? ' (add one under nodes: in book.yaml, docs/two-nodes.md)' : ''}`,
        );
      }
      const target = await others.open(node);
      try {
        // A local node is namespaces that must exist, a docker node a container that runs; a
        // remote shell is the ssh client's to open.
        if (target.type === 'local' || target.type === 'docker') await target.connect();
        const env = { DOCKER_HOST: `unix://${target.dockerSocket}`, KUBECONFIG: NODE_KUBECONFIG, BOOK_NODE: node };
        if (target.shell) return await target.shell(options.command ?? [], env);
        return await inherit(target.shellArgv(options.command ?? [], env));
      } finally {
        await target.close();
      }
    }
    if (config.type === 'vagrant' && action !== 'shell') {
      const verb = { up: ['up'], status: ['status'], down: ['destroy', '-f'] }[action];
      if (!verb) throw new Error(`unknown action ${action}`);
      return await inherit(['vagrant', ...verb], { ...process.env, K8S_VERSION, VAGRANT_CWD: path.resolve(book.dir, '..', config.dir) });
    }
    const target = await createTarget(book, name);
    try {
      await target.connect();
      if (action === 'shell') {
        const env = { DOCKER_HOST: `unix://${target.dockerSocket}`, KUBECONFIG: book.config.kubeconfig };
        if (target.shell) return await target.shell(options.command ?? [], env);
        return await inherit(target.shellArgv(options.command ?? [], env));
      }
      if (action === 'up') return await runRemoteScript(target, 'provision.sh', [], io, K8S_VERSION);
      if (action === 'status') return await runRemoteScript(target, 'machine-status.sh', [], io, K8S_VERSION);
      if (action === 'down') return await runRemoteScript(target, 'machine-down.sh', [], io, K8S_VERSION);
      throw new Error(`unknown action ${action}`);
    } finally {
      await target.close();
    }
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

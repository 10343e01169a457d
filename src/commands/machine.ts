import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createTarget } from '../runner/targets/index.js';
import { LocalTarget } from '../runner/targets/local.js';
import { SshTarget } from '../runner/targets/ssh.js';
import { commandLine, MachineUnreachable, shellQuote, type Target } from '../runner/targets/target.js';
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
const MASTER = 'k8s-master';

interface LocalNode {
  name: string;
  netns: string;
  mountNamespace?: string;
  state: string;
  dockerHost: string;
}

/** The local machine's nodes, as local-machine.sh reports them. */
async function localNodes(env: NodeJS.ProcessEnv): Promise<LocalNode[]> {
  const status = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [path.join(VAGRANT_DIR, 'local-machine.sh'), 'status', '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  try {
    return (JSON.parse(status) as { nodes?: LocalNode[] }).nodes ?? [];
  } catch {
    return [];
  }
}

/** `book machine shell --node NAME` on the local target: that node's namespaces. */
async function localNodeShell(
  node: string,
  config: { runtimeDir: string },
  options: MachineCommandOptions,
  env: NodeJS.ProcessEnv,
  kubeconfig: string,
): Promise<number> {
  const nodes = await localNodes(env);
  const found = nodes.find((n) => n.name === node);
  if (found?.state !== 'present') {
    const known = nodes.map((n) => n.name).join(', ') || 'none (is the machine up?)';
    throw new MachineUnreachable(`the local machine has no node named "${node}" up`, `nodes: ${known}; bring them up with: book machine up`);
  }
  const target = new LocalTarget({
    name: `local/${node}`,
    netns: found.netns,
    mountNamespace: found.mountNamespace,
    runtimeDir: config.runtimeDir,
    dockerSocket: found.dockerHost.replace(/^unix:\/\//, ''),
    env: {},
  });
  try {
    return await inherit(target.shellArgv(options.command ?? [], { DOCKER_HOST: found.dockerHost, KUBECONFIG: kubeconfig, BOOK_NODE: node }));
  } finally {
    await target.close();
  }
}

/** Copies vagrant/*.sh to the machine and runs one of them there (ssh targets). */
async function runRemoteScript(target: Target, script: string, args: string[], io: Io, k8sVersion: string): Promise<number> {
  const dir = '/var/lib/book-machine/provision';
  for (const file of await readdir(VAGRANT_DIR)) {
    if (file.endsWith('.sh')) await target.writeFile(`${dir}/${file}`, await readFile(path.join(VAGRANT_DIR, file)), 0o755);
  }
  const result = await target.exec(`K8S_VERSION=${k8sVersion} bash ${dir}/${script} ${args.join(' ')}`, { onStdout: io.out, onStderr: io.err });
  return result.exitCode ?? 1;
}

export async function machineCommand(action: string, options: MachineCommandOptions, io: Io): Promise<number> {
  try {
    const book = await openBook(options.book);
    // The one setting that picks Kubernetes reaches the provisioning scripts as K8S_VERSION.
    const { K8S_VERSION } = machineVersions(book);
    const name = options.target ?? book.config.target;
    const config = book.config.targets[name];
    if (!config) throw new MachineUnreachable(`no target named "${name}"`, `use one of: ${Object.keys(book.config.targets).join(', ')}`);
    const node = options.node && options.node !== MASTER ? options.node : undefined;
    if (config.type === 'local') {
      const env = { ...process.env, K8S_VERSION, BOOK_NETNS: config.netns, BOOK_RUNTIME_DIR: config.runtimeDir };
      if (action !== 'shell') return await inherit(['bash', path.join(VAGRANT_DIR, 'local-machine.sh'), action], env);
      if (node) return await localNodeShell(node, config, options, env, book.config.kubeconfig);
    } else if (config.type === 'vagrant' && node) {
      // The worker's VM, as `vagrant ssh k8s-worker` opens it (a single argument is a command line).
      const command = options.command ?? [];
      const run = command.length ? ['-c', `sudo -i bash -c ${shellQuote(commandLine(command))}`] : [];
      return await inherit(['vagrant', 'ssh', node, ...run], { ...process.env, VAGRANT_CWD: path.resolve(book.dir, '..', config.dir) });
    } else if (config.type === 'ssh' && node) {
      const host = config.nodes?.[node];
      if (!host) {
        throw new MachineUnreachable(
          `the ssh target "${name}" has no node named "${node}"`,
          `its nodes: ${[MASTER, ...Object.keys(config.nodes ?? {})].join(', ')} (add one under nodes: in book.yaml, docs/two-nodes.md)`,
        );
      }
      const target = new SshTarget({ name: `${name}/${node}`, ...host, runtimeDir: config.runtimeDir, dockerSocket: config.dockerSocket, env: {} });
      return await inherit(
        target.shellArgv(options.command ?? [], { DOCKER_HOST: `unix://${config.dockerSocket}`, KUBECONFIG: book.config.kubeconfig, BOOK_NODE: node }),
      );
    } else if (node) {
      throw new MachineUnreachable(`the ${config.type} target has one node so far (${MASTER})`, 'see docs/two-nodes.md');
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

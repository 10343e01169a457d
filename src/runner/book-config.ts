import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { parseDuration } from './durations.js';
import type { BookConfig, BookIssue, SshNodeConfig, TargetConfig } from './types.js';
import { K8S_VERSION_PATTERN } from './versions.js';

/** Where every target keeps the runner's records on the machine. */
const RUNTIME_DIR = '/run/book-machine';
/** The local machine runs its own dockerd; VMs and ssh hosts use the system's. */
const LOCAL_DOCKER_SOCKET = `${RUNTIME_DIR}/docker.sock`;
const SYSTEM_DOCKER_SOCKET = '/var/run/docker.sock';

export const DEFAULT_TARGETS: Record<string, TargetConfig> = {
  local: { type: 'local', netns: 'book-minikube', runtimeDir: RUNTIME_DIR, dockerSocket: LOCAL_DOCKER_SOCKET },
  vagrant: { type: 'vagrant', dir: 'vagrant', runtimeDir: RUNTIME_DIR, dockerSocket: SYSTEM_DOCKER_SOCKET },
};

export const DEFAULT_CONFIG: BookConfig = {
  title: 'Build a Minikube',
  chapters: [],
  defaults: { timeoutMs: 60_000, retries: 0 },
  kubeconfig: '/etc/kubernetes/admin.kubeconfig',
  target: 'local',
  targets: DEFAULT_TARGETS,
};

const TOP_KEYS = ['title', 'chapters', 'defaults', 'kubeconfig', 'kubernetes', 'target', 'targets'];

/** Parses `book.yaml`; every problem names its line and what to write instead. */
export function parseBookConfig(file: string, text: string): { config: BookConfig; issues: BookIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const issues: BookIssue[] = [];
  const lineOf = (node: unknown) => {
    const range = (node as YamlNode | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  for (const error of doc.errors) {
    issues.push({ file, line: error.linePos?.[0].line ?? 1, message: error.message.split('\n')[0] ?? 'bad YAML', hint: 'fix the YAML syntax' });
  }
  if (issues.length > 0) return { config: DEFAULT_CONFIG, issues };
  const config: BookConfig = structuredClone(DEFAULT_CONFIG);
  if (doc.contents === null) return { config, issues };
  if (!isMap(doc.contents))
    return { config, issues: [{ file, line: 1, message: 'book.yaml must be a mapping', hint: 'write `title: ...` and `chapters: [...]`' }] };
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = doc.getIn([key]) as unknown;
    const at = lineOf(pair.key);
    const bad = (message: string, hint: string) => issues.push({ file, line: at, message, hint });
    switch (key) {
      case 'title':
        if (typeof value !== 'string') bad('title must be text', 'title: Build a Minikube');
        else config.title = value;
        break;
      case 'chapters': {
        const list = doc.getIn([key], false) as unknown;
        const plain = (list as { toJSON?: () => unknown })?.toJSON?.() ?? list;
        if (!Array.isArray(plain) || !plain.every((c) => typeof c === 'string'))
          bad('chapters must be a list of file stems', 'chapters: [00-machine, 01-kubelet]');
        else config.chapters = plain as string[];
        break;
      }
      case 'defaults': {
        const plain = (doc.get(key) as { toJSON?: () => Record<string, unknown> })?.toJSON?.() ?? {};
        for (const [k, v] of Object.entries(plain)) {
          if (k === 'timeout') {
            const ms = typeof v === 'string' ? parseDuration(v) : undefined;
            if (!ms) bad(`bad defaults.timeout: ${String(v)}`, 'timeout: 60s');
            else config.defaults.timeoutMs = ms;
          } else if (k === 'retries') {
            if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(`bad defaults.retries: ${String(v)}`, 'retries: 0');
            else config.defaults.retries = v;
          } else bad(`unknown key defaults.${k}`, 'defaults take timeout and retries');
        }
        break;
      }
      case 'kubeconfig':
        if (typeof value !== 'string' || !value.startsWith('/'))
          bad('kubeconfig must be an absolute path on the machine', 'kubeconfig: /etc/kubernetes/admin.kubeconfig');
        else config.kubeconfig = value;
        break;
      case 'kubernetes':
        if (typeof value !== 'string' || !K8S_VERSION_PATTERN.test(value))
          bad(
            `kubernetes must be a version such as v1.37.2 (got ${String(value)})`,
            'kubernetes: v1.35.4   (or leave it out for the version vagrant/versions.sh pins)',
          );
        else config.kubernetes = value;
        break;
      case 'target':
        if (typeof value !== 'string') bad('target must be a target name', 'target: local');
        else config.target = value;
        break;
      case 'targets': {
        const plain = (doc.get(key) as { toJSON?: () => Record<string, Record<string, unknown>> })?.toJSON?.() ?? {};
        for (const [name, raw] of Object.entries(plain)) {
          const target = readTarget(raw);
          if (typeof target === 'string') bad(`target ${name}: ${target}`, 'see docs/targets.md for the keys of each target type');
          else config.targets[name] = target;
        }
        break;
      }
      default:
        bad(`unknown key "${key}"`, `book.yaml keys: ${TOP_KEYS.join(', ')}`);
    }
  }
  if (!config.targets[config.target])
    issues.push({
      file,
      line: 1,
      message: `target "${config.target}" is not defined`,
      hint: `define it under targets:, or use one of ${Object.keys(config.targets).join(', ')}`,
    });
  return { config, issues };
}

function readTarget(raw: Record<string, unknown>): TargetConfig | string {
  const str = (k: string): string | undefined => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  // What every target type has: the runner's folder and the Docker socket, on the machine.
  const place = (dockerSocket: string) => ({ runtimeDir: str('runtimeDir') ?? RUNTIME_DIR, dockerSocket: str('dockerSocket') ?? dockerSocket });
  switch (raw.type) {
    case 'local':
      return { type: 'local', netns: str('netns') ?? 'book-minikube', ...place(LOCAL_DOCKER_SOCKET) };
    case 'ssh': {
      const host = str('host');
      if (!host) return 'ssh targets need host:';
      const port = typeof raw.port === 'number' ? raw.port : 22;
      const user = str('user') ?? 'root';
      const key = str('key');
      const nodes = readSshNodes(raw.nodes, { port, user, key });
      if (typeof nodes === 'string') return nodes;
      return { type: 'ssh', host, port, user, key, ...place(SYSTEM_DOCKER_SOCKET), ...(nodes ? { nodes } : {}) };
    }
    case 'vagrant':
      return { type: 'vagrant', dir: str('dir') ?? 'vagrant', ...place(SYSTEM_DOCKER_SOCKET) };
    default:
      return `type must be local, ssh or vagrant (got ${String(raw.type)})`;
  }
}

/** `nodes: { k8s-worker: { host: …, port?, user?, key? } }`: the target's own host is the master. */
function readSshNodes(raw: unknown, defaults: Omit<SshNodeConfig, 'host'>): Record<string, SshNodeConfig> | undefined | string {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return 'nodes must map node names to { host: … } (e.g. nodes: { k8s-worker: { host: 10.0.0.6 } })';
  const nodes: Record<string, SshNodeConfig> = {};
  for (const [name, node] of Object.entries(raw as Record<string, unknown>)) {
    const n = (node ?? {}) as Record<string, unknown>;
    if (name === 'k8s-master') return 'nodes: k8s-master is the target itself (its host:); list the other nodes';
    if (typeof n.host !== 'string' || !n.host) return `nodes: ${name} needs host:`;
    const unknown = Object.keys(n).filter((k) => !['host', 'port', 'user', 'key'].includes(k));
    if (unknown.length) return `nodes: ${name} has unknown keys ${unknown.join(', ')} (a node takes host, port, user, key)`;
    nodes[name] = {
      host: n.host,
      port: typeof n.port === 'number' ? n.port : defaults.port,
      user: typeof n.user === 'string' ? n.user : defaults.user,
      key: typeof n.key === 'string' ? n.key : defaults.key,
    };
  }
  return nodes;
}

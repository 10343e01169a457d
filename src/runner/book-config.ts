import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { parseDuration } from './durations.js';
import { BOOK_YAML_HINTS, type BookYaml, bookYamlSchema, defaultsSchema, sshNodeSchema, targetSchema } from './schemas/book-yaml.js';
import type { BookConfig, BookIssue, SshNodeConfig, TargetConfig } from './types.js';

/** Where every target keeps the runner's records on the machine. */
const RUNTIME_DIR = '/run/book-machine';
/** The local machine runs its own dockerd; VMs and ssh hosts use the system's. */
const LOCAL_DOCKER_SOCKET = `${RUNTIME_DIR}/docker.sock`;
const SYSTEM_DOCKER_SOCKET = '/var/run/docker.sock';

/** `target: auto`: docker where a Docker daemon answers, else local (targets/index.ts resolves it). */
export const AUTO_TARGET = 'auto';

export const DEFAULT_TARGETS: Record<string, TargetConfig> = {
  docker: { type: 'docker', machine: 'book-minikube', subnet: '192.168.56.0/24', runtimeDir: RUNTIME_DIR, dockerSocket: LOCAL_DOCKER_SOCKET },
  local: { type: 'local', netns: 'book-minikube', runtimeDir: RUNTIME_DIR, dockerSocket: LOCAL_DOCKER_SOCKET },
  vagrant: { type: 'vagrant', dir: 'vagrant', runtimeDir: RUNTIME_DIR, dockerSocket: SYSTEM_DOCKER_SOCKET },
};

export const DEFAULT_CONFIG: BookConfig = {
  title: 'Build a Minikube',
  chapters: [],
  defaults: { timeoutMs: 60_000, retries: 0 },
  kubeconfig: '/etc/kubernetes/admin.kubeconfig',
  target: AUTO_TARGET,
  targets: DEFAULT_TARGETS,
};

/** The line of the key at `path` in the YAML (the nearest existing parent when it is absent). */
function lineAt(doc: Document, lines: LineCounter, path: PropertyKey[]): number {
  let node: unknown = doc.contents;
  let line = 1;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const range = (pair.key as YamlNode).range;
      if (range) line = lines.linePos(range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as YamlNode | undefined;
      if (!item) break;
      if (item.range) line = lines.linePos(item.range[0]).line;
      node = item;
    } else break;
  }
  return line;
}

const pathText = (path: PropertyKey[]) =>
  path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');

/** zod's account of what is wrong → issues at the line of each wrong key, with what to write. */
function schemaIssues(file: string, doc: Document, lines: LineCounter, error: z.ZodError): BookIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path;
      const allowed = allowedKeys(where, doc);
      return {
        file,
        line: lineAt(doc, lines, [...where, issue.keys[0] as string]),
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${where.length ? ` in ${pathText(where)}` : ''}`,
        hint: allowed ? `${where.length ? pathText(where) : 'book.yaml'} takes: ${allowed.join(', ')}` : 'remove it',
      };
    }
    // A bad key of a map (a node or target name): zod keeps why in the key's own issues.
    if (issue.code === 'invalid_key')
      return {
        file,
        line: lineAt(doc, lines, issue.path),
        message: `${pathText(issue.path)}: ${issue.issues.map((i) => i.message).join('; ')}`,
        hint: BOOK_YAML_HINTS[String(issue.path.at(-2) ?? '')] ?? 'rename it',
      };
    const key = [...issue.path].reverse().find((p) => typeof p === 'string') as string | undefined;
    const got = valueAt(doc, issue.path);
    if (issue.code === 'invalid_type' && doc.getIn(issue.path as unknown[], true) === undefined)
      return { file, line: lineAt(doc, lines, issue.path), message: `${pathText(issue.path)} is missing`, hint: (key && BOOK_YAML_HINTS[key]) ?? 'add it' };
    return {
      file,
      line: lineAt(doc, lines, issue.path),
      message: `${issue.path.length ? `${pathText(issue.path)}: ` : ''}${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`,
      hint: (key && BOOK_YAML_HINTS[key]) ?? 'see docs/targets.md and the README for book.yaml',
    };
  });
}

function valueAt(doc: Document, path: PropertyKey[]): unknown {
  const value = doc.getIn(path as unknown[]) as unknown;
  if (value === undefined || (typeof value === 'object' && value !== null)) return undefined;
  return value;
}

/** The keys an object in book.yaml takes (read from its schema): top level, defaults, a target of the type it names, or a node. */
function allowedKeys(path: PropertyKey[], doc: Document): string[] | undefined {
  if (path.length === 0) return Object.keys(bookYamlSchema.shape);
  if (path[0] === 'defaults') return Object.keys(defaultsSchema.shape);
  if (path[0] === 'targets' && path.length === 2) {
    const type = doc.getIn([...path, 'type']) as unknown;
    const option = targetSchema.options.find((o) => o.shape.type.value === type);
    return option ? Object.keys(option.shape) : undefined;
  }
  if (path[0] === 'targets' && path[2] === 'nodes') return Object.keys(sshNodeSchema.shape);
  return undefined;
}

/** Parses `book.yaml`; every problem names its line and what to write instead. */
export function parseBookConfig(file: string, text: string): { config: BookConfig; issues: BookIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const issues: BookIssue[] = doc.errors.map((error) => ({
    file,
    line: error.linePos?.[0].line ?? 1,
    message: error.message.split('\n')[0] ?? 'bad YAML',
    hint: 'fix the YAML syntax',
  }));
  if (issues.length > 0) return { config: DEFAULT_CONFIG, issues };
  const plain = (doc.toJS() as unknown) ?? {};
  if (typeof plain !== 'object' || Array.isArray(plain))
    return { config: DEFAULT_CONFIG, issues: [{ file, line: 1, message: 'book.yaml must be a mapping', hint: 'write `title: ...` and `chapters: [...]`' }] };
  const parsed = bookYamlSchema.safeParse(plain);
  if (!parsed.success) return { config: DEFAULT_CONFIG, issues: schemaIssues(file, doc, lines, parsed.error) };
  const config = toConfig(parsed.data);
  if (!config.targets[config.target] && config.target !== AUTO_TARGET)
    issues.push({
      file,
      line: lineAt(doc, lines, ['target']),
      message: `target "${config.target}" is not defined`,
      hint: `define it under targets:, or use auto or one of ${Object.keys(config.targets).join(', ')}`,
    });
  return { config, issues };
}

/** A valid book.yaml with every default filled in. */
function toConfig(yaml: BookYaml): BookConfig {
  const config: BookConfig = structuredClone(DEFAULT_CONFIG);
  if (yaml.title !== undefined) config.title = yaml.title;
  if (yaml.chapters) config.chapters = yaml.chapters;
  if (yaml.defaults?.timeout) config.defaults.timeoutMs = parseDuration(yaml.defaults.timeout) as number;
  if (yaml.defaults?.retries !== undefined) config.defaults.retries = yaml.defaults.retries;
  if (yaml.kubeconfig) config.kubeconfig = yaml.kubeconfig;
  if (yaml.kubernetes) config.kubernetes = yaml.kubernetes;
  if (yaml.target) config.target = yaml.target;
  for (const [name, target] of Object.entries(yaml.targets ?? {})) config.targets[name] = toTarget(target);
  return config;
}

function toTarget(target: z.infer<typeof targetSchema>): TargetConfig {
  const place = (dockerSocket: string) => ({ runtimeDir: target.runtimeDir ?? RUNTIME_DIR, dockerSocket: target.dockerSocket ?? dockerSocket });
  switch (target.type) {
    case 'local':
      return { type: 'local', netns: target.netns ?? 'book-minikube', ...place(LOCAL_DOCKER_SOCKET) };
    case 'vagrant':
      return { type: 'vagrant', dir: target.dir ?? 'vagrant', ...place(SYSTEM_DOCKER_SOCKET) };
    case 'docker':
      return { type: 'docker', machine: target.machine ?? 'book-minikube', subnet: target.subnet ?? '192.168.56.0/24', ...place(LOCAL_DOCKER_SOCKET) };
    case 'ssh': {
      const port = target.port ?? 22;
      const user = target.user ?? 'root';
      const nodes = target.nodes
        ? Object.fromEntries(
            Object.entries(target.nodes).map(([name, n]): [string, SshNodeConfig] => [
              name,
              { host: n.host, port: n.port ?? port, user: n.user ?? user, key: n.key ?? target.key, ...(n.hostKey ? { hostKey: n.hostKey } : {}) },
            ]),
          )
        : undefined;
      return {
        type: 'ssh',
        host: target.host,
        port,
        user,
        key: target.key,
        ...(target.hostKey ? { hostKey: target.hostKey } : {}),
        ...place(SYSTEM_DOCKER_SOCKET),
        ...(nodes ? { nodes } : {}),
      };
    }
  }
}

import { type Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { appendAll } from './arrays.js';
import { parseDuration } from './durations.js';
import { echoed, echoedKey } from './echo.js';
import { limitIssues, MAX_ISSUES } from './issue-limit.js';
import { BOOK_YAML_HINTS, type BookYaml, bookYamlSchema, defaultsSchema, sshNodeSchema, targetSchema } from './schemas/book-yaml.js';
import { plainMessage } from './schemas/problem.js';
import type { BookConfig, BookIssue, SshNodeConfig, TargetConfig } from './types.js';
import { YamlIndex } from './yaml-index.js';

/** Where every target keeps the runner's records on the machine. */
const RUNTIME_DIR = '/run/book-machine';
/** The local machine runs its own dockerd; VMs and ssh hosts use the system's. */
const LOCAL_DOCKER_SOCKET = `${RUNTIME_DIR}/docker.sock`;
const SYSTEM_DOCKER_SOCKET = '/var/run/docker.sock';

/** `target: auto`: docker where a Docker daemon answers, else local (targets/index.ts resolves it). */
export const AUTO_TARGET = 'auto';

/** The docker target's machine and subnet when book.yaml names none. */
const DEFAULT_DOCKER = { machine: 'book-minikube', subnet: '192.168.56.0/24' } as const;

export const DEFAULT_TARGETS: Record<string, TargetConfig> = {
  docker: { type: 'docker', ...DEFAULT_DOCKER, runtimeDir: RUNTIME_DIR, dockerSocket: LOCAL_DOCKER_SOCKET },
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

const pathText = (path: PropertyKey[]) =>
  path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');

/** zod's account of what is wrong → issues at the line of each wrong key, with what to write. */
function schemaIssues(file: string, yaml: YamlIndex, error: z.ZodError): BookIssue[] {
  // 100,000 bad entries make 100,000 zod issues: only those that will be listed are placed.
  const shown = error.issues.slice(0, MAX_ISSUES + 1).map((issue): BookIssue => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path;
      const allowed = allowedKeys(where, yaml);
      const names = issue.keys.slice(0, 10).map(echoedKey);
      if (issue.keys.length > names.length) names.push(`and ${issue.keys.length - names.length} more`);
      return {
        file,
        line: yaml.lineAt([...where, issue.keys[0] as string]),
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${names.join(', ')}${where.length ? ` in ${pathText(where)}` : ''}`,
        hint: allowed ? `${where.length ? pathText(where) : 'book.yaml'} takes: ${allowed.join(', ')}` : 'remove it',
      };
    }
    // A bad key of a map (a node or target name): zod keeps why in the key's own issues.
    if (issue.code === 'invalid_key')
      return {
        file,
        line: yaml.lineAt(issue.path),
        message: `${pathText(issue.path)}: ${issue.issues.map((i) => i.message).join('; ')}`,
        hint: BOOK_YAML_HINTS[String(issue.path.at(-2) ?? '')] ?? 'rename it',
      };
    const key = [...issue.path].reverse().find((p) => typeof p === 'string') as string | undefined;
    const got = yaml.valueAt(issue.path);
    if (issue.code === 'invalid_type' && !yaml.has(issue.path))
      return { file, line: yaml.lineAt(issue.path), message: `${pathText(issue.path)} is missing`, hint: (key && BOOK_YAML_HINTS[key]) ?? 'add it' };
    return {
      file,
      line: yaml.lineAt(issue.path),
      message: `${issue.path.length ? `${pathText(issue.path)}: ` : ''}${issue.message}${got === undefined || / got /.test(issue.message) ? '' : ` (got ${echoed(got)})`}`,
      hint: (key && BOOK_YAML_HINTS[key]) ?? 'see docs/targets.md and the README for book.yaml',
    };
  });
  return limitIssues(shown, error.issues.length - shown.length);
}

/** The keys an object in book.yaml takes (read from its schema): top level, defaults, a target of the type it names, or a node. */
function allowedKeys(path: PropertyKey[], yaml: YamlIndex): string[] | undefined {
  if (path.length === 0) return Object.keys(bookYamlSchema.shape);
  if (path[0] === 'defaults') return Object.keys(defaultsSchema.shape);
  if (path[0] === 'targets' && path.length === 2) {
    const type = yaml.valueAt([...path, 'type']);
    const option = targetSchema.options.find((o) => o.shape.type.value === type);
    return option ? Object.keys(option.shape) : undefined;
  }
  if (path[0] === 'targets' && path[2] === 'nodes') return Object.keys(sshNodeSchema.shape);
  return undefined;
}

/** At most this many aliases (`*name`) in book.yaml: yaml resolves each by a scan of the anchors. */
const MAX_ALIASES = 1000;
/** At most this many values once aliases are expanded: more than a book.yaml of 1 MiB can write out. */
const MAX_EXPANDED = 1_000_000;

/**
 * Anchors that reference anchors ("billion laughs": `b: &b [*a, *a, …]`, `c: &c [*b, *b, …]`)
 * expand a small file into billions of values for whatever walks the result. The expansion is
 * counted here without being made, and refused at the line of the alias where it gets too large.
 */
function aliasProblem(file: string, yaml: YamlIndex): BookIssue | undefined {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode | undefined>();
  let aliases = 0;
  let tooMany: Alias | undefined;
  visit(yaml.doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        aliases += 1;
        if (aliases > MAX_ALIASES) {
          tooMany = node;
          return visit.BREAK;
        }
        // The last anchor of that name before the alias, as YAML resolves it.
        targets.set(node, anchors.get(node.source));
      } else if (node.anchor) anchors.set(node.anchor, node);
      return undefined;
    },
  });
  if (tooMany)
    return {
      file,
      line: yaml.lineOf(tooMany),
      message: `more than ${MAX_ALIASES} aliases (*${tooMany.source} is one too many)`,
      hint: 'write the values out instead of aliasing them',
    };
  if (aliases === 0) return undefined;
  // Expanded sizes, each node's counted once (memoised); a node inside its own expansion is endless.
  const sizes = new Map<unknown, number>();
  const sizeOf = (node: unknown): number => {
    if (node === null || node === undefined) return 0;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, Number.POSITIVE_INFINITY);
    let size = 1;
    if (isAlias(node)) size = sizeOf(targets.get(node));
    else if (isPair(node)) size = sizeOf(node.key) + sizeOf(node.value);
    else if (isMap(node) || isSeq(node)) for (const item of node.items as unknown[]) size += sizeOf(item);
    sizes.set(node, size);
    return size;
  };
  // In document order: the running count of values crosses the bound at the alias to blame.
  let total = 0;
  let culprit: Alias | undefined;
  visit(yaml.doc, {
    Node(_key, node) {
      if (isAlias(node)) culprit = node;
      total += isAlias(node) ? sizeOf(node) : 1;
      return total > MAX_EXPANDED ? visit.BREAK : undefined;
    },
  });
  if (total <= MAX_EXPANDED) return undefined;
  return {
    file,
    line: yaml.lineOf(culprit),
    message: `the aliases here expand book.yaml to more than ${MAX_EXPANDED.toLocaleString('en-US')} values (anchors that reference anchors: an alias bomb)`,
    hint: 'write the values out, or alias each anchor only a few times',
  };
}

/** Keys a map holds twice: reported at the second (a scan per key, as yaml does it, was quadratic). */
function duplicateKeys(file: string, yaml: YamlIndex): BookIssue[] {
  const issues: BookIssue[] = [];
  visit(yaml.doc, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (seen.has(value))
          issues.push({ file, line: yaml.lineOf(pair.key), message: `"${String(value)}" is here twice: map keys must be unique`, hint: 'keep one of them' });
        seen.add(value);
      }
    },
  });
  return issues;
}

const NESTING_HINT = 'book.yaml needs only a few levels: title, chapters, defaults, targets and their keys';

/** What parseBookConfig tells: the config (the defaults when there are issues), and where each `chapters:` entry is. */
export interface ParsedBookConfig {
  config: BookConfig;
  issues: BookIssue[];
  /** The line of each entry of `chapters:`, by index (empty when there is no list). */
  chapterLines: number[];
}

/** Parses `book.yaml`; every problem names its line and what to write instead. */
export function parseBookConfig(file: string, text: string): ParsedBookConfig {
  const lines = new LineCounter();
  // uniqueKeys: false: yaml compares each key with every key before it (minutes for 100,000 keys);
  // duplicateKeys does it with a set.
  // logLevel: yaml's warnings (a key that is a list) would go to stderr; such a key is refused below.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, logLevel: 'error' });
  const refused = (issues: BookIssue[]): ParsedBookConfig => ({ config: DEFAULT_CONFIG, issues: limitIssues(issues), chapterLines: [] });
  if (doc.errors.length > 0)
    return refused(
      doc.errors.map((error) =>
        // yaml reports nesting deeper than its recursion can go as the stack overflow it caught.
        /call stack/i.test(error.message)
          ? { file, line: error.linePos?.[0].line ?? 1, message: 'is nested too deeply to read', hint: NESTING_HINT }
          : error.code === 'MULTIPLE_DOCS'
            ? {
                file,
                line: error.linePos?.[0].line ?? 1,
                message: 'holds a second YAML document (after a `---` line)',
                hint: 'book.yaml is one document: remove the `---` and join the two, or remove the second',
              }
            : { file, line: error.linePos?.[0].line ?? 1, message: error.message.split('\n')[0] ?? 'bad YAML', hint: 'fix the YAML syntax' },
      ),
    );
  const yaml = new YamlIndex(doc, lines);
  const duplicates = duplicateKeys(file, yaml);
  if (duplicates.length > 0) return refused(duplicates);
  let plain: unknown;
  try {
    const bomb = aliasProblem(file, yaml);
    if (bomb) return refused([bomb]);
    // aliasProblem bounds the expansion; yaml's own guard (maxAliasCount) would throw instead.
    plain = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    // Nesting deeper than the stack (yaml reports most as errors above), or an alias yaml cannot resolve.
    const deep = error instanceof RangeError;
    return refused([
      {
        file,
        line: 1,
        message: deep ? 'is nested too deeply to read' : `cannot be read as YAML (${(error as Error).message})`,
        hint: deep ? NESTING_HINT : 'fix the YAML',
      },
    ]);
  }
  // Empty, or comments only: a file cut short when written, or `touch`ed. The defaults (target
  // auto among them) would send the run to a machine this file did not name.
  if (plain === null || plain === undefined)
    return refused([
      {
        file,
        line: 1,
        message: 'is empty: it sets nothing',
        hint: 'write the settings (title:, target:, …; README.md, docs/targets.md), or delete the file to use the defaults',
      },
    ]);
  if (typeof plain !== 'object' || Array.isArray(plain))
    return refused([{ file, line: 1, message: 'book.yaml must be a mapping', hint: 'write `title: ...` and `chapters: [...]`' }]);
  const parsed = bookYamlSchema.safeParse(plain, { error: plainMessage });
  if (!parsed.success) return refused(schemaIssues(file, yaml, parsed.error));
  const config = toConfig(parsed.data);
  const issues: BookIssue[] = [];
  if (!definedTarget(config, config.target) && config.target !== AUTO_TARGET)
    issues.push({
      file,
      line: yaml.lineAt(['target']),
      message: `target "${config.target}" is not defined`,
      hint: `define it under targets:, or use auto or one of ${Object.keys(config.targets).join(', ')}`,
    });
  appendAll(issues, dockerMachineClashes(file, yaml, parsed.data));
  const chapterLines = config.chapters.map((_, i) => yaml.lineAt(['chapters', i]));
  return { config, issues, chapterLines };
}

/**
 * Two docker targets of this book that would share a Docker network with different addresses:
 * the same machine on two subnets (the second `up` would reuse the first's network and print
 * addresses that are not its nodes'), or one subnet under two machines (Docker refuses a second
 * network there).
 */
function dockerMachineClashes(file: string, yaml: YamlIndex, data: BookYaml): BookIssue[] {
  const issues: BookIssue[] = [];
  const bySubnet = new Map<string, [string, string]>();
  const byMachine = new Map<string, [string, string]>();
  for (const [name, target] of Object.entries(data.targets ?? {})) {
    if (target.type !== 'docker') continue;
    const machine = target.machine ?? DEFAULT_DOCKER.machine;
    const subnet = target.subnet ?? DEFAULT_DOCKER.subnet;
    const sameMachine = byMachine.get(machine);
    const sameSubnet = bySubnet.get(subnet);
    if (sameMachine && sameMachine[1] !== subnet)
      issues.push({
        file,
        line: yaml.lineAt(['targets', name, target.subnet ? 'subnet' : 'type']),
        message: `targets.${name}: machine ${machine} is targets.${sameMachine[0]}'s, on another subnet (${sameMachine[1]})`,
        hint: 'give each machine a name of its own (machine:), or the same subnet',
      });
    else if (sameSubnet && sameSubnet[1] !== machine)
      issues.push({
        file,
        line: yaml.lineAt(['targets', name, target.machine ? 'machine' : 'type']),
        message: `targets.${name}: subnet ${subnet} is targets.${sameSubnet[0]}'s, for machine ${sameSubnet[1]}`,
        hint: 'give each machine a subnet of its own (subnet: 192.168.57.0/24, …): Docker makes one network per subnet',
      });
    if (!byMachine.has(machine)) byMachine.set(machine, [name, subnet]);
    if (!bySubnet.has(subnet)) bySubnet.set(subnet, [name, machine]);
  }
  return issues;
}

/**
 * The target book.yaml (or the defaults) define under that name, if any. Own names only: a name
 * like `toString` or `__proto__` is no target, whatever objects inherit.
 */
export function definedTarget(config: Pick<BookConfig, 'targets'>, name: string): TargetConfig | undefined {
  return Object.hasOwn(config.targets, name) ? config.targets[name] : undefined;
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
      return {
        type: 'docker',
        machine: target.machine ?? DEFAULT_DOCKER.machine,
        subnet: target.subnet ?? DEFAULT_DOCKER.subnet,
        ...place(LOCAL_DOCKER_SOCKET),
      };
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

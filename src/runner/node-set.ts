import type Docker from 'dockerode';
import type { MachineClients } from './clients.js';
import type { Machine } from './machine.js';
import type { Shell } from './shell.js';
import type { NodeTargets } from './targets/nodes.js';
import type { Target } from './targets/target.js';
import { type Block, BookError, type Chapter } from './types.js';

/** What a block has on one node: the same `$`, `docker` and `machine` as the first node's globals. */
export interface NodeTools {
  target: Target;
  clients: MachineClients;
  $: Shell;
  machine: Machine;
  docker: Docker;
}

/** A node as a block sees it: `nodes['k8s-worker'].$`. */
export interface NodeGlobal {
  readonly name: string;
  readonly $: Shell;
  readonly docker: Docker;
  readonly machine: Machine;
}

/**
 * The machine's nodes for one run. The first is the target itself; the others are opened the first
 * time a block needs them (an `sh node=NAME` block, or a ts block that mentions `nodes`), so a
 * book that never leaves the first node never connects to a second.
 */
export class NodeSet {
  private readonly opened = new Map<string, Promise<NodeTools>>();
  private readonly ready = new Map<string, NodeTools>();
  /** Why a node could not be opened, the last time it was tried. */
  private readonly problems = new Map<string, unknown>();
  /** The `nodes` global: `nodes['k8s-master']` is `{ $, docker, machine }` of the first node. */
  readonly global: Readonly<Record<string, NodeGlobal>>;

  constructor(
    private readonly first: string,
    firstTools: NodeTools,
    private readonly others: NodeTargets,
    private readonly open: (name: string, target: Target) => Promise<NodeTools>,
  ) {
    this.ready.set(first, firstTools);
    const set = this;
    this.global = new Proxy(Object.create(null) as Record<string, NodeGlobal>, {
      get(_, key) {
        if (typeof key === 'symbol') return undefined;
        const tools = set.ready.get(key);
        if (tools) return { name: key, $: tools.$, docker: tools.docker, machine: tools.machine };
        const problem = set.problems.get(key) as Error | undefined;
        if (set.names.includes(key)) throw new Error(`node ${key} is not reachable: ${problem?.message ?? 'it was not opened'}`);
        throw new Error(`no node named "${key}" on this target: its nodes are ${set.names.join(', ')}`);
      },
      has: (_, key) => typeof key === 'string' && set.names.includes(key),
      ownKeys: () => [...set.ready.keys()],
      getOwnPropertyDescriptor: (_, key) => (typeof key === 'string' && set.ready.has(key) ? { enumerable: true, configurable: true } : undefined),
    });
  }

  get names(): string[] {
    return [this.first, ...this.others.names];
  }

  /** Every `node=` names a node of this target: checked before the first block runs. */
  check(chapters: Chapter[]): void {
    checkNodeAttributes(chapters, this.names);
  }

  /** The node a block runs on, opened if it was not yet (`nodes` opens the others lazily, on first use). */
  async forBlock(block: Block): Promise<NodeTools & { label: { node?: string } }> {
    const name = block.attrs.node ?? this.first;
    const tools = await this.tools(name);
    return { ...tools, label: name === this.first ? {} : { node: name } };
  }

  private tools(name: string): Promise<NodeTools> {
    const ready = this.ready.get(name);
    if (ready) return Promise.resolve(ready);
    let opening = this.opened.get(name);
    if (!opening) {
      opening = this.others.open(name).then((target) => this.open(name, target));
      opening.then(
        (tools) => {
          this.ready.set(name, tools);
          this.problems.delete(name);
        },
        (error) => {
          this.opened.delete(name);
          this.problems.set(name, error);
        },
      );
      this.opened.set(name, opening);
    }
    return opening;
  }

  /** Opens every other node that answers; one that does not is tried again when a block needs it. */
  async openReachable(): Promise<void> {
    await Promise.all(this.others.names.map((name) => this.tools(name).catch(() => undefined)));
  }

  /** The nodes a snapshot reads besides the first: those opened so far. */
  openedOthers(): { name: string; target: Target; clients: MachineClients }[] {
    return [...this.ready].filter(([name]) => name !== this.first).map(([name, tools]) => ({ name, target: tools.target, clients: tools.clients }));
  }

  async close(): Promise<void> {
    for (const [name, tools] of this.ready) {
      if (name === this.first) continue;
      await tools.clients.close();
      await tools.target.close();
    }
  }
}

/** Throws a BookError for each `node=` that names none of `names` (the target's nodes, the first included). */
export function checkNodeAttributes(chapters: Chapter[], names: readonly string[]): void {
  const issues = chapters
    .flatMap((chapter) => chapter.blocks)
    .filter((block) => block.attrs.node !== undefined && !names.includes(block.attrs.node))
    .map((block) => ({
      file: block.file,
      line: block.line,
      message: `node=${block.attrs.node}: this target has no such node`,
      hint: `its nodes are ${names.join(', ')} (an ssh target lists its others under nodes: in book.yaml)`,
    }));
  if (issues.length > 0) throw new BookError(issues);
}

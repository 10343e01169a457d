import type { AgentClient, AgentNodeState, NodeStateAsk } from './agent.js';
import type { ExecOptions, NodeState } from './target.js';

/**
 * How long a reading of a node that nothing has acted on since still stands for its state. What
 * changes a node by itself (a kubelet starting a pod's containers) is asynchronous to the blocks
 * anyway: a snapshot shows it at most this much later. What the runner does to the node (a
 * command, bytes to its Docker) always makes the next snapshot read it anew.
 */
export const READING_FRESH_MS = 100;

/** What a reading is taken by: the agent's ask without the parts that change per message. */
export type ReadingAsk = Omit<NodeStateAsk, 'dockerSeen'>;

/** The agent, as the readings need it. */
export type ReadingAgent = Pick<AgentClient, 'traffic' | 'nodeState' | 'execWithReading'>;

interface Reading {
  key: string;
  ask: ReadingAsk;
  /** The agent's traffic count when it was asked (a command's: counting the command itself). */
  traffic: number;
  state: Promise<NodeState>;
  /** When it came (performance.now()); undefined while in flight. */
  at?: number;
  failed: boolean;
  /** For a reading after a command: whether the command has ended (the reading is on its way). */
  commandEnded: boolean;
}

const keyOf = (ask: ReadingAsk) => JSON.stringify([ask.runtime, ask.manifests, ask.lines, ask.socket, ask.dockerData, ask.read ?? []]);

/**
 * One node's readings (the docker target's): the snapshot's read after each block, taken by the
 * agent right after a command when it can (no round trip of its own), and kept while fresh and
 * while the runner has not acted on the node since. Also the container list the agent answers
 * `same` against, and whether the network changed since the last reading the snapshot took.
 */
export class NodeReadings {
  private latest?: Reading;
  private lastAsk?: ReadingAsk;
  /** The last container list with its fingerprint: the agent answers `same` while it is unchanged. */
  private held?: { fingerprint: string; containers: unknown[] };
  /** Some reading since the last one handed out said the network changed (each reading drains the agent's notifications). */
  private netUnseen = false;

  constructor(
    private readonly agent: ReadingAgent,
    private readonly now: () => number = () => performance.now(),
    private readonly freshMs = READING_FRESH_MS,
  ) {}

  /** A command through the agent that brings back the node's state after it, once a snapshot has asked (the docker target's exec). */
  exec(command: string, env: Record<string, string>, options: ExecOptions): ReturnType<AgentClient['exec']> {
    const after = options.readOnly ? undefined : this.afterCommand();
    const { answer, reading } = this.agent.execWithReading(command, env, options, after?.ask);
    if (after && reading) after.taken(this.agent.traffic, answer, reading);
    return answer;
  }

  /** What a command should ask the agent to read once it has ended: the snapshot's last ask (none before the first snapshot). */
  afterCommand(): { ask: NodeStateAsk; taken: (traffic: number, command: Promise<unknown>, reading: Promise<AgentNodeState>) => void } | undefined {
    const ask = this.lastAsk;
    if (!ask) return undefined;
    const held = this.held;
    return {
      ask: { ...ask, dockerSeen: held?.fingerprint },
      taken: (traffic, command, reading) => {
        const r = this.track(ask, traffic, reading, held);
        r.commandEnded = false;
        command.then(
          () => {
            r.commandEnded = true;
          },
          () => {
            r.commandEnded = true;
          },
        );
      },
    };
  }

  /** The node's state for a snapshot: a reading that still stands, or a new one. */
  async read(ask: ReadingAsk): Promise<NodeState> {
    this.lastAsk = ask;
    const standing = this.standing(keyOf(ask));
    // One on its way may still fail (the agent went): then ask.
    const state = (standing && (await standing.state.catch(() => undefined))) ?? (await this.ask(ask).state);
    // Every reading that came drained the agent's notifications: the network changed if any said so.
    const netChanged = this.netUnseen;
    this.netUnseen = false;
    return { ...state, netChanged };
  }

  /** A file the last standing reading holds (the kubeconfig), or undefined: read it another way. */
  async file(path: string): Promise<Buffer | undefined> {
    const reading = this.latest && this.standing(this.latest.key);
    if (!reading?.ask.read?.includes(path)) return undefined;
    const state = await reading.state.catch(() => undefined);
    const answer = state?.read?.[path];
    if (!answer) return undefined;
    if ('error' in answer) throw new Error(answer.error);
    return Buffer.from(answer.data, 'base64');
  }

  private ask(ask: ReadingAsk): Reading {
    const held = this.held;
    return this.track(ask, this.agent.traffic, this.agent.nodeState({ ...ask, dockerSeen: held?.fingerprint }), held);
  }

  /** The latest reading, if it still says what the node is: nothing acted on the node since, and it is fresh or on its way. */
  private standing(key: string): Reading | undefined {
    const r = this.latest;
    if (!r || r.key !== key || r.traffic !== this.agent.traffic || r.failed) return undefined;
    // A command not awaited by its block may run on: the reading after it is no answer for now.
    if (!r.commandEnded) return undefined;
    if (r.at === undefined) return r;
    return this.now() - r.at <= this.freshMs ? r : undefined;
  }

  private track(ask: ReadingAsk, traffic: number, answer: Promise<AgentNodeState>, held: NodeReadings['held']): Reading {
    const reading: Reading = {
      key: keyOf(ask),
      ask,
      traffic,
      failed: false,
      commandEnded: true,
      state: answer.then(
        (raw) => {
          reading.at = this.now();
          if (raw.netChanged) this.netUnseen = true;
          return { ...raw, docker: this.containers(raw.docker, held) };
        },
        (error: unknown) => {
          reading.failed = true;
          throw error;
        },
      ),
    };
    // A reading nobody asks for fails quietly (a command's, when others still ran).
    reading.state.catch(() => {});
    this.latest = reading;
    return reading;
  }

  /** `same` is the list of the fingerprint the ask held (whatever came since); a new list is held for the next ask. */
  private containers(docker: AgentNodeState['docker'], held: NodeReadings['held']): NodeState['docker'] {
    if ('same' in docker) {
      if (!held) throw new Error('the machine agent said the containers are the same as a list this runner does not hold');
      return held;
    }
    if ('containers' in docker) this.held = docker.fingerprint ? { fingerprint: docker.fingerprint, containers: docker.containers } : undefined;
    else this.held = undefined;
    return docker;
  }
}

import { KubeConfig } from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { ApiUnavailable, type K8s, MachineClients } from '../clients.js';
import type { DiagnosticSection } from '../diagnostics.js';
import type { Snapshot } from '../state/types.js';
import type { Target } from '../targets/target.js';
import type { Block } from '../types.js';
import { callKey, dockerPath, errorFromJson, fromJson, handlePath, isDockerHandle, nodePrefix, targetCalls } from './calls.js';
import { stableJson } from './normalise.js';
import { Redactor } from './redact.js';
import { blockHash, type RecordedBlock, type RecordedCall, type Transcript, transcriptBlocks } from './transcript.js';

const RERECORD = 're-record the transcript on a machine with: book run --record';

/** The replay cannot answer: the book or its calls changed since the transcript was recorded. */
export class ReplayMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMismatch';
  }
}

/** A call as the replay compares and shows it. */
type Call = Pick<RecordedCall, 'kind' | 'path' | 'key' | 'args'>;

/** How a mismatch names a call: its path, then its key (a target call) or its arguments. */
function callParts(call: Call): { head: string; body: string; tail: string } {
  if (call.kind === 'target' && call.key !== undefined) return { head: `${call.path}: `, body: call.key, tail: '' };
  return { head: `${call.path}(`, body: stableJson(call.args).slice(1, -1), tail: ')' };
}

function describeCall(call: Call, around = 0): string {
  const { head, body, tail } = callParts(call);
  if (body.length <= 160) return `${head}${body}${tail}`;
  const from = Math.max(0, Math.min(around - 60, body.length - 150));
  return `${head}${from > 0 ? '…' : ''}${body.slice(from, from + 150)}${from + 150 < body.length ? '…' : ''}${tail}`;
}

/** Where two calls first differ, so a long command is shown around the change, not from its start. */
function firstDifference(a: Call, b: Call): number {
  const x = callParts(a).body;
  const y = callParts(b).body;
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i;
}

/**
 * Answers the calls of a run from a transcript, block by block. Within a block a call takes the
 * first recorded call not yet used with the same normalised key, so concurrent calls may come in
 * another order, and polls get their recorded "not yet" answers in order.
 */
export class ReplaySession {
  private readonly blocks: Map<string, RecordedBlock>;
  /** Per block: how many times each recorded call has answered (a call with `repeat` answers that many times). */
  private readonly used = new Map<string, number[]>();
  private current?: { block: Block; recorded: RecordedBlock };
  private abort?: (error: Error) => void;
  private snapshots = 0;
  /** The replay's own secrets (a new random token), blanked before comparing, as the recording's were. */
  readonly redactor = new Redactor();

  constructor(readonly transcript: Transcript) {
    this.blocks = transcriptBlocks(transcript);
  }

  enter(block: Block): void {
    const recorded = this.blocks.get(block.id);
    this.current = undefined;
    if (!recorded) throw new ReplayMismatch(`block ${block.id} (${block.file}:${block.line}) is not in the transcript: ${RERECORD}`);
    if (recorded.hash !== blockHash(block))
      throw new ReplayMismatch(`block ${block.id} (${block.file}:${block.line}) changed since the transcript was recorded: ${RERECORD}`);
    this.current = { block, recorded };
  }

  bindAbort(abort: (error: Error) => void): void {
    this.abort = abort;
  }

  /**
   * The first recorded call of the running block not used yet that this one matches (by its
   * logical key, calls.ts matchText), marked used; undefined when there is none.
   */
  find(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): RecordedCall | undefined {
    const current = this.current;
    if (!current) return undefined;
    const { recorded } = current;
    const used = this.used.get(recorded.id) ?? [];
    this.used.set(recorded.id, used);
    const wanted = callKey(this.live(kind, path, args, key));
    for (let i = 0; i < recorded.calls.length; i++) {
      const call = recorded.calls[i] as RecordedCall;
      if (spent(call, used[i]) || call.kind !== kind) continue;
      if (callKey(call) === wanted) {
        used[i] = (used[i] ?? 0) + 1;
        return call;
      }
    }
    return undefined;
  }

  /** The last recorded call this one matches in the blocks before the running one (used or not): what the recording last saw. */
  lastBefore(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): RecordedCall | undefined {
    const current = this.current;
    if (!current) return undefined;
    const wanted = callKey(this.live(kind, path, args, key));
    let last: RecordedCall | undefined;
    for (const block of this.blocks.values()) {
      if (block === current.recorded) break;
      for (const call of block.calls) if (call.kind === kind && callKey(call) === wanted) last = call;
    }
    return last;
  }

  /** A call of this run, redacted with the secrets this run registered, as the recorded ones were. */
  private live(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): Call {
    return { kind, path, args: this.redactor.redactDeep(args), ...(key === undefined ? {} : { key: this.redactor.redact(key) }) };
  }

  /** The recorded call that answers this one; a call the transcript lacks aborts the block. */
  take(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): RecordedCall {
    const current = this.current;
    if (!current) throw new ReplayMismatch(`${path} was called outside any block; a replay answers only the calls of blocks`);
    const found = this.find(kind, path, args, key);
    if (found) return found;
    const { recorded, block } = current;
    const used = this.used.get(recorded.id) ?? [];
    const next = recorded.calls.find((call, i) => !spent(call, used[i]));
    const live = this.live(kind, path, args, key);
    const at = next && next.path === path ? firstDifference(live, next) : 0;
    const error = new ReplayMismatch(
      `block ${block.id} (${block.file}:${block.line}) made a call the transcript does not hold: ${describeCall(live, at)}` +
        `${next ? `; the recording's next call was ${describeCall(next, at)}` : '; the recording made no more calls in this block'}: ${RERECORD}`,
    );
    this.abort?.(error);
    throw error;
  }

  /** Answers a call with its recorded result (a rejected promise for a recorded error). */
  answer(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): Promise<unknown> {
    try {
      return settle(this.take(kind, path, args, key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The snapshots in the order the recording took them: the baseline, then one after each block. */
  snapshot(): Promise<Snapshot> {
    const first = this.snapshots++ === 0;
    const snapshot = first ? this.transcript.baseline : this.current?.recorded.state?.snapshot;
    return snapshot ? Promise.resolve(structuredClone(snapshot)) : Promise.reject(new Error('no snapshot was recorded here'));
  }

  /** What the machine said when this block failed in the recording: replayed, not collected. */
  diagnostics(block: Block): DiagnosticSection[] {
    return structuredClone(this.blocks.get(block.id)?.diagnostics ?? []);
  }
}

/** Whether a recorded call has given all its answers (`repeat` of them, or one). */
function spent(call: RecordedCall, uses: number | undefined): boolean {
  return (uses ?? 0) >= (call.repeat ?? 1);
}

/** A recorded call's answer: its result, or its error thrown. */
export function settle(call: RecordedCall): Promise<unknown> {
  return call.error ? Promise.reject(errorFromJson(call.error)) : Promise.resolve(fromJson(call.result, call.kind));
}

/** A client answering from the transcript: any method call is looked up; `getX(id)` gives a handle. */
function replayApi<T>(session: ReplaySession, kind: 'docker' | 'k8s', prefix: string): T {
  return new Proxy(Object.create(null), {
    get(_, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      return (...args: unknown[]) => {
        if (kind === 'docker' && isDockerHandle(key)) return replayApi(session, kind, handlePath(prefix, key, args));
        return session.answer(kind, `${prefix}.${key}`, args);
      };
    },
  }) as T;
}

/** The `k8s` and `docker` globals of a replay: no forwards, no sockets, answers from the transcript. */
export class ReplayClients extends MachineClients {
  private k8sReady = false;
  private problem = 'not loaded yet';
  private readonly core: K8s['core'];
  private readonly apps: K8s['apps'];
  private readonly objects: K8s['objects'];

  /** The node's calls' prefix ('' on the first node, `nodes.NAME.` on another). */
  private readonly prefix: string;

  constructor(
    target: Target,
    private readonly kubeconfig: string,
    private readonly session: ReplaySession,
    /** A node other than the first, whose calls were recorded under `nodes.NAME.`. */
    private readonly node?: string,
  ) {
    super(target, kubeconfig);
    this.prefix = node ? nodePrefix(node) : '';
    this.core = replayApi(session, 'k8s', 'core');
    this.apps = replayApi(session, 'k8s', 'apps');
    this.objects = replayApi(session, 'k8s', 'objects');
  }

  override async dockerClient(): Promise<Docker> {
    this.docker ??= replayApi<Docker>(this.session, 'docker', dockerPath(this.node));
    return this.docker;
  }

  /**
   * Whether the kubeconfig existed, as the recording's read of it said: in this block, else the
   * last one before it. When the runner refreshes the client is its own choice (not the book's),
   * so a replay whose runner refreshes at other moments than the recording's still replays.
   */
  override async refreshK8s(): Promise<void> {
    const path = `${this.prefix}readFile`;
    const args = targetCalls.readArgs(this.kubeconfig);
    const key = targetCalls.readKey(this.kubeconfig);
    const read = this.session.find('target', path, args, key) ?? this.session.lastBefore('target', path, args, key);
    if (!read) return;
    this.k8sReady = !read.error;
    if (read.error)
      this.problem = `there is no kubeconfig at ${this.kubeconfig} on the machine yet, so no API server to talk to (the book writes it when it starts kube-apiserver)`;
  }

  override k8sGlobal(): K8s {
    const get = <K extends keyof K8s>(key: K, value: () => K8s[K]): K8s[K] => {
      if (!this.k8sReady) throw new ApiUnavailable(`k8s.${key} is not available: ${this.problem}`);
      return value();
    };
    const self = this;
    return {
      get kc() {
        return get('kc', () => new KubeConfig());
      },
      get core() {
        return get('core', () => self.core);
      },
      get apps() {
        return get('apps', () => self.apps);
      },
      get watch(): K8s['watch'] {
        throw new ReplayMismatch('k8s.watch cannot be replayed (a watch is a stream): use waitFor with list or read calls in the book');
      },
      get objects() {
        return get('objects', () => self.objects);
      },
      get server() {
        return get('server', () => 'https://127.0.0.1:6443 (replayed)');
      },
    };
  }

  override async close(): Promise<void> {}
}

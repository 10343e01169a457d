import type Docker from 'dockerode';
import { type K8s, MachineClients } from '../clients.js';
import { boundedEvents, type RunEvent } from '../events.js';
import type { RunInstrument } from '../instrument.js';
import { RECORD_LIMITS } from '../output-limits.js';
import type { Snapshot } from '../state/types.js';
import type { NodePlace, NodeTargets } from '../targets/nodes.js';
import type { Target } from '../targets/target.js';
import type { Book } from '../types.js';
import { dockerPath, errorJson, nodePrefix, toJson } from './calls.js';
import { foldRepeats } from './fold.js';
import { type CallSink, recordApi, recordTarget } from './proxies.js';
import { Redactor } from './redact.js';
import { blockHash, type RecordedBlock, type RecordedCall, type RecordedChapter, TRANSCRIPT_FORMAT, type Transcript, writeTranscript } from './transcript.js';

/** MachineClients whose `k8s` APIs and `docker` client report every call a block makes. */
class RecordingClients extends MachineClients {
  private wrappedDocker?: Docker;
  private readonly wrapped = new WeakMap<object, object>();

  constructor(
    target: Target,
    kubeconfig: string,
    private readonly sink: CallSink,
    /** The node's docker in call paths (calls.ts dockerPath). */
    private readonly dockerPath: string,
  ) {
    super(target, kubeconfig);
  }

  override async dockerClient(): Promise<Docker> {
    const docker = await super.dockerClient();
    this.wrappedDocker ??= recordApi(docker, this.dockerPath, 'docker', this.sink);
    return this.wrappedDocker;
  }

  override k8sGlobal(): K8s {
    const inner = super.k8sGlobal();
    const wrap = <T extends object>(api: T, name: string): T => {
      let w = this.wrapped.get(api);
      if (!w) {
        w = recordApi(api, name, 'k8s', this.sink);
        this.wrapped.set(api, w);
      }
      return w as T;
    };
    return {
      get kc() {
        return inner.kc;
      },
      get core() {
        return wrap(inner.core, 'core');
      },
      get apps() {
        return wrap(inner.apps, 'apps');
      },
      get watch() {
        return inner.watch;
      },
      get objects() {
        return wrap(inner.objects, 'objects');
      },
      get server() {
        return inner.server;
      },
    };
  }
}

export interface Recording {
  /** For `runBook`: records the target's and clients' calls, the snapshots (the first is the baseline) and the events. */
  instrument: RunInstrument;
  /** The transcript so far, redacted. */
  transcript(finalState?: Record<string, unknown>): Transcript;
  /** Writes the redacted transcript (atomic, mode 0600). */
  save(file: string, finalState: Record<string, unknown>): Promise<void>;
}

/**
 * `book run --record`: a listener to the runner's events plus recording proxies around the target
 * and the clients. Everything is kept in memory, raw, and redacted once when the transcript is
 * written, so a secret registered late (a token file written in chapter 2) is blanked in chapter 0 too.
 */
export function startRecording(book: Book, target: Target, options: { nodes?: NodeTargets; redactor?: Redactor } = {}): Recording {
  // Shared with the reporters' redaction (redact-events.ts) when the run passes its own.
  const redactor = options.redactor ?? new Redactor();
  const chapters: RecordedChapter[] = [];
  const blocks = new Map<string, RecordedBlock>();
  let current: RecordedBlock | undefined;
  /** Diagnostics read the machine with the block's clients: their calls are not the block's. */
  let diagnosing = false;
  let baseline: Snapshot | null | undefined;
  const started = performance.now();
  const transcript: Omit<Transcript, 'chapters' | 'finalState' | 'baseline'> = {
    format: TRANSCRIPT_FORMAT,
    title: book.config.title,
    recordedAt: new Date().toISOString(),
    target: {
      name: target.name,
      type: target.type,
      ...(options.nodes?.names.length
        ? { nodes: options.nodes.names.map((name) => ({ name, ...options.nodes?.place(name) }) as { name: string } & NodePlace) }
        : {}),
    },
    runner: { node: process.version, platform: `${process.platform}-${process.arch}` },
    ...(book.versions ? { versions: { ...book.versions } as Record<string, string> } : {}),
  };

  const sink: CallSink = {
    begin(kind, path, args, key) {
      if (!current || diagnosing) return undefined;
      const call: RecordedCall = { kind, path, ...(key === undefined ? {} : { key }), args: toJson(args) as unknown[], durationMs: 0 };
      current.calls.push(call);
      return call;
    },
    resolve(call, result, t0) {
      if (!call) return;
      call.result = toJson(result);
      call.durationMs = Math.round(performance.now() - t0);
    },
    reject(call, error, t0) {
      if (!call) return;
      call.error = errorJson(error);
      call.durationMs = Math.round(performance.now() - t0);
    },
  };

  const blockRecord = (block: { id: string; kind: RecordedBlock['kind']; line: number; info: string; code: string; chapterId: string }) => {
    let record = blocks.get(block.id);
    if (!record) {
      record = {
        id: block.id,
        kind: block.kind,
        line: block.line,
        hash: blockHash(block),
        status: 'skipped',
        durationMs: 0,
        attempts: 0,
        commands: [],
        output: [],
        waits: [],
        daemons: [],
        calls: [],
      };
      blocks.set(block.id, record);
      chapters.find((c) => c.id === block.chapterId)?.blocks.push(record);
    }
    return record;
  };

  const pending = new Map<number, RecordedBlock['commands'][number]>();
  const listener = (event: RunEvent) => {
    switch (event.type) {
      case 'chapter:start': {
        const c = event.chapter;
        chapters.push({ id: c.id, number: c.number, title: c.title, file: c.file, hash: c.hash.slice(0, 16), blocks: [] });
        break;
      }
      case 'block:start':
        current = blockRecord(event.block);
        break;
      case 'block:output': {
        const record = blockRecord(event.block);
        const last = record.output.at(-1);
        if (last && last.stream === event.stream) last.text += event.text;
        else record.output.push({ stream: event.stream, text: event.text });
        break;
      }
      case 'command:start': {
        const command = { command: event.command, exitCode: null, durationMs: 0, stdout: '', stderr: '', ...(event.node ? { node: event.node } : {}) };
        pending.set(event.id, command);
        blockRecord(event.block).commands.push(command);
        break;
      }
      case 'command:end': {
        const command = pending.get(event.id);
        pending.delete(event.id);
        if (command) Object.assign(command, { exitCode: event.exitCode, durationMs: Math.round(event.durationMs), stdout: event.stdout, stderr: event.stderr });
        break;
      }
      case 'wait':
        blockRecord(event.block).waits.push({ message: event.message, polls: event.polls });
        break;
      case 'daemon':
        blockRecord(event.block).daemons.push({ name: event.name, action: event.action, ...(event.node ? { node: event.node } : {}) });
        break;
      case 'block:diagnostics':
        blockRecord(event.block).diagnostics = event.sections;
        break;
      case 'prediction:result':
        // The cluster's answer, not the reader's pick: the pick is the reader's own.
        if (event.answer !== undefined) blockRecord(event.block).answer = event.answer;
        break;
      case 'block:end': {
        const record = blockRecord(event.block);
        Object.assign(record, {
          status: event.status,
          durationMs: Math.round(event.durationMs),
          attempts: event.attempts,
          ...(event.failure ? { failure: event.failure } : {}),
          ...(event.expectedFailure ? { expectedFailure: event.expectedFailure } : {}),
        });
        current = undefined;
        break;
      }
      case 'state': {
        const { logs: _logs, ...snapshot } = event.snapshot;
        blockRecord(event.block).state = { snapshot: { ...snapshot, logs: {} }, diff: event.diff };
        break;
      }
      case 'chapter:end': {
        const chapter = chapters.find((c) => c.id === event.chapter.id);
        if (chapter) Object.assign(chapter, { status: event.status, durationMs: Math.round(event.durationMs) });
        break;
      }
      case 'run:end':
        Object.assign(transcript, { status: event.status, exitCode: event.exitCode, durationMs: Math.round(performance.now() - started) });
        break;
    }
  };

  const recording: Recording = {
    instrument: {
      target: (t) => recordTarget(t, sink, redactor),
      nodeTarget: (node, t) => recordTarget(t, sink, redactor, nodePrefix(node)),
      clients: (t, kubeconfig, node) => new RecordingClients(t, kubeconfig, sink, dockerPath(node)),
      snapshot: (take) => async (context) => {
        const snapshot = await take(context).catch((error) => {
          if (baseline === undefined) baseline = null;
          throw error;
        });
        if (baseline === undefined) baseline = { ...snapshot, logs: {} };
        return snapshot;
      },
      // What the transcript records of a command's output is cut (output-limits.ts RECORD_LIMITS), so it stays well under replay's input limit.
      listener: boundedEvents(listener, RECORD_LIMITS),
      diagnose: async (_block, collect) => {
        diagnosing = true;
        try {
          return await collect();
        } finally {
          diagnosing = false;
        }
      },
    },
    transcript: (finalState = {}) => {
      // What the output shows by shape is registered first: a piece of it elsewhere (a failure
      // message's last lines, without a key's BEGIN line) is then blanked too.
      for (const chapter of chapters)
        for (const block of chapter.blocks) {
          for (const stream of ['stdout', 'stderr', 'log'])
            redactor.learnShapes(
              block.output
                .filter((o) => o.stream === stream)
                .map((o) => o.text)
                .join(''),
            );
          for (const command of block.commands) for (const text of [command.stdout, command.stderr]) redactor.learnShapes(text);
          for (const section of block.diagnostics ?? []) redactor.learnShapes(section.lines.join('\n'));
        }
      // A stream's output chunks first, together: a secret may be split between two of them.
      const shown = chapters.map((c) => ({ ...c, blocks: c.blocks.map((b) => ({ ...b, output: redactor.redactStreams(b.output) })) }));
      const redacted = redactor.redactDeep({
        ...transcript,
        baseline: baseline ?? null,
        chapters: shown,
        finalState: toJson(finalState) as Record<string, unknown>,
      });
      // Folded once redacted: two polls that differ only in a secret answer the replay alike.
      for (const chapter of redacted.chapters) for (const block of chapter.blocks) block.calls = foldRepeats(block.calls);
      return redacted;
    },
    save: (file, finalState) => writeTranscript(file, recording.transcript(finalState)),
  };
  return recording;
}

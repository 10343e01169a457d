import { cutOutput, RECORD_LIMITS } from '../output-limits.js';
import { currentCallKey } from '../run/call-key.js';
import type { ExecOptions, ExecResult } from '../targets/target.js';
import { normaliseVolatile, stableJson } from './normalise.js';
import { REDACTED, type Redactor } from './redact.js';
import type { RecordedCall } from './transcript.js';

// The shape of every recorded call, said once: the recorder (proxies.ts) writes calls in it and
// the replay (replay.ts, replay-target.ts) reads them back in it, so the two cannot drift apart.

/** Where a node other than the first records its calls: `nodes.k8s-worker.exec`, `nodes.k8s-worker.docker.…`. */
export const nodePrefix = (node: string) => `nodes.${node}.`;

/** The docker client's name in call paths: `docker`, or `nodes.NAME.docker` on another node. */
export const dockerPath = (node?: string) => (node ? `${nodePrefix(node)}docker` : 'docker');

/** dockerode's `getContainer(id)`, `getImage(name)`…: synchronous handles, part of the path, not calls. */
export const isDockerHandle = (key: string) => /^get[A-Z]/.test(key);

/** The path a handle's calls are recorded under: `docker.getContainer(abc).inspect`. */
export const handlePath = (prefix: string, key: string, args: unknown[]) => `${prefix}.${key}(${args.map((a) => String(a)).join(',')})`;

/**
 * A target's calls (`exec`, `writeFile`, `readFile`): their logical keys (run/call-key.ts), and
 * their arguments and results as recorded. An exec's arguments are the runner's text (traps,
 * prefixes, daemon scripts): kept for the reader, never compared.
 */
export const targetCalls = {
  /** The book's call this command was sent for; a command no book call named is keyed by its text. */
  execKey: (command: string): string => currentCallKey() ?? `exec ${command}`,
  readKey: (file: string): string => `readFile ${file}`,
  writeKey: (file: string): string => `writeFile ${file}`,
  execArgs: (command: string, options: ExecOptions = {}): unknown[] => (options.stdin === undefined ? [command] : [command, { stdin: String(options.stdin) }]),
  /** A written file's text, or REDACTED for a secret (a private mode); the redactor learns the secret either way. */
  writeArgs: (redactor: Redactor, file: string, data: string | Buffer, mode: number | undefined): unknown[] => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : data;
    const shown = redactor.registerFile(text, mode) ? REDACTED : text;
    return mode === undefined ? [file, shown] : [file, shown, mode];
  },
  readArgs: (file: string): unknown[] => [file],
  /**
   * An exec's result as recorded: its output cut as the transcript cuts every command's
   * (output-limits.ts RECORD_LIMITS), and whether the runner stopped it (the block's timeout, its
   * end, Ctrl-C): a replay then waits for the same stop instead of answering at once.
   */
  recordExec: (result: ExecResult, aborted = false): RecordedExec => ({
    stdout: cutOutput(result.stdout, RECORD_LIMITS),
    stderr: cutOutput(result.stderr, RECORD_LIMITS),
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: result.durationMs,
    ...(aborted ? { aborted: true } : {}),
  }),
  /** readFile's result is kept as UTF-8 text. */
  recordRead: (buffer: Buffer): string => buffer.toString('utf8'),
  replayRead: (result: unknown): Buffer => Buffer.from(String(result ?? ''), 'utf8'),
  replayExec: (result: Partial<RecordedExec> | undefined): ExecResult => ({
    stdout: result?.stdout ?? '',
    stderr: result?.stderr ?? '',
    exitCode: result?.exitCode ?? null,
    signal: result?.signal ?? null,
    durationMs: result?.durationMs ?? 0,
  }),
};

/** An exec's result in a transcript. */
export type RecordedExec = ExecResult & { aborted?: boolean };

/** `exec`, `writeFile` or `readFile`: a target call's path without its `nodes.NAME.` prefix. */
const targetOp = (path: string) => path.slice(path.lastIndexOf('.') + 1);

/**
 * What a replayed call must share with a recorded one (before redaction and normalisation): a
 * target call's logical key, with a write's content and mode (the book's own data); a docker or
 * k8s call's path and arguments (the book's own call, with nothing of the runner's around it).
 */
export function matchText(call: Pick<RecordedCall, 'kind' | 'path' | 'key' | 'args'>): string {
  if (call.kind !== 'target' || call.key === undefined) return `${call.kind} ${call.path} ${stableJson(call.args)}`;
  const data = targetOp(call.path) === 'writeFile' ? ` ${stableJson(call.args.slice(1))}` : '';
  return `${call.kind} ${call.path} ${call.key}${data}`;
}

/** What a replay matches a call by: its matchText with what differs between two runs blanked. */
export function callKey(call: Pick<RecordedCall, 'kind' | 'path' | 'key' | 'args'>): string {
  return normaliseVolatile(matchText(call));
}

/** A JSON copy of what a call returned: dates as ISO strings, Buffers as `{ $buffer }`, managedFields (server bookkeeping, large) left out. */
export function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, (key, v) => {
      if (key === 'managedFields') return undefined;
      if (Buffer.isBuffer(v) || (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)))
        return { $buffer: Buffer.from((v as { data: number[] }).data ?? v).toString('base64') };
      return v;
    }) ?? 'null',
  );
}

const DATE_KEY = /(?:Timestamp|Time)$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/;

/** Back from toJson: the Kubernetes client's Dates are Dates again, Buffers Buffers. */
export function fromJson(value: unknown, kind: RecordedCall['kind']): unknown {
  if (value === null || value === undefined) return value ?? undefined;
  return JSON.parse(JSON.stringify(value), (key, v) => {
    if (kind === 'k8s' && typeof v === 'string' && DATE_KEY.test(key) && ISO.test(v)) return new Date(v);
    if (v && typeof v === 'object' && typeof (v as { $buffer?: unknown }).$buffer === 'string')
      return Buffer.from((v as { $buffer: string }).$buffer, 'base64');
    return v;
  });
}

/** An error as recorded: its name, message, code and (API) body. */
export function errorJson(error: unknown): NonNullable<RecordedCall['error']> {
  const e = error as { name?: string; message?: string; code?: string | number; body?: unknown; statusCode?: number };
  const out: NonNullable<RecordedCall['error']> = { name: e?.name ?? 'Error', message: e?.message ?? String(error) };
  const code = e?.code ?? e?.statusCode;
  if (code !== undefined) out.code = code;
  if (e?.body !== undefined) out.body = typeof e.body === 'string' ? e.body : toJson(e.body);
  return out;
}

/** Back from errorJson: an Error with the recorded name, message, code and body. */
export function errorFromJson(recorded: NonNullable<RecordedCall['error']>): Error {
  const error = new Error(recorded.message) as Error & { code?: string | number; body?: unknown };
  error.name = recorded.name;
  if (recorded.code !== undefined) error.code = recorded.code;
  if (recorded.body !== undefined) error.body = recorded.body;
  return error;
}

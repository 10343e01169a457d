import type { Target } from '../targets/target.js';
import type { RecordedCall } from './transcript.js';

/** Where recording proxies report calls; `begin` returns undefined outside a block (snapshots, setup). */
export interface CallSink {
  begin(kind: RecordedCall['kind'], path: string, args: unknown[]): RecordedCall | undefined;
  resolve(call: RecordedCall | undefined, result: unknown, started: number): void;
  reject(call: RecordedCall | undefined, error: unknown, started: number): void;
}

/** dockerode's `getContainer(id)`, `getImage(name)`…: synchronous handles, part of the path, not calls. */
export const isDockerHandle = (key: string) => /^get[A-Z]/.test(key);

/**
 * Wraps an API client (a k8s API, dockerode, or a dockerode handle): every method that returns a
 * promise is recorded with its arguments and what it resolved to or the error it threw.
 */
export function recordApi<T extends object>(api: T, prefix: string, kind: 'docker' | 'k8s', sink: CallSink): T {
  return new Proxy(api, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || typeof key === 'symbol') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result = value.apply(target, args);
        if (kind === 'docker' && isDockerHandle(key) && result && typeof result === 'object' && !(result instanceof Promise)) {
          return recordApi(result as object, `${prefix}.${key}(${args.map((a) => String(a)).join(',')})`, kind, sink);
        }
        if (!(result instanceof Promise)) return result;
        const call = sink.begin(kind, `${prefix}.${key}`, args);
        return result.then(
          (value) => {
            sink.resolve(call, value, started);
            return value;
          },
          (error) => {
            sink.reject(call, error, started);
            throw error;
          },
        );
      };
    },
  });
}

/** Where a node other than the first records its calls: `nodes.k8s-worker.exec`, `nodes.k8s-worker.docker.…`. */
export const nodePrefix = (node: string) => `nodes.${node}.`;

/** A target whose exec, writeFile and readFile calls are recorded (under `prefix`, for another node); the rest passes through. */
export function recordTarget(target: Target, sink: CallSink, onWrite: (path: string, data: string, mode: number | undefined) => string, prefix = ''): Target {
  const timed = async <R>(path: string, args: unknown[], run: () => Promise<R>, shown: (r: R) => unknown = (r) => r): Promise<R> => {
    const started = performance.now();
    const call = sink.begin('target', `${prefix}${path}`, args);
    try {
      const result = await run();
      sink.resolve(call, shown(result), started);
      return result;
    } catch (error) {
      sink.reject(call, error, started);
      throw error;
    }
  };
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'exec')
        return (command: string, options: Parameters<Target['exec']>[1] = {}) =>
          timed('exec', options.stdin === undefined ? [command] : [command, { stdin: String(options.stdin) }], () => t.exec(command, options));
      if (key === 'writeFile')
        return (file: string, data: string | Buffer, mode?: number) => {
          const text = Buffer.isBuffer(data) ? data.toString('utf8') : data;
          const shown = onWrite(file, text, mode);
          return timed('writeFile', mode === undefined ? [file, shown] : [file, shown, mode], () => t.writeFile(file, data, mode));
        };
      if (key === 'readFile')
        return (file: string) =>
          timed(
            'readFile',
            [file],
            () => t.readFile(file),
            (buffer) => buffer.toString('utf8'),
          );
      const value = Reflect.get(t, key, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** A JSON copy of what a call returned: dates as ISO strings, managedFields (server bookkeeping, large) left out. */
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

export function errorJson(error: unknown): NonNullable<RecordedCall['error']> {
  const e = error as { name?: string; message?: string; code?: string | number; body?: unknown; statusCode?: number };
  const out: NonNullable<RecordedCall['error']> = { name: e?.name ?? 'Error', message: e?.message ?? String(error) };
  const code = e?.code ?? e?.statusCode;
  if (code !== undefined) out.code = code;
  if (e?.body !== undefined) out.body = typeof e.body === 'string' ? e.body : toJson(e.body);
  return out;
}

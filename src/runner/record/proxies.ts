import type { Target } from '../targets/target.js';
import { handlePath, isDockerHandle, targetCalls } from './calls.js';
import type { Redactor } from './redact.js';
import type { RecordedCall } from './transcript.js';

/** Where recording proxies report calls; `begin` returns undefined outside a block (snapshots, setup). */
export interface CallSink {
  /** `key`: a target call's logical key (run/call-key.ts); docker and k8s calls are keyed by their path and arguments. */
  begin(kind: RecordedCall['kind'], path: string, args: unknown[], key?: string): RecordedCall | undefined;
  resolve(call: RecordedCall | undefined, result: unknown, started: number): void;
  reject(call: RecordedCall | undefined, error: unknown, started: number): void;
}

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
          return recordApi(result as object, handlePath(prefix, key, args), kind, sink);
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

/**
 * A target whose exec, writeFile and readFile calls are recorded (under `prefix`, for another
 * node) with their logical keys; the rest passes through.
 */
export function recordTarget(target: Target, sink: CallSink, redactor: Redactor, prefix = ''): Target {
  const timed = async <R>(path: string, key: string, args: unknown[], run: () => Promise<R>, shown: (r: R) => unknown = (r) => r): Promise<R> => {
    const started = performance.now();
    const call = sink.begin('target', `${prefix}${path}`, args, key);
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
          timed(
            'exec',
            targetCalls.execKey(command),
            targetCalls.execArgs(command, options),
            () => t.exec(command, options),
            (r) => targetCalls.recordExec(r, options.signal?.aborted === true),
          );
      if (key === 'writeFile')
        return (file: string, data: string | Buffer, mode?: number) =>
          timed('writeFile', targetCalls.writeKey(file), targetCalls.writeArgs(redactor, file, data, mode), () => t.writeFile(file, data, mode));
      if (key === 'readFile')
        return (file: string) => timed('readFile', targetCalls.readKey(file), targetCalls.readArgs(file), () => t.readFile(file), targetCalls.recordRead);
      const value = Reflect.get(t, key, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/**
 * A target whose written files teach `redactor` their secrets (a private file whole, credentials
 * found by shape), so what later prints them is blanked for the reporters too (redact-events.ts).
 */
export function registerWrites(target: Target, redactor: Redactor): Target {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'writeFile')
        return (file: string, data: string | Buffer, mode?: number) => {
          redactor.registerFile(Buffer.isBuffer(data) ? data.toString('utf8') : data, mode);
          return t.writeFile(file, data, mode);
        };
      const value = Reflect.get(t, key, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

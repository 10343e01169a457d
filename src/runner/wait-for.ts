import { parseDuration } from './durations.js';

export interface WaitOptions {
  timeout?: number | string;
  /** First poll interval in ms; it grows to at most 100 ms: a condition that came true is seen within ~100 ms plus one poll (goal: next block under 250 ms). */
  interval?: number;
  /** Says what was awaited, for the timeout message. */
  message?: string;
}

export class WaitTimeout extends Error {
  constructor(
    message: string,
    readonly lastError?: unknown,
  ) {
    super(message);
    this.name = 'WaitTimeout';
  }
}

/** The `waitFor` global: resolves with fn's first truthy value; errors from fn count as "not yet". */
/** When a wait ended: the last poll that saw false and the first that saw true (epoch ms). */
export interface WaitSatisfied {
  message?: string;
  polls: number;
  lastFalseAt: number | null;
  trueAt: number;
}

export function makeWaitFor(signal: () => AbortSignal | undefined, onSatisfied?: (info: WaitSatisfied) => void) {
  return async function waitFor<T>(fn: () => T | Promise<T>, options: WaitOptions = {}): Promise<T> {
    const timeoutMs = typeof options.timeout === 'string' ? parseDuration(options.timeout) : options.timeout;
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
    let interval = options.interval ?? 25;
    let lastError: unknown;
    let lastValue: unknown;
    const abort = signal();
    let polls = 0;
    let lastFalseAt: number | null = null;
    for (;;) {
      if (abort?.aborted) throw abort.reason instanceof Error ? abort.reason : new Error('aborted');
      try {
        polls++;
        const value = await fn();
        if (value) {
          onSatisfied?.({ message: options.message, polls, lastFalseAt, trueAt: Date.now() });
          return value;
        }
        lastFalseAt = Date.now();
        lastValue = value;
        lastError = undefined;
      } catch (error) {
        lastFalseAt = Date.now();
        lastError = error;
      }
      if (performance.now() >= deadline) {
        const what = options.message ?? fn.toString().replace(/\s+/g, ' ').slice(0, 120);
        const why = lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : ` (last value: ${JSON.stringify(lastValue)})`;
        throw new WaitTimeout(`waitFor timed out after ${timeoutMs} ms: ${what}${why}`, lastError);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(
          () => {
            abort?.removeEventListener('abort', wake);
            resolve();
          },
          Math.min(interval, Math.max(0, deadline - performance.now())),
        );
        abort?.addEventListener('abort', wake, { once: true });
      });
      interval = Math.min(100, Math.ceil(interval * 1.5));
    }
  };
}

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

/** A wait still polling: what it waits for and what its last poll saw. */
interface PendingWait {
  what: string;
  last: () => string;
}

/** What a poll saw, for a message: the error's text, or the value as JSON (cut). */
function seen(lastError: unknown, lastValue: unknown): string {
  if (lastError) return `last error: ${(lastError as Error).message ?? String(lastError)}`;
  const json = JSON.stringify(lastValue) ?? String(lastValue);
  return `last value: ${json.length > 200 ? `${json.slice(0, 199)}…` : json}`;
}

export type WaitForFn = (<T>(fn: () => T | Promise<T>, options?: WaitOptions) => Promise<T>) & {
  /** The waits still polling, each with what it last saw: a block that timed out says so. */
  pending(): string[];
};

/** `instant`: polls do not sleep (a replay, whose answers are already known). */
export function makeWaitFor(
  signal: () => AbortSignal | undefined,
  onSatisfied?: (info: WaitSatisfied) => void,
  instant: () => boolean = () => false,
): WaitForFn {
  const waits = new Set<PendingWait>();
  const waitFor = async function waitFor<T>(fn: () => T | Promise<T>, options: WaitOptions = {}): Promise<T> {
    const timeoutMs = typeof options.timeout === 'string' ? parseDuration(options.timeout) : options.timeout;
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
    let interval = instant() ? 0 : (options.interval ?? 25);
    let lastError: unknown;
    let lastValue: unknown;
    const what = options.message ?? fn.toString().replace(/\s+/g, ' ').slice(0, 120);
    const pending: PendingWait = { what, last: () => seen(lastError, lastValue) };
    waits.add(pending);
    try {
      return await poll();
    } finally {
      waits.delete(pending);
    }
    async function poll(): Promise<T> {
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
        if (performance.now() >= deadline) throw new WaitTimeout(`waitFor timed out after ${timeoutMs} ms: ${what} (${seen(lastError, lastValue)})`, lastError);
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
    }
  } as WaitForFn;
  waitFor.pending = () => [...waits].map((w) => `${w.what} (${w.last()})`);
  return waitFor;
}

/** The longest delay a timer can hold (2^31 − 1 ms, ~24.8 days): a longer one fires at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** `90s`, `2m`, `1m30s`, `500ms` → milliseconds; undefined when malformed or past MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  const ms = parseDurationUnbounded(text);
  return ms === undefined || ms > MAX_DURATION_MS ? undefined : ms;
}

/**
 * A timeout, as a block's `timeout=` and book.yaml's `defaults.timeout` both take it (one rule for
 * both): a duration more than 0 (a timer of 0 would fail every block at once) and at most
 * MAX_DURATION_MS. Undefined otherwise; `timeoutProblem` says why.
 */
export function parseTimeout(text: string): number | undefined {
  const ms = parseDuration(text);
  return ms === undefined || ms <= 0 ? undefined : ms;
}

/** Why `text` is not a timeout (undefined when it is one): 'form', 'zero' or 'too long'. */
export function timeoutProblem(text: string): 'form' | 'zero' | 'too long' | undefined {
  const ms = parseDurationUnbounded(text);
  if (ms === undefined) return 'form';
  if (ms <= 0) return 'zero';
  if (ms > MAX_DURATION_MS) return 'too long';
  return undefined;
}

/** What a timeout is, for messages: said once for the block rule and book.yaml. */
export const TIMEOUT_RULE = 'a duration such as 90s, 2m or 1m30s, more than 0 and at most 24 days';

function parseDurationUnbounded(text: string): number | undefined {
  const match = /^(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, minutes, seconds, millis] = match;
  if (minutes === undefined && seconds === undefined && millis === undefined) return undefined;
  return Number(minutes ?? 0) * 60_000 + Number(seconds ?? 0) * 1000 + Number(millis ?? 0);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}

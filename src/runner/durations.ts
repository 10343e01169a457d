/** The longest delay a timer can hold (2^31 − 1 ms, ~24.8 days): a longer one fires at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** `90s`, `2m`, `1m30s`, `500ms` → milliseconds; undefined when malformed or past MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  const ms = parseDurationUnbounded(text);
  return ms === undefined || ms > MAX_DURATION_MS ? undefined : ms;
}

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

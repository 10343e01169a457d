import { callKey } from './calls.js';
import { stableJson } from './normalise.js';
import type { RecordedCall } from './transcript.js';

/**
 * A block's calls with repeats folded: a call that asked and got exactly what the previous call
 * with the same replay key (calls.ts callKey) asked and got is counted on that one (`repeat`)
 * instead of kept. A poll that saw "not yet" 300 times becomes one call. The replay (replay.ts)
 * answers calls of one key in recorded order, so folding only into the previous call of the same
 * key keeps every key's sequence of answers as it was.
 */
export function foldRepeats(calls: readonly RecordedCall[]): RecordedCall[] {
  const kept: RecordedCall[] = [];
  const lastOfKey = new Map<string, { call: RecordedCall; same: string }>();
  for (const call of calls) {
    const key = callKey(call);
    const { durationMs: _duration, repeat: _repeat, ...asked } = call;
    const same = stableJson(asked);
    const last = lastOfKey.get(key);
    if (last && last.same === same) {
      last.call.repeat = (last.call.repeat ?? 1) + (call.repeat ?? 1);
      continue;
    }
    const copy = { ...call };
    kept.push(copy);
    lastOfKey.set(key, { call: copy, same });
  }
  return kept;
}

import type { Block } from '../types.js';
import { BlockTimeout, Interrupted } from './failures.js';

/** The attempt's controller is what a block's commands and waits listen to. */
export interface AttemptControl {
  controller: AbortController;
}

export interface AttemptOptions {
  /** Ctrl-C: aborts the attempt with Interrupted. */
  interrupt?: AbortSignal;
  /** What the block's waitFor calls last saw, for the timeout's message. */
  pendingWaits: () => string[];
  /** Called with the attempt's controller before the work starts, and with undefined after. */
  bind: (control: AttemptControl | undefined) => void;
  /** How long the killed commands of an aborted attempt get to be reaped. */
  reapMs?: number;
}

/**
 * One attempt of a block under its timeout. Resolves to the error it failed with, or undefined;
 * never rejects. A timeout or an interrupt aborts the attempt (its commands are killed) and waits,
 * bounded, for them to be reaped, so nothing outlives the block.
 */
export async function runAttempt(block: Block, work: () => Promise<void>, options: AttemptOptions): Promise<unknown> {
  const controller = new AbortController();
  options.bind({ controller });
  let timer: NodeJS.Timeout | undefined;
  const onInterrupt = () => controller.abort(new Interrupted());
  options.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => controller.abort(new BlockTimeout(block.timeoutMs, options.pendingWaits())), block.timeoutMs);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  stopped.catch(() => {});
  const running = work();
  running.catch(() => {});
  try {
    await Promise.race([running, stopped]);
    return undefined;
  } catch (error) {
    if (!controller.signal.aborted) return error ?? new Error('block threw undefined');
    // Its commands were killed; let them be reaped (bounded) so nothing outlives the block. The
    // timer is a real one: a block that awaits what never settles must not leave the event loop
    // empty, or the process would end here without a verdict.
    await Promise.race([running.catch(() => {}), new Promise((resolve) => setTimeout(resolve, options.reapMs ?? 2000))]);
    return controller.signal.reason;
  } finally {
    clearTimeout(timer);
    options.interrupt?.removeEventListener('abort', onInterrupt);
    options.bind(undefined);
  }
}

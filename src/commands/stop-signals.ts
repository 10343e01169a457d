/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal or the ssh session it ran in closed) stop a
 * command the same way: `handler` runs (it aborts the run, the render, the e2e), the command ends
 * with its verdict and cleans up. Returns what removes the handlers once the command is over.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function onStopSignals(handler: () => void): () => void {
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, handler);
  };
}

/**
 * Ctrl-C (SIGINT) and SIGTERM stop a command the same way: `handler` runs (it aborts the run, the
 * render, the e2e), the command ends with its verdict and cleans up. Returns what removes the
 * handlers once the command is over.
 */
export function onStopSignals(handler: () => void): () => void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

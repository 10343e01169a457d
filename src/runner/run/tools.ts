import type { EventBus } from '../events.js';
import { Machine } from '../machine.js';
import { makeShell, type ProcessOutput } from '../shell.js';
import type { Target } from '../targets/target.js';
import type { Block } from '../types.js';

/** The block running now and its attempt's abort signal: what the tools report to and obey. */
export interface Running {
  block: Block;
  signal: AbortSignal;
}

/**
 * `$` and `machine` on one node, wired to the bus: every command and daemon of the running
 * block becomes an event (labelled with `node` when it is not the first). `nextId` numbers the
 * commands of the whole run.
 */
export function nodeTools(target: Target, bus: EventBus, running: () => Running | undefined, nextId: () => number, node?: string) {
  const label = node ? { node } : {};
  const signal = () => running()?.signal;
  return {
    $: makeShell(target, {
      signal,
      onStart: (command) => {
        const id = nextId();
        const now = running();
        if (now) bus.emit({ type: 'command:start', block: now.block, id, command, time: Date.now(), ...label });
        return id;
      },
      onOutput: (stream, text, quiet) => {
        const now = running();
        if (now && !quiet) bus.emit({ type: 'block:output', block: now.block, stream, text });
      },
      onEnd: (id, command, out: ProcessOutput) => {
        const now = running();
        if (now)
          bus.emit({
            type: 'command:end',
            block: now.block,
            id,
            command,
            exitCode: out.exitCode,
            durationMs: out.durationMs,
            stdout: out.stdout,
            stderr: out.stderr,
          });
      },
    }),
    machine: new Machine(target, {
      signal,
      onDaemon: (name, action, pid) => {
        const now = running();
        if (now) bus.emit({ type: 'daemon', block: now.block, name, action, pid, ...label });
      },
    }),
  };
}

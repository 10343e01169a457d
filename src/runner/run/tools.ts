import type { EventBus } from '../events.js';
import { type DaemonHandle, type DaemonOptions, Machine } from '../machine.js';
import { makeShell, ProcessFailed, type ProcessOutput, type RunCommand, type Shell, templateShell } from '../shell.js';
import type { Target } from '../targets/target.js';
import type { Block } from '../types.js';
import { machineKeys, shellKey, withCallKey } from './call-key.js';

/** The block running now and its attempt's abort signal: what the tools report to and obey. */
export interface Running {
  block: Block;
  signal: AbortSignal;
}

/** `logs()` without a count reads this many lines (Machine's default, named in the call's key). */
const DEFAULT_LOG_LINES = 50;

/**
 * `$` and `machine` on one node, wired to the bus: every command and daemon of the running
 * block becomes an event (labelled with `node` when it is not the first). `nextId` numbers the
 * commands of the whole run. Each of their calls carries the book's own words as its logical key
 * (run/call-key.ts), whatever text the runner sends the machine for it.
 */
export function nodeTools(target: Target, bus: EventBus, running: () => Running | undefined, nextId: () => number, node?: string) {
  const label = node ? { node } : {};
  const signal = () => running()?.signal;
  const shell = makeShell(target, {
    signal,
    onStart: (command) => {
      const id = nextId();
      const now = running();
      if (now) bus.emit({ type: 'command:start', block: now.block, id, command, time: Date.now(), ...label });
      return id;
    },
    // A command's output is its own, shown under it (folded); the block's output is what it logs.
    onOutput: (id, stream, text, quiet) => {
      const now = running();
      if (now && !quiet) bus.emit({ type: 'command:output', block: now.block, id, stream, text, ...label });
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
  });
  const machine = new Machine(target, {
    signal,
    onDaemon: (name, action, pid) => {
      const now = running();
      if (now) bus.emit({ type: 'daemon', block: now.block, name, action, pid, ...label });
    },
  });
  return { $: keyedShell(shell), machine: keyedMachine(machine) };
}

/** `$`, `$.nothrow`, `$.quiet` and `$.exec` over a way to run a command line (a kernel thread builds its `$` the same way). */
export function shellOver(exec: Shell['exec']): Shell {
  const run: RunCommand = async (command, nothrow, quiet, callSite) => {
    const { output, signal } = await exec(command, { quiet });
    if (!nothrow && output.exitCode !== 0) throw new ProcessFailed(command, output, signal, callSite.stack ?? '');
    return output;
  };
  return Object.assign(templateShell(run), { exec });
}

/** `$` whose commands carry their own text as their key (`$ CMD`), not the line the runner sends bash. */
function keyedShell(shell: Shell): Shell {
  return shellOver((command, options) => withCallKey(shellKey(command), () => shell.exec(command, options)));
}

/**
 * `machine` whose calls carry the book's call as their key (`daemon start NAME ARGV`…): every
 * command one call sends (read the record, list, stop, start) is answered under it, in order.
 * Calls the machine makes on itself keep the key of the book's call that made them.
 */
function keyedMachine(machine: Machine): Machine {
  const handles = new WeakMap<DaemonHandle, DaemonHandle>();
  const keyedHandle = (handle: DaemonHandle): DaemonHandle => {
    const known = handles.get(handle);
    if (known) return known;
    const { name } = handle;
    const keyed: DaemonHandle = {
      name,
      // restart() answers with its handle: this one, so a thread sees the same handle again.
      restart: async (argv) => {
        await withCallKey(machineKeys.daemonRestart(name, argv), () => handle.restart(argv));
        return keyed;
      },
      stop: () => withCallKey(machineKeys.daemonStop(name), () => handle.stop()),
      logs: (lines) => withCallKey(machineKeys.daemonLogs(name, lines ?? DEFAULT_LOG_LINES), () => handle.logs(lines)),
      status: () => withCallKey(machineKeys.daemons(), () => handle.status()),
    };
    handles.set(handle, keyed);
    return keyed;
  };
  const calls: Partial<Record<keyof Machine, unknown>> = {
    daemon: async (name: string, argv: string[], options?: DaemonOptions) =>
      keyedHandle(await withCallKey(machineKeys.daemonStart(name, argv, options?.env), () => machine.daemon(name, argv, options))),
    daemons: () => withCallKey(machineKeys.daemons(), () => machine.daemons()),
    daemonStatus: (name: string) => withCallKey(machineKeys.daemons(), () => machine.daemonStatus(name)),
    exists: (path: string) => withCallKey(machineKeys.exists(path), () => machine.exists(path)),
  };
  // A proxy, not a subclass: the machine's calls on itself (daemon() reads daemonStatus()) stay
  // under the key of the book's call.
  return new Proxy(machine, {
    get(target, key) {
      if (typeof key === 'string' && key in calls) return calls[key as keyof Machine];
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

import { parentPort } from 'node:worker_threads';
import { TraceMap } from '@jridgewell/trace-mapping';
import type { CompiledBlock } from '../compile.js';
import { assert, ChapterKernel, makeConsole, mdLineFromStack } from '../kernel.js';
import { type AnswerSlot, makeAnswer } from '../run/answer.js';
import { ProcessFailed, ProcessOutput, templateShell } from '../shell.js';
import type { Block } from '../types.js';
import { makeWaitFor } from '../wait-for.js';
import { errorToWire, type FromKernel, fromWire, type Root, type Step, type ToKernel, toWire, type WireHandle } from './wire.js';

/**
 * A chapter's kernel in a thread of its own (src/runner/isolate/host.ts starts it): the blocks'
 * code runs here, so the runner's thread stays free to time them out, to stop one stuck in a
 * synchronous loop (by ending this thread) and to report. `$`, `docker`, `k8s`, `machine` and
 * `nodes` are the runner's, reached by messages; `waitFor`, `assert`, `state`, `console` and
 * `answer` are this thread's own (an answer's key is sent to the runner once checked).
 */

const port = parentPort;
if (!port) throw new Error('the kernel runs in a worker thread');

const send = (message: FromKernel) => port.postMessage(message);
const replies = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
let calls = 0;

function request(message: Omit<Extract<FromKernel, { t: 'call' }>, 'call'> | Omit<Extract<FromKernel, { t: 'shell' }>, 'call'>): Promise<unknown> {
  const call = ++calls;
  return new Promise((resolve, reject) => {
    replies.set(call, { resolve, reject });
    send({ ...message, call } as FromKernel);
  });
}

const noHandles = () => undefined;

/**
 * An object of the runner's, as a path: reading a property extends the path; awaiting it asks the
 * runner to walk the path and answers with the value (objects with methods come back as handles,
 * reached the same way); calling it is a call (see `called`).
 */
function remote(root: Root, path: Step[] = [], data?: Record<string, unknown>): unknown {
  let value: Promise<unknown> | undefined;
  const target = () => {};
  return new Proxy(target, {
    get(_, key) {
      if (key === 'then') {
        if (path.length === 0) return undefined;
        value ??= request({ t: 'call', root, path }).then((v) => fromWire(v, handleProxy));
        return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => (value as Promise<unknown>).then(resolve, reject);
      }
      if (typeof key === 'symbol') return undefined;
      if (path.length === 0 && data && key in data) return data[key];
      return remote(root, [...path, { get: key }]);
    },
    apply(_, __, args: unknown[]) {
      return called(root, [...path, { call: args.map((a) => toWire(a, noHandles)) }]);
    },
  });
}

/**
 * A call of the runner's object: made at once, as in the runner's own thread, and its answer a
 * promise. A method of the answer extends the path (`docker.getContainer(id).inspect()`). A call
 * that fails while no one awaits or uses it fails the running block, as an un-awaited `$` does.
 */
function called(root: Root, path: Step[]): unknown {
  const answer = request({ t: 'call', root, path }).then((v) => fromWire(v, handleProxy));
  let used = false;
  answer.catch((error) => {
    if (!used) send({ t: 'uncaught', error: failure(error, current?.block) });
  });
  return new Proxy(
    {},
    {
      get(_, key) {
        if (typeof key === 'symbol') return undefined;
        used = true;
        if (key === 'then' || key === 'catch' || key === 'finally') return answer[key].bind(answer);
        return remote(root, [...path, { get: key }]);
      },
    },
  );
}

const handleProxy = (h: WireHandle) => remote({ handle: h.$handle }, [], h.data);

/** `$` of one node: the command is built here (its quoting, its call site), run by the runner. */
function shellFor(node?: string) {
  const run = async (command: string, nothrow: boolean, quiet: boolean, callSite: string) => {
    // Whether a failure throws is decided here (nothrow); the runner only runs the command.
    const answer = (await request({ t: 'shell', node, command, quiet })) as {
      stdout: string;
      stderr: string;
      exitCode: number | null;
      durationMs: number;
      signal: string | null;
    };
    const output = new ProcessOutput(answer.stdout, answer.stderr, answer.exitCode, answer.durationMs);
    if (!nothrow && output.exitCode !== 0) throw new ProcessFailed(command, output, answer.signal, callSite);
    return output;
  };
  return templateShell(run);
}

let current: { id: number; block: Block; controller: AbortController; answer: AnswerSlot } | undefined;
let instantWaits = false;
const waitFor = makeWaitFor(
  () => current?.controller.signal,
  (info) => send({ t: 'wait', info }),
  () => instantWaits,
);

/** An error as the runner reports it: mapped to its .md line here, where the blocks' source maps are. */
function failure(error: unknown, block: Block | undefined): unknown {
  const wire = errorToWire(error);
  if (error instanceof ProcessFailed) Object.assign(wire.fields, { exitCode: error.exitCode, stderr: error.stderr, stdout: error.output.stdout });
  const at = mdLineFromStack(error instanceof ProcessFailed ? error.callSite : (error as Error)?.stack, block);
  if (at) Object.assign(wire.fields, { mdLine: at.line, mdFile: at.block.file });
  return wire;
}

let kernel: ChapterKernel | undefined;
let state: Record<string, unknown> = {};
const stateOut = () => {
  try {
    return structuredClone(state);
  } catch (error) {
    return errorToWire(new Error(`state holds a value that cannot be kept between chapters (${(error as Error).message}): keep plain data in state`));
  }
};

// Errors no one awaits (a throw in a timer, a rejected promise left behind) are the running block's.
process.on('uncaughtException', (error) => send({ t: 'uncaught', error: failure(error, current?.block) }));
process.on('unhandledRejection', (error) => send({ t: 'uncaught', error: failure(error, current?.block) }));

// What the block's waitFor calls last saw, for a timeout's message (sent when it changes).
let lastWaits = '';
setInterval(() => {
  const pending = waitFor.pending();
  const text = pending.join('\n');
  if (text !== lastWaits) {
    lastWaits = text;
    send({ t: 'waits', pending });
  }
}, 100).unref();

port.on('message', (message: ToKernel) => {
  switch (message.t) {
    case 'init': {
      state = message.state;
      instantWaits = Boolean(message.instantWaits);
      const names = message.nodes;
      const nodes = new Proxy(Object.create(null) as Record<string, unknown>, {
        get(_, key) {
          if (typeof key === 'symbol') return undefined;
          if (!names.includes(key)) throw new Error(`no node named "${key}" on this target: its nodes are ${names.join(', ')}`);
          const path = (what: string): Step[] => [{ get: key }, { get: what }];
          return {
            name: key,
            $: shellFor(key === names[0] ? undefined : key),
            docker: remote('nodes', path('docker')),
            machine: remote('nodes', path('machine')),
          };
        },
        has: (_, key) => typeof key === 'string' && names.includes(key),
        ownKeys: () => [...names],
        getOwnPropertyDescriptor: (_, key) => (typeof key === 'string' && names.includes(key) ? { enumerable: true, configurable: true } : undefined),
      });
      kernel = new ChapterKernel({
        $: shellFor(),
        docker: remote('docker'),
        k8s: remote('k8s'),
        machine: remote('machine'),
        nodes,
        waitFor,
        assert,
        answer: makeAnswer(
          () => current?.answer,
          (key) => send({ t: 'answer', key }),
        ),
        state,
        versions: Object.freeze(message.versions),
        console: makeConsole((text) => send({ t: 'output', text })),
      });
      break;
    }
    case 'run': {
      const { compiled } = message;
      const block = compiled.block as unknown as Block;
      const controller = new AbortController();
      const answer: AnswerSlot = { block: block.id, ...(compiled.block.prediction ? { prediction: compiled.block.prediction } : {}) };
      current = { id: message.id, block, controller, answer };
      const code: CompiledBlock = { block, body: compiled.body, names: compiled.names, map: new TraceMap(compiled.mapText), mapText: compiled.mapText };
      (kernel as ChapterKernel).run(code).then(
        () => {
          if (current?.id === message.id) current = undefined;
          send({ t: 'done', id: message.id, state: stateOut() });
        },
        (error) => {
          if (current?.id === message.id) current = undefined;
          send({ t: 'failed', id: message.id, error: failure(error, block), state: stateOut() });
        },
      );
      break;
    }
    case 'abort':
      if (current?.id === message.id) current.controller.abort(fromWire(message.reason));
      break;
    case 'reply': {
      const waiting = replies.get(message.call);
      replies.delete(message.call);
      if (!waiting) break;
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(fromWire(message.value));
      break;
    }
    case 'ping':
      send({ t: 'pong', n: message.n });
      break;
  }
});

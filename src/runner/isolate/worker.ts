import { StringDecoder } from 'node:string_decoder';
import { parentPort } from 'node:worker_threads';
import { compiledBlock } from '../compiled-block.js';
import { assert, ChapterKernel, makeConsole, mdLineFromStack } from '../kernel.js';
import { type AnswerSlot, makeAnswer } from '../run/answer.js';
import { ProcessFailed, ProcessOutput, type RunCommand, templateShell } from '../shell.js';
import type { Block } from '../types.js';
import { makeWaitFor } from '../wait-for.js';
import { errorToWire, type FromKernel, fromWire, messageOf, type Root, type Step, type ToKernel, toWire, type WireError, type WireHandle } from './wire.js';

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
    if (!used) sendFailure({ t: 'uncaught', error: failure(error, current?.block) });
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
  const run: RunCommand = async (command, nothrow, quiet, callSite) => {
    // Whether a failure throws is decided here (nothrow); the runner only runs the command.
    const answer = (await request({ t: 'shell', node, command, quiet })) as {
      stdout: string;
      stderr: string;
      exitCode: number | null;
      durationMs: number;
      signal: string | null;
    };
    const output = new ProcessOutput(answer.stdout, answer.stderr, answer.exitCode, answer.durationMs);
    if (!nothrow && output.exitCode !== 0) throw new ProcessFailed(command, output, answer.signal, callSite.stack ?? '');
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
function failure(error: unknown, block: Block | undefined): WireError {
  try {
    const wire = errorToWire(error);
    if (error instanceof ProcessFailed) Object.assign(wire.fields, { exitCode: error.exitCode, stderr: error.stderr, stdout: error.output.stdout });
    const at = mdLineFromStack(error instanceof ProcessFailed ? error.callSite : wire.stack, block);
    if (at) Object.assign(wire.fields, { mdLine: at.line, mdFile: at.block.file });
    return wire;
  } catch (cannot) {
    return errorToWire(new Error(`the block failed with a value that cannot be reported (${messageOf(cannot)})`));
  }
}

/**
 * Sends a failure, whatever it holds: a field that does not clone (a Map of functions) must not
 * keep the runner from hearing that the block failed, or the block would hang until its timeout.
 */
function sendFailure(message: Extract<FromKernel, { t: 'failed' | 'uncaught' | 'exit' }>): void {
  try {
    send(message);
  } catch {
    const { fields, ...error } = message.error as WireError;
    const kept = Object.fromEntries(Object.entries(fields).filter(([, v]) => v === null || typeof v !== 'object'));
    send({ ...message, error: { ...error, fields: kept } });
  }
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
process.on('uncaughtException', (error) => sendFailure({ t: 'uncaught', error: failure(error, current?.block) }));
process.on('unhandledRejection', (error) => sendFailure({ t: 'uncaught', error: failure(error, current?.block) }));

/**
 * `process.exit()` in a block ends this thread, not the run: the block (or, when none runs, the
 * next) fails at the line that called it, and the chapter's next block starts a new thread, as
 * after a timeout. Sent before the thread ends, with `state` as it was.
 */
const exitThread = process.exit.bind(process);
process.exit = ((code?: number | string | null) => {
  const shown = code === undefined ? '' : typeof code === 'string' ? JSON.stringify(code) : String(code);
  const error = new Error(`the block called process.exit(${shown}): a block cannot end the runner; throw an error to fail it`);
  error.name = 'ProcessExit';
  sendFailure({ t: 'exit', id: current?.id, error: failure(error, current?.block), state: stateOut() });
  exitThread(1);
}) as typeof process.exit;

/**
 * What the blocks write to process.stdout and process.stderr (theirs or a module's) and what the
 * thread's own console prints is the running block's output, in order with its console.log, as a
 * `block:output` of that block: never the runner's stdout (which a reporter such as json owns).
 */
const output = (text: string) => {
  if (text) send({ t: 'output', text });
};
for (const stream of [process.stdout, process.stderr]) {
  const decoder = new StringDecoder('utf8');
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof chunk === 'string') {
      output(decoder.write(Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8')));
    } else if (chunk instanceof Uint8Array) {
      output(decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    } else {
      throw new TypeError(
        `process.${stream === process.stdout ? 'stdout' : 'stderr'}.write takes a string, a Buffer or a Uint8Array, not ${chunk === null ? 'null' : typeof chunk}`,
      );
    }
    if (typeof done === 'function') queueMicrotask(() => (done as (error?: Error | null) => void)(null));
    return true;
  };
  stream.write = write as typeof stream.write;
}
globalThis.console = makeConsole(output);

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
        console: globalThis.console,
      });
      break;
    }
    case 'run': {
      const { compiled } = message;
      const block = compiled.block as unknown as Block;
      const controller = new AbortController();
      const answer: AnswerSlot = { block: block.id, ...(compiled.block.prediction ? { prediction: compiled.block.prediction } : {}) };
      current = { id: message.id, block, controller, answer };
      const code = compiledBlock(block, compiled.body, compiled.names, compiled.mapText);
      (kernel as ChapterKernel).run(code).then(
        () => {
          if (current?.id === message.id) current = undefined;
          send({ t: 'done', id: message.id, state: stateOut() });
        },
        (error) => {
          if (current?.id === message.id) current = undefined;
          sendFailure({ t: 'failed', id: message.id, error: failure(error, block), state: stateOut() });
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

/**
 * What the reporters (plain, json, JUnit, the terminal UI, the --step prompts) are shown: the
 * run's events with secrets blanked, as the transcript has them. A CI log is a log: a block that
 * prints a kubeconfig or a key must not put it there.
 *
 * Output arrives in chunks, and a secret may be cut between two of them, so each stream is held
 * back to its last line end; a private key, which spans lines, is held from its BEGIN line to its
 * END line. What is held goes out when its command or block ends, when the block starts another
 * attempt or asks the reader what to do (`releaseBlock`), or once it passes HOLD_LIMIT. A secret
 * found by its shape in what goes out is registered, so a piece of it shown later (the last lines
 * of output in a failure message) is blanked too. A secret the book registers only after it was
 * printed was shown: the transcript, redacted at the end, blanks it there.
 */

import type { Listener, RunEvent } from '../events.js';
import type { RunInstrument } from '../instrument.js';
import { registerWrites } from './proxies.js';
import type { Redactor } from './redact.js';

/** Past this, held text goes out, but for its last TAIL characters (a secret there keeps what is around it). */
const HOLD_LIMIT = 64 * 1024;
const TAIL = 8 * 1024;

/** A private key's first line: everything from here to its END line is redacted as one text. */
const KEY_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
const KEY_END = /-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

type Chunked = Extract<RunEvent, { type: 'block:output' | 'command:output' }>;

/** One stream's held text, and the event its released text is sent as. */
interface Held {
  text: string;
  event: Chunked;
}

const keyOf = (event: Chunked) => (event.type === 'block:output' ? `${event.block.id}\0${event.stream}` : `${event.block.id}\0${event.id}\0${event.stream}`);

/** Where `text` may be cut: after its last line end, but before a private key whose END line has not come yet. */
function releasable(text: string): number {
  const lastLine = text.lastIndexOf('\n') + 1;
  for (let from = 0; ; ) {
    const begin = indexFrom(text, KEY_BEGIN, from, lastLine);
    if (begin === -1) return lastLine;
    const end = indexFrom(text, KEY_END, begin, lastLine);
    // The key's line onwards waits for its END line to be whole.
    if (end === -1) return text.lastIndexOf('\n', begin) + 1;
    from = end;
  }
}

/** Where `pattern` first matches in text[from, before) (a line end bounds every match), or -1. */
function indexFrom(text: string, pattern: RegExp, from: number, before: number): number {
  if (from >= before) return -1;
  const at = text.slice(from, before).search(pattern);
  return at === -1 ? -1 : from + at;
}

/**
 * Where held text past the limit is cut: TAIL characters before its end, moved back to a space or
 * line end close before it, so that a credential and its name (`Bearer`, `"token":`) go out together.
 */
function cutAtLimit(text: string): number {
  const at = text.length - TAIL;
  const space = Math.max(text.lastIndexOf(' ', at - 1), text.lastIndexOf('\n', at - 1), text.lastIndexOf('\t', at - 1));
  return space >= at - 1024 ? space + 1 : at;
}

export interface RedactingRelay {
  /** Hears the run's events; passes each on to `emit`, redacted, output in order and whole lines. */
  listener: Listener;
  /** Sends on everything held for a block now (before the reader is asked what to do after it failed). */
  releaseBlock(blockId: string): void;
}

/**
 * A relay that passes every event to `emit` with its text redacted; chunks of output are held
 * back as above and released in order, before the event that ends their command or block.
 */
export function redactingRelay(redactor: Redactor, emit: Listener): RedactingRelay {
  const held = new Map<string, Held>();

  const send = (h: Held, text: string) => {
    redactor.learnShapes(text);
    emit({ ...h.event, text: redactor.redact(text) });
  };
  const release = (key: string, all: boolean) => {
    const h = held.get(key);
    if (!h) return;
    const overLimit = !all && h.text.length > HOLD_LIMIT;
    // What is held is whole here: a secret in it, cut by the limit below, is known by its shape first.
    if (overLimit) redactor.learnShapes(h.text);
    const at = all ? h.text.length : overLimit ? cutAtLimit(h.text) : releasable(h.text);
    if (at === 0) return;
    const out = h.text.slice(0, at);
    h.text = h.text.slice(at);
    if (h.text === '') held.delete(key);
    send(h, out);
  };
  /** Everything held for a block (or one command of it), before the event that ends it. */
  const releaseAll = (blockId: string, commandId?: number) => {
    const prefix = commandId === undefined ? `${blockId}\0` : `${blockId}\0${commandId}\0`;
    for (const key of [...held.keys()]) if (key.startsWith(prefix)) release(key, true);
  };
  const failure = <F extends object | undefined>(f: F): F => (f ? redactor.redactDeep(f) : f);

  const listener: Listener = (event) => {
    switch (event.type) {
      case 'block:output':
      case 'command:output': {
        const key = keyOf(event);
        const h = held.get(key);
        if (h) h.text += event.text;
        else held.set(key, { text: event.text, event });
        // Nothing can go out before a new line end arrives (or the limit): no scan of what is held.
        if (!event.text.includes('\n') && (held.get(key)?.text.length ?? 0) <= HOLD_LIMIT) return;
        release(key, false);
        return;
      }
      case 'block:start':
        // An earlier attempt's output is that attempt's.
        releaseAll(event.block.id);
        emit(event);
        return;
      case 'command:start':
        emit({ ...event, command: redactor.redact(event.command) });
        return;
      case 'command:end':
        releaseAll(event.block.id, event.id);
        redactor.learnShapes(event.stdout);
        redactor.learnShapes(event.stderr);
        emit({ ...event, command: redactor.redact(event.command), stdout: redactor.redact(event.stdout), stderr: redactor.redact(event.stderr) });
        return;
      case 'wait':
        emit(event.message === undefined ? event : { ...event, message: redactor.redact(event.message) });
        return;
      case 'block:retry':
        releaseAll(event.block.id);
        emit({ ...event, failure: failure(event.failure) });
        return;
      case 'block:diagnostics':
        releaseAll(event.block.id);
        // A section's lines together: a key in a log spans lines.
        for (const section of event.sections) redactor.learnShapes(section.lines.join('\n'));
        emit({ ...event, sections: redactor.redactDeep(event.sections) });
        return;
      case 'block:end':
        releaseAll(event.block.id);
        emit({
          ...event,
          failure: failure(event.failure),
          ...(event.expectedFailure === undefined ? {} : { expectedFailure: redactor.redact(event.expectedFailure) }),
        });
        return;
      case 'state':
        for (const lines of Object.values(event.snapshot.logs)) redactor.learnShapes(lines.join('\n'));
        emit({ ...event, snapshot: redactor.redactUnchanging(event.snapshot), diff: redactor.redactUnchanging(event.diff) });
        return;
      case 'run:end':
        for (const key of [...held.keys()]) release(key, true);
        emit(event);
        return;
      default:
        emit(event);
    }
  };
  return { listener, releaseBlock: (blockId) => releaseAll(blockId) };
}

/** `instrument` with every node's target teaching `redactor` the secrets it writes (registerWrites). */
export function registeringInstrument(instrument: RunInstrument | undefined, redactor: Redactor): RunInstrument {
  return {
    ...instrument,
    target: (t) => registerWrites(instrument?.target ? instrument.target(t) : t, redactor),
    nodeTarget: (node, t) => registerWrites(instrument?.nodeTarget ? instrument.nodeTarget(node, t) : t, redactor),
  };
}

/**
 * What the reporters (plain, json, JUnit, the terminal UI, the --step prompts) are shown: the
 * run's events with secrets blanked, as the transcript has them. A CI log is a log: a block that
 * prints a kubeconfig or a key must not put it there.
 *
 * Output arrives in chunks, and a secret may be cut between two of them, so each stream is held
 * back to its last line end; a private key, which spans lines, is held from its BEGIN line to its
 * END line. What is held goes out when its command or block ends (or grows past HOLD_LIMIT).
 */

import type { Listener, RunEvent } from '../events.js';
import type { RunInstrument } from '../instrument.js';
import { registerWrites } from './proxies.js';
import type { Redactor } from './redact.js';

/** Past this, held text goes out redacted as it is (a secret cut there is still caught by its tokens). */
const HOLD_LIMIT = 64 * 1024;

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
    const begin = indexFrom(text, KEY_BEGIN, from);
    if (begin === -1 || begin >= lastLine) return lastLine;
    const end = indexFrom(text, KEY_END, begin);
    // The key's line onwards waits for its END line to be whole.
    if (end === -1 || end >= lastLine) return text.lastIndexOf('\n', begin) + 1;
    from = end;
  }
}

function indexFrom(text: string, pattern: RegExp, from: number): number {
  const at = text.slice(from).search(pattern);
  return at === -1 ? -1 : from + at;
}

/**
 * A listener that passes every event to `emit` with its text redacted; chunks of output are
 * held back as above and released in order, before the event that ends their command or block.
 */
export function redactingRelay(redactor: Redactor, emit: Listener): Listener {
  const held = new Map<string, Held>();

  const release = (key: string, all: boolean) => {
    const h = held.get(key);
    if (!h) return;
    const at = all || h.text.length > HOLD_LIMIT ? h.text.length : releasable(h.text);
    if (at === 0) return;
    const out = h.text.slice(0, at);
    h.text = h.text.slice(at);
    if (h.text === '') held.delete(key);
    emit({ ...h.event, text: redactor.redact(out) });
  };
  /** Everything held for a block (or one command of it), before the event that ends it. */
  const releaseAll = (blockId: string, commandId?: number) => {
    const prefix = commandId === undefined ? `${blockId}\0` : `${blockId}\0${commandId}\0`;
    for (const key of [...held.keys()]) if (key.startsWith(prefix)) release(key, true);
  };

  return (event) => {
    switch (event.type) {
      case 'block:output':
      case 'command:output': {
        const key = keyOf(event);
        const h = held.get(key);
        if (h) h.text += event.text;
        else held.set(key, { text: event.text, event });
        release(key, false);
        return;
      }
      case 'command:start':
        emit({ ...event, command: redactor.redact(event.command) });
        return;
      case 'command:end':
        releaseAll(event.block.id, event.id);
        emit({ ...event, command: redactor.redact(event.command), stdout: redactor.redact(event.stdout), stderr: redactor.redact(event.stderr) });
        return;
      case 'wait':
        emit(event.message === undefined ? event : { ...event, message: redactor.redact(event.message) });
        return;
      case 'block:retry':
        releaseAll(event.block.id);
        emit({ ...event, failure: redactor.redactDeep(event.failure) });
        return;
      case 'block:diagnostics':
        releaseAll(event.block.id);
        emit({ ...event, sections: redactor.redactDeep(event.sections) });
        return;
      case 'block:end':
        releaseAll(event.block.id);
        emit(event.failure ? { ...event, failure: redactor.redactDeep(event.failure) } : event);
        return;
      case 'state':
        emit({ ...event, snapshot: redactor.redactDeep(event.snapshot), diff: redactor.redactDeep(event.diff) });
        return;
      case 'run:end':
        for (const key of [...held.keys()]) release(key, true);
        emit(event);
        return;
      default:
        emit(event);
    }
  };
}

/** `instrument` with every node's target teaching `redactor` the secrets it writes (registerWrites). */
export function registeringInstrument(instrument: RunInstrument | undefined, redactor: Redactor): RunInstrument {
  return {
    ...instrument,
    target: (t) => registerWrites(instrument?.target ? instrument.target(t) : t, redactor),
    nodeTarget: (node, t) => registerWrites(instrument?.nodeTarget ? instrument.nodeTarget(node, t) : t, redactor),
  };
}

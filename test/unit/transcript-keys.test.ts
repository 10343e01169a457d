// Issue 28: a recorded call carries the book's own call as its logical key, and a replay matches
// on it, never on the text the runner wraps the call in. On the FAKE machine (no root): a
// recording's keys; the same keys read back from a transcript of format @1 (which had none); and
// replays whose runner sends other text for every command than the recording's did.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { startRecording } from '../../src/runner/record/recorder.js';
import { ReplaySession } from '../../src/runner/record/replay.js';
import { startReplay } from '../../src/runner/record/replay-run.js';
import { readTranscript, TRANSCRIPT_FORMAT, type Transcript, TranscriptError } from '../../src/runner/record/transcript.js';
import type { Target } from '../../src/runner/targets/target.js';
import type { Book } from '../../src/runner/types.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';

const V1 = path.join(import.meta.dirname, '..', 'fixtures', 'transcript', 'v1-fake-machine.json');

/**
 * The chapter test/fixtures/transcript/v1-fake-machine.json was recorded from, on the fake
 * machine, by the last runner that wrote format @1 (its transcript holds the commands that runner
 * sent: sh traps, `set -o pipefail;`, the daemon scripts). Do not change it: the fixture is that
 * runner's, and cannot be made again.
 */
const CHAPTER = `# Keys

\`\`\`ts run name=shell
const who = 'the book'
console.log(String(await $\`echo hello from \${who}\`))
await $.quiet\`true\`
\`\`\`

\`\`\`sh run name=sh-block
echo from sh
test -n "$K8S_VERSION"
\`\`\`

\`\`\`yaml file=/etc/keys/pod.yaml
kind: Pod
\`\`\`

\`\`\`ts run name=daemons
const sleeper = await machine.daemon('sleeper', ['sleep', '30'])
assert.ok((await sleeper.status()).running)
await machine.daemon('sleeper', ['sleep', '30'])
await sleeper.restart()
await sleeper.logs(5)
assert.ok((await machine.daemonStatus('sleeper')).running)
await sleeper.stop()
assert.equal(await machine.exists('/etc/keys/nothing'), false)
await machine.writeFile('/etc/keys/x.txt', 'x\\n')
assert.equal(await machine.readFile('/etc/keys/x.txt'), 'x\\n')
\`\`\`
`;

/** The target calls of each block, by their keys, in order. */
const KEYS = {
  shell: ["$ echo hello from 'the book'", '$ true'],
  'sh-block': ['sh echo from sh\ntest -n "$K8S_VERSION"'],
  '01-keys#3': ['writeFile /etc/keys/pod.yaml'],
  daemons: [
    ...Array(3).fill('daemon start sleeper ["sleep","30"]'), // the record read, the list, the start
    'daemons', // status()
    ...Array(2).fill('daemon start sleeper ["sleep","30"]'), // adopted: the record read, the list
    ...Array(3).fill('daemon restart sleeper'), // the record read, the stop, the start
    'daemon logs sleeper 5',
    'daemons', // daemonStatus()
    'daemon stop sleeper',
    'exists /etc/keys/nothing',
    'writeFile /etc/keys/x.txt',
    'readFile /etc/keys/x.txt',
  ],
};

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const machine of machines) machine.remove();
});

async function fakeBook(): Promise<Book> {
  const book = await loadBook(writeBook({ '01-keys.md': CHAPTER }));
  book.versions = { K8S_VERSION: 'v1.35.0' } as Book['versions'];
  return book;
}

const keysOf = (transcript: Transcript) =>
  Object.fromEntries(transcript.chapters.flatMap((c) => c.blocks).map((b) => [b.id, b.calls.filter((call) => call.kind === 'target').map((call) => call.key)]));

/** Every command the runner sends reaches the machine as other text: other traps, quoting, prefixes, daemon scripts. */
function otherWrappers(target: Target, sent: string[]): Target {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'exec')
        return (command: string, options?: Parameters<Target['exec']>[1]) => {
          const changed = `# a later runner's wrapper\ntrap 'echo other trap' ERR\n${command.replaceAll("'", '"').replaceAll('set -o pipefail; ', 'set -euo pipefail; ').replaceAll('sleep 0.02', 'sleep 0.01')}`;
          sent.push(changed);
          return t.exec(changed, options);
        };
      const value = Reflect.get(t, key, receiver);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

async function replay(book: Book, transcript: Transcript, wrap?: (target: Target) => Target) {
  const run = startReplay(new ReplaySession(transcript));
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const instrument = wrap ? { ...run.instrument, target: wrap, nodeTarget: (_: string, t: Target) => wrap(t) } : run.instrument;
  const result = await runBook({ book, chapters: book.chapters, target: run.target, nodes: run.nodes, bus, instrument });
  const failed = events.flatMap((e) => (e.type === 'block:end' && e.status === 'failed' ? [`${e.block.id}: ${e.failure?.message}`] : []));
  return { exitCode: result.exitCode, failed };
}

describe('logical keys (issue 28)', () => {
  let recorded: Transcript;
  let book: Book;

  it('a recording keys each target call by the book’s own call: $ and sh text, daemon calls, file paths', async () => {
    book = await fakeBook();
    const target = new FakeTarget();
    machines.push(target);
    const recording = startRecording(book, target);
    const bus = new EventBus();
    const result = await runBook({ book, chapters: book.chapters, target, bus, snapshot: false, diagnose: false, instrument: recording.instrument });
    expect(result.exitCode).toBe(0);
    recorded = recording.transcript();
    expect(recorded.format).toBe(TRANSCRIPT_FORMAT);
    expect(keysOf(recorded)).toEqual(KEYS);
    // The wrapper text is still there, for the reader: an sh block's traps, a $ command's prefix.
    const sh = recorded.chapters[0]?.blocks.find((b) => b.id === 'sh-block')?.calls[0];
    expect(String(sh?.args[0])).toMatch(/^trap .* DEBUG\n/);
  });

  it('replays its recording although the runner now sends other text for every command', async () => {
    const sent: string[] = [];
    const { exitCode, failed } = await replay(book, recorded, (t) => otherWrappers(t, sent));
    expect(failed).toEqual([]);
    expect(exitCode).toBe(0);
    const recordedText = new Set(recorded.chapters.flatMap((c) => c.blocks.flatMap((b) => b.calls.map((call) => String(call.args[0])))));
    expect(sent.length).toBe(KEYS.shell.length + KEYS['sh-block'].length + KEYS.daemons.length - 2);
    expect(sent.filter((text) => recordedText.has(text))).toEqual([]);
  });

  it('a change to what the book asks (not to the wrapper) still fails the replay, naming the call by its key', async () => {
    const changed = structuredClone(recorded);
    const call = changed.chapters[0]?.blocks.find((b) => b.id === 'shell')?.calls[0];
    if (call) call.key = "$ echo hello from 'another book'";
    const { exitCode, failed } = await replay(book, changed);
    expect(exitCode).toBe(1);
    expect(failed[0]).toMatch(
      /^shell: block shell .* made a call the transcript does not hold: exec: \$ echo hello from 'the book'; the recording's next call was exec: \$ echo hello from 'another book'/,
    );
  });

  it('reads the keys of a format @1 transcript back from the commands its runner sent, and replays it with other wrappers', async () => {
    const v1 = JSON.parse(readFileSync(V1, 'utf8')) as Transcript;
    expect(v1.format).toBe('build-a-minikube/transcript@1');
    expect(JSON.stringify(v1)).not.toContain('"key"');
    const migrated = await readTranscript(V1);
    expect(migrated.format).toBe(TRANSCRIPT_FORMAT);
    expect(keysOf(migrated)).toEqual(KEYS);
    const { exitCode, failed } = await replay(await fakeBook(), migrated, (t) => otherWrappers(t, []));
    expect(failed).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('refuses an @1 transcript with a command it cannot read back: TRANSCRIPT_OLD, with the command that records it again', async () => {
    const v1 = JSON.parse(readFileSync(V1, 'utf8')) as Transcript;
    const call = v1.chapters[0]?.blocks.find((b) => b.id === 'shell')?.calls[0];
    if (call) call.args = ['set -e; echo hello from an older wrapper'];
    const file = path.join(writeBook({}), '..', 'old transcript.json');
    writeFileSync(file, JSON.stringify(v1));
    const error = await readTranscript(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscriptError);
    expect(error).toMatchObject({ code: 'TRANSCRIPT_OLD', hint: `npx book run --target fake --record --transcript '${file}'` });
    expect((error as Error).message).toMatch(/recorded by an older runner .*block shell, call 1 \(exec\): a command this runner does not recognise/);
  });
});

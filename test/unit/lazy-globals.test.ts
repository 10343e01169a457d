// Issue 28: `k8s` is re-read from the machine's kubeconfig, and the other nodes are opened, when
// a block first uses them: not chosen beforehand by matching the block's text. On the FAKE
// machine, recorded, so each block's kubeconfig reads are in its calls; in a kernel thread (the
// default) and in the runner's own thread (isolate: false).
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { startRecording } from '../../src/runner/record/recorder.js';
import type { NodeTargets } from '../../src/runner/targets/nodes.js';
import { FakeTarget } from '../fakes/fake-target.js';
import { writeBook } from '../helpers/book.js';

const machines: FakeTarget[] = [];
afterAll(() => {
  for (const m of machines) m.remove();
});

const ts = (name: string, code: string) => `\`\`\`ts run name=${name}\n${code}\n\`\`\`\n\n`;

const CHAPTER = `# Lazy\n\n${[
  // Declares helpers: the words k8s and nodes are here, but nothing is used.
  ts('helpers', 'const listNodes = () => k8s.core.listNode()\nconst onWorker = () => nodes.worker.$`echo from the worker`'),
  ts('mentions-only', '// k8s and nodes are only mentioned here\nconsole.log("k8s nodes")'),
  ts(
    'k8s-through-a-helper',
    'const error = await listNodes().then(() => undefined, (e) => e)\nassert.match(String(error?.message), /k8s\\.core is not available: there is no kubeconfig/)',
  ),
  ts('k8s-twice', 'await k8s.core.listNode().catch(() => {})\nawait k8s.apps.listNamespacedDeployment({ namespace: "x" }).catch(() => {})'),
  ts('nodes-through-a-helper', 'assert.equal(String(await onWorker()), "from the worker")\nassert.equal(await nodes.worker.machine.exists("/etc"), true)'),
].join('')}`;

async function run(isolate: boolean) {
  const book = await loadBook(writeBook({ '01-lazy.md': CHAPTER }));
  const target = new FakeTarget();
  const worker = new FakeTarget();
  machines.push(target, worker);
  const opened: string[] = [];
  const events: RunEvent[] = [];
  const nodes: NodeTargets = {
    names: ['worker'],
    place: () => ({ runtimeDir: worker.runtimeDir, dockerSocket: worker.dockerSocket }),
    open: async (name) => {
      const during = events.filter((e) => e.type === 'block:start').at(-1);
      opened.push(`${name} during ${during?.type === 'block:start' ? during.block.id : 'no block'}`);
      return worker;
    },
  };
  const recording = startRecording(book, target, { nodes });
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  // Snapshots off: they would open every node before the first block.
  const result = await runBook({
    book,
    chapters: book.chapters,
    target,
    nodes,
    bus,
    snapshot: false,
    diagnose: false,
    isolate,
    instrument: recording.instrument,
  });
  const failed = events.flatMap((e) => (e.type === 'block:end' && e.status === 'failed' ? [`${e.block.id}: ${e.failure?.message}`] : []));
  const reads = Object.fromEntries(
    recording.transcript().chapters[0]?.blocks.map((b) => [b.id, b.calls.filter((c) => c.key === `readFile ${book.config.kubeconfig}`).length]) ?? [],
  );
  const openedAt = events.find((e) => e.type === 'command:start' && e.node === 'worker');
  return { result, failed, reads, opened, openedAt };
}

describe.each([
  ['in a kernel thread', true],
  ['in the runner’s thread (isolate: false)', false],
])('k8s and nodes, found on first use, %s', (_, isolate) => {
  it('re-reads the kubeconfig once in each block that uses k8s, however it is reached, and never in one that only mentions it', async () => {
    const { result, failed, reads } = await run(isolate);
    expect(failed).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(reads).toEqual({ helpers: 0, 'mentions-only': 0, 'k8s-through-a-helper': 1, 'k8s-twice': 1, 'nodes-through-a-helper': 0 });
  });

  it('opens the other nodes when a block first uses nodes, not when one mentions them', async () => {
    const { opened, openedAt } = await run(isolate);
    expect(opened).toEqual(['worker during nodes-through-a-helper']);
    expect(openedAt).toMatchObject({ block: { id: 'nodes-through-a-helper' }, command: 'echo from the worker' });
  });
});

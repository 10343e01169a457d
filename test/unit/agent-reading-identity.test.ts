// AgentClient gives the same object for a node reading word for word the same as the last one
// (what the snapshot then keeps by identity: snapshot-kept.test.ts), and a new object for any
// other. The agent here is a FAKE process speaking the agent's protocol (the real one is tested
// in test/integration/agent-reads.test.ts): it answers each reading with the text the test holds.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentClient, type AgentProcess } from '../../src/runner/targets/agent.js';

function fakeAgent(answer: () => string): AgentProcess {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let pending = '';
  stdin.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
      const m = JSON.parse(pending.slice(0, nl)) as { id: number };
      pending = pending.slice(nl + 1);
      stdout.write(`${JSON.stringify({ id: m.id, t: 'o', d: Buffer.from(answer()).toString('base64') })}\n`);
      stdout.write(`${JSON.stringify({ id: m.id, t: 'x', code: 0, signal: null })}\n`);
    }
  });
  return { stdin, stdout, onClose: () => {}, ref: () => {}, unref: () => {} };
}

const ask = { runtime: '/run/x', manifests: '/etc/kubernetes/manifests', lines: 3, socket: '/run/x/docker.sock', dockerData: '/var/lib/docker' };
const reading = fc.record({
  netChanged: fc.boolean(),
  files: fc.record({
    manifests: fc.constant([]),
    provisioned: fc.constant([]),
    logs: fc.dictionary(fc.constantFrom('a', 'b'), fc.array(fc.string(), { maxLength: 2 })),
    daemons: fc.constant([]),
  }),
  docker: fc.record({ fingerprint: fc.constantFrom('f', 'g'), containers: fc.constant([]) }),
});

describe("the agent client's readings", () => {
  it('are the last object exactly when the text is the last text, and equal what the text says', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant('again' as const), reading), { minLength: 1, maxLength: 10 }), async (steps) => {
        let text = JSON.stringify({ netChanged: true, files: { manifests: [], provisioned: [], logs: {}, daemons: [] }, docker: { error: 'none yet' } });
        const client = new AgentClient(() => fakeAgent(() => text));
        let last: unknown;
        let lastText: string | undefined;
        for (const step of steps) {
          if (step !== 'again') text = JSON.stringify(step);
          const state = await client.nodeState(ask);
          expect(state).toEqual(JSON.parse(text));
          if (text === lastText) expect(state).toBe(last);
          else expect(state).not.toBe(last);
          [last, lastText] = [state, text];
        }
        client.close();
      }),
      { numRuns: 100 },
    );
  });
});

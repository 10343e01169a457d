// The docker target's readings of a node (node-readings.ts): the state after a command comes back
// with the command, and a reading stands while it is fresh and nothing acted on the node since.
// Against the real Python agent (on this host, in folders of the test's own, with a Docker-like
// HTTP server whose list is the containers folder), any sequence of commands that change the
// node, commands that do not, changes made behind the runner's back, time passing and snapshots:
// each snapshot says what the node is now, or what it was at most READING_FRESH_MS ago with
// nothing done to it since.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_LINES } from '../../src/runner/state/machine-files.js';
import { AgentClient, type AgentNodeState, type NodeStateAsk } from '../../src/runner/targets/agent.js';
import { localAgentArgv } from '../../src/runner/targets/local.js';
import { NodeReadings, READING_FRESH_MS, type ReadingAsk } from '../../src/runner/targets/node-readings.js';
import type { NodeState } from '../../src/runner/targets/target.js';

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

type Step =
  | { kind: 'command'; change: 'manifest' | 'container' | 'kubeconfig' | 'none' }
  | { kind: 'readonly' }
  | { kind: 'socket' }
  | { kind: 'behind'; change: 'manifest' | 'container' }
  | { kind: 'tick'; ms: number }
  | { kind: 'snapshot' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('command' as const),
    change: fc.constantFrom('manifest' as const, 'container' as const, 'kubeconfig' as const, 'none' as const),
  }),
  fc.constant({ kind: 'readonly' as const }),
  fc.constant({ kind: 'socket' as const }),
  fc.record({ kind: fc.constant('behind' as const), change: fc.constantFrom('manifest' as const, 'container' as const) }),
  fc.record({
    kind: fc.constant('tick' as const),
    ms: fc.oneof(fc.integer({ min: 0, max: READING_FRESH_MS }), fc.integer({ min: READING_FRESH_MS + 1, max: 3 * READING_FRESH_MS })),
  }),
  fc.constant({ kind: 'snapshot' as const }),
);

describe.skipIf(!existsSync('/usr/bin/python3'))("the docker target's readings of a node, against the real Python agent", () => {
  let agent: AgentClient;
  let dir: string;
  let server: net.Server;
  /** A daemon of the node's that acts when spoken to (as dockerd creates a container): bytes to it are the runner acting, with no command. */
  let daemon: net.Server;
  let daemonMade = 0;
  beforeAll(async () => {
    agent = new AgentClient(localAgentArgv('python'));
    dir = mkdtempSync(path.join(tmpdir(), 'node-readings-'));
    // As dockerd lists: one entry per container folder (its config.v2.json is what the agent fingerprints).
    server = net.createServer((c) => {
      c.once('data', () => {
        const ids = readdirSync(path.join(dir, 'docker', 'containers')).sort();
        c.end(`HTTP/1.0 200 OK\r\n\r\n${JSON.stringify(ids.map((Id) => ({ Id })))}`);
      });
      c.on('error', () => {});
    });
    mkdirSync(path.join(dir, 'docker', 'containers'), { recursive: true });
    await new Promise<void>((r) => server.listen(path.join(dir, 'docker.sock'), r));
    daemon = net.createServer((c) => {
      c.once('data', () => {
        const id = path.join(dir, 'docker', 'containers', `d${daemonMade++}`);
        mkdirSync(id);
        writeFileSync(path.join(id, 'config.v2.json'), '{}');
        c.end('ok');
      });
      c.on('error', () => {});
    });
    await new Promise<void>((r) => daemon.listen(path.join(dir, 'daemon.sock'), r));
  });
  afterAll(() => {
    agent.close();
    server.close();
    daemon.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const askIn = (root: string): ReadingAsk => ({
    runtime: path.join(root, 'run'),
    manifests: path.join(root, 'manifests'),
    lines: LOG_LINES,
    socket: path.join(dir, 'docker.sock'),
    dockerData: path.join(dir, 'docker'),
    read: [path.join(root, 'kubeconfig')],
  });
  /** What a snapshot compares: the manifests, the containers and the kubeconfig's bytes. */
  const seen = (state: NodeState | AgentNodeState, kubeconfig: string) => ({
    manifests: state.files?.manifests.map(([name]) => name),
    containers: 'containers' in state.docker ? (state.docker.containers as { Id: string }[]).map((c) => c.Id) : state.docker,
    kubeconfig: state.read?.[kubeconfig],
  });

  it('each snapshot is the node now, or a fresh reading with nothing done to the node since', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const root = path.join(dir, `r${run++}`);
        mkdirSync(path.join(root, 'manifests'), { recursive: true });
        rmSync(path.join(dir, 'docker', 'containers'), { recursive: true, force: true });
        mkdirSync(path.join(dir, 'docker', 'containers'));
        const ask = askIn(root);
        const kubeconfig = path.join(root, 'kubeconfig');
        let clock = 0;
        const readings = new NodeReadings(agent, () => clock);
        const truth = async () => seen(await agent.nodeState(ask as NodeStateAsk), kubeconfig);
        // The model: the last reading's content, when it was taken, and whether the runner acted since.
        let last: { at: number; content: unknown; actedSince: boolean } | undefined;
        let snapshots = 0;
        let n = 0;
        const exec = async (command: string, readOnly = false) => expect((await readings.exec(command, ENV, { readOnly })).exitCode, command).toBe(0);
        const change = (what: string) => {
          const name = `x${n++}`;
          if (what === 'manifest') return `printf 'kind: Pod' > ${path.join(root, 'manifests', `${name}.yaml`)}`;
          if (what === 'container')
            return `mkdir ${path.join(dir, 'docker', 'containers', name)} && printf '{}' > ${path.join(dir, 'docker', 'containers', name, 'config.v2.json')}`;
          if (what === 'kubeconfig') return `printf '${name}' > ${kubeconfig}`;
          return 'true';
        };
        for (const s of steps) {
          if (s.kind === 'command') {
            await exec(change(s.change));
            // After the first snapshot, a command brings the node's state back with it.
            last = snapshots > 0 ? { at: clock, content: await truth(), actedSince: false } : last && { ...last, actedSince: true };
          } else if (s.kind === 'socket') {
            const stream = await agent.openStream({ path: path.join(dir, 'daemon.sock') });
            const reply = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
            stream.write('create');
            expect(await reply).toBe('ok');
            stream.destroy();
            last = last && { ...last, actedSince: true };
          } else if (s.kind === 'readonly') {
            await exec('true', true);
          } else if (s.kind === 'behind') {
            // A daemon's doing: made by a command said to be read-only, so the runner does not count it.
            await exec(change(s.change), true);
          } else if (s.kind === 'tick') {
            clock += s.ms;
          } else {
            const got = seen(await readings.read(ask), kubeconfig);
            const kube = await readings.file(kubeconfig).then(
              (b) => b?.toString(),
              (e: Error) => e.message,
            );
            const stands = last && !last.actedSince && clock - last.at <= READING_FRESH_MS;
            const expected = stands ? (last as { content: unknown }).content : await truth();
            expect(got).toEqual(expected);
            const file = (expected as ReturnType<typeof seen>).kubeconfig;
            // The kubeconfig's read is the reading's (a standing one), or undefined: read another way.
            if (kube !== undefined) expect(kube).toBe(file && 'data' in file ? Buffer.from(file.data, 'base64').toString() : (file as { error: string }).error);
            if (!stands) last = { at: clock, content: expected, actedSince: false };
            snapshots++;
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a command its block did not await is no reason to wait: the snapshot asks the agent at once', async () => {
    const root = path.join(dir, 'unawaited');
    mkdirSync(path.join(root, 'manifests'), { recursive: true });
    const readings = new NodeReadings(agent);
    await readings.read(askIn(root));
    const answer = readings.exec('sleep 2', ENV, {});
    const t0 = performance.now();
    const state = await readings.read(askIn(root));
    expect(performance.now() - t0).toBeLessThan(1500); // a hang guard: the command takes 2 s
    expect(state.files?.manifests).toEqual([]);
    await answer;
  });

  it('a reading after a command that ran beside another is declined, and the snapshot asks', async () => {
    const root = path.join(dir, 'beside');
    mkdirSync(path.join(root, 'manifests'), { recursive: true });
    const readings = new NodeReadings(agent);
    await readings.read(askIn(root));
    const first = readings.afterCommand();
    const a = agent.execWithReading(`touch ${path.join(root, 'manifests', 'a.yaml')}`, ENV, {}, first?.ask);
    const b = agent.execWithReading(`sleep 0.3; touch ${path.join(root, 'manifests', 'b.yaml')}`, ENV, {}, readings.afterCommand()?.ask);
    await expect(a.reading).rejects.toThrow(/other commands still run/);
    await b.answer;
    const state = await readings.read(askIn(root));
    expect(state.files?.manifests.map(([name]) => name)).toEqual(['a.yaml', 'b.yaml']);
  });
});

describe('whether the network changed, across readings (a FAKE agent: scripted answers, no machine)', () => {
  it('a snapshot says changed exactly when some reading since the last snapshot said so', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(fc.boolean(), { maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 10 }), async (rounds) => {
        let traffic = 0;
        let next = false;
        const fake = {
          get traffic() {
            return traffic;
          },
          nodeState: async (): Promise<AgentNodeState> => ({ netChanged: next, docker: { fingerprint: null, containers: [] } }),
          execWithReading: (): never => {
            throw new Error('the FAKE agent runs no commands: the readings after them are handed in below');
          },
        };
        let clock = 0;
        const readings = new NodeReadings(fake, () => clock);
        const ask = { runtime: '/r', manifests: '/m', lines: 1, socket: '/s', dockerData: '/d' };
        await readings.read(ask);
        for (const [changes, later] of rounds) {
          // Readings after commands, each draining the agent's notifications.
          for (const changed of changes) {
            traffic++;
            const after = readings.afterCommand();
            after?.taken(traffic, Promise.resolve(), Promise.resolve({ netChanged: changed, docker: { fingerprint: null, containers: [] } }));
            await Promise.resolve();
          }
          // Later, the snapshot asks anew; at once, the last command's reading stands.
          if (later) clock += READING_FRESH_MS + 1;
          next = false;
          const state = await readings.read(ask);
          expect(state.netChanged).toBe(changes.some(Boolean));
          // Read again while that reading stands: nothing new came, so nothing changed.
          expect((await readings.read(ask)).netChanged).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});

// The Python agent's reads without a process (ops 'read' and 'machinefiles'): what the docker
// target's snapshot reads after every block. They must say exactly what the local target's node:fs
// reads say, for any folder of manifests, pid files, logs and daemon records (generated here).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_LINES, machineFilesFromFacts } from '../../src/runner/state/machine-files.js';
import { readDaemonsNative, readMachineFilesNative } from '../../src/runner/state/machine-files-native.js';
import { AgentClient } from '../../src/runner/targets/agent.js';
import { localAgentArgv } from '../../src/runner/targets/local.js';
import type { MachineFileFacts } from '../../src/runner/targets/target.js';

const name = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,11}$/);
// Lines as daemons write them: text (some of it not ASCII), carriage returns, empty lines, long ones.
const line = fc.oneof(fc.string({ maxLength: 30 }), fc.constant(''), fc.constant('ünïcödé\r'), fc.string({ minLength: 390, maxLength: 420 }));
const pidText = fc.oneof(
  fc.constant(`${process.pid}\n`),
  fc.constant('999999999\n'),
  fc.constant(''),
  fc.constant('garbage'),
  fc.integer({ min: 1, max: 5_000_000 }).map(String),
);
const record = fc.oneof(
  fc
    .record({ name: name, argv: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), restarts: fc.nat(9), startedAt: fc.constant('2026-12-05T00:00:00Z') })
    .map((r) => JSON.stringify(r)),
  fc.constant('{not json'),
  fc.constant('[1, 2]'),
);
/** A FIFO where a pid file, a log or a record is looked for: read, it would block the agent for good. */
const fifo = (file: string) => {
  const made = spawnSync('mkfifo', [file]);
  if (made.status !== 0) throw new Error(`mkfifo ${file}: ${made.stderr}`);
};
const tree = fc.record({
  manifests: fc.uniqueArray(fc.tuple(name, fc.uint8Array({ maxLength: 300 })), { selector: ([n]) => n, maxLength: 5 }),
  // Where the readers look: a provisioned pid file, a log in either folder, a daemon's record
  // (its pid file beside it) and a daemon's pid file (its record beside it).
  fifos: fc.uniqueArray(fc.tuple(name, fc.constantFrom('pid', 'logs/log', 'daemons/log', 'daemons/json', 'daemons/pid')), {
    selector: ([n, k]) => n + k,
    maxLength: 3,
  }),
  provisioned: fc.uniqueArray(fc.tuple(name, pidText), { selector: ([n]) => n, maxLength: 3 }),
  logs: fc.uniqueArray(fc.tuple(name, fc.array(line, { maxLength: 8 }), fc.boolean()), { selector: ([n]) => n, maxLength: 3 }),
  daemons: fc.uniqueArray(fc.tuple(name, record, fc.option(pidText, { nil: undefined })), { selector: ([n]) => n, maxLength: 3 }),
});

describe.skipIf(!existsSync('/usr/bin/python3'))("the python agent reads the machine's files without a process", () => {
  let agent: AgentClient;
  let dir: string;
  beforeAll(() => {
    agent = new AgentClient(localAgentArgv('python'));
    dir = mkdtempSync(path.join(tmpdir(), 'agent-reads-'));
  });
  afterAll(() => {
    agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The agent's one-message read of a node, with a Docker socket and data root of the test's own. */
  const nodeState = (run: string, manifests: string, docker: { socket?: string; data?: string; seen?: string } = {}) =>
    agent.nodeState({
      runtime: run,
      manifests,
      lines: LOG_LINES,
      socket: docker.socket ?? path.join(dir, 'no.sock'),
      dockerData: docker.data ?? path.join(dir, 'no-docker'),
      dockerSeen: docker.seen,
    });

  it('answers as the node:fs reads do, for any files', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(tree, async (t) => {
        const root = path.join(dir, String(n++));
        const [run, manifests] = [path.join(root, 'run'), path.join(root, 'manifests')];
        for (const d of [manifests, `${run}/daemons`, `${run}/logs`]) mkdirSync(d, { recursive: true });
        for (const [file, data] of t.manifests) writeFileSync(path.join(manifests, file), data);
        mkdirSync(path.join(manifests, 'a-folder'));
        writeFileSync(path.join(manifests, '.hidden.tmp'), 'the kubelet ignores dotfiles');
        for (const [daemon, text] of t.provisioned) writeFileSync(path.join(run, `${daemon}.pid`), text);
        for (const [log, lines, own] of t.logs) writeFileSync(path.join(run, own ? 'daemons' : 'logs', `${log}.log`), lines.join('\n'));
        for (const [daemon, json, pid] of t.daemons) {
          writeFileSync(path.join(run, 'daemons', `${daemon}.json`), json);
          if (pid !== undefined) writeFileSync(path.join(run, 'daemons', `${daemon}.pid`), pid);
        }
        for (const [file, kind] of t.fifos) {
          const base = `fifo-${file}`;
          if (kind === 'pid') fifo(path.join(run, `${base}.pid`));
          else if (kind === 'logs/log') fifo(path.join(run, 'logs', `${base}.log`));
          else if (kind === 'daemons/log') fifo(path.join(run, 'daemons', `${base}.log`));
          else if (kind === 'daemons/json') {
            fifo(path.join(run, 'daemons', `${base}.json`));
            writeFileSync(path.join(run, 'daemons', `${base}.pid`), `${process.pid}\n`);
          } else {
            writeFileSync(path.join(run, 'daemons', `${base}.json`), '{"argv":["x"],"restarts":1}');
            fifo(path.join(run, 'daemons', `${base}.pid`));
          }
        }
        const state = await nodeState(run, manifests);
        expect(state.files, state.filesError).toBeDefined();
        const { daemons, ...files } = machineFilesFromFacts(state.files as MachineFileFacts);
        expect(files).toEqual(await readMachineFilesNative(run, manifests));
        // A record that is not a JSON object says nothing about argv or restarts, in either reader.
        expect(daemons).toEqual(await readDaemonsNative(run));
      }),
      { numRuns: 60 },
    );
  });

  it('answers as node:fs does while the logs change between reads: appended, rewritten to the same size, replaced, truncated, made a FIFO', async () => {
    const root = path.join(dir, 'changing');
    const [run, manifests] = [path.join(root, 'run'), path.join(root, 'manifests')];
    for (const d of [manifests, `${run}/daemons`, `${run}/logs`]) mkdirSync(d, { recursive: true });
    const logs = ['a', 'b', 'c'].map((n) => path.join(run, 'logs', `${n}.log`));
    for (const log of logs) writeFileSync(log, 'first\n');
    const isFifo = new Set<string>();
    let rewrites = 0;
    const change = fc.tuple(
      fc.nat(logs.length - 1),
      fc.constantFrom('append', 'same-size', 'replace', 'truncate', 'fifo', 'none'),
      fc.string({ minLength: 1, maxLength: 40 }).map((t) => t.replace(/\n/g, ' ')),
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 12 }), async (changes) => {
        for (const [which, how, text, wait] of changes) {
          const log = logs[which] as string;
          // Written in place (the same inode), but a FIFO, which a write would block on: it becomes a file again.
          if (isFifo.has(log)) {
            rmSync(log);
            writeFileSync(log, 'a file again\n');
            isFifo.delete(log);
          }
          if (how === 'append') appendFileSync(log, `${text}\n`);
          else if (how === 'same-size') {
            // Other text of the same length: only the file's time says it changed.
            const size = statSync(log).size;
            writeFileSync(log, size > 0 ? `${String.fromCharCode(97 + (rewrites++ % 26)).repeat(size - 1)}\n` : '');
          } else if (how === 'replace') {
            writeFileSync(`${log}.new`, `${text}\n`);
            renameSync(`${log}.new`, log);
          } else if (how === 'truncate') {
            appendFileSync(log, `${text}\n`);
            truncateSync(log, 3);
          } else if (how === 'fifo') {
            rmSync(log, { force: true });
            fifo(log);
            isFifo.add(log);
          }
          // Some reads come at once, some after the file has been quiet long enough to be kept.
          if (wait) await new Promise((r) => setTimeout(r, 60));
          const state = await nodeState(run, manifests);
          expect(machineFilesFromFacts(state.files as MachineFileFacts).logs).toEqual((await readMachineFilesNative(run, manifests)).logs);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a missing folder is an empty answer, not an error', async () => {
    const state = await nodeState(path.join(dir, 'nowhere/run'), path.join(dir, 'nowhere/manifests'));
    expect(state.files).toEqual({ manifests: [], provisioned: [], logs: {}, daemons: [] });
    // No Docker there either: said, not thrown.
    expect(state.docker).toEqual({ error: expect.stringMatching(/No such file/) });
  });

  it("lists a Docker-like HTTP server's containers whole, or says they are the same while its containers' files are", async () => {
    const socket = path.join(dir, 'docker.sock');
    const data = path.join(dir, 'docker-data');
    mkdirSync(path.join(data, 'containers'), { recursive: true });
    let reply = { status: 200, body: Buffer.from('[]') };
    const requests: string[] = [];
    const server = net.createServer((c) => {
      c.once('data', (d) => {
        requests.push(d.toString().split('\r\n')[0] ?? '');
        // As Go's net/http answers HTTP/1.0: headers, the body, then the connection closes.
        c.end(Buffer.concat([Buffer.from(`HTTP/1.0 ${reply.status} X\r\nContent-Type: application/json\r\n\r\n`), reply.body]));
      });
      c.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(socket, r));
    const ask = (seen?: string) => nodeState(path.join(dir, 'r'), path.join(dir, 'm'), { socket, data, seen }).then((s) => s.docker);
    // What dockerd does to a container's files: config.v2.json written aside and renamed over.
    const checkpoint = (id: string, text: string) => {
      mkdirSync(path.join(data, 'containers', id), { recursive: true });
      writeFileSync(path.join(data, 'containers', id, 'config.v2.json.tmp'), text);
      renameSync(path.join(data, 'containers', id, 'config.v2.json.tmp'), path.join(data, 'containers', id, 'config.v2.json'));
    };
    try {
      // Bodies larger than one pipe message (the agent answers in 48 KiB pieces).
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ Id: fc.stringMatching(/^[0-9a-f]{1,64}$/), Names: fc.array(fc.string()), State: fc.string() }), { maxLength: 3000 }),
          async (list) => {
            reply = { status: 200, body: Buffer.from(JSON.stringify(list)) };
            expect(await ask()).toEqual({ fingerprint: expect.any(String), containers: list });
          },
        ),
        { numRuns: 8 },
      );
      expect(requests.at(-1)).toBe('GET /containers/json?all=1 HTTP/1.0');
      // Any sequence of container changes: "same" exactly while nothing changed since the list the runner holds.
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(fc.constant('none'), fc.constant('add'), fc.constant('rewrite'), fc.constant('remove')), { minLength: 1, maxLength: 8 }),
          async (steps) => {
            let first = await ask();
            if (!('fingerprint' in first)) throw new Error('no list');
            let seen = first.fingerprint ?? undefined;
            let n = 0;
            for (const step of steps) {
              const ids = readdirSync(path.join(data, 'containers'));
              if (step === 'add') checkpoint(`c${Date.now()}${n++}`, '{}');
              else if (step === 'rewrite' && ids[0]) checkpoint(ids[0], `{"State":${n++}}`);
              else if (step === 'remove' && ids[0]) rmSync(path.join(data, 'containers', ids[0]), { recursive: true });
              const changed = step !== 'none' && !(step !== 'add' && !ids[0]);
              const answer = await ask(seen);
              if (changed) {
                expect(answer).toHaveProperty('containers');
                first = answer;
                seen = 'fingerprint' in answer ? (answer.fingerprint ?? undefined) : seen;
              } else expect(answer).toEqual({ same: true });
            }
          },
        ),
        { numRuns: 25 },
      );
      // A fingerprint the agent never gave is never "same".
      expect(await ask('not-a-fingerprint')).toHaveProperty('containers');
      // No containers folder (another Docker layout): listed every time.
      reply = { status: 200, body: Buffer.from('[]') };
      const other = await nodeState(path.join(dir, 'r'), path.join(dir, 'm'), { socket, data: path.join(dir, 'nowhere') });
      expect(other.docker).toEqual({ fingerprint: null, containers: [] });
      reply = { status: 500, body: Buffer.from('{"message":"boom"}') };
      expect(await ask()).toEqual({ error: 'HTTP 500: {"message":"boom"}' });
    } finally {
      server.close();
    }
  });

  it('reads any file whole, and says why it cannot', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200_000 }), async (bytes) => {
        const file = path.join(dir, 'blob');
        writeFileSync(file, bytes);
        expect(Buffer.compare(await agent.readFile(file), Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 15 },
    );
    await expect(agent.readFile(path.join(dir, 'absent'))).rejects.toThrow(/No such file/);
    await expect(agent.readFile(dir)).rejects.toThrow(/Is a directory/);
  });
});

// The Python agent's reads without a process (ops 'read' and 'machinefiles'): what the docker
// target's snapshot reads after every block. They must say exactly what the local target's node:fs
// reads say, for any folder of manifests, pid files, logs and daemon records (generated here).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_LINES, machineFilesFromFacts } from '../../src/runner/state/machine-files.js';
import { readDaemonsNative, readMachineFilesNative } from '../../src/runner/state/machine-files-native.js';
import { AgentClient } from '../../src/runner/targets/agent.js';
import { localAgentArgv } from '../../src/runner/targets/local.js';

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
const tree = fc.record({
  manifests: fc.uniqueArray(fc.tuple(name, fc.uint8Array({ maxLength: 300 })), { selector: ([n]) => n, maxLength: 5 }),
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
        const { daemons, ...files } = machineFilesFromFacts(await agent.machineFiles(run, manifests, LOG_LINES));
        expect(files).toEqual(await readMachineFilesNative(run, manifests));
        // A record that is not a JSON object says nothing about argv or restarts, in either reader.
        expect(daemons).toEqual(await readDaemonsNative(run));
      }),
      { numRuns: 60 },
    );
  });

  it('a missing folder is an empty answer, not an error', async () => {
    const facts = await agent.machineFiles(path.join(dir, 'nowhere/run'), path.join(dir, 'nowhere/manifests'), LOG_LINES);
    expect(facts).toEqual({ manifests: [], provisioned: [], logs: {}, daemons: [] });
  });

  it('asks a Docker-like HTTP server on a Unix socket, returning any body whole, and says why it cannot', async () => {
    const socket = path.join(dir, 'docker.sock');
    let reply = { status: 200, body: Buffer.alloc(0) };
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
    try {
      // Bodies larger than one pipe message (the agent answers in 48 KiB pieces).
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ Id: fc.stringMatching(/^[0-9a-f]{1,64}$/), Names: fc.array(fc.string()), State: fc.string() }), { maxLength: 3000 }),
          async (list) => {
            reply = { status: 200, body: Buffer.from(JSON.stringify(list)) };
            expect(JSON.parse(await agent.dockerGet(socket, '/containers/json?all=1'))).toEqual(list);
          },
        ),
        { numRuns: 8 },
      );
      await fc.assert(
        fc.asyncProperty(fc.json({ maxDepth: 3 }), async (json) => {
          reply = { status: 200, body: Buffer.from(json) };
          expect(JSON.parse(await agent.dockerGet(socket, '/containers/json?all=1'))).toEqual(JSON.parse(json));
        }),
        { numRuns: 30 },
      );
      expect(requests.at(-1)).toBe('GET /containers/json?all=1 HTTP/1.0');
      reply = { status: 500, body: Buffer.from('{"message":"boom"}') };
      await expect(agent.dockerGet(socket, '/containers/json')).rejects.toThrow(/HTTP 500: \{"message":"boom"\}/);
    } finally {
      server.close();
    }
    await expect(agent.dockerGet(path.join(dir, 'no.sock'), '/x')).rejects.toThrow(/No such file/);
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

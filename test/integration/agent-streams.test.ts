// The Python agent's byte streams (op 'open'): what the docker target carries its API-server and
// Docker-socket connections over, since the reader's host cannot reach a node's sockets. Run
// against real sockets on loopback and in a temp folder, with generated payloads and chunkings.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/runner/targets/agent.js';
import { localAgentArgv } from '../../src/runner/targets/local.js';

/** Everything the stream yields until its end. */
function drain(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** A server that answers each connection with what it read, reversed, once the client half-closes. */
function reversingServer(): net.Server {
  return net.createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => socket.end(Buffer.from(Buffer.concat(chunks)).reverse()));
    socket.on('error', () => {});
  });
}

describe.skipIf(!existsSync('/usr/bin/python3'))('the python agent carries byte streams', () => {
  let agent: AgentClient;
  let tcp: net.Server;
  let unix: net.Server;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    agent = new AgentClient(localAgentArgv('python'));
    dir = mkdtempSync(path.join(tmpdir(), 'agent-streams-'));
    tcp = reversingServer();
    unix = reversingServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => unix.listen(path.join(dir, 's.sock'), r));
    port = (tcp.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    agent.close();
    tcp.close();
    unix.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers any bytes, in any chunks, both ways, over TCP and Unix sockets, many at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 70_000 }), { maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        async (chunks, overUnix, parallel) => {
          const sent = Buffer.concat(chunks);
          const one = async () => {
            const stream = await agent.openStream(overUnix ? { path: path.join(dir, 's.sock') } : { host: '127.0.0.1', port });
            const answer = drain(stream);
            for (const chunk of chunks) stream.write(Buffer.from(chunk));
            stream.end();
            return answer;
          };
          const answers = await Promise.all(Array.from({ length: parallel }, one));
          for (const answer of answers) expect(answer.equals(Buffer.from(sent).reverse())).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('says why a connection is refused, and a missing socket file', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(agent.openStream({ host: '127.0.0.1', port: free })).rejects.toThrow('connection refused');
    await expect(agent.openStream({ path: path.join(dir, 'none.sock') })).rejects.toThrow(/No such file/);
  });

  it('ends the stream when the peer closes, and a destroyed stream closes the peer', async () => {
    const peerClosed = new Promise<void>((resolve) => {
      const server = net.createServer((socket) => {
        socket.write('hello');
        socket.on('close', () => {
          server.close();
          resolve();
        });
        socket.on('error', () => {});
      });
      server.listen(path.join(dir, 'hello.sock'));
    });
    await new Promise((r) => setTimeout(r, 50));
    const stream = await agent.openStream({ path: path.join(dir, 'hello.sock') });
    const first = await new Promise<Buffer>((r) => stream.once('data', r));
    expect(first.toString()).toBe('hello');
    stream.destroy();
    await peerClosed;
  });

  it('keeps running commands while streams are open', async () => {
    const stream = await agent.openStream({ host: '127.0.0.1', port });
    const result = await agent.exec('echo still here', { PATH: '/usr/bin:/bin' }, {});
    expect(result.stdout).toBe('still here\n');
    stream.end('abc');
    expect((await drain(stream)).toString()).toBe('cba');
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshTarget } from '../../src/runner/targets/ssh.js';
import { ConnectionRefused } from '../../src/runner/targets/target.js';
import { ends, runAndCollect, writeBook } from '../helpers/book.js';
import { canRunSshd, type Sshd, startSshd } from '../helpers/sshd.js';

const OUT = `/tmp/book-ssh-${process.pid}`;
const RUNTIME = `/run/book-ssh-${process.pid}`;

describe.skipIf(!canRunSshd)('the ssh target against a real OpenSSH server on 127.0.0.1', () => {
  let sshd: Sshd;
  let target: SshTarget;
  let web: http.Server;
  let webPort: number;
  let unixServer: net.Server;
  const socketPath = `/tmp/book-ssh-${process.pid}.sock`;

  beforeAll(async () => {
    sshd = await startSshd();
    target = new SshTarget({
      name: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      key: sshd.key,
      runtimeDir: RUNTIME,
      dockerSocket: socketPath,
      env: { GREETING: "it's me" },
    });
    web = http.createServer((_, res) => res.end('hello through the tunnel'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as net.AddressInfo).port;
    unixServer = net.createServer((s) => s.end('unix says hi'));
    rmSync(socketPath, { force: true });
    await new Promise<void>((r) => unixServer.listen(socketPath, r));
  });

  afterAll(async () => {
    await target?.close();
    try {
      execFileSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
    } catch {}
    await sshd?.stop();
    web?.close();
    unixServer?.close();
    rmSync(OUT, { recursive: true, force: true });
    rmSync(RUNTIME, { recursive: true, force: true });
  });

  it('runs commands as root with the machine environment, and returns exit codes and both streams', async () => {
    const result = await target.exec('echo "$GREETING as $(id -un)"; echo warn >&2; exit 4');
    expect(result).toMatchObject({ stdout: "it's me as root\n", stderr: 'warn\n', exitCode: 4 });
  });

  it('writes files atomically with their mode and reads them back', async () => {
    await target.writeFile(`${OUT}/nested/secret.csv`, 'token,admin,admin\n', 0o600);
    expect(readFileSync(`${OUT}/nested/secret.csv`, 'utf8')).toBe('token,admin,admin\n');
    expect(statSync(`${OUT}/nested/secret.csv`).mode & 0o777).toBe(0o600);
    expect((await target.readFile(`${OUT}/nested/secret.csv`)).toString()).toBe('token,admin,admin\n');
    await expect(target.readFile(`${OUT}/missing`)).rejects.toThrow(/No such file/);
  });

  it('reaches TCP ports and unix sockets on the machine through the connection', async () => {
    const stream = await target.openTcp('127.0.0.1', webPort);
    stream.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toContain('hello through the tunnel');
    const unix = await target.openUnix(socketPath);
    const got: Buffer[] = [];
    for await (const chunk of unix) got.push(chunk as Buffer);
    expect(Buffer.concat(got).toString()).toBe('unix says hi');
    await expect(target.openTcp('127.0.0.1', 1)).rejects.toBeInstanceOf(ConnectionRefused);
  });

  it('kills the remote command when aborted', async () => {
    const controller = new AbortController();
    const marker = `sleep 4${process.pid % 1000}`;
    setTimeout(() => controller.abort(), 300);
    const result = await target.exec(`${marker}`, { signal: controller.signal });
    expect(result.exitCode).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(
      execFileSync('bash', ['-c', `pgrep -f "^${marker}$" || true`])
        .toString()
        .trim(),
    ).toBe('');
  });

  it('runs a whole book: blocks, files, daemons and the same failures as locally', async () => {
    const dir = writeBook({
      'book.yaml': `title: SSH book\ntarget: box\ntargets:\n  box:\n    type: ssh\n    host: 127.0.0.1\n    port: ${sshd.port}\n    user: root\n    key: ${sshd.key}\n    runtimeDir: ${RUNTIME}\n`,
      '01-a.md': `# A

\`\`\`yaml file=${OUT}/pod.yaml
kind: Pod
\`\`\`

\`\`\`ts run name=daemon
const d = await machine.daemon('sleeper', ['sleep', '300'])
assert.ok((await d.status()).running)
assert.equal(await machine.readFile('${OUT}/pod.yaml'), 'kind: Pod\\n')
state.user = String(await $\`id -un\`)
\`\`\`

\`\`\`sh run name=refused fails="exit code 3"
echo nope >&2
exit 3
\`\`\`
`,
    });
    const { exitCode, events, state } = await runAndCollect(dir);
    expect(ends(events).map((e) => [e.block.id, e.status])).toEqual([
      ['01-a#1', 'passed'],
      ['daemon', 'passed'],
      ['refused', 'passed'],
    ]);
    expect(exitCode).toBe(0);
    expect(state.user).toBe('root');
    expect(existsSync(`${RUNTIME}/daemons/sleeper.pid`)).toBe(true);
  });
});

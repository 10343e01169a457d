import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/runner/targets/agent.js';
import { localAgentArgv } from '../../src/runner/targets/local.js';

/** Alive and not a zombie (this host's pid 1 may not reap orphans). */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/status`)) return false;
  return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SHLVL: '1', ONLY_THIS: 'yes' };

// Both agents speak the same protocol and must behave the same; the local target picks Python's
// when the host has /usr/bin/python3 and Node's otherwise. Run here without a namespace.
const agents = [['node', true] as const, ['python', existsSync('/usr/bin/python3')] as const];

for (const [kind, available] of agents) {
  describe.skipIf(!available)(`the ${kind} agent`, () => {
    let agent: AgentClient | undefined;
    const start = () => {
      agent = new AgentClient(localAgentArgv(kind));
      return agent;
    };
    afterEach(() => agent?.close());

    it('runs bash -c with exactly the given environment, streams stdout and stderr, reports the exit code', async () => {
      const a = start();
      const chunks: string[] = [];
      const result = await a.exec('echo "$ONLY_THIS $0 [$HOME]"; echo oops >&2; exit 7', ENV, {
        onStdout: (t) => chunks.push(`o:${t}`),
        onStderr: (t) => chunks.push(`e:${t}`),
      });
      expect(result.exitCode).toBe(7);
      expect(result.signal).toBeNull();
      expect(result.stdout).toBe('yes bash []\n');
      expect(result.stderr).toBe('oops\n');
      expect(chunks.join('')).toContain('o:yes bash []\n');
      expect(chunks.join('')).toContain('e:oops\n');
    });

    it('runs a script the same on every command, whether its bash was started for it or before it', async () => {
      const a = start();
      const script = [
        'trap \'echo "exit trap $?"\' EXIT',
        'echo "$0 $LINENO $SHLVL $- $BASH_SUBSHELL"',
        'env | sort | grep -v "^_=" | tr "\\n" " "; echo',
        'set -o | tr -s " \\t" "=" | tr "\\n" " "; echo',
        'test "$(ps -o pgid= $$ | tr -d " ")" = "$$" && echo "own group"',
        'cat <<EOF',
        'line $LINENO',
        'EOF',
        'exit 5',
      ].join('\n');
      const runs = [];
      for (let i = 0; i < 4; i++) runs.push(await a.exec(script, ENV, {}));
      expect(runs[0]?.exitCode).toBe(5);
      expect(runs[0]?.stdout).toMatch(/^bash 2 2 hBc 0\n/);
      expect(runs[0]?.stdout).toContain('own group\nline 6\nexit trap 5\n');
      for (const run of runs.slice(1))
        expect({ stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode }).toEqual({ stdout: runs[0]?.stdout, stderr: runs[0]?.stderr, exitCode: 5 });
      // Another environment, a NUL byte (no bash can take it: an error, and the agent goes on), a
      // script larger than a pipe's buffer: still right.
      expect((await a.exec('echo "$ONLY_THIS"', { ...ENV, ONLY_THIS: 'other' }, {})).stdout).toBe('other\n');
      const nul = await a.exec('echo a # \0', ENV, {});
      expect(nul.exitCode).toBe(127);
      expect(nul.stderr).toMatch(/null byte/);
      const long = `x=${'y'.repeat(70_000)}; echo \${#x}`;
      expect((await a.exec(long, ENV, {})).stdout).toBe('70000\n');
    });

    it('starts each command with no signal ignored (SIGPIPE ends a writer whose reader left), fresh or waiting', async () => {
      const a = start();
      for (let i = 0; i < 3; i++) {
        const result = await a.exec('yes | head -c 1 >/dev/null; echo "$PIPESTATUS"; grep SigIgn /proc/self/status', ENV, {});
        expect(result.stdout).toBe('141\nSigIgn:\t0000000000000000\n');
      }
    });

    it.skipIf(kind !== 'python')('keeps at most two bash waiting for the next commands, whatever environments they come with', async () => {
      const a = start();
      const agentPid = a.pid() as number;
      const waiting = () => {
        const children = readFileSync(`/proc/${agentPid}/task/${agentPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
        return children.filter((pid) => running(Number(pid))).length;
      };
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 6 }), async (envs) => {
          for (const which of envs) {
            // Some commands overlap (one started while the last is still running) and some are too long for a spare.
            const long = which === 'c' ? `: ${'x'.repeat(70_000)}; ` : '';
            const [first, second] = await Promise.all([
              a.exec(`${long}echo "$ONLY_THIS"`, { ...ENV, ONLY_THIS: which }, {}),
              a.exec('sleep 0.01; echo "$ONLY_THIS"', { ...ENV, ONLY_THIS: which }, {}),
            ]);
            expect([first.stdout, second.stdout]).toEqual([`${which}\n`, `${which}\n`]);
          }
          // Once idle, the agent has started the spares for the last environment, and no more.
          expect(await until(() => waiting() === 2)).toBe(true);
          await new Promise((r) => setTimeout(r, 50));
          expect(waiting()).toBe(2);
        }),
        { numRuns: 8 },
      );
    });

    it('starts a command as a fresh bash would be: $SECONDS from its start, the host name of now', async () => {
      const a = start();
      await a.exec('true', ENV, {});
      // A waiting bash is a second old by now.
      await new Promise((r) => setTimeout(r, 1200));
      for (let i = 0; i < 3; i++) expect((await a.exec('echo "$SECONDS $HOSTNAME"', ENV, {})).stdout).toBe(`0 ${hostname()}\n`);
      expect((await a.exec('echo "$HOSTNAME"', { ...ENV, HOSTNAME: 'given' }, {})).stdout).toBe('given\n');
    });

    it('gives a command none of the fds the agent inherited', async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'agent-fd-')), 'held');
      writeFileSync(file, 'a parent holds this');
      const held = openSync(file, 'r');
      const argv = localAgentArgv(kind);
      // As a parent that leaves an fd open would start it (a make jobserver, a pipe it waits on).
      agent = new AgentClient(() => {
        const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'inherit', held] });
        return {
          stdin: child.stdin as Writable,
          stdout: child.stdout as Readable,
          pid: child.pid,
          onClose: (callback) => child.on('close', callback),
          ref: () => {},
          unref: () => child.unref(),
        };
      });
      closeSync(held);
      for (let i = 0; i < 3; i++)
        expect((await agent.exec('if { : <&3; } 2>/dev/null; then echo open; else echo closed; fi', ENV, {})).stdout).toBe('closed\n');
    });

    it('passes stdin, keeps binary output intact and handles output larger than a pipe', async () => {
      const a = start();
      const piped = await a.exec('tr a-z A-Z', ENV, { stdin: 'hello agent' });
      expect(piped.stdout).toBe('HELLO AGENT');
      const big = await a.exec('head -c 3000000 /dev/zero | tr "\\0" x; printf "\\0\\001\\377"', ENV, {});
      expect(big.exitCode).toBe(0);
      expect(big.stdoutBuffer.length).toBe(3_000_003);
      expect([...big.stdoutBuffer.subarray(-3)]).toEqual([0, 1, 255]);
      const bigIn = 'y'.repeat(500_000);
      const counted = await a.exec('wc -c', ENV, { stdin: bigIn });
      expect(counted.stdout.trim()).toBe('500000');
    });

    it.skipIf(kind !== 'python')('answers a command whose reading after it fails, and says why the reading failed', async () => {
      const a = start();
      // An ask the agent cannot read (no Docker data root at all): the command's exit still comes.
      const after = {
        runtime: '/nonexistent/run',
        manifests: '/nonexistent/manifests',
        lines: 3,
        socket: '/nonexistent/docker.sock',
        dockerData: null as unknown as string,
      };
      const { answer, reading } = a.execWithReading('echo hi', ENV, {}, after);
      expect((await answer).stdout).toBe('hi\n');
      await expect(reading).rejects.toThrow(/reading the node failed/);
      // And the agent goes on.
      expect((await a.exec('echo again', ENV, {})).stdout).toBe('again\n');
    });

    it.skipIf(kind !== 'python')('names a real-time signal that ended a command, and goes on', async () => {
      const a = start();
      const result = await a.exec('kill -s RTMIN+1 $$', ENV, {});
      expect(result).toMatchObject({ exitCode: null, signal: 'SIG35' });
      expect((await a.exec('echo on', ENV, {})).stdout).toBe('on\n');
    });

    it('runs commands concurrently and answers each by its own id', async () => {
      const a = start();
      const [slow, fast] = await Promise.all([a.exec('sleep 0.3; echo slow', ENV, {}), a.exec('echo fast', ENV, {})]);
      expect(slow.stdout).toBe('slow\n');
      expect(fast.stdout).toBe('fast\n');
      expect(fast.durationMs).toBeLessThan(slow.durationMs);
    });

    it('reports a command that closes its pipes when it exits, not before', async () => {
      const a = start();
      const result = await a.exec('exec >&- 2>&-; sleep 0.3; exit 4', ENV, {});
      expect(result.exitCode).toBe(4);
      expect(result.durationMs).toBeGreaterThanOrEqual(250);
    });

    it('kills the whole process group of a command on abort, and reports the signal', async () => {
      const a = start();
      const controller = new AbortController();
      const pids: number[] = [];
      const done = a.exec('sleep 30 & echo $!; sleep 30', ENV, {
        signal: controller.signal,
        onStdout: (t) => pids.push(Number(t.trim())),
      });
      expect(await until(() => pids.length > 0)).toBe(true);
      controller.abort();
      const result = await done;
      expect(result.exitCode).toBeNull();
      expect(result.signal).toBe('SIGKILL');
      expect(await until(() => !running(pids[0] as number))).toBe(true);
    });

    it('relays TCP through a private Unix socket: C then the bytes, or R and the reason for a refusal', async () => {
      const a = start();
      const dir = mkdtempSync(path.join(tmpdir(), 'book-agent-test-'));
      const echo = net.createServer((s) => s.pipe(s));
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
      const port = (echo.address() as net.AddressInfo).port;
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const refusedPort = (closed.address() as net.AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const talk = (socketPath: string, text: string) =>
        new Promise<string>((resolve, reject) => {
          const client = net.connect(socketPath);
          let got = '';
          client.on('data', (d) => {
            got += d;
            if (got.length >= 1 + text.length || got.startsWith('R')) client.end();
          });
          client.on('connect', () => client.write(text));
          client.on('close', () => resolve(got));
          client.on('error', reject);
        });
      try {
        await a.relay(path.join(dir, 'echo.sock'), '127.0.0.1', port);
        expect(statSync(path.join(dir, 'echo.sock')).mode & 0o777).toBe(0o600);
        const answers = await Promise.all([talk(path.join(dir, 'echo.sock'), 'ping'), talk(path.join(dir, 'echo.sock'), 'x'.repeat(200_000))]);
        expect(answers[0]).toBe('Cping');
        expect(answers[1]).toBe(`C${'x'.repeat(200_000)}`);
        await a.relay(path.join(dir, 'refused.sock'), '127.0.0.1', refusedPort);
        expect(await talk(path.join(dir, 'refused.sock'), 'hello')).toBe('Rconnection refused');
        await expect(a.relay(path.join(dir, 'missing', 'x.sock'), '127.0.0.1', port)).rejects.toThrow(/cannot relay to 127\.0\.0\.1/);
      } finally {
        echo.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('kills what is still running when the runner closes it', async () => {
      const a = start();
      const pids: number[] = [];
      void a.exec('sleep 30 & echo $!; wait', ENV, { onStdout: (t) => pids.push(Number(t.trim())) });
      expect(await until(() => pids.length > 0)).toBe(true);
      a.close();
      expect(await until(() => !running(pids[0] as number))).toBe(true);
    });
  });
}

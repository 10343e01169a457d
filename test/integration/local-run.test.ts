import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ends, localTargetYaml, runAndCollect, writeBook } from '../helpers/book.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';

/** Alive and not a zombie (this host's pid 1 may not reap orphans). */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/status`)) return false;
  return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-it-${process.pid}`;
const RUNTIME = `/run/book-it-${process.pid}`;
const OUT = `/tmp/book-it-${process.pid}`;

describe.skipIf(!canUseNetns)('running a book on the local target (real namespace)', () => {
  let ns: ReturnType<typeof createNetns>;
  beforeAll(() => {
    ns = createNetns(NETNS);
  });
  afterAll(() => {
    // Daemons the tests started run in their own session: stop them like `book machine down` does.
    try {
      execFileSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
    } catch {}
    ns.remove();
    rmSync(RUNTIME, { recursive: true, force: true });
    rmSync(OUT, { recursive: true, force: true });
  });

  const yaml = () => localTargetYaml(NETNS, RUNTIME);

  it('runs ts, sh and file blocks in order, inside the sealed namespace, sharing declarations and state', async () => {
    const dir = writeBook({
      'book.yaml': yaml(),
      '01-first.md': `# First

\`\`\`ts run name=declare
const greeting = 'hello'
function shout(s: string): string { return s.toUpperCase() }
const { a, b: [c] } = { a: 1, b: [2] }
state.fromChapterOne = shout(greeting) + a + c
\`\`\`

\`\`\`yaml file=${OUT}/written.yaml mode=0600
kind: Pod
\`\`\`

\`\`\`sh run name=routes
ip route show
ip -o link show | awk -F': ' '{print $2}'
\`\`\`

\`\`\`ts run name=use
assert.equal(shout(greeting), 'HELLO')
const routes = await $\`ip route show\`
assert.equal(routes.stdout, '', 'the namespace has no route off the box')
const quoted = await $\`printf '%s|' ${'${'}['a b', "it's", '$HOME']}\`
assert.equal(String(quoted), "a b|it's|$HOME|")
\`\`\`
`,
      '02-second.md': `# Second

\`\`\`ts run
assert.equal(state.fromChapterOne, 'HELLO12')
assert.equal(typeof (globalThis as Record<string, unknown>).greeting, 'undefined', 'chapter scope does not leak into the host')
let threw = false
try { greeting } catch { threw = true }
assert.ok(threw, 'declarations are per chapter')
\`\`\`
`,
    });
    const { exitCode, events, state } = await runAndCollect(dir);
    const failures = ends(events)
      .filter((e) => e.failure)
      .map((e) => e.failure);
    expect(failures).toEqual([]);
    expect(exitCode).toBe(0);
    expect(state.fromChapterOne).toBe('HELLO12');
    expect(readFileSync(`${OUT}/written.yaml`, 'utf8')).toBe('kind: Pod\n');
    expect(statSync(`${OUT}/written.yaml`).mode & 0o777).toBe(0o600);
    const routeOutput = events
      .filter((e) => e.type === 'block:output' && e.block.id === 'routes')
      .map((e) => (e as { text: string }).text)
      .join('');
    expect(routeOutput.trim()).toBe('lo');
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the test is about ${state.NAME} placeholders in book text
  it('writes ${state.NAME} into a file block from what an earlier block found, and fails naming it when the run does not hold it', async () => {
    const dir = writeBook({
      'book.yaml': yaml(),
      '01-find.md': `# Find\n\n\`\`\`ts run\nstate.found = String(await $\`ip -o link show lo\`).split(':')[1]?.trim()\nstate.port = 6443\n\`\`\`\n`,
      '02-write.md': `# Write\n\n\`\`\`text file=${OUT}/from-state.txt name=write\ncard=\${state.found} port=\${state.port} shell=\${HOME}\n\`\`\`\n`,
    });
    const run = await runAndCollect(dir);
    expect(ends(run.events).map((e) => e.failure)).toEqual([undefined, undefined]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a file block's text, placeholders and all
    expect(readFileSync(`${OUT}/from-state.txt`, 'utf8')).toBe('card=lo port=6443 shell=${HOME}\n');
    // Resumed at chapter 2 with a state that lacks the value (a checkpoint of an older book).
    rmSync(`${OUT}/from-state.txt`);
    const resumed = await runAndCollect(dir, { from: '02-write', state: { port: 6443 } });
    const failed = ends(resumed.events).find((e) => e.block.id === 'write');
    expect(resumed.exitCode).not.toBe(0);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a file block's text, placeholders and all
    expect(failed?.failure?.message).toContain('${state.found}: state.found is not set');
    expect(existsSync(`${OUT}/from-state.txt`)).toBe(false);
  });

  it('maps failures to the .md line: a failed assert, a failed $ call, a failed sh line', async () => {
    const dir = writeBook({
      'book.yaml': yaml(),
      '01-a.md': '# A\n\n```ts run\nconst x = 1\n\nassert.equal(x, 2)\n```\n',
      '02-b.md': '# B\n\n```ts run\nconst ok = 1\nawait $`true`\nawait $`echo oops >&2; exit 3`\n```\n',
      '03-c.md': '# C\n\n```sh run\ntrue\necho before\nfalse\necho never\n```\n',
    });
    const a = ends((await runAndCollect(dir, { only: '1' })).events)[0];
    expect(a?.failure).toMatchObject({ line: 6, message: expect.stringContaining('Expected values to be strictly equal') });
    const b = ends((await runAndCollect(dir, { only: '2' })).events)[0];
    expect(b?.failure).toMatchObject({ line: 6, exitCode: 3, stderrTail: 'oops' });
    expect(b?.failure?.message).toContain('failed with exit code 3: echo oops >&2; exit 3');
    const c = await runAndCollect(dir, { only: '3' });
    expect(ends(c.events)[0]?.failure).toMatchObject({ line: 6, exitCode: 1 });
    expect(c.exitCode).toBe(1);
  });

  it('honours fails=, retries= and timeout=, and skips what follows a failure', async () => {
    const dir = writeBook({
      'book.yaml': yaml(),
      '01-a.md': `# A

\`\`\`sh run name=expected fails="connection refused"
curl -sS --max-time 2 http://127.0.0.1:6443/ || { echo "connection refused" >&2; exit 7; }
\`\`\`

\`\`\`sh run name=flaky retries=2
n=$(cat ${OUT}/count 2>/dev/null || echo 0); mkdir -p ${OUT}; echo $((n+1)) > ${OUT}/count
[ "$n" -ge 2 ]
\`\`\`

\`\`\`sh run name=slow timeout=1s
sleep 30
\`\`\`

\`\`\`sh run name=after
true
\`\`\`
`,
      '02-b.md': '# B\n\n```sh run name=unexpected fails="some other text"\nexit 1\n```\n',
    });
    rmSync(`${OUT}/count`, { force: true });
    const t0 = performance.now();
    const { events, exitCode } = await runAndCollect(dir);
    const byId = Object.fromEntries(ends(events).map((e) => [e.block.id, e]));
    expect(byId.expected).toMatchObject({ status: 'passed', expectedFailure: expect.stringContaining('exit code 7') });
    expect(byId.flaky).toMatchObject({ status: 'passed', attempts: 3 });
    expect(byId.slow).toMatchObject({ status: 'failed', failure: { message: expect.stringContaining('timed out after 1s') } });
    expect(byId.after?.status).toBe('skipped');
    expect(byId.unexpected?.status).toBe('skipped');
    expect(exitCode).toBe(1);
    // The timed-out sleep was killed with its process group, not left behind.
    expect(execFileSync('bash', ['-c', 'pgrep -f "^sleep 30$" || true']).toString().trim()).toBe('');
    expect(performance.now() - t0).toBeLessThan(25_000);

    const wrong = writeBook({ 'book.yaml': yaml(), '01-b.md': '# B\n\n```sh run fails="some other text"\necho different >&2; exit 1\n```\n' });
    const w = ends((await runAndCollect(wrong)).events)[0];
    expect(w?.failure?.message).toMatch(/must fail with "some other text", but it failed with/);
    const passes = writeBook({ 'book.yaml': yaml(), '01-b.md': '# B\n\n```sh run fails\ntrue\n```\n' });
    expect(ends((await runAndCollect(passes)).events)[0]?.failure?.message).toBe('this block must fail, but it succeeded');
  });

  it('keeps daemons running after the run and finds them again in a later run', async () => {
    const dir = writeBook({
      'book.yaml': yaml(),
      '01-a.md': `# A

\`\`\`ts run name=start
const d = await machine.daemon('sleeper', ['sleep', '1000'])
const s = await d.status()
assert.ok(s.running)
state.pid = s.pid
\`\`\`
`,
      '02-b.md': `# B

\`\`\`ts run name=again
const d = await machine.daemon('sleeper', ['sleep', '1000'])
const s = await d.status()
assert.equal(s.pid, state.pid, 'the same process was adopted')
await d.restart(['sleep', '2000'])
const r = await d.status()
assert.notEqual(r.pid, state.pid)
assert.equal(r.restarts, 1)
assert.deepEqual(r.argv, ['sleep', '2000'])
state.pid2 = r.pid
\`\`\`
`,
    });
    const first = await runAndCollect(dir, { only: '1' });
    expect(first.exitCode).toBe(0);
    const pid = first.state.pid as number;
    // The runner is done; the daemon lives on, in its own session (Ctrl-C never reaches it).
    expect(running(pid)).toBe(true);
    expect(
      Number(
        execFileSync('ps', ['-o', 'sid=', '-p', String(pid)])
          .toString()
          .trim(),
      ),
    ).toBe(pid);
    const second = await runAndCollect(dir, { only: '2', state: first.state });
    expect(ends(second.events).map((e) => e.failure)).toEqual([undefined]);
    expect(second.events.filter((e) => e.type === 'daemon').map((e) => (e as { action: string }).action)).toEqual(['adopted', 'restarted']);
    expect(running(pid)).toBe(false);
    const stop = writeBook({
      'book.yaml': yaml(),
      '01-a.md':
        "# A\n\n```ts run\nconst d = await machine.daemon('sleeper', ['sleep', '2000'])\nawait d.stop()\nassert.equal((await d.status()).running, false)\n```\n",
    });
    expect((await runAndCollect(stop)).exitCode).toBe(0);
    expect(running(second.state.pid2 as number)).toBe(false);
  });

  it('gives a clear error, not a hang, while there is no API server', async () => {
    const kubeconfig = `${OUT}/kubeconfig`;
    const dir = writeBook({
      'book.yaml': `${yaml()}kubeconfig: ${kubeconfig}\n`,
      '01-a.md': `# A

\`\`\`ts run name=no-kubeconfig fails="no kubeconfig at ${kubeconfig}"
await k8s.core.listNode()
\`\`\`

\`\`\`yaml file=${kubeconfig} mode=0600
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: not-a-real-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
\`\`\`

\`\`\`ts run name=refused fails="connection refused" timeout=10s
await k8s.core.listNode()
\`\`\`
`,
    });
    const { events } = await runAndCollect(dir);
    const byId = Object.fromEntries(ends(events).map((e) => [e.block.id, e]));
    expect(byId['no-kubeconfig']?.status).toBe('passed');
    expect(byId.refused).toMatchObject({
      status: 'passed',
      expectedFailure: expect.stringContaining('https://127.0.0.1:6443 on the machine is not reachable'),
    });
    expect(byId.refused?.durationMs).toBeLessThan(10_000);
  });

  it('stops the running block on interrupt and reports it', async () => {
    const dir = writeBook({ 'book.yaml': yaml(), '01-a.md': '# A\n\n```sh run name=long\nsleep 20\n```\n\n```sh run name=next\ntrue\n```\n' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { exitCode, events } = await runAndCollect(dir, { signal: controller.signal });
    expect(exitCode).toBe(130);
    expect(ends(events).map((e) => [e.block.id, e.status])).toEqual([
      ['long', 'failed'],
      ['next', 'skipped'],
    ]);
  });

  it('book machine shell -- CMD ARGS keeps each argument one word; one argument is a command line', () => {
    const dir = writeBook({ 'book.yaml': yaml(), '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
    const shell = (...command: string[]) =>
      execFileSync(process.execPath, [BIN, 'machine', 'shell', '--book', dir, '--', ...command], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(shell('printf', '%s|', 'a b', '{{.ID}} {{.Names}}', "it's", '$HOME')).toBe("a b|{{.ID}} {{.Names}}|it's|$HOME|");
    // Inside the machine: its namespace has no route, whatever this host has.
    expect(shell('ip route show | wc -l').trim()).toBe('0');
  });
});

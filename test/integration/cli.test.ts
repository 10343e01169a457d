import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';
import { bookCommand, RUNTIMES } from '../helpers/runtimes.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-cli-${process.pid}`;
const RUNTIME = `/run/book-cli-${process.pid}`;
const MARK = `/tmp/book-cli-${process.pid}`;

function book(args: string[], cwd?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Times and temp paths change between runs; the rest of the output must not. */
function normalise(text: string, dir: string): string {
  return (
    text
      // The relative path first: it may contain the absolute one's tail.
      .replaceAll(path.relative(process.cwd(), dir), '<book>')
      .replaceAll(path.dirname(dir), '<root>')
      .replace(/\(\d+(\.\d+)?(ms|s)\)/g, '(<time>)')
      .replace(/\d+m\d+s/g, '<time>')
      .replace(/pid \d+/g, 'pid <pid>')
  );
}

describe('the book CLI, spawned end to end', () => {
  it('lists chapters and blocks as text and JSON', () => {
    const dir = writeBook({
      '01-kubelet.md': '# Kubelet alone\n\n```sh run name=a\ntrue\n```\n',
      '02-api.md': '# The API server\n\n```yaml file=/x.yaml\na: 1\n```\n',
    });
    const text = book(['list', '--book', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      'Build a Minikube\n 1  01-kubelet                   Kubelet alone  (1 block)\n 2  02-api                       The API server  (1 block)\n',
    );
    const json = JSON.parse(book(['list', '--book', dir, '--json']).stdout);
    expect(json.chapters.map((c: { id: string; blocks: { kind: string }[] }) => [c.id, c.blocks.map((b) => b.kind)])).toEqual([
      ['01-kubelet', ['sh']],
      ['02-api', ['file']],
    ]);
  });

  it('refuses a bad book with exit 2, every file:line and what to write, before touching the machine', () => {
    const dir = writeBook({
      '01-a.md': `# A\n\n\`\`\`sh run\ntouch ${MARK}\n\`\`\`\n\n\`\`\`ts run timout=5s\nawait $\`true\`\n\`\`\`\n`,
      '02-b.md': '# B\n\n```ts run\nconst x = (\n```\n\n```yaml run\na: 1\n```\n',
    });
    const result = book(['run', '--book', dir, '--target', 'nowhere']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^book: \[BOOK_INVALID\] the book has 2 problem\(s\); nothing was run:/);
    const rel = path.relative(process.cwd(), dir);
    expect(result.stderr).toContain(`${rel}/01-a.md:7: unknown attribute "timout="\n  → did you mean timeout=?`);
    expect(result.stderr).toContain(`${rel}/02-b.md:7: "yaml" blocks cannot run`);
    expect(existsSync(MARK)).toBe(false);
    expect(book(['run', '--book', writeBook({ '01-a.md': '# A\n\n```ts run\nconst x = (\n```\n' })]).stderr).toMatch(/01-a\.md:5: TypeScript does not parse/);
    // Each with its code (docs/errors.md), and no stack trace.
    const good = writeBook({ '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
    for (const args of [['run', '--book', good, '--from', '9'], ['frobnicate'], ['run', '--reporter', 'fancy'], ['run', '--frob']]) {
      const refused = book(args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toMatch(/^book: \[ARGUMENTS_INVALID\] /);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 3 with what to do when the machine is not up', () => {
    const dir = writeBook({ 'book.yaml': localTargetYaml('book-cli-missing', RUNTIME), '01-a.md': '# A\n\n```sh run\ntrue\n```\n' });
    const result = book(['run', '--book', dir]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^book: \[MACHINE_UNREACHABLE\] /);
    expect(result.stderr).toContain('the local machine is not up');
    expect(result.stderr).toContain('book machine up --target t');
  });

  describe.skipIf(!canUseNetns)('on a real local machine', () => {
    let ns: ReturnType<typeof createNetns>;
    beforeAll(() => {
      ns = createNetns(NETNS);
    });
    afterAll(() => {
      spawnSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
      ns.remove();
      rmSync(RUNTIME, { recursive: true, force: true });
    });

    it('runs with the plain reporter, writes JUnit, and emits JSON lines', () => {
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-first.md':
          '# First\n\n```sh run name=hello\necho hello\n```\n\n```ts run name=check\nconst out = await $`echo $((6 * 7))`\nassert.equal(String(out), "42")\n```\n',
        '02-second.md': '# Second\n\n```sh run name=boom\necho bad >&2\nexit 5\n```\n\n```sh run name=never\ntrue\n```\n',
      });
      const junit = `${dir}/../out/junit.xml`;
      const result = book(['run', '--book', dir, '--junit', junit]);
      expect(result.code).toBe(1);
      // What the machine says depends on this host (is an API server's kubeconfig here?): its
      // sections are there, and left out of the snapshot. test/integration/diagnostics.test.ts reads them.
      const diagnostics = /\n {2}✗ boom failed; what the machine says \(.*\):\n(?: {4}.*\n)+/.exec(result.stdout)?.[0] ?? '';
      expect(diagnostics).toMatch(/── Events\n {7}not available: /);
      expect(diagnostics).toMatch(/── containers on k8s-master \(docker ps -a\)\n {7}not available: connect ENOENT/);
      expect(normalise(result.stdout.replace(diagnostics, '\n'), dir)).toMatchInlineSnapshot(`
        "Test book — 2 chapter(s) on target t

        ▶ 01-first  First
          … hello (<book>/01-first.md:3)
            │ hello
          ✓ hello (<time>)
          … check (<book>/01-first.md:7)
            $ echo $((6 * 7))
              ↳ 42
          ✓ check (<time>)
          ⚑ checkpoint 01-first → <root>/.book/checkpoints/t/01-first.json
          ✓ 01-first passed (<time>)

        ▶ 02-second  Second
          … boom (<book>/02-second.md:3)
            │ bad
          ✗ boom (<time>)
            <book>/02-second.md:5: [COMMAND_FAILED] command failed with exit code 5: exit 5
            bad
            exit code 5
          - never (skipped)
          ✗ 02-second failed (<time>)

        2 passed, 1 failed, 1 skipped (<time>)
        "
      `);
      const xml = readFileSync(junit, 'utf8');
      expect(xml.match(/<testsuite /g)).toHaveLength(2);
      expect(xml).toContain('<testcase classname="02-second" name="boom"');
      expect(xml).toMatch(/<failure type="COMMAND_FAILED" message="[^"]*02-second.md:5: command failed with exit code 5/);
      expect(xml).toContain('<testcase classname="02-second" name="never"');
      const json = book(['run', '--book', dir, '--reporter', 'json', '--only', '1']);
      const events = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['run:start', 'chapter:start', 'block:start', 'block:output', 'block:end', 'chapter:end', 'run:end']),
      );
      expect(events.at(-1)).toMatchObject({ type: 'run:end', status: 'passed', exitCode: 0, passed: 2 });
    });

    it('prints GitHub Actions groups and error annotations when GITHUB_ACTIONS is set', () => {
      const dir = writeBook({ 'book.yaml': localTargetYaml(NETNS, RUNTIME), '01-a.md': '# A\n\n```sh run\nfalse\n```\n' });
      const result = spawnSync(process.execPath, [BIN, 'run', '--book', dir], {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true', GITHUB_ACTIONS: 'true' },
      });
      expect(result.stdout).toContain('::group::01-a A');
      expect(result.stdout).toMatch(/::error file=.*01-a\.md,line=4::\[COMMAND_FAILED\] command failed with exit code 1/);
      expect(result.stdout).toContain('::endgroup::');
    });

    it.each(RUNTIMES)('Ctrl-C stops the running block, leaves daemons running, exits 130 (%s)', async (runtime) => {
      const dir = writeBook({
        'book.yaml': localTargetYaml(NETNS, RUNTIME),
        '01-a.md':
          "# A\n\n```ts run name=start\nconst d = await machine.daemon('keeper', ['sleep', '600'])\nstate.pid = (await d.status()).pid\nconsole.log('daemon pid', state.pid)\n```\n\n```sh run name=long\nsleep 987\n```\n",
      });
      const command = bookCommand(runtime, ['run', '--book', dir]);
      const child = spawn(command.file, command.args, { env: { ...process.env, ...command.env, CI: 'true' } });
      let stdout = '';
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('… long')) resolve();
        });
      });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stdout).toContain('interrupted');
      const pid = Number(/daemon pid (\d+)/.exec(stdout)?.[1]);
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/State:\s*S/);
      // The block's command is killed (the runner waits for that, bounded; under load it may land just after).
      const sleeping = () => spawnSync('bash', ['-c', 'pgrep -f "^sleep 987$" || true'], { encoding: 'utf8' }).stdout.trim();
      for (let i = 0; i < 50 && sleeping() !== ''; i++) await new Promise((r) => setTimeout(r, 100));
      expect(sleeping()).toBe('');
    });
  });
});

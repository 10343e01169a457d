import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, createNetns } from '../helpers/netns.js';
import { hasTmux, stopTerminals, Terminal } from '../helpers/terminal.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-tui-${process.pid}`;
const RUNTIME = `/run/book-tui-${process.pid}`;
const book = (args: string[]) => `${process.execPath} ${BIN} ${args.join(' ')}`;

describe.skipIf(!canUseNetns || !hasTmux)('the Ink UI in a real terminal', () => {
  let ns: ReturnType<typeof createNetns>;
  const terminals: Terminal[] = [];
  beforeAll(() => {
    ns = createNetns(NETNS);
  });
  afterAll(() => {
    for (const t of terminals) t.close();
    stopTerminals();
    try {
      execFileSync('bash', ['-c', `for p in ${RUNTIME}/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true`]);
    } catch {}
    ns.remove();
    rmSync(RUNTIME, { recursive: true, force: true });
  });

  it('--step: Enter runs, s skips, q quits (exit 130); diffs and daemons show; the terminal is restored', async () => {
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-first.md': `# First steps

The sleeper is a **daemon**: it outlives the block that started it, as the kubelet will.

\`\`\`ts run name=start-sleeper
await machine.daemon('sleeper', ['bash', '-c', 'echo sleeper says hi; exec sleep 1000'])
\`\`\`

\`\`\`sh run name=skipped-one
echo this never runs
\`\`\`

\`\`\`sh run name=hello
echo "hello from the machine"
\`\`\`
`,
      '02-second.md': '# Second\n\n```sh run name=later\ntrue\n```\n',
    });
    const term = new Terminal(book(['run', '--book', dir, '--step']));
    terminals.push(term);
    const first = await term.waitFor(/next: start-sleeper \(.*01-first\.md:5\) — \[Enter\] run · \[s\] skip · \[q\] quit/);
    // Reading mode: the chapter's prose and the block's code, before the block runs.
    expect(first).toMatch(
      /First steps\n\s+=+\n\n\s+The sleeper is a daemon: it outlives the block that started it, as the kubelet will\.\n\n\s+6 │ await machine\.daemon\('sleeper'/,
    );
    expect(first).not.toMatch(/✓ start-sleeper/);
    expect(term.screen()).toMatch(/▶ 01-first +First steps/);
    expect(term.screen()).toMatch(/○ 02-second +Second/);
    term.keys('Enter');
    const afterStart = await term.waitFor(/next: skipped-one/);
    expect(afterStart).toMatch(
      /✓ start-sleeper \(.*\) .*01-first\.md:5\n\s+│ ⚙ daemon sleeper started\n\s+\+ daemon sleeper {2}state=running restarts=0\n\s+1 to add, 0 to change, 0 to remove/,
    );
    expect(afterStart).toMatch(/daemons\n\s+● sleeper\s+running\s+restarts 0 │ sleeper says hi/);
    term.keys('s');
    await term.waitFor(/next: hello/);
    term.keys('Enter');
    const afterHello = await term.waitFor(/next: later/);
    expect(afterHello).toMatch(/- skipped-one \(skipped\)/);
    expect(afterHello).toMatch(/✓ hello \(/);
    term.keys('q');
    const end = await term.waitFor(/EXIT=\d+/);
    expect(end).toMatch(/EXIT=130/);
    expect(end).toMatch(/- later \(skipped\)/);
    expect(end).toMatch(/2 passed, 0 failed, 2 skipped .* — interrupted/);
    // After the run, what a block printed is still on the screen, under its result line.
    expect(end).toMatch(/✓ hello \(.*\n\s+│ hello from the machine/);
    // the live part is gone: no prompt left on the screen
    expect(end.slice(end.indexOf('interrupted'))).not.toMatch(/\[Enter\] run/);
    await term.waitFor(/EXIT=130[\s\S]*$/);
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(path.join(term.dir, 'stty.after'), 'utf8')).toBe(readFileSync(path.join(term.dir, 'stty.before'), 'utf8'));
  });

  it('after a failure r retries the block; Ctrl-C stops a running block (exit 130), terminal restored', async () => {
    const mark = path.join(RUNTIME, 'attempts');
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md': `# Failing

\`\`\`sh run name=second-time-lucky
mkdir -p ${RUNTIME}; echo x >> ${mark}
[ "$(wc -l < ${mark})" -ge 2 ] || { echo "not yet" >&2; exit 4; }
\`\`\`

\`\`\`sh run name=slow
echo sleeping; sleep 73
\`\`\`
`,
    });
    rmSync(mark, { force: true });
    const term = new Terminal(book(['run', '--book', dir]));
    terminals.push(term);
    const failed = await term.waitFor(/\[r\] retry the block · \[q\] quit/);
    expect(failed).toMatch(/✗ second-time-lucky failed at .*01-a\.md:5: .*exit code 4/);
    // What the machine says comes before the question: here, that there is no Docker daemon.
    expect(failed).toMatch(
      /✗ second-time-lucky failed; what the machine says:\n\s+── Events\n[\s\S]*── containers on k8s-master \(docker ps -a\)\n\s+not available: /,
    );
    term.keys('r');
    const sleeping = await term.waitFor(/▶ slow .*01-a\.md:8[\s\S]*│ sleeping/);
    expect(sleeping).toMatch(/✓ second-time-lucky \(.*\) after 2 attempts/);
    term.keys('C-c');
    const end = await term.waitFor(/EXIT=\d+/);
    expect(end).toMatch(/EXIT=130/);
    expect(end).toMatch(/✗ slow .*\n.*interrupted \(Ctrl-C\)/);
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(path.join(term.dir, 'stty.after'), 'utf8')).toBe(readFileSync(path.join(term.dir, 'stty.before'), 'utf8'));
    // the block's process group was killed (sleep 73 is this test's own)
    await vi.waitFor(() => expect(execFileSync('bash', ['-c', 'pgrep -f "^sleep 73$" || true'], { encoding: 'utf8' }).trim()).toBe(''), { timeout: 10_000 });
  });

  it('shows no secret: a failed command holding a token is blanked in its output, its failure line and the retry question', async () => {
    const secret = `${'Zq8vN3pL0wX7rT2m'}${'K9sB4dF6hJ1cY5eG'}`;
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md': `# Secret

\`\`\`ts run name=keep-a-token
await machine.writeFile('${RUNTIME}/token', '${secret}\\n', { mode: 0o600 })
\`\`\`

\`\`\`ts run name=refused
const token = String(await machine.readFile('${RUNTIME}/token')).trim()
await $\`sh -c \${'echo "denied for $0"; exit 4'} \${token}\`
\`\`\`
`,
    });
    const term = new Terminal(book(['run', '--book', dir]));
    terminals.push(term);
    const failed = await term.waitFor(/\[r\] retry the block · \[q\] quit/);
    expect(failed).toMatch(/✗ refused failed at .*01-a\.md:\d+: command failed with exit code 4/);
    expect(failed).toMatch(/\$ sh -c 'echo "denied for \$0"; exit 4' «redacted»/);
    expect(failed).toMatch(/denied for «redacted»/);
    expect(failed).not.toContain(secret.slice(0, 16));
    term.keys('q');
    const end = await term.waitFor(/EXIT=\d+/);
    expect(end).not.toContain(secret.slice(0, 16));
  });
});

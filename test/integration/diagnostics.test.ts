import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ends, localTargetYaml, runAndCollect, writeBook } from '../helpers/book.js';
import { canUseNetns, testMachine } from '../helpers/netns.js';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'book.js');
const NETNS = `book-diag-${process.pid}`;
const RUNTIME = `/run/book-diag-${process.pid}`;

function book(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: 'true' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// A daemon that logs an error the way the kubelet does (klog, this second), then a block that
// names it and fails: the failure's diagnostics must carry that line, in every report.
const CHAPTER = `# A grumpy daemon

\`\`\`ts run name=start-grumpy
await machine.daemon('grumpy', ['bash', '-c', 'echo "E$(date -u +%m%d\\\\ %H:%M:%S.000000)   42 grumpy.go:7] cannot open /etc/grumpy/happy.conf"; echo "I$(date -u +%m%d\\\\ %H:%M:%S.000000)   42 grumpy.go:9] just chatting"; exec sleep 1000'])
\`\`\`

\`\`\`sh run name=ask-grumpy
test -e /etc/grumpy/happy.conf || { echo "grumpy is not happy" >&2; exit 3; }
\`\`\`
`;

describe.skipIf(!canUseNetns)('diagnostics of a failed block, on a real (namespaced) machine', () => {
  const machine = testMachine(NETNS, RUNTIME);
  beforeAll(machine.setUp);
  afterAll(machine.tearDown);

  it('names what the machine says in plain output, the GitHub annotation, JUnit and the transcript; replay shows the same', () => {
    const dir = writeBook({ 'book.yaml': localTargetYaml(NETNS, RUNTIME), '01-grumpy.md': CHAPTER });
    const junit = path.join(dir, '..', 'junit.xml');
    const transcript = path.join(dir, '..', 'transcript.json');
    const run = book(['run', '--book', dir, '--reporter', 'plain', '--junit', junit, '--transcript', transcript]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const shown = run.stdout;
    expect(shown).toMatch(/✗ ask-grumpy failed; what the machine says/);
    expect(shown).toMatch(/── grumpy log \(errors, warnings .*\)\n\s+E\d{4} [\d:.]+ +42 grumpy\.go:7\] cannot open \/etc\/grumpy\/happy\.conf/);
    expect(shown).not.toContain('just chatting');
    // No API server yet, no Docker daemon in this namespace: said in one line each, not a hang.
    expect(shown).toMatch(/── Events\n\s+not available: /);
    // This book's machine has no second node: another machine's worker on this host is not read.
    expect(shown).not.toContain('k8s-worker');
    expect(shown).toMatch(/── containers on k8s-master \(docker ps -a\)\n\s+not available: /);
    expect(shown.indexOf('what the machine says')).toBeLessThan(shown.indexOf('✗ ask-grumpy ('));
    // The annotation points at the failed line and carries the telling section, not the all-clear ones.
    expect(shown).toMatch(/::error file=.*01-grumpy\.md,line=8::.*exit code 3.*%0Agrumpy log .*%0AE\d{4} .*cannot open/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<failure type="COMMAND_FAILED" message="[^"]*">[^<]*what the machine says:[^<]*cannot open \/etc\/grumpy\/happy\.conf/);
    const recorded = JSON.parse(readFileSync(transcript, 'utf8'));
    const block = recorded.chapters[0].blocks.find((b: { id: string }) => b.id === 'ask-grumpy');
    expect(block.diagnostics.map((s: { title: string }) => s.title)).toContain(
      "grumpy log (errors, warnings and lines naming the block's objects since it started)",
    );
    // The diagnostics' own calls are not the block's: the block recorded one exec, its script.
    expect(block.calls.filter((c: { path: string }) => c.path === 'exec')).toHaveLength(1);

    const replay = book(['replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain']);
    expect(replay.code, replay.stdout + replay.stderr).toBe(1);
    expect(replay.stdout).toMatch(/── grumpy log .*\n\s+E\d{4} [\d:.]+ +42 grumpy\.go:7\] cannot open/);
  });

  it('a block that times out says what its waitFor saw last', async () => {
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-wait.md':
        "# Waiting\n\n```ts run name=moon timeout=1s\nlet phase = 'Pending'\nawait waitFor(async () => (String(await $.quiet`echo new`).trim() === 'full' ? phase : false), { message: 'the moon to be full' })\n```\n",
    });
    const { events } = await runAndCollect(dir);
    expect(ends(events)[0]?.failure?.message).toMatch(/timed out after 1s; still waiting for the moon to be full \(last value: false\)/);
    expect(events.some((e) => e.type === 'block:diagnostics')).toBe(true);
  });
});

// Output a block prints, and its limits (docs/runner.md): through the real CLI on a sealed netns,
// blocks that print ~150 MB (a ts block's `$`, an sh block), a 20 MB line before a failure, and
// terminal control sequences. Every run ends with its verdict and exit code, a block passes when
// its command passes, the output is shown cut with a note, and the transcript replays.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the build scripts
import { PACKAGE_BUNDLE } from '../../scripts/esbuild-options.mjs';
import { localTargetYaml, writeBook } from '../helpers/book.js';
import { canUseNetns, testMachine } from '../helpers/netns.js';

const NETNS = `book-output-${process.pid}`;
const RUNTIME = `/run/book-output-${process.pid}`;
const ROOT = path.join(import.meta.dirname, '..', '..');
/** The CLI bundled from src/ now, beside the repository's node_modules (dist/ may be stale, and is not ours to rebuild); beside dist/, as the runner finds vagrant/ from there. */
const OUT = path.join(ROOT, `dist.book-output-${process.pid}`);

function book(args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--max-semi-space-size=2', path.join(OUT, 'cli.js'), ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds: (performance.now() - started) / 1000 };
}

const MB150 = 150_000_000;
const MiB = 1024 * 1024;

/** No crash, no stack trace, no warning: the run's own words only. */
function clean(r: ReturnType<typeof book>, what: string) {
  expect(r.signal, what).toBeNull();
  expect(r.stderr, what).not.toMatch(/\n\s+at |Fatal|invalid size|Invalid string length|warning/i);
  expect(r.stdout, what).not.toMatch(/Invalid string length|invalid size/i);
}

/** The json reporter's lines, each parsed (a line that is not JSON fails here). */
const jsonEvents = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });

describe.skipIf(!canUseNetns)('output a block prints is cut, and the run ends with its verdict', () => {
  const machine = testMachine(NETNS, RUNTIME);
  beforeAll(async () => {
    machine.setUp();
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    await build({
      entryPoints: [path.join(ROOT, 'src/cli.ts'), path.join(ROOT, 'src/runner/isolate/worker.ts')],
      outbase: path.join(ROOT, 'src'),
      outdir: OUT,
      ...(PACKAGE_BUNDLE as object),
    });
  }, 120_000);
  afterAll(() => {
    machine.tearDown();
    rmSync(OUT, { recursive: true, force: true });
  });

  it('~150 MB from a ts block `$` and from an sh block: passed, shown cut, plain and json, with and without a transcript, replayed', () => {
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md': `# A\n\n\`\`\`ts run name=big-ts timeout=120s\nconst o = await $\`head -c ${MB150} /dev/zero\`\nconsole.log('kept', o.stdout.length)\n\`\`\`\n\n\`\`\`sh run name=big-sh timeout=120s\nhead -c ${MB150} /dev/zero\n\`\`\`\n\n\`\`\`sh run name=lines timeout=120s\nseq 17000000\n\`\`\`\n\n\`\`\`sh run name=after\ntrue\n\`\`\`\n`,
    });
    for (const reporter of ['plain', 'json'] as const)
      for (const recorded of [false, true]) {
        const transcript = path.join(dir, '..', `transcript-${reporter}.json`);
        const r = book(['run', '--book', dir, '--reporter', reporter, ...(recorded ? ['--transcript', transcript] : [])]);
        const what = `${reporter}${recorded ? ' --transcript' : ''}: ${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`;
        clean(r, what);
        expect(r.code, what).toBe(0);
        // Cut: a few MiB of log for 450 MB of output.
        expect(r.stdout.length, what).toBeLessThan(16 * MiB);
        if (reporter === 'plain') {
          expect(r.stdout, what).toMatch(/4 passed, 0 failed, 0 skipped/);
          expect(r.stdout, what).toMatch(/kept 150000000/);
          // The NULs are one line, cut to its note; `seq` prints lines, cut to the first and last with a note between.
          expect(r.stdout, what).toMatch(/│ … \(143\.1 MiB cut\)/);
          expect(r.stdout, what).toMatch(/│ … \(\d+\.\d MiB of output cut\)/);
          expect(r.stdout, what).not.toMatch(/\u0000/);
        } else {
          const events = jsonEvents(r.stdout);
          expect(events.at(-1), what).toMatchObject({ type: 'run:end', status: 'passed', exitCode: 0, passed: 4 });
          for (const e of events.filter((e) => e.type === 'command:end')) {
            expect(String(e.stdout).length, what).toBeLessThanOrEqual(MiB + 1);
            if (e.block !== 'after' && !String(e.command).startsWith('write')) expect(String(e.stdout), what).toMatch(/cut\)/);
          }
        }
        if (!recorded) continue;
        // Under replay's input limit, and replayed with the same verdict.
        expect(statSync(transcript).size, what).toBeLessThan(8 * MiB);
        const replay = book(['replay', '--book', dir, '--transcript', transcript, '--reporter', reporter]);
        clean(replay, `replay ${what}`);
        expect(replay.code, `replay ${what}: ${replay.stdout.slice(-2000)}${replay.stderr}`).toBe(0);
      }
  }, 600_000);

  it('a 20 MB line and then a failure: the failure names its line once, cut; the transcript replays', () => {
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md': `# A\n\n\`\`\`sh run name=long timeout=120s\nhead -c 20000000 /dev/zero | tr '\\0' y\nfalse\n\`\`\`\n`,
    });
    const transcript = path.join(dir, '..', 'transcript.json');
    for (const reporter of ['plain', 'json'] as const) {
      const r = book(['run', '--book', dir, '--reporter', reporter, '--transcript', transcript]);
      const what = `${reporter}: ${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`;
      clean(r, what);
      expect(r.code, what).toBe(1);
      expect(r.stdout.length, what).toBeLessThan(MiB);
      if (reporter === 'plain') {
        expect(r.stdout, what).toMatch(/01-a\.md:5: \[COMMAND_FAILED\] command failed with exit code 1: false/);
        expect(r.stdout, what).toMatch(/0 passed, 1 failed, 0 skipped/);
        expect(r.stdout, what).toMatch(/… \(19\.1 MiB cut\)/);
      } else expect(jsonEvents(r.stdout).at(-1), what).toMatchObject({ type: 'run:end', status: 'failed', exitCode: 1 });
      expect(statSync(transcript).size, what).toBeLessThan(2 * MiB);
      const replay = book(['replay', '--book', dir, '--transcript', transcript, '--reporter', 'plain']);
      clean(replay, `replay ${what}`);
      expect(replay.code, `replay ${what}: ${replay.stdout}${replay.stderr}`).toBe(1);
      expect(replay.stdout).toMatch(/01-a\.md:5: \[COMMAND_FAILED\]/);
    }
  }, 300_000);

  it('control sequences a block prints are shown escaped, never obeyed', () => {
    const dir = writeBook({
      'book.yaml': localTargetYaml(NETNS, RUNTIME),
      '01-a.md':
        "# A\n\n```sh run name=title\nprintf '\\033]0;pwned\\007\\033[2J\\n'\n```\n\n```ts run name=ts-title\nawait $`printf '\\\\033]0;pwned\\\\007'`\nconsole.log('\\u001b[2Jcleared')\n```\n",
    });
    const r = book(['run', '--book', dir, '--reporter', 'plain']);
    const what = `${r.stdout}${r.stderr}`;
    clean(r, what);
    expect(r.code, what).toBe(0);
    expect(r.stdout, what).toContain('│ \\x1b]0;pwned\\x07\\x1b[2J');
    expect(r.stdout, what).toContain('│ \\x1b[2Jcleared');
    expect(r.stdout, what).toContain('↳ \\x1b]0;pwned\\x07');
    expect(r.stdout, what).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  }, 120_000);
});

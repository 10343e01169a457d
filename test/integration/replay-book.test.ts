import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STOP_SIGNALS } from '../../src/commands/stop-signals.js';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runBook } from '../../src/runner/execute.js';
import { loadBook } from '../../src/runner/load-book.js';
import { ReplaySession } from '../../src/runner/record/replay.js';
import { startReplay } from '../../src/runner/record/replay-run.js';
import { readTranscript } from '../../src/runner/record/transcript.js';
import type { Target } from '../../src/runner/targets/target.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'book.js');
const TRANSCRIPT = path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json');

function book(args: string[]) {
  // The json reporter prints every state snapshot: megabytes, past spawnSync's 1 MB default.
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

type Event = { type: string; chapter?: string; block?: string; status?: string; failure?: { message: string } };
const events = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);

describe('book replay of the committed transcript of the real book (no machine)', () => {
  it('passes every chapter, with the checks of every block run for real', () => {
    const result = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', TRANSCRIPT, '--reporter', 'json']);
    const all = events(result.stdout);
    const failed = all.filter((e) => e.type === 'block:end' && e.status === 'failed').map((e) => `${e.block}: ${e.failure?.message}`);
    expect(failed).toEqual([]);
    expect(result.code).toBe(0);
    const chapters = all.filter((e) => e.type === 'chapter:end');
    const chapterFiles = readdirSync(path.join(ROOT, 'book')).filter((f) => /^\d+-.*\.md$/.test(f));
    expect(chapters.length).toBe(chapterFiles.length);
    expect(chapters.every((e) => e.status === 'passed')).toBe(true);
    // The state diffs are replayed too, so reporters show what each block changed.
    expect(all.filter((e) => e.type === 'state').length).toBeGreaterThan(30);
  });

  it("the plain reporter's trees draw the daemons the book restarted as running, as the site does (issue 29)", () => {
    const result = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', TRANSCRIPT, '--reporter', 'plain']);
    expect(result.code).toBe(0);
    const nodeLines = result.stdout.split('\n').filter((l) => /^\s+k8s-\S+ .*· /.test(l));
    expect(nodeLines.length).toBeGreaterThan(10);
    expect(nodeLines.filter((l) => /stopped/.test(l))).toEqual([]);
    // cri-dockerd is restarted by the book in the CNI chapter and runs from then on.
    expect(nodeLines.filter((l) => /cri-dockerd/.test(l)).length).toBe(nodeLines.length);
  });

  it('replays unchanged when the runner wraps every command in other text: other traps, quoting, $ prefix, daemon scripts (issue 28)', async () => {
    // In this process, from src: the replay's targets see every command as a later runner would
    // send it. The transcript's calls are matched by their logical keys (the book's own calls), so
    // the text the recording's runner sent is never compared.
    const book = await loadBook(path.join(ROOT, 'book'));
    const transcript = await readTranscript(TRANSCRIPT);
    book.versions = transcript.versions;
    const config = book.config.targets[book.config.target];
    const replay = startReplay(new ReplaySession(transcript), { runtimeDir: config?.runtimeDir, dockerSocket: config?.dockerSocket });
    const recorded = new Set(transcript.chapters.flatMap((c) => c.blocks.flatMap((b) => b.calls.map((call) => String(call.args[0])))));
    const sent: string[] = [];
    const rewrap = (target: Target): Target =>
      new Proxy(target, {
        get(t, key, receiver) {
          if (key === 'exec')
            return (command: string, options?: Parameters<Target['exec']>[1]) => {
              const other = `# a later runner\ntrap 'echo "$BASH_COMMAND failed" >&2' ERR\n${command
                .replaceAll("'", '"')
                .replaceAll('set -o pipefail; ', 'set -euo pipefail; shopt -s inherit_errexit; ')
                .replaceAll('setsid bash -c', 'setsid --fork bash -c')}`;
              sent.push(other);
              return t.exec(other, options);
            };
          const value = Reflect.get(t, key, receiver);
          return typeof value === 'function' ? value.bind(t) : value;
        },
      });
    const events: RunEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const result = await runBook({
      book,
      chapters: book.chapters,
      target: replay.target,
      nodes: replay.nodes,
      bus,
      instrument: { ...replay.instrument, target: rewrap, nodeTarget: (_, t) => rewrap(t) },
    });
    const failed = events.flatMap((e) => (e.type === 'block:end' && e.status === 'failed' ? [`${e.block.id}: ${e.failure?.message}`] : []));
    expect(failed).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(events.filter((e) => e.type === 'block:end' && e.status === 'passed').length).toBeGreaterThan(100);
    // Every command reached the replay as text the recording never sent: sh blocks, $ commands, daemons.
    expect(sent.length).toBeGreaterThan(200);
    expect(sent.filter((text) => recorded.has(text))).toEqual([]);
  });

  it('reads a transcript an editor saved with a byte-order mark', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'book-replay-'));
    const bom = path.join(dir, 'bom.json');
    writeFileSync(bom, `\uFEFF${readFileSync(TRANSCRIPT, 'utf8')}`);
    const replayed = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', bom, '--to', '1', '--reporter', 'plain']);
    expect(replayed.stderr).toBe('');
    expect(replayed.stdout).toMatch(/\d+ passed, 0 failed, 0 skipped/);
    expect(replayed.code).toBe(0);
  });

  it('reads a format @1 transcript (no keys) by reading its keys back, and refuses one it cannot with TRANSCRIPT_OLD and the command to re-record', () => {
    // The committed transcript as the @1 runner wrote it: no keys (they were added from this text).
    const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8'));
    transcript.format = 'build-a-minikube/transcript@1';
    for (const chapter of transcript.chapters) for (const block of chapter.blocks) for (const call of block.calls) delete call.key;
    const dir = mkdtempSync(path.join(tmpdir(), 'book-replay-'));
    const v1 = path.join(dir, 'v1.json');
    writeFileSync(v1, JSON.stringify(transcript));
    const replayed = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', v1, '--reporter', 'plain']);
    expect(replayed.stdout).toMatch(/\d+ passed, 0 failed, 0 skipped/);
    expect(replayed.code).toBe(0);
    // A wrapper no runner of format @1 wrote: its key cannot be read back.
    transcript.chapters[0].blocks[0].calls[0].args[0] = 'set -e; older wrapper\n';
    const old = path.join(dir, 'old.json');
    writeFileSync(old, JSON.stringify(transcript));
    const refused = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', old]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^book: \[TRANSCRIPT_OLD\] .*old\.json was recorded by an older runner .*block versions, call 1/);
    expect(refused.stderr).toContain(`→ sudo npx book run --target local --record --transcript ${old}`);
  });

  it('holds no secret: the admin token, private keys and token signatures are redacted', () => {
    const text = readFileSync(TRANSCRIPT, 'utf8');
    expect(text).not.toMatch(/PRIVATE KEY-----\n(?!«redacted»)/);
    expect(text).not.toMatch(/token: (?!«redacted»)[^\s"\\]+/);
    expect(text).not.toMatch(/[0-9a-f]{48},admin/);
    const transcript = JSON.parse(text);
    const admin = transcript.chapters
      .flatMap((c: { blocks: { id: string; calls: { path: string; args: unknown[] }[] }[] }) => c.blocks)
      .find((b: { id: string }) => b.id === 'admin-token');
    // The CA certificate is read (public), then the token file and the kubeconfig are written (secret).
    expect(admin.calls.map((c: { path: string; args: unknown[] }) => [c.path, c.path === 'readFile' ? c.args[0] : c.args[1]])).toEqual([
      ['writeFile', '«redacted»'],
      ['readFile', '/etc/kubernetes/pki/ca.crt'],
      ['writeFile', '«redacted»'],
    ]);
    // Service-account tokens (read in chapter 9 to show their claims) keep no signature.
    expect(text).toMatch(/eyJ[\w-]*\.eyJ[\w-]*\.«redacted»/);
    expect(text).not.toMatch(/eyJ[\w-]*\.eyJ[\w-]*\.(?!«redacted»)[\w-]{16,}/);
  });

  it('fails a block whose code changed since the recording, naming it and saying to re-record', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-replay-')), 'book');
    cpSync(path.join(ROOT, 'book'), dir, { recursive: true });
    const file = path.join(dir, '01-kubelet.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('docker ps --format', 'docker ps -a --format'));
    const result = book(['replay', '--book', dir, '--transcript', TRANSCRIPT, '--reporter', 'json']);
    expect(result.code).toBe(1);
    const failed = events(result.stdout).find((e) => e.type === 'block:end' && e.status === 'failed');
    expect(failed?.block).toBe('docker-ps-two');
    expect(failed?.failure?.message).toMatch(/block docker-ps-two \(.*01-kubelet\.md:\d+\) changed since the transcript was recorded: .*book run --record/);
  });

  it('fails, without waiting out the timeout, a call the transcript does not hold', () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-replay-')), 'book');
    cpSync(path.join(ROOT, 'book'), dir, { recursive: true });
    const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8'));
    // The node-ready poll (chapter 3) loses its last answers: the replayed waitFor must stop at once.
    const block = transcript.chapters.flatMap((c: { blocks: { id: string }[] }) => c.blocks).find((b: { id: string }) => b.id === 'node-ready');
    const reads = block.calls.filter((c: { path: string }) => c.path === 'core.readNode');
    block.calls = block.calls.filter((c: unknown) => c !== reads.at(-1));
    const changed = path.join(dir, '..', 'transcript.json');
    writeFileSync(changed, JSON.stringify(transcript));
    const result = book(['replay', '--book', dir, '--transcript', changed, '--reporter', 'json']);
    expect(result.code).toBe(1);
    const failed = events(result.stdout).find((e) => e.type === 'block:end' && e.status === 'failed');
    expect(failed?.block).toBe('node-ready');
    expect(failed?.failure?.message).toMatch(
      /block node-ready .* made a call the transcript does not hold: core\.readNode\(.*k8s-master.*\).*book run --record/,
    );
    expect(failed?.failure?.message).not.toMatch(/timed out/);
  });

  it('stopped by Ctrl-C or SIGTERM at any moment, ends with a verdict and the JUnit file of what ran', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-signal-'));
    const args = ['replay', '--book', path.join(ROOT, 'book'), '--transcript', TRANSCRIPT, '--reporter', 'plain'];
    const run = (junit: string) =>
      spawn(process.execPath, [BIN, ...args, '--junit', junit], { env: { ...process.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' } });
    const ended = (child: ReturnType<typeof spawn>) => {
      let text = '';
      child.stdout?.on('data', (d) => (text += d));
      child.stderr?.on('data', (d) => (text += d));
      return new Promise<{ code: number | null; text: string }>((resolve) => child.on('close', (code) => resolve({ code, text })));
    };
    // The whole replay's time, then signals at moments spread over it.
    const t0 = performance.now();
    expect((await ended(run(path.join(dir, 'whole.xml')))).code).toBe(0);
    const whole = performance.now() - t0;
    // Every stop signal once (SIGHUP: the terminal or ssh session closed), and one more at random.
    const fractions = fc.sample(fc.double({ min: 0.3, max: 0.9, noNaN: true }), STOP_SIGNALS.length + 1);
    const signals: NodeJS.Signals[] = [...STOP_SIGNALS, fc.sample(fc.constantFrom(...STOP_SIGNALS), 1)[0] as NodeJS.Signals];
    const moments = signals.map((signal, i) => [fractions[i] as number, signal] as const);
    for (const [i, [fraction, signal]] of moments.entries()) {
      const junit = path.join(dir, `cut-${i}.xml`);
      const child = run(junit);
      const result = ended(child);
      // Once it has started replaying (a first block passed), so the signal reaches the runner's handler.
      await new Promise<void>((resolve) => child.stdout?.on('data', (d) => String(d).includes('✓') && resolve()));
      await new Promise((r) => setTimeout(r, whole * fraction * 0.5));
      child.kill(signal);
      const { code, text } = await result;
      if (code === 0) continue; // it finished first
      expect(code, text).toBe(130);
      expect(text).toMatch(/\d+ passed, \d+ failed, \d+ skipped/);
      expect(existsSync(junit), text).toBe(true);
      expect(readFileSync(junit, 'utf8')).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="book" /);
    }
  }, 120_000);

  it('says what to do when there is no transcript', () => {
    const result = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', '/nonexistent/transcript.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the transcript .* book run --record/);
  });
});

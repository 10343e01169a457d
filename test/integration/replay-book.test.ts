import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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

  it('says what to do when there is no transcript', () => {
    const result = book(['replay', '--book', path.join(ROOT, 'book'), '--transcript', '/nonexistent/transcript.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the transcript .* book run --record/);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bookCommand, type Runtime } from '../helpers/runtimes.js';

// The machine-free commands under Deno 2 give what they give under Node (issue 15). The run
// itself under Deno is tested in verdicts.test.ts and cli.test.ts (Ctrl-C), and the whole book
// once in the e2e.
const ROOT = path.join(import.meta.dirname, '..', '..');
const BOOK = path.join(ROOT, 'book');
const TRANSCRIPT = path.join(ROOT, 'test', 'fixtures', 'transcript', 'book.json');

function book(runtime: Runtime, args: string[]) {
  const command = bookCommand(runtime, args);
  const r = spawnSync(command.file, command.args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, ...command.env, CI: 'true', NO_COLOR: '1', GITHUB_ACTIONS: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same command under Node and under Deno. */
const both = (args: string[]) => ({ node: book('node', args), deno: book('deno', args) });

const untimed = (text: string) => text.replace(/\(\d+(\.\d+)?(ms|s)\)/g, '(<time>)');

describe('the CLI under Deno 2', () => {
  it('lists the book as Node does, printing no warning', () => {
    const { node, deno } = both(['list', '--book', BOOK, '--json']);
    expect(deno.code).toBe(0);
    expect(deno.stderr).toBe('');
    expect(JSON.parse(deno.stdout)).toEqual(JSON.parse(node.stdout));
  });

  it('replays the committed transcript: every block passes, the same report as under Node', () => {
    const args = ['replay', '--book', BOOK, '--transcript', TRANSCRIPT, '--reporter', 'plain'];
    const { node, deno } = both(args);
    expect(deno.code, deno.stdout + deno.stderr).toBe(0);
    expect(deno.stderr).toBe('');
    expect(deno.stdout).toMatch(/\n\d+ passed, 0 failed, 0 skipped/);
    expect(untimed(deno.stdout)).toBe(untimed(node.stdout));
  });

  it('renders the same site as Node, byte for byte', () => {
    const site = (runtime: Runtime) => {
      const out = mkdtempSync(path.join(tmpdir(), `book-site-${runtime}-`));
      const result = book(runtime, ['render', '--book', BOOK, '--transcript', TRANSCRIPT, '--out', out]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      return out;
    };
    const files = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort();
    const [nodeSite, denoSite] = [site('node'), site('deno')];
    expect(files(denoSite)).toEqual(files(nodeSite));
    expect(files(nodeSite).filter((f) => f.endsWith('.html')).length).toBeGreaterThan(10);
    for (const file of files(nodeSite)) expect(readFileSync(path.join(denoSite, file)).equals(readFileSync(path.join(nodeSite, file))), file).toBe(true);
  });
});

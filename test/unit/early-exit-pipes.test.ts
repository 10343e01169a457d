// No shell of ours pipes into a reader that exits early: under pipefail the writer dies of
// SIGPIPE and the pipeline fails by timing (issue 11: `etcd --version | grep -q` after a
// 17-minute cold build). scripts/early-exit-pipes.mjs finds the pattern; CI runs it too.
import { spawnSync } from 'node:child_process';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkFiles, findEarlyExitPipes, findInMarkdown, projectFiles } from '../../scripts/early-exit-pipes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
type Finding = { file?: string; line: number; what: string };
const lines = (text: string) => (findEarlyExitPipes(text) as Finding[]).map((f) => f.line);

describe('early-exit pipes', () => {
  it('the premise: under pipefail a pipe into grep -q fails when the writer is not done', () => {
    const r = spawnSync('bash', ['-c', 'set -o pipefail; yes | grep -q y'], { encoding: 'utf8' });
    expect(r.status).toBe(141); // 128 + SIGPIPE: `yes` was killed although grep matched
    const captured = spawnSync('bash', ['-c', "set -euo pipefail; out=$(seq 1 200000); [[ $out == *$'\\n'199999$'\\n'* ]]"]);
    expect(captured.status).toBe(0);
  });

  it('finds the readers that stop early, and only those', () => {
    const bad = [
      '"$out/bin/etcd" --version | grep -q "etcd Version: 3.7.0" || die x',
      'kubelet --version | grep -qx "Kubernetes v1.37.2"',
      'ip route | grep -Eq default',
      'ps aux | grep --quiet kubelet',
      'docker ps | grep -m1 nginx',
      'x=$(etcd --version | head -n1)',
      "curl -s u | awk '{ print $1; exit }'",
      'journalctl | sed 5q',
      'cmd | \\\n  grep -q z',
      'printf "%s" "$a" |& head -c 10',
    ];
    for (const text of bad) expect(lines(text), text).toHaveLength(1);
    const good = [
      'out=$(etcd --version); [[ $out == *"3.7.0"* ]]',
      'a || head -n1 file',
      'docker ps | grep -c nginx',
      'ip -o link | grep -v lo',
      'findmnt -rn | sort -r',
      "awk '{ print $1 }' file | sort",
      'sed -n 1p file | tr -d x',
      '# a comment: cmd | grep -q x',
      "echo 'a | grep -q b' # quoted",
      'head -n1 "$1" | tr -dc 0-9',
    ];
    for (const text of good) expect(lines(text), text).toEqual([]);
  });

  it('reports the .md line of a run block, and ignores blocks that do not run', () => {
    const md = ['# t', '', '```sh run name=a', 'echo ok', 'docker ps | grep -q nginx', '```', '', '```sh', 'x | head', '```', ''].join('\n');
    expect((findInMarkdown(md) as Finding[]).map((f) => f.line)).toEqual([5]);
  });

  it("the project's scripts, CI entry point and book have none", () => {
    const found = (checkFiles(projectFiles(root)) as Required<Finding>[]).map((f) => `${relative(root, f.file)}:${f.line}: ${f.what}`);
    expect(found).toEqual([]);
    expect((projectFiles(root) as string[]).length).toBeGreaterThan(10);
  });
});

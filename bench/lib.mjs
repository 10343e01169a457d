// Shared helpers for the benchmarks: medians, temp books, a namespace of the bench's own.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function writeBook(files) {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-bench-')), 'book');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A book of `n` blocks that each run `await $\`true\``: the per-block overhead benches' book. */
export function trueBook(yaml, n) {
  return writeBook({ 'book.yaml': yaml, '01-a.md': `# A\n\n${'```ts run\nawait $`true`\n```\n\n'.repeat(n)}` });
}

/** The docker benches' book.yaml: a machine of their own (book-bench) on the reader's Docker. */
export const DOCKER_BENCH_YAML =
  'title: Bench\ntarget: d\nkubeconfig: /run/book-bench/admin.kubeconfig\ntargets:\n  d: { type: docker, machine: book-bench, subnet: 192.168.58.0/24 }\n';

export function withNetns(name, fn) {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {}
  execFileSync('ip', ['netns', 'add', name]);
  try {
    return fn();
  } finally {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

/**
 * A book on a throwaway namespace of its own. Its kubeconfig is its own too (and absent, as before
 * chapter 2): the host's /etc/kubernetes would point it at the reader's cluster, which is not in
 * that namespace, and every snapshot would measure a refused connection instead of the runner.
 */
export function localYaml(netns) {
  return `title: Bench\ntarget: t\nkubeconfig: /run/${netns}/admin.kubeconfig\ntargets:\n  t:\n    type: local\n    netns: ${netns}\n    runtimeDir: /run/${netns}\n    dockerSocket: /run/${netns}/docker.sock\n`;
}

/** A realistic chapter: prose, a few ts blocks with types, a yaml file block, an sh block. */
export function chapterText(n) {
  const blocks = [];
  for (let i = 0; i < 6; i++) {
    blocks.push(
      `Some prose about step ${i}, explaining what the reader sees.\n\n\`\`\`ts run name=c${n}-b${i} timeout=90s\ninterface Pod${i} { name: string; ip?: string }\nconst pods${i}: Pod${i}[] = [{ name: 'nginx-${i}' }]\nconst names${i} = pods${i}.map((p) => p.name).join(',')\nawait waitFor(async () => names${i}.length > 0, { timeout: 1000 })\nassert.ok(names${i}.startsWith('nginx'))\n\`\`\`\n`,
    );
  }
  blocks.push(`\`\`\`yaml file=/tmp/bench-${n}.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: nginx\n\`\`\`\n`);
  blocks.push('```sh run\necho done\n```\n');
  return `# Chapter ${n}\n\n${blocks.join('\n')}`;
}

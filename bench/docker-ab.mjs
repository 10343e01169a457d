// node bench/docker-ab.mjs OTHER/bin/book.js — this checkout's runner against another build of it
// (a `git worktree` of an earlier commit, built) on the docker target: wall time and the runner's
// CPU time (user + sys, /usr/bin/time) per block, (T201 − T1)/200, books of `await $\`true\``,
// ROUNDS rounds (default 7) alternating which build goes first; medians. CPU time is the steadier
// figure on a 2-core box. Needs root on Linux, the build cache warm, and /usr/bin/time; the reader's
// Docker is the stand-in of scripts/reader-docker.sh.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { median, writeBook } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const other = process.argv[2];
if (!other) {
  console.error('usage: node bench/docker-ab.mjs OTHER/bin/book.js');
  process.exit(2);
}
const NAME = 'book-ab-reader';
const env = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline', DOCKER_HOST: `unix:///run/${NAME}/docker.sock` };
const run = (argv) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return r;
};
const reader = (action) => run(['bash', path.join(root, 'scripts', 'reader-docker.sh'), action, NAME]);
const yaml =
  'title: Bench\ntarget: d\nkubeconfig: /run/book-bench/admin.kubeconfig\ntargets:\n  d: { type: docker, machine: book-bench, subnet: 192.168.58.0/24 }\n';
const book = (n) => writeBook({ 'book.yaml': yaml, '01-a.md': `# A\n\n${'```ts run\nawait $`true`\n```\n\n'.repeat(n)}` });
const [small, big] = [book(1), book(201)];
const bins = { this: path.join(root, 'bin', 'book.js'), other: path.resolve(other) };
const timed = (bin, dir) => {
  const r = run(['/usr/bin/time', '-f', '%e %U %S', process.execPath, bin, 'run', '--book', dir, '--reporter', 'plain']);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
};

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}`);
reader('start');
try {
  run([process.execPath, bins.this, 'machine', 'up', '--book', big]);
  try {
    const per = { this: { wall: [], cpu: [] }, other: { wall: [], cpu: [] } };
    for (let i = 0; i < Number(process.env.ROUNDS ?? 7); i++) {
      for (const which of i % 2 ? ['this', 'other'] : ['other', 'this']) {
        const [b, s] = [timed(bins[which], big), timed(bins[which], small)];
        per[which].wall.push(((b.wall - s.wall) * 1000) / 200);
        per[which].cpu.push(((b.cpu - s.cpu) * 1000) / 200);
      }
    }
    for (const which of ['other', 'this']) {
      const f = per[which];
      console.log(
        `${which.padEnd(5)} ${bins[which]}: wall ${median(f.wall).toFixed(2)} ms a block, runner CPU ${median(f.cpu).toFixed(2)} ms a block (${f.cpu.map((x) => x.toFixed(2)).join(' ')})`,
      );
    }
  } finally {
    run([process.execPath, bins.this, 'machine', 'down', '--book', big]);
  }
} finally {
  reader('stop');
}

// node bench/cpu-per-block.mjs [OTHER/bin/book.js] — the runner's CPU time (user + sys,
// /usr/bin/time) and wall time per block, (T201 − T1)/200 over books of `await $\`true\`` blocks,
// medians of ROUNDS rounds (default 7): on the local target (a namespace of the bench's own) and on
// a docker node (the reader's Docker the stand-in of scripts/reader-docker.sh). What the docker
// target costs the runner beyond the local target's work, apart from the wait for the command's
// round trip through the reader's Docker. With OTHER (another build of the runner: a built
// `git worktree` of an earlier commit), that build too on the docker node, the two alternating
// which goes first. CPU time is the steadier figure on a 2-core box. Needs root on Linux, the build
// cache warm, /usr/bin/time.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { DOCKER_BENCH_YAML, localYaml, median, trueBook, withNetns } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const builds = { this: path.join(root, 'bin', 'book.js'), ...(process.argv[2] ? { other: path.resolve(process.argv[2]) } : {}) };
const rounds = Number(process.env.ROUNDS ?? 7);
const NAME = 'book-cpu-reader';
const base = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline' };
const dockerEnv = { ...base, DOCKER_HOST: `unix:///run/${NAME}/docker.sock` };
const run = (argv, env) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return r;
};
const timed = (bin, dir, env) => {
  const r = run(['/usr/bin/time', '-f', '%e %U %S', process.execPath, bin, 'run', '--book', dir, '--reporter', 'plain'], env);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
};
/** Rounds of each build on the book's target, alternating which build goes first; a line per build. */
const measure = (label, yaml, env, bins) => {
  const [small, big] = [trueBook(yaml, 1), trueBook(yaml, 201)];
  const per = Object.fromEntries(Object.keys(bins).map((which) => [which, { wall: [], cpu: [] }]));
  for (let i = 0; i < rounds; i++) {
    const order = Object.keys(bins);
    for (const which of i % 2 ? order.reverse() : order) {
      const [b, s] = [timed(bins[which], big, env), timed(bins[which], small, env)];
      per[which].wall.push(((b.wall - s.wall) * 1000) / 200);
      per[which].cpu.push(((b.cpu - s.cpu) * 1000) / 200);
    }
  }
  for (const [which, f] of Object.entries(per)) {
    console.log(
      `${label.padEnd(7)} ${bins[which]}: wall ${median(f.wall).toFixed(2)} ms a block, runner CPU ${median(f.cpu).toFixed(2)} ms a block (${f.cpu.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
};

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}`);
withNetns('book-cpu-bench', () => measure('local', localYaml('book-cpu-bench'), base, { this: builds.this }));
const reader = (action) => run(['bash', path.join(root, 'scripts', 'reader-docker.sh'), action, NAME], dockerEnv);
reader('start');
try {
  const up = trueBook(DOCKER_BENCH_YAML, 1);
  run([process.execPath, builds.this, 'machine', 'up', '--book', up], dockerEnv);
  try {
    measure('docker', DOCKER_BENCH_YAML, dockerEnv, builds);
  } finally {
    run([process.execPath, builds.this, 'machine', 'down', '--book', up], dockerEnv);
  }
} finally {
  reader('stop');
}

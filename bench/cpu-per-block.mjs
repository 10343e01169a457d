// node bench/cpu-per-block.mjs — the runner's CPU time (user + sys, /usr/bin/time) and wall time per
// block on the local target (a namespace of the bench's own) and on a docker node (the reader's
// Docker the stand-in of scripts/reader-docker.sh): books of 201 and 1 `await $\`true\`` blocks,
// (T201 − T1)/200, median of 7. What the docker target costs the runner beyond the local target's
// work, apart from the wait for the command's round trip through the reader's Docker. Needs root
// on Linux, the build cache warm, /usr/bin/time.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { localYaml, median, withNetns, writeBook } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const BIN = path.join(root, 'bin', 'book.js');
const NAME = 'book-cpu-reader';
const base = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline' };
const dockerEnv = { ...base, DOCKER_HOST: `unix:///run/${NAME}/docker.sock` };
const run = (argv, env) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return r;
};
const book = (yaml, n) => writeBook({ 'book.yaml': yaml, '01-a.md': `# A\n\n${'```ts run\nawait $`true`\n```\n\n'.repeat(n)}` });
const timed = (dir, env) => {
  const r = run(['/usr/bin/time', '-f', '%e %U %S', process.execPath, BIN, 'run', '--book', dir, '--reporter', 'plain'], env);
  const [wall, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
};
const measure = (label, yaml, env) => {
  const [small, big] = [book(yaml, 1), book(yaml, 201)];
  const wall = [];
  const cpu = [];
  for (let i = 0; i < 7; i++) {
    const [b, s] = [timed(big, env), timed(small, env)];
    wall.push(((b.wall - s.wall) * 1000) / 200);
    cpu.push(((b.cpu - s.cpu) * 1000) / 200);
  }
  console.log(
    `${label.padEnd(7)} wall ${median(wall).toFixed(2)} ms a block, runner CPU ${median(cpu).toFixed(2)} ms a block (${cpu.map((x) => x.toFixed(2)).join(' ')})`,
  );
};

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}`);
withNetns('book-cpu-bench', () => measure('local', localYaml('book-cpu-bench'), base));
run(['bash', path.join(root, 'scripts', 'reader-docker.sh'), 'start', NAME], dockerEnv);
try {
  const yaml =
    'title: Bench\ntarget: d\nkubeconfig: /run/book-bench/admin.kubeconfig\ntargets:\n  d: { type: docker, machine: book-bench, subnet: 192.168.58.0/24 }\n';
  const up = book(yaml, 1);
  run([process.execPath, BIN, 'machine', 'up', '--book', up], dockerEnv);
  try {
    measure('docker', yaml, dockerEnv);
  } finally {
    run([process.execPath, BIN, 'machine', 'down', '--book', up], dockerEnv);
  }
} finally {
  run(['bash', path.join(root, 'scripts', 'reader-docker.sh'), 'stop', NAME], dockerEnv);
}

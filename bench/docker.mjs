// node bench/docker.mjs [image|up|book|overhead] — the docker target's figures (docs/benchmarks.md),
// on a stand-in for the reader's Docker (scripts/reader-docker.sh: a dockerd of the bench's own in
// a sealed namespace). Needs root on Linux, the build cache warm (book machine up once), and the
// local machine free: `book` takes it down and up too.
//   image:    the node image recipe cold for its own parts (Debian by mmdebstrap, the stage, the
//             tarball) with the binaries' cache warm: wall time and peak RSS; then its import into
//             a Docker that has never seen it (a cold `machine up`'s first step)
//   up:       warm `book machine up --target docker` (the image present, the machine down), median of 5
//   book:     the whole book on the docker target and on the local target, alternating, each on a
//             fresh machine: wall time of `book run` (median of BENCH_RUNS, default 3), and the ratio
//   overhead: per-block overhead of `book run` on a docker node with snapshots on: books of 1, 101
//             and 201 blocks of `await $\`true\``, (T101 - T1) / 100 and, warm, (T201 - T101) / 100,
//             medians of 7; zx's beside it the same way, on the host, and (21 blocks) reaching the
//             node with `docker exec` as a zx script must
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { DOCKER_BENCH_YAML, median, trueBook, writeBook } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const BIN = path.join(root, 'bin', 'book.js');
const READER = path.join(root, 'scripts', 'reader-docker.sh');
const NAME = 'book-bench-reader';
const DOCKER_HOST = `unix:///run/${NAME}/docker.sock`;
const only = process.argv[2];
const runs = Number(process.env.BENCH_RUNS ?? 3);
const env = { ...process.env, CI: 'true', NO_COLOR: '1', BOOK_SOURCE: process.env.BOOK_SOURCE ?? 'offline', DOCKER_HOST };
const cache = process.env.BOOK_CACHE ?? '/var/cache/build-a-minikube';

const report = (name, value, unit, goal) => console.log(`${name.padEnd(66)} ${String(value).padStart(9)} ${unit.padEnd(3)} ${goal ? `(goal ${goal})` : ''}`);
const run = (argv, extraEnv = {}) => {
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: 'utf8', env: { ...env, ...extraEnv }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
  return { ms: performance.now() - t, stdout: r.stdout, stderr: r.stderr };
};
const book = (args, extraEnv) => run([process.execPath, BIN, ...args], extraEnv);
const reader = (action) => run(['bash', READER, action, NAME]);

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}\n`);
reader('start');
try {
  if (!only || only === 'image') {
    // A cache of its own with the binaries and image tarballs of the real one (hard links: no copy),
    // and no node/ folder: the recipe starts from Debian's packages.
    const scratch = mkdtempSync('/var/tmp/book-bench-image-');
    try {
      for (const entry of readdirSync(cache)) {
        if (entry === 'node' || entry.startsWith('.')) continue;
        run(['cp', '-al', path.join(cache, entry), path.join(scratch, entry)]);
      }
      const timed = run(['/usr/bin/time', '-f', '%e %M', 'bash', path.join(root, 'vagrant', 'node-image.sh')], { BOOK_CACHE: scratch });
      const [wall, rssKb] = timed.stderr.trim().split('\n').pop().split(' ').map(Number);
      report('node image recipe, cold (Debian + stage + tarball; binaries warm)', wall.toFixed(0), 's');
      report('  its peak RSS', (rssKb / 1024).toFixed(0), 'MB');
      const tarball = timed.stdout.trim();
      report('  the tarball', (statSync(tarball).size / 1048576).toFixed(0), 'MB');
      // The import: a cold `up` on a Docker that has never seen the image (the machine then comes up).
      run(['bash', '-c', "docker images -q 'build-a-minikube/node' | xargs -r docker rmi -f >/dev/null"]);
      const up = book(['machine', 'up', '--target', 'docker'], { BOOK_CACHE: scratch });
      const imported = /imported in (\d+) ms/.exec(up.stderr)?.[1];
      report('  docker import of the node image (through the API)', imported ?? '?', 'ms');
      report('machine up, image not yet in Docker (import + up)', (up.ms / 1000).toFixed(1), 's');
      book(['machine', 'down', '--target', 'docker'], { BOOK_CACHE: scratch });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  if (!only || only === 'up') {
    book(['machine', 'up', '--target', 'docker']);
    const times = [];
    for (let i = 0; i < 5; i++) {
      book(['machine', 'down', '--target', 'docker']);
      times.push(book(['machine', 'up', '--target', 'docker']).ms);
    }
    report('machine up --target docker, warm (image present), process', (median(times) / 1000).toFixed(1), 's', '< 15 s');
  }

  if (!only || only === 'book') {
    const times = { docker: [], local: [] };
    for (let i = 0; i < runs; i++) {
      for (const target of ['docker', 'local']) {
        book(['machine', 'down', '--target', target]);
        book(['machine', 'up', '--target', target]);
        times[target].push(book(['run', '--target', target, '--reporter', 'plain']).ms);
        book(['machine', 'down', '--target', target]);
      }
    }
    const docker = median(times.docker);
    const local = median(times.local);
    report('whole book, book run --target docker (fresh machine)', (docker / 1000).toFixed(1), 's');
    report('whole book, book run --target local (fresh machine)', (local / 1000).toFixed(1), 's');
    report('  docker / local', (docker / local).toFixed(2), 'x', '<= 1.15');
  }

  if (!only || only === 'overhead') {
    const ours = (n) => trueBook(DOCKER_BENCH_YAML, n);
    const zxBook = (n) => path.join(writeBook({ 'a.md': `# A\n\n${'```js\nawait $`true`\n```\n\n'.repeat(n)}` }), 'a.md');
    const zx = path.join(root, 'node_modules', 'zx', 'build', 'cli.js');
    const [small, big, bigger, zsmall, zbig, zbigger] = [ours(1), ours(101), ours(201), zxBook(1), zxBook(101), zxBook(201)];
    // The same command where ours runs it, in the node: a zx script reaches a node on Docker with
    // the docker CLI (DOCKER_HOST is the reader's Docker here).
    const inNode = (n) => path.join(writeBook({ 'a.md': `# A\n\n${'```js\nawait $`docker exec book-bench-k8s-master true`\n```\n\n'.repeat(n)}` }), 'a.md');
    const [znsmall, znbig] = [inNode(1), inNode(21)];
    book(['machine', 'up', '--book', big]);
    try {
      // Per block from 1 to 101 blocks (the first blocks included: a run's JIT, its agent's first
      // reads), and from 101 to 201 (warm: what one more block costs a book that runs on).
      const per = { ours: [], zx: [], oursWarm: [], zxWarm: [], zxNode: [] };
      const ourRun = (dir) => book(['run', '--book', dir, '--reporter', 'plain']).ms;
      const zxRun = (file) => run([process.execPath, zx, '--quiet', file]).ms;
      for (let i = 0; i < 7; i++) {
        const [o1, o101, o201] = [ourRun(small), ourRun(big), ourRun(bigger)];
        const [z1, z101, z201] = [zxRun(zsmall), zxRun(zbig), zxRun(zbigger)];
        per.ours.push((o101 - o1) / 100);
        per.oursWarm.push((o201 - o101) / 100);
        per.zx.push((z101 - z1) / 100);
        per.zxWarm.push((z201 - z101) / 100);
        per.zxNode.push((zxRun(znbig) - zxRun(znsmall)) / 20);
      }
      report('per-block overhead, book run, docker node, snapshots on (1→101)', median(per.ours).toFixed(2), 'ms', '<= zx');
      report('per-block overhead, zx markdown mode (host) (1→101)', median(per.zx).toFixed(2), 'ms');
      report('per-block overhead, book run, docker node, warm (101→201)', median(per.oursWarm).toFixed(2), 'ms', '<= zx');
      report('per-block overhead, zx markdown mode (host), warm (101→201)', median(per.zxWarm).toFixed(2), 'ms');
      report('per-block overhead, zx markdown mode, `docker exec` into the node', median(per.zxNode).toFixed(2), 'ms');
    } finally {
      book(['machine', 'down', '--book', big]);
    }
  }
} finally {
  if (existsSync(`/run/${NAME}`)) reader('stop');
}

// node bench/machine.mjs [resume|book] — figures that need the real local machine (root, Linux).
// It takes the machine down and up: do not run it while a book run is using the machine.
//   resume: `book run --from 6` until the first block of chapter 6 runs, on a machine at checkpoint 5
//           (drift check included), median of 7.
//   book:   the whole book, plain reporter vs the Ink UI in a pseudo-terminal (`script`, 40x120): wall
//           time and peak RSS, median of 3 each (BENCH_RUNS=N for more), runs alternating.
//   whole:  the whole book with the plain reporter only, median of 5 (BENCH_RUNS=N), each chapter's
//           median too: the figure issues 31 and 32 ask for.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const BIN = path.join(root, 'bin', 'book.js');
const only = process.argv[2];
const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
const book = (args, opts = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`book ${args.join(' ')}: exit ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r;
};
const freshMachine = () => {
  book(['machine', 'down']);
  book(['machine', 'up']);
};
console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}\n`);

if (!only || only === 'resume') {
  // A copy of the book whose chapter 6 starts with a block that waits: the bench stops the run
  // there (Ctrl-C), so the machine stays at checkpoint 5 for the next round.
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'book-bench-resume-')), 'book');
  cpSync(path.join(root, 'book'), dir, { recursive: true });
  const six = path.join(dir, '06-scheduler.md');
  writeFileSync(six, readFileSync(six, 'utf8').replace(/\n```yaml file=/, '\n```sh run name=bench-marker timeout=2m\nsleep 100\n```\n\n```yaml file='));
  freshMachine();
  book(['run', '--book', dir, '--to', '5', '--reporter', 'plain']);
  const times = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'run', '--book', dir, '--from', '6', '--reporter', 'json'], { cwd: root, env });
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const reached = await new Promise((resolve) => {
      child.stdout.on('data', (c) => {
        buffer += c;
        if (buffer.includes('"type":"block:start"') && buffer.includes('"block":"bench-marker"')) resolve(performance.now() - started);
      });
      child.on('close', (code) => resolve(new Error(`run ended (${code}) before chapter 6 started: ${stderr}`)));
    });
    if (reached instanceof Error) throw reached;
    times.push(reached);
    child.kill('SIGINT');
    await new Promise((resolve) => child.on('close', resolve));
  }
  console.log(
    `book run --from 6 → first block of chapter 6 running (drift check included): median ${median(times).toFixed(0)} ms (goal < 5000 ms); all: ${times.map((t) => t.toFixed(0)).join(' ')}`,
  );
}

if (!only || only === 'book' || only === 'whole') {
  // The whole machine's memory: summed RSS of every process in either node's network namespace
  // (dockerd, cri-dockerd, kubelets, the control plane, pods). Shared pages count once per process.
  const NETNS = ['/var/run/netns/book-minikube', '/var/run/netns/book-worker'];
  const machineRssMb = () => {
    const inodes = new Set(NETNS.filter(existsSync).map((f) => `net:[${statSync(f).ino}]`));
    let kb = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        if (!inodes.has(readlinkSync(`/proc/${pid}/ns/net`))) continue;
        kb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      } catch {}
    }
    return kb / 1024;
  };
  const timeOne = async (reporter) => {
    freshMachine();
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'book-bench-run-')), 'time.txt');
    // A terminal's size, as a reader's has: `script` without a controlling terminal gives a 0×0 pty.
    const inner = `stty rows 40 cols 120; /usr/bin/time -f %M -o ${out} ${BIN} run --reporter ${reporter} --junit ${out}.xml`;
    const t = performance.now();
    let machinePeak = 0;
    const sampler = setInterval(() => {
      machinePeak = Math.max(machinePeak, machineRssMb());
    }, 500);
    // `script` gives the Ink UI a terminal; plain runs inside it too, so both pay the same.
    const child = spawn('script', ['-qfec', inner, '/dev/null'], {
      cwd: root,
      env: { ...process.env, CI: '', TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' },
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group: the guard below stops the book run inside the pty too, not only `script`.
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (c) => {
      stdout += c;
      if (stdout.length > 1 << 22) stdout = stdout.slice(-(1 << 20));
    });
    // The Ink UI asks what to do after a failure: a failing run would wait for a key forever.
    // 20 minutes: the whole book takes 4 to 7 (chapter 14 waits out real grace periods).
    const guard = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 20 * 60_000);
    const status = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(guard);
    clearInterval(sampler);
    const wall = performance.now() - t;
    if (status !== 0) throw new Error(`run with ${reporter} failed: ${stdout.slice(-3000)}`);
    // The chapters' times, from the JUnit file (one testsuite per chapter).
    const junit = readFileSync(`${out}.xml`, 'utf8');
    const chapters = Object.fromEntries([...junit.matchAll(/<testsuite name="([^"]+)"[^>]* time="([\d.]+)"/g)].map(([, id, time]) => [id, Number(time)]));
    return {
      wall,
      rssMb: Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024,
      machineMb: machinePeak,
      worker: chapters['10-second-node'] ?? Number.NaN,
      chapters,
    };
  };
  const plain = [];
  const tui = [];
  const m = (xs, k) => median(xs.map((x) => x[k]));
  if (only === 'whole') {
    const runs = Number(process.env.BENCH_RUNS ?? 5);
    for (let i = 0; i < runs; i++) {
      plain.push(await timeOne('plain'));
      console.log(`run ${i + 1}: ${(plain[i].wall / 1000).toFixed(1)} s`);
    }
    console.log(
      `whole book, plain: median of ${runs} ${(m(plain, 'wall') / 1000).toFixed(1)} s; all: ${plain.map((x) => (x.wall / 1000).toFixed(1)).join(' ')}`,
    );
    for (const id of Object.keys(plain[0].chapters)) {
      const times = plain.map((x) => x.chapters[id] ?? Number.NaN);
      console.log(`  ${id.padEnd(28)} median ${median(times).toFixed(1)} s; all: ${times.map((t) => t.toFixed(1)).join(' ')}`);
    }
    book(['machine', 'down']);
    process.exit(0);
  }
  // Book runs vary by seconds with the cluster's own timing: BENCH_RUNS=5 for a steadier median.
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  for (let i = 0; i < runs; i++) {
    plain.push(await timeOne('plain'));
    tui.push(await timeOne('tui'));
  }
  console.log(`whole book, plain: ${(m(plain, 'wall') / 1000).toFixed(1)} s, peak RSS ${m(plain, 'rssMb').toFixed(0)} MB`);
  console.log(`whole book, Ink UI: ${(m(tui, 'wall') / 1000).toFixed(1)} s, peak RSS ${m(tui, 'rssMb').toFixed(0)} MB (goal: +<10 % wall, < 200 MB)`);
  console.log(
    `chapter 10 (the second node), plain: ${m(plain, 'worker').toFixed(1)} s; the machine's peak summed RSS (both nodes): ${m(plain, 'machineMb').toFixed(0)} MB`,
  );
  console.log(`UI cost: ${(((m(tui, 'wall') - m(plain, 'wall')) / m(plain, 'wall')) * 100).toFixed(1)} %`);
  const all = (xs) => xs.map((x) => (x.wall / 1000).toFixed(1)).join(' ');
  console.log(`all runs (s), plain: ${all(plain)}; Ink UI: ${all(tui)}`);
  book(['machine', 'down']);
}

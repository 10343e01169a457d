// npm run bench — the project's speed figures, as medians on this machine (see docs/benchmarks.md).
// Needs root on Linux (the local target's namespace) and zx (devDependency) for the comparison.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { chapterText, localYaml, median, withNetns, writeBook } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const BOOK = path.join(root, 'bin', 'book.js');
const only = process.argv[2];
const results = [];
const report = (name, value, unit, goal) => {
  results.push({ name, value, unit, goal });
  console.log(`${name.padEnd(58)} ${String(value).padStart(9)} ${unit.padEnd(3)} ${goal ? `(goal ${goal})` : ''}`);
};

/**
 * Runs a module in a fresh process, from a file: under `node -e` the runner's kernel threads
 * inherit the `-e` and its code with the process's options, and every snapshot got ~4x slower
 * (58 ms instead of 14 ms), which skewed the in-process figures.
 */
function runScript(script) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'book-bench-script-')), 'bench.mjs');
  writeFileSync(file, script);
  return execFileSync(process.execPath, [file]);
}

console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}\n`);

if (!only || only === 'parse') {
  // Parse + compile a 10-chapter book in a fresh process each time (what `book run` pays first).
  const files = {};
  for (let n = 1; n <= 10; n++) files[`${String(n).padStart(2, '0')}-chapter-${n}.md`] = chapterText(n);
  const dir = writeBook(files);
  const script = `import { loadBook } from '${root}/dist/runner-api.js'; import { compileChapters } from '${root}/dist/runner-api.js';
const t = performance.now(); const book = await loadBook(${JSON.stringify(dir)}); await compileChapters(book.chapters); console.log(performance.now() - t);`;
  const times = [];
  for (let i = 0; i < 15; i++) times.push(Number(runScript(script).toString()));
  report('parse + compile, 10 chapters (60 ts blocks), cold process', median(times).toFixed(1), 'ms', '< 300 ms');
}

function timeRun(args) {
  const t = performance.now();
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stdout}\n${r.stderr}`);
  return performance.now() - t;
}

if (!only || only === 'startup') {
  // The CLI's own start-up, what every command pays before it does anything: `book --help`, and
  // `book list` of a one-chapter book (its module imported on demand, src/cli.ts). Wall time and
  // peak RSS (/usr/bin/time), median of 11.
  const dir = writeBook({ '01-a.md': '# A\n\n```ts run\nawait $`true`\n```\n' });
  for (const [label, args] of [
    ['book --help', ['--help']],
    ['book list, one chapter', ['list', '--book', dir]],
  ]) {
    const wall = [];
    const rss = [];
    for (let i = 0; i < 11; i++) {
      // bin/book.js itself, so its shebang's node flags apply as for a reader.
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', BOOK, ...args], { encoding: 'utf8' });
      const [seconds, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
      wall.push(seconds * 1000);
      rss.push(kb / 1024);
    }
    report(`CLI start-up: ${label}, wall`, median(wall).toFixed(0), 'ms');
    report(`CLI start-up: ${label}, peak RSS`, median(rss).toFixed(0), 'MB');
  }
}

if (!only || only === 'overhead') {
  // Per-block overhead: books of 1 and 101 blocks doing `await $\`true\``; (T101 - T1) / 100.
  const ours = (n) => {
    const blocks = Array.from({ length: n }, () => '```ts run\nawait $`true`\n```\n').join('\n');
    return writeBook({ 'book.yaml': localYaml('book-bench'), '01-a.md': `# A\n\n${blocks}` });
  };
  const zxBook = (n) => {
    const blocks = Array.from({ length: n }, () => '```js\nawait $`true`\n```\n').join('\n');
    const dir = writeBook({ 'a.md': `# A\n\n${blocks}` });
    return path.join(dir, 'a.md');
  };
  const zx = path.join(root, 'node_modules', 'zx', 'build', 'cli.js');
  withNetns('book-bench', () => {
    const small = ours(1);
    const big = ours(101);
    const zsmall = zxBook(1);
    const zbig = zxBook(101);
    const per = { ours: [], zx: [] };
    for (let i = 0; i < 7; i++) {
      per.ours.push(
        (timeRun([process.execPath, BOOK, 'run', '--book', big, '--reporter', 'plain']) -
          timeRun([process.execPath, BOOK, 'run', '--book', small, '--reporter', 'plain'])) /
          100,
      );
      per.zx.push((timeRun([process.execPath, zx, '--quiet', zbig]) - timeRun([process.execPath, zx, '--quiet', zsmall])) / 100);
    }
    report('per-block overhead, book run (local target, in namespace)', median(per.ours).toFixed(2), 'ms', '<= zx');
    report('per-block overhead, zx markdown mode (host, no namespace)', median(per.zx).toFixed(2), 'ms');
    // The same books in this process with state snapshots off: what the runner costs without the
    // per-block diff of the cluster (the snapshot is what the UI and plain reporter show).
    const inProcess = (dir, isolate = true) => {
      const script = `import { loadBook, runBook, EventBus, createTarget } from '${root}/dist/runner-api.js';
const book = await loadBook(${JSON.stringify(dir)}); const target = await createTarget(book); await target.connect();
const t = performance.now(); await runBook({ book, chapters: book.chapters, target, bus: new EventBus(), snapshot: false, isolate: ${isolate} });
console.log(performance.now() - t); await target.close(); process.exit(0);`;
      return Number(runScript(script).toString());
    };
    const off = [];
    for (let i = 0; i < 7; i++) off.push((inProcess(big) - inProcess(small)) / 100);
    report('per-block overhead, book runner, snapshots off (in process)', median(off).toFixed(2), 'ms');
    // What running the blocks in a worker thread costs (isolate: false runs them in the runner's thread).
    const inThread = [];
    for (let i = 0; i < 7; i++) inThread.push((inProcess(big, false) - inProcess(small, false)) / 100);
    report('per-block overhead, same, blocks in the runner thread (isolate: false)', median(inThread).toFixed(2), 'ms');
    const start = [];
    for (let i = 0; i < 7; i++) start.push(inProcess(small) - inProcess(small, false));
    report("a chapter's kernel thread: start-up over the in-thread kernel (1-block book)", median(start).toFixed(1), 'ms');
  });
}

if (!only || only === 'snapshot') {
  // What the per-block figure above is mostly made of: the cluster-state snapshot after each block
  // (every source of both nodes, in parallel). Measured on the reader's machine with the cluster up
  // (book machine up && book run first), over a book of 101 `await $\`true\`` blocks; skipped when
  // the machine is down.
  const dir = writeBook({
    'book.yaml': readFileSync(path.join(root, 'book', 'book.yaml'), 'utf8'),
    '01-a.md': `# A\n\n${'```ts run\nawait $`true`\n```\n\n'.repeat(101)}`,
  });
  const script = `import { loadBook, runBook, EventBus, createTarget } from '${root}/dist/runner-api.js';
const book = await loadBook(${JSON.stringify(dir)}); const target = await createTarget(book); await target.connect();
const took = []; const sources = {};
const instrument = { snapshot: (take) => async (ctx) => { const t = performance.now(); const s = await take(ctx); took.push(performance.now() - t);
  for (const [k, v] of Object.entries(s.timings ?? {})) (sources[k] ??= []).push(v); return s; } };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
await runBook({ book, chapters: book.chapters, target, bus: new EventBus(), instrument });
console.log(JSON.stringify({ snapshot: median(took), sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, median(v)])) }));
await target.close(); process.exit(0);`;
  const up = spawnSync(process.execPath, [BOOK, 'machine', 'status'], { encoding: 'utf8' });
  if (up.status !== 0) console.log('snapshot: skipped (the machine is down: book machine up && book run first)');
  else {
    const runs = Array.from({ length: 5 }, () => JSON.parse(runScript(script).toString()));
    report('state snapshot after a block, real machine, cluster up (both nodes)', median(runs.map((r) => r.snapshot)).toFixed(2), 'ms');
    for (const name of Object.keys(runs[0].sources))
      report(`  of which the ${name} source (in parallel with the others)`, median(runs.map((r) => r.sources[name])).toFixed(2), 'ms');
  }
}

if (only === 'fuzz') {
  // The long fuzz run (npm test runs a short one): FUZZ_RUNS cases of each property, with the time
  // each took (test/unit/fuzz.test.ts prints them). Not part of the default bench: ~25 s.
  const runs = process.env.FUZZ_RUNS ?? '50000';
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'vitest.config.ts', 'test/unit/fuzz.test.ts'],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, FUZZ_RUNS: runs },
    },
  );
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('fuzz '))) console.log(line);
  if (r.status !== 0) {
    console.log(r.stdout.slice(-3000));
    process.exitCode = 1;
  }
}

if (!only || only === 'rss') {
  // Peak RSS of `book run` over a 10-chapter book with the plain reporter.
  const files = { 'book.yaml': localYaml('book-bench') };
  for (let n = 1; n <= 10; n++) files[`${String(n).padStart(2, '0')}-chapter-${n}.md`] = chapterText(n);
  const dir = writeBook(files);
  withNetns('book-bench', () => {
    const peaks = [];
    for (let i = 0; i < 5; i++) {
      const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BOOK, 'run', '--book', dir, '--reporter', 'plain'], {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
      });
      if (r.status !== 0) throw new Error(r.stdout + r.stderr);
      peaks.push(Number(r.stderr.trim().split('\n').pop()) / 1024);
    }
    report('peak RSS, book run of 10 chapters, plain reporter', median(peaks).toFixed(1), 'MB', '< 150 MB');
  });
}

// Render and replay of the real book from its committed transcript (test/fixtures/transcript/book.json):
// whole `book` processes, as CI and readers run them; no machine needed.
const TRANSCRIPT = path.join(root, 'test', 'fixtures', 'transcript', 'book.json');
const REAL_BOOK = path.join(root, 'book');
const REAL_CHAPTERS = readdirSync(REAL_BOOK).filter((n) => n.endsWith('.md')).length;

if (!only || only === 'render') {
  const out = path.join(writeBook({}), '..', 'site');
  const times = [];
  for (let i = 0; i < 11; i++) times.push(timeRun([process.execPath, BOOK, 'render', '--book', REAL_BOOK, '--transcript', TRANSCRIPT, '--out', out]));
  report(`book render, real book (${REAL_CHAPTERS} chapters, diagrams on) + transcript, process`, median(times).toFixed(0), 'ms', '< 2000 ms');
}

if (!only || only === 'diagrams') {
  // The diagrams' share of a render, in-process: every drawing the site has (after each chapter and
  // after each busy block), model + both layouts + SVG, bundled from the sources on the fly.
  const { build } = await import('esbuild');
  const bundle = path.join(mkdtempSync(path.join(tmpdir(), 'book-bench-')), 'diagrams.mjs');
  await build({
    stdin: {
      contents: "export { diagramFigure } from './src/render/diagram/index.ts'; export { snapshotTimeline } from './src/render/timeline.ts';",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'error',
  });
  const { diagramFigure, snapshotTimeline } = await import(bundle);
  const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8'));
  const times = [];
  let count = 0;
  for (let i = 0; i < 11; i++) {
    const start = performance.now();
    const timeline = snapshotTimeline(transcript);
    const drawings = [...timeline.chapters.values(), ...timeline.blocks.values()];
    for (const d of drawings) diagramFigure(d.snapshot, d.previous, { title: 'bench', kind: 'chapter' });
    times.push(performance.now() - start);
    count = drawings.length;
  }
  report(`cluster diagrams of the real book (${count} drawings, 2 layouts each), in-process`, median(times).toFixed(1), 'ms', 'part of render');
}

if (!only || only === 'replay') {
  const times = [];
  for (let i = 0; i < 11; i++) times.push(timeRun([process.execPath, BOOK, 'replay', '--book', REAL_BOOK, '--transcript', TRANSCRIPT, '--reporter', 'plain']));
  report(`book replay, real book (${REAL_CHAPTERS} chapters), process`, median(times).toFixed(0), 'ms', '< 5000 ms');
}

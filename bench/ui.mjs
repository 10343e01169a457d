// node bench/ui.mjs [snapshot|ui] — the terminal UI's figures (docs/ui.md, docs/benchmarks.md).
//   snapshot: snapshot + diff of the running local machine (book/book.yaml's target), read only.
//   ui:       `book run` of a small book: Ink UI (in a pseudo-terminal) vs plain, wall time and peak RSS.
// Needs root on Linux; build first (npm run build).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { localYaml, median, withNetns, writeBook } from './lib.mjs';

const root = path.resolve(import.meta.dirname, '..');
const BOOK = path.join(root, 'bin', 'book.js');
const only = process.argv[2];
const report = (name, value, unit, goal) => console.log(`${name.padEnd(62)} ${String(value).padStart(9)} ${unit.padEnd(3)} ${goal ? `(goal ${goal})` : ''}`);
console.log(`machine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}; node ${process.version}\n`);

if (!only || only === 'snapshot') {
  // The state module is not part of the public runner API: bundle what the bench needs.
  const outfile = path.join(root, 'node_modules', '.cache', 'bench-ui', 'state.mjs');
  await build({
    stdin: {
      contents: `export { takeSnapshot, diffSnapshots } from './src/runner/state/index.ts';
export { MachineClients } from './src/runner/clients.ts';
export { createTarget } from './src/runner/targets/index.ts';
export { loadBook } from './src/runner/load-book.ts';`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['esbuild', 'ssh2', 'cpu-features'],
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    logLevel: 'error',
  });
  const { takeSnapshot, diffSnapshots, MachineClients, createTarget, loadBook } = await import(outfile);
  const book = await loadBook(path.join(root, 'book'));
  const target = await createTarget(book);
  const clients = new MachineClients(target, book.config.kubeconfig);
  const context = { target, clients };
  let previous = await takeSnapshot(context);
  const times = [];
  const per = {};
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    const next = await takeSnapshot(context);
    diffSnapshots(previous, next);
    times.push(performance.now() - t0);
    for (const [k, v] of Object.entries(next.timings)) per[k] = [...(per[k] ?? []), v];
    previous = next;
  }
  await clients.close();
  const counts = Object.entries(previous.sources).map(
    ([k, s]) => `${k}: ${s.available ? `${Object.keys(s.items).length} objects` : `unavailable (${s.reason})`}`,
  );
  console.log(`machine ${target.name}: ${counts.join('; ')}`);
  report('snapshot + diff, whole machine, median of 40', median(times).toFixed(1), 'ms', '< 150 ms');
  report('snapshot + diff, whole machine, slowest of 40', Math.max(...times).toFixed(1), 'ms');
  for (const [k, v] of Object.entries(per)) report(`  source ${k}, median`, median(v).toFixed(1), 'ms');
}

if (!only || only === 'ui') {
  // A small book: 3 chapters × 4 blocks with some output, and a daemon (so the daemons panel draws).
  const chapter = (n) =>
    `# Chapter ${n}\n\n${Array.from({ length: 4 }, (_, i) => `\`\`\`sh run name=c${n}-b${i}\nfor j in $(seq 1 20); do echo "chapter ${n} block ${i} line $j"; done\n\`\`\`\n`).join('\n')}`;
  const files = { 'book.yaml': localYaml('book-bench-ui'), '01-a.md': chapter(1), '02-b.md': chapter(2), '03-c.md': chapter(3) };
  files['01-a.md'] += "\n```ts run name=daemon\nawait machine.daemon('bench-sleeper', ['sleep', '300'])\n```\n";
  const dir = writeBook(files);
  const timed = (command) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', 'bash', '-c', command], { encoding: 'utf8', env: { ...process.env } });
    const [wall, kb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (r.status !== 0) throw new Error(`${command} failed (${r.status}): ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    return { wall: wall * 1000, rss: kb / 1024 };
  };
  withNetns('book-bench-ui', () => {
    const runs = { tui: [], plain: [], piped: [] };
    // The Ink UI needs a terminal: `script` gives it a pseudo-terminal (stdout is a TTY, CI unset).
    // `script` itself costs ~0.5 s here, so plain is timed in the same pseudo-terminal too.
    const inPty = (reporter) =>
      `env -u CI script -qec '${process.execPath} ${BOOK} run --book ${dir} --reporter ${reporter}' /dev/null < /dev/null > /dev/null`;
    for (let i = 0; i < 5; i++) {
      runs.tui.push(timed(inPty('tui')));
      runs.plain.push(timed(inPty('plain')));
      runs.piped.push(timed(`CI=true ${process.execPath} ${BOOK} run --book ${dir} --reporter plain > /dev/null`));
    }
    spawnSync('bash', ['-c', 'for p in /run/book-bench-ui/daemons/*.pid; do [ -e "$p" ] && kill -KILL -- -"$(cat "$p")"; done; true']);
    rmSync('/run/book-bench-ui', { recursive: true, force: true });
    const wall = (runs) => median(runs.map((r) => r.wall)).toFixed(0);
    const rss = (runs) => median(runs.map((r) => r.rss)).toFixed(1);
    report('book run, 13 blocks, Ink UI in a pty, wall', wall(runs.tui), 'ms');
    report('book run, 13 blocks, plain reporter in a pty, wall', wall(runs.plain), 'ms');
    report('book run, 13 blocks, plain reporter to a pipe (CI), wall', wall(runs.piped), 'ms');
    report('book run, 13 blocks, Ink UI, peak RSS', rss(runs.tui), 'MB');
    report('book run, 13 blocks, plain reporter, peak RSS', rss(runs.plain), 'MB');
  });
}

import { spawn, spawnSync } from 'node:child_process';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ALL_FOCUS, checkFocus, DEFAULT_FOCUS, e2eArgs } from '../conformance/focus.js';
import { parseJunit } from '../conformance/junit.js';
import { formatReport, summarize } from '../conformance/report.js';
import { loadImages, readCache, shipFiles } from '../conformance/ship.js';
import { writeAtomic } from '../runner/files.js';
import { lockMachine } from '../runner/lock.js';
import { BadArguments } from '../runner/select.js';
import { createTarget, resolveTargetName, targetConfig } from '../runner/targets/index.js';
import { nodeTargets } from '../runner/targets/nodes.js';
import { shellQuote, type Target } from '../runner/targets/target.js';
import { exitCodeFor, type Io, machineVersions, openBook, PACKAGE_ROOT } from './common.js';
import { checkOutputFolder } from './output-paths.js';
import { onStopSignals } from './stop-signals.js';

export interface ConformanceCommandOptions {
  book?: string;
  target?: string;
  /** Every [Conformance] spec instead of the default set. */
  all?: boolean;
  /** A regular expression (Ginkgo's --focus) instead of the default set. */
  focus?: string;
  /** Where the JUnit file, the report and e2e.test's log go (default test-results/conformance). */
  out?: string;
}

const BUILD_SCRIPT = path.join(PACKAGE_ROOT, 'vagrant', 'build-conformance.sh');

/** The cache folder of this Kubernetes version, as the build script names it. */
function cacheDir(k8sVersion: string): string {
  const said = spawnSync('bash', [BUILD_SCRIPT, '--print-cache'], { encoding: 'utf8', env: { ...process.env, K8S_VERSION: k8sVersion } });
  if (said.status !== 0) throw new Error(`${BUILD_SCRIPT} --print-cache failed: ${said.stderr.trim()}`);
  return said.stdout.trim();
}

/** Runs the build script (warm: a second; cold: 15-25 minutes), its output to the reader. */
function build(k8sVersion: string, io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { env: { ...process.env, K8S_VERSION: k8sVersion }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => io.err(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => io.err(chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${BUILD_SCRIPT} failed (exit ${code}); its log is in the cache's logs/`))));
  });
}

/** Ginkgo's succinct output, shortened for the terminal: a line per finished spec and the summary. */
function progressFilter(io: Io): (chunk: string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (
        /^(?:•|S|P)?\s*\[(?:FAILED|PANICKED|TIMEDOUT)\]|^Ran \d+ of \d+ Specs|^(?:FAIL|PASS|SUCCESS!|FAIL!)|^Running Suite|^Will run \d+ of \d+ specs/.test(
          line,
        )
      )
        io.err(`${line}\n`);
    }
  };
}

/** How many specs run at once: BOOK_CONFORMANCE_PROCS, else 3 (they mostly wait for pods, even on 2 cores). */
export function parallelProcs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.BOOK_CONFORMANCE_PROCS);
  return Number.isInteger(n) && n >= 1 && n <= 32 ? n : 3;
}

/** BOOK_CONFORMANCE_TIMEOUT (Go's duration, e.g. `45m`), else 6h for --all and 2h otherwise. */
export function suiteTimeout(all: boolean | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.BOOK_CONFORMANCE_TIMEOUT;
  if (wanted && /^\d+(?:h|m|s)$/.test(wanted)) return wanted;
  return all ? '6h' : '2h';
}

/** What a run writes into --out, and the list of them it leaves there: what a later run may replace. */
const OUT_FILES = ['e2e.log', 'junit.xml', 'report.txt', 'summary.json'] as const;
const OUT_MARKER = '.book-conformance.json';

/**
 * Before the run: a file in --out with the name of one of ours is replaced only if an earlier run
 * wrote it (the marker lists it); a reader's report.txt is never overwritten.
 */
async function checkConformanceOut(out: string): Promise<void> {
  const listed = await readFile(path.join(out, OUT_MARKER), 'utf8')
    .then((text) => (JSON.parse(text) as { files?: unknown }).files)
    .catch(() => undefined);
  const ours = new Set(Array.isArray(listed) ? listed : []);
  for (const name of OUT_FILES) {
    const info = await lstat(path.join(out, name)).catch(() => undefined);
    if (!info || (info.isFile() && ours.has(name))) continue;
    throw new BadArguments(
      `--out ${out}: holds ${name}, which book conformance did not write, and book never overwrites a file of yours; choose a new or empty folder (e.g. ${path.join(out, 'conformance')})`,
    );
  }
}

export async function conformanceCommand(options: ConformanceCommandOptions, io: Io): Promise<number> {
  try {
    if (options.all && options.focus) throw new BadArguments('--all and --focus exclude each other: --all runs every [Conformance] spec');
    if (options.focus !== undefined) {
      const wrong = checkFocus(options.focus);
      if (wrong) throw new BadArguments(wrong);
    }
    const out = path.resolve(options.out ?? 'test-results/conformance');
    await checkOutputFolder('--out', out);
    await checkConformanceOut(out);
    const book = await openBook(options.book);
    const { K8S_VERSION } = machineVersions(book);
    const name = await resolveTargetName(book, options.target);
    targetConfig(book, name);

    const dir = cacheDir(K8S_VERSION);
    // Always through the script: it knows when its recipe changed (images built by an older one
    // are built again); warm, it answers in about a second.
    const before = await readCache(dir).catch(() => undefined);
    if (!before) io.err(`conformance: building e2e.test and the test images for ${K8S_VERSION} into ${dir} (cold: 15-25 minutes)\n`);
    await build(K8S_VERSION, io);
    const cache = await readCache(dir);

    const target = await createTarget(book, name);
    try {
      await target.connect();
      const lock = await lockMachine(target);
      try {
        return await runOnMachine(target, book, name, cache, options, out, io);
      } finally {
        await lock.release();
      }
    } finally {
      await target.close();
    }
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

async function runOnMachine(
  target: Target,
  book: Awaited<ReturnType<typeof openBook>>,
  name: string,
  cache: NonNullable<Awaited<ReturnType<typeof readCache>>>,
  options: ConformanceCommandOptions,
  out: string,
  io: Io,
): Promise<number> {
  const log = (line: string) => io.err(`conformance: ${line}\n`);
  const kubeconfig = book.config.kubeconfig;
  const has = await target.exec(`test -s ${shellQuote(kubeconfig)} && kubectl --kubeconfig=${shellQuote(kubeconfig)} get --raw=/readyz`);
  if (has.exitCode !== 0)
    throw new BadArguments(`the machine has no cluster to test (${kubeconfig} or the API server's /readyz): run the book first (book run --target ${name})`);

  // The images into every node's Docker: the master's, then the others' (a node not up is said and left).
  await loadImages(target, cache.images, log);
  const others = nodeTargets(book, name);
  for (const node of others.names) {
    const other = await others.open(node).catch(() => undefined);
    try {
      if (
        !other ||
        !(await other.connect().then(
          () => true,
          () => false,
        ))
      ) {
        log(`node ${node} is not up: its pods cannot start the test images`);
        continue;
      }
      await loadImages(other, cache.images, log);
    } finally {
      await other?.close();
    }
  }
  const [binary, ginkgo] = await shipFiles(target, [cache.binary, ...(cache.ginkgo ? [cache.ginkgo] : [])], log);

  const focus = options.all ? ALL_FOCUS : options.focus !== undefined ? [options.focus] : DEFAULT_FOCUS;
  const reportDir = `${target.runtimeDir}/conformance`;
  // The whole suite's deadline: at it, Ginkgo stops and still writes the JUnit report.
  const timeout = suiteTimeout(options.all);
  const args = e2eArgs({ focus, timeout, kubeconfig, reportDir });
  const procs = parallelProcs();
  // The Ginkgo CLI runs the specs in `procs` processes ([Serial] ones last, alone), as upstream's
  // hack/ginkgo-e2e.sh does; e2e.test alone runs them one by one.
  const command = ginkgo
    ? `${shellQuote(ginkgo)} --procs=${procs} --timeout=${timeout} --no-color --succinct --silence-skips ${shellQuote(binary as string)} -- ${args.map(shellQuote).join(' ')}`
    : `${shellQuote(binary as string)} ${args.map(shellQuote).join(' ')}`;
  log(
    `running e2e.test${ginkgo ? ` in ${procs} processes` : ''} on ${name}'s k8s-master: ${focus.length === 1 ? `--ginkgo.focus=${focus[0]}` : 'the default set (docs/conformance.md)'}`,
  );
  // Namespaces an interrupted run left behind (the framework labels its own with e2e-run).
  const leftovers = `kubectl --kubeconfig=${shellQuote(kubeconfig)} delete namespace -l e2e-run --wait=false >/dev/null 2>&1 || true`;
  await target.exec(leftovers);
  const started = Date.now();
  const interrupt = new AbortController();
  // SIGTERM too: otherwise the e2e.test on the machine would run on, and its namespaces stay.
  const stopListening = onStopSignals(() => interrupt.abort());
  let result: Awaited<ReturnType<Target['exec']>>;
  try {
    // Ginkgo's succinct output to the log; a spec per line only when it fails.
    result = await target.exec(`rm -rf ${shellQuote(reportDir)} && mkdir -p ${shellQuote(reportDir)} && cd ${shellQuote(reportDir)} && ${command} 2>&1`, {
      signal: interrupt.signal,
      onStdout: progressFilter(io),
    });
  } finally {
    stopListening();
    if (interrupt.signal.aborted) await target.exec(leftovers);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  await mkdir(out, { recursive: true });
  // The marker first: a run cut short between its writes still owns what it wrote.
  await writeAtomic(path.join(out, OUT_MARKER), `${JSON.stringify({ by: 'book conformance', files: OUT_FILES })}\n`, 0o644);
  await writeAtomic(path.join(out, 'e2e.log'), result.stdout + result.stderr, 0o644);
  const junit = await target.readFile(`${reportDir}/junit_01.xml`).catch(() => undefined);
  if (!junit) {
    io.err(`conformance: e2e.test wrote no JUnit report (exit ${result.exitCode}); its output: ${path.join(out, 'e2e.log')}\n`);
    return interrupt.signal.aborted ? 130 : 1;
  }
  const junitFile = path.join(out, 'junit.xml');
  await writeAtomic(junitFile, junit.toString('utf8'), 0o644);
  const summary = summarize(parseJunit(junit.toString('utf8')));
  const report = formatReport(summary, junitFile);
  await writeAtomic(path.join(out, 'report.txt'), report, 0o644);
  await writeAtomic(
    path.join(out, 'summary.json'),
    `${JSON.stringify({ seconds, passed: summary.passed, failed: summary.failed, skipped: summary.skipped, notSelected: summary.notSelected, specs: summary.specs.map(({ name, status, seconds, cause }) => ({ name, status, seconds, cause: cause?.id })) }, null, 2)}\n`,
    0o644,
  );
  io.out(report);
  io.out(`e2e.test ran ${seconds} s; report: ${path.join(out, 'report.txt')}, log: ${path.join(out, 'e2e.log')}\n`);
  if (interrupt.signal.aborted) return 130;
  return summary.failed === 0 && summary.passed > 0 ? 0 : 1;
}

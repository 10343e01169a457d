import type { DaemonStatus } from '../machine.js';
import { type MachineFileFacts, shellQuote } from '../targets/target.js';
import { addItem, compact } from './normalise.js';
import type { Fields } from './types.js';

export const MANIFESTS_DIR = '/etc/kubernetes/manifests';
export const LOG_LINES = 3;

/**
 * One round trip for what the machine's files say: the static-pod folder (name, size, content
 * hash), the daemons the machine was provisioned with (`<runtimeDir>/NAME.pid`: dockerd,
 * cri-dockerd) and the last lines of every daemon's log.
 */
export function machineFilesScript(runtimeDir: string, manifestsDir: string): string {
  const rt = shellQuote(runtimeDir);
  // Few processes: sha256sum, stat and tail once each; the rest are bash builtins.
  return `if cd ${shellQuote(manifestsDir)} 2>/dev/null; then set -- *; if [ -e "$1" ]; then
  sha256sum -- "$@" 2>/dev/null | while read -r h n; do printf 'H\\t%s\\t%s\\n' "$n" "\${h:0:12}"; done
  stat -c $'S\\t%n\\t%s' -- "$@"; fi; cd /; fi
for f in ${rt}/*.pid; do [ -e "$f" ] || continue; n=\${f##*/}; n=\${n%.pid}; p=; read -r p < "$f"; p=\${p//[!0-9]/}; r=0
  if [ -n "$p" ] && [ -r /proc/$p/stat ] && read -r s < /proc/$p/stat && [[ $s != *") Z "* ]]; then r=1; fi
  printf 'D\\t%s\\t%s\\t%s\\n' "$n" "$p" "$r"; done
${logTailsScript(runtimeDir, LOG_LINES)}
true`;
}

/** The last `lines` of every daemon's log (the runner's and the machine's own), as `tail -v` prints them. */
export function logTailsScript(runtimeDir: string, lines: number): string {
  const rt = shellQuote(runtimeDir);
  return `set -- ${rt}/daemons/*.log ${rt}/logs/*.log; logs=(); for f; do [ -e "$f" ] && logs+=("$f"); done
[ \${#logs[@]} -gt 0 ] && tail -v -n ${lines} -- "\${logs[@]}" 2>/dev/null`;
}

/** `tail -v` output → each log's non-empty lines, by daemon (`kubelet` for …/kubelet.log). */
export function parseLogTails(text: string): Map<string, string[]> {
  const logs = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const header = /^==> (.*) <==$/.exec(line);
    if (header) {
      current = [];
      logs.set((header[1] ?? '').replace(/^.*\//, '').replace(/\.log$/, ''), current);
    } else if (current && line !== '') current.push(line);
  }
  return logs;
}

export interface MachineFiles {
  manifests: Record<string, Fields>;
  provisioned: { name: string; pid: number | null; running: boolean }[];
  logs: Record<string, string[]>;
}

export function parseMachineFiles(stdout: string): MachineFiles {
  const out: MachineFiles = { manifests: {}, provisioned: [], logs: {} };
  const manifests = new Map<string, { size?: string; sha256?: string }>();
  // The logs' tails come last.
  const tails = stdout.search(/^==> .* <==$/m);
  for (const [log, lines] of parseLogTails(tails < 0 ? '' : stdout.slice(tails))) out.logs[log] = lines.map((l) => l.replace(/\r/g, '').slice(0, 400));
  for (const line of (tails < 0 ? stdout : stdout.slice(0, tails)).split('\n')) {
    const [tag, name = '', a = ''] = line.split('\t');
    if (tag === 'H') manifests.set(name, { ...manifests.get(name), sha256: a });
    else if (tag === 'S') manifests.set(name, { ...manifests.get(name), size: a.trim() });
    else if (tag === 'D') out.provisioned.push({ name, pid: a ? Number(a) : null, running: line.split('\t')[3] === '1' });
  }
  for (const [name, fields] of [...manifests].sort(([x], [y]) => x.localeCompare(y)))
    if (fields.sha256) addItem(out.manifests, `manifest ${name}`, compact(fields));
  return out;
}

/** `--kubeconfig=PATH` or `--kubeconfig PATH` in a daemon's argv: whom it talks to (the diagrams' arrow and its reason). */
export function kubeconfigOf(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith('--kubeconfig=')) return arg.slice('--kubeconfig='.length) || undefined;
    if (arg === '--kubeconfig') return argv[i + 1];
  }
  return undefined;
}

/**
 * The book's daemons (Machine.daemons()) and the provisioned ones; pids and start times are churn.
 * A daemon the book runs as its own under a provisioned daemon's name (chapter 7 stops the
 * machine's cri-dockerd and starts its own with CNI) is one daemon: the book's, whose state and
 * restarts are read from its own records. The provisioned pid file then names a process that is
 * gone, and is not read. A book daemon's `--kubeconfig` is kept (`kubeconfig`): what it talks to.
 */
export function daemonItems(daemons: DaemonStatus[], provisioned: MachineFiles['provisioned']): Record<string, Fields> {
  const items: Record<string, Fields> = {};
  for (const d of provisioned) items[`daemon ${d.name}`] = { state: d.running ? 'running' : 'stopped' };
  for (const d of daemons) {
    const kubeconfig = kubeconfigOf(d.argv ?? []);
    items[`daemon ${d.name}`] = { state: d.running ? 'running' : 'stopped', restarts: String(d.restarts), ...(kubeconfig ? { kubeconfig } : {}) };
  }
  return Object.fromEntries(Object.entries(items).sort(([a], [b]) => a.localeCompare(b)));
}

/** The agent's raw facts (Target.nodeState's `files`) as the same items the scripts and node:fs give. */
export function machineFilesFromFacts(facts: MachineFileFacts): MachineFiles & { daemons: DaemonStatus[] } {
  const manifests: Record<string, Fields> = {};
  for (const [name, size, sha256] of facts.manifests) addItem(manifests, `manifest ${name}`, compact({ size: String(size), sha256 }));
  return {
    manifests,
    provisioned: facts.provisioned.map(([name, pid, running]) => ({ name, pid, running })),
    logs: facts.logs,
    daemons: facts.daemons,
  };
}

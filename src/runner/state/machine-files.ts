import type { DaemonStatus } from '../machine.js';
import { shellQuote } from '../targets/target.js';
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
  return `alive() { [ -r /proc/$1/stat ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
if cd ${shellQuote(manifestsDir)} 2>/dev/null; then for f in *; do [ -f "$f" ] || continue
  printf 'M\\t%s\\t%s\\t%s\\n' "$f" "$(wc -c < "$f")" "$(sha256sum < "$f" | cut -c1-12)"; done; fi
for f in ${rt}/*.pid; do [ -e "$f" ] || continue; n=$(basename "$f" .pid); p=$(head -n1 "$f" | tr -dc 0-9)
  r=0; if [ -n "$p" ] && alive "$p"; then r=1; fi; printf 'D\\t%s\\t%s\\t%s\\n' "$n" "$p" "$r"; done
for f in ${rt}/daemons/*.log ${rt}/logs/*.log; do [ -e "$f" ] || continue; n=$(basename "$f" .log)
  tail -n ${LOG_LINES} "$f" | tr -d '\\r' | cut -c1-400 | sed "s/^/L\\t$n\\t/"; done
true`;
}

export interface MachineFiles {
  manifests: Record<string, Fields>;
  provisioned: { name: string; pid: number | null; running: boolean }[];
  logs: Record<string, string[]>;
}

export function parseMachineFiles(stdout: string): MachineFiles {
  const out: MachineFiles = { manifests: {}, provisioned: [], logs: {} };
  for (const line of stdout.split('\n')) {
    const [tag, name = '', a = '', ...rest] = line.split('\t');
    if (tag === 'M') addItem(out.manifests, `manifest ${name}`, compact({ size: a.trim(), sha256: rest[0] }));
    else if (tag === 'D') out.provisioned.push({ name, pid: a ? Number(a) : null, running: rest[0] === '1' });
    else if (tag === 'L') out.logs[name] = [...(out.logs[name] ?? []), [a, ...rest].join('\t')];
  }
  return out;
}

/** The book's daemons (Machine.daemons()) and the provisioned ones; pids and start times are churn. */
export function daemonItems(daemons: DaemonStatus[], provisioned: MachineFiles['provisioned']): Record<string, Fields> {
  const items: Record<string, Fields> = {};
  const seen = new Set<string>();
  for (const d of provisioned) {
    seen.add(d.name);
    items[`daemon ${d.name}`] = { state: d.running ? 'running' : 'stopped' };
  }
  for (const d of daemons) {
    if (seen.has(d.name)) continue;
    items[`daemon ${d.name}`] = { state: d.running ? 'running' : 'stopped', restarts: String(d.restarts) };
  }
  return Object.fromEntries(Object.entries(items).sort(([a], [b]) => a.localeCompare(b)));
}

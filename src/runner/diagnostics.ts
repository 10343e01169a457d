import type Docker from 'dockerode';
import type { MachineClients } from './clients.js';
import type { BlockFailure } from './events.js';
import type { DockerContainer } from './state/docker.js';
import { logTailsScript, parseLogTails } from './state/machine-files.js';
import { within } from './state/snapshot.js';
import { shellQuote, type Target } from './targets/target.js';
import type { Block } from './types.js';

/**
 * What the machine says when a block fails: the Events of the objects the block touched or
 * waited for, the containers involved, the daemons' last log lines and the API server's
 * readiness. Collected once per failure (after the automatic retries), every source under a
 * short timeout and cut to a few lines: help for the reader, never a second failure or a hang.
 */

export interface DiagnosticSection {
  /** e.g. `Events`, `containers on k8s-master (docker ps -a)`, `kubelet log`. */
  title: string;
  lines: string[];
  /** Nothing wrong to report here (not available, nothing since the block started, all checks ok). */
  quiet?: boolean;
}

export interface DiagnosticsNode {
  name: string;
  target: Target;
  clients: MachineClients;
}

export interface DiagnosticsContext {
  block: Block;
  failure: BlockFailure;
  /** When the block's first attempt started (epoch ms): what happened since is the block's doing. */
  since: number;
  /** The admin kubeconfig on the first node (`kubectl get --raw /readyz?verbose`). */
  kubeconfig: string;
  /** The first node, then the others that are open. */
  nodes: DiagnosticsNode[];
  /** Each source's budget; default 3 s. All sources are asked at once. */
  timeoutMs?: number;
}

/** Diagnostics as text: each section's title, its lines indented under it. */
export function diagnosticLines(sections: DiagnosticSection[]): string[] {
  return sections.flatMap((section) => [`── ${section.title}`, ...section.lines.map((line) => `   ${line}`)]);
}

export type DiagnoseFn = (context: DiagnosticsContext) => Promise<DiagnosticSection[]>;

const MAX_LINES = 12;
const MAX_WIDTH = 300;
const LOG_LINES = 8;
/** How far back each daemon's log is read for the lines that matter. */
const LOG_SCAN_LINES = 200;
const LOG_SHOWN = 6;
/** The daemons whose logs explain most failures; others join when the block names them. */
const USUAL_DAEMONS = ['kubelet', 'cri-dockerd', 'dockerd'];

function cut(line: string): string {
  const clean = line.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\r\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return clean.length > MAX_WIDTH ? `${clean.slice(0, MAX_WIDTH - 1)}…` : clean;
}

function bounded(lines: string[], max = MAX_LINES): string[] {
  if (lines.length <= max) return lines.map(cut);
  return [...lines.slice(0, max).map(cut), `… ${lines.length - max} more`];
}

/** The words of the block and its failure: an object is the block's when it names one of them. */
export function mentionedWords(context: { block: Pick<Block, 'code'>; failure: Pick<BlockFailure, 'message' | 'stderrTail'> }): Set<string> {
  const text = `${context.block.code}\n${context.failure.message}\n${context.failure.stderrTail ?? ''}`;
  return new Set(text.toLowerCase().match(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?/g) ?? []);
}

/** `nginx-deployment-6d4cf56db6-x7k2p` is named by a block that says `nginx-deployment`. */
export function isMentioned(name: string, words: Set<string>): boolean {
  const parts = name.toLowerCase().split('-');
  for (let n = parts.length; n >= 1; n--) {
    const prefix = parts.slice(0, n).join('-');
    if (words.has(prefix) && (n === parts.length || prefix.length >= 5)) return true;
  }
  return false;
}

function ago(time: number, now: number): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  lastTimestamp?: Date | string;
  eventTime?: Date | string;
  firstTimestamp?: Date | string;
  metadata?: { creationTimestamp?: Date | string };
  series?: { lastObservedTime?: Date | string; count?: number };
}

function eventTime(e: EventLike): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/** The Events since the block started (warnings first, newest first), then older ones of an object it names. */
export function eventLines(events: EventLike[], context: Pick<DiagnosticsContext, 'block' | 'failure' | 'since'>, now = Date.now()): string[] {
  const words = mentionedWords(context);
  const relevant = events.filter((e) => eventTime(e) >= context.since - 2000 || isMentioned(e.involvedObject?.name ?? '', words));
  const recent = (e: EventLike) => Number(eventTime(e) >= context.since - 2000);
  relevant.sort((a, b) => recent(b) - recent(a) || Number(b.type === 'Warning') - Number(a.type === 'Warning') || eventTime(b) - eventTime(a));
  return relevant.map((e) => {
    const o = e.involvedObject ?? {};
    const count = e.series?.count ?? e.count ?? 1;
    const where = `${(o.kind ?? '?').toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name ?? '?'}`;
    return `${e.type ?? 'Normal'} ${e.reason ?? ''} ${where}${count > 1 ? ` (×${count})` : ''} ${ago(eventTime(e), now)}: ${(e.message ?? '').trim()}`;
  });
}

async function eventsSection(context: DiagnosticsContext, ms: number): Promise<DiagnosticSection | undefined> {
  const first = context.nodes[0];
  if (!first) return undefined;
  try {
    const list = await within(
      (async () => {
        await first.clients.refreshK8s();
        return (await first.clients.k8sGlobal().core.listEventForAllNamespaces()).items as EventLike[];
      })(),
      ms,
    );
    const lines = eventLines(list, context);
    return {
      title: 'Events (since the block started: warnings first, newest first)',
      lines: lines.length > 0 ? bounded(lines) : ['none since the block started, and none of an object it names'],
      quiet: lines.length === 0,
    };
  } catch (error) {
    return { title: 'Events', lines: [cut(`not available: ${(error as Error).message}`)], quiet: true };
  }
}

type ContainerLike = Pick<DockerContainer, 'Id' | 'Names' | 'Image' | 'State' | 'Status' | 'Created'>;

/** `k8s_nginx_nginx-deployment-…_default_<uid>_0` → its pod's name. */
function podOf(name: string): string | undefined {
  const parts = name.split('_');
  return parts[0] === 'k8s' && parts.length >= 6 ? parts[2] : undefined;
}

/** The containers made since the block started, named by it, or of a pod it names; stopped ones first. */
export function involvedContainers(list: ContainerLike[], context: Pick<DiagnosticsContext, 'block' | 'failure' | 'since'>): ContainerLike[] {
  const words = mentionedWords(context);
  const name = (c: ContainerLike) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
  return list
    .filter((c) => {
      const n = name(c);
      const pod = podOf(n);
      return (c.Created ?? 0) * 1000 >= context.since - 2000 || isMentioned(n, words) || (pod !== undefined && isMentioned(pod, words));
    })
    .sort((a, b) => Number(a.State === 'running') - Number(b.State === 'running') || (b.Created ?? 0) - (a.Created ?? 0));
}

/** `docker logs` of a container without a TTY comes in frames: an 8-byte header, then the bytes. */
export function demuxDockerLog(buffer: Buffer): string {
  let out = '';
  let at = 0;
  while (at + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(at + 4);
    out += buffer.subarray(at + 8, at + 8 + size).toString('utf8');
    at += 8 + size;
  }
  return at === 0 && buffer.length > 0 ? buffer.toString('utf8') : out;
}

async function containerSections(node: DiagnosticsNode, context: DiagnosticsContext, ms: number): Promise<DiagnosticSection[]> {
  const title = `containers on ${node.name} (docker ps -a)`;
  try {
    const docker: Docker = await within(node.clients.dockerClient(), ms);
    const list = (await within(docker.listContainers({ all: true }), ms)) as ContainerLike[];
    const involved = involvedContainers(list, context);
    const name = (c: ContainerLike) => (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
    const running = list.filter((c) => c.State === 'running').length;
    const summary = `${list.length} container(s), ${running} running`;
    if (involved.length === 0) return [{ title, lines: [`${summary}; none made since the block started or named by it`], quiet: true }];
    const rows = involved.map((c) => `${name(c)}  ${c.Image ?? ''}  ${c.Status ?? c.State ?? ''}`);
    const sections: DiagnosticSection[] = [{ title, lines: [...bounded(rows), summary] }];
    // A container that stopped says why in its last lines.
    for (const c of involved.filter((x) => x.State !== 'running').slice(0, 2)) {
      const raw = await within(docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: LOG_LINES, follow: false }), ms).catch(() => undefined);
      const text = raw === undefined ? '' : demuxDockerLog(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length > 0) sections.push({ title: `docker logs ${name(c)} (last lines)`, lines: bounded(lines.slice(-LOG_LINES)) });
    }
    return sections;
  } catch (error) {
    return [{ title, lines: [cut(`not available: ${(error as Error).message}`)], quiet: true }];
  }
}

/** A log line's time, when it has one: klog's `E1202 06:11:57.512340` (this year, UTC) or logrus' `time="…"`. */
export function logLineTime(line: string, now = new Date()): number | undefined {
  const klog = /^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,3})/.exec(line);
  if (klog) {
    const [month, day, hour, minute, second, milli] = klog.slice(1).map(Number) as [number, number, number, number, number, number];
    const at = (year: number) => Date.UTC(year, month - 1, day, hour, minute, second, milli);
    // klog has no year: a December line read in January is last year's.
    const year = now.getUTCFullYear();
    return at(year) > now.getTime() + 86_400_000 ? at(year - 1) : at(year);
  }
  const logrus = /time="([^"]+)"/.exec(line);
  const t = logrus?.[1] ? Date.parse(logrus[1]) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
}

const ERROR_LINE = /^[EWF]\d{4} |level=(?:error|warning|fatal)|\b(?:error|fatal|panic|failed)\b/i;

/**
 * The lines of a daemon's log that explain a failure: since the block started, warnings and errors,
 * or naming what the block named; the last LOG_SHOWN of them.
 */
export function telling(lines: string[], block: Pick<Block, 'code'>, since: number, now = new Date()): string[] {
  // The block's own names (`broken-pod`, `nginx-deployment`), not every word of an error message.
  const names = [...mentionedWords({ block, failure: { message: '' } })].filter((w) => w.length >= 5 && w.includes('-'));
  return lines
    .filter((line) => {
      const t = logLineTime(line, now);
      if (t !== undefined && t < since - 2000) return false;
      // A continuation line (no time of its own) counts only when it reads as an error.
      return ERROR_LINE.test(line) || (t !== undefined && names.some((name) => line.includes(name)));
    })
    .slice(-LOG_SHOWN);
}

async function daemonLogSections(node: DiagnosticsNode, context: DiagnosticsContext, ms: number, prefix: string): Promise<DiagnosticSection[]> {
  try {
    const result = await within(node.target.exec(`${logTailsScript(node.target.runtimeDir, LOG_SCAN_LINES)}; exit 0`), ms);
    const logs = parseLogTails(result.stdout);
    const words = mentionedWords(context);
    const wanted = [...logs.keys()].filter((daemon) => USUAL_DAEMONS.includes(daemon) || words.has(daemon));
    const quiet: string[] = [];
    const sections: DiagnosticSection[] = [];
    for (const daemon of wanted) {
      const lines = telling(logs.get(daemon) ?? [], context.block, context.since);
      if (lines.length > 0)
        sections.push({ title: `${prefix}${daemon} log (errors, warnings and lines naming the block's objects since it started)`, lines: bounded(lines) });
      else quiet.push(daemon);
    }
    if (quiet.length > 0)
      sections.push({ title: `${prefix}daemon logs`, lines: [`${quiet.join(', ')}: nothing above info level since the block started`], quiet: true });
    return sections;
  } catch (error) {
    return [{ title: `${prefix}daemon logs`, lines: [cut(`not available: ${(error as Error).message}`)], quiet: true }];
  }
}

/** The API server's own view of its readiness: only the checks that fail, then its verdict. */
export function readyzLines(output: string): string[] {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const failing = lines.filter((l) => l.startsWith('[-]'));
  const verdict = lines.filter((l) => !l.startsWith('[+]') && !l.startsWith('[-]'));
  const passing = lines.length - failing.length - verdict.length;
  return [...failing, ...(passing > 0 ? [`${passing} check(s) ok`] : []), ...verdict];
}

async function readyzSection(context: DiagnosticsContext, ms: number): Promise<DiagnosticSection | undefined> {
  const first = context.nodes[0];
  if (!first) return undefined;
  const kubeconfig = shellQuote(context.kubeconfig);
  // No kubeconfig yet: no API server to ask (the early chapters).
  const script = `[ -e ${kubeconfig} ] || exit 0; command -v kubectl >/dev/null || exit 0
kubectl --kubeconfig ${kubeconfig} get --raw '/readyz?verbose' --request-timeout=${Math.max(1, Math.floor(ms / 1000))}s 2>&1 || true`;
  try {
    const result = await within(first.target.exec(script), ms + 500);
    const lines = readyzLines(result.stdout);
    const ok = lines.at(-1) === 'readyz check passed' && !lines.some((l) => l.startsWith('[-]'));
    return lines.length > 0 ? { title: 'API server /readyz?verbose', lines: bounded(lines), quiet: ok } : undefined;
  } catch (error) {
    return { title: 'API server /readyz?verbose', lines: [cut(`not available: ${(error as Error).message}`)], quiet: true };
  }
}

/** Every source at once, each under its timeout; sections that have nothing to say are left out. */
export async function collectDiagnostics(context: DiagnosticsContext): Promise<DiagnosticSection[]> {
  const ms = context.timeoutMs ?? 3000;
  const many = context.nodes.length > 1;
  const parts = await Promise.all([
    eventsSection(context, ms).then((s) => (s ? [s] : [])),
    ...context.nodes.map((node) => containerSections(node, context, ms)),
    ...context.nodes.map((node) => daemonLogSections(node, context, ms, many ? `${node.name}/` : '')),
    readyzSection(context, ms).then((s) => (s ? [s] : [])),
  ]);
  return parts.flat();
}

import { CAUSES, type Cause, explain } from './causes.js';
import type { SpecResult } from './junit.js';

export interface ReportedSpec extends SpecResult {
  /** For a failure: what it points at in the book. */
  cause?: Cause;
}

export interface ConformanceSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Left out by the focus (Ginkgo lists every spec of the suite). */
  notSelected: number;
  /** The specs that ran or were skipped with a reason, in the file's order; suite nodes that passed are left out. */
  specs: ReportedSpec[];
  /** Failures by cause, the most frequent first. */
  byCause: { cause: Cause; specs: string[] }[];
}

/** Counts and maps the parsed JUnit results. */
export function summarize(results: readonly SpecResult[], causes: readonly Cause[] = CAUSES): ConformanceSummary {
  const summary: ConformanceSummary = { passed: 0, failed: 0, skipped: 0, notSelected: 0, specs: [], byCause: [] };
  const groups = new Map<string, { cause: Cause; specs: string[] }>();
  for (const result of results) {
    // The suite's own nodes count only when they fail (a failing BeforeSuite fails every spec).
    if (result.node !== 'It' && result.status !== 'failed') continue;
    if (result.status === 'skipped' && result.filtered) {
      summary.notSelected++;
      continue;
    }
    const spec: ReportedSpec = { ...result };
    if (result.status === 'failed') {
      spec.cause = explain(result, causes);
      const group = groups.get(spec.cause.id) ?? { cause: spec.cause, specs: [] };
      group.specs.push(result.name);
      groups.set(spec.cause.id, group);
    }
    summary[result.status]++;
    summary.specs.push(spec);
  }
  summary.byCause = [...groups.values()].sort((a, b) => b.specs.length - a.specs.length || a.cause.id.localeCompare(b.cause.id));
  return summary;
}

const MARK = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;

/** The first meaningful line of a failure (Ginkgo's text starts with the location, then the message). */
export function firstLine(message: string, max = 200): string {
  const line =
    message
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !/^\[(?:FAILED|PANICKED|TIMEDOUT)\]$/.test(l)) ?? '';
  const cleaned = line.replace(/^\[(?:FAILED|PANICKED|TIMEDOUT)\]\s*/, '');
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** The report a reader reads: one line per spec, then the failures by chapter, then the counts. */
export function formatReport(summary: ConformanceSummary, junitFile: string): string {
  const lines: string[] = [];
  for (const spec of summary.specs) {
    const time = `${spec.seconds.toFixed(1)}s`;
    lines.push(`${MARK[spec.status]}  ${spec.name}  (${time})`);
    if (spec.status === 'skipped' && spec.message) lines.push(`      skipped: ${firstLine(spec.message)}`);
    if (spec.status === 'failed') {
      lines.push(`      ${firstLine(spec.message) || 'failed (no message)'}`);
      if (spec.cause) lines.push(`      → ${spec.cause.chapter}: ${spec.cause.missing}`);
    }
  }
  if (summary.byCause.length > 0) {
    lines.push('', 'Failures by what they point at in the book:');
    for (const { cause, specs } of summary.byCause) {
      lines.push(`  ${cause.chapter} — ${cause.missing} (${specs.length})`, `      fix: ${cause.fix}`);
      for (const name of specs) lines.push(`      · ${name}`);
    }
  }
  lines.push(
    '',
    `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped (${summary.notSelected} specs of the suite not selected)`,
    `JUnit: ${junitFile}`,
  );
  return `${lines.join('\n')}\n`;
}

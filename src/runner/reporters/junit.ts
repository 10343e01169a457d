import { commandLine, onNewLine } from '../command-output.js';
import { diagnosticLines } from '../diagnostics.js';
import type { RunEvent } from '../events.js';

interface Case {
  name: string;
  file: string;
  line: number;
  seconds: number;
  status: 'passed' | 'failed' | 'skipped';
  message?: string;
  /** The failure's code (docs/errors.md), JUnit's `type`. */
  type?: string;
  /** What the machine said about the failure. */
  diagnostics?: string;
  output: string;
}

const escapeXml = (text: string) =>
  text
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** A testsuite per chapter, a testcase per block; `done` resolves to the XML once the run ends. */
export function junitReporter(): { listener: (event: RunEvent) => void; xml: () => string } {
  const suites: { name: string; title: string; cases: Case[]; seconds: number }[] = [];
  const outputs = new Map<string, string>();
  const diagnostics = new Map<string, string>();
  let total = 0;
  return {
    listener: (event) => {
      if (event.type === 'chapter:start') suites.push({ name: event.chapter.id, title: event.chapter.title, cases: [], seconds: 0 });
      // system-out: the block's output with each ts command and its output in place, as `o` shows it.
      if (event.type === 'block:output' || event.type === 'command:output') outputs.set(event.block.id, (outputs.get(event.block.id) ?? '') + event.text);
      if (event.type === 'command:start' && event.block.kind === 'ts') {
        const sofar = outputs.get(event.block.id) ?? '';
        outputs.set(event.block.id, sofar + onNewLine(sofar, `${commandLine(event)}\n`));
      }
      if (event.type === 'block:diagnostics') diagnostics.set(event.block.id, diagnosticLines(event.sections).join('\n'));
      if (event.type === 'block:end') {
        suites.at(-1)?.cases.push({
          name: event.block.id,
          file: event.block.file,
          line: event.block.line,
          seconds: event.durationMs / 1000,
          status: event.status,
          message: event.failure ? `${event.failure.file}:${event.failure.line}: ${event.failure.message}` : undefined,
          diagnostics: event.failure ? diagnostics.get(event.block.id) : undefined,
          type: event.failure?.code,
          output: outputs.get(event.block.id) ?? '',
        });
      }
      if (event.type === 'chapter:end') {
        const suite = suites.at(-1);
        if (suite) suite.seconds = event.durationMs / 1000;
      }
      if (event.type === 'run:end') total = event.durationMs / 1000;
    },
    xml: () => {
      const count = (s: (typeof suites)[number], status: Case['status']) => s.cases.filter((c) => c.status === status).length;
      const all = suites.flatMap((s) => s.cases);
      const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
      lines.push(
        `<testsuites name="book" tests="${all.length}" failures="${all.filter((c) => c.status === 'failed').length}" skipped="${all.filter((c) => c.status === 'skipped').length}" time="${total.toFixed(3)}">`,
      );
      for (const suite of suites) {
        lines.push(
          `  <testsuite name="${escapeXml(suite.name)}" tests="${suite.cases.length}" failures="${count(suite, 'failed')}" skipped="${count(suite, 'skipped')}" time="${suite.seconds.toFixed(3)}">`,
        );
        for (const c of suite.cases) {
          lines.push(
            `    <testcase classname="${escapeXml(suite.name)}" name="${escapeXml(c.name)}" file="${escapeXml(c.file)}" line="${c.line}" time="${c.seconds.toFixed(3)}">`,
          );
          if (c.status === 'failed')
            lines.push(
              `      <failure type="${escapeXml(c.type ?? 'BLOCK_FAILED')}" message="${escapeXml((c.message ?? '').split('\n')[0] ?? '')}">${escapeXml(`${c.message ?? ''}${c.diagnostics ? `\n\nwhat the machine says:\n${c.diagnostics}` : ''}`)}</failure>`,
            );
          if (c.status === 'skipped') lines.push('      <skipped/>');
          if (c.output) lines.push(`      <system-out>${escapeXml(c.output)}</system-out>`);
          lines.push('    </testcase>');
        }
        lines.push('  </testsuite>');
      }
      lines.push('</testsuites>');
      return `${lines.join('\n')}\n`;
    },
  };
}

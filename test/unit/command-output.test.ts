// Issue 29, output panels: a ts block's `$` command output sits folded under its command (the
// plain log, the terminal UI, `o`, JUnit and the transcript), never in the block's own output,
// which is what the block logged. Checked with generated commands, outputs and logs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, emptyModel, showFullOutput } from '../../src/ink-ui/model.js';
import { foldedOutput, textLines } from '../../src/runner/command-output.js';
import type { RunEvent } from '../../src/runner/events.js';
import { visibleOutput } from '../../src/runner/output-limits.js';
import { migrateV2, TRANSCRIPT_FORMAT_V2 } from '../../src/runner/record/migrate.js';
import { TRANSCRIPT_FORMAT, type Transcript } from '../../src/runner/record/transcript.js';
import { junitReporter } from '../../src/runner/reporters/junit.js';
import { plainReporter } from '../../src/runner/reporters/plain.js';
import type { Block } from '../../src/runner/types.js';

const block = { id: 'look', kind: 'ts', file: 'book/01.md', line: 3, codeLine: 4, code: 'x\n', chapterId: '01' } as unknown as Block;

/** Text a command may print: several lines, control characters, no trailing newline at times. */
const outputText = fc
  .array(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '<', '\t', '\u001b', '\r', 'é', '0'), maxLength: 30 }), { maxLength: 12 })
  .map((lines) => lines.join('\n'));
const command = fc.record({
  text: fc.stringMatching(/^[a-z][a-z -]{0,20}$/),
  stdout: fc.array(outputText, { maxLength: 4 }),
  stderr: outputText,
  log: fc.option(fc.stringMatching(/^[A-Z][a-z ]{0,15}$/), { nil: undefined }),
  // A command on a node other than the first (nodes['k8s-worker'].$) is shown with that node's name.
  node: fc.option(fc.constantFrom('k8s-worker', 'node-2'), { nil: undefined }),
});

type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

/** How every reporter shows a command: `$ CMD`, or `NODE $ CMD` on another node. */
const shown = (c: Command) => `${c.node ? `${c.node} ` : ''}$ ${c.text}`;

/** One block whose commands stream their output in chunks, each followed (maybe) by a console.log. */
function events(commands: Command[]): RunEvent[] {
  const out: RunEvent[] = [{ type: 'block:start', block, attempt: 1, time: 0 }];
  commands.forEach((c, id) => {
    out.push({ type: 'command:start', block, id, command: c.text, time: 0, ...(c.node ? { node: c.node } : {}) });
    for (const chunk of c.stdout) out.push({ type: 'command:output', block, id, stream: 'stdout', text: chunk });
    if (c.stderr) out.push({ type: 'command:output', block, id, stream: 'stderr', text: c.stderr });
    out.push({ type: 'command:end', block, id, command: c.text, exitCode: 0, durationMs: 1, stdout: c.stdout.join(''), stderr: c.stderr });
    if (c.log) out.push({ type: 'block:output', block, stream: 'log', text: `${c.log}\n` });
  });
  out.push({ type: 'block:end', block, status: 'passed', durationMs: 1, attempts: 1 });
  return out;
}

describe('foldedOutput: a command output as one line', () => {
  it('is one line, short, and says how many lines there were', () => {
    fc.assert(
      fc.property(outputText, outputText, (stdout, stderr) => {
        const folded = foldedOutput(stdout, stderr);
        const [out, err] = [textLines(stdout).length, textLines(stderr).length];
        if (out + err === 0) {
          expect(folded).toBeUndefined();
          return;
        }
        expect(folded).toBeDefined();
        expect(folded).not.toMatch(/[\n\r\u001b]/);
        expect((folded as string).length).toBeLessThan(72 + 60);
        if (out > 1) expect(folded).toContain(`(${out} lines)`);
        if (err > 0) expect(folded).toContain(`stderr: ${err} line`);
      }),
    );
  });
});

describe('the plain log', () => {
  it('prints each command once and its output folded to one line, and what the block logged in full', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 6 }), (commands) => {
        let text = '';
        const listen = plainReporter({ write: (t) => (text += t), tree: false });
        for (const event of events(commands)) listen(event);
        const lines = text.split('\n').filter(Boolean);
        commands.forEach((c) => {
          expect(lines).toContain(`    ${shown(c)}`);
          if (c.log) expect(lines).toContain(`    │ ${c.log}`);
        });
        // The block line, each command, at most one folded line each, each log.
        const logged = commands.filter((c) => c.log).length;
        const folded = lines.filter((l) => l.startsWith('      ↳ ')).length;
        expect(folded).toBe(commands.filter((c) => foldedOutput(c.stdout.join(''), c.stderr)).length);
        expect(lines.length).toBe(2 + commands.length + folded + logged);
      }),
    );
  });
});

describe('the terminal UI', () => {
  it('keeps commands and one folded line each in the scrollback, and `o` shows every output whole', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 5 }), (commands) => {
        const model = emptyModel();
        for (const event of events(commands)) apply(model, event);
        const kept = model.done.filter((d) => d.kind === 'output').flatMap((d) => (d.kind === 'output' ? d.lines : []));
        const folded = commands.filter((c) => foldedOutput(c.stdout.join(''), c.stderr));
        expect(kept.filter((l) => l.startsWith('  ↳ '))).toHaveLength(Math.min(folded.length, kept.length));
        if (folded.length === 0) return;
        expect(showFullOutput(model)).toBe(true);
        const full = (model.done.at(-1) as { lines: string[] }).lines.slice(1).join('\n');
        for (const c of commands) {
          expect(full).toContain(shown(c));
          // As the UI shows it: each chunk with its controls escaped, colours kept (model.ts shownOutput).
          const escaped = c.stdout.map((chunk) => visibleOutput(chunk, { colour: true })).join('') + visibleOutput(c.stderr, { colour: true });
          for (const line of textLines(escaped)) expect(full).toContain(line);
        }
      }),
    );
  });
});

describe('JUnit system-out', () => {
  it('has each command on its own line, followed by its output', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), (commands) => {
        const junit = junitReporter();
        junit.listener({ type: 'chapter:start', chapter: { id: '01', title: 'One' } as never, time: 0 });
        for (const event of events(commands)) junit.listener(event);
        const out = /<system-out>([\s\S]*)<\/system-out>/.exec(junit.xml())?.[1] ?? '';
        for (const c of commands) expect(out.split('\n')).toContain(shown(c));
      }),
    );
  });
});

describe('transcripts of format @2', () => {
  it("lose a ts block's copies of its commands' output, and nothing else", () => {
    const chunk = fc.record({ stream: fc.constantFrom('stdout' as const, 'stderr' as const, 'log' as const), text: fc.string() });
    const recorded = fc.record({ kind: fc.constantFrom('ts' as const, 'sh' as const, 'file' as const), output: fc.array(chunk, { maxLength: 6 }) });
    fc.assert(
      fc.property(fc.array(recorded, { maxLength: 6 }), (blocks) => {
        const v2 = { format: TRANSCRIPT_FORMAT_V2, chapters: [{ id: '01', blocks }] } as unknown as Transcript;
        const v3 = migrateV2(v2, TRANSCRIPT_FORMAT);
        expect(v3.format).toBe(TRANSCRIPT_FORMAT);
        v3.chapters[0]?.blocks.forEach((b, i) => {
          const before = blocks[i]?.output ?? [];
          expect(b.output).toEqual(b.kind === 'ts' ? before.filter((c) => c.stream === 'log') : before);
        });
        expect(v2.chapters[0]?.blocks.map((b) => b.output)).toEqual(blocks.map((b) => b.output));
      }),
    );
  });
});

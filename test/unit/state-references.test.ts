// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${state.NAME} placeholders in book text
// A file block may write a value an earlier ts block found (`${state.nodeIp}`). Names, values,
// positions and books are generated: a reference with a value becomes that value, one without
// fails naming it, and one that no earlier ts block names is refused at its line before the run.
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writtenText } from '../../src/render/written-text.js';
import { loadBook } from '../../src/runner/load-book.js';
import { blockHash, type RecordedBlock } from '../../src/runner/record/transcript.js';
import { StateValueMissing, stateReferences, substituteState } from '../../src/runner/state-references.js';
import { type Block, BookError } from '../../src/runner/types.js';
import { writeBook } from '../helpers/book.js';

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/);
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean());
/** Text around references that holds no reference of its own (shell's `${HOME}` included). */
const filler = fc.oneof(
  fc.string({ maxLength: 15 }).map((s) => s.replace(/\$\{state\./g, '')),
  fc.constantFrom('${HOME}', '$state', '${state}', '${state.a.b}', '${ state.x }', '\n', '${K8S_VERSION}'),
);

describe('${state.NAME} in a file block', () => {
  it('becomes the value the run holds, each time it appears; everything else stays as written', () => {
    fc.assert(
      fc.property(
        fc.dictionary(name, value, { minKeys: 1, maxKeys: 5 }),
        fc.array(fc.tuple(filler, fc.nat()), { maxLength: 8 }),
        filler,
        (state, parts, tail) => {
          const names = Object.keys(state);
          let text = '';
          let expected = '';
          for (const [before, pick] of parts) {
            const chosen = names[pick % names.length] as string;
            text += `${before}\${state.${chosen}}`;
            expected += `${before}${String(state[chosen])}`;
          }
          text += tail;
          expected += tail;
          expect(substituteState(text, state)).toBe(expected);
          expect(stateReferences(text).map((r) => r.name)).toEqual(parts.map(([, pick]) => names[pick % names.length]));
        },
      ),
    );
  });

  it('that the run does not hold as a string, number or boolean fails, naming the reference', () => {
    fc.assert(
      fc.property(
        name,
        fc.option(fc.oneof(fc.constant(null), fc.array(fc.integer()), fc.object(), fc.constant(undefined)), { nil: undefined }),
        filler,
        (key, held, before) => {
          const state: Record<string, unknown> = held === undefined ? {} : { [key]: held };
          const run = () => substituteState(`${before}\${state.${key}}`, state);
          expect(run).toThrow(StateValueMissing);
          expect(run).toThrow(`\${state.${key}}`);
        },
      ),
    );
  });

  it('is not looked up on the object prototype', () => {
    expect(() => substituteState('${state.constructor} ${state.toString}', {})).toThrow(StateValueMissing);
  });

  it('with no earlier ts block naming state.NAME is refused at its line, before anything runs', async () => {
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.constantFrom('before', 'after', 'nowhere', 'other-name', 'bracket', 'earlier-chapter'),
        fc.nat({ max: 4 }),
        async (key, where, padding) => {
          const setter = (k: string) => (where === 'bracket' ? `state['${k}'] = 'x'` : `state.${k} = 'x'`);
          const ts = (k: string) => `\`\`\`ts run\n${setter(k)}\n\`\`\`\n\n`;
          const file = `\`\`\`text file=/tmp/f\n${'line\n'.repeat(padding)}--flag=\${state.${key}}\n\`\`\`\n\n`;
          const first = where === 'earlier-chapter' ? `# One\n\n${ts(key)}` : '# One\n\nProse.\n';
          let second = '# Two\n\n';
          if (where === 'before' || where === 'bracket') second += ts(key) + file;
          else if (where === 'after') second += file + ts(key);
          else if (where === 'other-name') second += ts(`${key}X`) + file;
          else second += file;
          const dir = writeBook({ 'book.yaml': 'title: T\ntarget: local\n', '01-one.md': first, '02-two.md': second });
          const refused = ['after', 'nowhere', 'other-name'].includes(where);
          try {
            await loadBook(dir);
            expect(refused).toBe(false);
          } catch (error) {
            if (!(error instanceof BookError)) throw error;
            expect(refused).toBe(true);
            const fileLine = second.split('\n').findIndex((l) => l.includes('--flag=')) + 1;
            expect(error.issues.map((i) => `${path.basename(i.file)}:${i.line}: ${i.message}`)).toEqual([
              `02-two.md:${fileLine}: \${state.${key}}: no earlier ts block sets state.${key}`,
            ]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the site shows ${state.NAME} as the recorded run wrote it', () => {
  const fileBlock = (code: string): Block => ({
    id: 'b',
    chapterId: '01-a',
    index: 1,
    kind: 'file',
    lang: 'yaml',
    info: 'yaml file=/etc/x.yaml',
    code,
    file: 'book/01-a.md',
    line: 3,
    codeLine: 4,
    attrs: { run: false, file: '/etc/x.yaml' },
    timeoutMs: 1000,
    retries: 0,
  });
  const recordOf = (block: Block, written: string, hash = blockHash(block)) =>
    ({ hash, calls: [{ kind: 'target', path: 'writeFile', args: ['/etc/x.yaml', written], durationMs: 1 }] }) as unknown as RecordedBlock;
  /** Values a run could hold, and text around the references, none of them a line break. */
  const value = fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, ''));
  const plain = filler.map((s) => s.replace(/\n/g, ' '));

  it('reads each value back from the recorded write, and only from a write that is the block text otherwise', () => {
    fc.assert(
      fc.property(
        fc.dictionary(name, value, { minKeys: 1, maxKeys: 4 }),
        fc.array(fc.tuple(plain, fc.nat()), { minLength: 1, maxLength: 6 }),
        plain,
        (state, parts, tail) => {
          const names = Object.keys(state);
          const code = `${parts.map(([before, pick]) => `${before}\${state.${names[pick % names.length]}}`).join('')}${tail}\n`;
          const block = fileBlock(code);
          const written = substituteState(code, state);
          expect(writtenText(block, recordOf(block, written), undefined)).toBe(written);
          // No record, a record of an older block, a write whose other text differs: as written.
          expect(writtenText(block, undefined, undefined)).toBe(code);
          expect(writtenText(block, recordOf(block, written, 'another'), undefined)).toBe(code);
          expect(writtenText(block, recordOf(block, `${written}#`), undefined)).toBe(code);
        },
      ),
    );
  });
});

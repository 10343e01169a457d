import { escapeRegExp } from '../runner/escape-regexp.js';
import { blockHash, type RecordedBlock, type Transcript } from '../runner/record/transcript.js';
import { stateReferencePattern, stateReferences } from '../runner/state-references.js';
import type { Block } from '../runner/types.js';
import { substituteVersions } from '../runner/versions.js';

/**
 * What a file block wrote in the recorded run: its text with the recorded versions, and each
 * `${state.NAME}` as the run had it. The values are read back from the block's recorded write,
 * where the rest of that write is the block's text exactly (the block unchanged since, nothing
 * in it redacted); otherwise the references stay as written.
 */
export function writtenText(block: Block, record: RecordedBlock | undefined, versions: Transcript['versions'] | undefined): string {
  const text = substituteVersions(block.code, versions);
  if (stateReferences(text).length === 0 || !record || record.hash !== blockHash(block)) return text;
  const written = record.calls.find((c) => c.kind === 'target' && c.path === 'writeFile')?.args[1];
  if (typeof written !== 'string') return text;
  // Each name's first place captures its value; its later places must read the same (a backreference).
  const names: string[] = [];
  const pattern = text
    .split(stateReferencePattern())
    .map((part, i) => {
      if (i % 2 === 0) return escapeRegExp(part);
      const seen = names.indexOf(part);
      // In a group of its own: `\1` before a digit of the text would read as `\10`.
      if (seen >= 0) return `(?:\\${seen + 1})`;
      names.push(part);
      return '([^\\n]*?)';
    })
    .join('');
  const match = new RegExp(`^${pattern}$`).exec(written);
  if (!match) return text;
  const values = new Map(names.map((name, i) => [name, match[i + 1] ?? '']));
  return text.replace(stateReferencePattern(), (whole, name: string) => values.get(name) ?? whole);
}

#!/usr/bin/env node
// early-exit-pipes.mjs — finds `cmd | grep -q`, `cmd | head`, `cmd | awk '…exit…'` and other
// pipes into a reader that may exit before the writer is done. Under `set -o pipefail` (every
// script of ours, and every block the runner runs) the writer then dies of SIGPIPE and the
// pipeline fails or passes by timing: the cold-build bug of issue 11 (`etcd --version | grep -q`).
// Capture the output first (`out=$(cmd)`), then match it.
//
//   node scripts/early-exit-pipes.mjs [FILE...]   default: the project's shell scripts and book
//
// Prints `file:line: what` for each finding and exits 1 when there is one.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Readers that stop reading early, as regexes over the text after a `|`. */
const EARLY_READERS = [
  {
    what: 'grep -q/-m/-l stops at the first match',
    re: /^grep\b(?=[^|;&]*\s(-[a-zA-Z]*[qlm]\w*|--quiet|--silent|--max-count|--files-with-matches)(?=[\s=]|$))/,
  },
  { what: 'head stops after its lines', re: /^head\b/ },
  { what: 'awk with exit stops reading', re: /^awk\b.*\bexit\b/ },
  { what: 'sed with q stops reading', re: /^sed\b[^|;&]*(['"\s/]|\d)q\b/ },
  { what: 'read takes one line', re: /^read\b/ },
];

/** Joins backslash continuations; returns [lineNumber, text] for each logical line. */
function logicalLines(text, firstLine = 1) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]}`;
    out.push([firstLine + start, line]);
  }
  return out;
}

/** Drops a trailing `# comment` (a `#` at the start or after a blank, outside quotes). */
function stripComment(line) {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

/**
 * Findings in shell text: [{ line, what, text }]. `firstLine` is the file line of the text's
 * first line (for blocks inside Markdown).
 * @param {string} text
 * @param {number} [firstLine]
 * @returns {{ line: number, what: string, text: string }[]}
 */
export function findEarlyExitPipes(text, firstLine = 1) {
  const findings = [];
  for (const [line, raw] of logicalLines(text, firstLine)) {
    const code = stripComment(raw);
    // every single `|` (not `||`; `|&` counts as `|`) outside single quotes (awk programs, literals)
    const unquoted = code.replace(/'[^']*'/g, (q) => ' '.repeat(q.length));
    for (const m of unquoted.matchAll(/(?<!\|)\|(?!\|)&?\s*/g)) {
      const after = code.slice((m.index ?? 0) + m[0].length);
      const hit = EARLY_READERS.find((r) => r.re.test(after));
      if (hit) findings.push({ line, what: hit.what, text: raw.trim() });
    }
  }
  return findings;
}

/** The shell inside a Markdown book: every fenced block whose info string says `run`. */
export function findInMarkdown(text) {
  const findings = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]?.match(/^(`{3,}|~{3,})\s*(\S+)(.*)$/);
    if (!open || !/\brun\b/.test(open[3] ?? '')) continue;
    const fence = open[1] ?? '```';
    const body = [];
    let j = i + 1;
    while (j < lines.length && !(lines[j] ?? '').startsWith(fence)) body.push(lines[j++]);
    findings.push(...findEarlyExitPipes(body.join('\n'), i + 2));
    i = j;
  }
  return findings;
}

/** The project's own shell: vagrant/*.sh, scripts/*.sh, .ci/run, and the book's run blocks. */
export function projectFiles(root) {
  const ls = (dir, keep) =>
    readdirSync(join(root, dir))
      .filter(keep)
      .map((f) => join(root, dir, f));
  return [...ls('vagrant', (f) => f.endsWith('.sh')), join(root, '.ci/run'), ...ls('book', (f) => f.endsWith('.md'))];
}

export function checkFiles(files) {
  return files.flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const found = file.endsWith('.md') ? findInMarkdown(text) : findEarlyExitPipes(text);
    return found.map((f) => ({ file, ...f }));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const files = process.argv.length > 2 ? process.argv.slice(2) : projectFiles(root);
  const findings = checkFiles(files);
  for (const f of findings) {
    console.log(
      `${relative(process.cwd(), f.file)}:${f.line}: ${f.what} (under pipefail the writer can die of SIGPIPE: capture the output, then match): ${f.text}`,
    );
  }
  process.exitCode = findings.length > 0 ? 1 : 0;
}

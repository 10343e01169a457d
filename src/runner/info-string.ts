import { parseDuration } from './durations.js';
import type { BlockAttrs, BookIssue } from './types.js';

/** Languages a `run` block can execute, mapped to the block kind. */
const RUNNABLE: Record<string, 'ts' | 'sh'> = {
  ts: 'ts',
  typescript: 'ts',
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
};

const KNOWN_KEYS = ['name', 'timeout', 'retries', 'fails', 'file', 'mode', 'node'] as const;
const KNOWN_FLAGS = ['run', 'fails'] as const;

export interface ParsedInfo {
  lang: string;
  kind: 'ts' | 'sh' | 'file' | 'prose';
  attrs: BlockAttrs;
}

interface Word {
  key: string;
  value?: string;
}

/** Characters an info string must not hold outside quotes: invisible ones and spaces other than ' ' and tab. */
const ODD_CHARACTER = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\uFFFD]/u;

/** `U+00A0 (a no-break space)` for the reader, who cannot see it. */
function describeCharacter(c: string): string {
  const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const names: Record<string, string> = {
    '\u00a0': 'a no-break space',
    '\u200b': 'a zero-width space',
    '\u2009': 'a thin space',
    '\u3000': 'an ideographic space',
    '\ufeff': 'a byte-order mark',
    '\ufffd': 'a replacement character: the file is not valid UTF-8 here',
    '\r': 'a carriage return',
  };
  return `${code} (${names[c] ?? (/\p{Zs}/u.test(c) ? 'a space that is not a plain one' : 'an invisible character')})`;
}

/** The first character a reader would not type in an info string (copied from a web page), outside quotes. */
export function oddCharacter(info: string): { column: number; description: string } | undefined {
  let quote: string | undefined;
  for (let i = 0; i < info.length; i++) {
    const c = info[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c !== ' ' && c !== '\t' && ODD_CHARACTER.test(c)) return { column: i + 1, description: describeCharacter(c) };
  }
  return undefined;
}

/** Splits `ts run name=x fails="a b"` into words; quotes may hold spaces and \" escapes. */
export function tokenize(info: string): Word[] | string {
  const words: Word[] = [];
  let i = 0;
  while (i < info.length) {
    while (i < info.length && /\s/.test(info[i] as string)) i++;
    if (i >= info.length) break;
    let key = '';
    while (i < info.length && !/[\s=]/.test(info[i] as string)) key += info[i++];
    if (info[i] !== '=') {
      // Every turn of the loop consumes at least one character: the key, or the '=' below.
      words.push({ key });
      continue;
    }
    i++;
    let value = '';
    if (info[i] === '"' || info[i] === "'") {
      const quote = info[i++];
      while (i < info.length && info[i] !== quote) {
        if (info[i] === '\\' && i + 1 < info.length) i++;
        value += info[i++];
      }
      if (info[i] !== quote) return `unterminated quote in ${key}=`;
      i++;
    } else {
      while (i < info.length && !/\s/.test(info[i] as string)) value += info[i++];
    }
    words.push({ key, value });
  }
  return words;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min(current + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}

/**
 * Reads a fence's info string. Plain fences (no `run`, no `file=`) are prose and may carry any
 * words (other tools' tags); once a fence is ours, every word must be one we know.
 */
export function parseInfo(info: string, where: { file: string; line: number }): ParsedInfo | BookIssue[] {
  const issue = (message: string, hint?: string): BookIssue => ({ ...where, message, hint });
  const odd = oddCharacter(info);
  if (odd)
    return [
      issue(
        `the fence's info string holds ${odd.description} at its column ${odd.column}`,
        'retype the info string with plain spaces, e.g. ```sh run name=start (text copied from a web page often carries these)',
      ),
    ];
  const words = tokenize(info);
  if (typeof words === 'string') return [issue(words, 'close the quote: fails="text with spaces"')];
  const [first, ...rest] = words;
  // ```run with no language is ours too (and then an error), not prose that silently never runs.
  const lang = first && first.value === undefined && first.key !== 'run' ? first.key : '';
  const attrWords = lang ? rest : words;
  const ours = attrWords.some((w) => (w.key === 'run' && w.value === undefined) || w.key === 'file');
  if (!ours) return { lang, kind: 'prose', attrs: { run: false } };

  const issues: BookIssue[] = [];
  const attrs: BlockAttrs = { run: false };
  const seen = new Set<string>();
  for (const word of attrWords) {
    if (seen.has(word.key)) {
      issues.push(issue(`attribute "${word.key}" is given twice`, `keep one ${word.key}`));
      continue;
    }
    seen.add(word.key);
    if (word.value === undefined) {
      if (word.key === 'run') attrs.run = true;
      else if (word.key === 'fails') attrs.fails = {};
      else {
        const guess = closest(word.key, [...KNOWN_FLAGS, ...KNOWN_KEYS]);
        issues.push(
          issue(
            `unknown attribute "${word.key}"`,
            guess
              ? `did you mean "${guess}"? Known: run, name=, timeout=, retries=, fails, fails="text", file=, mode=, node=`
              : 'known attributes: run, name=, timeout=, retries=, fails, fails="text", file=, mode=, node=',
          ),
        );
      }
      continue;
    }
    switch (word.key) {
      case 'name':
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(word.value))
          issues.push(issue(`bad name "${word.value}"`, 'use letters, digits, ".", "_" and "-", e.g. name=start-kubelet'));
        else attrs.name = word.value;
        break;
      case 'timeout': {
        const ms = parseDuration(word.value);
        if (ms === undefined || ms <= 0)
          issues.push(issue(`bad duration timeout=${word.value}`, 'write a duration such as timeout=90s, timeout=2m or timeout=1m30s'));
        else attrs.timeoutMs = ms;
        break;
      }
      case 'retries':
        if (!/^\d+$/.test(word.value) || Number(word.value) > 20)
          issues.push(issue(`bad retries=${word.value}`, 'write a whole number from 0 to 20, e.g. retries=3'));
        else attrs.retries = Number(word.value);
        break;
      case 'fails':
        if (word.value === '') issues.push(issue('fails="" matches everything', 'write fails alone, or fails="part of the expected error"'));
        else attrs.fails = { text: word.value };
        break;
      case 'file':
        if (!word.value.startsWith('/'))
          issues.push(issue(`file=${word.value} is not an absolute path`, 'write the path on the machine, e.g. file=/etc/kubernetes/manifests/nginx.yaml'));
        else attrs.file = word.value;
        break;
      case 'mode':
        if (!/^0?[0-7]{3}$/.test(word.value)) issues.push(issue(`bad mode=${word.value}`, 'write an octal file mode, e.g. mode=0600'));
        else attrs.mode = Number.parseInt(word.value, 8);
        break;
      case 'node':
        // A node's name, as Kubernetes names nodes (a DNS label); whether the target has it is checked before the run.
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(word.value))
          issues.push(issue(`bad node=${word.value}`, 'write a node name such as node=k8s-worker (lowercase letters, digits and -)'));
        else attrs.node = word.value;
        break;
      default: {
        const guess = closest(word.key, KNOWN_KEYS);
        issues.push(
          issue(
            `unknown attribute "${word.key}="`,
            guess ? `did you mean ${guess}=?` : 'known attributes: run, name=, timeout=, retries=, fails, fails="text", file=, mode=, node=',
          ),
        );
      }
    }
  }

  const runnable = RUNNABLE[lang];
  if (attrs.run && attrs.file)
    issues.push(issue('a block cannot both run and write a file', 'split it: one `yaml file=PATH` block, then a `sh run` block that uses it'));
  if (attrs.run && !runnable)
    issues.push(
      issue(
        `"${lang || '(no language)'}" blocks cannot run`,
        lang
          ? `only ts and sh blocks run; to put this ${lang} on the machine write \`${lang} file=/path/on/machine\``
          : 'start the info string with ts or sh: ```sh run',
      ),
    );
  if (!attrs.run && (attrs.fails || attrs.retries !== undefined) && attrs.file)
    issues.push(issue('fails= and retries= only apply to run blocks', 'remove them from this file= block'));
  if (attrs.node && runnable === 'ts' && !attrs.file)
    issues.push(issue('node= applies to sh and file= blocks', "in a ts block reach a node through nodes['NAME'].$, .docker and .machine"));
  if (attrs.mode !== undefined && !attrs.file) issues.push(issue('mode= only applies to file= blocks', 'remove mode=, or add file=PATH'));
  if (issues.length > 0) return issues;
  const kind = attrs.file ? 'file' : (runnable as 'ts' | 'sh');
  return { lang, kind, attrs };
}

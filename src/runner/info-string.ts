import { appendAll } from './arrays.js';
import { parseDuration, timeoutProblem } from './durations.js';
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
const KNOWN_FLAGS = ['run', 'fails', 'predict'] as const;
const KNOWN_TEXT = 'run, predict, name=, timeout=, retries=, fails, fails="text", file=, mode=, node=';

export interface ParsedInfo {
  lang: string;
  kind: 'ts' | 'sh' | 'file' | 'prose' | 'predict';
  attrs: BlockAttrs;
}

interface Word {
  key: string;
  value?: string;
}

/** Characters an info string must not hold outside quotes: invisible ones and spaces other than ' ' and tab. */
const ODD_CHARACTER = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\uFFFD]/u;

/** Letters and marks that show as nothing (Hangul fillers, the braille blank, the grapheme joiner). */
export const INVISIBLE_LETTER = /[\u034f\u115f\u1160\u2800\u3164\uffa0]/u;

/** `U+00A0 (a no-break space)` for the reader, who cannot see it. */
export function describeCharacter(c: string): string {
  const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const names: Record<string, string> = {
    '\u0000': 'a NUL byte',
    '\u00a0': 'a no-break space',
    '\u00ad': 'a soft hyphen',
    '\u200b': 'a zero-width space',
    '\u200c': 'a zero-width non-joiner',
    '\u200d': 'a zero-width joiner',
    '\u2060': 'a word joiner',
    '`': 'a backtick',
    '~': 'a tilde',
    '\u2009': 'a thin space',
    '\u3000': 'an ideographic space',
    '\ufeff': 'a byte-order mark',
    '\ufffd': 'a replacement character: the file is not valid UTF-8 here',
    '\r': 'a carriage return',
  };
  const name =
    names[c] ??
    (/\p{Zs}/u.test(c) ? 'a space that is not a plain one' : ODD_CHARACTER.test(c) || INVISIBLE_LETTER.test(c) ? 'an invisible character' : `\`${c}\``);
  return `${code} (${name})`;
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
    // `TIMEOUT=` is `timeout=` in capitals: the case costs nothing.
    const d = editDistance(word.toLowerCase(), candidate);
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

/** What glues two words into one where a space was meant: `sh,run`, `{.sh run}`, `run:true`. */
const GLUE = /[,;:|{}()[\]<>`"']+/;

/** The language a misspelled fence most likely meant, for the hint: `SH` → sh, `{.ts` → ts; else sh. */
function meantLanguage(first: Word | undefined): string {
  const lang = (first?.key.split(GLUE).find((part) => part.replace(/^\.+/, '') !== '') ?? '').replace(/^\.+/, '').toLowerCase();
  return RUNNABLE[lang] ? lang : 'sh';
}

/** The language as the reader meant it, when it is a runnable one in other clothes: `SH`, `{.sh}`, `Bash`. */
function runnableSpelling(lang: string): string | undefined {
  const plain = lang.replace(/^[{.]+|[}]+$/g, '').toLowerCase();
  return plain !== lang && RUNNABLE[plain] ? plain : undefined;
}

interface Misspelling {
  message: string;
  hint: string;
}

/**
 * How a word spells `run` or `file=` other than exactly (`RUN`, `Run`, `run=yes`, `run:true`,
 * `sh,run`, `FILE=/x`); undefined for the exact spellings and for every other word. A fence that
 * says run in any spelling is one the reader meant to run: it must run, or be an error, never
 * silently prose.
 */
function misspelling(word: Word, meant: string): Misspelling | undefined {
  const text = word.value === undefined ? word.key : `${word.key}=${word.value}`;
  if (((word.key === 'run' || word.key === 'predict') && word.value === undefined) || (word.key === 'file' && word.value !== undefined)) return undefined;
  const lower = word.key.toLowerCase();
  if (lower === 'predict')
    return word.value === undefined
      ? { message: `\`${word.key}\` is not \`predict\``, hint: 'write predict in lowercase: ```yaml predict' }
      : { message: `\`${text}\` is not \`predict\`: predict takes no value`, hint: 'write predict alone, and name it with name=: ```yaml predict name=…' };
  if (lower === 'run')
    return word.value === undefined
      ? { message: `\`${word.key}\` is not \`run\``, hint: `write run in lowercase: \`\`\`${meant} run` }
      : { message: `\`${text}\` is not \`run\`: run takes no value`, hint: `write run alone: \`\`\`${meant} run` };
  if (lower === 'file' && word.value !== undefined) return { message: `\`${word.key}=\` is not \`file=\``, hint: `write it in lowercase: file=${word.value}` };
  const parts = word.key.split(GLUE).map((part) => part.replace(/^\.+/, '').toLowerCase());
  if (parts.length > 1 && (parts.includes('run') || (parts.at(-1) === 'file' && word.value !== undefined)))
    return {
      message: `\`${text}\` is not \`${parts.includes('run') ? 'run' : 'file='}\`: the words of an info string are separated by spaces`,
      hint: parts.includes('run') ? `write \`\`\`${meant} run` : `write \`\`\`yaml file=${word.value}`,
    };
  return undefined;
}

/**
 * The language (the first word, unless it is `run` or `predict` or has a value), the attributes,
 * and whether the fence is ours: it says `run`, `predict` or `file` among its attributes. ```run
 * with no language is ours too (and then an error), not prose that silently never runs.
 */
function ourWords(words: Word[]): { first?: Word; lang: string; attrWords: Word[]; ours: boolean } {
  const [first, ...rest] = words;
  const lang = first && first.value === undefined && first.key !== 'run' && first.key !== 'predict' ? first.key : '';
  const attrWords = lang ? rest : words;
  return { first, lang, attrWords, ours: attrWords.some((w) => ((w.key === 'run' || w.key === 'predict') && w.value === undefined) || w.key === 'file') };
}

/**
 * Whether an info string says `run` or `file=` in any spelling (exact or misspelled), so that the
 * fence is meant to be one of ours. Characters a reader cannot see count as spaces. For lines that
 * Markdown does not read as fences (parse.ts): such a line, if it claims to run, is an error.
 */
export function claimsToRun(info: string): boolean {
  const plain = info.replace(/[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}\uFFFD]/gu, ' ').replace(new RegExp(INVISIBLE_LETTER.source, 'gu'), ' ');
  const tokens = tokenize(plain);
  const words: Word[] =
    typeof tokens === 'string'
      ? plain
          .split(/\s+/)
          .filter(Boolean)
          .map((w) => (w.includes('=') ? { key: w.slice(0, w.indexOf('=')), value: w.slice(w.indexOf('=') + 1) } : { key: w }))
      : tokens;
  return ourWords(words).ours || words.some((w) => misspelling(w, 'sh') !== undefined);
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
  const { first, lang, attrWords, ours } = ourWords(words);
  const meant = meantLanguage(first);
  if (!ours) {
    // `RUN`, `run=yes`, `sh,run`: meant to run, and silently prose if let through.
    const misspelled = words.map((w) => misspelling(w, meant)).filter((m) => m !== undefined);
    if (misspelled.length > 0) return misspelled.map((m) => issue(m.message, m.hint));
    return { lang, kind: 'prose', attrs: { run: false } };
  }

  const issues: BookIssue[] = [];
  const attrs: BlockAttrs = { run: false };
  const seen = new Set<string>();
  const langMisspelled = first && lang ? misspelling(first, meant) : undefined;
  if (langMisspelled) issues.push(issue(langMisspelled.message, langMisspelled.hint));
  for (const word of attrWords) {
    const misspelled = misspelling(word, meant);
    if (misspelled) {
      issues.push(issue(misspelled.message, misspelled.hint));
      continue;
    }
    if (seen.has(word.key)) {
      issues.push(issue(`attribute "${word.key}" is given twice`, `keep one ${word.key}`));
      continue;
    }
    seen.add(word.key);
    if (word.value === undefined) {
      if (word.key === 'run') attrs.run = true;
      else if (word.key === 'predict') attrs.predict = true;
      else if (word.key === 'fails') attrs.fails = {};
      else {
        const guess = closest(word.key, [...KNOWN_FLAGS, ...KNOWN_KEYS]);
        issues.push(issue(`unknown attribute "${word.key}"`, guess ? `did you mean "${guess}"? Known: ${KNOWN_TEXT}` : `known attributes: ${KNOWN_TEXT}`));
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
        // One rule with book.yaml's defaults.timeout (durations.ts): more than 0, at most 24 days.
        const problem = timeoutProblem(word.value);
        if (problem === 'form') issues.push(issue(`bad duration timeout=${word.value}`, 'write a duration such as timeout=90s, timeout=2m or timeout=1m30s'));
        else if (problem === 'zero')
          issues.push(issue(`bad duration timeout=${word.value}: a timeout of 0 fails the block at once`, 'write a duration more than 0, e.g. timeout=90s'));
        else if (problem === 'too long')
          issues.push(
            issue(`bad duration timeout=${word.value}: longer than a timer holds`, 'write at most 24 days (timeout=34560m); most blocks need a few minutes'),
          );
        else attrs.timeoutMs = parseDuration(word.value) as number;
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
        // A folder (ends in / or . or ..) can never be written as a file: refused here, not on the machine after earlier blocks ran.
        else if (/(^|\/)(\.\.?)?$/.test(word.value))
          issues.push(
            issue(
              `file=${word.value} names a folder, not a file`,
              `give the file's whole path, e.g. file=${word.value.replace(/\/*(\.\.?)?$/, '')}/nginx.yaml`,
            ),
          );
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
        issues.push(issue(`unknown attribute "${word.key}="`, guess ? `did you mean ${guess}=?` : `known attributes: ${KNOWN_TEXT}`));
      }
    }
  }

  if (attrs.predict) {
    appendAll(issues, predictProblems(lang, attrs, issue));
    return issues.length > 0 ? issues : { lang, kind: 'predict', attrs: { run: false, predict: true, ...(attrs.name ? { name: attrs.name } : {}) } };
  }
  const runnable = RUNNABLE[lang];
  const meantLang = runnableSpelling(lang);
  if (attrs.run && attrs.file)
    issues.push(issue('a block cannot both run and write a file', 'split it: one `yaml file=PATH` block, then a `sh run` block that uses it'));
  // (A language glued to run, `sh,run`, was said above.)
  if (attrs.run && !runnable && !langMisspelled)
    issues.push(
      meantLang
        ? issue(`\`${lang}\` is not \`${meantLang}\``, `write the language as \`\`\`${meantLang} run`)
        : issue(
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

/** A `yaml predict` fence takes a name and nothing else: it does not run, and it is YAML. */
function predictProblems(lang: string, attrs: BlockAttrs, issue: (message: string, hint?: string) => BookIssue): BookIssue[] {
  const issues: BookIssue[] = [];
  if (lang !== 'yaml')
    issues.push(
      issue(
        lang ? `a prediction is written in YAML, not \`${lang}\`` : 'a prediction is written in YAML, and this fence names no language',
        'write ```yaml predict (then question:, answers: and why:)',
      ),
    );
  if (attrs.run) issues.push(issue('a prediction does not run: the ts run block right after it answers it', 'remove run: write ```yaml predict'));
  if (attrs.file) issues.push(issue('a prediction does not write a file', 'remove file=; put the file in a block of its own before the prediction'));
  const runOnly = [
    attrs.timeoutMs !== undefined && 'timeout=',
    attrs.retries !== undefined && 'retries=',
    attrs.fails && 'fails',
    attrs.mode !== undefined && 'mode=',
    attrs.node && 'node=',
  ].filter((word): word is string => Boolean(word));
  for (const word of runOnly)
    issues.push(issue(`${word} does not apply to a prediction: it does not run`, `remove it; put it on the ts run block that answers the prediction`));
  return issues;
}

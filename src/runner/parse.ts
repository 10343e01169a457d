import { createHash } from 'node:crypto';
import type Token from 'markdown-it/lib/token.mjs';
import { createMarkdown } from '../markdown/markdown.js';
import { appendAll } from './arrays.js';
import { claimsToRun, describeCharacter, INVISIBLE_LETTER, parseInfo } from './info-string.js';
import { linkPredictions, parsePrediction } from './prediction.js';
import type { Block, BookIssue, Chapter, Prediction } from './types.js';
import { misspelledVersionNames } from './versions.js';

const markdown = createMarkdown();

/** `03-api-server.md` → { number: 3, id: '03-api-server' }; undefined for other names. */
export function chapterName(fileName: string): { id: string; number: number } | undefined {
  const match = /^(\d+)-([a-z0-9][a-z0-9-]*)\.md$/.exec(fileName);
  if (!match) return undefined;
  return { id: fileName.slice(0, -3), number: Number(match[1]) };
}

export interface ParseResult {
  chapter: Chapter;
  issues: BookIssue[];
}

/**
 * Pure: one chapter's Markdown → its blocks, or the issues that stop the run. `file` is the path
 * shown to the reader in messages.
 */
export function parseChapter(file: string, id: string, number: number, text: string, defaults: { timeoutMs: number; retries: number }): ParseResult {
  // Lines as markdown-it counts them: it ends a line at \r\n, \r and \n alike.
  const normalised = text.replace(/\r\n?/g, '\n');
  const sourceLines = normalised.split('\n');
  const issues: BookIssue[] = [];
  const { tokens, reported } = readFences(file, sourceLines, issues);
  const blocks: Block[] = [];
  let title = id;
  let index = 0;
  let predictions = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (!token) continue;
    if (token.type === 'heading_open' && token.tag === 'h1' && title === id) {
      title = tokens[t + 1]?.content.trim() || id;
    }
    if (token.type !== 'fence' || !token.map) continue;
    const line = token.map[0] + 1;
    if (!fenceClosed(sourceLines, token.map, token.markup)) {
      // markdown-it runs an unclosed fence to the end of the file: the prose after it would be its code.
      if (!reported.has(token.map[0])) issues.push(unclosedFence(file, sourceLines, token));
      continue;
    }
    appendAll(issues, fencesInside(file, sourceLines, token));
    const parsed = parseInfo(token.info, { file, line });
    if (Array.isArray(parsed)) {
      appendAll(issues, parsed);
      continue;
    }
    if (parsed.kind === 'file') {
      // `${K8S_VERSOIN}` would reach the machine as it is: name the line and the right spelling.
      for (const miss of misspelledVersionNames(token.content))
        issues.push({
          file,
          line: line + 1 + miss.line,
          message: `\${${miss.name}} is not one of the machine's versions`,
          hint: `did you mean \${${miss.suggestion}}? (the names: see src/runner/versions.ts)`,
        });
    }
    // Predictions count apart, so adding one renames no block (nor the transcript's records of them).
    const executable = parsed.kind !== 'prose' && parsed.kind !== 'predict';
    if (executable) index++;
    if (parsed.kind === 'predict') predictions++;
    const blockId = parsed.attrs.name ?? (executable ? `${id}#${index}` : parsed.kind === 'predict' ? `${id}#predict-${predictions}` : `${id}#prose-${line}`);
    let prediction: Prediction | undefined;
    if (parsed.kind === 'predict') {
      const read = parsePrediction(token.content, { id: blockId, file, line, codeLine: line + 1 });
      if (Array.isArray(read)) appendAll(issues, read);
      else prediction = read;
    }
    blocks.push({
      id: blockId,
      chapterId: id,
      index: executable ? index : 0,
      kind: parsed.kind,
      lang: parsed.lang,
      info: token.info,
      code: token.content,
      file,
      line,
      codeLine: line + 1,
      attrs: parsed.attrs,
      timeoutMs: parsed.attrs.timeoutMs ?? defaults.timeoutMs,
      retries: parsed.attrs.retries ?? defaults.retries,
      ...(prediction ? { prediction } : {}),
    });
  }
  appendAll(issues, linkPredictions(blocks));
  const hash = createHash('sha256').update(text).digest('hex');
  return { chapter: { id, number, title, file, source: text, blocks, hash }, issues };
}

/**
 * A line that looks like a fence opener to a reader, read the way a reader reads it: the quote
 * and list markers in front (`> `, `- `, `1. `), then the fence (three or more backticks or
 * tildes) and its info string. `culprit` is the first character in front of the fence that keeps
 * Markdown from seeing one: a character the reader cannot see (even inside the fence's marker)
 * or a stray visible one (`x```sh run`). Undefined for lines that do not look like fences.
 */
interface FenceLook {
  containers: string;
  /** Columns of indentation: before the first marker, and between the last marker and the fence. */
  lead: number;
  indent: number;
  /** Whether that indentation holds a tab (CommonMark counts it to the next multiple of 4 columns). */
  tab: boolean;
  marker: string;
  /** The info string as written (everything after the marker). */
  info: string;
  /** Where, in the line as written, the marker starts and the info string starts. */
  markerIndex: number;
  infoIndex: number;
  culprit?: { index: number; char: string; invisible: boolean };
}

/** What a reader cannot see: controls, format characters, spaces other than ' ' and tab, fillers. */
const INVISIBLE = new RegExp(`[\\p{Cc}\\p{Cf}\\p{Zs}\\p{Zl}\\p{Zp}\\uFFFD]|${INVISIBLE_LETTER.source}`, 'u');
const invisible = (c: string) => c !== ' ' && c !== '\t' && INVISIBLE.test(c);

/** Columns of leading spaces and tabs, tabs to the next multiple of 4 (as CommonMark counts them). */
function columns(whitespace: string): number {
  let width = 0;
  for (const c of whitespace) width = c === '\t' ? width + 4 - (width % 4) : width + 1;
  return width;
}

/** At most this many visible characters in front of a fence make a stray (`x```sh run`), not a sentence. */
const STRAY_MAX = 2;

/** A quote or list marker in front of a line's text, with the one space that belongs to it. */
const CONTAINER = /[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))[ \t]?/y;

/** Where the quote and list markers at the start of a line's text end (sticky: each match starts where the last ended). */
function containerEnd(text: string): number {
  let end = 0;
  CONTAINER.lastIndex = 0;
  while (CONTAINER.exec(text)) end = CONTAINER.lastIndex;
  return end;
}

/**
 * Where the fence is in a line's text (after its quote and list markers): a run of three or more
 * backticks or tildes after at most STRAY_MAX other visible characters (`x```sh run`), or three
 * such characters with at most STRAY_MAX others among them (`` `~``sh run ``). `strays` are the
 * others' indices.
 */
function findMarker(rest: string): { start: number; end: number; marker: string; strays: number[] } | undefined {
  const run = /`{3,}|~{3,}/.exec(rest);
  if (run) {
    const strays = [...rest.slice(0, run.index).matchAll(/[^ \t]/g)].map((m) => m.index);
    if (strays.length <= STRAY_MAX) return { start: run.index, end: run.index + run[0].length, marker: run[0], strays };
  }
  const head = rest.search(/[^ \t]/);
  const kind = rest[head];
  if (head < 0 || (kind !== '`' && kind !== '~')) return undefined;
  let count = 0;
  let last = head;
  const strays: number[] = [];
  for (let i = head; i < rest.length && rest[i] !== ' ' && rest[i] !== '\t'; i++) {
    if (rest[i] === kind) {
      count++;
      last = i;
    } else if (count >= 3) break;
    else if (strays.push(i) > STRAY_MAX) return undefined;
  }
  if (count < 3 || strays.length === 0) return undefined;
  return { start: head, end: last + 1, marker: kind.repeat(count), strays };
}

function lookLikeFence(raw: string): FenceLook | undefined {
  // Three backticks or tildes at least, or it is no fence (most lines leave here).
  let marks = 0;
  for (let i = 0; i < raw.length && marks < 3; i++) if (raw[i] === '`' || raw[i] === '~') marks++;
  if (marks < 3) return undefined;
  // The line without what cannot be seen, and where each character came from.
  let clean = raw;
  let from = (i: number) => i;
  let firstInvisible: { index: number; char: string } | undefined;
  // Plain ASCII has nothing to take out; other lines are read character by character.
  if (/[^\x20-\x7e\t]/.test(raw)) {
    clean = '';
    const at: number[] = [];
    for (let i = 0; i < raw.length; ) {
      const c = String.fromCodePoint(raw.codePointAt(i) as number);
      if (invisible(c)) firstInvisible ??= { index: i, char: c };
      else {
        clean += c;
        for (let k = 0; k < c.length; k++) at.push(i + k);
      }
      i += c.length;
    }
    from = (i: number) => at[i] as number;
  }
  const containers = clean.slice(0, containerEnd(clean));
  const rest = clean.slice(containers.length);
  const found = findMarker(rest);
  if (!found) return undefined;
  // A heading or a table cell that shows a fence is prose; so is inline code that shows one
  // (`` ` ```sh run ` ``: a run of backticks before it, closed by as many after it).
  if (/^[ \t]*#{1,6}(?:[ \t]|$)/.test(rest) || rest.slice(0, found.start).includes('|')) return undefined;
  const after = new Set([...rest.slice(found.end).matchAll(/`+/g)].map((m) => m[0].length));
  if ([...rest.slice(0, found.start).matchAll(/`+/g)].some((m) => after.has(m[0].length))) return undefined;
  const infoIndex = from(containers.length + found.end - 1) + 1;
  const leadText = /^[ \t]*/.exec(clean)?.[0] ?? '';
  const indentText = /^[ \t]*/.exec(rest)?.[0] ?? '';
  let culprit: FenceLook['culprit'];
  const stray = found.strays[0];
  if (firstInvisible && firstInvisible.index < infoIndex) culprit = { ...firstInvisible, invisible: true };
  else if (stray !== undefined) {
    const at = containers.length + stray;
    culprit = { index: from(at), char: String.fromCodePoint(clean.codePointAt(at) as number), invisible: false };
  }
  return {
    containers,
    lead: columns(leadText),
    indent: columns(indentText),
    tab: `${leadText}${indentText}`.includes('\t'),
    marker: found.marker,
    info: raw.slice(infoIndex),
    markerIndex: from(containers.length + found.start),
    infoIndex,
    culprit,
  };
}

/** The fence the reader meant: its marker and info string with nothing hidden in them. */
function meantFence(look: FenceLook): string {
  const info = look.info
    .replace(new RegExp(INVISIBLE.source, 'gu'), ' ')
    .replace(look.marker[0] === '`' ? /`/g : /(?!)/g, '')
    .trim()
    .replace(/[ \t]+/g, ' ');
  return `${look.marker}${info}`;
}

/** Why Markdown does not read a line that looks like a fence as one, and what to write. */
function notAFence(file: string, line: number, look: FenceLook): BookIssue {
  const meant = meantFence(look);
  const never = 'so Markdown reads it as text, not a fence, and the runner never sees the block';
  const where = { file, line };
  if (look.culprit) {
    const { char, index } = look.culprit;
    return {
      ...where,
      message: `this line looks like a fence (${meant}) but holds ${describeCharacter(char)} at column ${index + 1}, ${index < look.markerIndex ? 'before the fence' : `inside its ${look.marker.slice(0, 3)}`}, ${never}`,
      hint: look.culprit.invisible
        ? `delete that character (retype the line as ${meant}); text copied from a web page often carries these`
        : `a fence starts its line: delete it and write ${meant} (to show a fence as text, put it in a \`\`\`text block)`,
    };
  }
  const backtick = look.marker[0] === '`' ? look.info.indexOf('`') : -1;
  if (backtick >= 0)
    return {
      ...where,
      message: `this line looks like a fence (${meant}) but its info string holds a backtick (U+0060) at column ${look.infoIndex + backtick + 1}, ${never}`,
      hint: `a \`\`\` fence's info string cannot hold a backtick: write ${meant}`,
    };
  const indented = look.lead >= 4 ? look.lead : look.indent >= 4 && look.containers ? look.indent : 0;
  if (indented)
    return {
      ...where,
      message: `this fence (${meant}) is indented by ${indented} ${look.tab ? 'columns (a tab counts as 4)' : 'spaces'}${look.lead >= 4 ? '' : ' after its quote or list marker'}, ${never}`,
      hint: `remove the indentation: a fence may be indented by at most 3 spaces (in a list item, line it up with the item's text); write ${look.containers.trimEnd() ? `${look.containers}${meant}` : meant}`,
    };
  return {
    ...where,
    message: `this line looks like a fence (${meant}) but Markdown does not read it as one here, and the runner never sees the block`,
    hint: `start the line with the fence, after a blank line: ${meant}`,
  };
}

/**
 * markdown-it's tokens, once every line that looks like a fence that runs but that Markdown reads
 * as text (indented four spaces, a zero-width space or a stray character in front, a backtick in
 * the info string) is an issue at its own line. Such a line is then read as the fence it was
 * meant to be and the chapter parsed again, so the lines after it are not blamed for it (the
 * fence's closing line opening a fence of its own that never closes).
 */
function readFences(file: string, lines: string[], issues: BookIssue[]): { tokens: Token[]; reported: Set<number> } {
  let tokens = markdown.parse(lines.join('\n'), {});
  const reported = new Set<number>();
  let fixed = lines;
  for (let round = 0; round < 5; round++) {
    const inFence = new Set<number>();
    for (const token of tokens) if (token.type === 'fence' && token.map) for (let i = token.map[0]; i < token.map[1]; i++) inFence.add(i);
    const broken: { index: number; look: FenceLook }[] = [];
    fixed.forEach((raw, index) => {
      if (inFence.has(index) || reported.has(index)) return;
      const look = lookLikeFence(raw);
      if (look && claimsToRun(look.info)) broken.push({ index, look });
    });
    // ````sh run "closed" by ```: one backtick too many, and the rest of the chapter its code.
    const longer: { token: Token; index: number; bare: string }[] = [];
    for (const token of tokens) {
      if (token.type !== 'fence' || !token.map || reported.has(token.map[0]) || fenceClosed(fixed, token.map, token.markup)) continue;
      const short = shorterClose(fixed, token);
      if (short) longer.push({ token, index: token.map[0], bare: short.bare });
    }
    if (broken.length === 0 && longer.length === 0) break;
    const next = [...fixed];
    const changed = new Map<number, number[]>();
    // The indented code block each line is in (looked up once, not per line: a chapter may have many).
    const codeOf = new Map<number, [number, number]>();
    for (const t of tokens) if (t.type === 'code_block' && t.map) for (let i = t.map[0]; i < t.map[1]; i++) codeOf.set(i, t.map as [number, number]);
    // Each block's text comes back once, by the indentation of its first fence.
    const dedented = new Set<[number, number]>();
    for (const { index, look } of broken) {
      reported.add(index);
      issues.push(notAFence(file, index + 1, look));
      next[index] = `${look.containers}${meantFence(look)}`;
      const touched = [index];
      // An indented block: the rest of its indented text (the code, the closing fence) comes back with it.
      const code = codeOf.get(index);
      if (code && look.lead >= 4 && !dedented.has(code)) {
        dedented.add(code);
        for (let i = index + 1; i < code[1]; i++)
          if (!reported.has(i)) {
            next[i] = dedent(next[i] as string, look.lead);
            touched.push(i);
          }
      }
      changed.set(index, touched);
    }
    for (const { token, index, bare } of longer) {
      reported.add(index);
      issues.push(unclosedFence(file, fixed, token));
      next[index] = (next[index] as string).replace(token.markup, bare);
      changed.set(index, [index]);
    }
    let nextTokens = markdown.parse(next.join('\n'), {});
    // A line read as a fence that then never closes was not meant as one (```sh run``` in a
    // sentence): it stays as it was, and its issue stands.
    const fenceAt = new Map<number, Token>();
    for (const t of nextTokens) if (t.type === 'fence' && t.map) fenceAt.set(t.map[0], t);
    const undo = [...changed.keys()].filter((index) => {
      const fence = fenceAt.get(index);
      return !fence?.map || !fenceClosed(next, fence.map, fence.markup);
    });
    if (undo.length > 0) {
      for (const index of undo) for (const i of changed.get(index) ?? []) next[i] = fixed[i] as string;
      nextTokens = markdown.parse(next.join('\n'), {});
    }
    fixed = next;
    tokens = nextTokens;
  }
  // The lines as read from here on (the fences closed, the code found) are the repaired ones.
  if (fixed !== lines) {
    lines.length = 0;
    appendAll(lines, fixed);
  }
  return { tokens, reported };
}

/** The line without up to `width` columns of leading spaces and tabs. */
function dedent(line: string, width: number): string {
  let i = 0;
  let taken = 0;
  while (i < line.length && taken < width && (line[i] === ' ' || line[i] === '\t')) {
    taken = line[i] === '\t' ? taken + 4 - (taken % 4) : taken + 1;
    i++;
  }
  return line.slice(i);
}

/**
 * A fence that says it runs, inside another fence (of the same marker, at least as long) that is
 * closed only later: the reader forgot to close the first one, and this block became its text.
 */
function fencesInside(file: string, lines: string[], token: Token): BookIssue[] {
  const map = token.map as [number, number];
  const issues: BookIssue[] = [];
  for (let i = map[0] + 1; i < map[1] - 1; i++) {
    const look = lookLikeFence(lines[i] ?? '');
    if (!look || look.culprit || look.lead >= 4 || look.marker[0] !== token.markup[0] || look.marker.length < token.markup.length) continue;
    if (!claimsToRun(look.info)) continue;
    issues.push({
      file,
      line: i + 1,
      message: `the fence opened at line ${map[0] + 1} (${token.markup}${token.info}) is not closed before this line, so this block (${meantFence(look)}) is part of its text, and the runner never sees it`,
      hint: `close the fence of line ${map[0] + 1} with ${token.markup} on a line of its own before this one`,
    });
  }
  return issues;
}

/** In a fence of four or more backticks (or tildes) that never closes, the first line of three (or more, but fewer) that looks meant to close it. */
function shorterClose(lines: string[], token: Token): { index: number; bare: string } | undefined {
  const map = token.map as [number, number];
  const char = token.markup[0] as string;
  if (token.markup.length <= 3) return undefined;
  for (let i = map[0] + 1; i < map[1]; i++) {
    const bare = (lines[i] ?? '').replace(/^[\s>]*/, '').trimEnd();
    if (bare.length >= 3 && bare.length < token.markup.length && [...bare].every((c) => c === char)) return { index: i, bare };
  }
  return undefined;
}

/** The issue of a fence that never closes; a fence of four backticks "closed" by three says so, at the backtick. */
function unclosedFence(file: string, lines: string[], token: Token): BookIssue {
  const map = token.map as [number, number];
  const line = map[0] + 1;
  const char = token.markup[0] as string;
  const short = shorterClose(lines, token);
  if (short) {
    const column = (lines[map[0]] ?? '').indexOf(token.markup) + 1;
    const extra = token.markup.length - short.bare.length;
    return {
      file,
      line,
      message: `the fence opened here with ${token.markup.length} ${char === '`' ? 'backticks' : 'tildes'} (${token.markup}${token.info}) is never closed: the ${short.bare} at line ${short.index + 1} does not close it, and ${describeCharacter(char)} at column ${column} is ${extra === 1 ? 'one' : extra} too many`,
      hint: `open it with ${short.bare} (delete the extra ${char === '`' ? 'backtick' : 'tilde'}${extra === 1 ? '' : 's'}), or close it with ${token.markup}`,
    };
  }
  return {
    file,
    line,
    message: `the fence opened here (${token.markup}${token.info}) is never closed`,
    hint: `close it with ${token.markup} on a line of its own; until then the rest of the chapter is its code`,
  };
}

/** Whether a fence's last line closes it: its marker (``` or ~~~), at least as long, alone on the line. */
function fenceClosed(lines: string[], map: [number, number], markup: string): boolean {
  if (map[1] - map[0] < 2) return false;
  // Inside a quote or a list the closing line carries the quote's > and the item's indent.
  const last = (lines[map[1] - 1] ?? '').replace(/^[\s>]*/, '').trimEnd();
  const marker = markup[0] as string;
  return last.length >= markup.length && [...last].every((c) => c === marker);
}

/** Names must be unique in the whole book; the second use is the one reported. */
export function checkUniqueNames(chapters: Chapter[]): BookIssue[] {
  const first = new Map<string, Block>();
  const issues: BookIssue[] = [];
  for (const chapter of chapters) {
    for (const block of chapter.blocks) {
      if (block.kind === 'prose') continue;
      const earlier = first.get(block.id);
      if (earlier) {
        issues.push({
          file: block.file,
          line: block.line,
          message: `duplicate block name "${block.id}" (first used at ${earlier.file}:${earlier.line})`,
          hint: `give this block another name, e.g. name=${block.id}-2`,
        });
      } else first.set(block.id, block);
    }
  }
  return issues;
}

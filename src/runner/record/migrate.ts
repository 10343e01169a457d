import { escapeRegExp } from '../escape-regexp.js';
import { machineKeys, shellKey, shKey } from '../run/call-key.js';
import type { RecordedBlock, RecordedCall, Transcript } from './transcript.js';

/**
 * Transcripts of format @1 (no logical keys: their target calls held only the runner's text)
 * become @2 on load: each exec's key is read back from the text the @1 runner sent, which is
 * known exactly and frozen here (the runner's wrappers may change since; these never do). A
 * command this reading does not recognise makes the transcript too old: it is refused, with the
 * command that records it again.
 */

export { TRANSCRIPT_FORMAT_V1, TRANSCRIPT_FORMAT_V2 } from './formats.js';

export class TooOld extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooOld';
  }
}

// ---- The @1 runner's text, as it was ----------------------------------------------------------

/** @1's shellQuote. */
const quote = (word: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
/** One word as @1's quote wrote it. */
const WORD = String.raw`('(?:[^']|'\\'')*'|[A-Za-z0-9_./:=@%+,-]+)`;
const unquote = (word: string) => (word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word);

/** An sh block: two traps and `set -eo pipefail;` with the version exports, then the block's code. */
const shPrefix = (exports: string) =>
  `trap 'if [ "$LINENO" -gt 3 ]; then BOOK_LINE=$LINENO; fi' DEBUG\ntrap 'c=$?; if [ $c -ne 0 ]; then printf "\\036BOOKLINE %s\\n" "\${BOOK_LINE:-0}" >&2; fi; exit $c' EXIT\nset -eo pipefail; ${exports}\n`;
/** A `$` command. */
const SHELL_PREFIX = 'set -o pipefail; ';
/** The daemon scripts' liveness test. */
const ALIVE = `alive() { [ -r /proc/$1/stat ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }\n`;

const basename = (file: string, ext: string) => {
  const name = file.slice(file.lastIndexOf('/') + 1);
  return name.endsWith(ext) ? name.slice(0, -ext.length) : undefined;
};

type MachineScript =
  | { op: 'record'; name: string }
  | { op: 'list' }
  | { op: 'start'; name: string; argv: string[]; env: Record<string, string> }
  | { op: 'stop'; name: string }
  | { op: 'exists'; path: string }
  | { op: 'logs'; name: string; lines: number };

/** Which `machine` command an @1 script was, read from its text. */
function machineScript(script: string): MachineScript | undefined {
  let m = new RegExp(`^cat ${WORD} 2>/dev/null$`).exec(script);
  if (m) {
    const name = basename(unquote(m[1] as string), '.json');
    return name ? { op: 'record', name } : undefined;
  }
  if (script.startsWith(`${ALIVE}cd `) && script.includes('\nfor f in *.json;')) return { op: 'list' };
  m = new RegExp(`^${escapeRegExp(ALIVE)}p=\\$\\(cat ${WORD} 2>/dev/null \\|\\| true\\);`).exec(script);
  if (m) {
    const name = basename(unquote(m[1] as string), '.pid');
    return name ? { op: 'stop', name } : undefined;
  }
  m = new RegExp(`^set -e; mkdir -p ${WORD}; rm -f ${WORD}\nprintf '%s' ${WORD} > `).exec(script);
  if (m) {
    try {
      const record = JSON.parse(unquote(m[3] as string)) as { name?: unknown; argv?: unknown; env?: unknown };
      if (typeof record.name === 'string' && Array.isArray(record.argv))
        return { op: 'start', name: record.name, argv: record.argv as string[], env: (record.env ?? {}) as Record<string, string> };
    } catch {
      return undefined;
    }
    return undefined;
  }
  m = new RegExp(`^test -e ${WORD}$`).exec(script);
  if (m) return { op: 'exists', path: unquote(m[1] as string) };
  m = new RegExp(`^tail -n (\\d+) ${WORD} 2>/dev/null$`).exec(script);
  if (m) {
    const name = basename(unquote(m[2] as string), '.log');
    return name ? { op: 'logs', name, lines: Number(m[1]) } : undefined;
  }
  return undefined;
}

// ---- The migration -----------------------------------------------------------------------------

/** `nodes.NAME.` of a target call's path, '' on the first node. */
const nodeOf = (path: string) => path.slice(0, path.lastIndexOf('.') + 1);
const opOf = (path: string) => path.slice(path.lastIndexOf('.') + 1);

/** The daemon record an adopting `daemon()` read (the answer of its `cat NAME.json`). */
function recordRead(call: RecordedCall): { argv: string[]; env: Record<string, string> } | undefined {
  try {
    const record = JSON.parse(String((call.result as { stdout?: unknown } | undefined)?.stdout ?? '')) as { argv?: unknown; env?: unknown };
    return Array.isArray(record.argv) ? { argv: record.argv as string[], env: (record.env ?? {}) as Record<string, string> } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One node's machine commands in a block, in order, grouped back into the `machine` calls that
 * sent them: `daemon()` read the record, listed, then stopped and started, started, or adopted;
 * `restart()` read the record, stopped and started; the others sent one command each.
 */
function keyMachineCalls(calls: { call: RecordedCall; script: MachineScript }[], where: string): void {
  const at = (i: number) => calls[i]?.script;
  const same = (i: number, op: MachineScript['op'], name: string) => {
    const s = at(i);
    return s?.op === op && (s as { name?: string }).name === name;
  };
  const key = (from: number, count: number, value: string) => {
    for (let i = from; i < from + count; i++) (calls[i] as { call: RecordedCall }).call.key = value;
  };
  let i = 0;
  while (i < calls.length) {
    const { call, script } = calls[i] as { call: RecordedCall; script: MachineScript };
    switch (script.op) {
      case 'record': {
        const { name } = script;
        if (at(i + 1)?.op === 'list') {
          // daemon(name, argv): the argv it was given is what it started, or what it adopted.
          const started = same(i + 2, 'stop', name) && same(i + 3, 'start', name) ? i + 3 : same(i + 2, 'start', name) ? i + 2 : undefined;
          const given = started !== undefined ? (at(started) as Extract<MachineScript, { op: 'start' }>) : recordRead(call);
          if (!given) throw new TooOld(`${where}: a daemon call of ${name} neither started one nor adopted a recorded one`);
          const count = started !== undefined ? started - i + 1 : 2;
          key(i, count, machineKeys.daemonStart(name, given.argv, given.env));
          i += count;
        } else if (same(i + 1, 'stop', name) && same(i + 2, 'start', name)) {
          // restart(argv?): its argv is named when it is not the recorded one.
          const recorded = recordRead(call);
          const { argv } = at(i + 2) as Extract<MachineScript, { op: 'start' }>;
          key(i, 3, machineKeys.daemonRestart(name, recorded && JSON.stringify(recorded.argv) === JSON.stringify(argv) ? undefined : argv));
          i += 3;
        } else {
          // restart() of a daemon never started: it read the record and gave up.
          key(i, 1, machineKeys.daemonRestart(name));
          i += 1;
        }
        break;
      }
      case 'list':
        key(i++, 1, machineKeys.daemons());
        break;
      case 'stop':
        key(i++, 1, machineKeys.daemonStop(script.name));
        break;
      case 'exists':
        key(i++, 1, machineKeys.exists(script.path));
        break;
      case 'logs':
        key(i++, 1, machineKeys.daemonLogs(script.name, script.lines));
        break;
      case 'start':
        throw new TooOld(`${where}: daemon ${script.name} was started by no call this runner knows`);
    }
  }
}

function migrateBlock(block: RecordedBlock, exports: string): void {
  const sh = shPrefix(exports);
  const machine = new Map<string, { call: RecordedCall; script: MachineScript }[]>();
  for (const [n, call] of block.calls.entries()) {
    if (call.kind !== 'target') continue;
    const op = opOf(call.path);
    const where = `block ${block.id}, call ${n + 1} (${call.path})`;
    if (op === 'readFile' || op === 'writeFile') {
      call.key = `${op} ${String(call.args[0])}`;
      continue;
    }
    if (op !== 'exec') throw new TooOld(`${where}: not a call this runner records`);
    const script = String(call.args[0]);
    if (script.startsWith(sh)) call.key = shKey(script.slice(sh.length));
    else if (script.startsWith(SHELL_PREFIX)) call.key = shellKey(script.slice(SHELL_PREFIX.length));
    else {
      const known = machineScript(script);
      if (!known) throw new TooOld(`${where}: a command this runner does not recognise (${JSON.stringify(script.slice(0, 60))}…)`);
      const node = nodeOf(call.path);
      machine.set(node, [...(machine.get(node) ?? []), { call, script: known }]);
    }
  }
  for (const [node, calls] of machine) keyMachineCalls(calls, `block ${block.id}${node ? ` on ${node.slice('nodes.'.length, -1)}` : ''}`);
  // The key after the path, where the recorder writes it.
  block.calls = block.calls.map(({ kind, path, key, ...rest }) => ({ kind, path, ...(key === undefined ? {} : { key }), ...rest }));
}

/**
 * An @1 transcript as @2: the same file, its target calls keyed. Throws TooOld, naming the block
 * and the call, when a command cannot be read back.
 */
export function migrateV1(v1: Transcript, format: Transcript['format']): Transcript {
  const transcript = structuredClone(v1);
  // The sh blocks' exports, as the @1 runner wrote them from the recorded versions.
  const exports = Object.entries(transcript.versions ?? {})
    .filter(([name, value]) => /^[A-Z][A-Z0-9_]*$/.test(name) && value !== undefined)
    .map(([name, value]) => `export ${name}=${quote(String(value))};`)
    .join(' ');
  for (const chapter of transcript.chapters) for (const block of chapter.blocks) migrateBlock(block, exports);
  transcript.format = format;
  return transcript;
}

/**
 * @2 copied every `$` command's stdout and stderr into its ts block's output; @3 keeps them with
 * the command only. In a ts block only `$` wrote those two streams (console output is `log`),
 * and each command kept its own copy, so dropping them from the block's output loses nothing.
 */
export function migrateV2(v2: Transcript, format: Transcript['format']): Transcript {
  const transcript = structuredClone(v2);
  for (const chapter of transcript.chapters)
    for (const block of chapter.blocks) if (block.kind === 'ts') block.output = block.output.filter((chunk) => chunk.stream === 'log');
  transcript.format = format;
  return transcript;
}

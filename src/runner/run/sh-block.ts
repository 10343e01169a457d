import type { EventBus } from '../events.js';
import { ProcessFailed, type ProcessOutput } from '../shell.js';
import type { Target } from '../targets/target.js';
import type { Block } from '../types.js';
import { shKey, withCallKey } from './call-key.js';

const ERR_MARK = '\u001eBOOKLINE ';
const MARKS = /\u001eBOOKLINE \d+\n?/g;
/** Lines of the wrapper before the block's own code. */
const WRAPPER = 3;

/**
 * The script an sh block runs as: its traps report the line of the command that failed (or
 * exited), so errors point into the .md file: DEBUG remembers the line about to run, EXIT prints
 * it on failure. The versions are exported first.
 */
export function shScript(block: Block, versionExports: string): string {
  return `trap 'if [ "$LINENO" -gt ${WRAPPER} ]; then BOOK_LINE=$LINENO; fi' DEBUG\ntrap 'c=$?; if [ $c -ne 0 ]; then printf "\\036BOOKLINE %s\\n" "\${BOOK_LINE:-0}" >&2; fi; exit $c' EXIT\nset -eo pipefail; ${versionExports}\n${block.code}`;
}

/** Runs an sh block on its node, streaming its output as events; a failure names its .md line. */
export async function runShBlock(block: Block, target: Target, bus: EventBus, options: { id: number; versionExports: string; signal?: AbortSignal }) {
  const { id } = options;
  const command = block.code.trimEnd();
  // The block's code is the call's key: the traps and exports around it are the runner's.
  const result = await withCallKey(shKey(block.code), () =>
    target.exec(shScript(block, options.versionExports), {
      signal: options.signal,
      onStdout: (text) => bus.emit({ type: 'block:output', block, stream: 'stdout', text }),
      onStderr: (text) => {
        const visible = text.replace(MARKS, '');
        if (visible) bus.emit({ type: 'block:output', block, stream: 'stderr', text: visible });
      },
    }),
  );
  const cleanStderr = result.stderr.replace(MARKS, '');
  bus.emit({ type: 'command:end', block, id, command, exitCode: result.exitCode, durationMs: result.durationMs, stdout: result.stdout, stderr: cleanStderr });
  if (result.exitCode === 0) return;
  // The trap's mark is the last thing bash writes; what the target kept of stderr ends with it.
  const at = result.stderr.lastIndexOf(ERR_MARK);
  const scriptLine = at >= 0 ? Number.parseInt(result.stderr.slice(at + ERR_MARK.length, at + ERR_MARK.length + 12), 10) : undefined;
  // A line of the block's own code only: a block that prints a mark of its own, or removes the
  // traps, must not send the reader to a line outside it.
  const known = scriptLine !== undefined && scriptLine > WRAPPER && scriptLine - WRAPPER <= block.code.trimEnd().split('\n').length;
  // Name the line that failed rather than the whole script.
  const failedLine = known ? (block.code.split('\n')[scriptLine - WRAPPER - 1] ?? command).trim() : command;
  const error = new ProcessFailed(
    failedLine,
    { stdout: result.stdout, stderr: cleanStderr, exitCode: result.exitCode } as ProcessOutput,
    result.signal,
    '',
  ) as ProcessFailed & { mdLine?: number };
  if (known) error.mdLine = block.codeLine + scriptLine - WRAPPER - 1;
  throw error;
}

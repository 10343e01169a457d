import { redactShapes } from './record/redact-shapes.js';

/**
 * Every error the CLI can print, by a stable code: its exit status and what the reader should do.
 * The one table of exit codes; docs/errors.md lists the same codes (a test keeps them in step).
 */
export const ERRORS = {
  BOOK_INVALID: { exit: 2, todo: 'fix the chapter or book.yaml at the file:line the message names; nothing ran' },
  ARGUMENTS_INVALID: { exit: 2, todo: 'check the command line against `book --help`' },
  TRANSCRIPT_INVALID: { exit: 2, todo: 'record the transcript again: book run --record' },
  TRANSCRIPT_OLD: { exit: 2, todo: 'an older runner recorded it: record it again with the command the message gives (book run --record --transcript FILE)' },
  VERSION_UNKNOWN: { exit: 2, todo: 'pick a Kubernetes version vagrant/versions.sh knows (K8S_VERSION or `kubernetes:` in book.yaml)' },
  CHECKPOINT_MISSING: { exit: 2, todo: 'run the book up to the chapter before the one you resume from: book run --to N' },
  CHECKPOINT_DAMAGED: { exit: 2, todo: 'run that chapter again to replace the checkpoint, or delete the file' },
  MACHINE_BUSY: { exit: 2, todo: 'wait for the other book run on this machine, or stop it' },
  STATE_UNUSABLE: { exit: 2, todo: "the book's state folder (.book/ beside the book) cannot be used: make it a writable folder, or move what is in its way" },
  MACHINE_UNREACHABLE: { exit: 3, todo: 'bring the machine up: book machine up (the message says what did not answer)' },
  HOST_KEY_REFUSED: {
    exit: 3,
    todo: "if the ssh host was reinstalled, forget its old key (ssh-keygen -R '[host]:port') or pin the new one; otherwise do not connect",
  },
  HOST_TOOL_MISSING: { exit: 3, todo: 'install the program the message names on this host, or put it on PATH' },
  OUTPUT_UNWRITABLE: { exit: 3, todo: 'free space on the disk, or send the output somewhere it can be written' },
  MACHINE_DRIFTED: { exit: 1, todo: 'resume from an earlier chapter, or pass --force to continue anyway' },
  MACHINE_RECREATED: { exit: 1, todo: 'run the book from the start on the new machine, or pass --force' },
  CHAPTER_CHANGED: { exit: 1, todo: 'run again from the first changed chapter, or pass --force' },
  BLOCK_FAILED: { exit: 1, todo: "read the block's error and the machine's diagnostics; fix, then retry (r) or run --from its chapter" },
  COMMAND_FAILED: { exit: 1, todo: "a command exited non-zero: read its stderr and the machine's diagnostics" },
  BLOCK_TIMEOUT: { exit: 1, todo: 'the block ran past timeout=: read what it still waited for; raise timeout= if it needs longer' },
  WAIT_TIMEOUT: { exit: 1, todo: 'a waitFor gave up: its last value or error says what was not there yet; read the diagnostics' },
  API_UNAVAILABLE: { exit: 1, todo: 'the API server did not answer: is kube-apiserver running and ready (/readyz)?' },
  EXPECTATION_UNMET: { exit: 1, todo: 'a block marked fails= succeeded or failed with other text: check the book against the machine' },
  REPLAY_MISMATCH: { exit: 1, todo: 'the book changed since the transcript was recorded: book run --record' },
  INTERRUPTED: { exit: 130, todo: 'the run was stopped (Ctrl-C or q); daemons were left running: book run --from CH resumes' },
  INTERNAL: { exit: 1, todo: 'a bug in the runner: report it with the command and this message' },
} as const satisfies Record<string, { exit: number; todo: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function exitCodeOf(code: ErrorCode): number {
  return ERRORS[code].exit;
}

/** The code of any error: its own, else by what it is (the runner's classes keep theirs by name). */
export function codeOf(error: unknown): ErrorCode {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code in ERRORS) return code as ErrorCode;
  switch ((error as Error | undefined)?.name) {
    case 'ProcessFailed':
      return 'COMMAND_FAILED';
    case 'BlockTimeout':
      return 'BLOCK_TIMEOUT';
    case 'WaitTimeout':
      return 'WAIT_TIMEOUT';
    case 'ApiUnavailable':
      return 'API_UNAVAILABLE';
    case 'ReplayMismatch':
      return 'REPLAY_MISMATCH';
    case 'Interrupted':
      return 'INTERRUPTED';
    default:
      return 'BLOCK_FAILED';
  }
}

/**
 * Text from the reader's input (file names, chapter titles, arguments, YAML values) made safe for a
 * terminal: control characters and bidirectional overrides are shown as escapes (`\x1b`), never
 * obeyed. Newlines and tabs stay.
 */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** How the CLI prints an error: `book: [CODE] message`, then the next step. */
export function formatError(code: ErrorCode, message: string, hint?: string): string {
  return `book: [${code}] ${visible(redactShapes(message))}\n${hint ? `  → ${visible(redactShapes(hint))}\n` : ''}`;
}

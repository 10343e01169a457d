import type { Duplex } from 'node:stream';

export interface ExecOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  stdin?: string | Buffer;
  /**
   * The caller knows the command changes nothing on the machine (the snapshot's own reads): it
   * does not count as acting on the machine, so a reading taken before it still holds.
   */
  readOnly?: boolean;
}

/** What the machine's files say, as the Python agent's op 'machinefiles' answers: raw facts, shaped into items by state/. */
export interface MachineFileFacts {
  /** [file name, size, first 12 hex digits of its sha256] in the static-pod folder. */
  manifests: [string, number, string][];
  /** [daemon, pid, running] from `<runtimeDir>/NAME.pid`: what the machine was provisioned with. */
  provisioned: [string, number | null, boolean][];
  /** The last lines of every log under `<runtimeDir>/daemons` and `<runtimeDir>/logs`, by name. */
  logs: Record<string, string[]>;
  /** The book's daemons recorded under `<runtimeDir>/daemons`. */
  daemons: { name: string; argv: string[]; pid: number | null; running: boolean; restarts: number; startedAt: string | null }[];
}

export interface NodeStateRequest {
  manifestsDir: string;
  logLines: number;
  /** Whole files to read in the same message (the kubeconfig): `NodeState.read`. */
  read?: string[];
}

export interface NodeState {
  /** As networkChanged(): false only when the machine is sure nothing changed. */
  netChanged: boolean;
  files?: MachineFileFacts;
  filesError?: string;
  /** The node's containers, listed anew or as listed last while its Docker's files say nothing changed. */
  docker: { fingerprint: string | null; containers: unknown[] } | { error: string };
  /** The files asked for by `NodeStateRequest.read`: their bytes in base64, or why not. */
  read?: Record<string, { data: string } | { error: string }>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** null when the command was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

export interface MachineIdentity {
  target: string;
  hostname: string;
  /** Changes when the machine is recreated (netns inode, boot id, VM id). */
  instance: string;
}

/** One Linux machine the book runs on. Every block global reaches the machine through this. */
export interface Target {
  readonly name: string;
  /** `fake`: test/fakes/fake-target.ts, for the runner's own tests. */
  readonly type: 'local' | 'ssh' | 'vagrant' | 'docker' | 'replay' | 'fake';
  /** Where the runner keeps daemon records and logs on the machine. */
  readonly runtimeDir: string;
  /** The machine's Docker socket, as a path on the machine. */
  readonly dockerSocket: string;
  /** Throws MachineUnreachable, saying what to do, when the machine cannot be used. */
  connect(): Promise<void>;
  /** Runs `bash -c command` as root on the machine. Never throws for a non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** A byte stream to host:port as seen from inside the machine. */
  openTcp(host: string, port: number): Promise<Duplex>;
  /** A byte stream to a unix socket on the machine. */
  openUnix(path: string): Promise<Duplex>;
  identity(): Promise<MachineIdentity>;
  /**
   * Local targets only: where the machine's file system is seen from this host ('' when it is this
   * host's own; `/proc/PID/root` for a node with a mount namespace of its own). Readers of the
   * machine's files use it to read them without a process.
   */
  nativeRoot?(): Promise<string>;
  /**
   * Whether the machine's interfaces, addresses or firewall rules may have changed since the last
   * call: false only when the machine said so for sure (netlink notifications, the local target's
   * Python agent); the snapshot then keeps the network it read before instead of reading it again.
   */
  networkChanged?(): Promise<boolean>;
  /**
   * The snapshot's reads of the machine in one message to its agent (the docker target): its
   * files, its Docker's containers (or `same` as the fingerprint the caller holds) and whether its
   * network changed. Absent where the snapshot reads each source itself.
   */
  nodeState?(request: NodeStateRequest): Promise<NodeState>;
  /** Local targets: where this host opens one of the machine's unix sockets directly (no forward needed). */
  hostSocketPath?(machinePath: string): string;
  /** argv that opens an interactive shell (or runs one command) on the machine from this host. */
  shellArgv(command: string[], env: Record<string, string>): string[];
  /** Where the target opens the shell itself (the docker target, through the Docker API): its exit status. */
  shell?(command: string[], env: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export class MachineUnreachable extends Error {
  readonly code = 'MACHINE_UNREACHABLE';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'MachineUnreachable';
  }
}

/** An ssh host whose key is not the pinned or the known one: never connected to. */
export class HostKeyRefused extends Error {
  readonly code = 'HOST_KEY_REFUSED';
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'HostKeyRefused';
  }
}

export class ConnectionRefused extends Error {
  constructor(
    readonly endpoint: string,
    detail: string,
  ) {
    super(`cannot connect to ${endpoint} on the machine: ${detail}`);
    this.name = 'ConnectionRefused';
  }
}

/** The environment every command sees on the machine, whatever the target. */
export function machineEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    // Node's stdio pipes are sockets; bash takes a socket on stdin with SHLVL < 2 for rshd and
    // sources ~/.bashrc (on some hosts 150 ms of pyenv per command). SHLVL=1 turns that off.
    SHLVL: '1',
    ...extra,
  };
}

export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `export A='1' B='2'; ` — for targets where the environment travels inside the command. */
export function exportPrefix(env: Record<string, string>): string {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return pairs.length ? `export ${pairs.join(' ')}; ` : '';
}

/**
 * `book machine shell -- …` as bash argv. One argument is a command line for bash (as `ssh HOST
 * 'CMD'` and `vagrant ssh -c` take one); two or more are one word each, as `kubectl exec -- CMD
 * ARGS` passes them: `-- docker ps --format '{{.ID}} {{.Names}}'` keeps its format whole.
 */
export function commandWords(command: string[]): string[] {
  return command.length === 1 ? ['bash', '-c', command[0] as string] : ['bash', '-c', 'exec "$@"', 'bash', ...command];
}

/** The same, as one line for a remote shell. */
export function commandLine(command: string[]): string {
  return command.length === 1 ? (command[0] as string) : command.map(shellQuote).join(' ');
}

/** The tail of every refusal to write over something that is not a regular file (local.ts, atomicWriteScript). */
export const REGULAR_FILES_ONLY = 'a file= block writes regular files only';

/**
 * Why FILE is not written: what is there is not a regular file (`kind`: a folder, a character
 * device, …), itself or at the end of its symbolic links (`via`, the path they lead to).
 */
export function notAFile(file: string, kind: string, via?: string): string {
  const what = via === undefined || via === file ? `${file} is a ${kind}` : `${file} is a symbolic link to ${via}, which is a ${kind}`;
  return `${what}, not a file: ${REGULAR_FILES_ONLY}`;
}

/** Why FILE's folder cannot be made: ANCESTOR is something else (`kind`). */
export function notAFolder(file: string, ancestor: string, kind: string): string {
  return `cannot write ${file}: ${ancestor} is a ${kind}, not a folder`;
}

/**
 * bash that writes its stdin to FILE atomically with MODE (parents made): a hidden temp name beside
 * it (the kubelet ignores dotfiles in its static-pod folder), then mv. A symbolic link is written
 * through (the file it leads to is replaced; the link stays). Anything else that is not a regular
 * file (a folder, a device, a FIFO, a socket) is refused untouched, with the words LocalTarget's
 * writeFile uses; the temp file is removed on every failure (the EXIT trap), and every error is a
 * sentence naming FILE, never the temp file.
 */
export function atomicWriteScript(file: string, mode: number): string {
  return `f=${shellQuote(file)}; m=${mode.toString(8)}
${ATOMIC_WRITE_BODY}`;
}

const ATOMIC_WRITE_BODY = `kind() {
  if [ -d "$1" ]; then echo folder; elif [ -c "$1" ]; then echo 'character device'; elif [ -b "$1" ]; then echo 'block device'
  elif [ -p "$1" ]; then echo 'FIFO (named pipe)'; elif [ -S "$1" ]; then echo socket; elif [ -f "$1" ]; then echo 'regular file'
  else echo 'special file'; fi
}
fail() { printf '%s\\n' "$1" >&2; exit 1; }
why() { local e=\${1##*: }; e=\${e:-it failed}; printf '%s' "\${e,}"; }
p=$f; n=0
while [ -L "$p" ]; do
  n=$((n + 1)); [ "$n" -le 40 ] || fail "cannot write $f: too many levels of symbolic links"
  l=$(readlink -- "$p") || fail "cannot write $f: cannot read the symbolic link $p"
  case $l in /*) p=$l ;; *) case $p in */*) p=\${p%/*}/$l ;; *) p=$l ;; esac ;; esac
done
case $p in */*) d=\${p%/*}; d=\${d:-/}; t=\${p%/*}/.\${p##*/}.book-tmp ;; *) d=.; t=.$p.book-tmp ;; esac
if ! e=$(mkdir -p -- "$d" 2>&1); then
  a=$d
  while [ "$a" != / ] && [ "$a" != . ] && ! [ -e "$a" ]; do a=$(dirname -- "$a"); done
  if [ -e "$a" ] && ! [ -d "$a" ]; then fail "cannot write $f: $a is a $(kind "$a"), not a folder"; fi
  fail "cannot write $f: cannot make the folder $d: $(why "$e")"
fi
refuse() {
  if [ -e "$p" ] && ! [ -f "$p" ]; then
    if [ "$p" = "$f" ]; then fail "$f is a $(kind "$p"), not a file: ${REGULAR_FILES_ONLY}"; fi
    fail "$f is a symbolic link to $p, which is a $(kind "$p"), not a file: ${REGULAR_FILES_ONLY}"
  fi
}
refuse
trap 'rm -f -- "$t"' EXIT
trap 'exit 1' HUP INT TERM
umask 077
e=$({ cat > "$t"; } 2>&1) || fail "cannot write $f: $(why "$e")"
e=$(chmod "$m" -- "$t" 2>&1) || fail "cannot write $f: $(why "$e")"
refuse
e=$(mv -fT -- "$t" "$p" 2>&1) || fail "cannot write $f: $(why "$e")"`;

/** The error of a `cat FILE` that failed on a remote machine, ENOENT when the file is missing. */
export function readFailure(file: string, stderr: string): NodeJS.ErrnoException {
  const error = new Error(`cannot read ${file} on the machine: ${stderr.trim()}`) as NodeJS.ErrnoException;
  if (/No such file/.test(stderr)) error.code = 'ENOENT';
  return error;
}

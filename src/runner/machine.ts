import type { Target } from './targets/target.js';
import { shellQuote } from './targets/target.js';

/** A zombie is not running: on hosts whose pid 1 does not reap, kill -0 would say it is. */
const ALIVE = `alive() { [ -r /proc/$1/stat ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null; }
`;

export interface DaemonStatus {
  name: string;
  argv: string[];
  pid: number | null;
  running: boolean;
  restarts: number;
  startedAt: string | null;
}

export interface DaemonOptions {
  env?: Record<string, string>;
}

export interface DaemonHandle {
  readonly name: string;
  restart(argv?: string[]): Promise<DaemonHandle>;
  stop(): Promise<void>;
  logs(lines?: number): Promise<string>;
  status(): Promise<DaemonStatus>;
}

interface DaemonRecord {
  name: string;
  argv: string[];
  env: Record<string, string>;
  restarts: number;
  startedAt: string;
}

export interface MachineHooks {
  onDaemon(name: string, action: 'started' | 'adopted' | 'restarted' | 'stopped', pid?: number): void;
  signal(): AbortSignal | undefined;
}

/**
 * The `machine` global. Daemons are recorded under `<runtimeDir>/daemons/` ON the machine and run
 * in their own session, so they outlive the runner and a later run finds them again.
 */
export class Machine {
  constructor(
    private readonly target: Target,
    private readonly hooks: MachineHooks,
  ) {}

  private get dir(): string {
    return `${this.target.runtimeDir}/daemons`;
  }

  async writeFile(path: string, content: string | Buffer, options: { mode?: number } = {}): Promise<void> {
    await this.target.writeFile(path, content, options.mode);
  }

  async readFile(path: string): Promise<string> {
    return (await this.target.readFile(path)).toString('utf8');
  }

  async exists(path: string): Promise<boolean> {
    return (await this.target.exec(`test -e ${shellQuote(path)}`)).exitCode === 0;
  }

  private async run(script: string): Promise<string> {
    const result = await this.target.exec(script, { signal: this.hooks.signal() });
    if (result.exitCode !== 0) throw new Error(`machine: ${script.split('\n')[0]} failed: ${result.stderr.trim()}`);
    return result.stdout;
  }

  private async record(name: string): Promise<DaemonRecord | undefined> {
    const text = await this.target.exec(`cat ${shellQuote(`${this.dir}/${name}.json`)} 2>/dev/null`);
    if (text.exitCode !== 0 || !text.stdout.trim()) return undefined;
    try {
      return JSON.parse(text.stdout) as DaemonRecord;
    } catch {
      return undefined;
    }
  }

  /** One round trip: every recorded daemon with its pid and whether it still runs. */
  async daemons(): Promise<DaemonStatus[]> {
    const script = `${ALIVE}cd ${shellQuote(this.dir)} 2>/dev/null || exit 0
for f in *.json; do [ -e "$f" ] || continue; n="\${f%.json}"; p=$(cat "$n.pid" 2>/dev/null || true)
  r=0; if [ -n "$p" ] && alive "$p"; then r=1; fi
  printf '%s\\t%s\\t%s\\t' "$n" "$p" "$r"; tr -d '\\n' < "$f"; echo; done`;
    const out = await this.run(script);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', pid = '', running = '0', json = '{}'] = line.split('\t');
        const record = JSON.parse(json) as Partial<DaemonRecord>;
        return {
          name,
          argv: record.argv ?? [],
          pid: pid ? Number(pid) : null,
          running: running === '1',
          restarts: record.restarts ?? 0,
          startedAt: record.startedAt ?? null,
        };
      });
  }

  async daemonStatus(name: string): Promise<DaemonStatus> {
    const all = await this.daemons();
    return all.find((d) => d.name === name) ?? { name, argv: [], pid: null, running: false, restarts: 0, startedAt: null };
  }

  /**
   * Starts argv as a daemon named `name` — or adopts the one already running with the same argv.
   * A daemon of that name running with other arguments is restarted with these.
   */
  async daemon(name: string, argv: string[], options: DaemonOptions = {}): Promise<DaemonHandle> {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`machine.daemon: bad name "${name}" (use lowercase letters, digits and -)`);
    if (argv.length === 0) throw new Error('machine.daemon: argv is empty');
    const record = await this.record(name);
    const status = await this.daemonStatus(name);
    const env = options.env ?? {};
    if (status.running && record && JSON.stringify(record.argv) === JSON.stringify(argv) && JSON.stringify(record.env ?? {}) === JSON.stringify(env)) {
      this.hooks.onDaemon(name, 'adopted', status.pid ?? undefined);
      return this.handle(name);
    }
    if (status.running) {
      await this.stopDaemon(name, false);
      await this.start(name, argv, env, (record?.restarts ?? 0) + 1, 'restarted');
    } else {
      await this.start(name, argv, env, record?.restarts ?? 0, 'started');
    }
    return this.handle(name);
  }

  private async start(name: string, argv: string[], env: Record<string, string>, restarts: number, action: 'started' | 'restarted'): Promise<void> {
    const base = `${this.dir}/${name}`;
    const record: DaemonRecord = { name, argv, env, restarts, startedAt: new Date().toISOString() };
    const envWords = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`));
    const command = [...(envWords.length ? ['env', ...envWords] : []), ...argv.map(shellQuote)].join(' ');
    // The daemon is its own session leader: Ctrl-C in the runner's terminal never reaches it,
    // and `stop` can signal its whole process group.
    const script = `set -e; mkdir -p ${shellQuote(this.dir)}; rm -f ${shellQuote(`${base}.pid`)}
printf '%s' ${shellQuote(JSON.stringify(record))} > ${shellQuote(`${base}.json`)}
echo "--- $(date -u +%FT%TZ) ${action}" >> ${shellQuote(`${base}.log`)}
( setsid bash -c 'echo $$ > "$0"; exec "$@"' ${shellQuote(`${base}.pid`)} ${command} >> ${shellQuote(`${base}.log`)} 2>&1 < /dev/null & )
for i in $(seq 1 100); do [ -s ${shellQuote(`${base}.pid`)} ] && break; sleep 0.02; done
cat ${shellQuote(`${base}.pid`)}`;
    const pid = Number((await this.run(script)).trim());
    this.hooks.onDaemon(name, action, Number.isFinite(pid) ? pid : undefined);
  }

  private async stopDaemon(name: string, announce = true): Promise<void> {
    const pidFile = `${this.dir}/${name}.pid`;
    const script = `${ALIVE}p=$(cat ${shellQuote(pidFile)} 2>/dev/null || true); [ -n "$p" ] || exit 0
kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
for i in $(seq 1 200); do alive "$p" || break; sleep 0.05; done
alive "$p" && { kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; }
rm -f ${shellQuote(pidFile)}`;
    await this.run(script);
    if (announce) this.hooks.onDaemon(name, 'stopped');
  }

  private handle(name: string): DaemonHandle {
    const machine = this;
    return {
      name,
      async restart(argv?: string[]) {
        const record = await machine.record(name);
        const next = argv ?? record?.argv;
        if (!next) throw new Error(`machine: daemon ${name} has never been started`);
        await machine.stopDaemon(name, false);
        await machine.start(name, next, record?.env ?? {}, (record?.restarts ?? 0) + 1, 'restarted');
        return this;
      },
      stop: () => machine.stopDaemon(name),
      async logs(lines = 50) {
        return (await machine.target.exec(`tail -n ${Number(lines)} ${shellQuote(`${machine.dir}/${name}.log`)} 2>/dev/null`)).stdout;
      },
      status: () => machine.daemonStatus(name),
    };
  }
}

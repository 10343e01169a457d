import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const hasTmux = existsSync('/usr/bin/tmux');

/** This test run's own tmux server: its options (a long history) touch no one else's sessions. */
const SOCKET = `book-tests-${process.pid}`;
/** Every terminal keeps a long scrollback: a whole book's run is read back from it. */
const CONFIG = path.join(mkdtempSync(path.join(tmpdir(), 'book-tmux-')), 'tmux.conf');
writeFileSync(CONFIG, 'set-option -g history-limit 100000\n');
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

/**
 * A real terminal (tmux, 120×40 unless told) running the book CLI; the screen and its scrollback
 * are read back with capture-pane. `EXIT=<code>` is printed when the command ends.
 */
export class Terminal {
  readonly name = `book-${Math.random().toString(36).slice(2, 8)}`;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'book-tui-'));

  constructor(command: string, options: { columns?: number; rows?: number; cwd?: string } = {}) {
    const script = [
      `cd ${options.cwd ?? this.dir}`,
      `stty -g > ${this.dir}/stty.before`,
      `env -u CI -u GITHUB_ACTIONS NO_COLOR=1 TERM=xterm-256color ${command}`,
      'echo "EXIT=$?"',
      `stty -g > ${this.dir}/stty.after`,
      'sleep 3600',
    ].join('; ');
    // The history limit applies to windows made after it is set, and a server with no session
    // exits at once: so the server reads it from its config file as it starts.
    tmux('-f', CONFIG, 'new-session', '-d', '-s', this.name, '-x', String(options.columns ?? 120), '-y', String(options.rows ?? 40), `bash -c '${script}'`);
  }

  /** The visible screen and up to `scrollback` lines above it, wrapped lines joined. */
  screen(scrollback = 300): string {
    return tmux('capture-pane', '-p', '-J', '-S', `-${scrollback}`, '-t', this.name);
  }

  async waitFor(pattern: RegExp, timeoutMs = 45_000, scrollback = 300): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen(scrollback);
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline || (/EXIT=\d+/.test(screen) && !/EXIT/.test(pattern.source))) throw new Error(`the screen never showed ${pattern}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  keys(...keys: string[]): void {
    tmux('send-keys', '-t', this.name, ...keys);
  }

  close(): void {
    try {
      tmux('kill-session', '-t', this.name);
    } catch {}
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stops this run's tmux server (and any session left on it). */
export function stopTerminals(): void {
  try {
    tmux('kill-server');
  } catch {}
}

import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult } from './target.js';

/**
 * Spawns argv in its own process group and collects its output. An abort kills the whole group,
 * so a block's timeout or Ctrl-C stops what the block started, and nothing else.
 */
export function spawnCollect(argv: string[], env: Record<string, string>, options: ExecOptions = {}): Promise<ExecResult & { stdoutBuffer: Buffer }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv as [string, ...string[]];
    const child = spawn(command, args, { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    if (options.signal?.aborted) kill();
    options.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      options.onStdout?.(chunk.toString('utf8'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      options.onStderr?.(chunk.toString('utf8'));
    });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', kill);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      const stdoutBuffer = Buffer.concat(out);
      resolve({
        stdout: stdoutBuffer.toString('utf8'),
        stdoutBuffer,
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code,
        signal,
        durationMs: performance.now() - started,
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

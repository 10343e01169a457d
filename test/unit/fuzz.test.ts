// Property-based fuzzing (fast-check) of everything that reads a reader's input before the machine
// is touched: the info-string tokenizer, the chapter parser, the book.yaml loader, and chapters of
// random bytes. Each must end, within a bound, with a valid result or issues that have a line.
// The properties run in a worker thread (test/fuzz/fuzz-worker.mjs) so an input that makes the
// parser spin is caught and named instead of hanging the tests. The worker loads the runner from
// src, bundled here first (a worker thread cannot load TypeScript), never an older dist/.
// FUZZ_RUNS=N raises the number of cases (the bench runs a long one: node bench/run.mjs fuzz).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the build scripts
import { NODE_MODULE } from '../../scripts/esbuild-options.mjs';

const ROOT = path.join(import.meta.dirname, '..', '..');
let bundleDir = '';
let api = '';

beforeAll(async () => {
  // In node_modules/.cache, where the runner's packages (left external, as in dist/) resolve.
  const cache = path.join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  bundleDir = mkdtempSync(path.join(cache, 'book-fuzz-'));
  api = path.join(bundleDir, 'runner-api.mjs');
  await build({
    entryPoints: [path.join(ROOT, 'src', 'runner-api.ts')],
    outfile: api,
    ...NODE_MODULE,
  });
}, 60_000);

afterAll(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

const RUNS = Number(process.env.FUZZ_RUNS ?? 0);
const PROPERTIES: Record<string, { runs: number; boundMs: number }> = {
  'info string': { runs: RUNS || 5000, boundMs: 15_000 },
  chapter: { runs: RUNS || 2000, boundMs: 15_000 },
  'book.yaml': { runs: RUNS || 2000, boundMs: 15_000 },
  'chapter bytes': { runs: RUNS ? Math.ceil(RUNS / 10) : 300, boundMs: 15_000 },
};

/** One property's run: its verdict, or the input it was on when the bound ran out. */
function fuzz(property: string, runs: number, boundMs: number): Promise<{ ok: boolean; detail: string; ms: number }> {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const worker = new Worker(new URL('../fuzz/fuzz-worker.mjs', import.meta.url), { workerData: { property, runs, seed, api } });
  let last = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ ok: false, detail: `no verdict within ${boundMs} ms (seed ${seed}); the case running then: ${JSON.stringify(last)}`, ms: boundMs });
    }, boundMs);
    worker.on('message', (m: { type: string; input?: string; ms?: number; message?: string }) => {
      if (m.type === 'case') last = m.input ?? '';
      else {
        clearTimeout(timer);
        void worker.terminate();
        resolve(m.type === 'done' ? { ok: true, detail: `${runs} cases`, ms: m.ms ?? 0 } : { ok: false, detail: `seed ${seed}: ${m.message}`, ms: 0 });
      }
    });
    worker.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `seed ${seed}: ${error.message}`, ms: 0 });
    });
  });
}

describe('fuzzing what reads the reader’s input (fast-check)', () => {
  for (const [property, { runs, boundMs }] of Object.entries(PROPERTIES)) {
    it(`${property}: ${runs} random inputs, each a valid result or issues with a line, none hanging`, async () => {
      const result = await fuzz(property, runs, boundMs);
      console.log(`fuzz ${property}: ${result.detail} in ${result.ms.toFixed(0)} ms`);
      expect(result.ok, result.detail).toBe(true);
    }, 60_000);
  }
});

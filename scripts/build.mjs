// Bundles src/ into dist/. Dependencies are bundled too (tree-shaken): loading the Kubernetes
// client's 2,300 model modules one by one costs ~75 MB of RSS, bundled ~20 MB (docs/benchmarks.md).
// Packages with native parts or WebAssembly stay external. Type checking is `npm run typecheck`.
import { renameSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { PACKAGE_BUNDLE } from './esbuild-options.mjs';

// Build beside dist/ and swap: a `book` process started meanwhile finds the old dist or the new
// one, never an empty folder.
const next = `dist.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });

await build({
  // The kernel thread's entry is a file of its own: src/runner/isolate/host.ts starts it.
  entryPoints: ['src/cli.ts', 'src/runner-api.ts', 'src/runner/isolate/worker.ts'],
  outbase: 'src',
  outdir: next,
  ...PACKAGE_BUNDLE,
  sourcemap: true,
  minifySyntax: true,
});

const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {
  // first build
}
renameSync(next, 'dist');
rmSync(old, { recursive: true, force: true });

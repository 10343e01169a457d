// Bundles src/ into dist/. Dependencies are bundled too (tree-shaken): loading the Kubernetes
// client's 2,300 model modules one by one costs ~75 MB of RSS, bundled ~20 MB (docs/benchmarks.md).
// Packages with native parts or WebAssembly stay external. Type checking is `npm run typecheck`.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli.ts', 'src/runner-api.ts'],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['esbuild', 'ssh2', 'cpu-features', 'ink', 'react', 'react/jsx-runtime', 'yoga-layout', 'playwright-core', 'zx'],
  banner: { js: "import { createRequire as __bookRequire } from 'node:module'; const require = __bookRequire(import.meta.url);" },
  sourcemap: true,
  splitting: true,
  minifySyntax: true,
  jsx: 'automatic',
  logLevel: 'warning',
});

// Bundles src/ into dist/ (dependencies stay external); type checking is `npm run typecheck`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  splitting: true,
  jsx: 'automatic',
  logLevel: 'warning',
});

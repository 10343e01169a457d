// esbuild options shared by the build (scripts/build.mjs) and the tests and scripts that bundle
// src/ themselves so they never run a stale dist/.

/** One ES module for Node 20+, its npm packages left to node_modules. */
export const NODE_MODULE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};

/** The package as dist/ ships it: dependencies bundled (tree-shaken) but those with native parts or WebAssembly. */
export const PACKAGE_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['esbuild', 'ssh2', 'cpu-features', 'ink', 'react', 'react/jsx-runtime', 'yoga-layout', 'playwright-core', 'zx'],
  // tr46 (via the Kubernetes client's URL parser) asks for Node's own punycode, deprecated since
  // Node 21 and warned about by Deno; the userland copy markdown-it already brings is the same code.
  alias: { punycode: 'punycode.js' },
  banner: { js: "import { createRequire as __bookRequire } from 'node:module'; const require = __bookRequire(import.meta.url);" },
  splitting: true,
  jsx: 'automatic',
  logLevel: 'warning',
};

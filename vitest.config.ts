import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/integration/**/*.test.ts'],
    setupFiles: ['test/setup/known-hosts.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share the machine's namespaces and sshd ports; keep files sequential.
    fileParallelism: false,
  },
});

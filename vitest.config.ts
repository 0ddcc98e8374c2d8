import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temporary directory per test file, removed after it (test/setup/private-tmpdir.ts).
    setupFiles: ['test/setup/private-tmpdir.ts'],
    // TF.js backends keep global state per process, so each test file gets its own process.
    pool: 'forks',
    // Training commands default to every core for XNNPACK; test processes run side by side on the
    // same cores, so they keep one thread each unless a test asks for more (wasm-threads.test.ts).
    env: { RESDET_WASM_THREADS: '1' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});

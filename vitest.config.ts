import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: keep heavy suites from fighting over them.
    maxWorkers: 2,
    pool: 'forks',
  },
});

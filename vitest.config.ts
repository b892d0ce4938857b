import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'integration/**/*.test.ts'],
    pool: 'forks',
    // Two cores: more parallel files only add contention for PostgreSQL and worker threads.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

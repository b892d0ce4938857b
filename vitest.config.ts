import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'integration/**/*.test.ts'],
    pool: 'forks',
    // A PostgreSQL for the integration tests: TEST_DATABASE_URL, else 127.0.0.1:5432, else the
    // embedded server (integration/helpers/global-setup.ts).
    globalSetup: ['integration/helpers/global-setup.ts'],
    // Two cores: more parallel files only add contention for PostgreSQL and worker threads.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

import { defineConfig } from 'vitest/config';

// Calendar logic (retention days/weeks/months, schedules without a time zone) is tested in UTC.
// Set here, before any test process starts, so every fork inherits it.
process.env.TZ = 'UTC';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // better-sqlite3 is a native module: separate processes, not worker threads, per test file.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests spawn writers and CLIs of their own.
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});

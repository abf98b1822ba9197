import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles the project once per run (tsc, about a second) for the tests that spawn the
    // real CLI; see test/global-setup.ts.
    globalSetup: ['test/global-setup.ts'],
    // Child processes, not threads: tests open real sockets, spawn brokers and load the
    // native better-sqlite3 addon, which are all simpler to isolate per process.
    pool: 'forks',
    // Most suites wait on sockets rather than burn CPU, so one worker more than the cores
    // keeps a 2-core CI runner busy without starving the brokers under test.
    maxWorkers: Math.max(2, availableParallelism() + 1),
    testTimeout: 15_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});

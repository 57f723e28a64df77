import { configDefaults, defineConfig } from 'vitest/config';

// Two kinds of test files, run the way each is cheapest and still honest:
// - unit: pure modules and in-memory fakes. One module graph shared by every file of a worker
//   thread (isolate: false): most of a unit file's cost is loading and transforming modules, so
//   loading them once instead of per file is where the time goes.
// - integration: a real app on SQLite, real HTTP, spawned binaries, process signals. Each file in
//   its own child process (forks, isolated), as before: one file's server, timers or environment
//   cannot leak into another's.
const UNIT = ['test/unit/**/*.test.ts', 'test/architecture/**/*.test.ts'];
/** Unit test files that change process-wide state (umask) and so need a process of their own. */
const NEEDS_PROCESS = ['test/unit/signing/identity-store.test.ts'];

const TIMEOUTS = { testTimeout: 30_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    // Once for the run, not per project (the projects do not extend this config).
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        test: {
          ...TIMEOUTS,
          name: 'unit',
          include: UNIT,
          // process.umask() cannot be set from a worker thread
          exclude: [...configDefaults.exclude, ...NEEDS_PROCESS],
          pool: 'threads',
          isolate: false,
        },
      },
      {
        test: {
          ...TIMEOUTS,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT],
          pool: 'forks',
        },
      },
      { test: { ...TIMEOUTS, name: 'unit-process', include: NEEDS_PROCESS, pool: 'forks' } },
    ],
  },
});

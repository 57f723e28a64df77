import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// Two kinds of test files, run the way each is cheapest and still honest:
// - unit: pure modules and in-memory fakes. One module graph shared by every file of a worker
//   thread (isolate: false): most of a unit file's cost is loading and transforming modules, so
//   loading them once instead of per file is where the time goes.
// - integration: a real app on SQLite, real HTTP, spawned binaries. Child processes (forks), so a
//   file may change process-wide state (umask, signals); the files of one process share its
//   module graph too (isolate: false), since every file builds its own app on its own data
//   directory (a copy of the template the global setup made) and closes it when done.
const UNIT = ['test/unit/**/*.test.ts', 'test/architecture/**/*.test.ts'];
/** Unit test files that change process-wide state (umask) and so need a process of their own. */
const NEEDS_PROCESS = ['test/unit/signing/identity-store.test.ts'];

const TIMEOUTS = { testTimeout: 30_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    // Once for the run, not per project (the projects do not extend this config).
    globalSetup: ['test/global-setup.ts'],
    // vitest's default is one worker fewer than the cores: one worker on a 2-core machine. Test
    // files spend much of their time waiting (servers starting, grace periods, spawned
    // binaries), so as many workers as cores keeps both busy.
    maxWorkers: Math.max(2, availableParallelism()),
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
          isolate: false,
        },
      },
      { test: { ...TIMEOUTS, name: 'unit-process', include: NEEDS_PROCESS, pool: 'forks' } },
    ],
  },
});

// Once per run, before any test file:
// - build dist/: tests that start the real binary (bin/mockiron.js runs dist/) must run the code
//   under test (about a second);
// - make a template data directory with a real first start of the app (migrations, signing
//   identity, initial admin), which test/helpers/app.ts copies for each test app.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDataDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-template-'));
  // loaded only now: the first start is the app's own code
  const { loadConfig } = await import('../src/platform/config.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { bootstrap } = await import('../src/app/server.js');
  const { adminPassword } = await import('./helpers/admin-password.js');
  const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: adminPassword });
  const { services } = await bootstrap(config, createLogger('silent'));
  services.mdm.stop();
  await services.db.$disconnect();
  project.provide('templateDataDir', dataDir);
  return () => rmSync(dataDir, { recursive: true, force: true });
}

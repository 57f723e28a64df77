// A real mockiron app on a temporary SQLite database, driven over HTTP with supertest.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { bootstrap } from '../../src/app/server.js';
import { adminPassword } from './admin-password.js';

export { adminPassword };

export interface TestApp {
  dataDir: string;
  services: Awaited<ReturnType<typeof bootstrap>>['services'];
  app: Awaited<ReturnType<typeof bootstrap>>['app'];
  /** A supertest request builder with the admin's Basic credentials already set. */
  admin: ReturnType<typeof authed>;
  anon: supertest.Agent;
  as(user: string, password: string): ReturnType<typeof authed>;
  close(): Promise<void>;
}

function authed(app: unknown, user: string, password: string) {
  const agent = supertest(app as any);
  return {
    get: (url: string) => agent.get(url).auth(user, password),
    post: (url: string) => agent.post(url).auth(user, password),
    put: (url: string) => agent.put(url).auth(user, password),
    delete: (url: string) => agent.delete(url).auth(user, password),
  };
}

/** Settings that change only how the app runs, not what its first start writes to the data directory. */
const RUNTIME_ONLY_ENV = new Set([
  'MOCKIRON_CLIENT_CERT_HEADER',
  'MOCKIRON_SCEP_ALLOW_DES',
  'MOCKIRON_ENROLL_UNKNOWN_DEVICES',
  'MOCKIRON_INSTALL_PROFILE_UNSIGNED',
  'MOCKIRON_APNS_URL',
  'MOCKIRON_APNS_CA_FILE',
  'MOCKIRON_APNS_ENVIRONMENT',
  'MOCKIRON_BULK_MAX_BYTES',
  'MOCKIRON_BULK_MAX_ROWS',
  'MOCKIRON_BULK_INLINE_ROWS',
]);

/**
 * A new data directory for an app. By default a copy of the one the global setup made with a real
 * first start (database migrated, signing identity generated, initial admin with
 * `adminPassword`): the state a fresh start would write, without paying for its RSA keys and
 * migrations in every test. Tests of the first start itself pass their own `dataDir`.
 */
function newDataDir(env: Record<string, string> = {}): string {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-test-'));
  const template = inject('templateDataDir');
  if (template && Object.keys(env).every((k) => RUNTIME_ONLY_ENV.has(k))) cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

/** `logTo`: the app's log lines (JSON, level info) go there, for tests that check what it logs. */
export async function startTestApp(
  opts: { dataDir?: string; env?: Record<string, string>; logTo?: NodeJS.WritableStream } = {},
): Promise<TestApp> {
  const dataDir = opts.dataDir ?? newDataDir(opts.env);
  const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: adminPassword, ...opts.env });
  const logger = opts.logTo ? createLogger('info', opts.logTo) : createLogger(process.env.MOCKIRON_TEST_LOG ?? 'silent');
  const { app, services } = await bootstrap(config, logger);
  return {
    dataDir,
    app,
    services,
    admin: authed(app, 'admin', adminPassword),
    anon: supertest.agent(app),
    as: (user, password) => authed(app, user, password),
    close: async () => {
      services.mdm.stop();
      await services.db.$disconnect();
    },
  };
}

export function removeDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}

/** supertest parser that keeps a response body as raw bytes (for profiles and certificates). */
export function rawBody(res: any, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  (res as NodeJS.ReadableStream).on('data', (c: Buffer) => chunks.push(c));
  (res as NodeJS.ReadableStream).on('end', () => cb(null, Buffer.concat(chunks)));
}

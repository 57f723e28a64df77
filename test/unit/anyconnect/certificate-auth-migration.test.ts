// The migration that gives tunnel groups certificate authentication keeps existing head-ends as
// they were: a database at the migration before it, holding a tunnel group and the settings row,
// takes the migration's SQL (as the schema engine would apply it, in order) and reads back with
// authentication 'aaa', no username-from-certificate and no trustpoints: today's behaviour.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../../src/platform/db/schema-engine.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-migration-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAME = 'anyconnect_certificate_auth';

describe(`migration ${NAME}`, () => {
  it('gives existing tunnel groups and settings the defaults of today', () => {
    const all = readdirSync(migrationsDir)
      .filter((d) => /^\d{14}_/.test(d))
      .sort();
    const index = all.findIndex((d) => d.endsWith(`_${NAME}`));
    expect(index).toBeGreaterThan(0);
    const db = new Database(path.join(dir, 'old.db'));
    try {
      for (const m of all.slice(0, index)) db.exec(readFileSync(path.join(migrationsDir, m, 'migration.sql'), 'utf8'));
      db.prepare(
        `INSERT INTO "TunnelGroup" ("name", "defaultGroupPolicy", "updatedAt") VALUES ('TG_old', 'GP_old', CURRENT_TIMESTAMP)`,
      ).run();
      db.prepare(`INSERT INTO "HeadEndSettings" ("id", "dapOrder", "perappAttrDescription") VALUES (1, 'ftd', 'Old')`).run();
      db.exec(readFileSync(path.join(migrationsDir, all[index]!, 'migration.sql'), 'utf8'));
      expect(
        db.prepare('SELECT "name", "defaultGroupPolicy", "authentication", "usernameFromCertificate" FROM "TunnelGroup"').all(),
      ).toEqual([{ name: 'TG_old', defaultGroupPolicy: 'GP_old', authentication: 'aaa', usernameFromCertificate: null }]);
      expect(db.prepare('SELECT * FROM "HeadEndSettings"').all()).toEqual([
        { id: 1, dapOrder: 'ftd', perappAttrDescription: 'Old', trustpoints: '[]' },
      ]);
    } finally {
      db.close();
    }
  });
});

// Enrollment invitation tokens at rest: only their SHA-256 is stored, so a copy of the data
// directory cannot be turned into enrollment URLs (and their challenges). Rows are read with
// better-sqlite3 directly, and every file of the data directory is searched for the token.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../src/platform/db/schema-engine.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Files under dir (recursively) whose bytes contain needle. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) found.push(...filesContaining(file, needle));
    else if (readFileSync(file).includes(Buffer.from(needle))) found.push(path.relative(dir, file));
  }
  return found;
}

function invitationRows(dataDir: string) {
  const db = new Database(path.join(dataDir, 'mockiron.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, token, tokenHash FROM EnrollmentInvitation ORDER BY id').all() as Array<{
      id: number;
      token: string | null;
      tokenHash: string | null;
    }>;
  } finally {
    db.close();
  }
}

async function invite(t: TestApp, userId: string) {
  const res = await t.admin.post('/api/v2/enrollments').send({ userId });
  expect(res.status).toBe(201);
  return res.body.results as { id: number; url: string; token: string; challenge: string };
}

describe('invitation tokens at rest', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.admin.post('/api/v2/users').send({ userId: 'hashed' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  it('stores only the hash: no file of the data directory holds the token, yet the URL enrolls', async () => {
    const inv = await invite(t, 'hashed');
    expect(inv.url).toContain(`/ota/enroll?token=${inv.token}`);
    const row = invitationRows(t.dataDir).find((r) => r.id === inv.id)!;
    expect(row).toEqual({ id: inv.id, token: null, tokenHash: sha256(inv.token) });
    expect(filesContaining(t.dataDir, inv.token)).toEqual([]);
    expect(filesContaining(t.dataDir, inv.challenge)).toEqual([]);

    const profile = await new TestDevice(t.app).enroll(inv.url);
    expect(profile.PayloadContent).toBeDefined();
    // Used once: the same URL is refused now, and an unknown token is not found.
    expect((await t.anon.get(`/ota/enroll?token=${inv.token}`)).status).toBe(410);
    expect((await t.anon.get(`/ota/enroll?token=${randomBytes(18).toString('base64url')}`)).status).toBe(404);
  });

  it('never lists tokens or URLs carrying them; creation tells them once', async () => {
    const inv = await invite(t, 'hashed');
    const list = await t.admin.get('/api/v2/enrollments');
    expect(list.status).toBe(200);
    const listed = list.body.results.find((r: { id: number }) => r.id === inv.id);
    expect(listed).toMatchObject({ id: inv.id, userId: 'hashed' });
    for (const r of list.body.results) {
      expect(r).not.toHaveProperty('url');
      expect(r).not.toHaveProperty('token');
      expect(r).not.toHaveProperty('challenge');
    }
    expect(JSON.stringify(list.body)).not.toContain(inv.token);
    expect(JSON.stringify(list.body)).not.toContain('/ota/enroll');
  });
});

describe('a data directory of an older version, with invitation tokens in clear', () => {
  it('hashes them at start and leaves no clear copy in the files; the old URL still enrolls', async () => {
    const first = await startTestApp();
    try {
      expect((await first.admin.post('/api/v2/users').send({ userId: 'legacy' })).status).toBe(201);
      const { token: legacyToken, url } = await invite(first, 'legacy');
      await first.close();

      // Put the table back as the older migrations left it (its DDL read from that migration),
      // holding this invitation the way an older version stored it: token in clear. Then forget
      // that the token-hash migration ran, so the next start applies it to this table.
      const olderSql = readFileSync(path.join(migrationsDir, '20261125102826_enrollment_mdm', 'migration.sql'), 'utf8');
      const olderTable = /CREATE TABLE "EnrollmentInvitation" \([\s\S]*?\n\);/.exec(olderSql)![0];
      const olderIndexes = olderSql.match(/CREATE (UNIQUE )?INDEX "EnrollmentInvitation_[^;]*;/g)!;
      expect(olderTable).toContain('"token" TEXT NOT NULL');
      const db = new Database(path.join(first.dataDir, 'mockiron.db'));
      const row = db.prepare('SELECT challengeHash, userRef, identityKind, expiresAt, createdBy FROM EnrollmentInvitation').get() as Record<
        string,
        unknown
      >;
      db.exec('DROP TABLE "EnrollmentInvitation"');
      db.exec(olderTable);
      for (const index of olderIndexes) db.exec(index);
      const migration = (
        db.prepare("SELECT migration_name FROM _prisma_migrations WHERE migration_name LIKE '%_invitation_token_hash'").get() as {
          migration_name: string;
        }
      ).migration_name;
      db.prepare('DELETE FROM _prisma_migrations WHERE migration_name = ?').run(migration);
      db.prepare(
        'INSERT INTO EnrollmentInvitation (token, challengeHash, userRef, identityKind, expiresAt, createdBy) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(legacyToken, row.challengeHash, row.userRef, row.identityKind, row.expiresAt, row.createdBy);
      db.close();
      expect(filesContaining(first.dataDir, legacyToken)).not.toEqual([]);

      const second = await startTestApp({ dataDir: first.dataDir });
      try {
        const [row] = invitationRows(first.dataDir);
        expect(row).toMatchObject({ token: null, tokenHash: sha256(legacyToken) });
        // Not in freed pages of the database nor in the WAL of the running server either.
        expect(filesContaining(first.dataDir, legacyToken)).toEqual([]);
        const profile = await new TestDevice(second.app).enroll(url);
        expect(profile.PayloadContent).toBeDefined();
      } finally {
        await second.close();
      }
      expect(filesContaining(first.dataDir, legacyToken)).toEqual([]);
    } finally {
      removeDir(first.dataDir);
    }
  });
});

// Core clients read an object, change a field and PUT the whole object back (issue #15: "what a
// GET returns can be PUT back"). For every resource with a PUT, the GET answer sent back as it is
// answers 200 and changes nothing; sent back with one writable field changed, it changes that
// field only. Read-only fields in the body are ignored (named in the OpenAPI document).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const made: Record<string, string> = {};
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'rt-user', email: 'rt@example.com', displayName: 'Round Trip' })).status).toBe(
    201,
  );
  made.user = '/api/v2/users/rt-user';
  const app = await t.admin.post('/api/v2/appstore/apps').send({ name: 'RT App', bundleId: 'com.example.rt', version: '1.0' });
  expect(app.status).toBe(201);
  made.app = `/api/v2/appstore/apps/${app.body.results.id}`;
  const vpn = await t.admin
    .post('/api/v2/configurations/vpn')
    .send({ name: 'rt-vpn', connectionType: 'ANYCONNECT', server: 'asa.example.com', password: 'hunter2-rt' });
  expect(vpn.status).toBe(201);
  made.vpn = `/api/v2/configurations/vpn/${vpn.body.results.id}`;
  const admin = await t.admin.post('/api/v2/admins').send({ username: 'rt-viewer', password: 'a-long-viewer-password-1', role: 'viewer' });
  expect(admin.status).toBe(201);
  made.admin = `/api/v2/admins/${admin.body.results.id}`;
  const label = await t.admin.post('/api/v2/labels').send({ name: 'rt-label', description: 'before' });
  expect(label.status).toBe(201);
  made.label = `/api/v2/labels/${label.body.results.id}`;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

// One writable field per resource and a new value for it.
const edits: Record<string, [string, unknown]> = {
  user: ['displayName', 'Round Trip Two'],
  app: ['name', 'RT App Two'],
  vpn: ['server', 'asa2.example.com'],
  admin: ['role', 'admin'],
  label: ['description', 'after'],
};

/** The answer without what moves on its own (timestamps). */
const stable = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !/(At|_at|Date)$/.test(k)));

describe('GET then PUT back', () => {
  for (const kind of Object.keys(edits)) {
    it(`${kind}: the GET answer PUT back unchanged is 200 and changes nothing; one field changed changes that field only`, async () => {
      const path = made[kind]!;
      const before = await t.admin.get(path);
      expect(before.status).toBe(200);
      const same = await t.admin.put(path).send(before.body.results);
      expect(same.status, JSON.stringify(same.body)).toBe(200);
      const after = await t.admin.get(path);
      expect(stable(after.body.results)).toEqual(stable(before.body.results));

      const [field, value] = edits[kind]!;
      const changed = await t.admin.put(path).send({ ...before.body.results, [field]: value });
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      const now = (await t.admin.get(path)).body.results;
      expect(now[field]).toEqual(value);
      expect(stable({ ...now, [field]: undefined })).toEqual(stable({ ...before.body.results, [field]: undefined }));
    });
  }

  it('a read-only field sent back changed is a 400 naming it, and nothing is written', async () => {
    const forged: Record<string, [string, unknown]> = {
      user: ['userId', 'someone-else'],
      app: ['appId', 'com.example.forged'],
      vpn: ['vpnUuid', 'FORGED'],
      admin: ['username', 'root'],
    };
    for (const [kind, [field, value]] of Object.entries(forged)) {
      const before = (await t.admin.get(made[kind]!)).body.results;
      const res = await t.admin.put(made[kind]!).send({ ...before, [field]: value, ...{ [edits[kind]![0]]: 'never-written' } });
      expect(res.status, kind).toBe(400);
      expect(res.body.messages[0].field, kind).toBe(field);
      expect(stable((await t.admin.get(made[kind]!)).body.results), kind).toEqual(stable(before));
    }
  });

  it('a field nobody answers is still refused (a typo is not silently dropped)', async () => {
    for (const kind of Object.keys(edits)) {
      const res = await t.admin.put(made[kind]!).send({ dispalyName: 'x' });
      expect(res.status, kind).toBe(400);
      expect(res.body.messages[0].localizedMessage, kind).toMatch(/unknown field/);
    }
  });

  it('the VPN password stays write-only: the round trip neither reveals nor clears it', async () => {
    const before = await t.admin.get(made.vpn!);
    expect(JSON.stringify(before.body)).not.toContain('hunter2-rt');
    expect((await t.admin.put(made.vpn!).send(before.body.results)).status).toBe(200);
    const row = await t.services.db.vpnConfiguration.findFirstOrThrow({ where: { name: 'rt-vpn' } });
    expect(row.password).toBeTruthy();
  });
});

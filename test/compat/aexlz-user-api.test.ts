// aexlz/mobileironAPI userAPI.py at afe0a3fc33a57355dd9155ba95989564cf6143ac, replayed from its
// user call on (docs/research/core-clients.md N). The script as published stops with a NameError
// before any request; these are the calls it means to make, with requests' auth=(user, password):
// GET /api/v2/authorized/users?adminDeviceSpaceId=1&query=<userId>, then — when totalCount >= 1 —
// for each result it indexes enabled, email, displayName and principal directly; then one
// GET /api/v2/devices with a pre-encoded fields list and query=common.status="ACTIVE", in whose
// results it matches user.user_id against each principal and indexes common.platform_name,
// common.last_connected_at, common.quarantined and common.registration_date directly. (Its first
// call, a GET of the server's root URL expecting 200, is not part of the v2 API and not replayed.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  expect(
    (await t.admin.post('/api/v2/users').send({ userId: 'mmuster', email: 'max.muster@example.com', displayName: 'Max Muster' })).status,
  ).toBe(201);
  expect((await t.admin.post('/api/v2/users').send({ userId: 'mmusterfrau', displayName: 'Erika Musterfrau' })).status).toBe(201);
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'mmuster', identity: 'scep' })).body.results;
  const device = new TestDevice(t.app);
  await device.enroll(inv.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

// The script's URL, pre-encoded as it is, every field name included.
const devicesUrl =
  '/api/v2/devices?adminDeviceSpaceId=1&fields=user.display_name%2Ccommon.uuid%2Ccommon.registration_date%2Ccommon.quarantined%2Ccommon.miclient_last_connected_at%2Ccommon.last_connected_at%2Ccommon.manufacturer%2Ccommon.model%2Ccommon.platform_name%2Cuser.user_id%2Ccommon.platform%2Ccommon.os_version&query=common.status=%22ACTIVE%22';

describe('aexlz userAPI.py', () => {
  it('finds the user by id, then the user’s ACTIVE devices, reading every field it indexes', async () => {
    const users = await t.anon.get('/api/v2/authorized/users?adminDeviceSpaceId=1&query=mmuster').auth('admin', adminPassword);
    expect(users.status).toBe(200);
    // query= matches text: both users contain "mmuster".
    expect(users.body.totalCount).toBe(2);
    const found = users.body.results as Array<Record<string, unknown>>;
    for (const u of found) for (const key of ['enabled', 'email', 'displayName', 'principal']) expect(u, key).toHaveProperty(key);
    const max = found.find((u) => u.principal === 'mmuster')!;
    expect(max).toMatchObject({ enabled: true, email: 'max.muster@example.com', displayName: 'Max Muster' });

    const devices = await t.anon.get(devicesUrl).auth('admin', adminPassword);
    expect(devices.status).toBe(200);
    const mine = (devices.body.results as Array<Record<string, unknown>>).filter((d) => d['user.user_id'] === max.principal);
    expect(mine).toHaveLength(1);
    expect(devices.body.messages ?? []).toEqual([]);
    for (const key of ['common.last_connected_at', 'common.quarantined', 'common.registration_date', 'common.platform_name']) {
      expect(mine[0], key).toHaveProperty(key);
    }
    expect(mine[0]!['common.platform']).toBe('iOS');
    expect((devices.body.results as Array<Record<string, unknown>>).some((d) => d['user.user_id'] === 'mmusterfrau')).toBe(false);
  });

  it('a user id that matches nobody gives totalCount 0 (the script logs "no user registered")', async () => {
    const res = await t.anon.get('/api/v2/authorized/users?adminDeviceSpaceId=1&query=nobody-here').auth('admin', adminPassword);
    expect(res.status).toBe(200);
    expect(res.body.totalCount).toBe(0);
    expect(res.body.results).toEqual([]);
  });
});

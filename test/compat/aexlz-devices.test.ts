// aexlz/mobileironAPI, userAPI.py (read at afe0a3fc33a57355dd9155ba95989564cf6143ac): a Python
// requests script whose device listing sends one hand-built URL, pre-encoded (%2C between
// fields, %22 around the value): GET /api/v2/devices?adminDeviceSpaceId=1&fields=<12 names>&
// query=common.status=%22ACTIVE%22, with HTTP Basic, and indexes each result directly
// (user.user_id, common.platform_name, common.last_connected_at, common.quarantined,
// common.registration_date): a missing key is a KeyError. (As published the script stops with a
// NameError before its first request; this replays the request it means to send.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const fields = [
  'user.display_name',
  'common.uuid',
  'common.registration_date',
  'common.quarantined',
  'common.miclient_last_connected_at',
  'common.last_connected_at',
  'common.manufacturer',
  'common.model',
  'common.platform_name',
  'user.user_id',
  'common.platform',
  'common.os_version',
];
const url = `/api/v2/devices?adminDeviceSpaceId=1&fields=${fields.join('%2C')}&query=common.status=%22ACTIVE%22`;

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'aex' })).status).toBe(201);
  for (const [i, status] of ['ACTIVE', 'ACTIVE', 'RETIRED'].entries()) {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion: `16.${i}`, userId: i === 0 ? 'aex' : null });
    expect(created.status).toBe(201);
    expect((await t.admin.put(`/api/v2/devices/${created.body.results['common.uuid']}/attributes`).send({ status })).status).toBe(200);
  }
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('aexlz mobileironAPI: the pre-encoded device listing', () => {
  it('finds the ACTIVE devices, each with every key the script indexes', async () => {
    const res = await t.admin.get(url);
    expect(res.status).toBe(200);
    const results = res.body.results as Array<Record<string, unknown>>;
    expect(results).toHaveLength(2);
    for (const device of results) {
      expect(Object.keys(device)).toEqual(fields);
      for (const key of [
        'user.user_id',
        'common.platform_name',
        'common.last_connected_at',
        'common.quarantined',
        'common.registration_date',
      ]) {
        expect(Object.hasOwn(device, key), key).toBe(true);
      }
      expect(device['common.quarantined']).toBe(false);
      expect(device['common.platform_name']).toMatch(/^iOS 16\.[01]$/);
      expect(device['common.last_connected_at']).toBeNull();
    }
    expect(results.map((d) => d['user.user_id']).sort()).toEqual(['aex', null].sort());
  });
});

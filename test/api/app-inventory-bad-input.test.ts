// Hostile and malformed input to the app inventory endpoints: every refusal is a 4xx with Core's
// error envelope (never a 500), nothing answers without credentials, and /devices/appinventory
// is served by its own route, not taken for a device uuid.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let known: string;
beforeAll(async () => {
  t = await startTestApp();
  const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: 'inventory-target' });
  expect(created.status).toBe(201);
  known = created.body.results['common.uuid'];
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

function expectRefused(res: { status: number; body: { messages?: Array<{ type: string; messageKey: string }> } }, status = 400) {
  expect(res.status).toBe(status);
  expect(res.body.messages?.[0]).toMatchObject({ type: 'Error' });
  expect(res.body.messages![0]!.messageKey).toMatch(/^com\.mobileiron\.vsp\.messages\./);
}

const uuids = (n: number) => Array.from({ length: n }, () => randomUUID());

describe('GET /devices/appinventory', () => {
  it('is its own route: answers results for the device, not a uuid error of /devices/:uuid', async () => {
    const res = await t.admin.get('/api/v2/devices/appinventory').query({ adminDeviceSpaceId: 1, deviceUuids: known });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ deviceUuid: known, found: true, platform: 'iOS', inventoryReportedAt: null, appInventory: [] }]);
  });

  it('is registered before every /devices/{uuid} route (the OpenAPI document lists operations in registration order)', async () => {
    const doc = await t.admin.get('/api/v2/openapi.json');
    const paths = Object.keys(doc.body.paths);
    const inventory = paths.indexOf('/api/v2/devices/appinventory');
    const byUuid = paths.findIndex((p) => p.startsWith('/api/v2/devices/{uuid}'));
    expect(inventory).toBeGreaterThanOrEqual(0);
    expect(byUuid).toBeGreaterThan(inventory);
  });

  it('takes 25 devices, refuses 26', async () => {
    expect((await t.admin.get('/api/v2/devices/appinventory').query({ deviceUuids: uuids(25).join(',') })).status).toBe(200);
    expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ deviceUuids: uuids(26).join(',') }));
    // the same through repeated parameters, and across deviceUuids and wifimacs together
    expectRefused(
      await t.admin.get(
        `/api/v2/devices/appinventory?${uuids(26)
          .map((u) => `deviceUuids=${u}`)
          .join('&')}`,
      ),
    );
    expectRefused(
      await t.admin
        .get('/api/v2/devices/appinventory')
        .query({ deviceUuids: uuids(24).join(','), wifimacs: 'a4:b1:c2:d3:e4:f5,a4:b1:c2:d3:e4:f6' }),
    );
  });

  it.each([
    ['not a uuid', 'not-a-uuid'],
    ['a quote', `${randomUUID()}"`],
    ['SQL', "' OR 1=1 --"],
    ['a control character', `${randomUUID()}\u0001`],
    ['an overlong value', 'a'.repeat(5000)],
  ])('refuses a device uuid with %s', async (_what, value) => {
    expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ deviceUuids: value }));
  });

  it.each([['a4:b1:c2:d3:e4'], ['a4:b1:c2:d3:e4:f5" OR common.uuid != "'], ['zz:b1:c2:d3:e4:f5']])(
    'refuses the Wi-Fi MAC address %j',
    async (mac) => {
      expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ wifimacs: mac }));
    },
  );

  it('refuses a call naming no device, and an admin device space other than 1', async () => {
    expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ adminDeviceSpaceId: 1 }));
    expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ deviceUuids: ',,' }));
    expectRefused(await t.admin.get('/api/v2/devices/appinventory').query({ adminDeviceSpaceId: 2, deviceUuids: known }));
  });

  it('needs credentials', async () => {
    const res = await t.anon.get('/api/v2/devices/appinventory').query({ deviceUuids: known });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });
});

describe('GET /appinventory/devices', () => {
  it('an app no device has: an empty list', async () => {
    const res = await t.admin.get('/api/v2/appinventory/devices').query({ appName: 'Nothing Like This', platformType: 'iOS' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalCount: 0, resultCount: 0, hasMore: false, results: [] });
  });

  it('an unknown inventoryId: 404', async () => {
    expectRefused(await t.admin.get('/api/v2/appinventory/devices').query({ inventoryId: 987654 }), 404);
  });

  it.each<[string, Record<string, string | number>]>([
    ['an overlong appName', { appName: 'x'.repeat(256), platformType: 'iOS' }],
    ['an empty appName', { appName: '   ' }],
    ['an appName with a control character', { appName: 'a\u0000b' }],
    ['an overlong appId', { appId: `com.${'x'.repeat(300)}` }],
    ['an unknown platformType', { appName: '1Password', platformType: 'BLACKBERRY' }],
    ['no app at all', { platformType: 'iOS' }],
    ['two ways of naming the app', { appName: '1Password', appId: 'com.agilebits.onepassword-ios' }],
    ['a non-numeric inventoryId', { inventoryId: 'abc' }],
    ['a negative inventoryId', { inventoryId: -1 }],
    ['a limit above 200', { appName: '1Password', limit: 201 }],
  ])('refuses %s', async (_what, query) => {
    expectRefused(await t.admin.get('/api/v2/appinventory/devices').query(query));
  });

  it('needs credentials', async () => {
    expect((await t.anon.get('/api/v2/appinventory/devices').query({ appName: '1Password' })).status).toBe(401);
  });
});

// Four public Core clients of the v2 app inventory, replayed call for call (sources in
// docs/research/core-clients.md, sections G, J, M, O); each asserts exactly what the client reads:
// - G sebastienle/mobile_iron_incomplete (@494ff55d82cf5ef136ef7db98abf95307d2370c0),
//   Public/Get-MIAppsOnDevice.ps1: GET {host}/api/v2/devices/appinventory?adminDeviceSpaceId=N&deviceUuids=<csv>
//   built by string concatenation, Basic header; reads $result.Results.appInventory (PowerShell
//   enumerates the member over every result). Public/Get-MIDeviceWithSpecificApp.ps1: GET
//   /api/v2/appinventory/devices?adminDeviceSpaceId=N& one of inventoryId= | appName=&platformType= |
//   appId=&platformType=; reads $result.results.
// - J Axonius MobileIron adapter (copy in hshmilov/mongomock, adapters/mobileiron_adapter/connection.py,
//   newer version: search index id 41295301918): under /rest/api/v2/, headers Content-Type and Accept
//   application/json, Basic auth; pages /devices, then per device GET devices/appinventory with
//   deviceUuids=<one uuid>&adminDeviceSpaceId; keeps results[0].appInventory when results is a
//   non-empty list (else []), and its parser reads each app's name and version.
// - M mathiasringhof/mobileiron (npm, @10737d840d61b0b60fb61f652d01b664f251c99d), lib/appinventory.js
//   and lib/appinventorystream.js: GET {baseUrl}/api/v2/devices/appinventory?adminDeviceSpaceId=N&deviceUuids=<u1,…>
//   with request-promise (Basic auth, json: true → Accept: application/json), at most 25 uuids per
//   call ("Core's maximum"), the stream slicing the list by 25; reads response.results.
// - O Flask "Admin Api" label tool (repository not named by the index: search index id 33204358861),
//   /api/mi/fetchapps/: requests.get(<server>/api/v2/devices/appinventory, auth, params
//   {adminDeviceSpaceId, deviceUuids: <uuid>}); reads r["results"][0]["appInventory"].
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, fixtureApps, reportApps } from '../helpers/app-inventory.js';
import type { TestDevice } from '../helpers/device.js';

let t: TestApp;
/** Two enrolled iPhones that reported real app lists, and devices registered without any. */
let iphone12: TestDevice;
let iphone11: TestDevice;
const registered: string[] = [];
const reported12 = fixtureApps('iOS-12.1');
const reported11 = fixtureApps('iOS-11.3.1');

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'inventory-compat' })).status).toBe(201);
  iphone12 = await enrolledDevice(t, 'inventory-compat');
  await reportApps(t, iphone12, reported12);
  iphone11 = await enrolledDevice(t, 'inventory-compat');
  await reportApps(t, iphone11, reported11);
  for (let i = 0; i < 26; i++) {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: `no-inventory-${i}` });
    expect(created.status).toBe(201);
    registered.push(created.body.results['common.uuid']);
  }
}, 120_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const basic = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
const namesOf = (apps: PlistDict[]) => apps.map((a) => a.Name as string).sort();
const shortVersionOf = (apps: PlistDict[], name: string) => apps.find((a) => a.Name === name)!.ShortVersion;

describe('G sebastienle/mobile_iron_incomplete (PowerShell)', () => {
  it('Get-MIAppsOnDevice -DeviceUUIDs "<u1>,<u2>": Results.appInventory enumerates the apps of both devices', async () => {
    const url = `/api/v2/devices/appinventory?adminDeviceSpaceId=1&deviceUuids=${iphone12.deviceUuid},${iphone11.deviceUuid}`;
    const res = await t.anon.get(url).set('Authorization', basic);
    expect(res.status).toBe(200);
    // PowerShell's member enumeration: $result.Results.appInventory is every result's apps, in order.
    const enumerated = (res.body.results as Array<{ appInventory: Array<{ name: string }> }>).flatMap((r) => r.appInventory);
    expect(enumerated.map((a) => a.name).sort()).toEqual([...namesOf(reported12), ...namesOf(reported11)].sort());
  });

  it('Get-MIDeviceWithSpecificApp -AppName 1Password -PlatformType IPHONE: results are both iPhones', async () => {
    const res = await t.anon
      .get('/api/v2/appinventory/devices?adminDeviceSpaceId=1&appName=1Password&platformType=IPHONE')
      .set('Authorization', basic);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { deviceUuid: string }) => r.deviceUuid).sort()).toEqual(
      [iphone12.deviceUuid, iphone11.deviceUuid].sort(),
    );
  });

  it('Get-MIDeviceWithSpecificApp -AppId com.microsoft.onenote -PlatformType IPHONE: results are the one device that has it', async () => {
    const res = await t.anon
      .get('/api/v2/appinventory/devices?adminDeviceSpaceId=1&appId=com.microsoft.onenote&platformType=IPHONE')
      .set('Authorization', basic);
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0]).toMatchObject({ deviceUuid: iphone11.deviceUuid, name: 'OneNote' });
  });

  it('Get-MIDeviceWithSpecificApp -InventoryId N: the devices with that app at that version only', async () => {
    // The id comes from a device's appInventory: 1Password 7.2.2 on the iOS 12.1 iPhone (7.0.6 on the other).
    const inventory = await t.admin.get('/api/v2/devices/appinventory').query({ adminDeviceSpaceId: 1, deviceUuids: iphone12.deviceUuid });
    const entry = inventory.body.results[0].appInventory.find((a: { name: string }) => a.name === '1Password');
    expect(entry.version).toBe(shortVersionOf(reported12, '1Password'));
    const res = await t.anon
      .get(`/api/v2/appinventory/devices?adminDeviceSpaceId=1&inventoryId=${entry.inventoryId}`)
      .set('Authorization', basic);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { deviceUuid: string }) => r.deviceUuid)).toEqual([iphone12.deviceUuid]);
  });
});

describe('J Axonius MobileIron adapter (Python, /rest/api/v2)', () => {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };

  it('pages the devices, then asks each one for its apps: results[0].appInventory, each app with name and version', async () => {
    // The adapter's device page (its own `fields` list holds names Core ignores: tested where fields are served).
    const page = await t.anon
      .get('/rest/api/v2/devices')
      .auth('admin', adminPassword)
      .set(headers)
      .query({ adminDeviceSpaceId: 1, limit: 200, offset: 0, query: '', fields: 'common.id,common.uuid', sortOrder: 'ASC' });
    expect(page.status).toBe(200);
    const uuids: string[] = page.body.results.map((d: Record<string, string>) => d['common.uuid']).filter(Boolean);
    expect(uuids).toEqual(expect.arrayContaining([iphone12.deviceUuid, iphone11.deviceUuid, ...registered]));

    const appsByDevice = new Map<string, Array<{ name: string; version: string }>>();
    for (const uuid of uuids) {
      const res = await t.anon
        .get('/rest/api/v2/devices/appinventory')
        .auth('admin', adminPassword)
        .set(headers)
        .query({ deviceUuids: uuid, adminDeviceSpaceId: 1 });
      expect(res.status).toBe(200);
      const results = res.body.results;
      appsByDevice.set(uuid, Array.isArray(results) && results.length > 0 ? results[0].appInventory : []);
    }
    for (const [device, reported] of [
      [iphone12, reported12],
      [iphone11, reported11],
    ] as const) {
      const apps = appsByDevice.get(device.deviceUuid)!;
      expect(apps.map((a) => a.name).sort()).toEqual(namesOf(reported));
      for (const app of apps) expect(app.version).toBe(shortVersionOf(reported, app.name));
    }
    for (const uuid of registered) expect(appsByDevice.get(uuid)).toEqual([]);
  });
});

describe('M mathiasringhof/mobileiron (npm)', () => {
  const getAppInventory = (deviceUuids: string[]) =>
    t.anon
      .get(`/api/v2/devices/appinventory?adminDeviceSpaceId=1&deviceUuids=${deviceUuids.join(',')}`)
      .auth('admin', adminPassword)
      .set('Accept', 'application/json');

  it('getAppInventory with 25 uuids (its maximum): response.results, one per device, in the order asked', async () => {
    const asked = [iphone11.deviceUuid, ...registered.slice(0, 23), iphone12.deviceUuid];
    expect(asked).toHaveLength(25);
    const res = await getAppInventory(asked);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { deviceUuid: string }) => r.deviceUuid)).toEqual(asked);
    expect(res.body.results[0].appInventory.map((a: { name: string }) => a.name).sort()).toEqual(namesOf(reported11));
    expect(res.body.results[24].appInventory.map((a: { name: string }) => a.name).sort()).toEqual(namesOf(reported12));
  });

  it('createAppInventoryStream: 28 devices in slices of 25, every device once', async () => {
    const all = [iphone12.deviceUuid, iphone11.deviceUuid, ...registered];
    const seen: string[] = [];
    for (let i = 0; i < all.length; i += 25) {
      const res = await getAppInventory(all.slice(i, i + 25));
      expect(res.status).toBe(200);
      seen.push(...res.body.results.map((r: { deviceUuid: string }) => r.deviceUuid));
    }
    expect(seen).toEqual(all);
  });

  it('a uuid no device has answers an entry with found: false and no apps, in its place', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await getAppInventory([iphone12.deviceUuid, unknown, iphone11.deviceUuid]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { deviceUuid: string; found: boolean }) => [r.deviceUuid, r.found])).toEqual([
      [iphone12.deviceUuid, true],
      [unknown, false],
      [iphone11.deviceUuid, true],
    ]);
    expect(res.body.results[1].appInventory).toEqual([]);
  });
});

describe('O Flask "Admin Api" label tool (Python requests)', () => {
  it('/api/mi/fetchapps/?uuid=…: results[0].appInventory is the device’s apps', async () => {
    const res = await t.anon
      .get('/api/v2/devices/appinventory')
      .auth('admin', adminPassword)
      .set('Accept', '*/*')
      .query({ adminDeviceSpaceId: '1', deviceUuids: iphone11.deviceUuid });
    expect(res.status).toBe(200);
    expect(res.body.results[0].appInventory.map((a: { name: string }) => a.name).sort()).toEqual(namesOf(reported11));
  });
});

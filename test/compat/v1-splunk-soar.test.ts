// Splunk SOAR's MobileIron connector, replayed call for call: splunk-soar-connectors/mobileiron,
// mobileiron_connector.py, mobileiron_consts.py and mobileiron.json (read at
// 04b1109bf6cdad3cf9c3de536d5f13fc5437c7b9; docs/research/core-clients.md section H). It sends
// requests with auth=(user, password) (preemptive Basic) and `Accept: application/json` to
// <url>/api/v1; anything but status 200 is a failure. It validates device UUIDs with a regex that
// takes version-4 UUIDs only, reads `totalCount` (falsy: an empty list), `devices.device` (a
// dict for one device, a list for several) and, for one device, `device.*`, `messages`,
// `totalCount` with the v1 field names mobileiron.json declares.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
/** The connector's UUID check: the third group starts with 4, the fourth with 8, 9, a or b. */
const connectorUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function soar(method: 'get' | 'put', path: string, params: Record<string, string | number> = {}) {
  return t.anon[method](`/api/v1${path}`).auth('admin', adminPassword).set('Accept', 'application/json').query(params);
}

const requestTypes = (commands: PlistDict[]) => commands.map((c) => (c.Command as PlistDict).RequestType);

let device: TestDevice;
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'soar', email: 'soar@example.com', displayName: 'Soar User' })).status).toBe(
    201,
  );
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'soar' })).body.results;
  device = new TestDevice(t.app);
  await device.enroll(inv.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
  await device.drain();
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('Splunk SOAR mobileiron connector (v1)', () => {
  it('test connectivity: GET /dm/devices?limit=1 answers 200 with JSON', async () => {
    const res = await soar('get', '/dm/devices', { limit: 1 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.totalCount).toBe(1);
  });

  it('list devices: one device is a dict under devices.device, with a v4 uuid', async () => {
    const res = await soar('get', '/dm/devices', { offset: 0, limit: 100 });
    expect(res.status).toBe(200);
    expect(res.body.totalCount).toBe(1);
    expect(Array.isArray(res.body.devices.device)).toBe(false);
    expect(res.body.devices.device.uuid).toBe(device.deviceUuid);
    expect(res.body.devices.device.uuid).toMatch(connectorUuid);
  });

  it('list devices: several are a list; offset and limit page them; totalCount counts them all', async () => {
    for (const serialNumber of ['SOAR-2', 'SOAR-3']) {
      const made = await t.admin.post('/api/v2/devices').send({ platform: 'Android', serialNumber });
      await t.admin.put(`/api/v2/devices/${made.body.results['common.uuid']}/attributes`).send({ status: 'ACTIVE' });
    }
    const all = await soar('get', '/dm/devices', { offset: 0, limit: 100 });
    expect(all.body.totalCount).toBe(3);
    expect(all.body.devices.device).toHaveLength(3);
    for (const d of all.body.devices.device) expect(d.uuid).toMatch(connectorUuid);
    const page = await soar('get', '/dm/devices', { offset: 1, limit: 1 });
    expect(page.body.totalCount).toBe(3);
    expect(page.body.devices.device.uuid).toBe(all.body.devices.device[1].uuid);
  });

  it('get system info: GET /dm/devices/{uuid} answers device.* with the declared v1 fields, messages and totalCount', async () => {
    const res = await soar('get', `/dm/devices/${device.deviceUuid}`);
    expect(res.status).toBe(200);
    expect(res.body.totalCount).toBe(1);
    expect(typeof res.body.messages.message).toBe('string');
    const d = res.body.device;
    expect(d).toMatchObject({
      uuid: device.deviceUuid,
      principal: 'soar',
      userDisplayName: 'Soar User',
      emailAddress: 'soar@example.com',
      emailDomain: 'example.com',
      platformType: 'IPHONE',
      manufacturer: 'Apple',
      status: 'ACTIVE',
      statusCode: 97,
      compliance: 0,
      quarantinedStatus: 0,
      blockReason: 0,
      employeeOwned: false,
      mdmManaged: true,
    });
    for (const key of ['userId', 'platform', 'model', 'name', 'registeredAt', 'lastConnectedAt', 'currentPhoneNumber'])
      expect(d).toHaveProperty(key);
    const entries = Object.fromEntries(d.details.entry.map((e: { key: string; value: string }) => [e.key, e.value]));
    expect(entries).toMatchObject({ platform: 'iOS', 'common.uuid': device.deviceUuid, 'mdm.push_token_present': 'true' });
  });

  it('lock device: PUT /dm/devices/lock/{uuid}?reason=… answers messages.message; the device is sent DeviceLock', async () => {
    const res = await soar('put', `/dm/devices/lock/${device.deviceUuid}`, { reason: 'Suspicious login. Locked via Phantom' });
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toContain(device.deviceUuid);
    expect(requestTypes(await device.drain())).toEqual(['DeviceLock']);
  });

  it('unlock device: GET /dm/devices/unlock/{uuid}?reason=… answers messages.message; the device is sent ClearPasscode', async () => {
    const res = await soar('get', `/dm/devices/unlock/${device.deviceUuid}`, { reason: 'Cleared. Unlocked via Phantom' });
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toContain(device.deviceUuid);
    expect(requestTypes(await device.drain())).toEqual(['ClearPasscode']);
  });

  it('a device that does not exist: not 200 (the connector reports the status and body)', async () => {
    const res = await soar('put', '/dm/devices/lock/0badc0de-0000-4000-8000-00000000dead', { reason: 'x' });
    expect(res.status).toBe(404);
    expect(res.body.messages[0].message).toMatch(/not found/);
  });
});

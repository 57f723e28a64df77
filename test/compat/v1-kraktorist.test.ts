// Kraktorist/PSMobileIron, replayed call for call: PSMobileIron/*.ps1 (read at
// b208decfd7cdc61ce060d901af265853b1d5a999; docs/research/core-clients.md section E). The module
// calls Core's v1 API with Invoke-RestMethod -Credential: PowerShell sends no credentials until
// the server challenges with 401 + WWW-Authenticate: Basic, then repeats the request with them.
// It reads, case-insensitively, `.Devices.Device`, `.Device`, `.Labels.Label`, `.messages.message`,
// `.registration` and `.User`; Get-MIDevice swallows a 404 as "no devices". Query names are sent
// in its own spelling (Reason=, phonenumber=, countrycode=, userfirstname=, notifyuser=…).
// (Over HTTP in-process: the module itself needs pwsh and a trusted HTTPS certificate.)
// The MAC variants (…/mac/{mac}) are replayed in v1-mac.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';

let t: TestApp;
const base = '/api/v1';

/** Invoke-RestMethod -Credential: the anonymous request must be challenged, then the same request with credentials is answered. */
async function invoke(method: 'get' | 'put' | 'post', url: string) {
  const challenge = await t.anon[method](url);
  expect(challenge.status).toBe(401);
  expect(String(challenge.headers['www-authenticate'])).toMatch(/^Basic /);
  return t.anon[method](url).auth('admin', adminPassword);
}

const requestTypes = (commands: PlistDict[]) => commands.map((c) => (c.Command as PlistDict).RequestType);
/** PowerShell reads `.Devices.Device` whether Core gave one object or an array. */
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

async function register(body: Record<string, unknown>, status?: Record<string, unknown>): Promise<string> {
  const res = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', ...body });
  expect(res.status).toBe(201);
  const uuid = res.body.results['common.uuid'] as string;
  if (status) expect((await t.admin.put(`/api/v2/devices/${uuid}/attributes`).send(status)).status).toBe(200);
  return uuid;
}

const enrolled = () => enrolledDevice(t, 'kraktorist');

const devices: Record<string, string> = {};
beforeAll(async () => {
  t = await startTestApp();
  expect(
    (await t.admin.post('/api/v2/users').send({ userId: 'kraktorist', email: 'k@example.com', displayName: 'K Raktorist' })).status,
  ).toBe(201);
  expect((await t.admin.post('/api/v2/users').send({ userId: 'nobody' })).status).toBe(201);
  devices.active1 = await register(
    { serialNumber: 'KR-1', userId: 'kraktorist', model: 'iPhone', osVersion: '17.2' },
    { status: 'ACTIVE' },
  );
  devices.active2 = await register({ serialNumber: 'KR-2', deviceName: 'second' }, { status: 'ACTIVE' });
  devices.pending = await register({ serialNumber: 'KR-3' });
  devices.retired = await register({ serialNumber: 'KR-4' }, { status: 'RETIRED' });
  for (const name of ['Field Sales', 'VPN, Users'])
    expect((await t.admin.post('/api/v2/labels').send({ name, static: true })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('PSMobileIron Get-MIDevice', () => {
  const statuses = [
    'ACTIVE',
    'IENROLL_VERIFIED',
    'IENROLL_INPROGRESS',
    'IENROLL_COMPLETE',
    'INFECTED',
    'LOST',
    'VERIFIED',
    'VERIFICATION_PENDING',
    'EXPIRED',
    'WIPED',
  ];

  it('asks once per status; a status without devices is a 404 it swallows; every device but the retired one is found', async () => {
    const found: string[] = [];
    for (const status of statuses) {
      const res = await invoke('get', `${base}/dm/devices?status=${status}`);
      if (res.status === 404) {
        expect(res.body.messages[0].message).toMatch(/not found/);
        continue;
      }
      expect(res.status).toBe(200);
      found.push(...asArray(res.body.devices.device).map((d: { uuid: string }) => d.uuid));
      expect(res.body.totalCount).toBe(asArray(res.body.devices.device).length);
    }
    expect(found.sort()).toEqual([devices.active1, devices.active2, devices.pending].sort());
  });

  it('-IncludeRetired adds status=RETIRED: the retired device, one object (not an array)', async () => {
    const res = await invoke('get', `${base}/dm/devices?status=RETIRED`);
    expect(res.status).toBe(200);
    expect(res.body.devices.device).toMatchObject({ uuid: devices.retired, status: 'RETIRED', statusCode: 114 });
    expect(res.body.messages.message).toBe('1 device returned.');
  });

  it('-UUID: GET /dm/devices/{uuid} reads .Device', async () => {
    const res = await invoke('get', `${base}/dm/devices/${devices.active1}`);
    expect(res.status).toBe(200);
    expect(res.body.device).toMatchObject({ uuid: devices.active1, principal: 'kraktorist', status: 'ACTIVE', model: 'iPhone' });
  });

  it('-User: GET /dm/users/{userId} reads .Devices.Device; a user without devices is a 404', async () => {
    const res = await invoke('get', `${base}/dm/users/kraktorist`);
    expect(res.status).toBe(200);
    expect(asArray(res.body.devices.device).map((d: { uuid: string }) => d.uuid)).toEqual([devices.active1]);
    expect((await invoke('get', `${base}/dm/users/nobody`)).status).toBe(404);
  });
});

describe('PSMobileIron labels', () => {
  it('Get-MILabel: GET /dm/labels reads .Labels.Label, the system labels among them', async () => {
    const res = await invoke('get', `${base}/dm/labels`);
    expect(res.status).toBe(200);
    const names = asArray(res.body.labels.label).map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(['All-Smartphones', 'iOS', 'Field Sales', 'VPN, Users']));
  });

  it('Set-MILabel: PUT /dm/labels/{l1,l2}/{u1,u2}?action=apply (names URL-escaped, comma-joined) prints .messages.message', async () => {
    const labels = ['Field Sales', 'VPN, Users'].map(encodeURIComponent).join(',');
    const res = await invoke('put', `${base}/dm/labels/${labels}/${devices.active1},${devices.active2}?action=apply`);
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toBe('2 labels applied to 2 devices.');
    for (const uuid of [devices.active1, devices.active2]) {
      const own = await t.admin.get(`/api/v2/devices/${uuid}/labels`);
      expect(own.body.results.map((l: { name: string }) => l.name)).toEqual(expect.arrayContaining(['Field Sales', 'VPN, Users']));
    }
  });

  it('Get-MIDevice -Label: GET /dm/labels/{label} reads the devices in it', async () => {
    const res = await invoke('get', `${base}/dm/labels/${encodeURIComponent('VPN, Users')}`);
    expect(res.status).toBe(200);
    expect(
      asArray(res.body.devices.device)
        .map((d: { uuid: string }) => d.uuid)
        .sort(),
    ).toEqual([devices.active1, devices.active2].sort());
  });

  it("Get-MILabel -UUID: GET /dm/labels/devices/{uuid} reads the device's labels", async () => {
    const res = await invoke('get', `${base}/dm/labels/devices/${devices.active2}`);
    expect(res.status).toBe(200);
    expect(asArray(res.body.labels.label).map((l: { name: string }) => l.name)).toEqual(
      expect.arrayContaining(['All-Smartphones', 'iOS', 'Field Sales', 'VPN, Users']),
    );
  });

  it('Remove-MILabel: PUT …?action=remove', async () => {
    // (with a trailing slash, which Core's paths tolerate)
    const res = await invoke('put', `${base}/dm/labels/${encodeURIComponent('Field Sales')}/${devices.active2}/?action=remove`);
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toBe('1 label removed from 1 device.');
    const own = await t.admin.get(`/api/v2/devices/${devices.active2}/labels`);
    expect(own.body.results.map((l: { name: string }) => l.name)).not.toContain('Field Sales');
    expect(own.body.results.map((l: { name: string }) => l.name)).toContain('VPN, Users');
  });
});

describe('PSMobileIron device actions (Reason= with a capital R)', () => {
  let device: TestDevice;
  beforeAll(async () => {
    device = await enrolled();
  }, 60_000);

  it('Lock-MIDevice: PUT /dm/devices/lock/{uuid}?Reason= queues DeviceLock; the reason is the noted reason', async () => {
    const res = await invoke('put', `${base}/dm/devices/lock/${device.deviceUuid}?Reason=${encodeURIComponent('lost on a train')}`);
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toContain(device.deviceUuid);
    expect(requestTypes(await device.drain())).toEqual(['DeviceLock']);
    const audit = await t.admin.get('/api/v2/audit').query({ action: 'device.lock', objectId: device.deviceUuid, limit: 1 });
    expect(audit.body.results[0].details).toMatchObject({ note: 'lost on a train' });
  });

  it('Unlock-MIDevice: GET /dm/devices/unlock/{uuid}?Reason= sends ClearPasscode', async () => {
    const res = await invoke('get', `${base}/dm/devices/unlock/${device.deviceUuid}?Reason=found`);
    expect(res.status).toBe(200);
    expect(typeof res.body.messages.message).toBe('string');
    expect(requestTypes(await device.drain())).toEqual(['ClearPasscode']);
  });

  it('Send-MIMessage: POST /dm/bulk/sendmessage/ (trailing slash), everything in the query, deviceUuid repeated: a notification, never a lock', async () => {
    const other = await register({ serialNumber: 'KR-5' }, { status: 'ACTIVE' });
    const q = `mode=sms&message=${encodeURIComponent('Call IT')}&subject=IT&deviceUuid=${device.deviceUuid}&deviceUuid=${other}`;
    const res = await invoke('post', `${base}/dm/bulk/sendmessage/?${q}`);
    expect(res.status).toBe(200);
    expect(typeof res.body.messages.message).toBe('string');
    expect(await device.drain()).toEqual([]);
    const audit = await t.admin.get('/api/v2/audit').query({ action: 'device.send_message', objectId: device.deviceUuid, limit: 1 });
    expect(audit.body.results[0].details).toMatchObject({
      outcome: 'SUCCESS',
      notification: { mode: 'sms', message: 'Call IT', subject: 'IT' },
    });
  });

  it('Clear-MIDevice: PUT /dm/devices/wipe/{uuid}?Reason= sends EraseDevice', async () => {
    const d = await enrolled();
    const res = await invoke('put', `${base}/dm/devices/wipe/${d.deviceUuid}?Reason=stolen`);
    expect(res.status).toBe(200);
    expect(typeof res.body.messages.message).toBe('string');
    expect(requestTypes(await d.drain())).toEqual(['EraseDevice']);
  }, 60_000);

  it('Remove-MIDevice: PUT /dm/devices/retire/{uuid}?Reason= retires the device', async () => {
    const d = await enrolled();
    const res = await invoke('put', `${base}/dm/devices/retire/${d.deviceUuid}?Reason=leaver`);
    expect(res.status).toBe(200);
    expect(typeof res.body.messages.message).toBe('string');
    expect(requestTypes(await d.drain())).toContain('RemoveProfile');
  }, 60_000);
});

describe('PSMobileIron users and registration', () => {
  it('Get-MIUser: GET /sm/users/{userId} reads .User', async () => {
    const res = await invoke('get', `${base}/sm/users/kraktorist`);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ principal: 'kraktorist', emailAddress: 'k@example.com', displayName: 'K Raktorist' });
    expect((await invoke('get', `${base}/sm/users/no-such-user`)).status).toBe(404);
  });

  it('Add-MIDevice (phone, new user by name): PUT /dm/register with lower-case names reads .registration', async () => {
    const q =
      'userId=newhire&platform=I&phonenumber=4155550100&countrycode=1&operator=Verizon' +
      '&userfirstname=New&userlastname=Hire&userEmailAddress=newhire%40example.com&notifyuser=true&notifyuserbysms=true';
    const res = await invoke('put', `${base}/dm/register?${q}`);
    expect(res.status).toBe(200);
    expect(res.body.registration).toMatchObject({ status: 'SUCCESS', userId: 'newhire', phoneNumber: '4155550100' });
    const device = await t.admin.get(`/api/v2/devices/${res.body.registration.deviceUuid}/details`);
    const detail = Object.fromEntries(device.body.results.map((d: { name: string; value: string }) => [d.name, d.value]));
    expect(detail).toMatchObject({
      'user.user_id': 'newhire',
      'user.email_address': 'newhire@example.com',
      'user.display_name': 'New Hire',
    });
    expect(detail['common.status']).toBe('VERIFICATION_PENDING');
  });

  it('Add-MIDevice (PDA, LDAP user): phoneNumber=pda&devicetype=pda&importuserfromldap=true', async () => {
    const res = await invoke(
      'put',
      `${base}/dm/register?userId=kraktorist&platform=I&phoneNumber=pda&devicetype=pda&importuserfromldap=true`,
    );
    expect(res.status).toBe(200);
    expect(res.body.registration).toMatchObject({ status: 'SUCCESS', deviceType: 'pda' });
    const mine = await invoke('get', `${base}/dm/users/kraktorist`);
    expect(asArray(mine.body.devices.device).map((d: { uuid: string }) => d.uuid)).toContain(res.body.registration.deviceUuid);
  });
});

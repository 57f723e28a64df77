// The Axonius MobileIron adapter, replayed call for call for its device fetch. Source: the copy in
// hshmilov/mongomock, adapters/mobileiron_adapter/connection.py (newer version: index id
// 41295301918; older: 40676277169), consts.py (DEVICE_PER_PAGE = 200), service.py
// (@1a38beb12fe873e22c0ba9e2a0d7c1c7c84c73aa). Base URL <domain>/rest/api/v2/, HTTP Basic,
// Content-Type and Accept application/json. It asks devices/count (query=, reads the top-level
// totalCount), then pages GET devices with limit=200, offset += 200 while offset < count,
// query='', sortOrder=ASC, sortField=user.display_name, and a fields list: the older version takes
// every name search_fields lists plus common.id (and sends count=50, which Core ignores); the newer
// one a fixed list with two broken names (ios.DeviceNamem, and two names run together by a missing
// comma). It reads each device with .get(): common.id (skips a device without it), common.uuid,
// ios.DeviceName, common.platform, common.ip_address, common.wifi_mac_address, common.client_version,
// common.model, android.security_patch, user.user_id, common.miclient_last_connected_at, common.imei,
// common.storage_capacity, user.email_address, common.current_phone_number, common.imsi.
// (device_spaces/mine, authorized/users and devices/appinventory are replayed by their own tests.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const base = '/rest/api/v2';
const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
const get = (path: string, query: Record<string, string | number>) => t.admin.get(`${base}/${path}`).set(json).query(query);

const newerFields =
  'common.id,common.uuid,ios.DeviceNamem,common.platform,common.ip_address,' +
  'common.wifi_mac_address,common.client_version,common.model,android.security_patch,' +
  'user.user_id,common.miclient_last_connected_at,common.imei,common.storage_capacity,' +
  'user.email_address,common.current_phone_number,common.last_connected_at,' +
  'common.imsi,common.device_encrypted,common.device_is_compromised,common.device_admin_enabled' +
  'windows_phone.win10_antivirus_status,windows_phone.health_data_bit_locker_status';

const readKeys = [
  'common.id',
  'common.uuid',
  'ios.DeviceName',
  'common.platform',
  'common.ip_address',
  'common.wifi_mac_address',
  'common.client_version',
  'common.model',
  'android.security_patch',
  'user.user_id',
  'common.miclient_last_connected_at',
  'common.imei',
  'common.storage_capacity',
  'user.email_address',
  'common.current_phone_number',
  'common.imsi',
];

const displayNames = ['Zoe Zimmer', 'Anna Adams', 'Mia Meyer'];

beforeAll(async () => {
  t = await startTestApp();
  for (const [i, displayName] of displayNames.entries()) {
    expect((await t.admin.post('/api/v2/users').send({ userId: `ax${i}`, email: `ax${i}@example.com`, displayName })).status).toBe(201);
  }
  // 250 devices: more than one page of 200; every fifth has a user
  const rows = Array.from({ length: 250 }, (_, i) => `${i % 5 === 0 ? `ax${(i / 5) % 3}` : ''},iOS,AXON${i},iPhone 15`);
  const csv = ['userId,platform,serialNumber,model', ...rows].join('\n');
  expect((await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv)).status).toBe(201);
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** The adapter's loop: count first, then pages of 200 while offset < count. */
async function fetchAll(fields: string, extra: Record<string, string | number> = {}) {
  const count = (await get('devices/count', { adminDeviceSpaceId: 1, query: '' })).body.totalCount as number;
  const devices: Array<Record<string, unknown>> = [];
  const answers = [];
  for (let offset = 0; offset < count; offset += 200) {
    const res = await get('devices', {
      adminDeviceSpaceId: 1,
      limit: 200,
      ...extra,
      offset,
      query: '',
      fields,
      sortOrder: 'ASC',
      sortField: 'user.display_name',
    });
    expect(res.status).toBe(200);
    answers.push(res.body);
    devices.push(...(res.body.results as Array<Record<string, unknown>>));
  }
  return { count, devices, answers };
}

describe('Axonius MobileIron adapter: device fetch', () => {
  it('newer adapter: its fixed list with two broken names still gets every device, sorted by user.display_name', async () => {
    const { count, devices, answers } = await fetchAll(newerFields);
    expect(count).toBe(250);
    expect(answers).toHaveLength(2);
    expect(new Set(devices.map((d) => d['common.uuid'])).size).toBe(250);
    for (const device of devices) {
      expect(typeof device['common.id']).toBe('number');
      // what it reads with .get(): present where the list asked for it, null where nothing is known
      for (const key of readKeys.filter((k) => newerFields.split(',').includes(k))) expect(device).toHaveProperty([key]);
      expect(device['common.platform']).toBe('iOS');
      expect(device['common.model']).toBe('iPhone 15');
      expect(device['common.imsi']).toBeNull();
      expect(device['android.security_patch']).toBeNull();
      expect(device['common.client_version']).toBeNull();
      // the broken names are left out
      expect(device).not.toHaveProperty(['ios.DeviceNamem']);
    }
    // ... and named in a warning, each with a suggestion
    expect(answers[0].messages).toEqual([
      expect.objectContaining({
        type: 'WARN',
        field: 'ios.DeviceNamem',
        localizedMessage: expect.stringContaining('did you mean ios.DeviceName?'),
      }),
      expect.objectContaining({
        type: 'WARN',
        field: 'common.device_admin_enabledwindows_phone.win10_antivirus_status',
        localizedMessage: expect.stringContaining('did you mean common.device_admin_enabled?'),
      }),
    ]);
    // sorted by the user's display name across both pages (devices without a user first, as SQL sorts NULL)
    const names = devices.map((d) => d['user.user_id'] as string | null).map((id) => (id ? displayNames[Number(id.slice(2))] : null));
    const withUser = names.filter((n): n is string => n !== null);
    expect(withUser).toHaveLength(50);
    expect(withUser).toEqual([...withUser].sort());
    expect(names.slice(0, 200).every((n) => n === null)).toBe(true);
  });

  it('sortOrder=DESC reverses the user order', async () => {
    const res = await get('devices', {
      adminDeviceSpaceId: 1,
      limit: 5,
      offset: 0,
      query: '',
      fields: 'user.display_name',
      sortOrder: 'DESC',
      sortField: 'user.display_name',
    });
    expect(res.body.results.map((d: Record<string, unknown>) => d['user.display_name'])).toEqual(Array(5).fill('Zoe Zimmer'));
  });

  it('older adapter: every search_fields name plus common.id, with count=50', async () => {
    const listed = await get('devices/search_fields', { adminDeviceSpaceId: 1, query: '' });
    expect(listed.status).toBe(200);
    const names = (listed.body.results as Array<{ name: string }>).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['common.uuid', 'common.ip_address', 'user.display_name', 'ios.iPhone UDID']));
    const fields = [...names, 'common.id'].join(',');
    const { devices, answers } = await fetchAll(fields, { count: 50 });
    expect(devices).toHaveLength(250);
    expect(answers[0].messages).toBeUndefined();
    for (const device of devices.slice(0, 3)) expect(Object.keys(device).sort()).toEqual([...new Set(names)].sort());
  });
});

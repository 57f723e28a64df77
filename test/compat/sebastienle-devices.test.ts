// sebastienle/mobile_iron_incomplete, a PowerShell module for Core's v2 API (read at
// 494ff55d82cf5ef136ef7db98abf95307d2370c0, Public/*.ps1), replayed for its device searches.
// Get-MIDeviceSearchFields: GET /api/v2/devices/search_fields?adminDeviceSpaceId=N, reading each
// result's Name (PowerShell reads properties case-insensitively). Get-MIDevice: GET /api/v2/devices
// with fields = every search_fields name plus common.location_last_captured_at,common.location
// (its comment: valid, but not listed by search_fields), adminDeviceSpaceId, and query= one of:
// empty; "common.compliant"="True" (a PowerShell boolean, capitalised and quoted);
// "SerialNumber"="<sn>" (no namespace); "user.user_id"="<id>". It reads Results.
// Get-MIAppsOnDevice.ps1 also keeps, in a comment, a URL captured from Core's own admin portal:
// adminDeviceSpace (not …Id), count, page, start, labelId=-1, a free-text query=samsung,
// sortField=user.display_name and a long fields list with ios.iPhoneMAC_ADDRESS_EN0 and
// ios.iPhoneVERSION written without their space (read_file id=23130989998). Both are replayed.
// Auth: a preemptive Basic header; Invoke-RestMethod throws on any non-2xx answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const serials = { compliantSamsung: 'SEBA1', nonCompliant: 'SEBA2', iphone: 'SEBA3' };
const uuids: Record<string, string> = {};

// The portal's fields list, as captured
const portalFields =
  'user.display_name,common.current_phone_number,common.model,common.manufacturer,common.mdm_managed,common.platform_name,' +
  'common.home_country_name,common.registration_date,common.last_connected_at,common.miclient_last_connected_at,common.owner,' +
  'common.home_operator_name,common.language,common.creation_date,common.uuid,common.clientId,user.email_address,common.comment,' +
  'user.user_id,common.storage_capacity,common.device_is_compromised,common.noncompliance_reasons,common.compliant,common.platform,' +
  'common.quarantined,common.quarantined_reasons,common.id,android.attestation,ios.wakeup_status,common.status,common.device_space_name,' +
  'common.background_status,common.data_protection_enabled,common.data_protection_reasons,common.device_admin_enabled,' +
  'common.memory_capacity,common.memory_free,common.storage_capacity,common.storage_free,common.battery_level,common.client_name,' +
  'common.client_version,ios.DataRoamingEnabled,common.locale,common.ethernet_mac,common.imei,common.imsi,common.ip_address,' +
  'ios.iPhone ICCID,ios.iPhoneMAC_ADDRESS_EN0,ios.iPhone UDID,ios.iPhoneVERSION,ios.DeviceName,common.os_version,' +
  'android.afw_capable,android.registration_status';

/** Invoke-RestMethod on the URI the module builds by concatenation (.NET escapes quotes and spaces). */
async function invoke(pathAndQuery: string) {
  const res = await t.admin.get(encodeURI(pathAndQuery));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'seb', displayName: 'Sebastien L' })).status).toBe(201);
  const devices = [
    {
      key: 'compliantSamsung',
      body: { platform: 'Android', manufacturer: 'samsung', model: 'SM-G991B', serialNumber: serials.compliantSamsung, userId: 'seb' },
    },
    { key: 'nonCompliant', body: { platform: 'Android', manufacturer: 'Google', model: 'Pixel 8', serialNumber: serials.nonCompliant } },
    {
      key: 'iphone',
      body: { platform: 'iOS', model: 'iPhone15,2', osVersion: '17.2', serialNumber: serials.iphone, wifiMac: 'a4:83:e7:00:00:09' },
    },
  ];
  for (const d of devices) {
    const created = await t.admin.post('/api/v2/devices').send(d.body);
    expect(created.status).toBe(201);
    uuids[d.key] = created.body.results['common.uuid'];
  }
  expect((await t.admin.put(`/api/v2/devices/${uuids.nonCompliant}/attributes`).send({ compliant: false })).status).toBe(200);
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('sebastienle PSMobileIron: Get-MIDeviceSearchFields and Get-MIDevice', () => {
  let fields: string;

  beforeAll(async () => {
    const listed = await invoke('/api/v2/devices/search_fields?adminDeviceSpaceId=1');
    const names = (listed.results as Array<Record<string, unknown>>).map((f) => f.name as string);
    expect(names.length).toBeGreaterThan(90);
    fields = [...names, 'common.location_last_captured_at', 'common.location'].join(',');
  });

  const search = async (query: string) => {
    const body = await invoke(`/api/v2/devices?fields=${fields}&adminDeviceSpaceId=1&query=${query}`);
    expect(body.messages).toBeUndefined();
    return body.results as Array<Record<string, unknown>>;
  };

  it('empty query: every device, with the two location fields the module adds (listed by search_fields here too, so named twice)', async () => {
    const all = await search('');
    expect(all).toHaveLength(3);
    for (const device of all) {
      expect(device).toHaveProperty(['common.location'], null);
      expect(device).toHaveProperty(['common.location_last_captured_at'], null);
    }
  });

  it('"common.compliant"="True": a quoted, capitalised boolean', async () => {
    const found = await search('"common.compliant"="True"');
    expect(found.map((d) => d['common.uuid']).sort()).toEqual([uuids.compliantSamsung, uuids.iphone].sort());
  });

  it('"SerialNumber"="…": a field name without its namespace', async () => {
    const found = await search(`"SerialNumber"="${serials.iphone}"`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      'common.uuid': uuids.iphone,
      'common.SerialNumber': serials.iphone,
      'common.wifi_mac_address': 'a4:83:e7:00:00:09',
    });
  });

  it('"user.user_id"="…"', async () => {
    const found = await search('"user.user_id"="seb"');
    expect(found.map((d) => d['common.uuid'])).toEqual([uuids.compliantSamsung]);
  });
});

describe("Core's admin portal search, as captured in Get-MIAppsOnDevice.ps1", () => {
  const portalSearch = (query: string) =>
    invoke(
      `/api/v2/devices?adminDeviceSpace=1&count=50&offset=0&sortOrder=ASC&sortField=user.display_name&fields=${portalFields}` +
        `&labelId=-1&query=${query}&page=1&start=0&limit=50`,
    );

  it('free text query=samsung finds the Samsung device; the portal-only parameters are accepted', async () => {
    const body = await portalSearch('samsung');
    expect(body.totalCount).toBe(1);
    expect(body.messages).toBeUndefined();
    const [device] = body.results as Array<Record<string, unknown>>;
    expect(device).toMatchObject({
      'common.uuid': uuids.compliantSamsung,
      'common.manufacturer': 'samsung',
      'user.display_name': 'Sebastien L',
      'android.afw_capable': null,
    });
    expect(Object.keys(device!).sort()).toEqual([...new Set(portalFields.split(','))].sort());
  });

  it('the names written without their space answer under that spelling', async () => {
    const body = await portalSearch('"iPhone15,2"');
    const [device] = body.results as Array<Record<string, unknown>>;
    expect(device).toMatchObject({
      'common.uuid': uuids.iphone,
      'ios.iPhoneMAC_ADDRESS_EN0': 'a4:83:e7:00:00:09',
      'ios.iPhoneVERSION': '17.2',
      'common.platform_name': 'iOS 17.2',
    });
  });
});

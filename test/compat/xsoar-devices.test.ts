// Cortex XSOAR's MobileIronCORE integration, replayed call for call for its device searches:
// demisto/content, Packs/MobileIronUEM/Integrations/MobileIronCORE/MobileIronCORE.py (read at
// 10e6f9a72892238cf0619208a94eec84b1b6d11c), answer fixture test_data/get_devices_response_page.json.
// fetch-incidents and get-devices-data page GET /api/v2/devices with adminDeviceSpaceId, a fixed
// query, its standard fields list (comma-joined, with a duplicate and names containing spaces),
// limit=50 and offset = the page number (0, 1, 2…) while `hasMore`; each device is then judged by
// indexing common.security_state (compared to "Ok"), common.compliant and common.quarantined
// directly, so a missing key is a KeyError. get-device-by-uuid/serial/mac/ip send
// query=<field>="<value>" with common.uuid, common.SerialNumber, common.wifi_mac_address,
// common.ip_address and take the first result. Auth: HTTP Basic (requests' auth=).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;

// The integration's standard fields, in its order (common.quarantined_reasons twice, as it sends them)
const standardFields = [
  'common.uuid',
  'common.compliant',
  'common.id',
  'common.imei',
  'common.imsi',
  'common.last_connected_at',
  'user.sam_account_name',
  'common.manufacturer',
  'common.model',
  'common.quarantined_reasons',
  'common.noncompliance_reasons',
  'common.owner',
  'common.platform',
  'common.SerialNumber',
  'common.mdm_managed',
  'common.device_is_compromised',
  'common.wifi_mac_address',
  'ios.iPhone MAC_ADDRESS_EN0',
  'ios.Current MCC',
  'ios.iPhone UDID',
  'common.current_country_code',
  'common.home_country_code',
  'common.current_country_name',
  'common.home_country_name',
  'common.quarantined',
  'common.quarantined_reasons',
  'common.registration_date',
  'common.status',
  'user.display_name',
  'user.email_address',
  'user.user_id',
  'common.security_state',
];
const fetchQuery = 'common.status = "ACTIVE" AND (common.quarantined = true OR common.compliant = false OR common.security_state != "Ok")';

/** What the integration's loop does: offset is the page number, limit 50, until hasMore is false. */
async function pages(query: string, fields = standardFields.join(',')): Promise<Array<Record<string, unknown>>> {
  const results: Array<Record<string, unknown>> = [];
  for (let page = 0; ; page++) {
    const res = await t.admin.get('/api/v2/devices').query({ adminDeviceSpaceId: '1', query, fields, limit: '50', offset: String(page) });
    expect(res.status).toBe(200);
    results.push(...(res.body.results as Array<Record<string, unknown>>));
    if (!res.body.hasMore) return results;
    expect(page).toBeLessThan(100);
  }
}

/**
 * The integration's severity rule (resolve_device_incident_severity): the three keys indexed
 * directly, in this order; a device showing none of the three issues is a ValueError.
 */
function severity(device: Record<string, unknown>): string {
  const index = (key: string) => {
    if (!Object.hasOwn(device, key)) throw new Error(`KeyError: ${key}`);
    return device[key];
  };
  const securityState = index('common.security_state');
  if (securityState !== 'Ok') return `Security State - ${String(securityState)}`;
  if (!index('common.compliant')) return 'Non-Compliant device';
  if (index('common.quarantined')) return 'Quarantined device';
  throw new Error('ValueError: Unable to determine severity');
}

const uuids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  expect(
    (await t.admin.post('/api/v2/users').send({ userId: 'xsoar-jane', email: 'jane@example.com', displayName: 'Jane Doe' })).status,
  ).toBe(201);
  const devices = [
    { name: 'healthy', state: { status: 'ACTIVE' }, net: { wifiMac: 'a4:83:e7:00:00:01', ipAddress: '10.0.0.11' } },
    { name: 'noncompliant', state: { status: 'ACTIVE', compliant: false }, net: { wifiMac: 'a4:83:e7:00:00:02', ipAddress: '10.0.0.12' } },
    { name: 'quarantined', state: { status: 'ACTIVE', quarantined: true }, net: { wifiMac: 'a4:83:e7:00:00:03', ipAddress: '10.0.0.13' } },
    { name: 'retired', state: { status: 'RETIRED', quarantined: true }, net: {} },
  ];
  for (const [i, d] of devices.entries()) {
    const created = await t.admin
      .post('/api/v2/devices')
      .send({ platform: 'iOS', serialNumber: `XSOAR${i}`, model: 'iPhone15,2', osVersion: '17.2', userId: 'xsoar-jane', ...d.net });
    expect(created.status).toBe(201);
    uuids[d.name] = created.body.results['common.uuid'];
    expect((await t.admin.put(`/api/v2/devices/${uuids[d.name]}/attributes`).send(d.state)).status).toBe(200);
  }
  // 60 more healthy devices, so the loop pages
  const csv = ['platform,serialNumber', ...Array.from({ length: 60 }, (_, i) => `iOS,XSOARBULK${i}`)].join('\n');
  expect((await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv)).status).toBe(201);
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('XSOAR MobileIronCORE: fetch-incidents', () => {
  it('the fixed fetch query finds the ACTIVE devices with an issue, and each gets the severity the integration computes', async () => {
    const found = await pages(fetchQuery);
    expect(found.map((d) => d['common.uuid']).sort()).toEqual([uuids.noncompliant, uuids.quarantined].sort());
    expect(Object.fromEntries(found.map((d) => [d['common.uuid'], severity(d)]))).toEqual({
      [uuids.noncompliant!]: 'Non-Compliant device',
      [uuids.quarantined!]: 'Quarantined device',
    });
  });

  it('every requested field is in every result, spaces and duplicates included, as the fixture shows', async () => {
    const read = await pages('');
    // offset counts pages where Core counts devices: windows overlap (15 calls, 750 results), and the loop ends
    expect(read).toHaveLength(15 * 50);
    const all = [...new Map(read.map((d) => [d['common.uuid'], d])).values()];
    expect(all).toHaveLength(64);
    for (const device of all) {
      expect(Object.keys(device).sort()).toEqual([...new Set(standardFields)].sort());
      // every key the rule reads is there: a healthy device reaches the rule's ValueError, never a KeyError
      if (device['common.compliant'] && !device['common.quarantined']) expect(() => severity(device)).toThrow('ValueError');
      else expect(severity(device)).toMatch(/device$/);
    }
    const jane = all.find((d) => d['common.uuid'] === uuids.quarantined)!;
    expect(jane).toMatchObject({
      'common.compliant': true,
      'common.quarantined': true,
      'common.quarantined_reasons': ['MANUAL'],
      'common.noncompliance_reasons': [],
      'common.security_state': 'Ok',
      'common.device_is_compromised': false,
      'common.mdm_managed': false,
      'common.SerialNumber': 'XSOAR2',
      'common.wifi_mac_address': 'a4:83:e7:00:00:03',
      'ios.iPhone MAC_ADDRESS_EN0': 'a4:83:e7:00:00:03',
      'common.imsi': null,
      'ios.Current MCC': null,
      'user.display_name': 'Jane Doe',
      'user.email_address': 'jane@example.com',
      'user.user_id': 'xsoar-jane',
      'common.status': 'ACTIVE',
    });
    expect(typeof jane['common.id']).toBe('number');
    expect(jane['common.registration_date']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('the page-number offset still ends: hasMore turns false', async () => {
    // offset=1 is the second device, not the second page (Core semantics); the loop ends anyway
    const res = await t.admin
      .get('/api/v2/devices')
      .query({ adminDeviceSpaceId: '1', query: '', fields: 'common.uuid', limit: '50', offset: '14' });
    expect(res.body).toMatchObject({ totalCount: 64, resultCount: 50, hasMore: false });
  });
});

describe('XSOAR MobileIronCORE: get-device-by-*', () => {
  const byQuery = async (field: string, value: string) => {
    const found = await pages(`${field}="${value}"`);
    return found[0]?.['common.uuid'];
  };

  it('by uuid, serial number, Wi-Fi MAC and IP address', async () => {
    expect(await byQuery('common.uuid', uuids.noncompliant!)).toBe(uuids.noncompliant);
    expect(await byQuery('common.SerialNumber', 'XSOAR2')).toBe(uuids.quarantined);
    expect(await byQuery('common.wifi_mac_address', 'a4:83:e7:00:00:01')).toBe(uuids.healthy);
    expect(await byQuery('common.ip_address', '10.0.0.12')).toBe(uuids.noncompliant);
  });

  it('nothing found is an empty list, not an error', async () => {
    expect(await byQuery('common.ip_address', '192.0.2.1')).toBeUndefined();
  });
});

// Siemplify / Google SecOps (Chronicle) SOAR's MobileIronManager, replayed call for call for
// "Fetch System Information by IP / by UUID" and "List Devices". The manager's repository is not
// named by the index: read_file id=23219532830 (header "…Manager.py, victor@siemplify.co,
// 12-10-18"); the integration is documented at
// https://cloud.google.com/chronicle/docs/soar/marketplace-integrations/mobileiron.
// It uses a requests session with HTTP Basic and sends, for devices: GET api/v2/devices with
// adminDeviceSpaceId, query and fields, where fields is its default list written as one string
// with newlines between groups of names (and a leading and trailing newline, common.storage_capacity
// twice); by IP the query is `common.ip_address "contains" <ip>` (quoted operator, bare value) and
// it takes the first result's common.uuid. Details: GET api/v2/devices/{uuid}/details with no
// adminDeviceSpaceId, turning results[] into name → value. raise_for_status on any error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;

// The default field list as the manager writes it: newline-separated groups of comma-joined names
const defaultFields = `
android.afw_capable,android.attestation,common.background_status,common.battery_level,common.client_name,
common.client_version,common.clientId,common.comment,common.compliant,common.creation_date,
common.current_phone_number,common.data_protection_enabled,common.data_protection_reasons,common.device_admin_enabled,
common.device_is_compromised,common.device_space_name,common.ethernet_mac,common.home_country_name,
common.home_operator_name,common.id,common.imei,common.imsi,common.ip_address,common.language,common.last_connected_at,
common.locale,common.manufacturer,common.mdm_managed,common.memory_capacity,common.memory_free,
common.miclient_last_connected_at,common.model,common.noncompliance_reasons,common.os_version,common.owner,
common.platform,common.platform_name,common.quarantined,common.quarantined_reasons,common.registration_date,
common.status,common.storage_capacity,common.storage_capacity,common.storage_free,common.uuid,ios.DataRoamingEnabled,
ios.DeviceName,user.display_name,user.email_address,user.user_id
`;
const names = [
  ...new Set(
    defaultFields
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  ),
];

let target: string;

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'soc-analyst', displayName: 'SOC Analyst' })).status).toBe(201);
  const created = await t.admin.post('/api/v2/devices').send({
    platform: 'iOS',
    model: 'iPhone15,2',
    osVersion: '17.2.1',
    deviceName: 'Analyst iPhone',
    ipAddress: '10.20.30.40',
    phoneNumber: '+1 555 0100',
    userId: 'soc-analyst',
  });
  expect(created.status).toBe(201);
  target = created.body.results['common.uuid'];
  expect((await t.admin.post('/api/v2/devices').send({ platform: 'iOS', ipAddress: '10.99.0.1' })).status).toBe(201);
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('Chronicle SOAR MobileIron: fetch system information', () => {
  it('by IP: the quoted "contains" operator and a bare address; the newline-separated fields all answered', async () => {
    const res = await t.admin
      .get('/api/v2/devices')
      .query({ adminDeviceSpaceId: 1, query: 'common.ip_address "contains" 10.20.30.40', fields: defaultFields });
    expect(res.status).toBe(200);
    const first = (res.body.results ?? [])[0] as Record<string, unknown>;
    expect(first['common.uuid']).toBe(target);
    expect(Object.keys(first).sort()).toEqual([...names].sort());
    expect(first).toMatchObject({
      'common.ip_address': '10.20.30.40',
      'common.current_phone_number': '+1 555 0100',
      'common.platform_name': 'iOS 17.2.1',
      'common.device_space_name': 'Global',
      'ios.DeviceName': 'Analyst iPhone',
      'user.display_name': 'SOC Analyst',
      'common.battery_level': null,
      'android.afw_capable': null,
    });
    expect(res.body.messages).toBeUndefined();
  });

  it('"contains" matches part of an address; nothing found is an empty results list', async () => {
    const partial = await t.admin
      .get('/api/v2/devices')
      .query({ adminDeviceSpaceId: 1, query: 'common.ip_address "contains" 10.99', fields: defaultFields });
    expect(partial.body.results).toHaveLength(1);
    const none = await t.admin
      .get('/api/v2/devices')
      .query({ adminDeviceSpaceId: 1, query: 'common.ip_address "contains" 192.0.2.7', fields: defaultFields });
    expect(none.status).toBe(200);
    expect(none.body.results).toEqual([]);
  });

  it('by UUID: details without adminDeviceSpaceId, read as name → value', async () => {
    const res = await t.admin.get(`/api/v2/devices/${target}/details`);
    expect(res.status).toBe(200);
    const details: Record<string, unknown> = {};
    for (const item of res.body.results as Array<{ name?: string; value?: unknown }>) if (item.name) details[item.name] = item.value;
    expect(details).toMatchObject({
      'common.uuid': target,
      'common.ip_address': '10.20.30.40',
      'common.os_version': '17.2.1',
      'user.display_name': 'SOC Analyst',
    });
    // details carries every field the default list names
    for (const name of names) expect(Object.hasOwn(details, name), name).toBe(true);
  });
});

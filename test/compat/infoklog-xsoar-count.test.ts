// infoklog/Demisto-MobileironUEM, the older XSOAR MobileironCORE draft
// (MobileironUEM/Integrations/MobileironCORE/MobileironCORE.py @ 3c852bf3ac879c6a6534d0f789646d8b842c12b5),
// replayed for its fetch: a preemptive Basic header; GET /api/v2/devices/count with
// adminDeviceSpaceId, query and fields (fields sent although a count ignores them), reading the
// top-level totalCount as an int; then, when the count is over 2, GET /api/v2/devices pages of
// limit=2 at offset 0, 2, 4…, indexing each device's common.model (the incident name),
// common.security_state (truthy: it then skips the misspelt common.complaint) and common.quarantined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const auth = { Authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` };
const fields =
  'common.uuid,common.compliant,common.id,common.imei,common.imsi,common.last_connected_at,common.manufacturer,common.model,' +
  'common.noncompliance_reasons,common.owner,common.platform,common.quarantined,common.quarantined_reasons,common.registration_date,' +
  'common.status,user.display_name,user.email_address,user.user_id,common.security_state';
const query = 'common.status = "ACTIVE" AND (common.quarantined = true OR common.compliant = false OR common.security_state != "Ok")';

beforeAll(async () => {
  t = await startTestApp();
  for (let i = 0; i < 5; i++) {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: `iPhone${i}` });
    expect(created.status).toBe(201);
    const state = { status: 'ACTIVE', quarantined: i % 2 === 0 };
    expect((await t.admin.put(`/api/v2/devices/${created.body.results['common.uuid']}/attributes`).send(state)).status).toBe(200);
  }
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('infoklog XSOAR draft: count first, then pages of 2', () => {
  it('reads totalCount at the top level although it sends fields=, then pages until the count', async () => {
    const counted = await t.anon.get('/api/v2/devices/count').set(auth).query({ adminDeviceSpaceId: 1, query, fields });
    expect(counted.status).toBe(200);
    const total = Number.parseInt(String(counted.body.totalCount), 10);
    expect(total).toBe(3);
    const devices: Array<Record<string, unknown>> = [];
    for (let offset = 0; offset < total; offset += 2) {
      const page = await t.anon.get('/api/v2/devices').set(auth).query({ adminDeviceSpaceId: 1, query, fields, limit: 2, offset });
      expect(page.status).toBe(200);
      devices.push(...page.body.results);
    }
    expect(devices.map((d) => d['common.model']).sort()).toEqual(['iPhone0', 'iPhone2', 'iPhone4']);
    for (const device of devices) {
      expect(device['common.security_state']).toBe('Ok');
      expect(device['common.quarantined']).toBe(true);
    }
  });
});

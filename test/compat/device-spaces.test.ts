// Device spaces as three public Core clients ask for them, replayed call for call:
// - G sebastienle/mobile_iron_incomplete (@494ff55d82cf5ef136ef7db98abf95307d2370c0),
//   Public/Get-MISpace.ps1: GET /api/v2/device_spaces/mine, or
//   /api/v2/device_spaces?adminDeviceSpaceId=N[&excludeDeviceCount=true]; returns .Results
//   (Invoke-RestMethod, property names case-insensitive).
// - J the Axonius MobileIron adapter (copy in hshmilov/mongomock,
//   adapters/mobileiron_adapter/connection.py): GET rest/api/v2/device_spaces/mine with
//   Content-Type and Accept application/json; reads results[0].id.
// - K Oomnitza/oomnitza-connector, connectors/mobileiron.py
//   (@12cf966a75dee41b63332dd521fd35e2e8687574): for each id of GET /api/v2/device_spaces/mine
//   (one version appends ?limit={limit}&offset={offset} unformatted), GET
//   /api/v2/device_spaces/criteria?adminDeviceSpaceId=<id>, joins results[].name with commas as
//   fields=, then pages GET /api/v2/devices?adminDeviceSpaceId&fields&labelId=-1&limit=50&offset
//   while hasMore, reading results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const registered: string[] = [];
const json = { Accept: 'application/json' };

beforeAll(async () => {
  t = await startTestApp();
  // More than one page of K's limit=50.
  for (let i = 0; i < 57; i++) {
    const res = await t.admin.post('/api/v2/devices').send({ platform: i % 2 ? 'iOS' : 'Android', deviceName: `space-${i}`, model: 'M' });
    expect(res.status).toBe(201);
    registered.push(res.body.results['common.uuid']);
  }
  expect((await t.admin.put(`/api/v2/devices/${registered[0]}/attributes`).send({ custom: { costCenter: 'R&D' } })).status).toBe(200);
  expect(
    (await t.admin.post('/api/v2/admins').send({ username: 'space-viewer', password: 'space-viewer-pw-1', role: 'viewer' })).status,
  ).toBe(201);
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('G: Get-MISpace', () => {
  it('Set-MIAuthentication pings, then -Mine lists the global space', async () => {
    expect((await t.admin.get('/api/v2/ping')).status).toBe(200);
    const res = await t.admin.get('/api/v2/device_spaces/mine');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ id: 1, name: 'Global', path: '/Global', parentId: null, criteria: null, deviceCount: 57 }]);
  });

  it('-AdminDeviceSpaceId 1 -ExcludeDeviceCount: deviceCount is 0, as Core documents; without it, the count', async () => {
    const excluded = await t.admin.get('/api/v2/device_spaces?adminDeviceSpaceId=1&excludeDeviceCount=true');
    expect(excluded.status).toBe(200);
    expect(excluded.body.results).toMatchObject([{ id: 1, name: 'Global', deviceCount: 0 }]);
    const counted = await t.admin.get('/api/v2/device_spaces?adminDeviceSpaceId=1');
    expect(counted.body.results).toMatchObject([{ id: 1, deviceCount: 57 }]);
    expect(counted.body).toMatchObject({ totalCount: 1, resultCount: 1, hasMore: false });
  });

  it('a viewer administers the global space too', async () => {
    const res = await t.as('space-viewer', 'space-viewer-pw-1').get('/api/v2/device_spaces/mine');
    expect(res.status).toBe(200);
    expect(res.body.results.map((s: { id: number }) => s.id)).toEqual([1]);
  });
});

describe('J: Axonius adapter', () => {
  it('GET rest/api/v2/device_spaces/mine answers results[0].id', async () => {
    const res = await t.admin.get('/rest/api/v2/device_spaces/mine').set({ ...json, 'Content-Type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].id).toBe(1);
  });
});

describe('K: Oomnitza connector', () => {
  it('spaces → criteria → every device, paged by 50 with labelId=-1 and fields= the criteria names', async () => {
    // The version that appends its paging placeholders unformatted must still get the list.
    const literal = await t.admin.get('/api/v2/device_spaces/mine?limit={limit}&offset={offset}').set(json);
    expect(literal.status).toBe(200);
    const spaces = (await t.admin.get('/api/v2/device_spaces/mine').set(json)).body.results.map((s: { id: number }) => s.id);
    expect(spaces).toEqual(literal.body.results.map((s: { id: number }) => s.id));
    const seen: Array<Record<string, unknown>> = [];
    for (const space of spaces) {
      const criteria = await t.admin.get(`/api/v2/device_spaces/criteria?adminDeviceSpaceId=${space}`).set(json);
      expect(criteria.status).toBe(200);
      const names: string[] = criteria.body.results.map((f: { name: string }) => f.name);
      // The same catalogue as search_fields (read, not hard-coded), custom attributes included.
      const searchFields = (await t.admin.get('/api/v2/devices/search_fields?adminDeviceSpaceId=1')).body.results.map(
        (f: { name: string }) => f.name,
      );
      expect(names).toEqual(searchFields);
      expect(names).toContain('custom.device.costCenter');
      const fields = names.join(',');
      for (let offset = 0; ; offset += 50) {
        const page = await t.admin
          .get('/api/v2/devices')
          .query({ adminDeviceSpaceId: space, fields, labelId: -1, limit: 50, offset })
          .set(json);
        expect(page.status, page.text).toBe(200);
        seen.push(...page.body.results);
        if (!page.body.hasMore) break;
      }
    }
    expect(seen.map((d) => d['common.uuid']).sort()).toEqual([...registered].sort());
    expect(seen.find((d) => d['common.uuid'] === registered[0])!['custom.device.costCenter']).toBe('R&D');
  });
});

// GET /api/v2/labels/label_summary as three public Core clients call it, replayed call for call:
// - G sebastienle/mobile_iron_incomplete, Public/Get-MILabel.ps1
//   (@494ff55d82cf5ef136ef7db98abf95307d2370c0): ?adminDeviceSpaceId=<int>, returns .Results.
// - I the Siemplify / Chronicle SOAR MobileIronManager (repository not named by the index; read
//   as `read_file id=23219532830`): ?adminDeviceSpaceId=1&limit=200 (requests' params=), reads
//   results (default []), and get_label_id_by_name matches name case-insensitively and returns
//   the id when it is truthy.
// - L RIvannikov/fastlane-plugin-mobileiron (@e80778bacb9791daf9d87d37f329f905f8d4054f),
//   client/mobileiron_api_client.rb get_labels_summary and helper/labels_summary_response.rb:
//   ?adminDeviceSpaceId=1 and no limit, one call; maps id, name, description, isStatic,
//   criteria, deviceCount, deviceSpaceId, deviceSpaceName, deviceSpacePath, rowType and the
//   top-level totalCount, resultCount, hasMore; mobileiron_action.rb finds the label to apply
//   by name.strip, so every name must be a string.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const created: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  // More labels than a default page of 50, so a client that sends no limit still sees the last.
  for (let i = 0; i < 60; i++) {
    const name = `Ring ${String(i).padStart(2, '0')}`;
    expect((await t.admin.post('/api/v2/labels').send({ name, static: true })).status).toBe(201);
    created.push(name);
  }
  expect(
    (await t.admin.post('/api/v2/labels').send({ name: 'Beta Testers', static: false, criteria: 'common.platform = "iOS"' })).status,
  ).toBe(201);
  expect((await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPhone' })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('L: fastlane mobileiron plugin', () => {
  it('one call without limit answers every label, each with the fields the helper maps', async () => {
    const res = await t.admin.get('/api/v2/labels/label_summary').query({ adminDeviceSpaceId: '1' });
    expect(res.status).toBe(200);
    const total = 3 + 60 + 1; // system labels, ours, the filter label
    expect(res.body).toMatchObject({ totalCount: total, resultCount: total, hasMore: false });
    for (const label of res.body.results) {
      expect(typeof label.name).toBe('string');
      expect(label.name.trim()).not.toBe('');
      expect(Object.keys(label)).toEqual(
        expect.arrayContaining([
          'id',
          'name',
          'description',
          'isStatic',
          'criteria',
          'deviceCount',
          'deviceSpaceId',
          'deviceSpaceName',
          'deviceSpacePath',
          'rowType',
        ]),
      );
      expect(label).toMatchObject({ deviceSpaceId: 1, deviceSpaceName: 'Global', deviceSpacePath: '/Global' });
    }
    const last = res.body.results.find((l: { name: string }) => l.name.trim() === created[59]);
    expect(last).toMatchObject({ isStatic: true, criteria: null, deviceCount: 0, rowType: 'ADMIN' });
    expect(res.body.results.find((l: { name: string }) => l.name === 'All-Smartphones')).toMatchObject({
      rowType: 'SYSTEM',
      deviceCount: 1,
    });
    expect(res.body.results.find((l: { name: string }) => l.name === 'Beta Testers')).toMatchObject({
      isStatic: false,
      criteria: 'common.platform = "iOS"',
      deviceCount: 1,
      rowType: 'ADMIN',
    });
  });
});

describe('I: Siemplify MobileIronManager', () => {
  it('fetch_labels with limit=200, then get_label_id_by_name matches case-insensitively', async () => {
    const res = await t.admin.get('/api/v2/labels/label_summary').query({ adminDeviceSpaceId: 1, limit: 200 });
    expect(res.status).toBe(200);
    const results: Array<{ id: number; name: string }> = res.body.results ?? [];
    const wanted = 'beta TESTERS';
    const match = results.find((l) => (l.name ?? '').toLowerCase() === wanted.toLowerCase() && l.id);
    expect(match).toBeDefined();
    const byId = await t.admin.get(`/api/v2/labels/${match!.id}`);
    expect(byId.body.results.name).toBe('Beta Testers');
  });
});

describe('G: Get-MILabel', () => {
  it('?adminDeviceSpaceId=1 answers Results', async () => {
    const res = await t.admin.get('/api/v2/labels/label_summary?adminDeviceSpaceId=1');
    expect(res.status).toBe(200);
    expect(res.body.results.map((l: { name: string }) => l.name)).toEqual(expect.arrayContaining(['All-Smartphones', ...created]));
  });
});

describe('paging beyond what the clients send', () => {
  it('limit, offset, sortField and sortOrder page a sorted list without overlap', async () => {
    const first = await t.admin.get('/api/v2/labels/label_summary?limit=30&offset=0&sortField=name&sortOrder=desc');
    const second = await t.admin.get('/api/v2/labels/label_summary?limit=30&offset=30&sortField=name&sortOrder=desc');
    expect(first.body).toMatchObject({ resultCount: 30, hasMore: true });
    const names = [...first.body.results, ...second.body.results].map((l: { name: string }) => l.name);
    expect(new Set(names).size).toBe(60);
    expect(names).toEqual([...names].sort((a, b) => b.toLowerCase().localeCompare(a.toLowerCase())));
  });
});

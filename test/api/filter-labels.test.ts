// Filter labels and device search through the real API: membership follows device changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const uuids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' });
  const devices = {
    ipad931: { platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1', userId: 'jdoe', serialNumber: 'IPAD931' },
    ipad93: { platform: 'iOS', osVersion: '9.3', model: 'iPad4,2', serialNumber: 'IPAD93' },
    iphone: { platform: 'iOS', osVersion: '9.3.1', model: 'iPhone8,1', serialNumber: 'IPHONE' },
    ipad910: { platform: 'iOS', osVersion: '9.10', model: 'iPad5,3', serialNumber: 'IPAD910' },
    pixel: { platform: 'Android', osVersion: '14', model: 'Pixel 8', serialNumber: 'PIXEL', owner: 'EMPLOYEE' },
  };
  for (const [k, body] of Object.entries(devices)) {
    uuids[k] = (await t.admin.post('/api/v2/devices').send(body)).body.results['common.uuid'];
  }
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const serials = (res: { body: { results: Record<string, unknown>[] } }) => res.body.results.map((d) => d['common.SerialNumber']).sort();

describe('filter labels', () => {
  let labelId: number;
  const criteria = 'common.platform = "iOS" AND common.os_version = "9.3.1" AND common.model contains "iPad"';

  it('creates "iOS 9.3.1 iPads" with exactly the right devices', async () => {
    const res = await t.admin.post('/api/v2/labels').send({ name: 'iOS 9.3.1 iPads', static: false, criteria });
    expect(res.status).toBe(201);
    labelId = res.body.results.id;
    expect(res.body.results).toMatchObject({ isStatic: false, criteria, deviceCount: 1 });
    const members = await t.admin.get(`/api/v2/devices?labelId=${labelId}&fields=common.SerialNumber`);
    expect(serials(members)).toEqual(['IPAD931']);
    const summary = await t.admin.get('/api/v2/labels/label_summary');
    expect(summary.body.results.find((l: { id: number }) => l.id === labelId)).toMatchObject({ criteria, deviceCount: 1 });
  });

  it('follows device changes at once: edit, register, delete', async () => {
    await t.admin.put(`/api/v2/devices/${uuids.ipad93}/attributes`).send({ osVersion: '9.3.1' });
    expect(serials(await t.admin.get(`/api/v2/devices?labelId=${labelId}&fields=common.SerialNumber`))).toEqual(['IPAD93', 'IPAD931']);
    const n = await t.admin
      .post('/api/v2/devices')
      .send({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad Air', serialNumber: 'NEWPAD' });
    expect((await t.admin.get(`/api/v2/labels/${labelId}`)).body.results.deviceCount).toBe(3);
    await t.admin.delete(`/api/v2/devices/${n.body.results['common.uuid']}`);
    await t.admin.put(`/api/v2/devices/${uuids.ipad93}/attributes`).send({ osVersion: '9.3' });
    expect((await t.admin.get(`/api/v2/labels/${labelId}`)).body.results.deviceCount).toBe(1);
    const labels = await t.admin.get(`/api/v2/devices/${uuids.ipad931}/labels`);
    expect(labels.body.results.map((l: { name: string }) => l.name).sort()).toEqual(['All-Smartphones', 'iOS', 'iOS 9.3.1 iPads']);
  });

  it('follows criteria edits, and rejects invalid criteria at update', async () => {
    const res = await t.admin.put(`/api/v2/labels/${labelId}`).send({ criteria: 'common.os_version >= 9.3.1 AND common.platform = ios' });
    expect(res.body.results.deviceCount).toBe(3); // 9.3.1, 9.3.1 iPhone, 9.10
    const bad = await t.admin.put(`/api/v2/labels/${labelId}`).send({ criteria: 'common.os_version >= ' });
    expect(bad.status).toBe(400);
    expect((await t.admin.get(`/api/v2/labels/${labelId}`)).body.results.criteria).toBe(
      'common.os_version >= 9.3.1 AND common.platform = ios',
    );
  });

  it('matches custom device attributes set through the API', async () => {
    await t.admin.put(`/api/v2/devices/${uuids.pixel}/attributes`).send({ custom: { costCenter: 'R&D 42' } });
    const l = await t.admin
      .post('/api/v2/labels')
      .send({ name: 'rnd', static: false, criteria: 'custom.device.costCenter starts with "r&d"' });
    expect(l.body.results.deviceCount).toBe(1);
    await t.admin.put(`/api/v2/devices/${uuids.pixel}/attributes`).send({ custom: { costCenter: null } });
    expect((await t.admin.get(`/api/v2/labels/${l.body.results.id}`)).body.results.deviceCount).toBe(0);
  });

  it('follows changes to the owning user (user.* fields)', async () => {
    const l = await t.admin
      .post('/api/v2/labels')
      .send({ name: 'corp mail', static: false, criteria: 'user.email_address contains "@corp.test"' });
    expect(l.body.results.deviceCount).toBe(0);
    await t.admin.put('/api/v2/users/jdoe').send({ email: 'jane@corp.test' });
    expect((await t.admin.get(`/api/v2/labels/${l.body.results.id}`)).body.results.deviceCount).toBe(1);
    await t.admin.put('/api/v2/users/jdoe').send({ email: 'jdoe@example.com' });
    expect((await t.admin.get(`/api/v2/labels/${l.body.results.id}`)).body.results.deviceCount).toBe(0);
  });

  it('rejects criteria with a readable error: column and caret excerpt', async () => {
    const res = await t.admin.post('/api/v2/labels').send({ name: 'typo', static: false, criteria: 'common.os_verison = 9.3' });
    expect(res.status).toBe(400);
    const m = res.body.messages[0];
    expect(m.localizedMessage).toMatch(/did you mean common\.os_version/i);
    expect(m.column).toBe(1);
    expect(m.excerpt).toBe('common.os_verison = 9.3\n^');
    const unbalanced = await t.admin.post('/api/v2/labels').send({ name: 'paren', static: false, criteria: '(common.platform = iOS' });
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.body.messages[0].column).toBe(1);
  });

  it('previews criteria before saving', async () => {
    const res = await t.admin.post('/api/v2/labels/preview').send({ criteria: 'common.model starts with iPad', limit: 2 });
    expect(res.status).toBe(200);
    expect(res.body.results.totalCount).toBe(3);
    expect(res.body.results.devices).toHaveLength(2);
    const bad = await t.admin.post('/api/v2/labels/preview').send({ criteria: 'common.compliant < true' });
    expect(bad.status).toBe(400);
    expect(bad.body.messages[0].localizedMessage).toMatch(/operator/i);
  });
});

describe('device search', () => {
  it('searches with the same language, versions compared numerically', async () => {
    const res = await t.admin.get('/api/v2/devices').query({ query: 'common.os_version > 9.9', fields: 'common.SerialNumber' });
    expect(res.status).toBe(200);
    expect(serials(res)).toEqual(['IPAD910', 'PIXEL']);
    const eq = await t.admin.get('/api/v2/devices').query({ query: 'common.os_version = 9.3.0', fields: 'common.SerialNumber' });
    expect(serials(eq)).toEqual(['IPAD93']);
  });

  it('counts and combines query= with labelId=', async () => {
    const ios = (await t.admin.get('/api/v2/labels/label_summary')).body.results.find((l: { name: string }) => l.name === 'iOS').id;
    const count = await t.admin.get('/api/v2/devices/count').query({ query: 'common.model contains ipad', labelId: ios });
    expect(count.body.results.totalCount).toBe(3);
    const none = await t.admin.get('/api/v2/devices/count').query({ query: 'NOT common.platform = iOS', labelId: ios });
    expect(none.body.results.totalCount).toBe(0);
    const users = await t.admin
      .get('/api/v2/devices')
      .query({ query: '"user.email_address" = "JDOE@example.com"', fields: 'common.SerialNumber' });
    expect(serials(users)).toEqual(['IPAD931']);
  });

  it('limits query= to 255 characters as Core does', async () => {
    const q = 'common.model = ' + '"' + 'x'.repeat(300) + '"';
    const res = await t.admin.get('/api/v2/devices').query({ query: q });
    expect(res.status).toBe(400);
  });

  it('lists search fields with their types', async () => {
    const res = await t.admin.get('/api/v2/devices/search_fields');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.results.map((f: { name: string; type: string }) => [f.name, f.type]));
    expect(byName).toMatchObject({
      'common.os_version': 'version',
      'common.platform': 'enum',
      'common.compliant': 'boolean',
      'ios.iPhone UDID': 'string',
      'common.registration_date': 'date',
    });
  });
});

// Device search over the field catalogue: version fields sort as versions in the database (pages
// stay consistent), user fields sort, any sortable field is accepted and others are refused naming
// the sortable ones, and hostile fields=/sortField=/attribute input answers 400 in the one envelope.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
// The list, shuffled, and a few more
const versions = ['9.10', '17.0.3', '9.3.1', '9.9', '10.0', '9.3', '16.7.10', '16.7.9'];
const sorted = ['9.3', '9.3.1', '9.9', '9.10', '10.0', '16.7.9', '16.7.10', '17.0.3'];

beforeAll(async () => {
  t = await startTestApp();
  for (const [i, osVersion] of versions.entries()) {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion, serialNumber: `SORT${i}` });
    expect(created.status).toBe(201);
  }
  expect((await t.admin.post('/api/v2/devices').send({ platform: 'Android', serialNumber: 'SORTNOVERSION' })).status).toBe(201);
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const osVersions = (body: { results: Array<Record<string, unknown>> }) => body.results.map((d) => d['common.os_version']);

describe('sortField=common.os_version', () => {
  it('sorts as versions in the database, page after page', async () => {
    const seen: unknown[] = [];
    for (let offset = 0; offset < 9; offset += 3) {
      const res = await t.admin
        .get('/api/v2/devices')
        .query({ sortField: 'common.os_version', sortOrder: 'ASC', limit: 3, offset, fields: 'common.os_version' });
      expect(res.status).toBe(200);
      seen.push(...osVersions(res.body));
    }
    expect(seen.filter((v) => v !== null)).toEqual(sorted);
    expect(seen).toHaveLength(9);
  });

  it('sorts the same way when criteria select the devices (in memory), and DESC reverses', async () => {
    const asc = await t.admin
      .get('/api/v2/devices')
      .query({ query: 'common.platform = "iOS"', sortField: 'common.os_version', fields: 'common.os_version' });
    expect(osVersions(asc.body)).toEqual(sorted);
    const desc = await t.admin
      .get('/api/v2/devices')
      .query({ query: 'common.platform = "iOS"', sortField: 'ios.iPhone VERSION', sortOrder: 'DESC', fields: 'common.os_version' });
    expect(osVersions(desc.body)).toEqual([...sorted].reverse());
  });

  it('keeps the order after a device reports a new version', async () => {
    const [device] = (await t.admin.get('/api/v2/devices').query({ query: 'common.os_version = 9.3', fields: 'common.uuid' })).body.results;
    expect((await t.admin.put(`/api/v2/devices/${device['common.uuid']}/attributes`).send({ osVersion: '16.10' })).status).toBe(200);
    const res = await t.admin.get('/api/v2/devices').query({ sortField: 'common.os_version', fields: 'common.os_version', limit: 20 });
    expect(osVersions(res.body).filter((v) => v !== null)).toEqual([
      '9.3.1',
      '9.9',
      '9.10',
      '10.0',
      '16.7.9',
      '16.7.10',
      '16.10',
      '17.0.3',
    ]);
    expect((await t.admin.put(`/api/v2/devices/${device['common.uuid']}/attributes`).send({ osVersion: '9.3' })).status).toBe(200);
  });
});

describe('other sort fields', () => {
  it('every sortable field search_fields lists is accepted', async () => {
    const fields = (await t.admin.get('/api/v2/devices/search_fields')).body.results as Array<{ name: string; sortable: boolean }>;
    const sortable = fields.filter((f) => f.sortable).map((f) => f.name);
    expect(sortable).toEqual(
      expect.arrayContaining(['common.id', 'common.os_version', 'common.ip_address', 'user.display_name', 'common.registration_date']),
    );
    for (const sortField of sortable) {
      const res = await t.admin.get('/api/v2/devices').query({ sortField, limit: 2, fields: 'common.uuid' });
      expect(res.status, sortField).toBe(200);
    }
  });

  it('a field without a column is refused, naming the sortable ones', async () => {
    const res = await t.admin.get('/api/v2/devices').query({ sortField: 'common.battery_level' });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].localizedMessage).toContain('common.os_version');
    expect(res.body.messages[0].localizedMessage).toContain('user.display_name');
  });
});

describe('hostile input', () => {
  it.each([
    ['more than 512 field names', { fields: Array.from({ length: 513 }, (_, i) => `custom.device.f${i}`).join(',') }],
    ['a field name over 320 characters', { fields: `common.uuid,${'x'.repeat(321)}` }],
    ['a fields= value over 12,000 characters', { fields: 'common.uuid,'.repeat(1010) }],
    ['a query over 255 characters', { query: `"${'a'.repeat(300)}"` }],
    ['only unknown names', { fields: 'nonsense,more.nonsense' }],
    ['__proto__ beside known names', { fields: 'common.uuid,__proto__' }],
    ['an unknown bare word with an operator', { query: 'nonsense = 1' }],
  ])('%s: 400 in the envelope', async (_, query) => {
    const res = await t.admin.get('/api/v2/devices').query(query);
    expect(res.status).toBe(400);
    expect(res.body.messages[0]).toMatchObject({ type: 'Error', messageKey: expect.any(String), localizedMessage: expect.any(String) });
  });

  it('a list of only unknown names is refused with the closest catalogue name', async () => {
    const res = await t.admin.get('/api/v2/devices').query({ fields: ' common.platfrom \n' });
    expect(res.status).toBe(400);
    expect(res.body.messages[0]).toMatchObject({
      field: 'fields',
      localizedMessage: expect.stringContaining('"common.platfrom"; did you mean common.platform?'),
    });
  });

  it.each([
    ['wifiMac', 'not a mac'],
    ['ipAddress', '10.0.0.1; DROP TABLE'],
    ['phoneNumber', 'x'.repeat(40)],
  ])('PUT attributes with a bad %s: 400 naming it', async (field, value) => {
    const [device] = (await t.admin.get('/api/v2/devices').query({ limit: 1, fields: 'common.uuid' })).body.results;
    const res = await t.admin.put(`/api/v2/devices/${device['common.uuid']}/attributes`).send({ [field]: value });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].localizedMessage).toContain(field);
  });

  it('fields= answers under the names asked for, never reaching Object.prototype', async () => {
    const res = await t.admin.get('/api/v2/devices').query({ limit: 1, fields: 'common.uuid,toString,hasOwnProperty' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.results[0])).toEqual(['common.uuid']);
    expect(res.body.messages.map((m: { field: string }) => m.field)).toEqual(['toString', 'hasOwnProperty']);
  });
});

describe('a database from before the sort key column', () => {
  it('fills the missing keys the first time a version sort asks', async () => {
    const other = await startTestApp();
    try {
      for (const osVersion of ['9.10', '9.9'])
        expect((await other.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion })).status).toBe(201);
      // as the migration leaves rows written before the column existed
      await other.services.db.$executeRawUnsafe('UPDATE "Device" SET "osVersionKey" = NULL');
      const res = await other.admin.get('/api/v2/devices').query({ sortField: 'common.os_version', fields: 'common.os_version' });
      expect(osVersions(res.body)).toEqual(['9.9', '9.10']);
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  });
});

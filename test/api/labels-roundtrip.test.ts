// Labels round-trip: what GET answers can be PUT back unchanged (200, nothing written: not the
// row, not its updatedAt, no audit entry), read-only fields may come back but not change (400
// naming the field), Core's names for a label's kind are accepted on input, and hostile input
// to the label and device-space endpoints is refused with a 4xx envelope, leaving everything as
// it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestApp();
  ids.manual = (await t.admin.post('/api/v2/labels').send({ name: 'Round Trip', description: 'manual', static: true })).body.results.id;
  ids.filter = (
    await t.admin.post('/api/v2/labels').send({ name: 'Round iOS', isStatic: false, criteria: 'common.platform = "iOS"' })
  ).body.results.id;
  const summary = (await t.admin.get('/api/v2/labels/label_summary')).body.results;
  ids.system = summary.find((l: { name: string }) => l.name === 'All-Smartphones').id;
  expect((await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPhone' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** Every stored label (with updatedAt) and every audit entry: what "nothing changed" means. */
async function stored() {
  const db = t.services.db;
  return JSON.stringify([await db.label.findMany({ orderBy: { id: 'asc' } }), await db.auditEvent.count()]);
}

const get = async (id: number) => (await t.admin.get(`/api/v2/labels/${id}`)).body.results;

describe('GET → PUT back', () => {
  it.each(['manual', 'filter', 'system'])('a %s label sent back as GET answered it: 200, the same label, nothing written', async (kind) => {
    const label = await get(ids[kind]!);
    const before = await stored();
    const res = await t.admin.put(`/api/v2/labels/${label.id}`).send(label);
    expect(res.status, res.text).toBe(200);
    expect(res.body.results).toEqual(label);
    expect(await stored()).toBe(before);
  });

  it('label_summary entries go back too (their deviceCount is ignored, even when it moved)', async () => {
    const entry = (await t.admin.get('/api/v2/labels/label_summary')).body.results.find((l: { id: number }) => l.id === ids.filter);
    expect(entry.deviceCount).toBe(1);
    expect((await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPad' })).status).toBe(201);
    const res = await t.admin.put(`/api/v2/labels/${ids.filter}`).send(entry);
    expect(res.status).toBe(200);
    expect(res.body.results.deviceCount).toBe(2);
  });

  it('a GET with one writable field changed: that change, and only it, is written', async () => {
    const label = await get(ids.manual!);
    const res = await t.admin.put(`/api/v2/labels/${ids.manual}`).send({ ...label, description: 'changed by round trip' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ ...label, description: 'changed by round trip' });
    const audit = await t.admin.get('/api/v2/audit').query({ objectType: 'label', objectId: String(ids.manual), action: 'update' });
    expect(audit.body.results).toHaveLength(1);
    expect(audit.body.results[0].details).toEqual({ description: 'changed by round trip' });
  });

  it('a system label: unchanged is fine, a change is refused (409)', async () => {
    const label = await get(ids.system!);
    const res = await t.admin.put(`/api/v2/labels/${ids.system}`).send({ ...label, description: 'mine now' });
    expect(res.status).toBe(409);
  });

  it.each<[string, Record<string, unknown>]>([
    ['id', { id: 999 }],
    ['id', { id: 'abc' }],
    ['rowType', { rowType: 'SYSTEM' }],
    ['isSystem', { isSystem: true }],
    ['deviceSpaceId', { deviceSpaceId: 2 }],
    ['deviceSpaceName', { deviceSpaceName: 'Boston Help Desk' }],
    ['deviceSpacePath', { deviceSpacePath: '/Global/Boston' }],
    ['isStatic', { isStatic: false }],
    ['staticLabel', { staticLabel: false }],
    ['static', { static: false, isStatic: undefined, staticLabel: undefined }],
  ])('a changed read-only field is refused, naming it: %s', async (field, change) => {
    const label = await get(ids.manual!);
    const before = await stored();
    const res = await t.admin.put(`/api/v2/labels/${ids.manual}`).send({ ...label, name: 'Renamed Too', ...change });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].field).toBe(field);
    expect(await stored()).toBe(before);
  });
});

describe("Core's names on input", () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['static', { static: true }, true],
    ['isStatic', { isStatic: false, criteria: 'common.platform = "Android"' }, false],
    ['staticLabel', { staticLabel: true, deviceSpaceId: 1 }, true],
    ['criteria alone', { criteria: 'common.platform = "Android"' }, false],
    ['nothing', {}, true],
  ])('create with %s', async (what, body, isStatic) => {
    const res = await t.admin.post('/api/v2/labels/').send({ name: `kind ${what}`, ...body });
    expect(res.status, res.text).toBe(201);
    expect(res.body.results).toMatchObject({ isStatic, staticLabel: isStatic, rowType: 'ADMIN', deviceSpaceId: 1 });
  });

  it('kinds that disagree are refused', async () => {
    const res = await t.admin.post('/api/v2/labels').send({ name: 'confused', static: true, isStatic: false });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].field).toBe('isStatic');
  });
});

describe('hostile input', () => {
  const long = (n: number) => 'x'.repeat(n);
  const many = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const cases: Array<[string, 'get' | 'post' | 'put' | 'delete', string, unknown?]> = [
    ['name too long', 'post', '/api/v2/labels', { name: long(65), static: true }],
    ['name with a control character', 'post', '/api/v2/labels', { name: 'a\u0007b', static: true }],
    ['name with a slash', 'post', '/api/v2/labels', { name: 'a/b', static: true }],
    ['description too long', 'post', '/api/v2/labels', { name: 'd', description: long(1025) }],
    ['criteria too long', 'post', '/api/v2/labels', { name: 'c', criteria: long(2001) }],
    ['criteria that do not parse', 'post', '/api/v2/labels', { name: 'c', criteria: 'common.platform = (' }],
    ['another space', 'post', '/api/v2/labels', { name: 's', deviceSpaceId: 2 }],
    ['a space that is not a number', 'post', '/api/v2/labels', { name: 's', deviceSpaceId: '1; drop' }],
    ['an unknown field', 'post', '/api/v2/labels', { name: 'u', colour: 'red' }],
    ['a kind that is not a boolean', 'post', '/api/v2/labels', { name: 'k', static: 'yes' }],
    ['rowType too long', 'put', '/api/v2/labels/{manual}', { rowType: long(17) }],
    ['space name too long', 'put', '/api/v2/labels/{manual}', { deviceSpaceName: long(129) }],
    ['a negative deviceCount', 'put', '/api/v2/labels/{manual}', { deviceCount: -1 }],
    ['criteria on a manual label', 'put', '/api/v2/labels/{manual}', { criteria: 'common.platform = "iOS"' }],
    ['no label ids', 'delete', '/api/v2/labels/', { labelIds: [], reason: 'r' }],
    ['501 label ids', 'delete', '/api/v2/labels/', { labelIds: Array.from({ length: 501 }, (_, i) => i + 1) }],
    ['a label id that is not one', 'delete', '/api/v2/labels/', { labelIds: ['1 OR 1=1'] }],
    ['a delete in another space', 'delete', '/api/v2/labels/', { labelIds: [1], deviceSpaceId: 7 }],
    ['a reason too long', 'delete', '/api/v2/labels/', { labelIds: [1], reason: long(1025) }],
    ['limit above 200', 'get', '/api/v2/labels/label_summary?limit=201'],
    ['a negative limit', 'get', '/api/v2/labels/label_summary?limit=-1'],
    ['an offset too far', 'get', '/api/v2/labels/label_summary?offset=10000001'],
    ['an unknown sort field', 'get', '/api/v2/labels/label_summary?sortField=__proto__'],
    ['an unknown sort order', 'get', '/api/v2/labels/label_summary?sortOrder=sideways'],
    ['an unknown admin space', 'get', '/api/v2/labels/label_summary?adminDeviceSpaceId=2'],
    ['a label name too long', 'put', `/api/v2/devices/labels/${long(65)}/add`, { deviceUuids: many(1) }],
    ['1,001 devices', 'put', '/api/v2/devices/labels/Round%20Trip/add', { deviceUuids: many(1001) }],
    ['a device id that is not one', 'put', '/api/v2/devices/labels/Round%20Trip/add', { deviceUuids: ['../../etc'] }],
    ['no devices', 'put', '/api/v2/devices/labels/Round%20Trip/remove', { deviceUuids: [] }],
    ['a filter label applied by hand', 'put', '/api/v2/devices/labels/Round%20iOS/add', { deviceUuids: many(1) }],
    ['a label that does not exist', 'put', '/api/v2/devices/labels/No%20Such/add', { deviceUuids: many(1) }],
    ['an encoded slash in a label name', 'put', '/api/v2/devices/labels/a%2Fb/add', { deviceUuids: many(1) }],
    ['a NUL in a label name', 'put', '/api/v2/devices/labels/a%00b/add', { deviceUuids: many(1) }],
    ['a space count that is not a boolean', 'get', '/api/v2/device_spaces?excludeDeviceCount=maybe'],
    ['a space limit above 10,000', 'get', '/api/v2/device_spaces?limit=10001'],
    ['criteria of another space', 'get', '/api/v2/device_spaces/criteria?adminDeviceSpaceId=2'],
    ['criteria of a space that is not a number', 'get', '/api/v2/device_spaces/criteria?adminDeviceSpaceId=global'],
  ];

  it.each(cases)('%s: a 4xx envelope, nothing changed', async (_what, method, rawPath, body) => {
    const path = rawPath.replace('{manual}', String(ids.manual));
    const before = await stored();
    let req = t.admin[method](path);
    if (body !== undefined) req = req.send(body as object);
    const res = await req;
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    expect(res.body.messages[0]).toMatchObject({ type: 'Error', messageKey: expect.any(String) });
    expect(await stored()).toBe(before);
  });

  it('an unknown admin space is a 400 that names adminDeviceSpaceId', async () => {
    const res = await t.admin.get('/api/v2/device_spaces/criteria?adminDeviceSpaceId=2');
    expect(res.status).toBe(400);
    expect(res.body.messages[0].field).toBe('adminDeviceSpaceId');
  });

  it('spaces and label writes need credentials; label writes need the admin role', async () => {
    expect((await t.anon.get('/api/v2/device_spaces/mine')).status).toBe(401);
    expect((await t.anon.get('/api/v2/device_spaces/criteria')).status).toBe(401);
    expect((await t.admin.post('/api/v2/admins').send({ username: 'rt-viewer', password: 'rt-viewer-pw-1', role: 'viewer' })).status).toBe(
      201,
    );
    const viewer = t.as('rt-viewer', 'rt-viewer-pw-1');
    const label = await get(ids.manual!);
    expect((await viewer.put(`/api/v2/labels/${ids.manual}`).send(label)).status).toBe(403);
    expect((await viewer.put('/api/v2/devices/labels/Round%20Trip/add').send({ deviceUuids: many(1) })).status).toBe(403);
  });
});

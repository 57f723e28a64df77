// The audit list's filters (action, actor, objectType, objectId, since/until), checked against
// the rows in the database, and its refusal of unknown parameters and bad values: a filter a
// client misspells must fail loudly, never widen the answer to the whole log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../../src/platform/db/client.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const second = { username: 'auditor-two', password: 'second-admin-password-1' };
let deviceUuid: string;

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  objectType: string;
  objectId: string | null;
  details: Record<string, unknown>;
}

async function audit(query: Record<string, string | number>): Promise<{ totalCount: number; hasMore: boolean; results: AuditRow[] }> {
  const res = await t.admin.get('/api/v2/audit').query({ limit: 200, ...query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/admins').send({ ...second, role: 'admin' })).status).toBeLessThan(300);
  const other = t.as(second.username, second.password);
  expect((await t.admin.post('/api/v2/users').send({ userId: 'first-user' })).status).toBe(201);
  expect((await other.post('/api/v2/users').send({ userId: 'second-user' })).status).toBe(201);
  expect((await other.put('/api/v2/users/second-user').send({ email: 'second@example.com' })).status).toBe(200);
  expect((await other.post('/api/v2/labels').send({ name: 'audited label', static: true })).status).toBe(201);
  const device = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'AUDITFILTER1' });
  expect(device.status).toBe(201);
  deviceUuid = device.body.results['common.uuid'];
  expect((await other.put('/api/v2/devices/retire').send({ deviceUuids: [deviceUuid], note: 'audit filter test' })).status).toBe(200);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('filters', () => {
  it('action: only entries of that action, counted like the database counts them', async () => {
    const list = await audit({ action: 'create' });
    const expected = await t.services.db.auditEvent.count({ where: { action: 'create' } });
    expect(expected).toBeGreaterThanOrEqual(4);
    expect(list.totalCount).toBe(expected);
    expect(list.results.length).toBe(expected);
    expect(list.results.every((r) => r.action === 'create')).toBe(true);
    // the filter is exact: no prefix or case-insensitive match
    expect((await audit({ action: 'creat' })).totalCount).toBe(0);
    expect((await audit({ action: 'CREATE' })).totalCount).toBe(0);
  });

  it('actor: only what that admin did', async () => {
    const list = await audit({ actor: second.username, sortOrder: 'ASC' });
    expect(list.results.map((r) => [r.action, r.objectType, r.objectId])).toEqual([
      ['create', 'user', 'second-user'],
      ['update', 'user', 'second-user'],
      ['create', 'label', expect.any(String)],
      ['device.retire', 'device', deviceUuid],
    ]);
    expect(list.totalCount).toBe(await t.services.db.auditEvent.count({ where: { actor: second.username } }));
  });

  it('objectType and objectId: the history of one object', async () => {
    const list = await audit({ objectType: 'user', objectId: 'second-user', sortOrder: 'ASC' });
    expect(list.results.map((r) => r.action)).toEqual(['create', 'update']);
    const device = await audit({ objectType: 'device', objectId: deviceUuid, sortOrder: 'ASC' });
    expect(device.results.map((r) => r.action)).toEqual(['create', 'device.retire']);
    expect(device.results[1]!.details).toMatchObject({ outcome: 'SUCCESS', note: 'audit filter test' });
  });

  it('filters combine (all must hold), and paging counts the filtered rows', async () => {
    const both = await audit({ action: 'create', actor: second.username });
    expect(both.results.map((r) => r.objectType).sort()).toEqual(['label', 'user']);
    const firstPage = await audit({ action: 'create', limit: 2, offset: 0 });
    const total = await t.services.db.auditEvent.count({ where: { action: 'create' } });
    expect(firstPage).toMatchObject({ totalCount: total, hasMore: total > 2 });
    expect(firstPage.results.length).toBe(2);
    const lastPage = await audit({ action: 'create', limit: 2, offset: total - 1 });
    expect(lastPage).toMatchObject({ totalCount: total, hasMore: false });
    expect(lastPage.results.length).toBe(1);
  });

  it('since is inclusive and until exclusive, so consecutive windows neither overlap nor leave gaps', async () => {
    const all = (await audit({ sortOrder: 'ASC' })).results;
    expect(all.length).toBeGreaterThanOrEqual(6);
    const pivot = all[Math.floor(all.length / 2)]!;
    const before = await audit({ until: pivot.at, sortOrder: 'ASC' });
    const after = await audit({ since: pivot.at, sortOrder: 'ASC' });
    expect(before.results.every((r) => r.at < pivot.at)).toBe(true);
    expect(after.results.every((r) => r.at >= pivot.at)).toBe(true);
    expect(after.results.map((r) => r.id)).toContain(pivot.id);
    expect([...before.results, ...after.results].map((r) => r.id)).toEqual(all.map((r) => r.id));
    // a one-millisecond window around the pivot holds it (and anything else in that millisecond)
    const oneMs = await audit({ since: pivot.at, until: new Date(Date.parse(pivot.at) + 1).toISOString() });
    expect(oneMs.results.map((r) => r.id)).toContain(pivot.id);
    expect(oneMs.results.every((r) => r.at === pivot.at)).toBe(true);
    // offsets other than Z name the same instant
    const shifted = new Date(Date.parse(pivot.at) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect((await audit({ since: shifted, sortOrder: 'ASC' })).results.map((r) => r.id)).toEqual(after.results.map((r) => r.id));
  });

  it('a future window is empty, not an error', async () => {
    expect(await audit({ since: '2999-01-01T00:00:00Z' })).toMatchObject({ totalCount: 0, results: [] });
  });
});

describe('refusals: 400 naming the field, never ignored', () => {
  const cases: Array<[string, string, string]> = [
    ['a misspelt filter', 'acton=create', 'acton'],
    ['a filter from another list', 'objectTyp=device', 'objectTyp'],
    ['a prototype name', '__proto__=1', '__proto__'],
    ['another prototype name', 'constructor=x', 'constructor'],
    ['bracket syntax', 'action[0]=create', 'action[0]'],
    ['a repeated filter', 'action=create&action=update', 'action'],
    ['an action with spaces', 'action=device%20wipe', 'action'],
    ['an empty action', 'action=', 'action'],
    ['an overlong action', `action=${'a'.repeat(65)}`, 'action'],
    ['an actor with a control character', 'actor=ad%0Amin', 'actor'],
    ['an overlong objectType', `objectType=${'x'.repeat(65)}`, 'objectType'],
    ['an empty objectId', 'objectId=', 'objectId'],
    ['an objectId with a control character', 'objectId=a%00b', 'objectId'],
    ['an overlong objectId', `objectId=${'9'.repeat(257)}`, 'objectId'],
    ['since that is not a date', 'since=yesterday', 'since'],
    ['since without a time zone', 'since=2026-01-01T00:00:00', 'since'],
    ['since as a date only', 'since=2026-01-01', 'since'],
    ['since as epoch seconds', 'since=1767225600', 'since'],
    ['an impossible date', 'until=2026-02-30T00:00:00Z', 'until'],
    ['until before since', 'since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['an empty window', 'since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['an unsortable field', 'sortField=actor', 'sortField'],
    ['a bad sort order', 'sortOrder=sideways', 'sortOrder'],
  ];
  it.each(cases)('%s', async (_what, query, field) => {
    const before = await t.services.db.auditEvent.count();
    const res = await t.admin.get(`/api/v2/audit?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      messages: [
        {
          type: 'Error',
          messageKey: 'com.mobileiron.vsp.messages.validation',
          localizedMessage: expect.stringContaining(`${field}: `),
          field,
        },
      ],
    });
    expect(await t.services.db.auditEvent.count()).toBe(before);
  });

  it('the name of an unknown parameter is echoed bounded', async () => {
    const res = await t.admin.get(`/api/v2/audit?${'k'.repeat(5000)}=1`);
    expect(res.status).toBe(400);
    expect(res.body.messages[0].field).toBe('k'.repeat(64));
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
  });

  it('viewers still may not read the log, whatever they ask', async () => {
    expect(
      (await t.admin.post('/api/v2/admins').send({ username: 'audit-viewer', password: 'viewer-password-123', role: 'viewer' })).status,
    ).toBeLessThan(300);
    expect((await t.as('audit-viewer', 'viewer-password-123').get('/api/v2/audit?action=create')).status).toBe(403);
  });
});

describe('cost', () => {
  it('filters a large log in bounded time', async () => {
    // One SQL statement writes the rows (in the ISO text Prisma stores), one a second from `at`;
    // every 1000th is a rare action, actors and ids cycle.
    const rows = 50_000;
    const at = Date.parse('2020-06-01T00:00:00Z');
    await t.services.db.$executeRawUnsafe(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${rows})
      INSERT INTO AuditEvent (at, actor, action, objectType, objectId, details)
      SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ${at / 1000} + i, 'unixepoch'), 'bulk-' || (i % 50),
             CASE WHEN i % 1000 = 0 THEN 'rare.action' ELSE 'update' END, 'device', 'bulk-' || i, '{}'
      FROM n`);
    expect(await t.services.db.auditEvent.count({ where: { actor: { startsWith: 'bulk-' } } })).toBe(rows);
    expect((await audit({ actor: 'bulk-0', sortOrder: 'ASC', limit: 1 })).results[0]!.at).toBe('2020-06-01T00:00:00.000Z');
    const windowStart = new Date(at + 10_000_000);
    const windowEnd = new Date(at + 10_060_000);
    const cases: Array<[string, Record<string, string | number>, Prisma.AuditEventWhereInput]> = [
      ['rareAction', { action: 'rare.action' }, { action: 'rare.action' }],
      ['actor', { actor: 'bulk-7' }, { actor: 'bulk-7' }],
      ['objectId', { objectId: 'bulk-49999' }, { objectId: 'bulk-49999' }],
      ['window', { since: windowStart.toISOString(), until: windowEnd.toISOString() }, { at: { gte: windowStart, lt: windowEnd } }],
      ['deepPage', { action: 'update', offset: 40_000 }, { action: 'update' }],
    ];
    const timings: Record<string, number> = {};
    for (const [name, query, where] of cases) {
      const start = performance.now();
      const list = await audit(query);
      timings[name] = Math.round(performance.now() - start);
      expect(list.totalCount, name).toBe(await t.services.db.auditEvent.count({ where }));
    }
    console.log('audit filter timings over 50k rows (ms):', timings);
    for (const ms of Object.values(timings)) expect(ms).toBeLessThan(1000);
  });
});

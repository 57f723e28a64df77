// The device directory (src/devices/directory.ts) over a real SQLite database: its facts equal
// those built from the store's rows; a device's change reaches each filter label's member set by
// re-evaluating that device alone; listing sorts by typed values exactly as SQLite's ORDER BY
// orders the same columns (the reference here: better-sqlite3 on the same file, ORDER BY column
// then id, as the listing did in SQL before — nulls lowest, text by UTF-8 bytes); pages are
// stable; and writes from every path (HTTP edits, label changes, retire, delete, a user's edit,
// MDM's store operations, a transaction still open, raw SQL) show in the next read.
// Core's paging and sorting parameters (sortField, sortOrder ASC|DESC, limit, offset):
// /work/shared/design/mobileiron-core-api.md, "Paging (v2)"; clients such as the Axonius adapter
// page with them (test/compat/axonius-devices.test.ts).
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceDirectory } from '../../src/devices/directory.js';
import { ChangeCounter } from '../../src/platform/db/changes.js';
import { deviceFacts, deviceStore } from '../../src/devices/index.js';
import type { DeviceFacts } from '../../src/lib/criteria/index.js';
import { sortColumns, summaryOf } from '../../src/devices/fields.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let dbFile: string;
const uuids: string[] = [];

const models = ['iPad Pro', 'iPhone 15', null, 'iPad Pro', 'Pixel 8', 'iPhone 15', '\u{1F4F1} phone', '\uFF21 wide', 'ipad mini', 'Z'];
const versions = ['9.3', '10.0', '9.10', null, '17.0.3', '9.3.1', '16.7.10', '16.7.9', '9.3', '10.0'];

beforeAll(async () => {
  t = await startTestApp();
  const [main] = await t.services.db.$queryRawUnsafe<Array<{ file: string }>>('PRAGMA database_list');
  dbFile = main!.file;
  for (const userId of ['ann', 'bob'])
    expect(
      (await t.admin.post('/api/v2/users').send({ userId, displayName: `${userId} display`, email: `${userId}@example.com` })).status,
    ).toBe(201);
  for (let i = 0; i < models.length; i++) {
    const res = await t.admin.post('/api/v2/devices').send({
      platform: i % 4 === 3 ? 'Android' : 'iOS',
      model: models[i],
      osVersion: versions[i],
      serialNumber: `DIR${i}`,
      owner: i % 3 === 0 ? 'EMPLOYEE' : 'COMPANY',
      ...(i % 3 === 1 ? { userId: i % 2 ? 'ann' : 'bob' } : {}),
    });
    expect(res.status).toBe(201);
    uuids.push(res.body.results['common.uuid']);
  }
  // facts that only MDM fills: reported answers, last contact, enrollment
  const first = (await deviceStore.findByUuid(t.services.db, uuids[0]!))!;
  await deviceStore.recordInformation(t.services.db, first.id, {
    reported: { DeviceInformation: { IsSupervised: true, BatteryLevel: 0.5 } },
  });
  await deviceStore.recordSeen(t.services.db, first.id, new Date('2026-03-01T10:00:00Z'));
  const second = (await deviceStore.findByUuid(t.services.db, uuids[1]!))!;
  await deviceStore.recordSeen(t.services.db, second.id, new Date('2025-03-01T10:00:00Z'));
  expect((await t.admin.put(`/api/v2/devices/${uuids[2]}/attributes`).send({ custom: { site: 'Paris' }, compliant: false })).status).toBe(
    200,
  );
}, 60_000);

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const directory = () => t.services.labels.directory;

async function list(query: Record<string, string | number>) {
  const res = await t.admin.get('/api/v2/devices').query(query);
  expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
  return res.body as { totalCount: number; results: Array<Record<string, unknown>> };
}

describe('loading', () => {
  it('holds, for every device, the facts built from the row the store returns', async () => {
    const entries = await directory().all();
    const rows = await Promise.all(uuids.map((uuid) => deviceStore.findByUuid(t.services.db, uuid)));
    expect(entries.map((e) => e.facts.id)).toEqual(rows.map((r) => r!.id));
    for (const [i, entry] of entries.entries()) expect(entry.facts).toEqual(deviceFacts(rows[i]!));
    expect(entries[0]!.facts.info).toMatchObject({ IsSupervised: true, BatteryLevel: 0.5 });
    expect(entries[2]!.facts.custom).toEqual({ site: 'Paris' });
    expect(entries.find((e) => e.facts.userId === 'ann')?.facts.displayName).toBe('ann display');
  });

  it('loads once: later writes are applied device by device', async () => {
    const loads = directory().loads;
    expect((await t.admin.put(`/api/v2/devices/${uuids[4]}/attributes`).send({ deviceName: 'renamed' })).status).toBe(200);
    expect((await list({ query: 'ios.DeviceName = "renamed"', fields: 'common.uuid' })).results).toEqual([{ 'common.uuid': uuids[4] }]);
    expect(directory().loads).toBe(loads);
  });
});

describe('filter-label membership', () => {
  it("re-evaluates only the changed device against a label's criteria", async () => {
    let evaluations = 0;
    const ipads = (f: DeviceFacts) => {
      evaluations++;
      return f.model?.toLowerCase().includes('ipad') ?? false;
    };
    const before = new Set((await directory().matching('test:ipads', ipads)).members);
    expect(evaluations).toBe(models.length);
    const target = (await deviceStore.findByUuid(t.services.db, uuids[1]!))!;
    expect(before.has(target.id)).toBe(false);
    evaluations = 0;
    expect((await t.admin.put(`/api/v2/devices/${uuids[1]}/attributes`).send({ model: 'iPad Air' })).status).toBe(200);
    const after = (await directory().matching('test:ipads', ipads)).members;
    expect(evaluations).toBe(1);
    expect([...after].sort()).toEqual([...before, target.id].sort());
    // and back out
    expect((await t.admin.put(`/api/v2/devices/${uuids[1]}/attributes`).send({ model: 'iPhone 15' })).status).toBe(200);
    expect([...(await directory().matching('test:ipads', ipads)).members].sort()).toEqual([...before].sort());
  });

  it('moves a device between two filter labels through the API, the other members unchanged', async () => {
    const create = async (name: string, criteria: string) =>
      (await t.admin.post('/api/v2/labels').send({ name, static: false, criteria })).body.results.id as number;
    const company = await create('dir company', 'common.owner = "COMPANY"');
    const employee = await create('dir employee', 'common.owner = "EMPLOYEE"');
    const members = async (labelId: number) =>
      (await list({ labelId, fields: 'common.uuid', limit: 100 })).results.map((d) => d['common.uuid'] as string).sort();
    const [companyBefore, employeeBefore] = [await members(company), await members(employee)];
    expect(companyBefore).toContain(uuids[5]);
    expect((await t.admin.put(`/api/v2/devices/${uuids[5]}/attributes`).send({ owner: 'EMPLOYEE' })).status).toBe(200);
    expect(await members(company)).toEqual(companyBefore.filter((u) => u !== uuids[5]));
    expect(await members(employee)).toEqual([...employeeBefore, uuids[5]!].sort());
    const summary = (await t.admin.get('/api/v2/labels/label_summary')).body.results as Array<{ id: number; deviceCount: number }>;
    expect(summary.find((l) => l.id === employee)!.deviceCount).toBe(employeeBefore.length + 1);
    expect((await t.admin.put(`/api/v2/devices/${uuids[5]}/attributes`).send({ owner: 'COMPANY' })).status).toBe(200);
  });
});

describe('sorting by typed values', () => {
  /** Device ids in SQLite's own order of a column: ORDER BY column, then id (the listing's SQL before the directory). */
  function sqliteOrder(column: string, order: 'ASC' | 'DESC'): number[] {
    const raw = new Database(dbFile, { readonly: true });
    try {
      const user = column.startsWith('user.');
      const sql = user
        ? `SELECT d.id FROM "Device" d LEFT JOIN "User" u ON u.id = d.userRef ORDER BY u."${column.slice(5)}" ${order}, d.id ASC`
        : `SELECT id FROM "Device" ORDER BY "${column}" ${order}, id ASC`;
      return (raw.prepare(sql).all() as Array<{ id: number }>).map((r) => r.id);
    } finally {
      raw.close();
    }
  }

  it.each([...sortColumns.entries()].flatMap(([field, sort]) => (['ASC', 'DESC'] as const).map((order) => [field, sort, order] as const)))(
    'sortField=%s orders as SQLite orders its column (%o, %s)',
    async (field, sort, order) => {
      const answered = (await list({ sortField: field, sortOrder: order, fields: 'common.id', limit: 100 })).results.map(
        (d) => d['common.id'],
      );
      const column = 'column' in sort ? sort.column : `user.${sort.userColumn}`;
      expect(answered).toEqual(sqliteOrder(column, order));
    },
  );

  it('versions as versions (9.3 < 9.3.1 < 9.10 < 10.0), no version lowest ascending and last descending', async () => {
    const asc = (await list({ sortField: 'common.os_version', fields: 'common.os_version', limit: 100 })).results.map(
      (d) => d['common.os_version'],
    );
    expect(asc).toEqual([null, '9.3', '9.3', '9.3.1', '9.10', '10.0', '10.0', '16.7.9', '16.7.10', '17.0.3']);
    const desc = (await list({ sortField: 'common.os_version', sortOrder: 'DESC', fields: 'common.os_version', limit: 100 })).results;
    expect(desc.map((d) => d['common.os_version'])).toEqual([...asc].reverse());
  });

  it('text by code point: U+FF21 before an emoji (JavaScript < would say the opposite)', async () => {
    const models = (await list({ sortField: 'common.model', fields: 'common.model', limit: 100 })).results.map((d) => d['common.model']);
    expect(models.indexOf('\uFF21 wide')).toBeLessThan(models.indexOf('\u{1F4F1} phone'));
    expect('\uFF21' < '\u{1F4F1}').toBe(false);
  });

  it('dates as instants, devices never seen lowest', async () => {
    const seen = (await list({ sortField: 'common.last_connected_at', sortOrder: 'DESC', fields: 'common.last_connected_at', limit: 3 }))
      .results;
    expect(seen.map((d) => d['common.last_connected_at'])).toEqual(['2026-03-01T10:00:00.000Z', '2025-03-01T10:00:00.000Z', null]);
  });

  it('pages with ties (one model many times) are stable: together they are the whole list, once each', async () => {
    for (const sortOrder of ['ASC', 'DESC']) {
      const whole = (await list({ sortField: 'common.owner', sortOrder, fields: 'common.uuid', limit: 100 })).results;
      const paged: unknown[] = [];
      for (let offset = 0; offset < whole.length; offset += 3)
        paged.push(...(await list({ sortField: 'common.owner', sortOrder, fields: 'common.uuid', limit: 3, offset })).results);
      expect(paged).toEqual(whole);
      expect(new Set(paged.map((d) => (d as Record<string, unknown>)['common.uuid'])).size).toBe(uuids.length);
    }
  });

  it('criteria, a label and a sort together: the sorted list filtered, counted before paging', async () => {
    const all = (await list({ sortField: 'common.os_version', fields: 'common.uuid,common.platform', limit: 100 })).results;
    const ios = all.filter((d) => d['common.platform'] === 'iOS');
    const page = await list({
      query: 'common.platform = "iOS"',
      sortField: 'common.os_version',
      fields: 'common.uuid,common.platform',
      limit: 2,
      offset: 1,
    });
    expect(page.totalCount).toBe(ios.length);
    expect(page.results).toEqual(ios.slice(1, 3));
    expect((await t.admin.get('/api/v2/devices/count').query({ query: 'common.platform = "iOS"' })).body.totalCount).toBe(ios.length);
  });
});

describe('writes from other paths show in the next read', () => {
  const find = async (uuid: string, fields: string) =>
    (await list({ query: `common.uuid = "${uuid}"`, fields, limit: 1 })).results[0] as Record<string, unknown> | undefined;

  it('a manual label applied and removed', async () => {
    expect((await t.admin.post('/api/v2/labels').send({ name: 'dir manual', static: true })).status).toBe(201);
    const labelId = (await t.admin.get('/api/v2/labels/label_summary')).body.results.find(
      (l: { name: string }) => l.name === 'dir manual',
    ).id;
    expect((await list({ labelId })).totalCount).toBe(0);
    await t.admin.put('/api/v2/devices/labels/dir manual/add').send({ deviceUuids: [uuids[6], uuids[7]] });
    expect((await list({ labelId, fields: 'common.uuid' })).results.map((d) => d['common.uuid'])).toEqual([uuids[6], uuids[7]]);
    await t.admin.put('/api/v2/devices/labels/dir manual/remove').send({ deviceUuids: [uuids[6]] });
    expect((await list({ labelId, fields: 'common.uuid' })).results.map((d) => d['common.uuid'])).toEqual([uuids[7]]);
  });

  it("a user's new display name, in each of the user's devices", async () => {
    expect((await t.admin.put('/api/v2/users/ann').send({ displayName: 'Ann Renamed' })).status).toBe(200);
    const anns = (await list({ query: 'user.user_id = "ann"', fields: 'user.display_name' })).results;
    expect(anns.length).toBeGreaterThan(0);
    expect(anns.every((d) => d['user.display_name'] === 'Ann Renamed')).toBe(true);
  });

  it('the default listing (each summary kept as JSON text per device) shows a change at once, and equals the summary of the facts', async () => {
    const summary = async (uuid: string) =>
      (await list({ query: `common.uuid = "${uuid}"` })).results[0] as Record<string, unknown> & { 'common.os_version'?: unknown };
    const before = await summary(uuids[9]!);
    const id = (await deviceStore.findByUuid(t.services.db, uuids[9]!))!.id;
    await deviceStore.recordInformation(t.services.db, id, { osVersion: '17.4.1' });
    const after = await summary(uuids[9]!);
    expect(after['common.os_version']).toBe('17.4.1');
    expect(after).not.toEqual(before);
    // the text served is the summary of the device's current facts, nothing older
    const facts = (await directory().all()).find((e) => e.facts.id === id)!.facts;
    expect(after).toEqual(JSON.parse(JSON.stringify(summaryOf(facts))));
    // and the same envelope as an object listing would give
    const page = await t.admin.get('/api/v2/devices').query({ limit: 3, offset: 2 });
    expect(Object.keys(page.body)).toEqual(['totalCount', 'resultCount', 'hasMore', 'results']);
    const total = (await t.admin.get('/api/v2/devices/count')).body.totalCount as number;
    expect(page.body).toMatchObject({ totalCount: total, resultCount: 3, hasMore: total > 5 });
    expect(page.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it("MDM's store operations: enrollment (TokenUpdate), a DeviceInformation result, retirement", async () => {
    const id = (await deviceStore.findByUuid(t.services.db, uuids[8]!))!.id;
    await deviceStore.recordTokenUpdate(
      t.services.db,
      id,
      { pushToken: 'aa', pushMagic: 'm', topic: 'com.example.mdm', enrolledAt: new Date() },
      new Date(),
    );
    expect(await find(uuids[8]!, 'common.status,common.mdm_managed')).toEqual({ 'common.status': 'ACTIVE', 'common.mdm_managed': true });
    await deviceStore.recordInformation(t.services.db, id, { osVersion: '18.1', reported: { DeviceInformation: { BatteryLevel: 0.25 } } });
    expect(await find(uuids[8]!, 'common.os_version,common.battery_level')).toEqual({
      'common.os_version': '18.1',
      'common.battery_level': 25,
    });
    expect((await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [uuids[8]] })).body.successful).toBe(true);
    expect(await find(uuids[8]!, 'common.status')).toEqual({ 'common.status': 'RETIRED' });
  });

  it('a write inside an open transaction: the read waits for its commit; after a rollback it sees the old value', async () => {
    const id = (await deviceStore.findByUuid(t.services.db, uuids[9]!))!.id;
    for (const outcome of ['commit', 'rollback'] as const) {
      let wrote!: () => void;
      const written = new Promise<void>((resolve) => (wrote = resolve));
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const transaction = t.services.db
        .$transaction(async (tx) => {
          await deviceStore.update(tx, id, { deviceName: `inside ${outcome}` });
          wrote();
          await finished;
          if (outcome === 'rollback') throw new Error('rolled back on purpose');
        })
        .catch((err: Error) => err.message);
      await written;
      const during = list({ query: `common.uuid = "${uuids[9]}"`, fields: 'ios.DeviceName' });
      finish();
      await transaction;
      // committed: the new name; rolled back: still the name the first round committed
      expect((await during).results[0]).toEqual({ 'ios.DeviceName': 'inside commit' });
    }
  });

  it('a deleted device leaves every list and label at once', async () => {
    expect((await t.admin.delete(`/api/v2/devices/${uuids[9]}`)).status).toBe(200);
    expect(await find(uuids[9]!, 'common.uuid')).toBeUndefined();
    expect((await list({})).totalCount).toBe(uuids.length - 1);
  });

  it('raw SQL that bypasses the store, once counted (noteWrite): updates by the sweep, inserts by the count check', async () => {
    // A directory of its own, sweeping on every read (the server's sweeps at most every 5 s)
    const own = new DeviceDirectory(t.services.db, new ChangeCounter(), { sweepEveryMs: 0 });
    const before = await own.all();
    const target = before[0]!.facts;
    await t.services.db.$executeRawUnsafe(
      'UPDATE "Device" SET "model" = ?, "updatedAt" = ? WHERE "id" = ?',
      'raw model',
      new Date(),
      target.id,
    );
    own.noteWrite();
    expect((await own.all()).find((e) => e.facts.id === target.id)!.facts.model).toBe('raw model');
    await t.services.db.$executeRawUnsafe(
      `INSERT INTO "Device" ("uuid","platform","updatedAt") VALUES ('00000000-0000-4000-8000-0000000000aa','iOS',?)`,
      new Date(),
    );
    own.noteWrite();
    expect((await own.all()).map((e) => e.facts.uuid)).toContain('00000000-0000-4000-8000-0000000000aa');
    // gone again, so the server's own directory (which was not told) has nothing to catch up
    await t.services.db.$executeRawUnsafe(`DELETE FROM "Device" WHERE "uuid" = '00000000-0000-4000-8000-0000000000aa'`);
  });
});

describe('a bulk import', () => {
  // last: it adds thousands of devices the tests above do not expect
  it('is caught up by one reload, not device by device, and every imported device is listed', async () => {
    const before = (await list({})).totalCount;
    const loads = directory().loads;
    const csv = ['platform,serialNumber', ...Array.from({ length: 6000 }, (_, i) => `iOS,BULKDIR${i}`)].join('\n');
    expect((await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv)).status).toBe(201);
    expect((await list({})).totalCount).toBe(before + 6000);
    expect(directory().loads).toBe(loads + 1);
    expect((await list({ query: 'common.SerialNumber starts with "BULKDIR"', fields: 'common.uuid' })).totalCount).toBe(6000);
    const bulk = await list({ query: 'common.SerialNumber starts with "BULKDIR"', fields: 'common.uuid', limit: 50 });
    for (const d of bulk.results) expect((await t.admin.delete(`/api/v2/devices/${d['common.uuid']}`)).status).toBe(200);
    expect((await list({ query: 'common.SerialNumber starts with "BULKDIR"' })).totalCount).toBe(5950);
  }, 120_000);
});

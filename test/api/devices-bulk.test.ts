// Devices, issue #13: the sliced CSV import (streamed since issue #19) stays all-or-nothing, its raw-SQL writes and the
// device directory's raw reads give exactly what Prisma gives, one serial number per device
// that is not retired (single create, update and bulk alike), and no prototype keys from clients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceStore } from '../../src/devices/store.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  for (const userId of ['jdoe', 'asmith'])
    await t.admin.post('/api/v2/users').send({ userId, email: `${userId}@example.com`, displayName: userId.toUpperCase() });
  for (const name of ['fleet', 'field']) await t.admin.post('/api/v2/labels').send({ name, static: true });
  await t.admin.post('/api/v2/labels').send({ name: 'all-ios', static: false, criteria: 'common.platform = "iOS"' });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const header = 'userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels';
const csv = (...rows: string[]) => [header, ...rows].join('\n');
const importCsv = (body: string) => t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(body);
const deviceCount = async () => (await t.admin.get('/api/v2/devices/count')).body.results.totalCount as number;
const auditCount = async () => (await t.admin.get('/api/v2/audit?limit=1')).body.totalCount as number;

describe('CSV import', () => {
  it('imports 1,000 rows in slices and answers each device as the database holds it', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) =>
      [
        i % 2 ? 'jdoe' : '',
        i % 3 ? 'iOS' : 'A',
        i % 5 ? 'COMPANY' : 'EMPLOYEE',
        `BULK${i}`,
        `${(i + 1).toString(16).padStart(40, '0')}`,
        i % 3 ? '' : '356938035643809',
        'x',
        '17.1',
        `Name ${i}`,
        i % 2 ? 'fleet;FIELD' : 'fleet',
      ].join(','),
    );
    const res = await importCsv(csv(...rows));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ totalCount: 1000, resultCount: 1000, hasMore: false });
    // The answer (built from the inserted values) equals what Prisma reads back, field by field.
    const answered = new Map<string, Record<string, unknown>>(
      res.body.results.map((d: Record<string, unknown>) => [d['common.uuid'] as string, d]),
    );
    const listed: Record<string, unknown>[] = [];
    for (let offset = 0; offset < 1000; offset += 200) {
      const page = await t.admin.get(
        `/api/v2/devices?limit=200&offset=${offset}&sortField=common.id&query=${encodeURIComponent('common.SerialNumber != "x"')}`,
      );
      listed.push(...page.body.results);
    }
    const details = await t.admin.get(`/api/v2/devices/${res.body.results[1]['common.uuid']}/details`);
    expect(details.body.results).toContainEqual({ name: 'user.display_name', value: 'JDOE' });
    const fromDb = await t.services.db.device.findMany({ where: { uuid: { in: [...answered.keys()] } }, include: { user: true } });
    expect(fromDb).toHaveLength(1000);
    for (const row of fromDb) {
      const a = answered.get(row.uuid)!;
      expect(a['common.id']).toBe(row.id);
      expect(a['common.SerialNumber']).toBe(row.serialNumber);
      expect(a['common.registration_date']).toBe(row.registeredAt.toISOString());
      expect(a['user.user_id']).toBe(row.user?.userId ?? null);
      expect(a['common.manufacturer']).toBe(row.manufacturer);
    }
    expect(listed.length).toBeGreaterThanOrEqual(1000);
    // Labels: 1000 in fleet, 500 in field (named case-insensitively), none twice.
    const summary = (await t.admin.get('/api/v2/labels/label_summary?limit=200')).body.results as Array<{
      name: string;
      deviceCount: number;
    }>;
    expect(summary.find((l) => l.name === 'fleet')!.deviceCount).toBe(1000);
    expect(summary.find((l) => l.name === 'field')!.deviceCount).toBe(500);
    // The in-memory directory (criteria, filter labels) sees the new devices at once.
    expect(summary.find((l) => l.name === 'all-ios')!.deviceCount).toBe(666);
    const audit = await t.admin.get('/api/v2/audit?limit=1&objectType=device');
    expect(audit.body.results[0]).toMatchObject({ action: 'bulk.create', details: { count: 1000 } });
  });

  it('refuses bad rows with per-row messages and writes nothing', async () => {
    const [devices, audits] = [await deviceCount(), await auditCount()];
    const res = await importCsv(
      csv(
        ',iOS,COMPANY,OKAY1,,,x,1,ok,',
        'ghost,iOS,COMPANY,OKAY2,,,x,1,ok,',
        ',iOS,COMPANY,OKAY3,,,x,1,ok,no-such-label',
        ',iOS,COMPANY,OKAY4,,,x,1,ok,all-ios',
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.messages.map((m: { localizedMessage: string }) => m.localizedMessage)).toEqual([
      'row 3: userId: no user ghost; create it with POST /api/v2/users first',
      'row 4: labels: no label named no-such-label',
      'row 5: labels: all-ios is a filter label and cannot be applied by hand',
    ]);
    expect(res.body.messages[0]).toMatchObject({ row: 3, field: 'userId', errorCount: 3 });
    expect([await deviceCount(), await auditCount()]).toEqual([devices, audits]);
  });

  it('caps the messages of a CSV with thousands of bad rows, still counting them all', async () => {
    const res = await importCsv(csv(...Array.from({ length: 3000 }, () => ',Windows,COMPANY,,,,x,1,bad,')));
    expect(res.status).toBe(400);
    expect(res.body.messages).toHaveLength(200);
    expect(res.body.messages[0]).toMatchObject({ errorCount: 3000, row: 2, field: 'platform' });
  });

  it('rolls everything back when the database fails halfway through the writes', async () => {
    const [devices, audits] = [await deviceCount(), await auditCount()];
    const fleetBefore = (await t.admin.get('/api/v2/labels/label_summary?limit=200')).body.results.find(
      (l: { name: string }) => l.name === 'fleet',
    ).deviceCount;
    // A real SQLite failure on row 451 (the fifth slice of inserts), not a mocked one.
    await t.services.db.$executeRawUnsafe(
      `CREATE TRIGGER fail_midway BEFORE INSERT ON "Device" WHEN NEW."serialNumber" = 'MIDWAY450' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    try {
      const res = await importCsv(csv(...Array.from({ length: 600 }, (_, i) => `,iOS,COMPANY,MIDWAY${i},,,x,1,m,fleet`)));
      expect(res.status).toBe(500);
      expect(res.body.messages[0].localizedMessage).toBe('Internal server error');
    } finally {
      await t.services.db.$executeRawUnsafe('DROP TRIGGER fail_midway');
    }
    expect([await deviceCount(), await auditCount()]).toEqual([devices, audits]);
    const fleetAfter = (await t.admin.get('/api/v2/labels/label_summary?limit=200')).body.results.find(
      (l: { name: string }) => l.name === 'fleet',
    ).deviceCount;
    expect(fleetAfter).toBe(fleetBefore);
    // and the same rows then import cleanly
    expect((await importCsv(csv(...Array.from({ length: 600 }, (_, i) => `,iOS,COMPANY,MIDWAY${i},,,x,1,m,fleet`)))).status).toBe(201);
  });

  it('takes 10,000 rows with real 40-character UDIDs, more than the 1 MB a JSON body may have', async () => {
    const rows = Array.from(
      { length: 10_000 },
      (_, i) =>
        `,iOS,COMPANY,FULL${String(i).padStart(5, '0')},f011${i.toString(16).padStart(36, '0')},35${String(i).padStart(13, '0')},iPad13,17.1,Fleet iPad ${i},`,
    );
    const body = csv(...rows);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    const before = await deviceCount();
    const res = await importCsv(body);
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
    expect(await deviceCount()).toBe(before + 10_000);
  });

  it('checks the header before any row (the row and byte caps: devices-bulk-stream.test.ts)', async () => {
    const devices = await deviceCount();
    for (const [head, message] of [
      [
        'userId,platform,__proto__',
        'Unknown CSV column(s): __proto__; expected userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels',
      ],
      ['userId,platform,platform', 'CSV column(s) named twice: platform'],
    ] as const) {
      const res = await importCsv(`${head}\nx,iOS,x`);
      expect(res.status).toBe(400);
      expect(res.body.messages[0].localizedMessage).toBe(message);
    }
    const garbage = await importCsv('userId,platform\n"unterminated');
    expect(garbage.status).toBe(400);
    expect(garbage.body.messages[0].localizedMessage).toMatch(/^CSV could not be parsed: /);
    expect(await deviceCount()).toBe(devices);
  });

  it('keeps characters outside the BMP intact across parser slices', async () => {
    // The parser gets 8 KiB slices: put an emoji (a surrogate pair) across the first boundary.
    let body = `${header}\n`;
    while (8191 - body.length > 180) body += `,iOS,COMPANY,,,,x,1,${'a'.repeat(60)},\n`;
    const lead = ',iOS,COMPANY,EMOJI1,,,x,1,';
    body += `,iOS,COMPANY,,,,x,1,${'f'.repeat(8191 - body.length - 22 - lead.length - 20)},\n${lead}`;
    const pad = 'p'.repeat(20);
    expect((body + pad).length).toBe(8191);
    const res = await importCsv(`${body}${pad}\u{1F4F1}phone,`);
    expect(res.status).toBe(201);
    const emoji = res.body.results.find((d: Record<string, unknown>) => d['common.SerialNumber'] === 'EMOJI1');
    expect(emoji['ios.DeviceName']).toBe(`${pad}\u{1F4F1}phone`);
  });
});

describe('one serial number per device that is not retired', () => {
  it('refuses a second device with the same serial, in any case, on single create (409)', async () => {
    expect((await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'C02XK1ABJGH5' })).status).toBe(201);
    for (const serialNumber of ['C02XK1ABJGH5', 'c02xk1abjgh5']) {
      const res = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber });
      expect(res.status).toBe(409);
      expect(res.body.messages[0]).toMatchObject({ messageKey: 'com.mobileiron.vsp.messages.device.duplicate', field: 'serialNumber' });
      expect(res.body.messages[0].localizedMessage).toMatch(/already has serial number C02XK1ABJGH5; retire it first$/);
    }
  });

  it('refuses it in a CSV (against the database and within the file), naming the rows', async () => {
    const devices = await deviceCount();
    const res = await importCsv(
      csv(',iOS,COMPANY,c02xk1abjgh5,,,x,1,a,', ',iOS,COMPANY,NEWSERIAL1,,,x,1,b,', ',iOS,COMPANY,newserial1,,,x,1,c,'),
    );
    expect(res.status).toBe(400);
    expect(res.body.messages.map((m: { localizedMessage: string }) => m.localizedMessage)).toEqual([
      'row 4: serialNumber: duplicates row 3',
    ]);
    const res2 = await importCsv(csv(',iOS,COMPANY,NEWSERIAL1,,,x,1,b,', ',iOS,COMPANY,c02xk1abjgh5,,,x,1,a,'));
    expect(res2.status).toBe(400);
    expect(res2.body.messages[0].localizedMessage).toMatch(
      /^row 3: serialNumber: device [0-9a-f-]{36} \(VERIFICATION_PENDING\) already has serial number C02XK1ABJGH5; retire it first$/,
    );
    expect(await deviceCount()).toBe(devices);
  });

  it("lets a retired device's serial be registered again, but not revived while taken", async () => {
    const first = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'RETIREME1' })).body.results['common.uuid'];
    expect((await t.admin.put(`/api/v2/devices/${first}/attributes`).send({ status: 'RETIRED' })).status).toBe(200);
    const again = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'retireme1' });
    expect(again.status).toBe(201);
    expect((await importCsv(csv(',iOS,COMPANY,RETIREME1,,,x,1,a,'))).status).toBe(400);
    // the retired one cannot come back while the new one holds the serial
    const revive = await t.admin.put(`/api/v2/devices/${first}/attributes`).send({ status: 'ACTIVE' });
    expect(revive.status).toBe(409);
    expect(revive.body.messages[0].field).toBe('serialNumber');
  });

  it("refuses an update to a serial another device holds, and allows keeping one's own", async () => {
    const other = (await t.admin.post('/api/v2/devices').send({ platform: 'Android', serialNumber: 'MINE0001' })).body.results[
      'common.uuid'
    ];
    expect((await t.admin.put(`/api/v2/devices/${other}/attributes`).send({ serialNumber: 'C02XK1ABJGH5' })).status).toBe(409);
    expect((await t.admin.put(`/api/v2/devices/${other}/attributes`).send({ serialNumber: 'mine0001', model: 'Pixel' })).status).toBe(200);
  });
});

describe('client-supplied keys never reach Object.prototype', () => {
  it('refuses prototype keys in fields=, and a list of only unknown names, naming the field', async () => {
    for (const field of ['__proto__', 'constructor', 'prototype', 'custom.device.__proto__', 'custom.device.constructor']) {
      const res = await t.admin.get(`/api/v2/devices?fields=common.uuid,${encodeURIComponent(field)}`);
      expect(res.status, field).toBe(400);
      expect(res.body.messages[0].field).toBe('fields');
      expect(res.body.messages[0].localizedMessage).toContain(`unknown field ${JSON.stringify(field)}`);
    }
    const onlyUnknown = await t.admin.get('/api/v2/devices?fields=common.nonsense');
    expect(onlyUnknown.status).toBe(400);
    expect(onlyUnknown.body.messages[0].localizedMessage).toContain('unknown field "common.nonsense"');
    // Beside a known name, an unknown one is left out with a warning (see test/compat/axonius.test.ts)
    const warned = await t.admin.get('/api/v2/devices?limit=1&fields=common.uuid,common.nonsense');
    expect(warned.status).toBe(200);
    expect(Object.keys(warned.body.results[0])).toEqual(['common.uuid']);
    expect(warned.body.messages).toEqual([expect.objectContaining({ type: 'WARN', field: 'common.nonsense' })]);
    const ok = await t.admin.get('/api/v2/devices?limit=1&fields=common.uuid,custom.device.cost_center');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.results[0])).toEqual(['common.uuid', 'custom.device.cost_center']);
    expect(ok.body.results[0]['custom.device.cost_center']).toBeNull();
  });

  it('refuses reserved custom attribute names and ignores inherited ones in criteria', async () => {
    const uuid = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'PROTO1' })).body.results['common.uuid'];
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const res = await t.admin
        .put(`/api/v2/devices/${uuid}/attributes`)
        .set('content-type', 'application/json')
        .send(`{"custom":{"${name}":"x"}}`);
      expect(res.status, name).toBe(400);
    }
    expect((await t.admin.put(`/api/v2/devices/${uuid}/attributes`).send({ custom: { toString: 'x' } })).status).toBe(200);
    // A device without the attribute has none: nothing inherited from Object.prototype.
    for (const query of ['custom.device.constructor is not empty', 'custom.device.hasOwnProperty is not empty']) {
      const res = await t.admin.get(`/api/v2/devices/count?query=${encodeURIComponent(query)}`);
      expect(res.status, query).toBe(200);
      expect(res.body.results.totalCount, query).toBe(0);
    }
    const own = await t.admin.get(`/api/v2/devices/count?query=${encodeURIComponent('custom.device.toString = "x"')}`);
    expect(own.body.results.totalCount).toBe(1);
  });
});

describe('raw reads of the device directory', () => {
  it("give rows equal to Prisma's, users and dates included", async () => {
    const uuid = (
      await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'RAWREAD1', userId: 'asmith', imei: '356938035643809' })
    ).body.results['common.uuid'];
    await t.admin.put(`/api/v2/devices/${uuid}/attributes`).send({ compliant: false, quarantined: true, custom: { site: 'Paris' } });
    const db = t.services.db;
    await db.device.update({ where: { uuid }, data: { lastConnectedAt: new Date('2026-01-02T03:04:05.678Z'), enrolledAt: new Date() } });
    const prisma = await db.device.findMany({ include: { user: true }, orderBy: { id: 'asc' } });
    const raw = [];
    for (let after = 0; ;) {
      const page = await deviceStore.readPage(db, { all: true }, after, 500);
      raw.push(...page);
      if (page.length < 500) break;
      after = page.at(-1)!.id;
    }
    expect(raw).toEqual(prisma);
    const since = new Date(Date.now() - 60_000);
    expect(await deviceStore.readPage(db, { updatedSince: since }, 0, 100_000)).toEqual(prisma.filter((d) => d.updatedAt >= since));
    const asmith = prisma.find((d) => d.uuid === uuid)!.userRef!;
    expect(await deviceStore.readPage(db, { userRefs: [asmith] }, 0, 100)).toEqual(prisma.filter((d) => d.userRef === asmith));
  });

  it("give a device with its user and manual labels (the policy's read, one statement) equal to Prisma's three reads", async () => {
    const db = t.services.db;
    const make = async (body: object) =>
      (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', ...body })).body.results['common.uuid'];
    expect((await t.admin.post('/api/v2/users').send({ userId: 'polread', email: 'polread@example.com' })).status).toBe(201);
    const [withUser, alone] = [await make({ serialNumber: 'POLREAD1', userId: 'polread' }), await make({ serialNumber: 'POLREAD2' })];
    for (const name of ['polread one', 'polread two']) {
      expect((await t.admin.post('/api/v2/labels').send({ name, static: true })).status).toBe(201);
      expect((await t.admin.put(`/api/v2/devices/labels/${name}/add`).send({ deviceUuids: [withUser] })).status).toBe(200);
    }
    expect((await t.admin.put(`/api/v2/devices/${withUser}/attributes`).send({ custom: { site: 'Lyon' } })).status).toBe(200);
    const id = (await deviceStore.findByUuid(db, withUser))!.id;
    await deviceStore.recordInformation(db, id, { osVersion: '17.2', reported: { DeviceInformation: { BatteryLevel: 0.5 } } });
    await db.device.update({ where: { id }, data: { lastConnectedAt: new Date('2026-01-02T03:04:05.678Z'), enrolledAt: new Date() } });
    expect(alone).toBeTruthy();
    const prisma = await db.device.findMany({ include: { user: true }, orderBy: { id: 'asc' } });
    const memberships = await db.deviceLabel.findMany({ select: { deviceId: true, labelId: true } });
    const labelsOf = (id: number) => memberships.filter((m) => m.deviceId === id).map((m) => m.labelId);
    // the cases that matter are all here: users and none, manual labels and none, reported and custom facts, enrolled
    expect(prisma.some((d) => d.user) && prisma.some((d) => !d.user)).toBe(true);
    expect(prisma.some((d) => labelsOf(d.id).length > 1) && prisma.some((d) => labelsOf(d.id).length === 0)).toBe(true);
    expect(prisma.some((d) => d.enrolledAt && d.lastConnectedAt && d.customAttributes !== '{}')).toBe(true);
    for (const row of prisma) {
      for (const key of [{ uuid: row.uuid }, { id: row.id }]) {
        const read = await deviceStore.withManualLabels(db, key);
        expect(read?.device).toEqual(row);
        expect([...read!.manualLabelIds].sort((a, b) => a - b)).toEqual(labelsOf(row.id).sort((a, b) => a - b));
      }
    }
    // the store's own finders, which read on the connection too
    for (const row of prisma) {
      expect(await deviceStore.findById(db, row.id)).toEqual(row);
      expect(await deviceStore.findByUuid(db, row.uuid)).toEqual(row);
      if (row.udid) expect(await deviceStore.findByUdid(db, row.udid)).toEqual(row);
    }
    expect(await deviceStore.findById(db, 9_999_999)).toBeNull();
    expect(await deviceStore.findByUdid(db, 'no-such-udid')).toBeNull();
    // inside a transaction: read on its connection, the same rows
    await db.$transaction(async (tx) => {
      const row = prisma.find((d) => d.uuid === withUser)!;
      expect((await deviceStore.withManualLabels(tx, { id: row.id }))?.device).toEqual(row);
    });
    expect(await deviceStore.withManualLabels(db, { uuid: '00000000-0000-4000-8000-0000000000ff' })).toBeNull();
    expect(await deviceStore.withManualLabels(db, { id: 9_999_999 })).toBeNull();
  });
});

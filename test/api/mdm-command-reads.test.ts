// The MDM command reads on the hot path (a result's command by CommandUUID, an Idle poll's next
// queued command) run on the SQLite connection itself (src/mdm/store.ts, directRead): the rows
// must be exactly Prisma's, whatever state the command is in, inside a transaction and out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandStore } from '../../src/mdm/store.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let deviceId: number;

beforeAll(async () => {
  t = await startTestApp();
  const uuid = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'CMDREAD1' })).body.results['common.uuid'];
  deviceId = (await t.services.db.device.findUniqueOrThrow({ where: { uuid } })).id;
  const db = t.services.db;
  const make = (n: number, purpose: string | null) =>
    commandStore.create(db, {
      commandUuid: `0C0A0000-0000-4000-8000-00000000000${n}`,
      deviceRef: deviceId,
      requestType: n % 2 ? 'DeviceInformation' : 'InstallApplication',
      body: `<plist version="1.0"><dict><key>n</key><integer>${n}</integer></dict></plist>`,
      origin: 'action',
      purpose,
    });
  const [acknowledged, failed, sent] = [await make(1, null), await make(2, 'app:com.example'), await make(3, null)];
  await make(4, null);
  await make(5, 'vpn-profile');
  await commandStore.markSent(db, acknowledged.id);
  await commandStore.complete(db, acknowledged.id, { status: 'Acknowledged', result: '<plist/>', errorChain: null });
  await commandStore.complete(db, failed.id, { status: 'Error', result: '<plist/>', errorChain: JSON.stringify([{ ErrorCode: 12021 }]) });
  await commandStore.markSent(db, sent.id);
}, 60_000);

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('command reads on the connection', () => {
  it("give Prisma's rows for every state: by CommandUUID, and the next queued", async () => {
    const db = t.services.db;
    const prisma = await db.mdmCommand.findMany({ where: { deviceRef: deviceId }, orderBy: { id: 'asc' } });
    expect(prisma.map((c) => c.status)).toEqual(['Acknowledged', 'Error', 'Sent', 'Queued', 'Queued']);
    expect(prisma.some((c) => c.completedAt && c.sentAt && c.errorChain === null) && prisma.some((c) => c.errorChain)).toBe(true);
    for (const row of prisma) expect(await commandStore.findByUuid(db, deviceId, row.commandUuid)).toEqual(row);
    expect(await commandStore.findByUuid(db, deviceId, 'no-such-command')).toBeNull();
    expect(await commandStore.findByUuid(db, deviceId + 1000, prisma[0]!.commandUuid)).toBeNull();
    expect(await commandStore.nextQueued(db, deviceId)).toEqual(prisma[3]);
    await db
      .$transaction(async (tx) => {
        // inside a transaction, its own uncommitted change is what the read sees
        await commandStore.markSent(tx, prisma[3]!.id);
        expect((await commandStore.nextQueued(tx, deviceId))?.id).toBe(prisma[4]!.id);
        expect((await commandStore.findByUuid(tx, deviceId, prisma[3]!.commandUuid))?.status).toBe('Sent');
        throw new Error('roll back');
      })
      .catch((err: Error) => expect(err.message).toBe('roll back'));
    expect(await commandStore.nextQueued(db, deviceId)).toEqual(prisma[3]);
    expect(await commandStore.nextQueued(db, deviceId + 1000)).toBeNull();
  });
});

// Every device action against every state a device can be in, through the real API, devices
// enrolled over the real OTA/SCEP/check-in endpoints. One rule: commands go only to a device
// they can reach (enrolled, with a valid identity, not RETIRED or WIPED); any other device is
// refused per device with a reason, except RETIRE, which retires it at once (a retired device is
// refused). SEND_MESSAGE is a recorded notification, never a command; UNLOCK_APP_CONNECT_CONTAINER
// (Android only) is refused for every device. Every outcome leaves exactly one audit entry; a
// refusal changes nothing else. Answers are Core's: actionType, deviceResults, successful.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreActionType, deviceActions, type DeviceAction } from '../../src/mdm/actions.js';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'holder' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

// ------------------------------------------------------------------ devices in each state

let registrations = 0;

/** A device registered by an admin (VERIFICATION_PENDING), with a serial number of its own. */
async function registered(): Promise<string> {
  const res = await t.admin
    .post('/api/v2/devices')
    .send({ platform: 'iOS', serialNumber: `ACTIONS${String(++registrations).padStart(4, '0')}` });
  expect(res.status).toBe(201);
  return res.body.results['common.uuid'];
}

async function uuidOf(d: TestDevice): Promise<string> {
  const res = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' });
  return res.body.results[0]['common.uuid'];
}

/** OTA enrollment and SCEP, then Authenticate: the device exists and holds an identity, no push token yet. */
async function authenticated(): Promise<TestDevice> {
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'holder', identity: 'scep' })).body.results;
  const d = new TestDevice(t.app);
  await d.enroll(inv.url);
  expect((await d.authenticate()).status).toBe(200);
  d.deviceUuid = await uuidOf(d);
  return d;
}

async function enrolled(): Promise<TestDevice> {
  const d = await authenticated();
  expect((await d.tokenUpdate()).status).toBe(200);
  await d.drain();
  return d;
}

async function status(uuid: string): Promise<string> {
  const details = await t.admin.get(`/api/v2/devices/${uuid}/details`);
  return details.body.results.find((f: { name: string }) => f.name === 'common.status').value;
}

const successKey = 'com.mobileiron.vsp.messages.device.action.successful';
const failedKey = (reason: string) => `com.mobileiron.vsp.messages.device.action.failed.${reason}`;

async function act(action: DeviceAction, deviceUuids: string[], options: Record<string, unknown> = {}) {
  return t.admin
    .post('/api/v2/devices/action')
    .query({ actionType: action })
    .send({ deviceUuids, ...options });
}

type Reason = 'NOT_ENROLLED' | 'NO_IDENTITY' | 'RETIRED' | 'WIPED' | 'NOT_SUPPORTED';

interface State {
  name: string;
  make(): Promise<string>;
  /** Why commands cannot reach it (null: they can). */
  refusal: Reason | null;
  /** The status it shows (and keeps after any refused or queued action). */
  status: string;
}

const states: State[] = [
  { name: 'registered, never enrolled', refusal: 'NOT_ENROLLED', status: 'VERIFICATION_PENDING', make: () => registered() },
  {
    name: 'marked ACTIVE by an admin, never enrolled',
    refusal: 'NOT_ENROLLED',
    status: 'ACTIVE',
    make: async () => {
      const uuid = await registered();
      expect((await t.admin.put(`/api/v2/devices/${uuid}/attributes`).send({ status: 'ACTIVE' })).status).toBe(200);
      return uuid;
    },
  },
  {
    name: 'enrolling (Authenticate, no TokenUpdate yet)',
    refusal: 'NOT_ENROLLED',
    status: 'VERIFICATION_PENDING',
    make: async () => (await authenticated()).deviceUuid,
  },
  { name: 'enrolled (ACTIVE)', refusal: null, status: 'ACTIVE', make: async () => (await enrolled()).deviceUuid },
  {
    name: 'enrolled and marked LOST',
    refusal: null,
    status: 'LOST',
    make: async () => {
      const d = await enrolled();
      expect((await t.admin.put(`/api/v2/devices/${d.deviceUuid}/attributes`).send({ status: 'LOST' })).status).toBe(200);
      return d.deviceUuid;
    },
  },
  {
    name: 'enrolled, its identity certificate revoked',
    refusal: 'NO_IDENTITY',
    status: 'ACTIVE',
    make: async () => {
      const d = await enrolled();
      const serial = (await t.admin.get('/api/v2/scep/certificates').query({ deviceUuid: d.deviceUuid })).body.results[0].serialNumber;
      expect((await t.admin.post(`/api/v2/scep/certificates/${serial}/revoke`)).status).toBe(200);
      return d.deviceUuid;
    },
  },
  {
    name: 'retired (the device confirmed)',
    refusal: 'RETIRED',
    status: 'RETIRED',
    make: async () => {
      const d = await enrolled();
      expect((await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [d.deviceUuid] })).body.successful).toBe(true);
      await d.drain();
      return d.deviceUuid;
    },
  },
  {
    name: 'wiped (the device confirmed)',
    refusal: 'WIPED',
    status: 'WIPED',
    make: async () => {
      const d = await enrolled();
      expect((await t.admin.put('/api/v2/devices/wipe').send({ deviceUuids: [d.deviceUuid] })).body.successful).toBe(true);
      await d.drain();
      return d.deviceUuid;
    },
  },
];

/** What each action queues on a device it can reach. */
const queues: Record<DeviceAction, string[]> = {
  WAKEUP: ['DeviceInformation', 'InstalledApplicationList'],
  LOCK: ['DeviceLock'],
  UNLOCK_DEVICE_ONLY: ['ClearPasscode'],
  SEND_MESSAGE: [],
  UPDATE_DEVICE_INFO: ['DeviceInformation', 'InstalledApplicationList'],
  WIPE: ['EraseDevice'],
  ENABLE_VOICE_ROAMING: ['Settings'],
  DISABLE_VOICE_ROAMING: ['Settings'],
  ENABLE_DATA_ROAMING: ['Settings'],
  DISABLE_DATA_ROAMING: ['Settings'],
  ENABLE_PERSONAL_HOTSPOT: ['Settings'],
  DISABLE_PERSONAL_HOTSPOT: ['Settings'],
  UPDATE_OS: ['ScheduleOSUpdate'],
  UNLOCK_APP_CONNECT_CONTAINER: [],
  RETIRE: ['RemoveProfile'],
};

const options: Record<DeviceAction, Record<string, unknown>> = {
  WAKEUP: { note: 'matrix' },
  LOCK: { note: 'matrix', message: 'Call IT' },
  UNLOCK_DEVICE_ONLY: { note: 'matrix' },
  SEND_MESSAGE: { note: 'matrix', additionalParameters: { message: 'Please return this device', mode: 'email', subject: 'Lost device' } },
  UPDATE_DEVICE_INFO: { note: 'matrix' },
  WIPE: { note: 'matrix', pin: '123456' },
  ENABLE_VOICE_ROAMING: { note: 'matrix' },
  DISABLE_VOICE_ROAMING: { note: 'matrix' },
  ENABLE_DATA_ROAMING: { note: 'matrix' },
  DISABLE_DATA_ROAMING: { note: 'matrix' },
  ENABLE_PERSONAL_HOTSPOT: { note: 'matrix' },
  DISABLE_PERSONAL_HOTSPOT: { note: 'matrix' },
  UPDATE_OS: { note: 'matrix' },
  UNLOCK_APP_CONNECT_CONTAINER: { note: 'matrix' },
  RETIRE: { note: 'matrix' },
};

/** What each Settings action asks for (Apple's Settings command: Item and Enabled). */
const settingsOf: Partial<Record<DeviceAction, { Item: string; Enabled: boolean }>> = {
  ENABLE_VOICE_ROAMING: { Item: 'VoiceRoaming', Enabled: true },
  DISABLE_VOICE_ROAMING: { Item: 'VoiceRoaming', Enabled: false },
  ENABLE_DATA_ROAMING: { Item: 'DataRoaming', Enabled: true },
  DISABLE_DATA_ROAMING: { Item: 'DataRoaming', Enabled: false },
  ENABLE_PERSONAL_HOTSPOT: { Item: 'PersonalHotspot', Enabled: true },
  DISABLE_PERSONAL_HOTSPOT: { Item: 'PersonalHotspot', Enabled: false },
};

/** Everything an action could change about a device, read straight from the database. */
async function snapshot(uuid: string) {
  const db = t.services.db;
  const device = await db.device.findUniqueOrThrow({
    where: { uuid },
    select: { id: true, status: true, pushToken: true, pushMagic: true, unlockToken: true, mdmState: true, enrolledAt: true },
  });
  const [commands, certificates, pushes] = await Promise.all([
    db.mdmCommand.findMany({
      where: { deviceRef: device.id },
      select: { commandUuid: true, requestType: true, status: true },
      orderBy: { id: 'asc' },
    }),
    db.deviceCertificate.findMany({
      where: { deviceRef: device.id },
      select: { serialNumber: true, revoked: true },
      orderBy: { id: 'asc' },
    }),
    db.pushRecord.count({ where: { deviceRef: device.id } }),
  ]);
  return { device, commands, certificates, pushes };
}

async function auditOf(action: DeviceAction, uuid: string) {
  const res = await t.admin
    .get('/api/v2/audit')
    .query({ action: `device.${action.toLowerCase()}`, objectType: 'device', objectId: uuid, limit: 200 });
  expect(res.status).toBe(200);
  return res.body.results as Array<{ actor: string; details: Record<string, unknown> }>;
}

// ------------------------------------------------------------------ the matrix

describe.each(states)('a device $name', (state) => {
  let uuid: string;
  beforeAll(async () => {
    uuid = await state.make();
    expect(await status(uuid)).toBe(state.status);
  }, 60_000);

  // RETIRE comes last (deviceActions lists it last): it is the one action that can change the state
  it.each([...deviceActions])('%s', async (action) => {
    const before = await snapshot(uuid);
    const auditBefore = await auditOf(action, uuid);
    const res = await act(action, [uuid], options[action]);
    expect(res.status).toBe(200);
    expect(res.body.actionType).toBe(coreActionType(action));
    expect(Object.keys(res.body.deviceResults)).toEqual([uuid]);
    expect(res.body.results).toHaveLength(1);
    const result = res.body.results[0];
    expect(res.body.successful).toBe(result.status === 'SUCCESS');
    expect(res.body.deviceResults[uuid]).toBe(result.status === 'SUCCESS' ? successKey : failedKey(result.reason));
    const after = await snapshot(uuid);
    const entries = await auditOf(action, uuid);
    expect(entries.length, 'one audit entry per outcome').toBe(auditBefore.length + 1);
    const entry = entries[0]!;
    expect(entry.actor).toBe('admin');
    expect(entry.details).toMatchObject({ deviceStatus: state.status, note: 'matrix' });
    expect(JSON.stringify(entry.details)).not.toContain('123456'); // the wipe PIN is not logged

    if (action === 'UNLOCK_APP_CONNECT_CONTAINER') {
      // Android only: refused for every device, whatever its state, and nothing changes.
      expect(result).toMatchObject({
        deviceUuid: uuid,
        status: 'FAILED',
        reason: 'NOT_SUPPORTED',
        message: expect.stringMatching(/AppConnect/),
      });
      expect(after).toEqual(before);
      expect(entry.details).toMatchObject({ outcome: 'FAILED', reason: 'NOT_SUPPORTED' });
    } else if (state.refusal === null && action === 'SEND_MESSAGE') {
      // A message is a notification to the user, recorded in the audit trail: no command (no DeviceLock), no push.
      expect(result).toMatchObject({
        deviceUuid: uuid,
        status: 'SUCCESS',
        message: 'notification to the user recorded (email)',
        commandUuids: [],
      });
      expect(after).toEqual(before);
      expect(entry.details).toMatchObject({
        outcome: 'SUCCESS',
        notification: { mode: 'email', subject: 'Lost device', message: 'Please return this device' },
      });
      expect(entry.details.commands).toBeUndefined();
    } else if (state.refusal === null) {
      // Reachable: the action's commands are queued (RETIRE first cancels what was pending) and pushed.
      const queued = after.commands.filter((c) => !before.commands.some((b) => b.commandUuid === c.commandUuid));
      expect(result).toMatchObject({ deviceUuid: uuid, status: 'SUCCESS', message: expect.stringMatching(/push recorded$/) });
      expect(queued.map((c) => c.requestType)).toEqual(queues[action]);
      expect(queued.every((c) => c.status === 'Queued')).toBe(true);
      expect(result.commandUuids).toEqual(queued.map((c) => c.commandUuid));
      expect(after.pushes).toBe(before.pushes + 1);
      expect(after.device).toEqual(before.device); // the status moves only when the device answers
      if (action === 'RETIRE') {
        expect(after.commands.filter((c) => c.status === 'Queued').map((c) => c.requestType)).toEqual(['RemoveProfile']);
      }
      expect(entry.details).toMatchObject({ outcome: 'SUCCESS', commands: queues[action], commandUuids: result.commandUuids });
      const sent = await t.services.db.mdmCommand.findMany({ where: { commandUuid: { in: result.commandUuids } }, select: { body: true } });
      if (settingsOf[action]) {
        expect(sent[0]!.body).toContain(`<string>${settingsOf[action].Item}</string>`);
        expect(sent[0]!.body).toMatch(new RegExp(`<key>Enabled</key>\\s*<${settingsOf[action].Enabled}/>`));
      }
      if (action === 'UPDATE_OS') expect(sent[0]!.body).toMatch(/<key>InstallAction<\/key>\s*<string>Default<\/string>/);
    } else if (action === 'RETIRE' && state.refusal !== 'RETIRED') {
      // Unreachable but not retired: RETIRE retires it at once, with nothing queued or pushed.
      expect(result).toMatchObject({ deviceUuid: uuid, status: 'SUCCESS', commandUuids: [] });
      expect(await status(uuid)).toBe('RETIRED');
      expect(after.device).toMatchObject({ status: 'RETIRED', pushToken: null, pushMagic: null, mdmState: '{}' });
      expect(after.certificates.every((c) => c.revoked)).toBe(true);
      expect(after.commands.filter((c) => c.status === 'Queued' || c.status === 'Sent' || c.status === 'NotNow')).toEqual([]);
      expect(after.pushes).toBe(before.pushes);
      expect(entry.details).toMatchObject({ outcome: 'SUCCESS', newStatus: 'RETIRED' });
    } else {
      // Refused for this device, with the reason; nothing but the audit entry changes.
      const reason = state.refusal;
      expect(result).toMatchObject({ deviceUuid: uuid, status: 'FAILED', reason });
      expect(result.message).toMatch(action === 'RETIRE' ? /already RETIRED/ : /cannot receive commands/);
      expect(result.commandUuids).toBeUndefined();
      expect(after).toEqual(before);
      expect(entry.details).toMatchObject({ outcome: 'FAILED', reason, message: result.message });
    }
  });
});

// ------------------------------------------------------------------ around the matrix

describe('around the matrix', () => {
  it('a queued retire is what the device receives: earlier pending commands are canceled, and its confirmation retires it', async () => {
    const d = await enrolled();
    for (const action of ['LOCK', 'UPDATE_DEVICE_INFO'] as const) expect((await act(action, [d.deviceUuid])).body.successful).toBe(true);
    expect((await act('RETIRE', [d.deviceUuid])).body.successful).toBe(true);
    const received = await d.drain();
    expect(received.map((c) => (c.Command as PlistDict).RequestType)).toEqual(['RemoveProfile']);
    expect(await status(d.deviceUuid)).toBe('RETIRED');
    expect((await d.connect()).status).toBe(401);
  }, 60_000);

  it('UNLOCK_DEVICE_ONLY is refused for an enrolled device that never sent an UnlockToken', async () => {
    const d = await authenticated();
    expect(
      (
        await d.checkin({
          MessageType: 'TokenUpdate',
          Topic: 'com.apple.mgmt.External.mockiron',
          Token: Buffer.alloc(32, 3),
          PushMagic: 'magic-without-unlock',
        })
      ).status,
    ).toBe(200);
    const before = await snapshot(d.deviceUuid);
    const res = await act('UNLOCK_DEVICE_ONLY', [d.deviceUuid]);
    expect(res.body.results[0]).toMatchObject({ status: 'FAILED', reason: 'NO_UNLOCK_TOKEN' });
    expect(await snapshot(d.deviceUuid)).toEqual(before);
    expect((await auditOf('UNLOCK_DEVICE_ONLY', d.deviceUuid))[0]!.details).toMatchObject({ outcome: 'FAILED', reason: 'NO_UNLOCK_TOKEN' });
    // the same device can be locked: it is reachable
    expect((await act('LOCK', [d.deviceUuid])).body.results[0].status).toBe('SUCCESS');
  }, 60_000);

  it('one request over mixed devices answers and audits each, in order, unknown and repeated ones included', async () => {
    const active = (await enrolled()).deviceUuid;
    const never = await registered();
    const missing = '0badc0de-0000-4000-8000-000000000000';
    const res = await act('LOCK', [active, never, missing, active]);
    expect(res.body).toMatchObject({
      actionType: 'LOCK',
      successful: false,
      deviceResults: { [active]: successKey, [never]: failedKey('NOT_ENROLLED'), [missing]: failedKey('NOT_FOUND') },
    });
    expect(Object.keys(res.body.deviceResults)).toEqual([active, never, missing]);
    expect(
      res.body.results.map((r: { deviceUuid: string; status: string; reason?: string }) => [r.deviceUuid, r.status, r.reason]),
    ).toEqual([
      [active, 'SUCCESS', undefined],
      [never, 'FAILED', 'NOT_ENROLLED'],
      [missing, 'FAILED', 'NOT_FOUND'],
    ]);
    expect((await auditOf('LOCK', active)).length).toBe(1);
    expect((await auditOf('LOCK', never))[0]!.details).toMatchObject({
      outcome: 'FAILED',
      reason: 'NOT_ENROLLED',
      deviceStatus: 'VERIFICATION_PENDING',
    });
    expect((await auditOf('LOCK', missing))[0]!.details).toMatchObject({ outcome: 'FAILED', reason: 'NOT_FOUND' });
  }, 60_000);

  it('parameters in the query string with no body work as in the body (comma-separated or repeated deviceUuids)', async () => {
    const a = (await enrolled()).deviceUuid;
    const b = (await enrolled()).deviceUuid;
    const csv = await t.admin.post(`/api/v2/devices/action?actionType=WAKE_UP&adminDeviceSpaceId=1&deviceUuids=${a},${b}`);
    expect(csv.status).toBe(200);
    expect(csv.body).toMatchObject({ actionType: 'WAKE_UP', successful: true, deviceResults: { [a]: successKey, [b]: successKey } });
    const repeated = await t.admin.post(
      `/api/v2/devices/action?actionType=SEND_MESSAGE&deviceUuids=${a}&deviceUuids=${b}&message=Hello&mode=sms&subject=IT&note=q`,
    );
    expect(repeated.status).toBe(200);
    expect(Object.keys(repeated.body.deviceResults)).toEqual([a, b]);
    expect((await auditOf('SEND_MESSAGE', b))[0]!.details).toMatchObject({
      note: 'q',
      notification: { mode: 'sms', subject: 'IT', message: 'Hello' },
    });
    const none = await t.admin.post('/api/v2/devices/action?actionType=WAKE_UP');
    expect(none.status).toBe(400);
    expect(none.body.messages[0]).toMatchObject({ field: 'deviceUuids' });
    const bad = await t.admin.post('/api/v2/devices/action?actionType=WAKE_UP&deviceUuids=not-a-uuid');
    expect(bad.status).toBe(400);
    // without credentials the query is never acted on
    const before = await t.services.db.mdmCommand.count();
    expect((await t.anon.post(`/api/v2/devices/action?actionType=WAKE_UP&deviceUuids=${a}`)).status).toBe(401);
    // 1,001 UUIDs in the query (37 KB): refused, by the header size limit before the list limit, nothing queued
    const many = Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`).join(',');
    const tooMany = await t.admin.post(`/api/v2/devices/action?actionType=WAKE_UP&deviceUuids=${many}`);
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    expect(await t.services.db.mdmCommand.count()).toBe(before);
  }, 60_000);

  it('the Core-style PUT routes follow the same rule (wipe refused, retire at once, wakeup refused)', async () => {
    const never = await registered();
    expect((await t.admin.put('/api/v2/devices/wipe').send({ deviceUuids: [never] })).body).toMatchObject({
      actionType: 'WIPE_DEVICE',
      successful: false,
      deviceResults: { [never]: failedKey('NOT_ENROLLED') },
    });
    expect((await t.admin.put('/api/v2/devices/wipe').send({ deviceUuids: [never] })).body.results[0]).toMatchObject({
      status: 'FAILED',
      reason: 'NOT_ENROLLED',
    });
    expect((await t.admin.put('/api/v2/devices/wakeup').send({ deviceUuids: [never] })).body.results[0]).toMatchObject({
      status: 'FAILED',
      reason: 'NOT_ENROLLED',
    });
    expect((await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [never] })).body.results[0]).toMatchObject({
      status: 'SUCCESS',
    });
    expect(await status(never)).toBe('RETIRED');
    expect((await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [never] })).body.results[0]).toMatchObject({
      status: 'FAILED',
      reason: 'RETIRED',
    });
    const entries = await auditOf('RETIRE', never);
    expect(entries.map((e) => e.details.outcome)).toEqual(['FAILED', 'SUCCESS']);
    expect((await auditOf('WIPE', never)).length).toBe(2);
  });

  describe('a request an action cannot take is refused whole (400 naming the field), touching nothing', () => {
    const cases: Array<[DeviceAction, Record<string, unknown>, string]> = [
      ['SEND_MESSAGE', {}, 'message'],
      ['SEND_MESSAGE', { message: '   ' }, 'message'],
      ['SEND_MESSAGE', { additionalParameters: { message: 'hi', mode: 'fax' } }, 'additionalParameters.mode'],
      ['SEND_MESSAGE', { additionalParameters: { message: 'hi', priority: 'high' } }, 'additionalParameters'],
      ['LOCK', { additionalParameters: { message: 'hi', mode: 'sms' } }, 'mode'],
      ['ENABLE_DATA_ROAMING', { message: 'x' }, 'message'],
      ['UPDATE_OS', { pin: '123456' }, 'pin'],
      ['LOCK', { pin: '123456' }, 'pin'],
      ['WIPE', { message: 'bye' }, 'message'],
      ['RETIRE', { pin: '123456' }, 'pin'],
      ['WAKEUP', { message: 'hello' }, 'message'],
      ['UPDATE_DEVICE_INFO', { pin: '123456' }, 'pin'],
      ['UNLOCK_DEVICE_ONLY', { message: 'x' }, 'message'],
    ];
    it.each(cases)('%s with %j', async (action, extra, field) => {
      const uuid = await registered();
      const auditCount = await t.services.db.auditEvent.count();
      const before = await snapshot(uuid);
      const res = await act(action, [uuid], extra);
      expect(res.status).toBe(400);
      expect(res.body.messages[0]).toMatchObject({ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.validation', field });
      expect(await t.services.db.auditEvent.count()).toBe(auditCount);
      expect(await snapshot(uuid)).toEqual(before);
    });
  });

  it('a thousand devices in one request are answered in bounded time, each retired and audited', async () => {
    const csv = ['platform,serialNumber', ...Array.from({ length: 1000 }, (_, i) => `iOS,BULKACT${String(i).padStart(4, '0')}`)].join('\n');
    expect((await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv)).status).toBeLessThan(300);
    const rows = await t.services.db.device.findMany({ where: { serialNumber: { startsWith: 'BULKACT' } }, select: { uuid: true } });
    const uuids = rows.map((r) => r.uuid);
    expect(uuids.length).toBe(1000);
    const timings: Record<string, number> = {};
    for (const action of ['LOCK', 'RETIRE'] as const) {
      const audited = () => t.services.db.auditEvent.count({ where: { action: `device.${action.toLowerCase()}` } });
      const auditedBefore = await audited();
      const start = performance.now();
      const res = await act(action, uuids);
      timings[action] = Math.round(performance.now() - start);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body.deviceResults)).toHaveLength(1000);
      expect(res.body.successful).toBe(action === 'RETIRE');
      expect(new Set(res.body.results.map((r: { status: string }) => r.status))).toEqual(
        new Set([action === 'LOCK' ? 'FAILED' : 'SUCCESS']),
      );
      expect(await audited()).toBe(auditedBefore + 1000);
    }
    expect(await t.services.db.device.count({ where: { serialNumber: { startsWith: 'BULKACT' }, status: 'RETIRED' } })).toBe(1000);
    console.log('1000-device actions (ms):', timings);
    for (const ms of Object.values(timings)) expect(ms).toBeLessThan(30_000);
  }, 120_000);
});

describe('the OpenAPI document', () => {
  it('lists every action type, Core names with our older names as aliases', async () => {
    const res = await t.admin.get('/api/v2/devices/action_types');
    expect(res.status).toBe(200);
    const types = res.body.results as Array<{ actionType: string; aliases: string[] }>;
    expect(types.map((x) => x.actionType)).toEqual(deviceActions.map(coreActionType));
    expect(types.find((x) => x.actionType === 'WAKE_UP')!.aliases).toEqual(['WAKEUP']);
    expect(types.find((x) => x.actionType === 'WIPE_DEVICE')!.aliases).toEqual(['WIPE']);
    expect(res.body.totalCount).toBe(types.length);
  });

  it('lists the per-device result of every action route, with each refusal reason', async () => {
    const doc = (await t.admin.get('/api/v2/openapi.json')).body;
    for (const [path, method] of [
      ['/api/v2/devices/action', 'post'],
      ['/api/v2/devices/wipe', 'put'],
      ['/api/v2/devices/retire', 'put'],
      ['/api/v2/devices/wakeup', 'put'],
    ] as const) {
      const results = doc.paths[path][method].responses['200'].content['application/json'].schema.properties.results;
      expect(results.items.properties.reason.enum, path).toEqual([
        'NOT_FOUND',
        'NOT_ENROLLED',
        'NO_IDENTITY',
        'RETIRED',
        'WIPED',
        'NO_UNLOCK_TOKEN',
        'NOT_SUPPORTED',
      ]);
      expect(results.items.properties.status.enum, path).toEqual(['SUCCESS', 'FAILED']);
      const answer = doc.paths[path][method].responses['200'].content['application/json'].schema;
      expect(answer.properties.successful.type, path).toBe('boolean');
      expect(answer.properties.deviceResults.type, path).toBe('object');
      expect(answer.required, path).toEqual(expect.arrayContaining(['actionType', 'deviceResults', 'successful', 'results']));
    }
  });
});

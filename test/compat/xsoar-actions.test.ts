// Cortex XSOAR's MobileIronCORE integration, replayed call for call for its device actions:
// demisto/content, Packs/MobileIronUEM/Integrations/MobileIronCORE/MobileIronCORE.py (read at
// 10e6f9a72892238cf0619208a94eec84b1b6d11c), answer fixture test_data/action_response.json.
// The integration sends HTTP Basic (requests' auth=), adminDeviceSpaceId and actionType in the query,
// a JSON body {deviceUuids: [uuid], note}, plus additionalParameters for SEND_MESSAGE; it reads
// only `successful` back (truthy: done; falsy: it reports "make sure the device id is valid") and
// raises on any non-2xx status. What it reads is asserted exactly; what a device received, from our side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'xsoar-user' })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const adminDeviceSpaceId = '1'; // the integration's default "admin_space_id"
const note = 'Message sent through XSOAR-Integration';

const enrolled = () => enrolledDevice(t, 'xsoar-user');

/** The integration's PUT wipe/retire/wakeup commands. */
function put(path: string, actionType: string, uuid: string) {
  return t.anon
    .put(`/api/v2/devices/${path}`)
    .auth('admin', adminPassword)
    .query({ adminDeviceSpaceId, actionType })
    .send({ deviceUuids: [uuid], note });
}

/** The integration's POST /devices/action commands (execute_device_action_command, send_message_command). */
function post(actionType: string, uuid: string, additionalParameters?: Record<string, unknown>) {
  return t.anon
    .post('/api/v2/devices/action')
    .auth('admin', adminPassword)
    .query({ adminDeviceSpaceId, actionType })
    .send({ deviceUuids: [uuid], note, ...(additionalParameters ? { additionalParameters } : {}) });
}

const requestTypes = (commands: PlistDict[]) => commands.map((c) => (c.Command as PlistDict).RequestType);

describe('XSOAR MobileIronCORE device actions', () => {
  let device: TestDevice;
  beforeAll(async () => {
    device = await enrolled();
  }, 60_000);

  it('mobileiron-core-force-checkin: PUT /devices/wakeup with actionType=WAKE_UP answers successful, as the fixture shows', async () => {
    const res = await put('wakeup', 'WAKE_UP', device.deviceUuid);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    // The fixture's whole shape (clients ignore our extra `results`).
    expect(res.body).toMatchObject({
      actionType: 'WAKE_UP',
      deviceResults: { [device.deviceUuid]: 'com.mobileiron.vsp.messages.device.action.successful' },
    });
    const pushes = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/pushes`);
    expect(pushes.body.results[0]).toMatchObject({ reason: 'wakeup' });
    // Force Device Check-in refreshes the device's details and app inventory.
    expect(requestTypes(await device.drain())).toEqual(['DeviceInformation', 'InstalledApplicationList']);
  });

  // Each POST action and what it means on an iOS device.
  const actions: Array<[string, string[]]> = [
    ['UNLOCK_DEVICE_ONLY', ['ClearPasscode']],
    ['ENABLE_VOICE_ROAMING', ['Settings']],
    ['DISABLE_VOICE_ROAMING', ['Settings']],
    ['ENABLE_DATA_ROAMING', ['Settings']],
    ['DISABLE_DATA_ROAMING', ['Settings']],
    ['ENABLE_PERSONAL_HOTSPOT', ['Settings']],
    ['DISABLE_PERSONAL_HOTSPOT', ['Settings']],
    ['UPDATE_OS', ['ScheduleOSUpdate']],
  ];
  it.each(actions)('POST /devices/action actionType=%s answers successful and the device receives %j', async (actionType, expected) => {
    const res = await post(actionType, device.deviceUuid);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    const received = await device.drain();
    expect(requestTypes(received)).toEqual(expected);
    if (actionType.endsWith('_ROAMING') || actionType.endsWith('_HOTSPOT')) {
      const item = { VOICE_ROAMING: 'VoiceRoaming', DATA_ROAMING: 'DataRoaming', PERSONAL_HOTSPOT: 'PersonalHotspot' }[
        actionType.replace(/^(ENABLE|DISABLE)_/, '')
      ];
      expect((received[0]!.Command as PlistDict).Settings).toEqual([{ Item: item, Enabled: actionType.startsWith('ENABLE_') }]);
    }
    if (actionType === 'UPDATE_OS') expect((received[0]!.Command as PlistDict).Updates).toEqual([{ InstallAction: 'Default' }]);
  });

  it('UNLOCK_APP_CONNECT_CONTAINER (Android only) answers 200 with successful false: XSOAR reports the failure, nothing is sent', async () => {
    const res = await post('UNLOCK_APP_CONNECT_CONTAINER', device.deviceUuid);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(false);
    expect(res.body.deviceResults[device.deviceUuid]).toBe('com.mobileiron.vsp.messages.device.action.failed.NOT_SUPPORTED');
    expect(await device.drain()).toEqual([]);
  });

  it.each([
    ['pns', 'Please call IT'],
    ['sms', null],
    ['email', ''],
  ])('mobileiron-core-send-message mode=%s (subject %j) answers successful and never locks the device', async (mode, subject) => {
    const before = (await t.admin.get(`/api/v2/devices/${device.deviceUuid}/pushes`)).body.totalCount;
    const res = await post('SEND_MESSAGE', device.deviceUuid, { message: 'Return your phone to IT', mode, subject });
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    // No DeviceLock (nor any other command) is queued, and the device is not even pushed.
    const queue = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands`).query({ status: 'Queued' });
    expect(queue.body.results).toEqual([]);
    expect(await device.drain()).toEqual([]);
    expect((await t.admin.get(`/api/v2/devices/${device.deviceUuid}/pushes`)).body.totalCount).toBe(before);
    // The notification is what is recorded.
    const audit = await t.admin
      .get('/api/v2/audit')
      .query({ action: 'device.send_message', objectType: 'device', objectId: device.deviceUuid, limit: 1 });
    expect(audit.body.results[0].details).toMatchObject({
      outcome: 'SUCCESS',
      note,
      notification: { mode, message: 'Return your phone to IT', subject: subject || null },
    });
  });

  it('mobileiron-core-retire-device: PUT /devices/retire with actionType=RETIRE answers successful; the device is retired', async () => {
    const d = await enrolled();
    const res = await put('retire', 'RETIRE', d.deviceUuid);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    expect(requestTypes(await d.drain())).toEqual(['RemoveProfile']);
    expect((await d.connect()).status).toBe(401);
  }, 60_000);

  it('mobileiron-core-wipe-device: PUT /devices/wipe with actionType=WIPE_DEVICE answers successful; the device is erased', async () => {
    const d = await enrolled();
    const res = await put('wipe', 'WIPE_DEVICE', d.deviceUuid);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    expect(requestTypes(await d.drain())).toEqual(['EraseDevice']);
  }, 60_000);

  it('an unknown device answers 200 with successful false (the integration reports "make sure the device id is valid")', async () => {
    const missing = '0badc0de-0000-4000-8000-00000000beef';
    const res = await put('wakeup', 'WAKE_UP', missing);
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(false);
    expect(res.body.deviceResults).toEqual({ [missing]: 'com.mobileiron.vsp.messages.device.action.failed.NOT_FOUND' });
  });
});

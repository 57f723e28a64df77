// Admin actions on memory stores: one rule decides each device's outcome from where it stands.
import { describe, expect, it } from 'vitest';
import { decodeCommand } from '../../../src/lib/mdm-protocol/index.js';
import type { Actor } from '../../../src/platform/auth/actor.js';
import { DomainError } from '../../../src/platform/errors/index.js';
import { apiErrorFrom, type ApiError } from '../../../src/platform/http/errors.js';
import { mdmOnMemory } from './memory.js';

const admin: Actor = { kind: 'admin', username: 'alice', role: 'admin' };
const viewer: Actor = { kind: 'admin', username: 'victor', role: 'viewer' };

/** The domain error a call fails with, as the admin API renders it (status, key, message). */
async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return apiErrorFrom(err);
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('device actions (memory stores)', () => {
  it('LOCK on an enrolled device queues DeviceLock with the message, pushes it, and audits the commands', async () => {
    const m = mdmOnMemory();
    const { uuid, id } = await m.enrolledDevice();
    const [result] = await m.mdm.action(admin, 'LOCK', [uuid], { message: 'Call IT', note: 'ticket 42' });
    expect(result).toMatchObject({ deviceUuid: uuid, status: 'SUCCESS', message: 'DeviceLock queued; push recorded' });
    const cmd = m.commands.rows.find((c) => c.commandUuid === result!.commandUuids![0])!;
    expect(cmd).toMatchObject({ deviceRef: id, requestType: 'DeviceLock', origin: 'action', status: 'Queued' });
    expect(decodeCommand(cmd.body).command).toMatchObject({ RequestType: 'DeviceLock', Message: 'Call IT' });
    expect(m.pushes.rows.at(-1)).toMatchObject({ deviceRef: id, reason: 'lock', outcome: 'recorded' });
    expect(m.audit.entries.at(-1)).toEqual({
      actor: 'alice',
      action: 'device.lock',
      objectType: 'device',
      objectId: uuid,
      details: { outcome: 'SUCCESS', deviceStatus: 'ACTIVE', commands: ['DeviceLock'], commandUuids: [cmd.commandUuid], note: 'ticket 42' },
    });
  });

  it('SEND_MESSAGE records a notification for the user: no command (never a DeviceLock), no push', async () => {
    const m = mdmOnMemory();
    const { uuid } = await m.enrolledDevice();
    const commandsBefore = m.commands.rows.length;
    const pushesBefore = m.pushes.rows.length;
    const [result] = await m.mdm.action(admin, 'SEND_MESSAGE', [uuid], { message: 'Return the device', mode: 'sms' });
    expect(result).toMatchObject({
      deviceUuid: uuid,
      status: 'SUCCESS',
      message: 'notification to the user recorded (sms)',
      commandUuids: [],
    });
    expect(m.commands.rows.length).toBe(commandsBefore);
    expect(m.pushes.rows.length).toBe(pushesBefore);
    expect(m.audit.entries.at(-1)).toMatchObject({
      action: 'device.send_message',
      details: { outcome: 'SUCCESS', notification: { mode: 'sms', subject: null, message: 'Return the device' } },
    });
  });

  it('maps Core action types to MDM commands: roaming and hotspot to Settings, UPDATE_OS to ScheduleOSUpdate', async () => {
    const m = mdmOnMemory();
    const { uuid } = await m.enrolledDevice();
    const sent = async (action: Parameters<typeof m.mdm.action>[1]) => {
      const [result] = await m.mdm.action(admin, action, [uuid]);
      return decodeCommand(m.commands.rows.find((c) => c.commandUuid === result!.commandUuids![0])!.body).command;
    };
    expect(await sent('DISABLE_DATA_ROAMING')).toMatchObject({
      RequestType: 'Settings',
      Settings: [{ Item: 'DataRoaming', Enabled: false }],
    });
    expect(await sent('ENABLE_VOICE_ROAMING')).toMatchObject({
      RequestType: 'Settings',
      Settings: [{ Item: 'VoiceRoaming', Enabled: true }],
    });
    expect(await sent('ENABLE_PERSONAL_HOTSPOT')).toMatchObject({
      RequestType: 'Settings',
      Settings: [{ Item: 'PersonalHotspot', Enabled: true }],
    });
    expect(await sent('UPDATE_OS')).toMatchObject({ RequestType: 'ScheduleOSUpdate', Updates: [{ InstallAction: 'Default' }] });
  });

  it('refuses each device with the reason it cannot be reached, and audits the refusal', async () => {
    const m = mdmOnMemory();
    const neverEnrolled = m.devices.add({ udid: 'a'.repeat(40) });
    const wiped = m.devices.add({ status: 'WIPED', pushToken: 'aa', pushMagic: 'm' });
    const lostIdentity = await m.enrolledDevice();
    for (const c of m.certificates.byFingerprint.values()) if (c.deviceRef === lostIdentity.id) c.revoked = true;
    const missing = '11111111-2222-4333-8444-555555555555';
    const results = await m.mdm.action(admin, 'LOCK', [neverEnrolled.uuid, wiped.uuid, lostIdentity.uuid, missing]);
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['FAILED', 'NOT_ENROLLED'],
      ['FAILED', 'WIPED'],
      ['FAILED', 'NO_IDENTITY'],
      ['FAILED', 'NOT_FOUND'],
    ]);
    expect(m.commands.rows).toHaveLength(0);
    expect(m.audit.entries.map((e) => (e.details as { reason: string }).reason)).toEqual([
      'NOT_ENROLLED',
      'WIPED',
      'NO_IDENTITY',
      'NOT_FOUND',
    ]);
  });

  it('RETIRE retires at once a device commands cannot reach, and queues profile removal for one they can', async () => {
    const m = mdmOnMemory();
    const pending = m.devices.add({ udid: 'b'.repeat(40) });
    const enrolled = await m.enrolledDevice();
    const [now, queued] = await m.mdm.action(admin, 'RETIRE', [pending.uuid, enrolled.uuid]);
    expect(now).toMatchObject({ status: 'SUCCESS', commandUuids: [], message: expect.stringMatching(/^retired at once: /) });
    expect(m.devices.get(pending.id).status).toBe('RETIRED');
    expect(m.audit.entries[0]!.details).toMatchObject({ newStatus: 'RETIRED' });
    expect(queued).toMatchObject({ status: 'SUCCESS', message: 'retire queued (profiles removed, then the MDM profile); push recorded' });
    const removal = m.commands.rows.find((c) => c.deviceRef === enrolled.id)!;
    expect(decodeCommand(removal.body).command).toMatchObject({
      RequestType: 'RemoveProfile',
      Identifier: `com.mockiron.mdm.${enrolled.uuid}`,
    });
    const [again] = await m.mdm.action(admin, 'RETIRE', [pending.uuid]);
    expect(again).toMatchObject({ status: 'FAILED', reason: 'RETIRED', message: 'the device is already RETIRED' });
  });

  it('UNLOCK_DEVICE_ONLY opens the sealed UnlockToken into ClearPasscode, and refuses a device that never sent one', async () => {
    const m = mdmOnMemory();
    const { uuid, id } = await m.enrolledDevice();
    const [none] = await m.mdm.action(admin, 'UNLOCK_DEVICE_ONLY', [uuid]);
    expect(none).toMatchObject({ status: 'FAILED', reason: 'NO_UNLOCK_TOKEN' });
    const token = Buffer.from('the-unlock-token');
    m.devices.rows.get(id)!.unlockToken = m.secrets.seal(token.toString('base64'), 'Device.unlockToken');
    const [sent] = await m.mdm.action(admin, 'UNLOCK_DEVICE_ONLY', [uuid]);
    const cmd = m.commands.rows.find((c) => c.commandUuid === sent!.commandUuids![0])!;
    expect(Buffer.from(decodeCommand(cmd.body).command.UnlockToken as Uint8Array)).toEqual(token);
  });

  it('checks options and the role before touching anything', async () => {
    const m = mdmOnMemory();
    const { uuid } = await m.enrolledDevice();
    expect((await apiError(m.mdm.action(admin, 'WAKEUP', [uuid], { pin: '123456' }))).status).toBe(400);
    expect((await apiError(m.mdm.action(admin, 'SEND_MESSAGE', [uuid], { message: '  ' }))).status).toBe(400);
    expect((await apiError(m.mdm.action(viewer, 'WAKEUP', [uuid]))).status).toBe(403);
    expect(m.audit.entries).toHaveLength(0);
    expect(m.pushes.rows).toHaveLength(0);
  });
});

describe('the raw queue and its views (memory stores)', () => {
  it('enqueues a raw command, lists it, cancels it while queued, and refuses to cancel one already sent', async () => {
    const m = mdmOnMemory();
    const { uuid, udid, who } = await m.enrolledDevice();
    const first = await m.mdm.enqueueRaw(admin, uuid, 'DeviceInformation', { Queries: ['OSVersion'] });
    const second = await m.mdm.enqueueRaw(admin, uuid, 'ProfileList', {});
    expect(first).toMatchObject({ requestType: 'DeviceInformation', status: 'Queued', origin: 'admin' });
    const listed = await m.mdm.listCommands(viewer, uuid, { limit: 10, offset: 0 });
    expect(listed).toMatchObject({ total: 2, results: [{ commandUuid: first.commandUuid }, { commandUuid: second.commandUuid }] });
    await m.connect(who, { UDID: udid, Status: 'Idle' });
    expect(await m.mdm.cancel(admin, uuid, second.commandUuid)).toEqual({ commandUuid: second.commandUuid, status: 'Canceled' });
    const conflict = await apiError(m.mdm.cancel(admin, uuid, first.commandUuid));
    expect(conflict.status).toBe(409);
    expect(conflict.message).toBe(`Command ${first.commandUuid} is Sent; only queued commands can be cancelled`);
    expect(m.audit.entries.map((e) => e.action)).toEqual(['command.enqueue', 'command.enqueue', 'command.cancel']);
  });

  it('refuses fields that contradict the RequestType, and an unknown device', async () => {
    const m = mdmOnMemory();
    const bad = await apiError(
      m.mdm.enqueueRaw(admin, '11111111-2222-4333-8444-555555555555', 'DeviceLock', { RequestType: 'EraseDevice' }),
    );
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/fields\.RequestType says "EraseDevice"/);
    m.devices.add();
    const missing = await apiError(m.mdm.enqueueRaw(admin, '11111111-2222-4333-8444-555555555555', 'ProfileList', {}));
    expect(missing.status).toBe(404);
  });

  it("details and the push list show the device's pushes and queue, newest push first", async () => {
    const m = mdmOnMemory();
    const { uuid, id } = await m.enrolledDevice();
    await m.mdm.action(admin, 'WAKEUP', [uuid]);
    await m.mdm.action(admin, 'LOCK', [uuid]);
    const details = await m.mdm.detailsFor(m.devices.get(id));
    expect(details).toMatchObject({
      'mdm.push_count': '2',
      'mdm.last_push_reason': 'lock',
      'mdm.queued_commands': '3',
      'mdm.push_token_present': 'true',
    });
    const pushes = await m.mdm.pushes(viewer, uuid, { limit: 10, offset: 0 });
    expect(pushes.results.map((p) => p.reason)).toEqual(['lock', 'wakeup']);
  });
});

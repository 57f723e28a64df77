// Command results and delivery on memory stores: what a device's answer changes, and what it gets next.
import { describe, expect, it } from 'vitest';
import { decodeCommand } from '../../../src/lib/mdm-protocol/index.js';
import type { Actor } from '../../../src/platform/auth/actor.js';
import { mdmOnMemory } from './memory.js';

const admin: Actor = { kind: 'admin', username: 'admin', role: 'admin' };

const app = { bundleId: 'com.example.app', iTunesStoreId: null, vpnUuid: null };

describe('command results (memory stores)', () => {
  it('an Idle poll delivers the queued command (marked Sent), then nothing once it is answered', async () => {
    const m = mdmOnMemory({ apps: [app] as never });
    const { who, udid, uuid } = await m.enrolledDevice();
    const first = await m.connect(who, { UDID: udid, Status: 'Idle' });
    expect(first).toMatchObject({ kind: 'command', deviceUuid: uuid, message: 'Idle' });
    const queued = m.commands.rows[0]!;
    expect(first.kind === 'command' && first.plist).toBe(queued.body);
    expect(queued).toMatchObject({ status: 'Sent', attempts: 1 });
    expect(decodeCommand(queued.body)).toMatchObject({ commandUuid: queued.commandUuid, requestType: 'InstallApplication' });
    const after = await m.connect(who, { UDID: udid, Status: 'Acknowledged', CommandUUID: queued.commandUuid });
    expect(after).toEqual({ kind: 'idle', deviceUuid: uuid, message: 'Acknowledged' });
    expect(m.commands.rows[0]).toMatchObject({ status: 'Acknowledged', completedAt: expect.any(Date) });
    expect(m.commands.rows[0]!.result).toContain(queued.commandUuid);
  });

  it('an acknowledged purpose updates what the device is known to hold, so the next reconciliation plans nothing', async () => {
    const m = mdmOnMemory({ apps: [app] as never });
    const { who, udid, id } = await m.enrolledDevice();
    const cmd = m.commands.rows[0]!;
    await m.connect(who, { UDID: udid, Status: 'Idle' });
    await m.connect(who, { UDID: udid, Status: 'Acknowledged', CommandUUID: cmd.commandUuid });
    expect(JSON.parse(m.devices.get(id).mdmState)).toEqual({ vpnProfile: null, apps: { 'com.example.app': { vpnUuid: null } } });
    expect(await m.mdm.reconcile(id)).toBe(0);
  });

  it('a NotNow answer is delivered again on the next Idle poll', async () => {
    const m = mdmOnMemory({ apps: [app] as never });
    const { who, udid } = await m.enrolledDevice();
    const cmd = m.commands.rows[0]!;
    await m.connect(who, { UDID: udid, Status: 'Idle' });
    expect(await m.connect(who, { UDID: udid, Status: 'NotNow', CommandUUID: cmd.commandUuid })).toMatchObject({ kind: 'idle' });
    expect(m.commands.rows[0]).toMatchObject({ status: 'NotNow', completedAt: null });
    expect(await m.connect(who, { UDID: udid, Status: 'Idle' })).toMatchObject({ kind: 'command', plist: cmd.body });
    expect(m.commands.rows[0]).toMatchObject({ status: 'Sent', attempts: 2 });
  });

  it('rejects a result for a CommandUUID the device was never sent, and keeps its queue', async () => {
    const m = mdmOnMemory();
    const { who, udid, uuid } = await m.enrolledDevice();
    const unknown = '6E0A2E2C-0000-4000-8000-000000000000';
    expect(await m.connect(who, { UDID: udid, Status: 'Acknowledged', CommandUUID: unknown })).toEqual({
      kind: 'rejected',
      reason: `unknown CommandUUID ${unknown}`,
      deviceUuid: uuid,
      message: 'Acknowledged',
    });
  });

  it('a DeviceInformation answer records the facts the device reported', async () => {
    const m = mdmOnMemory();
    const { who, udid, uuid, id } = await m.enrolledDevice();
    const [result] = await m.mdm.action(admin, 'UPDATE_DEVICE_INFO', [uuid]);
    const commandUuid = result!.commandUuids![0]!;
    await m.connect(who, { UDID: udid, Status: 'Idle' });
    await m.connect(who, {
      UDID: udid,
      Status: 'Acknowledged',
      CommandUUID: commandUuid,
      QueryResponses: { OSVersion: '18.1', DeviceName: 'Reported iPad', SerialNumber: 'SER-REPORTED' },
    });
    expect(m.devices.get(id)).toMatchObject({ osVersion: '18.1', deviceName: 'Reported iPad', serialNumber: 'SER-REPORTED' });
  });

  it('an acknowledged EraseDevice leaves the device WIPED with its identity revoked', async () => {
    const m = mdmOnMemory();
    const { who, udid, uuid, id } = await m.enrolledDevice();
    const [result] = await m.mdm.action(admin, 'WIPE', [uuid]);
    await m.connect(who, { UDID: udid, Status: 'Idle' });
    await m.connect(who, { UDID: udid, Status: 'Acknowledged', CommandUUID: result!.commandUuids![0]! });
    expect(m.devices.get(id)).toMatchObject({ status: 'WIPED', pushToken: null });
    expect(m.certificates.byFingerprint.get(who.fingerprint)).toMatchObject({ revoked: true, revokedReason: 'device wiped' });
  });

  it('refuses a result from a certificate whose device is not the UDID named', async () => {
    const m = mdmOnMemory();
    const { who } = await m.enrolledDevice();
    expect(await m.connect(who, { UDID: 'e'.repeat(40), Status: 'Idle' })).toEqual({
      kind: 'refused',
      reason: 'the UDID in the message does not match the device this certificate was issued to',
    });
  });
});

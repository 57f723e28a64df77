// The check-in part on memory stores: real signatures, real sealing, no SQLite.
import { describe, expect, it } from 'vitest';
import { mdmOnMemory, TOPIC } from './memory.js';

const UDID = '0000a1b2c3d4e5f60718293a4b5c6d7e8f901234';

describe('check-in (memory stores)', () => {
  it('Authenticate from a certificate minted without a device: creates the device, binds the certificate, records its facts', async () => {
    const m = mdmOnMemory();
    const who = m.identity(null);
    const generation = m.certificates.certificateGeneration;
    const outcome = await m.checkin(who, {
      MessageType: 'Authenticate',
      UDID,
      Topic: TOPIC,
      SerialNumber: 'F9FZ0001',
      ProductName: 'iPad8,1',
      OSVersion: '17.4',
    });
    const device = [...m.devices.rows.values()].find((d) => d.udid === UDID)!;
    expect(outcome).toEqual({ kind: 'accepted', deviceUuid: device.uuid, message: 'Authenticate' });
    expect(device).toMatchObject({ serialNumber: 'F9FZ0001', model: 'iPad8,1', osVersion: '17.4', topic: TOPIC, mdmState: '{}' });
    expect(m.certificates.byFingerprint.get(who.fingerprint)!.deviceRef).toBe(device.id);
    expect(m.certificates.certificateGeneration).toBe(generation + 1);
  });

  it('Authenticate on a record made before its device spoke (a direct profile) gives it the UDID; the identity is held to it from then on', async () => {
    const m = mdmOnMemory();
    const record = m.devices.add({ userRef: 7 });
    const who = m.identity(record.id);
    expect(await m.checkin(who, { MessageType: 'Authenticate', UDID, Topic: TOPIC })).toEqual({
      kind: 'accepted',
      deviceUuid: record.uuid,
      message: 'Authenticate',
    });
    expect(m.devices.get(record.id)).toMatchObject({ udid: UDID, userRef: 7 });
    expect(m.devices.rows.size).toBe(1);
    // The certificate's answer was cached while the record had no UDID: another UDID is refused now
    const other = 'f'.repeat(40);
    expect(await m.connect(who, { UDID: other, Status: 'Idle' })).toMatchObject({ kind: 'refused' });
    expect(await m.checkin(who, { MessageType: 'Authenticate', UDID: other, Topic: TOPIC })).toMatchObject({ kind: 'refused' });
    expect(m.devices.get(record.id).udid).toBe(UDID);
  });

  it('the UDID of a RETIRED or WIPED record moves to the new record; that of a record still enrolled stays, and Authenticate is refused', async () => {
    for (const status of ['RETIRED', 'WIPED']) {
      const m = mdmOnMemory();
      const old = m.devices.add({ udid: UDID, status, userRef: 1 });
      const record = m.devices.add({ userRef: 2 });
      const outcome = await m.checkin(m.identity(record.id), { MessageType: 'Authenticate', UDID, Topic: TOPIC });
      expect(outcome, status).toEqual({ kind: 'accepted', deviceUuid: record.uuid, message: 'Authenticate' });
      expect(m.devices.get(record.id).udid).toBe(UDID);
      expect(m.devices.get(old.id)).toMatchObject({ udid: null, status, userRef: 1 });
    }
    for (const status of ['ACTIVE', 'VERIFICATION_PENDING', 'LOST']) {
      const m = mdmOnMemory();
      const holder = m.devices.add({ udid: UDID, status });
      const record = m.devices.add();
      const outcome = await m.checkin(m.identity(record.id), { MessageType: 'Authenticate', UDID, Topic: TOPIC });
      expect(outcome, status).toMatchObject({ kind: 'refused', reason: expect.stringContaining(holder.uuid) });
      expect(m.devices.get(record.id).udid).toBeNull();
      expect(m.devices.get(holder.id).udid).toBe(UDID);
    }
  });

  it('a new Authenticate resets what the last enrollment left (tokens, known state) and keeps facts it does not send', async () => {
    const m = mdmOnMemory();
    const { who, udid, id } = await m.enrolledDevice();
    await m.devices.setMdmState(null as never, id, '{"vpnProfile":null}');
    const before = m.devices.get(id);
    expect(before.pushToken).not.toBeNull();
    await m.checkin(who, { MessageType: 'Authenticate', UDID: udid, Topic: TOPIC, DeviceName: 'Renamed' });
    expect(m.devices.get(id)).toMatchObject({ pushToken: null, pushMagic: null, unlockToken: null, mdmState: '{}', deviceName: 'Renamed' });
  });

  it('TokenUpdate makes the device ACTIVE, seals its UnlockToken, and reconciles it with its policy at once', async () => {
    const m = mdmOnMemory({ apps: [{ bundleId: 'com.example.app', iTunesStoreId: null, vpnUuid: null }] as never });
    const who = m.identity(null);
    await m.checkin(who, { MessageType: 'Authenticate', UDID, Topic: TOPIC });
    const unlock = Buffer.from('unlock-token-bytes');
    const outcome = await m.checkin(who, {
      MessageType: 'TokenUpdate',
      UDID,
      Topic: TOPIC,
      Token: Buffer.from([0xab, 0xcd]),
      PushMagic: 'magic-1',
      UnlockToken: unlock,
    });
    const device = [...m.devices.rows.values()][0]!;
    expect(outcome).toEqual({ kind: 'accepted', deviceUuid: device.uuid, message: 'TokenUpdate' });
    expect(device).toMatchObject({ status: 'ACTIVE', pushToken: 'abcd', pushMagic: 'magic-1' });
    expect(device.enrolledAt).toBeInstanceOf(Date);
    expect(device.unlockToken).not.toContain(unlock.toString('base64'));
    expect(m.secrets.open(device.unlockToken!, 'Device.unlockToken')).toBe(unlock.toString('base64'));
    expect(m.commands.rows.map((c) => [c.requestType, c.origin, c.purpose, c.status])).toEqual([
      ['InstallApplication', 'reconcile', 'app:com.example.app#install:none', 'Queued'],
    ]);
  });

  it('CheckOut retires the device: pending commands canceled, identity revoked, the next request refused', async () => {
    const m = mdmOnMemory({ apps: [{ bundleId: 'com.example.app', iTunesStoreId: null, vpnUuid: null }] as never });
    const { who, udid, id } = await m.enrolledDevice();
    expect(m.commands.rows.filter((c) => c.status === 'Queued')).toHaveLength(1);
    expect(await m.checkin(who, { MessageType: 'CheckOut', UDID: udid, Topic: TOPIC })).toMatchObject({ kind: 'accepted' });
    expect(m.devices.get(id)).toMatchObject({ status: 'RETIRED', pushToken: null });
    expect(m.commands.rows.map((c) => c.status)).toEqual(['Canceled']);
    expect(m.certificates.byFingerprint.get(who.fingerprint)).toMatchObject({
      revoked: true,
      revokedReason: expect.stringMatching(/CheckOut/),
    });
    expect(await m.connect(who, { UDID: udid, Status: 'Idle' })).toEqual({
      kind: 'refused',
      reason: 'the device certificate has been revoked (device retired or wiped)',
    });
  });

  it('refuses before reading the body: no signature, an unknown certificate, an expired one', async () => {
    const m = mdmOnMemory();
    const body = m.plist({ MessageType: 'Authenticate', UDID, Topic: TOPIC });
    const unsigned = await m.mdm.checkin({}, body);
    expect(unsigned).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/^Mdm-Signature rejected \(/) });
    expect(unsigned.deviceUuid).toBeUndefined();
    const stranger = m.identity(null);
    m.certificates.byFingerprint.delete(stranger.fingerprint);
    expect(await m.checkin(stranger, { MessageType: 'Authenticate', UDID, Topic: TOPIC })).toEqual({
      kind: 'refused',
      reason: 'the signing certificate was not issued to any device by this server',
    });
    const expired = m.identity(null, new Date(Date.now() - 1000));
    expect(await m.checkin(expired, { MessageType: 'Authenticate', UDID, Topic: TOPIC })).toEqual({
      kind: 'refused',
      reason: 'the device certificate has expired',
    });
    expect(m.devices.rows.size).toBe(0);
  });

  it("refuses a message naming another device's UDID, and TokenUpdate before the certificate is bound", async () => {
    const m = mdmOnMemory();
    const { who } = await m.enrolledDevice(UDID);
    expect(
      await m.checkin(who, { MessageType: 'TokenUpdate', UDID: 'f'.repeat(40), Topic: TOPIC, Token: Buffer.from('t'), PushMagic: 'p' }),
    ).toEqual({
      kind: 'refused',
      reason: 'the UDID in the message does not match the device this certificate was issued to',
    });
    const unbound = m.identity(null);
    expect(await m.checkin(unbound, { MessageType: 'TokenUpdate', UDID, Topic: TOPIC, Token: Buffer.from('t'), PushMagic: 'p' })).toEqual({
      kind: 'refused',
      reason: 'the certificate is not bound to a device yet: send Authenticate first',
    });
  });

  it('rejects a malformed body and an unknown MessageType, naming the device once it is known', async () => {
    const m = mdmOnMemory();
    const { who, udid, uuid } = await m.enrolledDevice();
    const garbage = Buffer.from('<plist><dict><key>MessageType</key>');
    expect(await m.mdm.checkin(who.sign(garbage), garbage)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/^malformed check-in: /),
      deviceUuid: uuid,
    });
    // the type the device made up is echoed in the reason only; the access log names it Unknown
    expect(await m.checkin(who, { MessageType: 'Bogus\tType', UDID: udid })).toEqual({
      kind: 'rejected',
      reason: 'unknown MessageType Bogus Type',
      deviceUuid: uuid,
      message: 'Unknown',
    });
  });

  it('refuses a device deleted since its certificate was cached, once told the device changed', async () => {
    const m = mdmOnMemory();
    const { who, udid, id } = await m.enrolledDevice();
    expect(await m.connect(who, { UDID: udid, Status: 'Idle' })).toMatchObject({ kind: 'idle' });
    m.devices.rows.delete(id);
    m.mdm.markDirty([id]);
    expect(await m.connect(who, { UDID: udid, Status: 'Idle' })).toEqual({
      kind: 'refused',
      reason: 'the device of this certificate no longer exists',
    });
  });
});

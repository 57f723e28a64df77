// A device enrolled from a direct enrollment profile (GET /mdm/enroll?token=) whose invitation
// names no device: the hand-out makes the invitation's device record (the invitation's user, no
// UDID yet), names the profile after it and binds the SCEP challenge to it; Authenticate tells
// the record its UDID. So the device is listed under the invitation's user, and RETIRE's
// RemoveProfile names exactly the identifier the installed profile carries.
//
// Judges that are not mockiron's code: `openssl cms -verify` checks the profile against our CA
// and Python's plistlib reads the PayloadIdentifier the device would install it under.
//
// Sources:
// - Apple, MDM protocol: RemoveProfile takes the PayloadIdentifier of an installed profile
//   (removing one the device does not hold is an error: MCMDMErrorDomain 12013 / "not managed");
//   removing the enrollment profile unenrolls the device, which then sends CheckOut when the
//   MDM payload says CheckOutWhenRemoved.
// - MicroMDM (micromdm/micromdm, "Enrollment" docs and its /mdm/enroll handler): a profile handed
//   out before the device is known, the device bound at Authenticate by its UDID.
// - MobileIron Core: a registration (a pending device record for a user) exists before the device
//   enrolls, and the enrolled device is that record, listed under the user.
// - RFC 8894 §2.2 and §3.3.1: the SCEP challengePassword is the server's one-time secret; here
//   it is bound to the record made at hand-out.
// Their behaviour was read, not their code copied.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let tmp: string;
let counter = 0;

function run(cmd: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(cmd, args, { input });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${result.stderr.toString()}`);
  return result.stdout;
}

/** The signed profile verified by openssl against our CA: its content. */
function opensslVerified(signed: Buffer): Buffer {
  const ca = path.join(tmp, `${++counter}-ca.pem`);
  writeFileSync(ca, t.services.signing.ca!.certificatePem);
  return run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', ca, '-purpose', 'any', '-binary'], signed);
}

/** The identifier the device installs the profile under, as plistlib reads it. */
const plistlibIdentifier = (xml: Buffer) =>
  run('python3', ['-c', 'import plistlib, sys; print(plistlib.loads(sys.stdin.buffer.read())["PayloadIdentifier"])'], xml)
    .toString()
    .trim();

async function invite(userId: string, body: Record<string, unknown> = {}) {
  const res = await t.admin.post('/api/v2/enrollments').send({ userId, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.results as { id: number; token: string };
}

/** Fetches the direct profile as a device would (signed), checks it with openssl; its identifier and SCEP payload. */
async function fetchProfile(token: string): Promise<{ identifier: string; scep: PlistDict }> {
  const res = await t.anon.get(`/mdm/enroll?token=${token}`).buffer(true).parse(rawBody);
  expect(res.status).toBe(200);
  const xml = opensslVerified(res.body as Buffer);
  const profile = parsePlist(xml) as PlistDict;
  const scep = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.scep')!;
  return { identifier: plistlibIdentifier(xml), scep: scep.PayloadContent as PlistDict };
}

const fields = 'common.uuid,common.status,ios.iPhone UDID,user.user_id';

async function devicesWhere(query: string): Promise<Record<string, string>[]> {
  const res = await t.admin.get('/api/v2/devices').query({ query, fields, limit: 50 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.results;
}

const byUdid = (udid: string) => devicesWhere(`"ios.iPhone UDID" = "${udid}"`);
const byUuid = async (uuid: string) => (await devicesWhere(`"common.uuid" = "${uuid}"`))[0];

/** SCEP with the profile's challenge, Authenticate, TokenUpdate, and the reconciliation's first commands answered. */
async function enroll(device: TestDevice, scep: PlistDict) {
  expect((await device.scep(scep)).status).toBe('SUCCESS');
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  await device.drain();
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mockiron-direct-retire-'));
  t = await startTestApp();
  for (const userId of ['ana', 'ben', 'cleo']) expect((await t.admin.post('/api/v2/users').send({ userId })).status).toBe(201);
});
afterAll(async () => {
  if (t) {
    await t.close();
    removeDir(t.dataDir);
  }
  removeDir(tmp);
});

describe('direct enrollment profile of an invitation that names no device', () => {
  it("lists the device under the invitation's user; RETIRE removes exactly the installed profile, and CheckOut retires the device", async () => {
    const inv = await invite('ana');
    const { identifier, scep } = await fetchProfile(inv.token);
    expect(identifier).toMatch(/^com\.mockiron\.mdm\.[0-9a-f-]{36}$/);
    const uuid = identifier.slice('com.mockiron.mdm.'.length);
    // Before the device speaks: its record waits for it, for ana, without a UDID
    expect(await byUuid(uuid)).toMatchObject({ 'common.status': 'VERIFICATION_PENDING', 'user.user_id': 'ana' });
    expect((await byUuid(uuid))!['ios.iPhone UDID']).toBeFalsy();
    const invitation = (await t.admin.get('/api/v2/enrollments?limit=200')).body.results.find((r: { id: number }) => r.id === inv.id);
    expect(invitation).toMatchObject({ deviceUuid: uuid, userId: 'ana' });
    expect(invitation.usedAt).not.toBeNull();
    // A second fetch of the spent token gives no profile
    expect((await t.anon.get(`/mdm/enroll?token=${inv.token}`)).status).toBe(410);

    const device = new TestDevice(t.app);
    await enroll(device, scep);
    expect(await devicesWhere('"user.user_id" = "ana"')).toEqual([
      { 'common.uuid': uuid, 'common.status': 'ACTIVE', 'ios.iPhone UDID': device.udid, 'user.user_id': 'ana' },
    ]);

    const retire = await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [uuid], note: 'direct retire' });
    expect(retire.body.results[0].status, JSON.stringify(retire.body)).toBe('SUCCESS');
    const next = await device.connect();
    expect(next.command?.Command).toMatchObject({ RequestType: 'RemoveProfile', Identifier: identifier });
    // The device removes the profile and says so with CheckOut (as CheckOutWhenRemoved asks)
    expect((await device.checkin({ MessageType: 'CheckOut', Topic: 'com.apple.mgmt.External.mockiron' })).status).toBe(200);
    expect(await byUuid(uuid)).toMatchObject({ 'common.status': 'RETIRED', 'user.user_id': 'ana' });
    expect((await device.connect()).status).toBe(401);
  });

  it('re-enrolls a retired device through a new invitation: the UDID moves to the new record, the old one keeps its history', async () => {
    const first = await fetchProfile((await invite('ben')).token);
    const device = new TestDevice(t.app);
    await enroll(device, first.scep);
    const oldUuid = first.identifier.slice('com.mockiron.mdm.'.length);
    const retire = await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [oldUuid] });
    expect(retire.body.results[0].status).toBe('SUCCESS');
    expect((await device.checkin({ MessageType: 'CheckOut', Topic: 'com.apple.mgmt.External.mockiron' })).status).toBe(200);

    const second = await fetchProfile((await invite('cleo')).token);
    const newUuid = second.identifier.slice('com.mockiron.mdm.'.length);
    expect(newUuid).not.toBe(oldUuid);
    await enroll(device, second.scep);
    expect(await byUdid(device.udid)).toEqual([
      { 'common.uuid': newUuid, 'common.status': 'ACTIVE', 'ios.iPhone UDID': device.udid, 'user.user_id': 'cleo' },
    ]);
    expect(await byUuid(oldUuid)).toMatchObject({ 'common.status': 'RETIRED', 'user.user_id': 'ben' });
    expect((await byUuid(oldUuid))!['ios.iPhone UDID']).toBeFalsy();
  });

  it('refuses (401) an Authenticate naming the UDID of another record still enrolled, and changes neither record', async () => {
    const enrolled = await fetchProfile((await invite('ana')).token);
    const device = new TestDevice(t.app);
    await enroll(device, enrolled.scep);
    const enrolledUuid = enrolled.identifier.slice('com.mockiron.mdm.'.length);

    // Another invitation's identity, presented with the enrolled device's UDID
    const other = await fetchProfile((await invite('ben')).token);
    const claimant = new TestDevice(t.app);
    expect((await claimant.scep(other.scep)).status).toBe('SUCCESS');
    Object.assign(claimant, { udid: device.udid });
    expect((await claimant.authenticate()).status).toBe(401);
    const otherUuid = other.identifier.slice('com.mockiron.mdm.'.length);
    expect((await byUuid(otherUuid))!['ios.iPhone UDID']).toBeFalsy();
    expect(await byUdid(device.udid)).toEqual([
      { 'common.uuid': enrolledUuid, 'common.status': 'ACTIVE', 'ios.iPhone UDID': device.udid, 'user.user_id': 'ana' },
    ]);
    expect((await device.connect()).status).toBe(200);
  });

  it('reuses a pre-registered record without a UDID that the invitation names: it gets the UDID at Authenticate, then is held to it', async () => {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'PREREG0001' });
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const uuid = created.body.results['common.uuid'] as string;
    const { identifier, scep } = await fetchProfile((await invite('cleo', { deviceUuid: uuid })).token);
    expect(identifier).toBe(`com.mockiron.mdm.${uuid}`);
    expect(await byUuid(uuid)).toMatchObject({ 'common.status': 'VERIFICATION_PENDING', 'user.user_id': 'cleo' });
    const device = new TestDevice(t.app);
    await enroll(device, scep);
    expect(await byUdid(device.udid)).toEqual([
      { 'common.uuid': uuid, 'common.status': 'ACTIVE', 'ios.iPhone UDID': device.udid, 'user.user_id': 'cleo' },
    ]);
    // The identity is this record's now: the same certificate with another UDID is refused
    const impostor = new TestDevice(t.app);
    Object.assign(impostor, { key: device.key, certificate: device.certificate });
    expect((await impostor.connect()).status).toBe(401);
    expect((await impostor.authenticate()).status).toBe(401);
  });
});

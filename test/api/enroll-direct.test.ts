// The direct enrollment profile (GET /mdm/enroll?token=, GET /api/v2/enrollments/{id}/profile)
// and MachineInfo enrollment (POST /mdm/enroll), judged by clients that are not mockiron's code:
// `openssl cms -verify` checks the signed profiles against our CA, Python's plistlib reads the
// plain ones, and `openssl cms -sign -nodetach -outform DER` signs MachineInfo with a self-signed
// device certificate, as an Apple device signs it with its device identity.
//
// Sources:
// - Apple, device-management other/machineinfo.yaml: MachineInfo's keys (UDID, SERIAL, PRODUCT,
//   VERSION required; OS_VERSION from iOS 17; LANGUAGE, IMEI, MEID, PAIRING_TOKEN... optional).
// - Apple, "Device Enrollment Program / Automated Device Enrollment": the device POSTs the
//   CMS-signed MachineInfo to the profile's URL (Content-Type application/pkcs7-signature) and
//   receives the enrollment profile (application/x-apple-aspen-config).
// - MicroMDM's documentation (Enrollment): "an enrollment handler at its /mdm/enroll URL ... used
//   both for user and DEP enrollments", fetched with `curl -o enroll.mobileconfig .../mdm/enroll`,
//   unsigned by default; its SCEP challenge is the server's and the device binds at Authenticate.
// - Zentral (zentralopensource/zentral, contrib/mdm DEP enrollment view) and Commandment
//   (cmdmnt/commandment, dep_app with verify_cms_signers) verify the CMS over MachineInfo before
//   reading it; Zentral also checks the signer is issued by Apple's iPhone Device CA, which a
//   mock cannot hold: here the signature is verified, the chain is not (docs/enrollment.md).
// Their behaviour was read, not their code copied.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { parsePlist, toXmlPlist, type PlistDict } from '../../src/lib/plist/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let open: TestApp;
let tmp: string;
let counter = 0;

function file(name: string, data: Buffer | string): string {
  const p = path.join(tmp, `${++counter}-${name}`);
  writeFileSync(p, data);
  return p;
}

function run(cmd: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(cmd, args, { input });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${result.stderr.toString()}`);
  return result.stdout;
}

/** Python's plistlib reads the profile and prints what a tool would take from it, as JSON. */
function plistlibRead(xml: Buffer): { types: string[]; scep: Record<string, unknown>; mdm: Record<string, unknown>; identifier: string } {
  const script = [
    'import json, plistlib, sys',
    'p = plistlib.loads(sys.stdin.buffer.read())',
    'c = p["PayloadContent"]',
    'scep = next(x["PayloadContent"] for x in c if x["PayloadType"] == "com.apple.security.scep")',
    'mdm = next(x for x in c if x["PayloadType"] == "com.apple.mdm")',
    'print(json.dumps({"types": [x["PayloadType"] for x in c], "identifier": p["PayloadIdentifier"],',
    '  "scep": {"URL": scep["URL"], "Challenge": scep["Challenge"], "Subject": scep["Subject"]},',
    '  "mdm": {k: mdm[k] for k in ("ServerURL", "CheckInURL", "Topic", "SignMessage", "IdentityCertificateUUID")}}))',
  ].join('\n');
  return JSON.parse(run('python3', ['-c', script], xml).toString());
}

/** `openssl cms -verify` against our CA: the signed content, or a throw. */
function opensslVerified(app: TestApp, signed: Buffer): Buffer {
  const ca = file('ca.pem', app.services.signing.ca!.certificatePem);
  return run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', ca, '-purpose', 'any', '-binary'], signed);
}

/** A device key and self-signed certificate made by openssl, as a device identity stands in. */
function deviceIdentity(): { key: string; cert: string } {
  const key = file('device.key', '');
  const cert = file('device.pem', '');
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    '/CN=Apple iPhone Device',
    '-days',
    '1',
  ]);
  return { key, cert };
}

/** `content` signed by openssl (`cms -sign -nodetach -outform DER`), as a device signs with its identity. */
function opensslSigned(content: Buffer, identity = deviceIdentity()): Buffer {
  return run(
    'openssl',
    ['cms', '-sign', '-nodetach', '-binary', '-outform', 'DER', '-signer', identity.cert, '-inkey', identity.key, '-md', 'sha256'],
    content,
  );
}

/** MachineInfo as an iPad sends it, CMS-signed by openssl. */
const signedMachineInfo = (info: PlistDict, identity = deviceIdentity()) => opensslSigned(Buffer.from(toXmlPlist(info)), identity);

function machineInfo(udid: string, serial: string): PlistDict {
  return {
    UDID: udid,
    SERIAL: serial,
    PRODUCT: 'iPad8,1',
    VERSION: '21A329',
    OS_VERSION: '17.0',
    LANGUAGE: 'en',
    IMEI: '35 123456 789012 3',
    MDM_CAN_REQUEST_SOFTWARE_UPDATE: true,
    SOFTWARE_UPDATE_DEVICE_ID: 'J317AP',
  };
}

const postMachineInfo = (app: TestApp, body: Buffer, query = '') =>
  supertest(app.app).post(`/mdm/enroll${query}`).set('Content-Type', 'application/pkcs7-signature').send(body).buffer(true).parse(rawBody);

async function invite(app: TestApp, body: Record<string, unknown> = {}) {
  const res = await app.admin.post('/api/v2/enrollments').send({ userId: 'direct-user', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.results as { id: number; token: string; url: string };
}

/** The invitation as GET /api/v2/enrollments lists it. */
async function invitationListed(app: TestApp, id: number): Promise<{ deviceUuid: string | null; usedAt: string | null; userId: string }> {
  const res = await app.admin.get('/api/v2/enrollments?limit=200');
  return res.body.results.find((r: { id: number }) => r.id === id);
}

async function deviceByUdid(app: TestApp, udid: string) {
  const res = await app.admin.get('/api/v2/devices').query({
    query: `"ios.iPhone UDID" = "${udid}"`,
    fields: 'common.uuid,common.status,common.SerialNumber,common.model,common.os_version',
  });
  return res.body.results as Record<string, string>[];
}

const udid = () => randomBytes(20).toString('hex');
const serial = () => `F${randomBytes(5).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mockiron-enroll-direct-'));
  t = await startTestApp();
  open = await startTestApp({ env: { MOCKIRON_ENROLL_UNKNOWN_DEVICES: '1' } });
  for (const app of [t, open]) await app.admin.post('/api/v2/users').send({ userId: 'direct-user' });
});
afterAll(async () => {
  for (const app of [t, open]) {
    if (!app) continue;
    await app.close();
    removeDir(app.dataDir);
  }
  removeDir(tmp);
});

describe('GET /mdm/enroll?token= (direct enrollment profile)', () => {
  it('answers the signed enrollment profile once: openssl verifies it against our CA, a second fetch is 410', async () => {
    const inv = await invite(t);
    const res = await t.anon.get(`/mdm/enroll?token=${inv.token}`).buffer(true).parse(rawBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-apple-aspen-config');
    const read = plistlibRead(opensslVerified(t, res.body as Buffer));
    expect(read.types).toEqual(['com.apple.security.root', 'com.apple.security.scep', 'com.apple.mdm']);
    expect(read.scep.URL).toMatch(/\/scep$/);
    expect(read.mdm).toMatchObject({ SignMessage: true, Topic: 'com.apple.mgmt.External.mockiron' });
    expect(read.mdm.ServerURL).toMatch(/\/mdm\/connect$/);
    const again = await t.anon.get(`/mdm/enroll?token=${inv.token}`);
    expect(again.status).toBe(410);
    expect(again.headers['content-type']).toMatch(/^text\/plain/);
    // the OTA URL of the same invitation is spent too: one invitation, one enrollment
    expect((await t.anon.get(new URL(inv.url).pathname + new URL(inv.url).search)).status).toBe(410);
  });

  it('signed=false answers the same profile as plain XML, which Python plistlib reads', async () => {
    const inv = await invite(t);
    const res = await t.anon.get(`/mdm/enroll?token=${inv.token}&signed=false`).buffer(true).parse(rawBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-apple-aspen-config');
    const body = res.body as Buffer;
    expect(body.subarray(0, 5).toString()).toBe('<?xml');
    const read = plistlibRead(body);
    expect(read.types).toEqual(['com.apple.security.root', 'com.apple.security.scep', 'com.apple.mdm']);
    // named after the device record the hand-out made for the invitation
    const listed = await invitationListed(t, inv.id);
    expect(listed.deviceUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(read.identifier).toBe(`com.mockiron.mdm.${listed.deviceUuid}`);
    expect(read.scep.Challenge).toMatch(/^\S{16,}$/);
  });

  it('refuses unknown, malformed and bad signed= values with 4xx, never 500', async () => {
    expect((await t.anon.get(`/mdm/enroll?token=${'x'.repeat(24)}`)).status).toBe(404);
    expect((await t.anon.get('/mdm/enroll?token=short')).status).toBe(400);
    expect((await t.anon.get(`/mdm/enroll?token=${'x'.repeat(65)}`)).status).toBe(400);
    expect((await t.anon.get('/mdm/enroll')).status).toBe(400);
    const inv = await invite(t);
    expect((await t.anon.get(`/mdm/enroll?token=${inv.token}&signed=maybe`)).status).toBe(400);
    // a refused request did not spend it
    expect((await t.anon.get(`/mdm/enroll?token=${inv.token}`)).status).toBe(200);
  });

  it('enrolls: SCEP with the profile challenge, then Authenticate binds the device record by UDID and TokenUpdate makes it ACTIVE', async () => {
    const inv = await invite(t);
    const res = await t.anon.get(`/mdm/enroll?token=${inv.token}`).buffer(true).parse(rawBody);
    const profile = parsePlist(opensslVerified(t, res.body as Buffer)) as PlistDict;
    const device = new TestDevice(t.app);
    const scepPayload = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.scep')!;
    expect((await device.scep(scepPayload.PayloadContent as PlistDict)).status).toBe('SUCCESS');
    expect(await deviceByUdid(t, device.udid)).toEqual([]);
    expect((await device.authenticate()).status).toBe(200);
    expect((await device.tokenUpdate()).status).toBe(200);
    const [row] = await deviceByUdid(t, device.udid);
    expect(row).toMatchObject({ 'common.status': 'ACTIVE', 'common.SerialNumber': device.serial });
    expect((await device.connect()).status).toBe(200);
    // the challenge was one use
    const other = new TestDevice(t.app);
    expect((await other.scep(scepPayload.PayloadContent as PlistDict)).status).toBe('FAILURE');
  });

  it('an invitation naming a device with a UDID binds the identity to that record: Authenticate from another UDID is refused', async () => {
    const owner = new TestDevice(t.app);
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', udid: owner.udid, serialNumber: owner.serial });
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const uuid = created.body.results['common.uuid'] as string;
    const inv = await invite(t, { deviceUuid: uuid });
    const res = await t.anon.get(`/mdm/enroll?token=${inv.token}&signed=false`).buffer(true).parse(rawBody);
    const profile = parsePlist(res.body as Buffer) as PlistDict;
    expect(profile.PayloadIdentifier).toBe(`com.mockiron.mdm.${uuid}`);
    const scepPayload = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.scep')!;
    expect((await owner.scep(scepPayload.PayloadContent as PlistDict)).status).toBe('SUCCESS');
    // the same identity, presented by a device with another UDID
    const impostor = new TestDevice(t.app);
    impostor.key = owner.key;
    impostor.certificate = owner.certificate;
    expect((await impostor.authenticate()).status).toBe(401);
    expect((await owner.authenticate()).status).toBe(200);
    expect((await owner.tokenUpdate()).status).toBe(200);
    expect((await deviceByUdid(t, owner.udid))[0]).toMatchObject({ 'common.uuid': uuid, 'common.status': 'ACTIVE' });
  });

  it('a PKCS#12 invitation: the profile carries an identity openssl opens with its password, and Authenticate binds it by UDID', async () => {
    const inv = await invite(t, { identity: 'pkcs12' });
    const res = await t.anon.get(`/mdm/enroll?token=${inv.token}&signed=false`).buffer(true).parse(rawBody);
    expect(res.status).toBe(200);
    const profile = parsePlist(res.body as Buffer) as PlistDict;
    const p12 = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.pkcs12')!;
    const pem = run(
      'openssl',
      ['pkcs12', '-nodes', '-passin', `pass:${p12.Password as string}`],
      Buffer.from(p12.PayloadContent as Uint8Array),
    ).toString();
    const device = new TestDevice(t.app);
    device.key = createPrivateKey(pem);
    device.certificate = new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
    expect(device.certificate.subject).toContain(`CN=mockiron device ${(await invitationListed(t, inv.id)).deviceUuid}`);
    expect(device.certificate.checkPrivateKey(device.key)).toBe(true);
    expect((await device.authenticate()).status).toBe(200);
    expect((await device.tokenUpdate()).status).toBe(200);
    expect((await deviceByUdid(t, device.udid))[0]).toMatchObject({ 'common.status': 'ACTIVE' });
  });
});

describe('GET /api/v2/enrollments/{id}/profile', () => {
  it('gives an admin the profile of an invitation (signed, or plain with signed=false) and spends it', async () => {
    const inv = await invite(t);
    const plain = await t.admin.get(`/api/v2/enrollments/${inv.id}/profile?signed=false`).buffer(true).parse(rawBody);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/x-apple-aspen-config');
    expect(plistlibRead(plain.body as Buffer).types).toContain('com.apple.mdm');
    const spent = await t.admin.get(`/api/v2/enrollments/${inv.id}/profile`);
    expect(spent.status).toBe(410);
    expect(spent.body.messages[0].messageKey).toBe('com.mockiron.messages.enrollment.invitationSpent');
    expect((await t.anon.get(`/mdm/enroll?token=${inv.token}`)).status).toBe(410);
    const listed = (await t.admin.get('/api/v2/enrollments?limit=50')).body.results.find((r: { id: number }) => r.id === inv.id);
    expect(listed.usedAt).not.toBeNull();
  });

  it('needs credentials; unknown ids are 404 in the envelope, bad ids 400', async () => {
    const inv = await invite(t);
    expect((await t.anon.get(`/api/v2/enrollments/${inv.id}/profile`)).status).toBe(401);
    const missing = await t.admin.get('/api/v2/enrollments/999999/profile');
    expect(missing.status).toBe(404);
    expect(missing.body.messages[0].type).toBe('Error');
    expect((await t.admin.get('/api/v2/enrollments/abc/profile')).status).toBe(400);
    expect((await t.admin.get(`/api/v2/enrollments/${inv.id}/profile?signed=no`)).status).toBe(400);
    // the refusals did not spend it
    expect((await t.admin.get(`/api/v2/enrollments/${inv.id}/profile`)).status).toBe(200);
  });
});

describe('POST /mdm/enroll (MachineInfo signed by openssl)', () => {
  it('refuses a device no record knows (403, plain text) unless the server enrolls unknown devices', async () => {
    const info = machineInfo(udid(), serial());
    const refused = await postMachineInfo(t, signedMachineInfo(info));
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^text\/plain/);
    expect((refused.body as Buffer).toString()).toContain('--enroll-unknown-devices');
    expect(await deviceByUdid(t, info.UDID as string)).toEqual([]);

    const res = await postMachineInfo(open, signedMachineInfo(info));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-apple-aspen-config');
    const read = plistlibRead(opensslVerified(open, res.body as Buffer));
    const [row] = await deviceByUdid(open, info.UDID as string);
    expect(row).toMatchObject({
      'common.status': 'VERIFICATION_PENDING',
      'common.SerialNumber': info.SERIAL,
      'common.model': 'iPad8,1',
      'common.os_version': '17.0',
    });
    expect(read.identifier).toBe(`com.mockiron.mdm.${row!['common.uuid']}`);
  });

  it('reads MachineInfo as Apple writes it: plistlib XML (Apple DOCTYPE) and binary plist, with every documented key', async () => {
    for (const format of ['FMT_XML', 'FMT_BINARY']) {
      const id = udid();
      const script = [
        'import plistlib, sys',
        'info = {"UDID": sys.argv[1], "SERIAL": sys.argv[2], "PRODUCT": "iPad13,1", "VERSION": "21A329", "OS_VERSION": "17.0",',
        '  "SUPPLEMENTAL_BUILD_VERSION": "21A329", "SUPPLEMENTAL_OS_VERSION_EXTRA": "", "IMEI": "35 123456 789012 3",',
        '  "MEID": "35123456789012", "LANGUAGE": "en", "MDM_CAN_REQUEST_SOFTWARE_UPDATE": True,',
        '  "PAIRING_TOKEN": bytes(range(32)), "SOFTWARE_UPDATE_DEVICE_ID": "J307AP"}',
        `sys.stdout.buffer.write(plistlib.dumps(info, fmt=plistlib.${format}))`,
      ].join('\n');
      const plist = run('python3', ['-c', script, id, serial()]);
      if (format === 'FMT_XML') expect(plist.toString()).toContain('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"');
      else expect(plist.subarray(0, 8).toString()).toBe('bplist00');
      const res = await postMachineInfo(open, opensslSigned(plist));
      expect(res.status, `${format}: ${(res.body as Buffer).toString()}`).toBe(200);
      expect((await deviceByUdid(open, id))[0]).toMatchObject({ 'common.model': 'iPad13,1', 'common.os_version': '17.0' });
    }
  });

  it('binds a pre-registered serial number to its device record, plain with signed=false, and enrolls over SCEP', async () => {
    const device = new TestDevice(t.app, 'iPad8,1', '17.0');
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: device.serial, userId: 'direct-user' });
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const uuid = created.body.results['common.uuid'] as string;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const res = await postMachineInfo(t, signedMachineInfo({ ...machineInfo(device.udid, device.serial) }), '?signed=false');
    expect(res.status, (res.body as Buffer).toString()).toBe(200);
    const read = plistlibRead(res.body as Buffer);
    expect(read.identifier).toBe(`com.mockiron.mdm.${uuid}`);
    const [row] = await deviceByUdid(t, device.udid);
    expect(row!['common.uuid']).toBe(uuid);
    const profile = parsePlist(res.body as Buffer) as PlistDict;
    const scepPayload = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.scep')!;
    expect((await device.scep(scepPayload.PayloadContent as PlistDict)).status).toBe('SUCCESS');
    expect((await device.authenticate()).status).toBe(200);
    expect((await device.tokenUpdate()).status).toBe(200);
    expect((await deviceByUdid(t, device.udid))[0]).toMatchObject({ 'common.uuid': uuid, 'common.status': 'ACTIVE' });
  });

  it('refuses a serial number registered to a record with another UDID (409)', async () => {
    const s = serial();
    const first = machineInfo(udid(), s);
    expect((await postMachineInfo(open, signedMachineInfo(first))).status).toBe(200);
    const res = await postMachineInfo(open, signedMachineInfo(machineInfo(udid(), s)));
    expect(res.status).toBe(409);
  });

  it('refuses unsigned, tampered, malformed and out-of-bounds MachineInfo with 4xx and changes nothing', async () => {
    const info = machineInfo(udid(), serial());
    const signed = signedMachineInfo(info);
    const cases: Array<[string, Buffer, number]> = [
      ['the plain plist, unsigned', Buffer.from(toXmlPlist(info)), 400],
      ['garbage', Buffer.from('not a cms structure'), 400],
      ['truncated CMS', signed.subarray(0, signed.length - 40), 400],
      ['missing SERIAL', signedMachineInfo({ UDID: udid(), PRODUCT: 'iPad8,1', VERSION: '21A329' }), 400],
      ['SERIAL of the wrong type', signedMachineInfo({ ...info, SERIAL: 12 }), 400],
      ['a 65-character UDID', signedMachineInfo({ ...info, UDID: 'a'.repeat(65) }), 400],
      ['a UDID with a newline', signedMachineInfo({ ...info, UDID: 'abc\ndef' }), 400],
      ['a 10 KB PRODUCT', signedMachineInfo({ ...info, PRODUCT: 'x'.repeat(10_000) }), 400],
      ['a 2 KB PAIRING_TOKEN', signedMachineInfo({ ...info, PAIRING_TOKEN: Buffer.alloc(2048) }), 400],
      ['not a dictionary', opensslSigned(Buffer.from(toXmlPlist(['UDID']))), 400],
      ['not a plist', opensslSigned(Buffer.from('UDID=1')), 400],
      ['an empty body', Buffer.alloc(0), 400],
      ['a body over 64 KiB', Buffer.alloc(65 * 1024 + 1, 0x30), 413],
    ];
    for (const [name, body, status] of cases) {
      const res = await postMachineInfo(open, body);
      expect(res.status, name).toBe(status);
      expect(res.headers['content-type'], name).toMatch(/^text\/plain/);
    }
    expect(await deviceByUdid(open, info.UDID as string)).toEqual([]);
    // tampering: the signed bytes with one byte of the content changed
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf(Buffer.from('iPad8,1'));
    tampered[at] = 'j'.charCodeAt(0);
    expect((await postMachineInfo(open, tampered)).status).toBe(400);
  });

  it('the key that signed MachineInfo is not a device identity: MDM requests signed with it are refused (401)', async () => {
    const identity = deviceIdentity();
    const info = machineInfo(udid(), serial());
    expect((await postMachineInfo(open, signedMachineInfo(info, identity))).status).toBe(200);
    const body = Buffer.from(
      toXmlPlist({ MessageType: 'Authenticate', UDID: info.UDID as string, Topic: 'com.apple.mgmt.External.mockiron' }),
    );
    const signature = signMdmRequest(body, {
      privateKey: createPrivateKey(readFileSync(identity.key)),
      certificate: new X509Certificate(readFileSync(identity.cert)),
    });
    const res = await supertest(open.app)
      .put('/mdm/checkin')
      .set('Content-Type', 'application/x-apple-aspen-mdm-checkin')
      .set('Mdm-Signature', signature)
      .send(body);
    expect(res.status).toBe(401);
  });
});

// Certificate-authenticated per-app VPN end to end (issue #18), over real HTTP on a real SQLite
// file: certificate enrollment settings (SCEP and LOCAL), VPN configurations naming them, the
// device's InstallProfile with its identity payloads, SCEP issuance per the setting, the PKCS#12,
// stable bytes, revocation, renewal and retire.
//
// Judged by others:
// - OpenSSL: `openssl cms -verify` (the signed profile), `openssl x509 -text` (the issued identity:
//   subject, SANs, EKU), `openssl pkcs12` without -legacy (the LOCAL identity), `openssl crl
//   -inform DER -text` (revoked identities in the CRL);
// - Apple's schemas (vendor/apple-device-management/mdm/profiles/com.apple.security.scep.yaml,
//   com.apple.security.pkcs12.yaml, com.apple.vpn.managed.applayer.yaml) through our lint, which
//   reads those files: PayloadCertificateUUID must name the identity payload of the same profile;
// - the SCEP payload a device enrolls with has the shape public MDMs send for VPN/Wi-Fi
//   identities: micromdm/micromdm and fleetdm/fleet (com.apple.security.scep with URL, Challenge,
//   Subject, Keysize, Key Usage; the VPN payload's PayloadCertificateUUID naming it).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import { hasErrors, lintProfile } from '../../src/lib/profiles/index.js';
import { buildPkcsReq, parseCertRep } from '../../src/lib/scep/index.js';
import { readCertsOnly } from '../../src/lib/scep/signed-data.js';
import { loadProfileSchemas } from '../../src/profiles/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';

const DAY_MS = 86_400_000;
let t: TestApp;
let d: TestDevice;
let deviceId: number;
let scepSetting: number;
let localSetting: number;
let labelId: number;
/** The device's MDM identity: SCEP with an identity challenge makes the TestDevice hold the VPN identity instead. */
let mdmIdentity: Pick<TestDevice, 'key' | 'certificate'>;
const restoreMdmIdentity = () => Object.assign(d, mdmIdentity);
let scepChallengeGen2: string;

const openssl = (args: string[], input?: Buffer | string) =>
  execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' })).status).toBe(201);
  d = await enrolledDevice(t, 'jdoe');
  deviceId = (await t.services.db.device.findUniqueOrThrow({ where: { uuid: d.deviceUuid } })).id;
  mdmIdentity = { key: d.key, certificate: d.certificate };
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** Reconciles the device and returns the profiles its InstallProfile commands carried (CMS verified by openssl). */
async function installedProfiles(): Promise<{ signed: Buffer; profile: PlistDict }[]> {
  await t.services.mdm.reconcile(deviceId);
  const commands = await d.drain();
  return commands
    .filter((c) => (c.Command as PlistDict).RequestType === 'InstallProfile')
    .map((c) => {
      const signed = (c.Command as PlistDict).Payload as Buffer;
      writeFileSync(path.join(t.dataDir, 'ca.pem'), d.caPem);
      writeFileSync(path.join(t.dataDir, 'profile.der'), signed);
      const xml = execFileSync(
        'openssl',
        [
          'cms',
          '-verify',
          '-inform',
          'DER',
          '-in',
          path.join(t.dataDir, 'profile.der'),
          '-CAfile',
          path.join(t.dataDir, 'ca.pem'),
          '-purpose',
          'any',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      return { signed, profile: parsePlist(xml) as PlistDict };
    });
}

/** A PKCSReq with a key of the test's choosing (TestDevice.scep always makes an RSA 2048 key). */
async function scepWithKey(challenge: string, privateKey: KeyObject) {
  const caCert = await t.anon.get('/scep?operation=GetCACert').buffer(true).parse(rawBody);
  const ca = caCert.headers['content-type']?.startsWith('application/x-x509-ca-ra-cert')
    ? readCertsOnly(caCert.body as Buffer).find((c) => c.ca)!
    : new X509Certificate(caCert.body as Buffer);
  const request = buildPkcsReq({ caCert: ca, privateKey, subject: { commonName: 'weak' }, challengePassword: challenge });
  const res = await t.anon
    .post('/scep?operation=PKIOperation')
    .set('content-type', 'application/x-pki-message')
    .send(request.der)
    .buffer(true)
    .parse(rawBody);
  expect(res.status).toBe(200);
  return parseCertRep(res.body as Buffer, { requesterKey: privateKey, requesterCert: request.signer.certificate, caCert: ca });
}

const payloadsOf = (profile: PlistDict) => profile.PayloadContent as PlistDict[];
const ofType = (profile: PlistDict, type: string) => payloadsOf(profile).filter((p) => p.PayloadType === type);

async function identityList() {
  const res = await t.admin.get(`/api/v2/devices/${d.deviceUuid}/certificates`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.results as Array<Record<string, any>>;
}

describe('certificate enrollment settings', () => {
  it('creates a SCEP and a LOCAL setting; GET → PUT round-trips', async () => {
    const scep = await t.admin.post('/api/v2/configurations/certificate-enrollment').send({
      name: 'Corp VPN identity',
      method: 'SCEP',
      subject: 'CN=$USERID$,OU=Sales,O=Example',
      subjectAltNames: [
        { type: 'rfc822Name', value: '$EMAIL$' },
        { type: 'ntPrincipalName', value: '$USERID$@corp.example.com' },
        { type: 'uniformResourceIdentifier', value: 'urn:uuid:$DEVICE_UUID$' },
      ],
      validityDays: 30,
      renewalWindowDays: 5,
      extendedKeyUsage: ['clientAuth'],
    });
    expect(scep.status, JSON.stringify(scep.body)).toBe(201);
    expect(scep.body.results).toMatchObject({ method: 'SCEP', keySize: 2048, keyUsage: ['signing', 'encryption'], validityDays: 30 });
    scepSetting = scep.body.results.id;
    const local = await t.admin.post('/api/v2/configurations/certificate-enrollment').send({
      name: 'Local identity',
      method: 'LOCAL',
      subject: 'CN=$DEVICE_UUID$,O=Example',
      validityDays: 60,
      renewalWindowDays: 10,
      keyUsage: ['signing'],
    });
    expect(local.status, JSON.stringify(local.body)).toBe(201);
    localSetting = local.body.results.id;

    const got = await t.admin.get(`/api/v2/configurations/certificate-enrollment/${scepSetting}`);
    expect(got.status).toBe(200);
    const put = await t.admin.put(`/api/v2/configurations/certificate-enrollment/${scepSetting}`).send(got.body.results);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.results.subjectAltNames).toEqual(got.body.results.subjectAltNames);
    const list = await t.admin.get('/api/v2/configurations/certificate-enrollment').query({ limit: 1 });
    expect(list.body).toMatchObject({ totalCount: 2, resultCount: 1 });
  });

  it.each([
    [{ subject: 'CN=$USER_NAME$' }, /unknown variable \$USER_NAME\$/],
    [{ subject: 'XX=1' }, /unknown attribute type XX/],
    [{ subject: 'CN=a', subjectAltNames: [{ type: 'dNSName', value: 'not a host' }] }, /not a DNS name/],
    [{ subject: 'CN=a', subjectAltNames: [{ type: 'x400Address', value: 'a' }] }, /subjectAltNames/],
    [{ subject: 'CN=a', validityDays: 10, renewalWindowDays: 10 }, /renewalWindowDays/],
    [{ subject: 'CN=a', keySize: 1024 }, /keySize/],
    [{ subject: 'CN=a', keyType: 'EC' }, /keyType/],
    [{ subject: 'CN=a', validityDays: 100_000 }, /validityDays/],
    [{ subject: 'CN=a', extra: true }, /extra/],
    [{ subject: `CN=${'a'.repeat(2000)}` }, /subject/],
    [{ subject: 'CN=a', name: 'x'.repeat(200) }, /name/],
  ])('refuses bad input with 400: %j', async (overrides, message) => {
    const res = await t.admin.post('/api/v2/configurations/certificate-enrollment').send({ name: 'bad', method: 'SCEP', ...overrides });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(JSON.stringify(res.body.messages)).toMatch(message);
    expect((await t.admin.get('/api/v2/configurations/certificate-enrollment')).body.totalCount).toBe(2);
  });

  it('duplicate names (any case) are 409; unknown and malformed ids 404 and 400; a bad update changes nothing', async () => {
    const dup = await t.admin
      .post('/api/v2/configurations/certificate-enrollment')
      .send({ name: 'corp vpn IDENTITY', method: 'SCEP', subject: 'CN=a' });
    expect(dup.status).toBe(409);
    expect((await t.admin.get('/api/v2/configurations/certificate-enrollment/999')).status).toBe(404);
    expect((await t.admin.get('/api/v2/configurations/certificate-enrollment/abc')).status).toBe(400);
    expect((await t.admin.delete('/api/v2/configurations/certificate-enrollment/999')).status).toBe(404);
    const bad = await t.admin.put(`/api/v2/configurations/certificate-enrollment/${localSetting}`).send({ subject: 'CN=$NOPE$' });
    expect(bad.status).toBe(400);
    const after = await t.admin.get(`/api/v2/configurations/certificate-enrollment/${localSetting}`);
    expect(after.body.results.subject).toBe('CN=$DEVICE_UUID$,O=Example');
    expect((await t.anon.get('/api/v2/configurations/certificate-enrollment')).status).toBe(401);
    expect((await t.admin.get('/api/v2/devices/not-a-uuid!/certificates')).status).toBe(400);
    expect((await t.admin.get('/api/v2/devices/00000000-0000-4000-8000-000000000000/certificates')).status).toBe(404);
  });
});

describe('VPN configurations with certificate authentication', () => {
  it('need a setting for CERTIFICATE and PASSWORD_AND_CERTIFICATE, refuse one for PASSWORD', async () => {
    const base = { connectionType: 'ANYCONNECT', server: 'asa.example.com' };
    expect((await t.admin.post('/api/v2/configurations/vpn').send({ ...base, name: 'x1', userAuthentication: 'CERTIFICATE' })).status).toBe(
      400,
    );
    expect(
      (
        await t.admin
          .post('/api/v2/configurations/vpn')
          .send({ ...base, name: 'x2', userAuthentication: 'PASSWORD', certificateEnrollmentId: scepSetting })
      ).status,
    ).toBe(400);
    expect(
      (
        await t.admin
          .post('/api/v2/configurations/vpn')
          .send({ ...base, name: 'x3', userAuthentication: 'CERTIFICATE', certificateEnrollmentId: 999 })
      ).status,
    ).toBe(400);
  });

  it('gives the device a signed profile whose VPN payloads name their identity payloads; lint and Apple schema pass', async () => {
    const label = await t.admin.post('/api/v2/labels').send({ name: 'cert-vpn', static: true });
    labelId = label.body.results.id;
    expect((await t.admin.put('/api/v2/devices/labels/cert-vpn/add').send({ deviceUuids: [d.deviceUuid] })).status).toBe(200);
    const configs = [
      {
        name: 'corp-anyconnect',
        connectionType: 'ANYCONNECT',
        server: 'asa.example.com',
        group: 'corp',
        userAuthentication: 'CERTIFICATE',
        certificateEnrollmentId: scepSetting,
      },
      {
        name: 'corp-ipsec',
        connectionType: 'IPSEC',
        server: 'ipsec.example.com',
        userAuthentication: 'CERTIFICATE',
        certificateEnrollmentId: scepSetting,
      },
      {
        name: 'corp-ikev2',
        connectionType: 'IKEV2',
        server: 'ikev2.example.com',
        userAuthentication: 'PASSWORD_AND_CERTIFICATE',
        certificateEnrollmentId: localSetting,
        username: '$USERID$',
        password: 's3cret',
      },
    ];
    for (const c of configs) {
      const vpn = await t.admin.post('/api/v2/configurations/vpn').send(c);
      expect(vpn.status, JSON.stringify(vpn.body)).toBe(201);
      expect(vpn.body.results.certificateEnrollmentId).toBe(c.certificateEnrollmentId);
      expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${labelId}`)).status).toBe(200);
    }
    const [installed, ...more] = await installedProfiles();
    expect(more).toEqual([]);
    const profile = installed!.profile;
    const findings = lintProfile(profile, loadProfileSchemas());
    expect(hasErrors(findings), JSON.stringify(findings)).toBe(false);
    expect(findings.filter((f) => /PayloadCertificateUUID/.test(f.message))).toEqual([]);

    const [scep, ...otherScep] = ofType(profile, 'com.apple.security.scep');
    const [p12, ...otherP12] = ofType(profile, 'com.apple.security.pkcs12');
    expect([otherScep, otherP12]).toEqual([[], []]); // two configurations with one setting share its payload
    const vpns = ofType(profile, 'com.apple.vpn.managed.applayer');
    const byName = new Map(vpns.map((v) => [v.UserDefinedName, v]));
    expect((byName.get('corp-anyconnect')!.VPN as PlistDict).PayloadCertificateUUID).toBe(scep!.PayloadUUID);
    expect((byName.get('corp-anyconnect')!.VPN as PlistDict).AuthenticationMethod).toBe('Certificate');
    expect((byName.get('corp-ipsec')!.IPSec as PlistDict).PayloadCertificateUUID).toBe(scep!.PayloadUUID);
    const ikev2 = byName.get('corp-ikev2')!.IKEv2 as PlistDict;
    expect(ikev2).toMatchObject({
      AuthenticationMethod: 'Certificate',
      PayloadCertificateUUID: p12!.PayloadUUID,
      ExtendedAuthEnabled: 1,
      AuthName: 'jdoe',
    });

    const content = scep!.PayloadContent as PlistDict;
    expect(content.Subject).toEqual([[['O', 'Example']], [['OU', 'Sales']], [['CN', 'jdoe']]]);
    expect(content.SubjectAltName).toEqual({
      rfc822Name: 'jdoe@example.com',
      ntPrincipalName: 'jdoe@corp.example.com',
      uniformResourceIdentifier: `urn:uuid:${d.deviceUuid}`,
    });
    expect(content.URL).toMatch(/\/scep$/);
    expect(content.Challenge).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('builds the same bytes twice (the challenge is derived, the PKCS#12 kept)', async () => {
    const build = async () => {
      return (await t.services.profiles.build((await t.services.policy.resolveById(deviceId))!))!;
    };
    const [a, b] = [await build(), await build()];
    expect(a.xml.equals(b.xml)).toBe(true);
    const again = await installedProfiles();
    expect(again).toEqual([]); // nothing new to install
    const served1 = await t.admin.get(`/api/v2/devices/${d.deviceUuid}/profiles/vpn`).buffer(true).parse(rawBody);
    expect(served1.status).toBe(200);
    expect(served1.headers.etag).toContain(a.hash.slice(0, 32));
  });

  it('the device enrolls over SCEP with the challenge, once; the certificate is the setting’s, not the CSR’s', async () => {
    const built = (await t.services.profiles.build((await t.services.policy.resolveById(deviceId))!))!;
    const scep = ofType(parsePlist(built.xml) as PlistDict, 'com.apple.security.scep')[0]!.PayloadContent as PlistDict;
    const rep = await d.scep(scep);
    expect(rep.status).toBe('SUCCESS');
    const identity = d.certificate;
    // Our TestDevice asked for CN=device <udid>; the setting decides
    const text = openssl(['x509', '-noout', '-text', '-nameopt', 'RFC2253'], identity.toString());
    expect(text).toMatch(/Subject: CN=jdoe,OU=Sales,O=Example\n/); // RFC 2253: the template as written
    expect(text).toMatch(/email:jdoe@example\.com/);
    expect(text).toMatch(/othername: (UPN|msUPN|1\.3\.6\.1\.4\.1\.311\.20\.2\.3)::?jdoe@corp\.example\.com/);
    expect(text).toMatch(new RegExp(`URI:urn:uuid:${d.deviceUuid}`));
    expect(text).toMatch(/Extended Key Usage: *\n\s+TLS Web Client Authentication\n/);
    expect(new Date(identity.validTo).getTime() - new Date(identity.validFrom).getTime()).toBe(30 * DAY_MS);

    // An identity certificate is no MDM credential
    expect((await d.connect()).status).toBe(401);
    restoreMdmIdentity();
    expect((await d.connect()).status).toBe(200);

    const again = await d.scep(scep);
    expect(again.status).toBe('FAILURE');
    restoreMdmIdentity();

    const listed = await identityList();
    const scepRow = listed.find((c) => c.serialNumber === identity.serialNumber.toUpperCase())!;
    expect(scepRow).toMatchObject({
      status: 'valid',
      settingName: 'Corp VPN identity',
      subject: 'O=Example, OU=Sales, CN=jdoe', // DER order
      source: 'scep',
      generation: 1,
    });
    expect(scepRow.subjectAltNames).toContainEqual({ type: 'ntPrincipalName', value: 'jdoe@corp.example.com' });
    expect(scepRow.issuer).toMatch(/CN=/);
    // The device's details carry them too, one line each (the records above are the full view)
    const details = (await t.admin.get(`/api/v2/devices/${d.deviceUuid}/details`)).body.results as { name: string; value: string | null }[];
    const detail = (name: string) => details.find((x) => x.name === name)?.value;
    expect(detail('identity.certificate_count')).toBe(String(listed.length));
    expect(detail('identity.certificates')).toContain(`${scepRow.serialNumber} O=Example, OU=Sales, CN=jdoe (Corp VPN identity, valid, `);
  });

  it('the LOCAL identity is a PKCS#12 openssl opens without -legacy, and it is listed', async () => {
    const built = (await t.services.profiles.build((await t.services.policy.resolveById(deviceId))!))!;
    const p12 = ofType(parsePlist(built.xml) as PlistDict, 'com.apple.security.pkcs12')[0]!;
    const file = path.join(t.dataDir, 'identity.p12');
    writeFileSync(file, p12.PayloadContent as Buffer);
    const pem = openssl(['pkcs12', '-in', file, '-passin', `pass:${String(p12.Password)}`, '-nodes', '-clcerts']);
    expect(pem).toMatch(/BEGIN PRIVATE KEY/);
    const cert = new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE-----')));
    expect(cert.subject).toBe(`O=Example\nCN=${d.deviceUuid}`); // DER order: the template reversed
    expect(openssl(['x509', '-noout', '-ext', 'keyUsage,extendedKeyUsage'], cert.toString())).toMatch(
      /Digital Signature\n[\s\S]*TLS Web Client Authentication/,
    );
    const listed = await identityList();
    expect(listed.find((c) => c.serialNumber === cert.serialNumber.toUpperCase())).toMatchObject({
      status: 'valid',
      source: 'local',
      settingName: 'Local identity',
    });
  });

  it('deleting a setting a VPN configuration uses is 409', async () => {
    const res = await t.admin.delete(`/api/v2/configurations/certificate-enrollment/${scepSetting}`);
    expect(res.status).toBe(409);
    expect(res.body.messages[0].messageKey).toBe('com.mockiron.messages.certenrollment.inUse');
  });
});

describe('revocation, renewal and retire', () => {
  it('revoking the current SCEP identity issues a new generation at the next reconciliation', async () => {
    const before = (await identityList()).find((c) => c.source === 'scep')!;
    const revoked = await t.admin.post(`/api/v2/scep/certificates/${before.serialNumber}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.results).toMatchObject({ revoked: true, purpose: 'identity' });
    const [installed, ...more] = await installedProfiles();
    expect(more).toEqual([]);
    const scep = ofType(installed!.profile, 'com.apple.security.scep')[0]!.PayloadContent as PlistDict;
    scepChallengeGen2 = scep.Challenge as string;
    const rep = await d.scep(scep);
    expect(rep.status).toBe('SUCCESS');
    const listed = await identityList();
    expect(listed.find((c) => c.serialNumber === before.serialNumber)!.status).toBe('revoked');
    expect(listed.find((c) => c.serialNumber === d.certificate.serialNumber.toUpperCase())).toMatchObject({
      status: 'valid',
      generation: 2,
    });
    restoreMdmIdentity();
  });

  it('a clock inside the renewal window renews each identity exactly once; sweeping again changes nothing', async () => {
    const before = (await identityList()).filter((c) => c.status === 'valid');
    expect(before.map((c) => c.source).sort()).toEqual(['local', 'scep']);
    const local = before.find((c) => c.source === 'local')!;
    const scep = before.find((c) => c.source === 'scep')!;
    // Outside both windows nothing happens
    expect(await t.services.mdm.reconciler.renewalPass()).toEqual([]);
    // Inside the LOCAL identity's window (10 of 60 days), and past the SCEP one's (5 of 30)
    t.services.identities.now = () => new Date(new Date(local.notAfter).getTime() - 8 * DAY_MS);
    try {
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([deviceId]);
      const installed = await installedProfiles();
      expect(installed).toHaveLength(1);
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([]);
      expect(await installedProfiles()).toEqual([]);
      const after = await identityList();
      const status = (serial: string) => after.find((c) => c.serialNumber === serial)!.status;
      expect(status(local.serialNumber)).toBe('superseded');
      expect(status(scep.serialNumber)).toBe('expired'); // 52 days into a 30-day certificate
      // LOCAL: made at once; SCEP: a new challenge, the certificate comes when the device enrolls
      const renewed = after.find((c) => c.source === 'local' && c.status === 'valid')!;
      expect(renewed.generation).toBe(2);
      const scepPayload = ofType(installed[0]!.profile, 'com.apple.security.scep')[0]!.PayloadContent as PlistDict;
      expect(scepPayload.Challenge).not.toBe(scepChallengeGen2);
      // A key weaker than identity certificates need is refused, and the challenge stays unspent
      const weak = await scepWithKey(scepPayload.Challenge as string, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
      expect(weak).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
      expect((await d.scep(scepPayload)).status).toBe('SUCCESS');
      restoreMdmIdentity();
      expect((await identityList()).find((c) => c.source === 'scep' && c.generation === 3)).toBeDefined();
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([]);
    } finally {
      t.services.identities.now = () => new Date();
    }
  });

  it('retire revokes the identity certificates too, and the CRL lists them', async () => {
    const before = await identityList();
    const retire = await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [d.deviceUuid], note: 'lost' });
    expect(retire.body.results[0].status, JSON.stringify(retire.body)).toBe('SUCCESS');
    // A reachable device is retired when it has removed the MDM profile (its acknowledgement)
    await d.drain();
    const after = await identityList();
    expect(after.every((c) => c.status === 'revoked')).toBe(true);
    const crl = await t.anon.get('/api/v2/scep/crl').buffer(true).parse(rawBody);
    expect(crl.status).toBe(200);
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl.body as Buffer);
    for (const c of before) expect(text.replace(/\s/g, '')).toContain(`SerialNumber:${c.serialNumber}`);
  });
});

describe('stable bytes across a restart', () => {
  it('a new process builds the same profile from what the database and the secret box hold', async () => {
    const build = async () => {
      return (await t.services.profiles.build((await t.services.policy.resolveById(deviceId))!))!;
    };
    const before = await build();
    expect((await build()).xml.equals(before.xml)).toBe(true);
    expect(ofType(parsePlist(before.xml) as PlistDict, 'com.apple.security.pkcs12')).toHaveLength(1);
    await t.close();
    t = await startTestApp({ dataDir: t.dataDir });
    const after = await build();
    expect(after.hash).toBe(before.hash);
    expect(after.xml.equals(before.xml)).toBe(true);
  });
});

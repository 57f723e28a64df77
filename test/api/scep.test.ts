// SCEP (RFC 8894) over HTTP against the real app: our CA issues device certificates to requests
// authorized by one-time challenges, and refuses everything else with a CertRep FAILURE.
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymous } from '../../src/platform/auth/actor.js';
import { RouteTable } from '../../src/platform/http/route.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildPkcsReq, caCaps, parseCertRep, type BuildPkiRequestOptions, type CertRep } from '../../src/lib/scep/index.js';
import { registerScepRoutes } from '../../src/scep/routes.js';
import { readCertsOnly } from '../../src/lib/scep/signed-data.js';
import { hashChallenge, ScepService } from '../../src/scep/service.js';
import { certificateFingerprint } from '../../src/certificates/index.js';
import { CertificateAuthority } from '../../src/signing/identity.js';
import { SigningService } from '../../src/signing/service.js';
import {
  basicConstraintsExtension,
  buildCertificate,
  canSignCms,
  encodeName,
  keyUsageExtension,
  randomSerialNumber,
} from '../../src/lib/pki/x509.js';
import { adminPassword, rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/scep/${name}`, import.meta.url)));
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY_MS = 86_400_000;

let t: TestApp;
let caCert: X509Certificate;
let tmp: string;
let deviceId: number;
let deviceUuid: string;

beforeAll(async () => {
  t = await startTestApp();
  caCert = t.services.signing.ca!.certificate;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mockiron-scep-api-'));
  writeFileSync(path.join(tmp, 'ca.pem'), caCert.toString());
  deviceUuid = randomUUID();
  deviceId = (await t.services.db.device.create({ data: { uuid: deviceUuid, platform: 'iOS' } })).id;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
  removeDir(tmp);
});

const rsaKey = (): KeyObject => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const spki = (key: KeyObject): Buffer => (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });

function mint(options: { deviceRef?: number | null; ttlMinutes?: number } = {}) {
  return t.services.scep.mintChallenge(t.services.db, { purpose: 'enrollment', createdBy: 'test', deviceRef: deviceId, ...options });
}

async function postPkiOperation(app: unknown, der: Buffer) {
  return supertest(app as any)
    .post('/scep?operation=PKIOperation')
    .set('Content-Type', 'application/x-pki-message')
    .send(der)
    .buffer(true)
    .parse(rawBody);
}

interface Exchange {
  status: number;
  raw: Buffer;
  contentType: string;
  rep: CertRep;
  key: KeyObject;
  transactionID: string;
}

/** One PKIOperation by POST, the CertRep read and checked (signature, transaction, nonce) as a device would. */
async function exchange(options: Partial<BuildPkiRequestOptions> & { key?: KeyObject } = {}): Promise<Exchange> {
  const key = options.key ?? rsaKey();
  const request = buildPkcsReq({
    caCert,
    privateKey: key,
    subject: { commonName: 'test-device', organization: 'mockiron tests' },
    ...options,
  });
  const res = await postPkiOperation(t.app, request.der);
  const rep = parseCertRep(res.body as Buffer, {
    requesterKey: request.signer.privateKey,
    requesterCert: request.signer.certificate,
    caCert,
    expectedTransactionID: request.transactionID,
    expectedRecipientNonce: request.senderNonce,
  });
  return {
    status: res.status,
    raw: res.body as Buffer,
    contentType: String(res.headers['content-type']),
    rep,
    key,
    transactionID: request.transactionID,
  };
}

function opensslVerify(cert: X509Certificate): { status: number | null; output: string } {
  const file = path.join(tmp, `${cert.serialNumber}.pem`);
  writeFileSync(file, cert.toString());
  const result = spawnSync('openssl', ['verify', '-CAfile', path.join(tmp, 'ca.pem'), '-purpose', 'sslclient', file], { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout + result.stderr };
}

const certificateRows = () => t.services.db.deviceCertificate.findMany({ orderBy: { id: 'asc' } });

describe('GetCACaps and GetCACert', () => {
  it('lists the capabilities as text/plain', async () => {
    const res = await t.anon.get('/scep?operation=GetCACaps');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe(caCaps());
    expect(res.text.split('\n')).toEqual(expect.arrayContaining(['POSTPKIOperation', 'Renewal', 'SHA-256', 'AES', 'DES3', 'SCEPStandard']));
  });

  it('serves our CA with the RA certificate that signs CertReps, the same after a restart', async () => {
    const res = await t.anon.get('/scep?operation=GetCACert&message=mockiron').buffer(true).parse(rawBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-x509-ca-ra-cert');
    const [ca, ra, extra] = readCertsOnly(res.body as Buffer);
    expect(extra).toBeUndefined();
    expect(ca!.raw.equals(caCert.raw)).toBe(true);
    expect(ca!.raw.equals(t.services.signing.trustAnchor.raw)).toBe(true);
    expect(ra!.ca).toBe(false);
    expect(ra!.checkIssued(caCert) && ra!.verify(caCert.publicKey)).toBe(true);
    // The RA certifies the CA's own key: requests encrypted to either open with it
    expect(spki(ra!.publicKey).equals(spki(caCert.publicKey))).toBe(true);
    const raFile = path.join(tmp, 'ra.pem');
    writeFileSync(raFile, ra!.toString());
    const ext = spawnSync('openssl', ['x509', '-in', raFile, '-noout', '-ext', 'keyUsage'], { encoding: 'utf8' }).stdout;
    expect(ext).toContain('Digital Signature, Key Encipherment');
    expect(t.services.scep.signerCertificate.raw.equals(ra!.raw)).toBe(true);
    // A new service on the same CA (a restart) derives the identical RA certificate
    const restarted = new ScepService(
      t.services.db,
      t.services.signing,
      t.services.certificates,
      'http://mockiron.test',
      createLogger('silent'),
    );
    expect(restarted.getCaCert().body.equals(res.body as Buffer)).toBe(true);
  });

  it('serves the bare CA certificate when the CA itself may sign CMS (no RA needed)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const name = encodeName({ commonName: 'signing-capable CA' });
    const der = buildCertificate({
      serialNumber: randomSerialNumber(),
      issuerName: name,
      subjectName: name,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + DAY_MS),
      publicKey,
      signingKey: privateKey,
      extensions: [basicConstraintsExtension(true), keyUsageExtension(['keyCertSign', 'cRLSign', 'digitalSignature'])],
    });
    const ca = new CertificateAuthority(new X509Certificate(der), privateKey);
    expect(canSignCms(ca.certificate)).toBe(true);
    expect(canSignCms(caCert)).toBe(false);
    const signing = new SigningService(t.services.signing.identity, ca);
    const scep = new ScepService(t.services.db, signing, t.services.certificates, 'http://mockiron.test', createLogger('silent'));
    const served = scep.getCaCert();
    expect(served.contentType).toBe('application/x-x509-ca-cert');
    expect(served.body.equals(der)).toBe(true);
    expect(scep.signerCertificate.raw.equals(der)).toBe(true);
  });

  it('answers unknown, missing and misplaced operations with a 400 text', async () => {
    const unknown = await t.anon.get('/scep?operation=GetNextCACert');
    expect(unknown.status).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/^text\/plain/);
    expect(unknown.text).toContain('unsupported SCEP operation GetNextCACert');
    const missing = await t.anon.get('/scep');
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('missing operation');
    const postCaps = await t.anon.post('/scep?operation=GetCACaps').set('Content-Type', 'application/octet-stream').send(Buffer.from('x'));
    expect(postCaps.status).toBe(400);
    expect(postCaps.text).toContain('by POST');
  });
});

describe('PKCSReq', () => {
  let challenge: string;
  let first: Exchange;

  it('issues a client-auth device certificate to a valid challenge (AES-256), recorded for the device', async () => {
    ({ challenge } = await mint());
    first = await exchange({ challengePassword: challenge, encryption: 'aes256' });
    expect(first.status).toBe(200);
    expect(first.contentType).toBe('application/x-pki-message');
    expect(first.rep.status).toBe('SUCCESS');
    expect(first.rep.contentEncryption).toBe('aes256');
    const [issued, chainCa] = first.rep.certificates;
    expect(chainCa?.raw.equals(caCert.raw)).toBe(true);
    expect(issued!.subject).toBe('O=mockiron tests\nCN=test-device');
    expect(issued!.checkIssued(caCert) && issued!.verify(caCert.publicKey)).toBe(true);
    expect(spki(issued!.publicKey).equals(spki(first.key))).toBe(true);
    expect(issued!.keyUsage).toEqual([CLIENT_AUTH]);
    expect(issued!.ca).toBe(false);
    const validity = new Date(issued!.validTo).getTime() - new Date(issued!.validFrom).getTime();
    expect(Math.round(validity / DAY_MS)).toBe(365);

    const verified = opensslVerify(issued!);
    expect(verified.output).toContain(': OK');
    expect(verified.status).toBe(0);
    // OpenSSL's default S/MIME checks on the CertRep signer, as certmonger applies them
    const repFile = path.join(tmp, 'certrep.der');
    writeFileSync(repFile, first.raw);
    const smime = spawnSync(
      'openssl',
      ['smime', '-verify', '-inform', 'DER', '-in', repFile, '-CAfile', path.join(tmp, 'ca.pem'), '-binary', '-out', '/dev/null'],
      { encoding: 'utf8' },
    );
    expect(smime.stderr).toContain('Verification successful');

    const row = await t.services.db.deviceCertificate.findUniqueOrThrow({ where: { fingerprintSha256: certificateFingerprint(issued!) } });
    expect(row).toMatchObject({
      serialNumber: issued!.serialNumber.toUpperCase(),
      deviceRef: deviceId,
      source: 'scep',
      transactionId: first.transactionID,
      revoked: false,
      subject: 'O=mockiron tests, CN=test-device',
    });
    expect(new X509Certificate(row.certificatePem).raw.equals(issued!.raw)).toBe(true);
  });

  it('stores only the hash of the challenge, now spent', async () => {
    const rows = await t.services.db.scepChallenge.findMany();
    expect(JSON.stringify(rows)).not.toContain(challenge);
    const row = rows.find((r) => r.challengeHash === hashChallenge(challenge))!;
    expect(row.usedAt).toBeInstanceOf(Date);
    expect(row.deviceRef).toBe(deviceId);
  });

  it('issues under 3DES too, answering in the cipher the device used', async () => {
    const { challenge: fresh } = await mint();
    const res = await exchange({ challengePassword: fresh, encryption: 'des3' });
    expect(res.rep.status).toBe('SUCCESS');
    expect(res.rep.contentEncryption).toBe('des3');
    expect(opensslVerify(res.rep.certificates[0]!).status).toBe(0);
  });

  it('refuses a replayed challenge with FAILURE badRequest, issuing nothing', async () => {
    const before = (await certificateRows()).length;
    const replay = await exchange({ challengePassword: challenge });
    expect(replay.status).toBe(200);
    expect(replay.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest', certificates: [] });
    expect(replay.rep.failInfoText).toMatch(/already used/);
    expect((await certificateRows()).length).toBe(before);
  });

  it('refuses a wrong, a missing and an expired challenge', async () => {
    const before = (await certificateRows()).length;
    const wrong = await exchange({ challengePassword: 'not-a-challenge-we-minted' });
    expect(wrong.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    expect(wrong.rep.failInfoText).toMatch(/unknown challenge/);
    const none = await exchange({});
    expect(none.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    expect(none.rep.failInfoText).toMatch(/no challengePassword/);

    const expired = await mint({ ttlMinutes: 1 });
    await t.services.db.scepChallenge.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const late = await exchange({ challengePassword: expired.challenge });
    expect(late.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest' });
    expect(late.rep.failInfoText).toMatch(/expired/);
    expect((await t.services.db.scepChallenge.findUniqueOrThrow({ where: { id: expired.id } })).usedAt).toBeNull();
    expect((await certificateRows()).length).toBe(before);
  });

  it('lets exactly one of two concurrent requests spend a challenge', async () => {
    const { challenge: shared } = await mint();
    const both = await Promise.all([exchange({ challengePassword: shared }), exchange({ challengePassword: shared })]);
    expect(both.map((e) => e.rep.status).sort()).toEqual(['FAILURE', 'SUCCESS']);
  });

  it('gives every certificate its own serial number', async () => {
    const rows = await certificateRows();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(new Set(rows.map((r) => r.serialNumber)).size).toBe(rows.length);
  });

  it('copies the subjectAltNames the CSR requests', async () => {
    const { challenge: fresh } = await mint();
    const res = await exchange({
      challengePassword: fresh,
      subject: { commonName: 'has-sans' },
      sans: ['device.example.test', '10.0.0.7'],
    });
    expect(res.rep.status).toBe('SUCCESS');
    expect(res.rep.certificates[0]!.subjectAltName).toBe('DNS:device.example.test, IP Address:10.0.0.7');
  });

  it('accepts a PKCSReq sent by GET with a base64 message, URL-encoded or with raw "+"', async () => {
    for (const encode of [true, false]) {
      const key = rsaKey();
      const { challenge: fresh } = await mint();
      // A message with '+' in its base64, to see that an unencoded '+' (read as a space) still works
      let request;
      do request = buildPkcsReq({ caCert, privateKey: key, subject: { commonName: 'get-device' }, challengePassword: fresh });
      while (!request.der.toString('base64').includes('+'));
      const b64 = request.der.toString('base64');
      const url = `/scep?operation=PKIOperation&message=${encode ? encodeURIComponent(b64) : b64}`;
      const res = await t.anon.get(url).buffer(true).parse(rawBody);
      expect(res.status, `encoded: ${encode}`).toBe(200);
      const rep = parseCertRep(res.body as Buffer, {
        requesterKey: key,
        caCert,
        expectedTransactionID: request.transactionID,
        expectedRecipientNonce: request.senderNonce,
      });
      expect(rep.status).toBe('SUCCESS');
      expect(rep.certificates[0]!.subject).toBe('CN=get-device');
    }
    const noMessage = await t.anon.get('/scep?operation=PKIOperation');
    expect(noMessage.status).toBe(400);
    const notBase64 = await t.anon.get('/scep?operation=PKIOperation&message=%25%25%25');
    expect(notBase64.status).toBe(400);
  });
});

describe('RenewalReq and GetCertInitial', () => {
  let original: Exchange;

  beforeAll(async () => {
    const { challenge } = await mint();
    original = await exchange({ challengePassword: challenge });
    expect(original.rep.status).toBe('SUCCESS');
  });

  it('renews a certificate we issued without a challenge, for the same device', async () => {
    const oldCert = original.rep.certificates[0]!;
    const newKey = rsaKey();
    const renewal = await exchange({
      messageType: 'RenewalReq',
      key: newKey,
      subject: { commonName: 'test-device' },
      signer: { privateKey: original.key, certificate: oldCert },
    });
    expect(renewal.rep.status).toBe('SUCCESS');
    const renewed = renewal.rep.certificates[0]!;
    expect(renewed.serialNumber).not.toBe(oldCert.serialNumber);
    expect(spki(renewed.publicKey).equals(spki(newKey))).toBe(true);
    expect(opensslVerify(renewed).status).toBe(0);
    const row = await t.services.db.deviceCertificate.findUniqueOrThrow({ where: { fingerprintSha256: certificateFingerprint(renewed) } });
    expect(row.deviceRef).toBe(deviceId);
    // The renewed certificate stays valid until it expires
    expect((await t.services.certificates.deviceForCertificate(oldCert.fingerprint256))?.revoked).toBe(false);
  });

  it('refuses a RenewalReq signed by a certificate the CA did not issue (badCertId)', async () => {
    const res = await exchange({ messageType: 'RenewalReq' });
    expect(res.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badCertId' });
  });

  it('re-sends the certificate of an issued transaction on GetCertInitial', async () => {
    const poll = await exchange({
      messageType: 'GetCertInitial',
      subject: { commonName: 'test-device' },
      transactionID: original.transactionID,
    });
    expect(poll.rep.status).toBe('SUCCESS');
    expect(poll.rep.certificates[0]!.raw.equals(original.rep.certificates[0]!.raw)).toBe(true);
  });

  it('answers GetCertInitial for an unknown transaction with FAILURE badCertId', async () => {
    const poll = await exchange({ messageType: 'GetCertInitial', subject: { commonName: 'nobody' }, transactionID: 'NO-SUCH-TRANSACTION' });
    expect(poll.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badCertId' });
  });

  it('refuses renewal and polling once the device certificates are revoked', async () => {
    const revoked = await t.services.db.$transaction((tx) => t.services.certificates.revokeDeviceCertificates(tx, deviceId, 'test retire'));
    expect(revoked.revoked).toContain(original.rep.certificates[0]!.serialNumber.toUpperCase());
    const owner = await t.services.certificates.deviceForCertificate(original.rep.certificates[0]!.fingerprint256);
    expect(owner).toMatchObject({ deviceRef: deviceId, revoked: true });
    const renewal = await exchange({
      messageType: 'RenewalReq',
      subject: { commonName: 'test-device' },
      signer: { privateKey: original.key, certificate: original.rep.certificates[0]! },
    });
    expect(renewal.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badCertId' });
    expect(renewal.rep.failInfoText).toMatch(/revoked/);
    const poll = await exchange({
      messageType: 'GetCertInitial',
      subject: { commonName: 'test-device' },
      transactionID: original.transactionID,
    });
    expect(poll.rep).toMatchObject({ status: 'FAILURE', failInfo: 'badCertId' });
    // Nothing left to revoke the second time
    expect(
      (await t.services.db.$transaction((tx) => t.services.certificates.revokeDeviceCertificates(tx, deviceId, 'again'))).revoked,
    ).toEqual([]);
  });
});

describe('messages the codec rejects', () => {
  it('answers a garbage body with a 400 text and an empty body likewise', async () => {
    const garbage = await t.anon
      .post('/scep?operation=PKIOperation')
      .set('Content-Type', 'application/x-pki-message')
      .send(Buffer.from('definitely not DER'));
    expect(garbage.status).toBe(400);
    expect(garbage.headers['content-type']).toMatch(/^text\/plain/);
    expect(garbage.text).toContain('not a SCEP PKIMessage');
    const empty = await t.anon.post('/scep?operation=PKIOperation').set('Content-Type', 'application/x-pki-message');
    expect(empty.status).toBe(400);
  });

  it('answers the real mdmclient request (encrypted to another CA) with a clean CertRep FAILURE badMessageCheck', async () => {
    const res = await postPkiOperation(t.app, fixture('mdmclient-PKIOperation.der'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-pki-message');
    const rep = parseCertRep(res.body as Buffer, {
      requesterKey: rsaKey(),
      caCert,
      expectedTransactionID: '140BC832976B3D0300BE8F5C2E35CEDF66E73D7B',
      expectedRecipientNonce: Buffer.from('fac5e2eda5d97d64', 'hex'),
    });
    expect(rep).toMatchObject({ status: 'FAILURE', failInfo: 'badMessageCheck' });
    // The server is still fine
    expect((await t.anon.get('/scep?operation=GetCACaps')).status).toBe(200);
  });
});

describe('service API for enrollment and MDM', () => {
  it('mints 32-character alphanumeric challenges with the requested lifetime', async () => {
    const a = await mint({ ttlMinutes: 30 });
    const b = await mint();
    expect(a.challenge).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(a.challenge).not.toBe(b.challenge);
    expect(Math.abs(a.expiresAt.getTime() - (Date.now() + 30 * 60_000))).toBeLessThan(10_000);
    await expect(mint({ ttlMinutes: 0 })).rejects.toThrow(RangeError);
    await expect(mint({ ttlMinutes: 10_081 })).rejects.toThrow(RangeError);
  });

  it('records PKCS#12 certificates and finds owners by fingerprint in either notation', async () => {
    const issued = t.services.signing.ca!.issueKeyAndCertificate({ subject: { commonName: 'p12-device' }, profile: 'device' });
    await t.services.certificates.recordCertificate(t.services.db, { certificate: issued.certificate, deviceRef: null, source: 'pkcs12' });
    const hex = certificateFingerprint(issued.certificate);
    expect(await t.services.certificates.deviceForCertificate(hex)).toMatchObject({ deviceRef: null, revoked: false });
    expect(await t.services.certificates.deviceForCertificate(issued.certificate.fingerprint256)).toMatchObject({ deviceRef: null });
    expect(await t.services.certificates.deviceForCertificate('00'.repeat(32))).toBeNull();
    // An unbound certificate binds once, to the first device that authenticates with it
    expect(await t.services.certificates.bindCertificate(issued.certificate.fingerprint256, deviceId)).toBe(true);
    expect(await t.services.certificates.bindCertificate(hex, deviceId + 1000)).toBe(false);
    expect((await t.services.certificates.deviceForCertificate(hex))?.deviceRef).toBe(deviceId);
  });
});

describe('logging', () => {
  it('logs each issuance and refusal once, never the challenge', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const scep = new ScepService(
      t.services.db,
      t.services.signing,
      t.services.certificates,
      'http://mockiron.test',
      createLogger('info', sink),
    );
    const app = deviceApp(scep);
    const key = rsaKey();
    const { challenge } = await mint();
    const request = buildPkcsReq({ caCert, privateKey: key, subject: { commonName: 'logged-device' }, challengePassword: challenge });
    expect((await postPkiOperation(app, request.der)).status).toBe(200);
    expect((await postPkiOperation(app, request.der)).status).toBe(200); // replay: refused
    const entries = lines.map((l) => JSON.parse(l) as { msg: string; scep?: { transactionID?: string; failInfo?: string } });
    expect(entries.map((e) => e.msg)).toEqual(['SCEP certificate issued', 'SCEP request refused']);
    expect(entries.every((e) => e.scep?.transactionID === request.transactionID)).toBe(true);
    expect(entries[1]!.scep?.failInfo).toBe('badRequest');
    expect(lines.join('')).not.toContain(challenge);
  });
});

/** The device routes alone, on a given ScepService (for a custom logger or signing identity). */
function deviceApp(scep: ScepService) {
  const app = express();
  const router = express.Router();
  router.use(express.raw({ type: () => true }));
  registerScepRoutes(new RouteTable(router, new OpenAPIRegistry(), '', async () => anonymous), scep);
  app.use(router);
  return app;
}

describe('without the CA key (imported signing identity)', () => {
  it('answers every SCEP operation with a 503 saying why', async () => {
    const imported = new SigningService(t.services.signing.identity, undefined);
    const app = deviceApp(
      new ScepService(t.services.db, imported, t.services.certificates, 'http://mockiron.test', createLogger('silent')),
    );
    for (const url of ['/scep?operation=GetCACaps', '/scep?operation=GetCACert', '/scep?operation=PKIOperation&message=AAAA']) {
      const res = await supertest(app).get(url);
      expect(res.status, url).toBe(503);
      expect(res.text).toMatch(/imported identity.*CA key/);
    }
    const post = await postPkiOperation(app, Buffer.from('x'));
    expect(post.status).toBe(503);
  });
});

describe('admin API', () => {
  const api = '/api/v2/scep';

  it('mints a challenge shown once: not in the audit log, usable for one certificate tied to the device', async () => {
    const res = await t.admin.post(`${api}/challenges`).send({ ttlMinutes: 15, deviceUuid });
    expect(res.status).toBe(201);
    const { challenge, expiresAt } = res.body.results;
    expect(challenge).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(Math.abs(new Date(expiresAt).getTime() - (Date.now() + 15 * 60_000))).toBeLessThan(10_000);

    const audit = await t.admin.get('/api/v2/audit?limit=200');
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain('scepChallenge');
    expect(JSON.stringify(audit.body)).not.toContain(challenge);

    const issued = await exchange({ challengePassword: challenge });
    expect(issued.rep.status).toBe('SUCCESS');
    const cert = issued.rep.certificates[0]!;
    const list = await t.admin.get(`${api}/certificates?deviceUuid=${deviceUuid}&revoked=false`);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(challenge);
    expect(list.body.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ serialNumber: cert.serialNumber.toUpperCase(), deviceUuid, source: 'scep', revoked: false }),
      ]),
    );
    expect(list.body.results[0]).not.toHaveProperty('certificatePem');

    const revoke = await t.admin.post(`${api}/certificates/${cert.serialNumber}/revoke`);
    expect(revoke.status).toBe(200);
    expect(revoke.body.results).toMatchObject({ serialNumber: cert.serialNumber.toUpperCase(), revoked: true, deviceUuid });
    expect((await t.services.certificates.deviceForCertificate(cert.fingerprint256))?.revoked).toBe(true);
    expect((await t.admin.post(`${api}/certificates/ABCDEF0123/revoke`)).status).toBe(404);

    // The CRL (public) lists it; openssl verifies the CRL and then refuses the certificate
    const kept = (
      await exchange({ challengePassword: (await t.admin.post(`${api}/challenges`).send({ deviceUuid })).body.results.challenge })
    ).rep.certificates[0]!;
    const crlRes = await t.anon.get(`${api}/crl`).buffer(true).parse(rawBody);
    expect(crlRes.status).toBe(200);
    expect(crlRes.headers['content-type']).toBe('application/pkix-crl');
    const crlFile = path.join(tmp, 'mockiron.crl');
    writeFileSync(crlFile, crlRes.body as Buffer);
    const crlCheck = spawnSync(
      'openssl',
      ['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', path.join(tmp, 'ca.pem'), '-noout', '-text'],
      { encoding: 'utf8' },
    );
    expect(crlCheck.stderr).toMatch(/verify OK/);
    expect(crlCheck.stdout.replace(/\s/g, '')).toContain(`SerialNumber:${cert.serialNumber.toUpperCase()}`);
    const pem = await t.anon.get(`${api}/crl?format=pem`);
    expect(pem.text).toMatch(/^-----BEGIN X509 CRL-----/);
    const pemFile = path.join(tmp, 'mockiron-crl.pem');
    writeFileSync(pemFile, pem.text);
    const verifyWithCrl = (c: X509Certificate) => {
      const file = path.join(tmp, `crl-${c.serialNumber}.pem`);
      writeFileSync(file, c.toString());
      return spawnSync('openssl', ['verify', '-crl_check', '-CAfile', path.join(tmp, 'ca.pem'), '-CRLfile', pemFile, file], {
        encoding: 'utf8',
      });
    };
    expect(verifyWithCrl(cert).stdout + verifyWithCrl(cert).stderr).toMatch(/certificate revoked/);
    expect(verifyWithCrl(kept).status).toBe(0);
    // Device certificates say where the CRL is
    const keptFile = path.join(tmp, 'kept.pem');
    writeFileSync(keptFile, kept.toString());
    const cdp = spawnSync('openssl', ['x509', '-in', keptFile, '-noout', '-ext', 'crlDistributionPoints'], { encoding: 'utf8' }).stdout;
    expect(cdp).toMatch(/URI:http:\/\/[^\s]+\/api\/v2\/scep\/crl/);
    expect((await t.anon.get(`${api}/crl?format=xml`)).status).toBe(400);
  });

  it('mints a challenge without a device, and validates its input', async () => {
    const free = await t.admin.post(`${api}/challenges`).send({});
    expect(free.status).toBe(201);
    const issued = await exchange({ challengePassword: free.body.results.challenge });
    expect(issued.rep.status).toBe('SUCCESS');
    expect((await t.services.certificates.deviceForCertificate(issued.rep.certificates[0]!.fingerprint256))?.deviceRef).toBeNull();

    expect((await t.admin.post(`${api}/challenges`).send({ ttlMinutes: 0 })).status).toBe(400);
    expect((await t.admin.post(`${api}/challenges`).send({ ttlMinutes: 10_081 })).status).toBe(400);
    expect((await t.admin.post(`${api}/challenges`).send({ challenge: 'mine' })).status).toBe(400);
    expect((await t.admin.post(`${api}/challenges`).send({ deviceUuid: randomUUID() })).status).toBe(404);
  });

  it('needs admin credentials and the admin role', async () => {
    expect((await t.anon.post(`${api}/challenges`).send({})).status).toBe(401);
    const viewer = await t.admin.post('/api/v2/admins').send({ username: 'scep-viewer', password: adminPassword, role: 'viewer' });
    expect(viewer.status).toBe(201);
    expect((await t.as('scep-viewer', adminPassword).post(`${api}/challenges`).send({})).status).toBe(403);
    expect((await t.as('scep-viewer', adminPassword).get(`${api}/certificates`)).status).toBe(200);
  });
});

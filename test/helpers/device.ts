// A scripted iOS device for protocol tests: enrolls through the real public endpoints
// (OTA phase 1 and 2, SCEP) and signs every MDM request with its SCEP identity.
import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import supertest from 'supertest';
import { expect } from 'vitest';
import { parsePlist, toXmlPlist, type PlistDict } from '../../src/lib/plist/index.js';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { buildPkcsReq, parseCertRep, selfSignedCertificate } from '../../src/lib/scep/index.js';
import { readCertsOnly } from '../../src/lib/scep/signed-data.js';
import { signCms, verifyCms } from '../../src/lib/pki/cms.js';
import { generateKeyPair } from '../../src/signing/identity.js';
import { rawBody, type TestApp } from './app.js';

export class TestDevice {
  readonly udid = randomBytes(20).toString('hex');
  readonly serial = `SIM${randomBytes(4).toString('hex').toUpperCase()}`;
  key!: KeyObject;
  certificate!: X509Certificate;
  caPem!: string;
  deviceUuid!: string;
  enrollmentProfile!: PlistDict;

  constructor(
    private readonly app: unknown,
    readonly model = 'iPad4,1',
    readonly osVersion = '9.3.1',
  ) {}

  private get http() {
    return supertest(this.app as never);
  }

  /** OTA phase 1 and 2, then SCEP. Returns the verified enrollment profile. */
  async enroll(enrollmentUrl: string): Promise<PlistDict> {
    this.caPem = (await this.http.get('/api/v2/signing/ca.pem')).text;
    const path = new URL(enrollmentUrl).pathname + new URL(enrollmentUrl).search;
    const phase1 = await this.http.get(path).buffer(true).parse(rawBody);
    expect(phase1.status).toBe(200);
    const service = parsePlist(verifyCms(phase1.body as Buffer, { trustAnchors: [this.caPem] }).content) as PlistDict;
    expect(service.PayloadType).toBe('Profile Service');
    const content = service.PayloadContent as PlistDict;
    const attributes = toXmlPlist({
      UDID: this.udid,
      VERSION: this.osVersion,
      PRODUCT: this.model,
      SERIAL: this.serial,
      CHALLENGE: content.Challenge as string,
    });
    const phase2 = await this.postOta(new URL(content.URL as string).pathname, Buffer.from(attributes));
    expect(phase2.status, String(phase2.body)).toBe(200);
    this.enrollmentProfile = parsePlist(verifyCms(phase2.body as Buffer, { trustAnchors: [this.caPem] }).content) as PlistDict;
    const payloads = this.enrollmentProfile.PayloadContent as PlistDict[];
    const scep = payloads.find((p) => p.PayloadType === 'com.apple.security.scep');
    if (scep) await this.scep(scep.PayloadContent as PlistDict);
    return this.enrollmentProfile;
  }

  /** Phase 2 as a device sends it: the attributes plist, CMS-signed by a device key. */
  async postOta(path: string, attributes: Buffer) {
    const { privateKey } = generateKeyPair('rsa');
    const cert = selfSignedCertificate(privateKey, { commonName: `device ${this.udid}` });
    const signed = signCms(attributes, { privateKey, certificate: cert });
    return this.http.post(path).set('content-type', 'application/pkcs7-signature').send(signed).buffer(true).parse(rawBody);
  }

  async scep(payload: PlistDict, challengeOverride?: string) {
    const caCert = await this.http.get('/scep?operation=GetCACert').buffer(true).parse(rawBody);
    // the CA alone, or CA + RA as a certs-only PKCS#7 (RFC 8894): requests go to the CA
    const ca = caCert.headers['content-type']?.startsWith('application/x-x509-ca-ra-cert')
      ? readCertsOnly(caCert.body as Buffer).find((c) => c.ca)!
      : new X509Certificate(caCert.body as Buffer);
    const { privateKey } = generateKeyPair('rsa');
    const request = buildPkcsReq({
      caCert: ca,
      privateKey,
      subject: { commonName: `device ${this.udid}` },
      challengePassword: challengeOverride ?? (payload.Challenge as string),
    });
    const res = await this.http
      .post('/scep?operation=PKIOperation')
      .set('content-type', 'application/x-pki-message')
      .send(request.der)
      .buffer(true)
      .parse(rawBody);
    expect(res.status).toBe(200);
    const rep = parseCertRep(res.body as Buffer, { requesterKey: privateKey, requesterCert: request.signer.certificate, caCert: ca });
    if (rep.status !== 'SUCCESS') return rep;
    this.key = privateKey;
    this.certificate =
      rep.certificates.find((c) => c.publicKey.equals?.(request.signer.certificate.publicKey) ?? true) ?? rep.certificates[0]!;
    return rep;
  }

  /** PUT a plist to an MDM endpoint, signed with Mdm-Signature. */
  async put(path: string, dict: PlistDict, opts: { contentType?: string; tamper?: boolean } = {}) {
    const body = Buffer.from(toXmlPlist(dict));
    const signature = signMdmRequest(body, { privateKey: this.key, certificate: this.certificate });
    const sent = opts.tamper ? Buffer.from(toXmlPlist({ ...dict, Tampered: true })) : body;
    return this.http
      .put(path)
      .set('content-type', opts.contentType ?? 'application/x-apple-aspen-mdm')
      .set('Mdm-Signature', signature)
      .send(sent)
      .buffer(true)
      .parse(rawBody);
  }

  checkin(dict: PlistDict, opts: { tamper?: boolean } = {}) {
    return this.put('/mdm/checkin', { UDID: this.udid, ...dict }, { contentType: 'application/x-apple-aspen-mdm-checkin', ...opts });
  }

  authenticate() {
    return this.checkin({
      MessageType: 'Authenticate',
      Topic: 'com.apple.mgmt.External.mockiron',
      SerialNumber: this.serial,
      ProductName: this.model,
      OSVersion: this.osVersion,
      DeviceName: 'Test iPad',
    });
  }

  tokenUpdate() {
    return this.checkin({
      MessageType: 'TokenUpdate',
      Topic: 'com.apple.mgmt.External.mockiron',
      Token: randomBytes(32),
      PushMagic: 'push-magic-1',
      UnlockToken: randomBytes(16),
    });
  }

  /** Idle or a result; returns the next command (or null for an empty answer). */
  async connect(dict: PlistDict = { Status: 'Idle' }): Promise<{ status: number; command: PlistDict | null; text: string }> {
    const res = await this.put('/mdm/connect', { UDID: this.udid, ...dict });
    const body = res.body as Buffer;
    const command = res.status === 200 && body.length ? (parsePlist(body) as PlistDict) : null;
    return { status: res.status, command, text: body.toString('utf8') };
  }

  /** Answers each command with Acknowledged (or what `answer` says) until the queue is empty. */
  async drain(answer: (cmd: PlistDict) => PlistDict = () => ({ Status: 'Acknowledged' }), max = 50): Promise<PlistDict[]> {
    const seen: PlistDict[] = [];
    let next = await this.connect();
    while (next.command && seen.length < max) {
      seen.push(next.command);
      next = await this.connect({ CommandUUID: next.command.CommandUUID as string, ...answer(next.command) });
    }
    return seen;
  }
}

/** A device enrolled over OTA and SCEP (Authenticate, TokenUpdate), its uuid known and its queue drained; `userId` must exist. */
export async function enrolledDevice(t: TestApp, userId: string): Promise<TestDevice> {
  const invitation = await t.admin.post('/api/v2/enrollments').send({ userId, identity: 'scep' });
  expect(invitation.status).toBe(201);
  const d = new TestDevice(t.app);
  await d.enroll(invitation.body.results.url);
  expect((await d.authenticate()).status).toBe(200);
  expect((await d.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' });
  d.deviceUuid = found.body.results[0]['common.uuid'];
  await d.drain();
  return d;
}

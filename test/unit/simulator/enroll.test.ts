// The enrollment helpers on their own: reading the Profile Service, the SCEP subject, the
// attributes a device reports, and opening a PKCS#12 identity payload.
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { buildProfileServicePayload } from '../../../src/lib/enrollment/payloads.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';
import {
  deviceAttributesPlist,
  SimulatorEnrollmentError,
  findProfileService,
  openPkcs12,
  readMdmPayload,
  scepSubjectName,
} from '../../../src/simulator/enroll.js';
import { deriveIdentity } from '../../../src/simulator/identity.js';

const NAMESPACE = '0c3f2a1b-5d6e-4f70-8a9b-0c1d2e3f4a5b';

describe('findProfileService', () => {
  const service = buildProfileServicePayload({
    namespace: NAMESPACE,
    payload: { identifier: 'com.example.ota', displayName: 'Enroll' },
    url: 'http://mdm.example.com/ota/profile',
    challenge: 'one-time',
  });

  it('reads a top-level Profile Service payload and one wrapped in a Configuration profile', () => {
    const expected = {
      url: 'http://mdm.example.com/ota/profile',
      challenge: 'one-time',
      deviceAttributes: ['UDID', 'VERSION', 'PRODUCT', 'SERIAL', 'IMEI', 'MEID'],
    };
    expect(findProfileService(service)).toEqual(expected);
    expect(findProfileService({ PayloadType: 'Configuration', PayloadContent: [service] })).toEqual(expected);
  });

  it('fails clearly without one', () => {
    expect(() => findProfileService({ PayloadType: 'Configuration', PayloadContent: [] })).toThrow(SimulatorEnrollmentError);
  });
});

describe('deviceAttributesPlist', () => {
  it("answers what was asked with the device's values (build number as VERSION) plus the challenge", () => {
    const id = deriveIdentity('attrs', 1); // an iPhone: has an IMEI
    expect(deviceAttributesPlist(id, ['UDID', 'VERSION', 'PRODUCT', 'SERIAL', 'IMEI', 'MEID'], 'c-1')).toEqual({
      UDID: id.udid,
      VERSION: id.buildVersion,
      PRODUCT: id.productName,
      SERIAL: id.serialNumber,
      IMEI: id.imei,
      CHALLENGE: 'c-1',
    });
    const ipad = deriveIdentity('attrs', 0);
    expect(Object.keys(deviceAttributesPlist(ipad, ['UDID', 'IMEI'], undefined))).toEqual(['UDID']);
  });
});

describe('scepSubjectName', () => {
  it('maps the nested RDN array Apple uses onto a subject, falling back to a common name', () => {
    expect(scepSubjectName([[['O', 'mockiron']], [['OU', 'devices']], [['CN', 'iPad']]], 'udid')).toEqual({
      organization: 'mockiron',
      organizationalUnit: 'devices',
      commonName: 'iPad',
    });
    expect(scepSubjectName([[['2.5.4.10', 'Acme']]], 'udid-1')).toEqual({ organization: 'Acme', commonName: 'udid-1' });
    expect(scepSubjectName(undefined, 'udid-2')).toEqual({ commonName: 'udid-2' });
  });
});

describe('readMdmPayload', () => {
  it('defaults CheckInURL to ServerURL and SignMessage to false, as Apple documents', () => {
    expect(readMdmPayload({ ServerURL: 'https://m/mdm', Topic: 't', IdentityCertificateUUID: 'u' })).toEqual({
      serverUrl: 'https://m/mdm',
      checkInUrl: 'https://m/mdm',
      topic: 't',
      signMessage: false,
      identityCertificateUuid: 'u',
    });
    expect(() => readMdmPayload({ ServerURL: 'https://m/mdm', IdentityCertificateUUID: 'u' })).toThrow(/Topic is missing/);
  });
});

describe('openPkcs12', () => {
  const ca = CertificateAuthority.create();
  const issued = ca.issueKeyAndCertificate({ subject: { commonName: 'device' }, profile: 'device' });

  function p12(password: string): Uint8Array {
    const key = forge.pki.privateKeyFromPem(issued.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const cert = forge.pki.certificateFromPem(issued.pem);
    const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], password, { algorithm: '3des' });
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  }

  it("opens the identity with the payload's Password", () => {
    const { privateKey, certificate } = openPkcs12({
      PayloadType: 'com.apple.security.pkcs12',
      PayloadContent: p12('secret'),
      Password: 'secret',
    });
    expect(certificate.fingerprint256).toBe(new X509Certificate(issued.pem).fingerprint256);
    expect(certificate.checkPrivateKey(privateKey)).toBe(true);
  });

  it('reports a wrong password as an enrollment error', () => {
    expect(() => openPkcs12({ PayloadContent: p12('secret'), Password: 'wrong' })).toThrow(SimulatorEnrollmentError);
  });
});

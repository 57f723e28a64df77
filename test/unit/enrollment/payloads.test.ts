import { buildBinary } from 'plist';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_ACCESS_RIGHTS,
  DEFAULT_DEVICE_ATTRIBUTES,
  EnrollmentPayloadError,
  MdmProtocolError,
  buildEnrollmentProfile,
  buildMdmPayload,
  buildProfileServicePayload,
  enrollmentPayloadUuid,
  scepSubject,
  type EnrollmentProfileInput,
} from '../../../src/lib/enrollment/payloads.js';
import { parseDeviceAttributes } from '../../../src/enrollment/device-attributes.js';
import { parsePlist, plistToJson, plistTypeOf, toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { signCms, verifyCms } from '../../../src/lib/pki/cms.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';
import { checkAgainstYaml, profileYaml, type YamlKey } from '../mdm/helpers.js';

const NAMESPACE = '6f1c2a8e-4b1d-4f6e-9a37-2d7c1e5b8a90';
const UUID_UPPER = /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

/** Apple's keys for a payload type: the common Payload* keys plus the type's own (which win). */
function payloadKeys(payloadType: string): YamlKey[] {
  const own = profileYaml(payloadType).payloadkeys ?? [];
  const common = (profileYaml('CommonPayloadKeys').payloadkeys ?? []).filter((c) => !own.some((k) => k.key === c.key));
  return [...common, ...own];
}

function enrollmentError(fn: () => unknown): EnrollmentPayloadError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnrollmentPayloadError) return err;
    throw new Error(`expected EnrollmentPayloadError, got ${String(err)}`);
  }
  throw new Error('expected EnrollmentPayloadError, nothing was thrown');
}

let ca: CertificateAuthority;
beforeAll(() => {
  ca = CertificateAuthority.create({ subject: { commonName: 'mockiron Device CA', organization: 'mockiron' } });
});

function enrollmentInput(identity: EnrollmentProfileInput['identity']): EnrollmentProfileInput {
  return {
    namespace: NAMESPACE,
    profile: {
      identifier: 'com.mockiron.enroll',
      displayName: 'mockiron MDM',
      organization: 'mockiron',
      description: 'Enrolls this device',
    },
    caCertificateDer: ca.certificate.raw,
    identity,
    mdm: {
      serverUrl: 'https://mdm.example.com/mdm/connect',
      checkInUrl: 'https://mdm.example.com/mdm/checkin',
      topic: 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9',
    },
  };
}

const PKCS12 = { kind: 'pkcs12' as const, pkcs12: Buffer.from('pkcs12 bytes stand-in'), password: 'secret' };
const SCEP = {
  kind: 'scep' as const,
  url: 'https://mdm.example.com/scep',
  name: 'mockiron',
  subject: scepSubject([
    ['O', 'mockiron'],
    ['CN', 'mdm-device-663b07bb'],
  ]),
  challenge: 'one-time-challenge',
};

describe('Profile Service payload', () => {
  const input = {
    namespace: NAMESPACE,
    payload: { identifier: 'com.mockiron.ota', displayName: 'mockiron Enrollment', organization: 'mockiron' },
    url: 'https://mdm.example.com/ota/profile',
    challenge: 'invite-42',
  };

  it('has the shape Apple documents for OTA enrollment', () => {
    const payload = buildProfileServicePayload(input);
    expect(plistToJson(payload)).toEqual({
      PayloadType: 'Profile Service',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.mockiron.ota',
      PayloadUUID: enrollmentPayloadUuid(NAMESPACE, 'com.mockiron.ota'),
      PayloadDisplayName: 'mockiron Enrollment',
      PayloadOrganization: 'mockiron',
      PayloadContent: {
        URL: 'https://mdm.example.com/ota/profile',
        DeviceAttributes: ['UDID', 'VERSION', 'PRODUCT', 'SERIAL', 'IMEI', 'MEID'],
        Challenge: 'invite-42',
      },
    });
    expect(plistTypeOf(payload.PayloadVersion!)).toBe('integer');
    expect(payload.PayloadUUID).toMatch(UUID_UPPER);
    expect(DEFAULT_DEVICE_ATTRIBUTES).toContain('UDID');
  });

  it('is deterministic and round-trips through XML', () => {
    const xml = toXmlPlist(buildProfileServicePayload(input));
    expect(toXmlPlist(buildProfileServicePayload(input))).toBe(xml);
    expect(plistToJson(parsePlist(xml))).toEqual(plistToJson(buildProfileServicePayload(input)));
  });

  it.each([
    ['a relative URL', { url: '/ota/profile' }, 'URL'],
    ['an empty challenge', { challenge: '' }, 'Challenge'],
    ['attributes without UDID', { deviceAttributes: ['SERIAL'] }, 'DeviceAttributes'],
    ['unknown attributes', { deviceAttributes: ['UDID', 'SHOE_SIZE'] }, 'DeviceAttributes'],
    ['a bad namespace', { namespace: 'not-a-uuid' }, 'namespace'],
  ])('refuses %s', (_label, override, field) => {
    expect(enrollmentError(() => buildProfileServicePayload({ ...input, ...(override as object) })).field).toBe(field);
  });
});

describe.each([
  ['PKCS#12 identity', PKCS12, 'com.apple.security.pkcs12'],
  ['SCEP identity', SCEP, 'com.apple.security.scep'],
] as const)('MDM enrollment profile with a %s', (_label, identity, identityType) => {
  const build = () => buildEnrollmentProfile(enrollmentInput(identity));
  const payloads = () => build().PayloadContent as PlistDict[];

  it('is a Configuration profile of [root CA, identity, com.apple.mdm]', () => {
    const profile = build();
    expect(checkAgainstYaml(profile, profileYaml('TopLevel').payloadkeys ?? [])).toEqual([]);
    expect(profile.PayloadType).toBe('Configuration');
    expect(payloads().map((p) => p.PayloadType)).toEqual(['com.apple.security.root', identityType, 'com.apple.mdm']);
  });

  it("every payload matches Apple's YAML (keys, required keys, types)", () => {
    for (const payload of payloads()) {
      expect(checkAgainstYaml(payload, payloadKeys(payload.PayloadType as string)), payload.PayloadType as string).toEqual([]);
    }
  });

  it('IdentityCertificateUUID is the identity payload’s PayloadUUID', () => {
    const [, identityPayload, mdm] = payloads();
    expect(mdm!.IdentityCertificateUUID).toBe(identityPayload!.PayloadUUID);
    expect(identityPayload!.PayloadUUID).toMatch(UUID_UPPER);
  });

  it('com.apple.mdm has the keys and types devices insist on', () => {
    const mdm = payloads()[2]!;
    expect(mdm).toMatchObject({
      ServerURL: 'https://mdm.example.com/mdm/connect',
      CheckInURL: 'https://mdm.example.com/mdm/checkin',
      Topic: 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9',
      AccessRights: 8191,
      SignMessage: true,
      CheckOutWhenRemoved: true,
      ServerCapabilities: ['com.apple.mdm.per-user-connections'],
    });
    expect(plistTypeOf(mdm.AccessRights!)).toBe('integer');
    expect(plistTypeOf(mdm.SignMessage!)).toBe('boolean');
    expect(plistTypeOf(mdm.CheckOutWhenRemoved!)).toBe('boolean');
  });

  it('writes PayloadVersion as <integer> everywhere and carries the CA as <data>', () => {
    const xml = toXmlPlist(build());
    const versions = [...xml.matchAll(/<key>PayloadVersion<\/key>\s*<(\w+)>/g)].map((m) => m[1]);
    expect(versions).toEqual(['integer', 'integer', 'integer', 'integer']);
    expect(xml).toMatch(/<key>AccessRights<\/key>\s*<integer>8191<\/integer>/);
    expect(xml).toMatch(/<key>SignMessage<\/key>\s*<true\/>/);
    const root = (parsePlist(xml) as PlistDict).PayloadContent as PlistDict[];
    expect(Buffer.from(root[0]!.PayloadContent as Uint8Array).equals(ca.certificate.raw)).toBe(true);
  });

  it('is deterministic: same inputs, same bytes; another namespace, other UUIDs', () => {
    expect(toXmlPlist(build())).toBe(toXmlPlist(build()));
    const other = buildEnrollmentProfile({ ...enrollmentInput(identity), namespace: '0b6a3e0c-8d7e-4c1f-b2a4-5e6f7a8b9c0d' });
    expect(other.PayloadUUID).not.toBe(build().PayloadUUID);
    const uuids = [build().PayloadUUID, ...payloads().map((p) => p.PayloadUUID)];
    expect(new Set(uuids).size).toBe(4);
  });
});

describe('identity payload details', () => {
  it('PKCS#12: bytes as data and the password', () => {
    const identity = (buildEnrollmentProfile(enrollmentInput(PKCS12)).PayloadContent as PlistDict[])[1]!;
    expect(identity.Password).toBe('secret');
    expect(plistTypeOf(identity.PayloadContent!)).toBe('data');
  });

  it('SCEP: URL, Name, Subject as arrays of [oid, value] pairs, Keysize 2048, RSA, Key Usage 5', () => {
    const identity = (buildEnrollmentProfile(enrollmentInput(SCEP)).PayloadContent as PlistDict[])[1]!;
    expect(identity.PayloadContent).toEqual({
      URL: 'https://mdm.example.com/scep',
      Name: 'mockiron',
      Subject: [[['O', 'mockiron']], [['CN', 'mdm-device-663b07bb']]],
      Challenge: 'one-time-challenge',
      Keysize: 2048,
      'Key Type': 'RSA',
      'Key Usage': 5,
    });
    const content = identity.PayloadContent as PlistDict;
    expect(plistTypeOf(content.Keysize!)).toBe('integer');
    expect(plistTypeOf(content['Key Usage']!)).toBe('integer');
  });

  it.each([
    ['an empty Subject', { subject: [] }, 'Subject'],
    ['a malformed pair', { subject: [[['CN']]] }, 'Subject[0][0]'],
    ['Keysize 3072', { keysize: 3072 }, 'Keysize'],
    ['Key Usage 2', { keyUsage: 2 }, 'Key Usage'],
    ['an empty challenge', { challenge: '' }, 'Challenge'],
  ])('SCEP refuses %s', (_label, override, field) => {
    expect(enrollmentError(() => buildEnrollmentProfile(enrollmentInput({ ...SCEP, ...(override as object) } as never))).field).toBe(field);
  });
});

describe('com.apple.mdm options', () => {
  const base = {
    namespace: NAMESPACE,
    payload: { identifier: 'com.mockiron.enroll.mdm', displayName: 'MDM' },
    identityCertificateUuid: enrollmentPayloadUuid(NAMESPACE, 'com.mockiron.enroll.identity'),
    serverUrl: 'https://mdm.example.com/mdm/connect',
    topic: 'com.apple.mgmt.test',
  };

  it('takes AccessRights, SignMessage and capabilities from the caller, leaving CheckInURL out when absent', () => {
    const mdm = buildMdmPayload({ ...base, accessRights: 4095, signMessage: false, serverCapabilities: [], useDevelopmentApns: true });
    expect(mdm).toMatchObject({ AccessRights: 4095, SignMessage: false, ServerCapabilities: [], UseDevelopmentAPNS: true });
    expect(mdm.CheckInURL).toBeUndefined();
    expect(checkAgainstYaml(mdm, payloadKeys('com.apple.mdm'))).toEqual([]);
    expect(ALL_ACCESS_RIGHTS).toBe(8191);
  });

  it.each([
    ['AccessRights 0', { accessRights: 0 }, 'AccessRights'],
    ['AccessRights 8192', { accessRights: 8192 }, 'AccessRights'],
    ['a fractional AccessRights', { accessRights: 1.5 }, 'AccessRights'],
    ['a non-UUID identity reference', { identityCertificateUuid: 'identity' }, 'IdentityCertificateUUID'],
    ['a bad ServerURL', { serverUrl: 'mdm.example.com' }, 'ServerURL'],
    ['an empty Topic', { topic: '' }, 'Topic'],
  ])('refuses %s', (_label, override, field) => {
    expect(enrollmentError(() => buildMdmPayload({ ...base, ...(override as object) })).field).toBe(field);
  });
});

describe('parseDeviceAttributes', () => {
  const attributes: PlistDict = {
    UDID: '1111111111111111111111111111111111111111',
    VERSION: '15E302',
    PRODUCT: 'iPhone7,2',
    SERIAL: 'XXXXXXXXXXXX',
    IMEI: '11 111111 111111 1',
    MEID: '1111111111111',
    CHALLENGE: 'invite-42',
  };

  it('reads the attributes a device POSTs (XML)', () => {
    expect(parseDeviceAttributes(toXmlPlist(attributes))).toEqual({
      udid: '1111111111111111111111111111111111111111',
      version: '15E302',
      product: 'iPhone7,2',
      serial: 'XXXXXXXXXXXX',
      imei: '11 111111 111111 1',
      meid: '1111111111111',
      challenge: 'invite-42',
      raw: attributes,
    });
  });

  it('reads binary plists and the content of a verified CMS envelope', () => {
    expect(parseDeviceAttributes(Buffer.from(buildBinary(attributes as never))).udid).toBe(attributes.UDID);
    // Phase 2 as it happens: the device signs the plist; the caller verifies, then parses the content
    const deviceIdentity = ca.issueKeyAndCertificate({ subject: { commonName: 'Apple iPhone Device CA stand-in' }, profile: 'device' });
    const signed = signCms(Buffer.from(toXmlPlist(attributes)), deviceIdentity);
    const verified = verifyCms(signed, { trustAnchors: [ca.certificate] });
    expect(parseDeviceAttributes(verified.content, { requireChallenge: true }).challenge).toBe('invite-42');
  });

  it('omits attributes the device did not send (no MEID on a Wi-Fi iPad)', () => {
    const { MEID: _meid, IMEI: _imei, ...wifi } = attributes;
    const parsed = parseDeviceAttributes(toXmlPlist(wifi));
    expect('meid' in parsed).toBe(false);
    expect('imei' in parsed).toBe(false);
  });

  it.each([
    ['not a plist', 'UDID=1', 'NOT_A_PLIST', undefined],
    ['an empty body', '', 'NOT_A_PLIST', undefined],
    ['an array root', toXmlPlist(['UDID']), 'NOT_A_DICT', undefined],
    ['no UDID', toXmlPlist({ VERSION: '15E302' }), 'MISSING_FIELD', 'UDID'],
    ['a numeric SERIAL', toXmlPlist({ UDID: 'u', SERIAL: 7 }), 'INVALID_FIELD', 'SERIAL'],
  ])('%s → %s', (_label, body, code, field) => {
    try {
      parseDeviceAttributes(body);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MdmProtocolError);
      expect((err as MdmProtocolError).code).toBe(code);
      expect((err as MdmProtocolError).field).toBe(field);
    }
  });

  it('requireChallenge makes a missing CHALLENGE an error', () => {
    const { CHALLENGE: _challenge, ...rest } = attributes;
    expect(() => parseDeviceAttributes(toXmlPlist(rest), { requireChallenge: true })).toThrow(/CHALLENGE is missing/);
    expect(parseDeviceAttributes(toXmlPlist(rest)).challenge).toBeUndefined();
  });
});

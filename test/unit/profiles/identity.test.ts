// Identity payloads for certificate-authenticated VPN (issue #18), pure parts: subject/SAN
// templates, the SCEP and PKCS#12 identity payloads, VPN payloads naming them, and lint.
//
// Judged against the outside:
// - Apple's schemas (vendor/apple-device-management/mdm/profiles/com.apple.security.scep.yaml:
//   Subject as [[[type, value]]], Keysize 1024/2048/4096, Key Usage bitmask 1|4, SubjectAltName
//   keys rfc822Name/dNSName/uniformResourceIdentifier/ntPrincipalName; com.apple.vpn.managed.yaml:
//   AuthenticationMethod Certificate with PayloadCertificateUUID in VPN, IKEv2 and IPSec) through
//   our lint, which reads those files;
// - OpenSSL's `openssl x509 -text` for the certificate extensions an identity setting asks for
//   (the UPN as "othername: UPN::", e-mail, DNS and URI SANs, TLS Web Client Authentication);
// - public MDMs build the same SCEP payload shape for identities: micromdm/micromdm
//   (platform/profile... scep payload "Key Usage"/"Keysize"/"Subject") and fleetdm/fleet's SCEP
//   proxy profiles (com.apple.security.scep with Challenge and URL, PayloadCertificateUUID from the
//   VPN/Wi-Fi payload).
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPlistDict, parsePlist, type PlistDict } from '../../../src/lib/plist/index.js';
import {
  buildPkcs12IdentityPayload,
  buildScepIdentityPayload,
  buildVpnProfile,
  fillIdentityTemplates,
  hasErrors,
  identityPayloadIdentity,
  lintProfile,
  parseSubjectTemplate,
  toXml,
  validateIdentityTemplates,
  type VpnConfigSpec,
} from '../../../src/lib/profiles/index.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';
import { EXTENDED_KEY_USAGE_OIDS } from '../../../src/lib/pki/x509.js';
import { loadProfileSchemas } from '../../../src/profiles/index.js';

const NAMESPACE = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const PROFILE = 'com.example.vpn.device';
const schemas = loadProfileSchemas();

const vars = { userId: 'jdoe', email: 'jdoe@example.com', deviceUuid: 'DEV-1', serialNumber: 'C02XYZ', udid: 'u-1' };

function config(overrides: Partial<VpnConfigSpec> = {}): VpnConfigSpec {
  return {
    name: 'corp',
    connectionType: 'ANYCONNECT',
    server: 'vpn.example.com',
    group: 'corp',
    perApp: true,
    onDemandMatchAppEnabled: true,
    safariDomains: [],
    associatedDomains: [],
    excludedDomains: [],
    smbDomains: [],
    mailDomains: [],
    calendarDomains: [],
    contactsDomains: [],
    userAuthentication: 'CERTIFICATE',
    username: null,
    password: null,
    customData: {},
    vpnUuid: '5D0B1A52-9E0C-4A3F-B8D4-2C2A6F1E7A10',
    ...overrides,
  };
}

const templates = {
  subject: 'CN=$USERID$,OU=Sales,O=Example\\, Inc.,E=$EMAIL$,C=US',
  subjectAltNames: [
    { type: 'rfc822Name' as const, value: '$EMAIL$' },
    { type: 'ntPrincipalName' as const, value: '$USERID$@corp.example.com' },
    { type: 'uniformResourceIdentifier' as const, value: 'urn:uuid:$DEVICE_UUID$' },
  ],
};

function scepPayload(settingId = 1) {
  return buildScepIdentityPayload({
    namespace: NAMESPACE,
    profileIdentifier: PROFILE,
    settingId,
    settingName: `setting ${settingId}`,
    url: 'https://mdm.example.com/scep',
    challenge: 'abc123',
    keySize: 2048,
    keyUsage: ['signing', 'encryption'],
    filled: fillIdentityTemplates(templates, vars),
  });
}

describe('subject and SAN templates', () => {
  it('parses a subject in order, with escaped commas and any-case types', () => {
    expect(parseSubjectTemplate('cn=$USERID$, OU=Sales ,o=Example\\, Inc.,emailaddress=a@b.c')).toEqual([
      { type: 'CN', value: '$USERID$' },
      { type: 'OU', value: 'Sales' },
      { type: 'O', value: 'Example, Inc.' },
      { type: 'emailAddress', value: 'a@b.c' },
    ]);
  });

  it('reports unknown variables, unknown types, bad literals and duplicate SAN types', () => {
    expect(validateIdentityTemplates(templates)).toEqual([]);
    const issues = validateIdentityTemplates({
      subject: 'CN=$USER_NAME$,XX=1,C=usa',
      subjectAltNames: [
        { type: 'dNSName', value: 'not a host' },
        { type: 'dNSName', value: '$SERIAL_NUMBER$.example.com' },
      ],
    });
    expect(issues.map((i) => i.field)).toEqual(['subject', 'subjectAltNames[0].value', 'subjectAltNames[1].type']);
    expect(issues[0]!.message).toMatch(/unknown attribute type XX/);
    expect(validateIdentityTemplates({ subject: 'CN=$USER_NAME$', subjectAltNames: [] })[0]!.message).toMatch(/unknown variable \$USER_NAME\$/);
    expect(validateIdentityTemplates({ subject: 'C=usa', subjectAltNames: [] })[0]!.message).toMatch(/two capital letters/);
  });

  it('fills per device, leaving out what has no value rather than carrying literal $EMAIL$', () => {
    const filled = fillIdentityTemplates(templates, vars);
    // RFC 4514 order in the template, DER order filled
    expect(filled.subject).toEqual([
      { type: 'C', value: 'US' },
      { type: 'E', value: 'jdoe@example.com' },
      { type: 'O', value: 'Example, Inc.' },
      { type: 'OU', value: 'Sales' },
      { type: 'CN', value: 'jdoe' },
    ]);
    expect(filled.subjectAltNames.map((s) => s.value)).toEqual(['jdoe@example.com', 'jdoe@corp.example.com', 'urn:uuid:DEV-1']);
    const noUser = fillIdentityTemplates(templates, { deviceUuid: 'DEV-2' });
    expect(noUser.subject.map((a) => a.type)).toEqual(['C', 'O', 'OU']);
    expect(noUser.subjectAltNames).toEqual([{ type: 'uniformResourceIdentifier', value: 'urn:uuid:DEV-2' }]);
    expect(fillIdentityTemplates({ subject: 'CN=$EMAIL$', subjectAltNames: [] }, { deviceUuid: 'DEV-3' }).subject).toEqual([
      { type: 'CN', value: 'DEV-3' },
    ]);
  });
});

describe('identity payloads in a VPN profile', () => {
  it("builds Apple's SCEP payload shape: Subject RDNs (E as its OID), SubjectAltName, Keysize, Key Usage", () => {
    const p = scepPayload();
    expect(p.PayloadType).toBe('com.apple.security.scep');
    expect(p.PayloadUUID).toBe(identityPayloadIdentity(NAMESPACE, PROFILE, 1).uuid);
    const content = p.PayloadContent as PlistDict;
    expect(content.Subject).toEqual([
      [['C', 'US']],
      [['1.2.840.113549.1.9.1', 'jdoe@example.com']],
      [['O', 'Example, Inc.']],
      [['OU', 'Sales']],
      [['CN', 'jdoe']],
    ]);
    expect(content.SubjectAltName).toEqual({
      rfc822Name: 'jdoe@example.com',
      ntPrincipalName: 'jdoe@corp.example.com',
      uniformResourceIdentifier: 'urn:uuid:DEV-1',
    });
    expect(content.Keysize).toBe(2048);
    expect(content['Key Usage']).toBe(5);
  });

  const variants: Array<[VpnConfigSpec['connectionType'], VpnConfigSpec['userAuthentication']]> = [];
  for (const type of ['ANYCONNECT', 'ANYCONNECT_LEGACY', 'IKEV2', 'IPSEC', 'L2TP'] as const)
    for (const auth of ['CERTIFICATE', 'PASSWORD_AND_CERTIFICATE'] as const) variants.push([type, auth]);

  it.each(variants)('%s with %s: lint passes and PayloadCertificateUUID names the identity payload', (type, auth) => {
    const identity = scepPayload();
    const profile = buildVpnProfile({
      profile: { identifier: PROFILE, displayName: 'VPN' },
      namespace: NAMESPACE,
      vpnConfigs: [
        config({
          connectionType: type,
          userAuthentication: auth,
          certificatePayloadUuid: identity.PayloadUUID as string,
          ...(auth === 'PASSWORD_AND_CERTIFICATE' ? { username: '$USERID$', password: 'pw' } : {}),
        }),
      ],
      variables: vars,
      extraPayloads: [identity],
    });
    const parsed = parsePlist(toXml(profile)) as PlistDict;
    const findings = lintProfile(parsed, schemas, {});
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const vpn = (parsed.PayloadContent as PlistDict[])[0]!;
    const dict = (vpn.VPN ?? vpn.IKEv2 ?? vpn.IPSec) as PlistDict;
    expect(isPlistDict(dict)).toBe(true);
    expect(dict.AuthenticationMethod).toBe('Certificate');
    expect(dict.PayloadCertificateUUID).toBe(identity.PayloadUUID);
    if (auth === 'PASSWORD_AND_CERTIFICATE') {
      if (type === 'IKEV2') expect([dict.ExtendedAuthEnabled, dict.AuthName, dict.AuthPassword]).toEqual([1, 'jdoe', 'pw']);
      if (type === 'IPSEC') expect([dict.XAuthEnabled, dict.XAuthName]).toEqual([1, 'jdoe']);
      if (type === 'L2TP') expect((vpn.PPP as PlistDict).AuthName).toBe('jdoe');
      if (type.startsWith('ANYCONNECT')) expect([dict.AuthName, dict.AuthPassword]).toEqual(['jdoe', 'pw']);
    } else if (type === 'IKEV2') {
      expect(dict.ExtendedAuthEnabled).toBeUndefined();
    }
  });

  it('two configurations, two settings: each names its own identity payload', () => {
    const a = scepPayload(1);
    const b = buildPkcs12IdentityPayload({
      namespace: NAMESPACE,
      profileIdentifier: PROFILE,
      settingId: 2,
      settingName: 'local',
      pkcs12: Buffer.from('p12'),
      password: 'pw',
    });
    const profile = buildVpnProfile({
      profile: { identifier: PROFILE, displayName: 'VPN' },
      namespace: NAMESPACE,
      vpnConfigs: [
        config({ certificatePayloadUuid: a.PayloadUUID as string }),
        config({ name: 'other', vpnUuid: '6D0B1A52-9E0C-4A3F-B8D4-2C2A6F1E7A10', certificatePayloadUuid: b.PayloadUUID as string }),
      ],
      extraPayloads: [a, b],
    });
    const [va, vb] = profile.PayloadContent as PlistDict[];
    expect((va!.VPN as PlistDict).PayloadCertificateUUID).toBe(a.PayloadUUID);
    expect((vb!.VPN as PlistDict).PayloadCertificateUUID).toBe(b.PayloadUUID);
    expect(a.PayloadUUID).not.toBe(b.PayloadUUID);
    expect(hasErrors(lintProfile(parsePlist(toXml(profile)), schemas))).toBe(false);
  });

  it('lint: a PayloadCertificateUUID naming a payload that holds no identity is an error', () => {
    const root: PlistDict = {
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadIdentifier: `${PROFILE}.root`,
      PayloadUUID: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
      PayloadContent: Buffer.from('x'),
    };
    const profile = buildVpnProfile({
      profile: { identifier: PROFILE, displayName: 'VPN' },
      namespace: NAMESPACE,
      vpnConfigs: [config({ certificatePayloadUuid: root.PayloadUUID as string })],
      extraPayloads: [root],
    });
    const findings = lintProfile(parsePlist(toXml(profile)), schemas);
    expect(findings).toContainEqual({
      severity: 'error',
      path: 'PayloadContent[0].VPN.PayloadCertificateUUID',
      message: `PayloadCertificateUUID ${String(root.PayloadUUID)} names a com.apple.security.root payload, not a certificate identity`,
    });
  });
});

describe('an identity certificate as a setting asks for, read by openssl', () => {
  it('carries the templated subject, typed SANs (UPN as otherName), key usage and EKU', () => {
    const ca = CertificateAuthority.create();
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const filled = fillIdentityTemplates(templates, vars);
    const issued = ca.issueCertificate({
      subject: { commonName: 'jdoe', attributes: filled.subject },
      publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })),
      profile: 'identity',
      validityDays: 30,
      identity: {
        keyUsages: ['digitalSignature'],
        extendedKeyUsageOids: [EXTENDED_KEY_USAGE_OIDS.clientAuth, EXTENDED_KEY_USAGE_OIDS.ipsecIke],
        subjectAltNames: filled.subjectAltNames,
      },
    });
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-nameopt', 'RFC2253'], { input: issued.pem }).toString();
    // RFC 2253 prints the most specific RDN first: the template as written
    expect(text).toMatch(/Subject: CN=jdoe,OU=Sales,O=Example\\, Inc\.,emailAddress=jdoe@example\.com,C=US\n/);
    expect(text).toMatch(/email:jdoe@example\.com/);
    expect(text).toMatch(/othername: (UPN|msUPN|1\.3\.6\.1\.4\.1\.311\.20\.2\.3)::?jdoe@corp\.example\.com/);
    expect(text).toMatch(/URI:urn:uuid:DEV-1/);
    expect(text).toMatch(/TLS Web Client Authentication, ipsec Internet Key Exchange/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlistReal, parsePlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { buildVpnProfile, indexProfileSchemas, lintProfile, type ProfileSchemaSet, type VpnConfigSpec } from '../../../src/lib/profiles/index.js';
import { extractSignedContent, loadProfileSchemas, readProfileBytes } from '../../../src/profiles/index.js';

const FIXTURES = 'test/fixtures/signed-profiles';
const schemas = loadProfileSchemas();

const vpn: VpnConfigSpec = {
  name: 'vpndemo-external',
  connectionType: 'ANYCONNECT',
  server: 'asa.example.com',
  perApp: true,
  onDemandMatchAppEnabled: true,
  safariDomains: ['intranet.example.com'],
  associatedDomains: ['apps.example.com'],
  excludedDomains: [],
  smbDomains: [],
  mailDomains: [],
  calendarDomains: [],
  contactsDomains: [],
  userAuthentication: 'PASSWORD',
  username: '$USERID$',
  customData: {},
  vpnUuid: '3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10',
};

function goodProfile(overrides: Partial<VpnConfigSpec> = {}): PlistDict {
  return buildVpnProfile({
    profile: { identifier: 'com.example.vpn', displayName: 'VPN' },
    vpnConfigs: [{ ...vpn, ...overrides }],
    namespace: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  });
}

function payload0(profile: PlistDict): PlistDict {
  return (profile.PayloadContent as PlistDict[])[0]!;
}

describe('lintProfile on our own profiles', () => {
  it('a built AnyConnect per-app profile is clean (RemoteAddress/AuthName in VPN are whitelisted)', () => {
    expect(lintProfile(goodProfile(), schemas)).toEqual([]);
  });

  it('--ios 9.3 warns about keys introduced later, from supportedOS.iOS.introduced', () => {
    expect(lintProfile(goodProfile(), schemas, { iosVersion: '9.3' })).toEqual([
      {
        severity: 'warning',
        path: 'PayloadContent[0].AssociatedDomains',
        message: 'AssociatedDomains was introduced in iOS 14.0; target is iOS 9.3',
      },
    ]);
    expect(lintProfile(goodProfile(), schemas, { iosVersion: '14.0' })).toEqual([]);
  });

  it('Mail/Calendar/Contacts domains are deprecated since iOS 13.4, with the schema’s advice', () => {
    const findings = lintProfile(goodProfile({ mailDomains: ['mail.example.com'], calendarDomains: ['cal.example.com'] }), schemas);
    expect(findings).toEqual([
      {
        severity: 'warning',
        path: 'PayloadContent[0].CalendarDomains',
        message:
          "CalendarDomains is deprecated since iOS 13.4 (This property is deprecated in iOS 13.4 and later; use the 'VPNUUID' property of the CalDAV payload instead.)",
      },
      {
        severity: 'warning',
        path: 'PayloadContent[0].MailDomains',
        message:
          "MailDomains is deprecated since iOS 13.4 (This property is deprecated in iOS 13.4 and later; use the 'VPNUUID' property of the Mail or ExchangeActiveSync payload instead.)",
      },
    ]);
    // Before the deprecation there is nothing to say.
    expect(lintProfile(goodProfile({ mailDomains: ['mail.example.com'], associatedDomains: [] }), schemas, { iosVersion: '13.0' })).toEqual([]);
  });
});

describe('lintProfile on broken profiles', () => {
  it('OnDemandMatchAppEnabled as an integer and OnDemandEnabled as a boolean are type errors with hints', () => {
    const p = goodProfile();
    payload0(p).OnDemandMatchAppEnabled = 1;
    (payload0(p).VPN as PlistDict).OnDemandEnabled = true;
    expect(lintProfile(p, schemas)).toEqual([
      {
        severity: 'error',
        path: 'PayloadContent[0].OnDemandMatchAppEnabled',
        message: 'expected <boolean> but found <integer>1</integer>; OnDemandMatchAppEnabled is a boolean (write <true/>), not an integer',
      },
      {
        severity: 'error',
        path: 'PayloadContent[0].VPN.OnDemandEnabled',
        message: 'expected <integer> but found <true/>; OnDemandEnabled is an integer (write <integer>1</integer>), not a boolean',
      },
    ]);
  });

  it('integer vs real: a <real> where an integer belongs is an error; an integer for a <real> key is info', () => {
    const p = goodProfile();
    p.PayloadVersion = new PlistReal(1);
    p.DurationUntilRemoval = 3600;
    expect(lintProfile(p, schemas)).toEqual([
      {
        severity: 'error',
        path: 'PayloadVersion',
        message: 'expected <integer> but found <real>1</real>; PayloadVersion must be an <integer>, not a <real>',
      },
      {
        severity: 'info',
        path: 'DurationUntilRemoval',
        message: "DurationUntilRemoval is typed <real> in Apple's schema but written as <integer>3600</integer>",
      },
    ]);
  });

  it('missing required keys, rangelist values, unknown keys', () => {
    const p = goodProfile();
    delete p.PayloadIdentifier;
    p.PayloadType = 'Configuraton';
    const pay = payload0(p);
    delete pay.UserDefinedName;
    (pay.VPN as PlistDict).AuthenticationMethod = 'Token';
    pay.SafariDomain = ['typo.example.com'];
    expect(lintProfile(p, schemas)).toEqual([
      { severity: 'error', path: 'PayloadIdentifier', message: 'missing required key PayloadIdentifier' },
      {
        severity: 'error',
        path: 'PayloadType',
        message: '"Configuraton" is not an allowed value for PayloadType (allowed: "Configuration")',
      },
      { severity: 'error', path: 'PayloadContent[0].UserDefinedName', message: 'missing required key UserDefinedName' },
      {
        severity: 'error',
        path: 'PayloadContent[0].VPN.AuthenticationMethod',
        message: '"Token" is not an allowed value for AuthenticationMethod (allowed: "Password", "Certificate", "Password+Certificate")',
      },
      { severity: 'warning', path: 'PayloadContent[0].SafariDomain', message: "unknown key SafariDomain (not in Apple's schema)" },
    ]);
  });

  it('applayer without VPNUUID, VPN without VPNSubType, certificate auth without a certificate', () => {
    const p = goodProfile();
    const pay = payload0(p);
    delete pay.VPNUUID;
    delete pay.VPNSubType;
    (pay.VPN as PlistDict).AuthenticationMethod = 'Certificate';
    expect(lintProfile(p, schemas)).toEqual([
      {
        severity: 'error',
        path: 'PayloadContent[0].VPNUUID',
        message: 'missing required key VPNUUID; without it no app can be routed through this per-app VPN',
      },
      { severity: 'error', path: 'PayloadContent[0].VPNSubType', message: 'VPNSubType is required when VPNType is VPN' },
      {
        severity: 'error',
        path: 'PayloadContent[0].VPN.PayloadCertificateUUID',
        message: 'certificate authentication needs PayloadCertificateUUID',
      },
    ]);
  });

  it('duplicate PayloadUUID / PayloadIdentifier / VPNUUID and dangling PayloadCertificateUUID', () => {
    const p = goodProfile();
    const first = payload0(p);
    const second = structuredClone(first);
    (second.VPN as PlistDict).AuthenticationMethod = 'Certificate';
    (second.VPN as PlistDict).PayloadCertificateUUID = '11111111-2222-4333-8444-555555555555';
    (p.PayloadContent as PlistDict[]).push(second);
    expect(lintProfile(p, schemas)).toEqual([
      {
        severity: 'error',
        path: 'PayloadContent[1].PayloadUUID',
        message: `duplicate PayloadUUID ${String(first.PayloadUUID)} (also at PayloadContent[0].PayloadUUID)`,
      },
      {
        severity: 'error',
        path: 'PayloadContent[1].PayloadIdentifier',
        message: `duplicate PayloadIdentifier ${String(first.PayloadIdentifier)} (also at PayloadContent[0].PayloadIdentifier)`,
      },
      {
        severity: 'error',
        path: 'PayloadContent[1].VPNUUID',
        message: `duplicate VPNUUID ${vpn.vpnUuid} (also at PayloadContent[0].VPNUUID)`,
      },
      {
        severity: 'warning',
        path: 'PayloadContent[1].VPN.PayloadCertificateUUID',
        message: 'PayloadCertificateUUID 11111111-2222-4333-8444-555555555555 names no payload in this profile',
      },
    ]);
  });

  it('IKEv2 type without its dictionary; unknown payload types; non-dictionary roots', () => {
    const p = goodProfile({ connectionType: 'IKEV2' });
    delete payload0(p).IKEv2;
    (p.PayloadContent as PlistDict[]).push({
      PayloadType: 'com.example.custom',
      PayloadVersion: 1,
      PayloadIdentifier: 'x.custom',
      PayloadUUID: 'C0FFEE00-0000-4000-8000-000000000000',
      Anything: 'goes',
    });
    expect(lintProfile(p, schemas)).toEqual([
      { severity: 'error', path: 'PayloadContent[0].IKEv2', message: 'VPNType IKEv2 needs a IKEv2 dictionary' },
      {
        severity: 'warning',
        path: 'PayloadContent[1].PayloadType',
        message: 'unknown payload type com.example.custom; only the common payload keys were checked',
      },
    ]);
    expect(lintProfile(['not', 'a', 'dict'], schemas)).toEqual([
      { severity: 'error', path: '', message: 'a configuration profile is a dictionary, found <array>' },
    ]);
  });

  it('takes the schema as data: a doctored schema changes the verdict (lint is pure)', () => {
    const docs: unknown[] = [schemas.topLevel, schemas.common, ...schemas.payloads.values()].map((d) => structuredClone(d));
    const custom: ProfileSchemaSet = indexProfileSchemas(docs);
    const applayer = custom.payloads.get('com.apple.vpn.managed.applayer')!;
    applayer.payloadkeys.find((k) => k.key === 'SafariDomains')!.supportedOS = { iOS: { introduced: '99.0' } };
    expect(lintProfile(goodProfile({ associatedDomains: [] }), custom, { iosVersion: '18.0' })).toEqual([
      { severity: 'warning', path: 'PayloadContent[0].SafariDomains', message: 'SafariDomains was introduced in iOS 99.0; target is iOS 18.0' },
    ]);
  });
});

describe('lintProfile on real third-party profiles (test/fixtures/signed-profiles)', () => {
  const twins = ['adguard-default-https', 'cloudflare-default-https', 'quad9-default-tls'];

  it.each(twins)('%s: the unsigned twin lints clean for current iOS', (name) => {
    const profile = parsePlist(readFileSync(`${FIXTURES}/encrypted-dns/${name}.mobileconfig`));
    expect(lintProfile(profile, schemas)).toEqual([]);
  });

  it.each(twins)('%s: for iOS 13 the only finding is the payload type itself (DNS settings arrived in iOS 14)', (name) => {
    const profile = parsePlist(readFileSync(`${FIXTURES}/encrypted-dns/${name}.mobileconfig`));
    expect(lintProfile(profile, schemas, { iosVersion: '13.0' })).toEqual([
      {
        severity: 'warning',
        path: 'PayloadContent[0]',
        message: 'payload type com.apple.dnsSettings.managed was introduced in iOS 14.0; target is iOS 13.0',
      },
    ]);
  });

  it.each(twins)('%s: the signed file carries its unsigned twin byte for byte and lints the same', (name) => {
    const signed = readFileSync(`${FIXTURES}/encrypted-dns/${name}.signed.mobileconfig`);
    const unsigned = readFileSync(`${FIXTURES}/encrypted-dns/${name}.mobileconfig`);
    const extracted = extractSignedContent(signed);
    expect(Buffer.compare(Buffer.from(extracted.content), unsigned)).toBe(0);
    expect(extracted.signers).toEqual(['CN=encrypted-dns.brunch.io']);
    expect(extracted.certificates).toEqual(['CN=encrypted-dns.brunch.io', "C=US, O=Let's Encrypt, CN=E8"]);
    const read = readProfileBytes(signed);
    expect(read.signature?.signers).toEqual(['CN=encrypted-dns.brunch.io']);
    expect(lintProfile(read.value, schemas)).toEqual([]);
  });

  it('the RSA CMS test vector is signed by C=US, O=Z4 but carries a string, not a profile', () => {
    const der = readFileSync(`${FIXTURES}/mobileconfig-npm/signed-string.der`);
    const extracted = extractSignedContent(der);
    expect(extracted.signers).toEqual(['C=US, O=Z4']);
    expect(Buffer.from(extracted.content).toString('utf8')).toBe('Hello ŠŽ 👻');
    expect(() => readProfileBytes(der)).toThrow('signed by C=US, O=Z4, but the signed content is not a property list');
  });
});

// InstallProfile with identity payloads, the checks that need no SCEP server: what a profile may
// ask of the device is bounded (Keysize, Key Usage, SubjectAltName, the number of identity
// payloads, a PKCS#12's MAC iterations), a VPN payload's certificate reference must name an
// identity payload of the same profile, an unreachable SCEP URL is a network error, and a signed
// profile carrying a PKCS#12 from `openssl pkcs12 -export` installs. Each failure answers Error
// with the ErrorChain entry iOS uses, and leaves the device as it was. The SCEP round trip itself
// is tested against the real server in test/e2e/simulator-identity-payloads.test.ts.
//
// Sources: Apple's device-management schemas com.apple.security.scep.yaml (Keysize 1024/2048/4096,
// Key Usage bits 1 and 4, SubjectAltName keys rfc822Name/dNSName/uniformResourceIdentifier/
// ntPrincipalName), com.apple.security.pkcs12.yaml, com.apple.vpn.managed.yaml (PayloadCertificateUUID
// in VPN, IKEv2 and IPSec); Apple's MDM protocol reference "Error Codes" (MCSCEPErrorDomain 22000,
// 22001, 22005; MCPayloadErrorDomain 2000; MCCertificateErrorDomain 9001, 9005; MCVPNErrorDomain
// 15003); RFC 7292 §4 (PFX MacData iterations); jessepeterson/mdmb internal/device/profiles.go (a
// simulator that fails a profile whose identity reference names no payload of it).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPkcs12Payload, buildScepPayload, scepSubject } from '../../../src/lib/enrollment/payloads.js';
import { decodeCommandResult, encodeCommand, installProfileCommand, type CommandResult } from '../../../src/lib/mdm-protocol/index.js';
import { signCms } from '../../../src/lib/pki/cms.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { createSigningIdentity } from '../../../src/signing/identity.js';
import { MAX_IDENTITY_PAYLOADS } from '../../../src/simulator/commands.js';
import { readScepPayload } from '../../../src/simulator/enroll.js';
import { newDeviceState, VirtualDevice } from '../../../src/simulator/device.js';
import { createHttpClient, type HttpClient } from '../../../src/simulator/http.js';

const NAMESPACE = '1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d';
const trusted = createSigningIdentity({ organization: 'Test MDM' });

let dir: string;
let p12: Buffer;
let http: HttpClient;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-sim-identities-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=unit-p12', '-days', '2'],
    {
      stdio: 'ignore',
    },
  );
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', path.join(dir, 'id.p12'), '-passout', 'pass:pw'], {
    stdio: 'ignore',
  });
  p12 = readFileSync(path.join(dir, 'id.p12'));
  http = createHttpClient();
});
afterAll(() => {
  http.close();
  rmSync(dir, { recursive: true, force: true });
});

function scep(overrides: Record<string, unknown> = {}, identifier = 'com.example.id.scep'): PlistDict {
  const payload = buildScepPayload({
    namespace: NAMESPACE,
    payload: { identifier, displayName: 'SCEP identity' },
    // Port 1 on the loopback: nothing listens, so a request there is refused at once
    url: 'http://127.0.0.1:1/scep',
    subject: scepSubject([['CN', 'unit']]),
    challenge: 'c',
  });
  Object.assign(payload.PayloadContent as PlistDict, overrides);
  return payload;
}

function pkcs12(identifier = 'com.example.id.p12', bytes: Uint8Array = p12): PlistDict {
  return buildPkcs12Payload({
    namespace: NAMESPACE,
    payload: { identifier, displayName: 'PKCS#12 identity' },
    pkcs12: bytes,
    password: 'pw',
  });
}

function vpn(auth: PlistDict, key: 'VPN' | 'IKEv2' | 'IPSec' = 'VPN'): PlistDict {
  return {
    PayloadType: 'com.apple.vpn.managed.applayer',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.id.vpn',
    PayloadUUID: randomUUID().toUpperCase(),
    VPNUUID: 'F0E1D2C3-B4A5-4697-8877-665544332211',
    UserDefinedName: 'unit-vpn',
    VPNType: key === 'VPN' ? 'VPN' : key,
    [key]: { RemoteAddress: 'vpn.example.com', ...auth },
  };
}

function profile(payloads: PlistDict[], identifier = 'com.example.id'): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: 'Identity test',
    PayloadContent: payloads,
  };
}

async function install(device: VirtualDevice, dict: PlistDict, signed = false): Promise<CommandResult> {
  const xml = Buffer.from(toXmlPlist(dict), 'utf8');
  const response = await device.respond(encodeCommand(installProfileCommand({ profile: signed ? signCms(xml, trusted.identity) : xml })));
  return decodeCommandResult(response.body);
}

const newDevice = () => new VirtualDevice(newDeviceState('identity-unit', 0, undefined, [trusted.ca.certificatePem]), { http });

function cause(result: CommandResult): { ErrorCode: number; ErrorDomain: string; USEnglishDescription: string } {
  expect(result.status).toBe('Error');
  const chain = result.raw.ErrorChain as { ErrorCode: number; ErrorDomain: string; USEnglishDescription: string }[];
  expect(chain[0]).toMatchObject({ ErrorCode: 4001, ErrorDomain: 'MCInstallationErrorDomain' });
  return chain[1]!;
}

describe('identity payloads that are refused before any request', () => {
  it.each([
    ['a Keysize Apple does not list (no 65536-bit key is generated)', { Keysize: 65536 }, 22001, 'MCSCEPErrorDomain'],
    ['a key type other than RSA', { 'Key Type': 'EC' }, 22001, 'MCSCEPErrorDomain'],
    ['a Key Usage bit other than 1 and 4', { 'Key Usage': 2 }, 22000, 'MCSCEPErrorDomain'],
    ['a URI without a scheme', { SubjectAltName: { uniformResourceIdentifier: 'device-1' } }, 2000, 'MCPayloadErrorDomain'],
    ['an ntPrincipalName that is not user@domain', { SubjectAltName: { ntPrincipalName: 'user' } }, 2000, 'MCPayloadErrorDomain'],
    ['a dNSName that is not a host name', { SubjectAltName: { dNSName: 'not a host' } }, 2000, 'MCPayloadErrorDomain'],
    ['a SubjectAltName key Apple does not define', { SubjectAltName: { iPAddress: '10.0.0.1' } }, 2000, 'MCPayloadErrorDomain'],
    ['an rfc822Name that is not an address', { SubjectAltName: { rfc822Name: 'nobody' } }, 2000, 'MCPayloadErrorDomain'],
    [
      'more than 16 SubjectAltName values',
      { SubjectAltName: { dNSName: Array.from({ length: 17 }, (_, i) => `h${i}.example.com`) } },
      2000,
      'MCPayloadErrorDomain',
    ],
    ['a 300-character SubjectAltName', { SubjectAltName: { dNSName: `${'a'.repeat(296)}.com` } }, 2000, 'MCPayloadErrorDomain'],
    ['a CAFingerprint of the wrong length', { CAFingerprint: Buffer.alloc(7) }, 2000, 'MCPayloadErrorDomain'],
    ['a URL that is not one', { URL: 'not a url' }, 2000, 'MCPayloadErrorDomain'],
  ])('%s', async (_name, overrides, code, domain) => {
    const device = newDevice();
    const started = Date.now();
    const entry = cause(await install(device, profile([scep(overrides)])));
    expect(entry).toMatchObject({ ErrorCode: code, ErrorDomain: domain });
    expect(device.state.profiles).toEqual({});
    // Refused, not attempted: no key generation, no connection
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it(`more than ${MAX_IDENTITY_PAYLOADS} identity payloads in one profile`, async () => {
    const payloads = Array.from({ length: MAX_IDENTITY_PAYLOADS + 1 }, (_, i) => pkcs12(`com.example.id.p12.${i}`));
    expect(cause(await install(newDevice(), profile(payloads)))).toMatchObject({
      ErrorCode: 9001,
      ErrorDomain: 'MCCertificateErrorDomain',
    });
  });

  it('a PKCS#12 whose MAC iteration count is beyond the bound is not opened', async () => {
    const big = path.join(dir, 'big.p12');
    execFileSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-inkey',
        path.join(dir, 'key.pem'),
        '-in',
        path.join(dir, 'cert.pem'),
        '-out',
        big,
        '-passout',
        'pass:pw',
        '-iter',
        '250000',
      ],
      { stdio: 'ignore' },
    );
    const entry = cause(await install(newDevice(), profile([pkcs12('com.example.id.big', readFileSync(big))])));
    expect(entry).toMatchObject({ ErrorCode: 9005, ErrorDomain: 'MCCertificateErrorDomain' });
    expect(entry.USEnglishDescription).toMatch(/iteration/);
  });
});

describe('readScepPayload', () => {
  it("reads Apple's keys with Apple's defaults; an ntPrincipalName and a urn: URI are checked but not requested", () => {
    const settings = readScepPayload(
      scep({
        Keysize: undefined,
        'Key Usage': undefined,
        SubjectAltName: {
          ntPrincipalName: 'user@EXAMPLE.COM',
          rfc822Name: ['a@example.com', 'b@example.com'],
          dNSName: 'dev.example.com',
          uniformResourceIdentifier: ['https://example.com/device/1', 'urn:uuid:6d1f3c2a-9b4e-4f57-8a2c-1e0d9c8b7a65'],
        },
      }),
      'fallback-cn',
    );
    expect(settings).toMatchObject({ keysize: 1024, keyUsage: 0, retries: 3, retryDelaySeconds: 2, subject: { commonName: 'unit' } });
    expect(settings.sans).toEqual(['a@example.com', 'b@example.com', 'dev.example.com', 'https://example.com/device/1']);
    expect(readScepPayload(scep({ Subject: undefined, Retries: 1e9 }), 'fallback-cn')).toMatchObject({
      subject: { commonName: 'fallback-cn' },
      retries: 5,
    });
  });
});

describe("a VPN payload's certificate reference", () => {
  it('must name an identity payload of the same profile (VPN, IKEv2 and IPSec dictionaries alike)', async () => {
    const device = newDevice();
    const identity = pkcs12();
    for (const key of ['VPN', 'IKEv2', 'IPSec'] as const) {
      const dangling = vpn({ AuthenticationMethod: 'Certificate', PayloadCertificateUUID: randomUUID().toUpperCase() }, key);
      const entry = cause(await install(device, profile([identity, dangling])));
      expect(entry).toMatchObject({ ErrorCode: 15003, ErrorDomain: 'MCVPNErrorDomain' });
      expect(entry.USEnglishDescription).toContain('names no SCEP or PKCS#12 payload');
    }
    // A root certificate payload is not an identity either
    const root = {
      PayloadType: 'com.apple.security.root',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.id.root',
      PayloadUUID: randomUUID(),
    };
    const toRoot = vpn({ AuthenticationMethod: 'Certificate', PayloadCertificateUUID: root.PayloadUUID });
    expect(cause(await install(device, profile([root, toRoot]))).ErrorCode).toBe(15003);
    // Certificate authentication with no reference at all
    expect(cause(await install(device, profile([identity, vpn({ AuthenticationMethod: 'Certificate' })]))).ErrorCode).toBe(15003);
    expect(device.state.profiles).toEqual({});
  });

  it('is recorded with the identity when it resolves (any case), in a signed profile too', async () => {
    const device = newDevice();
    const identity = pkcs12();
    const uses = vpn(
      { AuthenticationMethod: 'Certificate', PayloadCertificateUUID: (identity.PayloadUUID as string).toLowerCase() },
      'IKEv2',
    );
    const result = await install(device, profile([uses, identity]), true);
    expect(result.status, JSON.stringify(result.raw.ErrorChain)).toBe('Acknowledged');
    const installed = device.state.profiles['com.example.id']!;
    expect(installed.signerCertificateDer).toBeDefined();
    expect(installed.identities).toHaveLength(1);
    expect(installed.identities![0]).toMatchObject({
      payloadUuid: identity.PayloadUUID,
      source: 'pkcs12',
      vpns: [{ payloadUuid: uses.PayloadUUID, vpnUuid: uses.VPNUUID, name: 'unit-vpn' }],
    });
    expect(installed.payloads.find((p) => p.type === 'com.apple.vpn.managed.applayer')?.certificateUuid).toBe(
      (identity.PayloadUUID as string).toLowerCase(),
    );
  });
});

describe('a SCEP server that cannot be reached', () => {
  it('is MCSCEPErrorDomain 22005 naming the URL, and a device without a network client answers the same', async () => {
    const entry = cause(await install(newDevice(), profile([scep()])));
    expect(entry).toMatchObject({ ErrorCode: 22005, ErrorDomain: 'MCSCEPErrorDomain' });
    expect(entry.USEnglishDescription).toContain('127.0.0.1:1');
    const offline = new VirtualDevice(newDeviceState('identity-unit', 1));
    expect(cause(await install(offline, profile([scep()]))).ErrorCode).toBe(22005);
  });
});

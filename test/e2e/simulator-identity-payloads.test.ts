// End to end: identity payloads in an InstallProfile, obtained by the simulator from the real
// server (the binary, on its own SQLite database). The server does not put identity payloads in
// its VPN profiles yet, and its raw-command endpoint takes JSON, which cannot carry InstallProfile's
// Payload (data): so the profile is built here with the project's builders (a SCEP payload from
// src/lib/enrollment, a certificate-authenticated VPN payload naming it from src/lib/profiles) and
// handed to the simulated device's command handler directly; everything after that is real: SCEP
// (GetCACaps, GetCACert, PKIOperation) over HTTP against the server's /scep with a challenge the
// admin API minted, the state file, and the `mockiron simulate status|identity` commands.
// - The certificate is issued by the server's CA (`openssl verify -CAfile`), carries the payload's
//   Subject and SubjectAltName, is recorded by the server for that device, and `simulate identity`
//   hands it out (with its key, 0600) by VPNUUID or VPN name.
// - The challenge is spent: the same profile again is an Error whose ErrorChain says why
//   (MCSCEPErrorDomain 22013 and the server's failInfoText), and the device keeps what it had;
//   a wrong challenge likewise; a CAFingerprint that does not match, or a VPN payload naming no
//   identity payload, fail before any PKIOperation (the challenge still works afterwards).
// - Re-installing with a fresh challenge replaces the identity; RemoveProfile removes it.
// - A PKCS#12 made by `openssl pkcs12 -export` installs; the wrong Password is MCCertificateErrorDomain 9000.
//
// Sources: Apple's device-management schemas com.apple.security.scep.yaml (URL, Name, Subject,
// Challenge, Keysize, Key Usage, CAFingerprint, SubjectAltName), com.apple.security.pkcs12.yaml
// (PayloadContent, Password), com.apple.vpn.managed.applayer.yaml (VPN.PayloadCertificateUUID,
// AuthenticationMethod Certificate), mdm/commands/certificate.list.yaml; Apple's MDM protocol
// reference "Error Codes" (MCSCEPErrorDomain 22000–22013, MCCertificateErrorDomain 9000, MCVPNErrorDomain
// 15003); RFC 8894 §3.5.2 (GetCACaps: AES); micromdm/scep cmd/scepclient/scepclient.go (a SCEP client:
// GetCACert, CA fingerprint, PKCSReq with the challenge, FAILURE's failInfo); jessepeterson/mdmb
// internal/device/profiles.go (a device simulator installing a profile's SCEP payload first and
// keeping the identity per profile and payload UUID, removed with the profile).
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPkcs12Payload, buildScepPayload, scepSubject } from '../../src/lib/enrollment/payloads.js';
import {
  decodeCommandResult,
  encodeCommand,
  installProfileCommand,
  rawCommand,
  removeProfileCommand,
  type CommandResult,
  type MdmCommand,
} from '../../src/lib/mdm-protocol/index.js';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { buildVpnProfile, toXml, type VpnConfigSpec } from '../../src/lib/profiles/index.js';
import { VirtualDevice } from '../../src/simulator/device.js';
import { createHttpClient, type HttpClient } from '../../src/simulator/http.js';
import { loadFleetState, saveFleetState, type FleetState } from '../../src/simulator/state.js';
import { adminPassword } from '../helpers/admin-password.js';
import { adminJson, runMockiron, spawnServe, type RunResult, type ServedProcess } from '../helpers/serve.js';

const NAMESPACE = '6d1f3c2a-9b4e-4f57-8a2c-1e0d9c8b7a65';
const VPN_UUID = '5A3B9C1D-2E4F-4A6B-8C7D-9E0F1A2B3C4D';
const VPN_NAME = 'vpndemo-cert';

let dir: string;
let stateFile: string;
let caFile: string;
let served: ServedProcess;
let serverUrl: string;
let deviceUuid: string;
let http: HttpClient;

const mockiron = (args: string[]) => runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });

function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}`).toBe(0);
  return result;
}

const { apiOk } = adminJson(() => serverUrl, adminPassword);

async function mintChallenge(): Promise<string> {
  return (await apiOk('POST', '/api/v2/scep/challenges', { deviceUuid })).results.challenge as string;
}

function vpnConfig(): VpnConfigSpec {
  return {
    name: VPN_NAME,
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
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
    customData: {},
    vpnUuid: VPN_UUID,
  };
}

const caFingerprintSha1 = () =>
  createHash('sha1')
    .update(new X509Certificate(readFileSync(caFile)).raw)
    .digest();

function scepPayload(challenge: string, overrides: { caFingerprint?: Uint8Array; commonName?: string } = {}): PlistDict {
  const payload = buildScepPayload({
    namespace: NAMESPACE,
    payload: { identifier: 'com.example.vpn.cert.identity', displayName: 'VPN identity' },
    url: `${serverUrl}/scep`,
    name: 'mockiron',
    subject: scepSubject([
      ['O', 'mockiron QA'],
      ['CN', overrides.commonName ?? 'vpn-user-1'],
    ]),
    challenge,
    keysize: 2048,
    keyUsage: 5,
    caFingerprint: overrides.caFingerprint ?? caFingerprintSha1(),
  });
  // buildScepPayload has no SubjectAltName input; Apple's schema puts it in PayloadContent
  (payload.PayloadContent as PlistDict).SubjectAltName = { rfc822Name: 'user1@example.com', dNSName: 'device1.example.com' };
  return payload;
}

function vpnProfile(identityPayload: PlistDict, identifier = 'com.example.vpn.cert', certificatePayloadUuid?: string): Buffer {
  const profile = buildVpnProfile({
    profile: { identifier, displayName: 'Certificate VPN' },
    namespace: NAMESPACE,
    vpnConfigs: [vpnConfig()],
    certificatePayloadUuid: certificatePayloadUuid ?? (identityPayload.PayloadUUID as string),
    extraPayloads: [identityPayload],
  });
  return Buffer.from(toXml(profile), 'utf8');
}

/** The device from the state file, answering one command with the network; the state is saved after. */
async function deliver(command: MdmCommand): Promise<CommandResult> {
  const state = (await loadFleetState(stateFile))!;
  const device = new VirtualDevice(state.devices[0]!, { http });
  const response = await device.respond(encodeCommand(command));
  await saveFleetState(stateFile, state);
  const result = decodeCommandResult(response.body);
  expect(result.commandUuid).toBe(command.CommandUUID);
  return result;
}

const state = async (): Promise<FleetState> => (await loadFleetState(stateFile))!;

function errorText(result: CommandResult): string {
  return JSON.stringify(result.raw.ErrorChain);
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface IdentityCertificateView {
  profile: string;
  payloadUuid: string;
  source: string;
  serialNumber: string;
  subject: string;
  subjectAltNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  vpnUuids: string[];
  vpnNames: string[];
}

async function statusIdentities(): Promise<IdentityCertificateView[]> {
  const status = JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--format', 'json'])).stdout);
  return status.devices[0].identityCertificates as IdentityCertificateView[];
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-identity-'));
  const dataDir = path.join(dir, 'data');
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
  stateFile = path.join(dir, 'simulator-state.json');
  served = spawnServe(dataDir, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });
  serverUrl = await served.url;
  http = createHttpClient();

  // One device enrolled the ordinary way (OTA, SCEP, Authenticate, TokenUpdate) by the binary
  expectOk(
    await mockiron([
      'simulate',
      '--server',
      serverUrl,
      '--devices',
      '1',
      '--iterations',
      '1',
      '--poll-interval',
      '0',
      '--state',
      stateFile,
      '--seed',
      'identity-payloads',
    ]),
  );
  const udid = (await state()).devices[0]!.identity.udid;
  const query = encodeURIComponent(`"ios.iPhone UDID" = "${udid}"`);
  deviceUuid = (await apiOk('GET', `/api/v2/devices?query=${query}&fields=common.uuid`)).results[0]['common.uuid'];
  expect(deviceUuid).toMatch(/^[0-9a-f-]{36}$/);

  // GetCACert as any SCEP client reads it: the CA alone, or (with an RA) a certs-only PKCS#7 that openssl opens
  const caResponse = await fetch(`${serverUrl}/scep?operation=GetCACert`);
  const body = Buffer.from(await caResponse.arrayBuffer());
  caFile = path.join(dir, 'ca.pem');
  if ((caResponse.headers.get('content-type') ?? '').includes('ca-ra-cert')) {
    writeFileSync(path.join(dir, 'ca-ra.p7'), body);
    const pems = openssl(['pkcs7', '-inform', 'DER', '-in', path.join(dir, 'ca-ra.p7'), '-print_certs']).match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g,
    )!;
    const ca = pems.map((pem) => new X509Certificate(pem)).find((c) => c.ca && c.subject === c.issuer)!;
    writeFileSync(caFile, ca.toString());
  } else {
    writeFileSync(caFile, new X509Certificate(body).toString());
  }
}, 120_000);

afterAll(async () => {
  http?.close();
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a SCEP identity payload in InstallProfile', () => {
  let firstSerial: string;
  let firstChallenge: string;

  it('is obtained from the server: acknowledged, issued by its CA, with the Subject and SubjectAltName asked for', async () => {
    firstChallenge = await mintChallenge();
    const identity = scepPayload(firstChallenge);
    const result = await deliver(installProfileCommand({ profile: vpnProfile(identity) }));
    expect(result.status, errorText(result)).toBe('Acknowledged');

    const [view, ...more] = await statusIdentities();
    expect(more).toEqual([]);
    expect(view).toMatchObject({
      profile: 'com.example.vpn.cert',
      payloadUuid: identity.PayloadUUID,
      source: 'scep',
      vpnUuids: [VPN_UUID],
      vpnNames: [VPN_NAME],
    });
    expect(view!.subject).toContain('CN=vpn-user-1');
    expect(view!.subject).toContain('O=mockiron QA');
    expect(view!.subjectAltNames).toEqual(expect.arrayContaining(['email:user1@example.com', 'DNS:device1.example.com']));
    expect(view!.issuer).toBe(new X509Certificate(readFileSync(caFile)).subject.split('\n').join(', '));
    expect(new Date(view!.notAfter).getTime()).toBeGreaterThan(Date.now());
    firstSerial = view!.serialNumber;

    // The server recorded it for this device
    const issued = await apiOk('GET', `/api/v2/scep/certificates?deviceUuid=${deviceUuid}`);
    expect(issued.results.map((c: { serialNumber: string }) => c.serialNumber.toUpperCase())).toContain(firstSerial.toUpperCase());
  });

  it('`simulate identity` writes it by VPNUUID (openssl verifies it against the CA) and by name, with its key 0600', async () => {
    const certFile = path.join(dir, 'vpn-cert.pem');
    const keyFile = path.join(dir, 'vpn-key.pem');
    expectOk(await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', VPN_UUID, '-o', certFile, '--key-out', keyFile]));
    expect(openssl(['verify', '-CAfile', caFile, certFile])).toContain(': OK');
    // The CA docs/qa.md tells QA to fetch is the same one
    const signingCa = path.join(dir, 'signing-ca.pem');
    writeFileSync(signingCa, Buffer.from(await (await fetch(`${serverUrl}/api/v2/signing/ca.pem`)).arrayBuffer()));
    expect(openssl(['verify', '-CAfile', signingCa, certFile])).toContain(': OK');
    expect(openssl(['x509', '-in', certFile, '-noout', '-serial']).trim()).toBe(`serial=${firstSerial}`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // The key is the certificate's: the same public key from both
    expect(openssl(['pkey', '-in', keyFile, '-pubout'])).toBe(openssl(['x509', '-in', certFile, '-noout', '-pubkey']));

    const byName = expectOk(await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-name', VPN_NAME]));
    expect(byName.stdout).toBe(readFileSync(certFile, 'utf8'));
    const asJson = JSON.parse(
      expectOk(await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', VPN_UUID.toLowerCase(), '--format', 'json']))
        .stdout,
    );
    expect(asJson).toMatchObject({ serialNumber: firstSerial, vpnUuids: [VPN_UUID], certificatePem: byName.stdout });
    expect(asJson.privateKeyPem).toBeUndefined();

    // The text status names the identity, its serial and the VPN using it; -o after the subcommand writes the file
    const statusFile = path.join(dir, 'status.txt');
    expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '-o', statusFile]));
    const text = readFileSync(statusFile, 'utf8');
    expect(text).toContain(`identity com.example.vpn.cert / com.example.vpn.cert.identity (scep)  serial ${firstSerial}`);
    expect(text).toContain(`used by VPNUUID ${VPN_UUID}`);
    expect(text).not.toContain('PRIVATE KEY');
    const unknown = await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', randomUUID()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no identity certificate/);
    const both = await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', VPN_UUID, '--vpn-name', VPN_NAME]);
    expect(both.code).toBe(2);
  });

  it('CertificateList includes the identity certificate next to the MDM identity', async () => {
    const result = await deliver(rawCommand('CertificateList').command);
    expect(result.status).toBe('Acknowledged');
    const list = result.raw.CertificateList as { CommonName: string; IsIdentity: boolean; Data: Uint8Array }[];
    const vpn = list.find((c) => c.CommonName === 'vpn-user-1');
    expect(vpn?.IsIdentity).toBe(true);
    expect(new X509Certificate(Buffer.from(vpn!.Data)).serialNumber).toBe(firstSerial);
    expect(list.filter((c) => c.IsIdentity)).toHaveLength(2);
    expect(list.some((c) => !c.IsIdentity)).toBe(true);
  });

  it('a spent challenge is an Error saying why, and the device keeps the identity it had', async () => {
    const result = await deliver(installProfileCommand({ profile: vpnProfile(scepPayload(firstChallenge)) }));
    expect(result.status).toBe('Error');
    const chain = result.raw.ErrorChain as { ErrorCode: number; ErrorDomain: string; USEnglishDescription: string }[];
    expect(chain[0]).toMatchObject({ ErrorCode: 4001, ErrorDomain: 'MCInstallationErrorDomain' });
    expect(chain[1]).toMatchObject({ ErrorCode: 22013, ErrorDomain: 'MCSCEPErrorDomain' });
    expect(chain[1]!.USEnglishDescription).toMatch(/already used/);
    expect((await statusIdentities()).map((v) => v.serialNumber)).toEqual([firstSerial]);
  });

  it('an unknown challenge is an Error naming it; nothing is installed', async () => {
    const result = await deliver(installProfileCommand({ profile: vpnProfile(scepPayload('NOT-A-CHALLENGE'), 'com.example.vpn.other') }));
    expect(result.status).toBe('Error');
    expect(errorText(result)).toMatch(/22013.*unknown challenge password|unknown challenge password/);
    expect((await state()).devices[0]!.profiles['com.example.vpn.other']).toBeUndefined();
  });

  it('a CAFingerprint that does not match and a VPN payload naming no identity payload fail before PKIOperation', async () => {
    const challenge = await mintChallenge();
    const wrongPrint = await deliver(
      installProfileCommand({ profile: vpnProfile(scepPayload(challenge, { caFingerprint: Buffer.alloc(20, 7) }), 'com.example.vpn.pin') }),
    );
    expect(wrongPrint.status).toBe('Error');
    expect(errorText(wrongPrint)).toContain('22002');
    const dangling = await deliver(
      installProfileCommand({ profile: vpnProfile(scepPayload(challenge), 'com.example.vpn.dangling', randomUUID().toUpperCase()) }),
    );
    expect(dangling.status).toBe('Error');
    expect(errorText(dangling)).toContain('MCVPNErrorDomain');
    expect(errorText(dangling)).toMatch(/names no SCEP or PKCS#12 payload/);
    // Neither spent the challenge: it still gets a certificate, which replaces the first one
    const replaced = await deliver(installProfileCommand({ profile: vpnProfile(scepPayload(challenge, { commonName: 'vpn-user-1b' })) }));
    expect(replaced.status, errorText(replaced)).toBe('Acknowledged');
    const views = await statusIdentities();
    expect(views).toHaveLength(1);
    expect(views[0]!.serialNumber).not.toBe(firstSerial);
    expect(views[0]!.subject).toContain('CN=vpn-user-1b');
  });

  it('RemoveProfile removes the identity with the profile', async () => {
    expect((await deliver(removeProfileCommand({ identifier: 'com.example.vpn.cert' }))).status).toBe('Acknowledged');
    expect(await statusIdentities()).toEqual([]);
    const gone = await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', VPN_UUID]);
    expect(gone.code).toBe(1);
  });
});

describe('a PKCS#12 identity payload in InstallProfile', () => {
  let p12: Buffer;
  let certPem: string;

  beforeAll(() => {
    const keyFile = path.join(dir, 'p12-key.pem');
    const certFile = path.join(dir, 'p12-cert.pem');
    const p12File = path.join(dir, 'identity.p12');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/O=mockiron QA/CN=p12-user',
      '-days',
      '2',
    ]);
    openssl(['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-out', p12File, '-passout', 'pass:p12-secret']);
    p12 = readFileSync(p12File);
    certPem = readFileSync(certFile, 'utf8');
  });

  const pkcs12Payload = (password: string) =>
    buildPkcs12Payload({
      namespace: NAMESPACE,
      payload: { identifier: 'com.example.vpn.p12.identity', displayName: 'VPN identity (PKCS#12)' },
      pkcs12: p12,
      password,
      fileName: 'identity.p12',
    });

  it("made by `openssl pkcs12 -export`, installs with its Password; the device holds openssl's certificate", async () => {
    const result = await deliver(installProfileCommand({ profile: vpnProfile(pkcs12Payload('p12-secret'), 'com.example.vpn.p12') }));
    expect(result.status, errorText(result)).toBe('Acknowledged');
    const [view] = await statusIdentities();
    expect(view).toMatchObject({ profile: 'com.example.vpn.p12', source: 'pkcs12', vpnUuids: [VPN_UUID] });
    expect(view!.serialNumber).toBe(new X509Certificate(certPem).serialNumber);
    const out = expectOk(await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-uuid', VPN_UUID])).stdout;
    expect(new X509Certificate(out).fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
  });

  it('with the wrong Password is MCCertificateErrorDomain 9000', async () => {
    const result = await deliver(installProfileCommand({ profile: vpnProfile(pkcs12Payload('wrong'), 'com.example.vpn.p12-bad') }));
    expect(result.status).toBe('Error');
    const chain = result.raw.ErrorChain as { ErrorCode: number; ErrorDomain: string }[];
    expect(chain[1]).toMatchObject({ ErrorCode: 9000, ErrorDomain: 'MCCertificateErrorDomain' });
  });

  it('an unknown RequestType still gets 12021 (the command path is unchanged)', async () => {
    expect(errorText(await deliver(rawCommand('FrobnicateDevice').command))).toContain('12021');
  });
});

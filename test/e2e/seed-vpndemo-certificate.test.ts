// End to end, issue #18's "done when" on the seed scenario: the real binary (`mockiron serve` on
// its own SQLite database) and the real simulator process (`mockiron simulate`).
// - The seed's setup over REST (label vpndemo-external, Chrome and MS RDP on it, the AnyConnect
//   per-app VPN configuration vpndemo-external, group vpndemo) with certificate authentication: a
//   SCEP certificate enrollment setting, and on the head-end the tunnel group vpndemo with
//   `authentication certificate` and `username-from-certificate CN` (trustpoint: mockiron's CA).
// - A simulated iPad on iOS 9.3.1 enrolls, gets the label, polls, installs the per-app VPN profile
//   and enrolls its SCEP identity payload over /scep; `simulate status` shows the identity.
// - The signed profile (GET /devices/{uuid}/profiles/vpn) verifies with `openssl cms -verify`
//   against the served CA, carries the applayer payload whose PayloadCertificateUUID names the
//   SCEP payload, passes `mockiron profile lint` (Apple's schemas), and is the same bytes twice.
// - /anyconnect/simulate with the deviceUuid tunnels Chrome with the device's identity; so does the
//   offline `mockiron anyconnect simulate --client-cert` with what `simulate identity` hands out.
// - Retire (Core's POST /devices/action?actionType=RETIRE): the identity is revoked, `openssl crl
//   -inform DER -text` on /scep/crl lists its serial, and both simulations refuse it as `revoked`.
//
// Sources: the seed, ../shared/seeds/000_0829dbd950fca5bc.txt (Cisco, "AnyConnect PerApp VPN — How
// to Implement PerApp for iOS devices with MobileIron MDM/EMM": the label, the two bound apps, the
// ASA's wildcard PerApp policy through DAP for iOS 9.3.1); Apple's device-management schemas in
// vendor/apple-device-management (../shared/apple-device-management): com.apple.security.scep.yaml
// (URL, Challenge, Subject, Keysize), com.apple.vpn.managed.applayer.yaml (VPN.AuthenticationMethod
// Certificate, VPN.PayloadCertificateUUID); Cisco ASA command reference A-H `authentication`
// (tunnel-group webvpn-attributes) and T-Z `username-from-certificate`; RFC 8894 (SCEP); RFC 5652
// (CMS, verified by OpenSSL); RFC 5280 §5 (CRL).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword } from '../helpers/admin-password.js';
import { ROOT } from '../helpers/cli.js';
import { adminJson, runMockiron, spawnServe, type RunResult, type ServedProcess } from '../helpers/serve.js';

const AUTH = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
const CHROME = 'com.google.chrome.ios';
const RDP = 'com.microsoft.rdc.ios';
const JUMP = 'com.p5sys.jumpdesktop';

let dir: string;
let stateFile: string;
let served: ServedProcess;
let serverUrl: string;
let deviceUuid: string;
let vpnUuid: string;
let caFile: string;

const mockiron = (args: string[]) => runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword }, timeoutMs: 180_000 });

function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}\nserver: ${served.output().slice(-3000)}`).toBe(0);
  return result;
}

const { apiOk } = adminJson(() => serverUrl, adminPassword);

const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function simulateArgs(iterations: number, pollIntervalMs: number): string[] {
  return [
    'simulate',
    '--server',
    serverUrl,
    '--devices',
    '1',
    '--iterations',
    String(iterations),
    '--poll-interval',
    String(pollIntervalMs),
    '--state',
    stateFile,
    '--models',
    'iPad4,1:9.3.1',
    '--seed',
    'seed-vpndemo-certificate',
    '--json',
  ];
}

interface IdentityView {
  profile: string;
  payloadUuid: string;
  source: string;
  serialNumber: string;
  subject: string;
  vpnUuids: string[];
  vpnNames: string[];
}
interface StatusView {
  devices: {
    udid: string;
    status: string;
    profiles: { identifier: string; payloadTypes: string[]; vpnUuids: string[] }[];
    apps: Record<string, { vpnUuid: string | null }>;
    identityCertificates: IdentityView[];
  }[];
}
const simulatorStatus = async (): Promise<StatusView> =>
  JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--json'])).stdout) as StatusView;

async function fetchBytes(pathname: string, auth = true): Promise<Buffer> {
  const res = await fetch(`${serverUrl}${pathname}`, { headers: auth ? { Authorization: AUTH } : {} });
  expect(res.status, pathname).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const simulate = async (appId: string) =>
  (await apiOk('POST', '/api/v2/anyconnect/simulate', { deviceUuid, app: { appId } })).results as {
    tunneled: boolean;
    refusal: { code: string; message: string } | null;
    authentication: { username?: string | null };
  };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-seedcert-'));
  const dataDir = path.join(dir, 'data');
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
  stateFile = path.join(dir, 'simulator-state.json');
  served = spawnServe(dataDir, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });
  serverUrl = await served.url;
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, await fetchBytes('/api/v2/signing/ca.pem'));

  // The seed scenario, MobileIron side, with certificate authentication
  const label = await apiOk('POST', '/api/v2/labels', { name: 'vpndemo-external', static: true });
  const setting = await apiOk('POST', '/api/v2/configurations/certificate-enrollment', {
    name: 'vpndemo identity',
    method: 'SCEP',
    subject: 'CN=vpndemo-$DEVICE_UUID$,OU=vpndemo,O=Example',
    validityDays: 365,
    renewalWindowDays: 30,
  });
  const vpn = await apiOk('POST', '/api/v2/configurations/vpn', {
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    group: 'vpndemo',
    perApp: true,
    userAuthentication: 'CERTIFICATE',
    certificateEnrollmentId: setting.results.id,
  });
  vpnUuid = vpn.results.vpnUuid;
  await apiOk('PUT', `/api/v2/configurations/vpn/${vpn.results.id}/labels/${label.results.id}`);
  for (const [name, bundleId] of [
    ['Chrome', CHROME],
    ['Microsoft Remote Desktop', RDP],
  ] as const) {
    const app = await apiOk('POST', '/api/v2/appstore/apps', { name, bundleId });
    await apiOk('PUT', `/api/v2/appstore/apps/${app.results.id}/labels/${label.results.id}`);
  }
  await apiOk('POST', '/api/v2/appstore/apps', { name: 'Jump Desktop', bundleId: JUMP }); // in the catalog, not on the label

  // The head-end side: headend-certificate.yaml over the API
  await apiOk('POST', '/api/v2/anyconnect/perapp-policies', { name: 'iOS_Wildcard_Policy', rules: [{ platform: 'iOS', appId: '*.*' }] });
  await apiOk('POST', '/api/v2/anyconnect/group-policies', { name: 'GP_vpndemo', perapp: null });
  await apiOk('POST', '/api/v2/anyconnect/tunnel-groups', {
    name: 'vpndemo',
    defaultGroupPolicy: 'GP_vpndemo',
    authentication: 'certificate',
    usernameFromCertificate: 'CN',
  });
  await apiOk('POST', '/api/v2/anyconnect/dap-records', {
    name: 'DAP_iOS_PerApp',
    priority: 10,
    endpointCriteria: [
      { attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' },
      { attribute: 'endpoint.anyconnect.platformversion', operator: 'EQ', value: '9.3.1' },
    ],
    perapp: { policy: 'iOS_Wildcard_Policy' },
  });
}, 120_000);

afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the seed scenario with certificate authentication: server and simulator processes', () => {
  let serial: string;
  let signed: Buffer;

  it('a simulated iPad enrolls, gets the label, installs the per-app VPN profile and enrolls its SCEP identity', async () => {
    const first = JSON.parse(expectOk(await mockiron(simulateArgs(1, 0))).stdout);
    expect(first.devices).toMatchObject({ total: 1, enrolled: 1, enrollmentFailures: 0 });
    const udid = (await simulatorStatus()).devices[0]!.udid;
    const query = encodeURIComponent(`"ios.iPhone UDID" = "${udid}"`);
    deviceUuid = (await apiOk('GET', `/api/v2/devices?query=${query}&fields=common.uuid`)).results[0]['common.uuid'];
    await apiOk('PUT', '/api/v2/devices/labels/vpndemo-external/add', { deviceUuids: [deviceUuid] });

    // Poll until the profile is installed (a few runs at most: the background reconciler queues it within a second)
    let acknowledged = 0;
    for (let run = 0; run < 5 && (await simulatorStatus()).devices[0]!.identityCertificates.length === 0; run++) {
      const summary = JSON.parse(expectOk(await mockiron(simulateArgs(2, 300))).stdout);
      expect(summary.errors.total).toBe(0);
      acknowledged += summary.commands.InstallProfile?.Acknowledged ?? 0;
    }
    expect(acknowledged).toBe(1);

    const device = (await simulatorStatus()).devices[0]!;
    const vpnProfiles = device.profiles.filter((p) => p.payloadTypes.includes('com.apple.vpn.managed.applayer'));
    expect(vpnProfiles, JSON.stringify(device.profiles)).toHaveLength(1);
    expect(vpnProfiles[0]!.payloadTypes).toContain('com.apple.security.scep');
    expect(vpnProfiles[0]!.vpnUuids).toEqual([vpnUuid]);
    expect(device.apps[CHROME]).toEqual({ vpnUuid });
    expect(device.apps[RDP]).toEqual({ vpnUuid });
    const [identity, ...more] = device.identityCertificates;
    expect(more).toEqual([]);
    expect(identity).toMatchObject({
      profile: vpnProfiles[0]!.identifier,
      source: 'scep',
      vpnUuids: [vpnUuid],
      vpnNames: ['vpndemo-external'],
    });
    expect(identity!.subject).toContain(`CN=vpndemo-${deviceUuid}`);
    serial = identity!.serialNumber;

    // The server lists the same certificate for the device, valid, from the setting
    const listed = (await apiOk('GET', `/api/v2/devices/${deviceUuid}/certificates`)).results;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ status: 'valid', source: 'scep', settingName: 'vpndemo identity', generation: 1 });
    expect(listed[0].serialNumber.toUpperCase()).toBe(serial.toUpperCase());
  }, 400_000);

  it('the signed profile verifies with openssl, names its SCEP payload, passes lint, and is the same bytes twice', async () => {
    signed = await fetchBytes(`/api/v2/devices/${deviceUuid}/profiles/vpn`);
    expect((await fetchBytes(`/api/v2/devices/${deviceUuid}/profiles/vpn`)).equals(signed)).toBe(true);
    const signedFile = path.join(dir, 'vpn.mobileconfig');
    writeFileSync(signedFile, signed);
    const xml = execFileSync('openssl', ['cms', '-verify', '-inform', 'DER', '-in', signedFile, '-CAfile', caFile, '-purpose', 'any'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const profile = parsePlist(xml) as PlistDict;
    const payloads = profile.PayloadContent as PlistDict[];
    const scep = payloads.filter((p) => p.PayloadType === 'com.apple.security.scep');
    const applayer = payloads.filter((p) => p.PayloadType === 'com.apple.vpn.managed.applayer');
    expect([scep.length, applayer.length]).toEqual([1, 1]);
    const vpn = applayer[0]!.VPN as PlistDict;
    expect(vpn).toMatchObject({ AuthenticationMethod: 'Certificate', PayloadCertificateUUID: scep[0]!.PayloadUUID });
    expect(applayer[0]!.VPNUUID).toBe(vpnUuid);
    expect((scep[0]!.PayloadContent as PlistDict).URL).toMatch(/\/scep$/);

    const xmlFile = path.join(dir, 'vpn.xml.mobileconfig');
    writeFileSync(xmlFile, xml);
    const lint = expectOk(await mockiron(['profile', 'lint', xmlFile, signedFile]));
    expect(lint.stdout + lint.stderr).not.toMatch(/error/i);
  });

  it('/anyconnect/simulate with the deviceUuid tunnels Chrome on the certificate tunnel group; the offline CLI agrees with the identity `simulate identity` hands out', async () => {
    const chrome = await simulate(CHROME);
    expect(chrome.refusal).toBeNull();
    expect(chrome.tunneled).toBe(true);
    expect(chrome.authentication.username).toBe(`vpndemo-${deviceUuid}`);
    const jump = await simulate(JUMP);
    expect(jump).toMatchObject({ tunneled: false, refusal: null });

    const certFile = path.join(dir, 'ipad.pem');
    expectOk(await mockiron(['simulate', 'identity', '--state', stateFile, '--vpn-name', 'vpndemo-external', '-o', certFile]));
    expect(openssl(['x509', '-in', certFile, '-noout', '-serial']).trim().toUpperCase()).toBe(`SERIAL=${serial.toUpperCase()}`);
    const crlFile = path.join(dir, 'crl.der');
    writeFileSync(crlFile, await fetchBytes('/api/v2/scep/crl', false));
    const offline = await mockiron([
      'anyconnect',
      'simulate',
      path.join(ROOT, 'examples/seed-vpndemo/headend-certificate.yaml'),
      '--session',
      path.join(ROOT, 'examples/seed-vpndemo/session-ipad.yaml'),
      '--app',
      CHROME,
      '--client-cert',
      certFile,
      '--ca-cert',
      caFile,
      '--crl',
      crlFile,
    ]);
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(/^TUNNELED: 'com\.google\.chrome\.ios'/m);
  }, 120_000);

  it('retire (Core action RETIRE) revokes the identity: the CRL lists its serial, and both simulations refuse it as revoked, saying why', async () => {
    const retire = await apiOk('POST', '/api/v2/devices/action?actionType=RETIRE', { deviceUuids: [deviceUuid] });
    expect(retire).toMatchObject({ actionType: 'RETIRE', successful: true });
    // The iPad polls, removes what mockiron installed and the MDM profile; the server then retires it
    const query = encodeURIComponent(`"common.uuid" = "${deviceUuid}"`);
    const status = async () => (await apiOk('GET', `/api/v2/devices?query=${query}&fields=common.status`)).results[0]['common.status'];
    for (let run = 0; run < 5 && (await status()) !== 'RETIRED'; run++) await mockiron(simulateArgs(2, 300));
    expect(await status()).toBe('RETIRED');
    expect((await simulatorStatus()).devices[0]!.identityCertificates).toEqual([]); // removed with the VPN profile

    const listed = (await apiOk('GET', `/api/v2/devices/${deviceUuid}/certificates`)).results;
    expect(listed.find((c: { serialNumber: string }) => c.serialNumber.toUpperCase() === serial.toUpperCase())).toMatchObject({
      status: 'revoked',
    });
    const crlFile = path.join(dir, 'crl-after.der');
    writeFileSync(crlFile, await fetchBytes('/api/v2/scep/crl', false));
    const crlText = openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    expect(crlText.replace(/\s/g, '').toUpperCase()).toContain(`SERIALNUMBER:${serial.toUpperCase()}`);

    const refused = await simulate(CHROME);
    expect(refused.tunneled).toBe(false);
    expect(refused.refusal?.code).toBe('revoked');
    expect(refused.refusal?.message.toUpperCase()).toContain(serial.toUpperCase());

    const offline = await mockiron([
      'anyconnect',
      'simulate',
      path.join(ROOT, 'examples/seed-vpndemo/headend-certificate.yaml'),
      '--session',
      path.join(ROOT, 'examples/seed-vpndemo/session-ipad.yaml'),
      '--app',
      CHROME,
      '--client-cert',
      path.join(dir, 'ipad.pem'),
      '--ca-cert',
      caFile,
      '--crl',
      crlFile,
    ]);
    expect(offline.code, offline.stdout + offline.stderr).toBe(3);
    expect(offline.stdout).toMatch(/^NOT TUNNELED: 'com\.google\.chrome\.ios'.*\(revoked\)/m);
  }, 300_000);
});

// Whole flows over HTTP against the fake server: OTA enrollment, SCEP, check-in, polling,
// resume from the state file, a server that stops trusting a device, erase, NotNow, faults.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  deviceInformationCommand,
  eraseDeviceCommand,
  installApplicationCommand,
  installProfileCommand,
  parseResultPayload,
  removeProfileCommand,
  type MdmCommand,
} from '../../../src/lib/mdm-protocol/index.js';
import { buildScepPayload, scepSubject } from '../../../src/lib/enrollment/payloads.js';
import { runFleet, type FleetOptions } from '../../../src/simulator/fleet.js';
import { deriveIdentity } from '../../../src/simulator/identity.js';
import { loadFleetState } from '../../../src/simulator/state.js';
import { ADMIN_PASSWORD, startFakeServer, type FakeServer } from './fake-server.js';

const VPN_UUID = '7B0F7E0C-3C55-4C0E-9B7A-5C1D2E3F4A5B';

let server: FakeServer;
let dir: string;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(() => server.close());
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-sim-fleet-'));
  server.onEnrolled = undefined;
  server.revoked.clear();
  server.answers.clear();
  server.checkins.length = 0;
  server.results.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function vpnProfileCommand(): MdmCommand {
  const profile = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: 'com.example.vpn.perapp',
    PayloadUUID: '2E4E3F1C-7D44-4B8A-9C1E-111111111111',
    PayloadDisplayName: 'Per-app VPN',
    PayloadContent: [
      {
        PayloadType: 'com.apple.vpn.managed.applayer',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.vpn.perapp.applayer',
        PayloadUUID: '2E4E3F1C-7D44-4B8A-9C1E-222222222222',
        VPNUUID: VPN_UUID,
      },
    ],
  };
  return installProfileCommand({ profile: server.signProfile(profile) });
}

function options(overrides: Partial<FleetOptions> = {}): FleetOptions {
  return {
    server: server.url,
    devices: 3,
    concurrency: 2,
    iterations: 2,
    pollIntervalMs: 0,
    stateFile: path.join(dir, 'state.json'),
    seed: 'fleet-test',
    admin: { user: 'admin', password: ADMIN_PASSWORD },
    ...overrides,
  };
}

describe('a fleet against the fake server', () => {
  it('installs a profile with a SCEP identity payload while polling: a second SCEP enrollment, acknowledged, the identity in the state file', async () => {
    const NAMESPACE = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
    server.onEnrolled = () => {
      const identity = buildScepPayload({
        namespace: NAMESPACE,
        payload: { identifier: 'com.example.vpn.cert.identity', displayName: 'VPN identity' },
        url: `${server.url}/scep`,
        subject: scepSubject([['CN', 'fleet-vpn']]),
        challenge: server.mintScepChallenge(),
        keysize: 1024,
      });
      const vpn = {
        PayloadType: 'com.apple.vpn.managed.applayer',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.vpn.cert.applayer',
        PayloadUUID: '3C4D5E6F-7A8B-4C9D-8E0F-1A2B3C4D5E6F',
        VPNUUID: VPN_UUID,
        VPNType: 'VPN',
        VPN: { RemoteAddress: 'asa.example.com', AuthenticationMethod: 'Certificate', PayloadCertificateUUID: identity.PayloadUUID },
      };
      const profile = {
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.vpn.cert',
        PayloadUUID: '4D5E6F7A-8B9C-4D0E-8F1A-2B3C4D5E6F7A',
        PayloadContent: [vpn, identity],
      };
      return [installProfileCommand({ profile: server.signProfile(profile) })];
    };
    const { summary, state } = await runFleet(options({ devices: 2, iterations: 1 }));
    expect(summary.errors.total).toBe(0);
    expect(summary.commands).toEqual({ InstallProfile: { Acknowledged: 2 } });
    // One PKIOperation to enroll each device, one for each profile's identity
    expect(summary.latency['scep-pkioperation']).toMatchObject({ count: 4 });
    const saved = (await loadFleetState(path.join(dir, 'state.json')))!;
    for (const device of [state.devices, saved.devices].flat()) {
      const [identity, ...more] = device.profiles['com.example.vpn.cert']!.identities!;
      expect(more).toEqual([]);
      expect(identity).toMatchObject({ source: 'scep', vpns: [{ vpnUuid: VPN_UUID }] });
      expect(identity!.certificatePem).toContain('BEGIN CERTIFICATE');
      expect(identity!.certificatePem).not.toBe(device.mdm!.identityCertificatePem);
    }
  });

  it('enrolls every device (OTA, SCEP, Authenticate, TokenUpdate), answers the queued commands and records metrics', async () => {
    server.onEnrolled = () => [
      vpnProfileCommand(),
      installApplicationCommand({ identifier: 'com.google.chrome.ios', vpnUuid: VPN_UUID }),
      deviceInformationCommand(),
    ];
    const { summary, state } = await runFleet(options());
    expect(summary.devices).toMatchObject({ total: 3, enrolled: 3, enrolledThisRun: 3, enrollmentFailures: 0 });
    expect(summary.errors.total).toBe(0);
    expect(summary.commands).toEqual({
      InstallProfile: { Acknowledged: 3 },
      InstallApplication: { Acknowledged: 3 },
      DeviceInformation: { Acknowledged: 3 },
    });
    for (const kind of [
      'ota-profile',
      'ota-attributes',
      'scep-getcacaps',
      'scep-getcacert',
      'scep-pkioperation',
      'checkin-authenticate',
      'checkin-tokenupdate',
      'connect-idle',
      'connect-result',
    ]) {
      expect(summary.latency[kind], kind).toMatchObject({ count: expect.any(Number) });
    }
    expect(summary.latency['connect-result']!.count).toBe(9);
    expect(summary.requests.perSecond).toBeGreaterThan(0);

    // What the server saw: Authenticate then TokenUpdate per device, with the identity's fields
    const udids = state.devices.map((d) => d.identity.udid);
    for (const device of state.devices) {
      const mine = server.checkins.filter((c) => 'udid' in c && c.udid === device.identity.udid);
      expect(mine.map((c) => c.kind)).toEqual(['Authenticate', 'TokenUpdate']);
      expect(mine[0]).toMatchObject({
        serialNumber: device.identity.serialNumber,
        productName: device.identity.productName,
        osVersion: device.identity.osVersion,
        topic: 'com.apple.mgmt.External.fake',
      });
      expect(mine[1]).toMatchObject({ pushMagic: device.mdm!.pushMagic });
      expect((mine[1] as { token: Buffer }).token).toHaveLength(32);
    }
    const info = server.results.find((r) => r.udid === udids[1] && r.raw.QueryResponses);
    expect(parseResultPayload(info!, 'DeviceInformation')).toMatchObject({ data: { udid: udids[1], productName: 'iPhone8,1' } });

    // What the devices hold, as saved to the state file (0600)
    const saved = (await loadFleetState(path.join(dir, 'state.json')))!;
    expect(statSync(path.join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    for (const device of saved.devices) {
      expect(device.status).toBe('enrolled');
      expect(device.mdm).toMatchObject({ identitySource: 'scep', serverUrl: `${server.url}/mdm/connect`, signMessage: true });
      expect(device.profiles['com.example.fake.enroll']).toMatchObject({ source: 'enrollment' });
      expect(device.profiles['com.example.vpn.perapp']!.payloads[0]).toMatchObject({ vpnUuid: VPN_UUID });
      expect(device.apps['com.google.chrome.ios']!.attributes).toEqual({ VPNUUID: VPN_UUID });
      expect(device.pollCycles).toBe(2);
    }
  });

  it('resumes from the state file: enrolled devices skip enrollment and keep polling; new ones enroll', async () => {
    await runFleet(options({ devices: 2 }));
    const before = server.enrollmentsCreated;
    server.onEnrolled = () => [deviceInformationCommand()];
    const { summary, state } = await runFleet(options({ devices: 3, iterations: 3 }));
    expect(server.enrollmentsCreated).toBe(before + 1);
    expect(summary.devices).toMatchObject({ total: 3, enrolled: 3, enrolledThisRun: 1 });
    expect(state.devices.map((d) => d.pollCycles)).toEqual([5, 5, 3]);
    expect(summary.errors.total).toBe(0);
  });

  it('refuses a state file that belongs to another server or seed', async () => {
    await runFleet(options({ devices: 1, iterations: 1 }));
    await expect(runFleet(options({ devices: 1, seed: 'other-seed' }))).rejects.toThrow(/seed/);
  });

  it('stops a device the server answers 401 for, and drops its MDM profile', async () => {
    const first = await runFleet(options({ devices: 2, iterations: 1 }));
    const revoked = first.state.devices[0]!.identity.udid;
    server.revoked.add(revoked);
    const { summary, state } = await runFleet(options({ devices: 2, iterations: 3 }));
    const device = state.devices.find((d) => d.identity.udid === revoked)!;
    expect(device.status).toBe('unenrolled');
    expect(device.pollCycles).toBe(2); // one cycle before, one that got the 401, then it stopped
    expect(Object.values(device.profiles).some((p) => p.source === 'enrollment')).toBe(false);
    expect(summary.devices.unenrolled).toBe(1);
    expect(state.devices[1]!.pollCycles).toBe(4);
  });

  it('wipes and stops a device after acknowledging EraseDevice; unenrolls and checks out on RemoveProfile of the MDM profile', async () => {
    const first = deriveIdentity('fleet-test', 0).udid;
    server.onEnrolled = (udid) =>
      udid === first ? [eraseDeviceCommand()] : [removeProfileCommand({ identifier: 'com.example.fake.enroll' })];
    const { state } = await runFleet(options({ devices: 2, iterations: 3 }));
    const [erased, removed] = state.devices;
    expect(erased!.status).toBe('erased');
    expect(erased!.mdm).toBeUndefined();
    expect(erased!.profiles).toEqual({});
    expect(erased!.pollCycles).toBe(1);
    expect(removed!.status).toBe('unenrolled');
    expect(server.checkins.filter((c) => c.kind === 'CheckOut').map((c) => c.raw.UDID)).toEqual([removed!.identity.udid]);
    expect(server.results.filter((r) => r.status === 'Acknowledged')).toHaveLength(2);
  });

  it('answers NotNow at the configured rate and the deferred command comes again later', async () => {
    server.onEnrolled = () => [installApplicationCommand({ identifier: 'com.microsoft.rdc.ios', vpnUuid: VPN_UUID })];
    const deferred = await runFleet(options({ devices: 1, iterations: 2, notNowRate: 1 }));
    expect(deferred.summary.commands).toEqual({ InstallApplication: { NotNow: 2 } });
    expect(deferred.state.devices[0]!.apps).toEqual({});
    const later = await runFleet(options({ devices: 1, iterations: 1, notNowRate: 0 }));
    expect(later.summary.commands).toEqual({ InstallApplication: { Acknowledged: 1 } });
    expect(later.state.devices[0]!.apps['com.microsoft.rdc.ios']!.attributes).toEqual({ VPNUUID: VPN_UUID });
  });

  it('reports a command the server delivers again after it was answered (across runs too)', async () => {
    const info = deviceInformationCommand();
    server.onEnrolled = () => [info];
    const first = await runFleet(options({ devices: 1, iterations: 1 }));
    expect(first.summary.duplicateDeliveries).toBe(0);
    expect(first.summary.errors.total).toBe(0);
    const udid = first.state.devices[0]!.identity.udid;
    // A buggy server hands out the acknowledged command again
    server.queues.get(udid)!.push(info);
    const second = await runFleet(options({ devices: 1, iterations: 1 }));
    expect(second.summary.duplicateDeliveries).toBe(1);
    expect(second.summary.errors.byKind['duplicate-delivery']).toBe(1);
    // A new command is not a duplicate
    server.queues.get(udid)!.push(deviceInformationCommand());
    const third = await runFleet(options({ devices: 1, iterations: 1 }));
    expect(third.summary.duplicateDeliveries).toBe(0);
  });

  it('injects faults and records what the server answered', async () => {
    server.onEnrolled = () => [deviceInformationCommand(), deviceInformationCommand()];
    const { summary } = await runFleet(
      options({
        devices: 1,
        iterations: 2,
        faults: { kinds: new Set(['corrupt-signature', 'truncated-body', 'replay-challenge', 'drop-connection']), rate: 1 },
      }),
    );
    expect(summary.faults['corrupt-signature']).toMatchObject({ sent: 2, answers: { 401: 2 }, accepted: 0 });
    expect(summary.faults['truncated-body']).toMatchObject({ sent: 2, answers: { 400: 2 }, accepted: 0 });
    // OTA replay refused with 403; SCEP replay answered with a FAILURE CertRep
    expect(summary.faults['replay-challenge']).toMatchObject({
      sent: 2,
      accepted: 0,
      answers: { 403: 1, 200: 1 },
      notes: { ota: 1, 'scep-failure': 1 },
    });
    // Every dropped answer is followed by a reconnect whose outcome is noted. Whether the server
    // had recorded the result before the reconnect is its business (a lagging server sends the
    // command again); in the end each command was acknowledged and the queue ran dry.
    const drops = summary.faults['drop-connection']!;
    expect(drops.sent).toBeGreaterThanOrEqual(2);
    expect(drops.answers).toEqual({ dropped: drops.sent });
    expect(Object.values(drops.notes).reduce((a, b) => a + b, 0)).toBe(drops.sent);
    expect(drops.notes['then-empty']).toBe(1);
    expect(new Set(server.results.filter((r) => r.status === 'Acknowledged').map((r) => r.commandUuid)).size).toBe(2);
    expect(summary.commands.DeviceInformation!.Acknowledged).toBe(drops.sent);
  });

  it('reports an unreachable server, and missing credentials when devices need enrolling', async () => {
    await expect(runFleet(options({ server: 'http://127.0.0.1:1' }))).rejects.toThrow(/cannot reach the server/);
    await expect(runFleet(options({ admin: undefined }))).rejects.toThrow(/admin credentials/);
  });

  it('enrolls one device from an invitation URL created elsewhere, without admin credentials', async () => {
    const res = await fetch(`${server.url}/api/v2/enrollments`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: 'jdoe' }),
    });
    const { results } = (await res.json()) as { results: { url: string } };
    const { summary } = await runFleet(options({ devices: 1, admin: undefined, enrollmentUrl: results.url }));
    expect(summary.devices.enrolled).toBe(1);
    // The invitation is single-use: a second device with it must fail at the OTA phase
    const again = await runFleet(
      options({ devices: 1, admin: undefined, enrollmentUrl: results.url, stateFile: path.join(dir, 'other.json') }),
    );
    expect(again.summary.devices.enrollmentFailures).toBe(1);
    expect(again.summary.errors.byKind).toEqual({ 'enroll:ota-attributes': 1 });
  });
});

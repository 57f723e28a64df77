// End to end: a real mockiron server (the binary) and the device simulator (the binary) speaking
// Apple's MDM protocol to it. The seed scenario (per-app AnyConnect VPN and two apps on the
// vpndemo-external label) is set up through the admin API; five simulated iPads/iPhones enroll
// over OTA + SCEP, get the label, and must end up ACTIVE, holding the signed per-app VPN profile
// with Chrome and Microsoft RDP bound to its VPNUUID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminJson, freePort, runMockiron, type RunResult } from '../helpers/serve.js';

const BIN = fileURLToPath(new URL('../../bin/mockiron.js', import.meta.url));
const ADMIN_PASSWORD = 'e2e-simulator-admin-password';
const DEVICES = 5;
const CHROME = 'com.google.chrome.ios';
const RDP = 'com.microsoft.rdc.ios';

let dataDir: string;
let stateFile: string;
let serverProcess: ChildProcess | undefined;
let serverUrl: string;
let serverLog = '';
let vpnUuid: string;

const mockiron = (args: string[], timeoutMs = 240_000) =>
  runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: ADMIN_PASSWORD }, timeoutMs });

function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}\nserver log tail: ${serverLog.slice(-4000)}`).toBe(0);
  return result;
}

const { apiOk } = adminJson(() => serverUrl, ADMIN_PASSWORD);

async function startServer(): Promise<void> {
  const port = await freePort();
  // An explicit port (rather than 0) keeps the public URL in enrollment profiles and the bound port the same
  serverProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', '--public-url', `http://127.0.0.1:${port}`, '--data-dir', dataDir],
    {
      env: { ...process.env, MOCKIRON_ADMIN_PASSWORD: ADMIN_PASSWORD, MOCKIRON_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  serverUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not log its URL in time:\n${serverLog}`)), 60_000);
    const onData = (chunk: Buffer) => {
      serverLog += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+:\d+)"/.exec(serverLog);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    serverProcess!.stdout!.on('data', onData);
    serverProcess!.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
    serverProcess!.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${serverLog}`)));
  });
}

function simulateArgs(iterations: number, pollIntervalMs: number, devices = DEVICES): string[] {
  return [
    'simulate',
    '--server',
    serverUrl,
    '--devices',
    String(devices),
    '--concurrency',
    String(devices),
    '--iterations',
    String(iterations),
    '--poll-interval',
    String(pollIntervalMs),
    '--state',
    stateFile,
    '--models',
    'iPad4,1:9.3.1,iPhone8,1:10.3.3',
    '--json',
  ];
}

interface StatusView {
  devices: {
    udid: string;
    status: string;
    profiles: { identifier: string; payloadTypes: string[]; vpnUuids: string[] }[];
    apps: Record<string, { vpnUuid: string | null }>;
  }[];
}

async function simulatorStatus(): Promise<StatusView> {
  return JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--json'])).stdout) as StatusView;
}

async function serverDevices(): Promise<Map<string, { uuid: string; status: string }>> {
  const byUdid = new Map<string, { uuid: string; status: string }>();
  for (let offset = 0; ; offset += 200) {
    const page = await apiOk(
      'GET',
      `/api/v2/devices?fields=${encodeURIComponent('common.uuid,common.status,ios.iPhone UDID')}&limit=200&offset=${offset}`,
    );
    for (const d of page.results) {
      const udid = d['ios.iPhone UDID'];
      if (typeof udid === 'string') byUdid.set(udid.toLowerCase(), { uuid: d['common.uuid'], status: d['common.status'] });
    }
    if (!page.hasMore) return byUdid;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-sim-'));
  stateFile = path.join(dataDir, 'simulator-state.json');
  await startServer();

  // The seed scenario
  const label = await apiOk('POST', '/api/v2/labels', { name: 'vpndemo-external', static: true });
  const vpn = await apiOk('POST', '/api/v2/configurations/vpn', {
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    group: 'vpndemo-external',
    perApp: true,
    onDemandMatchAppEnabled: true,
    safariDomains: ['example.com'],
  });
  vpnUuid = vpn.results.vpnUuid;
  expect(vpnUuid).toMatch(/^[0-9A-Fa-f-]{36}$/);
  await apiOk('PUT', `/api/v2/configurations/vpn/${vpn.results.id}/labels/${label.results.id}`);
  for (const [name, bundleId] of [
    ['Chrome', CHROME],
    ['Microsoft RDP', RDP],
  ] as const) {
    const app = await apiOk('POST', '/api/v2/appstore/apps', { name, bundleId });
    await apiOk('PUT', `/api/v2/appstore/apps/${app.results.id}/labels/${label.results.id}`);
  }
}, 120_000);

afterAll(async () => {
  if (serverProcess && serverProcess.exitCode === null) {
    const exited = new Promise((resolve) => serverProcess!.once('exit', resolve));
    serverProcess.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the device simulator against a real server', () => {
  it('enrolls five devices over OTA + SCEP; the server lists them ACTIVE', async () => {
    // --pregenerate-keys (what bench:mdm passes): the new devices' keys are made before the run, two each
    const run = expectOk(await mockiron([...simulateArgs(1, 0), '--pregenerate-keys']));
    const summary = JSON.parse(run.stdout);
    expect(summary.keysPregenerated.count).toBe(2 * DEVICES);
    expect(summary.devices).toMatchObject({ total: DEVICES, enrolled: DEVICES, enrolledThisRun: DEVICES, enrollmentFailures: 0 });
    expect(summary.errors.total).toBe(0);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);

    const status = await simulatorStatus();
    expect(status.devices).toHaveLength(DEVICES);
    const onServer = await serverDevices();
    for (const device of status.devices) {
      expect(device.status).toBe('enrolled');
      expect(onServer.get(device.udid.toLowerCase()), `device ${device.udid} on the server`).toMatchObject({ status: 'ACTIVE' });
    }
  }, 300_000);

  it('after the label is applied, every device holds the per-app VPN profile with Chrome and RDP bound to its VPNUUID', async () => {
    const status = await simulatorStatus();
    const onServer = await serverDevices();
    const deviceUuids = status.devices.map((d) => onServer.get(d.udid.toLowerCase())!.uuid);
    expect(deviceUuids.every(Boolean)).toBe(true);
    await apiOk('PUT', '/api/v2/devices/labels/vpndemo-external/add', { deviceUuids });
    for (const uuid of deviceUuids) {
      const policy = (await apiOk('GET', `/api/v2/devices/${uuid}/policy`)).results;
      expect(policy.vpnConfigurations.map((v: { vpnUuid: string }) => v.vpnUuid)).toEqual([vpnUuid]);
      expect(policy.apps.map((a: { bundleId: string; vpnUuid: string }) => [a.bundleId, a.vpnUuid]).sort()).toEqual([
        [CHROME, vpnUuid],
        [RDP, vpnUuid],
      ]);
    }

    // Resume from the state file: no new enrollments, the devices poll and receive the commands
    const run = expectOk(await mockiron([...simulateArgs(3, 500), '--pregenerate-keys']));
    const summary = JSON.parse(run.stdout);
    expect(summary.keysPregenerated.count).toBe(0); // every device enrolled already: no key to make
    expect(summary.devices).toMatchObject({ total: DEVICES, enrolled: DEVICES, enrolledThisRun: 0 });
    expect(summary.errors.total).toBe(0);
    expect(summary.commands.InstallProfile?.Acknowledged ?? 0).toBeGreaterThanOrEqual(DEVICES);

    const after = await simulatorStatus();
    const serverNow = await serverDevices();
    for (const device of after.devices) {
      expect(device.status).toBe('enrolled');
      expect(serverNow.get(device.udid.toLowerCase())).toMatchObject({ status: 'ACTIVE' });
      const vpnProfiles = device.profiles.filter((p) => p.payloadTypes.includes('com.apple.vpn.managed.applayer'));
      expect(vpnProfiles, `device ${device.udid} profiles: ${JSON.stringify(device.profiles)}`).toHaveLength(1);
      expect(vpnProfiles[0]!.vpnUuids).toEqual([vpnUuid]);
      expect(device.apps[CHROME], `device ${device.udid} apps: ${JSON.stringify(device.apps)}`).toEqual({ vpnUuid });
      expect(device.apps[RDP]).toEqual({ vpnUuid });
    }
  }, 300_000);

  it('under faults (corrupt signatures, replayed challenges, truncated bodies, dropped connections, NotNow) the server refuses every bad request and loses no command', async () => {
    const before = await serverDevices();
    const enrolledUuids = [...before.values()].map((d) => d.uuid);
    // Commands to deliver while faults fly: DeviceInformation and a lock message for every device
    await apiOk('POST', '/api/v2/devices/action?actionType=UPDATE_DEVICE_INFO', { deviceUuids: enrolledUuids });
    await apiOk('POST', '/api/v2/devices/action?actionType=LOCK', { deviceUuids: enrolledUuids, message: 'fault drill' });

    // Three more devices enroll during the run, so replayed OTA and SCEP challenges are exercised too
    const faulty = expectOk(
      await mockiron([
        ...simulateArgs(4, 100, DEVICES + 3),
        '--faults',
        'corrupt-signature,replay-challenge,truncated-body,drop-connection',
        '--fault-rate',
        '0.5',
        '--not-now-rate',
        '0.3',
      ]),
    );
    const summary = JSON.parse(faulty.stdout);
    expect(summary.devices).toMatchObject({ total: DEVICES + 3, enrolledThisRun: 3, enrollmentFailures: 0 });
    expect(summary.duplicateDeliveries).toBe(0);
    for (const kind of ['corrupt-signature', 'replay-challenge', 'truncated-body', 'drop-connection']) {
      expect(summary.faults[kind]?.sent ?? 0, `${kind} probes sent`).toBeGreaterThan(0);
      expect(summary.faults[kind].accepted, `${kind}: ${JSON.stringify(summary.faults[kind])}`).toBe(0);
    }
    expect(Object.keys(summary.faults['corrupt-signature'].answers)).toEqual(['401']);
    expect(Object.keys(summary.faults['truncated-body'].answers)).toEqual(['400']);

    // Every command is delivered or still queued; then a calm run delivers whatever is left
    const statuses = async () => {
      const all: { commandUuid: string; requestType: string; status: string }[] = [];
      for (const uuid of (await serverDevices()).values())
        all.push(...(await apiOk('GET', `/api/v2/devices/${uuid.uuid}/commands?limit=200`)).results);
      return all;
    };
    for (const c of await statuses())
      expect(['Acknowledged', 'Error', 'Queued', 'Sent', 'NotNow', 'Canceled'], JSON.stringify(c)).toContain(c.status);
    const calm = JSON.parse(expectOk(await mockiron(simulateArgs(2, 100, DEVICES + 3))).stdout);
    expect(calm.duplicateDeliveries).toBe(0);
    expect(calm.errors.total).toBe(0);
    const after = await statuses();
    expect(after.filter((c) => ['Queued', 'Sent', 'NotNow'].includes(c.status))).toEqual([]);
    const drills = after.filter((c) => c.requestType === 'DeviceLock');
    expect(drills).toHaveLength(DEVICES);
    expect(drills.every((c) => c.status === 'Acknowledged')).toBe(true);
    expect(after.filter((c) => c.requestType === 'DeviceInformation' && c.status === 'Acknowledged').length).toBeGreaterThanOrEqual(
      DEVICES,
    );
  }, 300_000);
});

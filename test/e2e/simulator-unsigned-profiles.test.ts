// End to end: the real server (the binary) started with --install-profile-unsigned, and the device
// simulator (the binary) enrolling from direct enrollment profiles (`--enroll-mode direct`).
// - InstallProfile carries the per-app VPN profile as a plain XML plist; the simulator installs
//   it as iOS does (no signer), and what it holds is byte for byte the XML the server serves at
//   GET /api/v2/devices/{uuid}/profiles/vpn?signed=false (its SHA-256; Python's plistlib reads
//   the identifier and VPNUUID from the server's copy).
// - Each device enrolled from a direct profile is listed under the invitation's user, and RETIRE
//   reaches it: the RemoveProfile names the enrollment profile the simulator installed, so it
//   unenrolls and the server lists it RETIRED.
//
// Sources: Apple's MDM protocol reference, InstallProfile ("Payload: the profile to install",
// signed or not; iOS installs both) and RemoveProfile (the PayloadIdentifier of an installed
// profile); MicroMDM's /mdm/enroll (a profile handed out before the device is known, bound at
// Authenticate by UDID).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminPassword } from '../helpers/admin-password.js';
import { freePort, runMockiron, type RunResult } from '../helpers/serve.js';

const BIN = fileURLToPath(new URL('../../bin/mockiron.js', import.meta.url));
const AUTH = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
const DEVICES = 2;
const CHROME = 'com.google.chrome.ios';

let dataDir: string;
let stateFile: string;
let serverProcess: ChildProcess | undefined;
let serverUrl: string;
let serverLog = '';
let vpnUuid: string;

const mockiron = (args: string[]) => runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });

function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}\nserver log tail: ${serverLog.slice(-3000)}`).toBe(0);
  return result;
}

async function api(method: string, pathname: string, body?: unknown): Promise<Response> {
  return fetch(`${serverUrl}${pathname}`, {
    method,
    headers: { Authorization: AUTH, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

async function apiOk(method: string, pathname: string, body?: unknown): Promise<any> {
  const res = await api(method, pathname, body);
  const text = await res.text();
  expect(res.status, `${method} ${pathname}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : undefined;
}

function simulate(iterations: number, pollIntervalMs: number): string[] {
  return [
    'simulate',
    '--server',
    serverUrl,
    '--devices',
    String(DEVICES),
    '--concurrency',
    String(DEVICES),
    '--iterations',
    String(iterations),
    '--poll-interval',
    String(pollIntervalMs),
    '--state',
    stateFile,
    '--seed',
    'unsigned-profiles',
    '--enroll-mode',
    'direct',
    '--json',
  ];
}

interface StatusView {
  devices: {
    udid: string;
    serialNumber: string;
    status: string;
    profiles: { identifier: string; source: string; contentSha256: string; payloadTypes: string[]; vpnUuids: string[] }[];
    apps: Record<string, { vpnUuid: string | null }>;
  }[];
}

const simulatorStatus = async () =>
  JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--json'])).stdout) as StatusView;

async function onServer(udid: string): Promise<Record<string, string> | undefined> {
  const query = encodeURIComponent(`"ios.iPhone UDID" = "${udid}"`);
  const fields = encodeURIComponent('common.uuid,common.status,user.user_id');
  return (await apiOk('GET', `/api/v2/devices?query=${query}&fields=${fields}`)).results[0];
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-unsigned-'));
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
  stateFile = path.join(dataDir, 'simulator-state.json');
  const port = await freePort();
  serverProcess = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--public-url',
      `http://127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      '--install-profile-unsigned',
    ],
    { env: { ...process.env, MOCKIRON_ADMIN_PASSWORD: adminPassword, MOCKIRON_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  serverUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not log its URL in time:\n${serverLog}`)), 60_000);
    serverProcess!.stdout!.on('data', (chunk: Buffer) => {
      serverLog += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+:\d+)"/.exec(serverLog);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    serverProcess!.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
    serverProcess!.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${serverLog}`)));
  });

  const label = await apiOk('POST', '/api/v2/labels', { name: 'vpn-unsigned', static: true });
  const vpn = await apiOk('POST', '/api/v2/configurations/vpn', {
    name: 'vpn-unsigned',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    perApp: true,
    safariDomains: ['example.com'],
  });
  vpnUuid = vpn.results.vpnUuid;
  await apiOk('PUT', `/api/v2/configurations/vpn/${vpn.results.id}/labels/${label.results.id}`);
  const app = await apiOk('POST', '/api/v2/appstore/apps', { name: 'Chrome', bundleId: CHROME });
  await apiOk('PUT', `/api/v2/appstore/apps/${app.results.id}/labels/${label.results.id}`);
}, 90_000);

afterAll(async () => {
  if (serverProcess && serverProcess.exitCode === null) {
    const exited = new Promise((resolve) => serverProcess!.once('exit', resolve));
    serverProcess.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the simulator against a server delivering InstallProfile unsigned', () => {
  it("enrolls from direct profiles, each device listed under its invitation's user; then installs the plain per-app VPN profile", async () => {
    const first = JSON.parse(expectOk(await mockiron(simulate(1, 0))).stdout);
    expect(first.devices).toMatchObject({ total: DEVICES, enrolled: DEVICES, enrolledThisRun: DEVICES, enrollmentFailures: 0 });
    const uuids: string[] = [];
    for (const device of (await simulatorStatus()).devices) {
      // the simulator's invitation for a device is for user sim-<serial number>
      const row = await onServer(device.udid);
      expect(row).toMatchObject({ 'common.status': 'ACTIVE', 'user.user_id': `sim-${device.serialNumber}` });
      // the enrollment profile it holds is named after its record
      expect(device.profiles.filter((p) => p.source === 'enrollment').map((p) => p.identifier)).toEqual([
        `com.mockiron.mdm.${row!['common.uuid']}`,
      ]);
      uuids.push(row!['common.uuid']!);
    }
    await apiOk('PUT', '/api/v2/devices/labels/vpn-unsigned/add', { deviceUuids: uuids });

    const run = JSON.parse(expectOk(await mockiron(simulate(3, 300))).stdout);
    expect(run.errors.total, JSON.stringify(run.errors)).toBe(0);
    expect(run.commands.InstallProfile?.Acknowledged ?? 0).toBeGreaterThanOrEqual(DEVICES);
    expect(run.commands.InstallProfile?.Error ?? 0).toBe(0);

    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      devices: { identity: { udid: string }; profiles: Record<string, { signerCertificateDer?: string }> }[];
    };
    for (const device of (await simulatorStatus()).devices) {
      const uuid = (await onServer(device.udid))!['common.uuid']!;
      const vpnProfiles = device.profiles.filter((p) => p.payloadTypes.includes('com.apple.vpn.managed.applayer'));
      expect(vpnProfiles, JSON.stringify(device.profiles)).toHaveLength(1);
      expect(vpnProfiles[0]!.vpnUuids).toEqual([vpnUuid]);
      expect(device.apps[CHROME]).toEqual({ vpnUuid });
      // what the device installed is the server's plain XML, byte for byte, and it holds no signer for it
      const served = await api('GET', `/api/v2/devices/${uuid}/profiles/vpn?signed=false`);
      expect(served.status).toBe(200);
      const xml = Buffer.from(await served.arrayBuffer());
      expect(vpnProfiles[0]!.contentSha256).toBe(createHash('sha256').update(xml).digest('hex'));
      const read = spawnSync(
        'python3',
        ['-c', 'import plistlib, sys; p = plistlib.loads(sys.stdin.buffer.read()); print(p["PayloadIdentifier"])'],
        { input: xml },
      );
      expect(read.status, read.stderr.toString()).toBe(0);
      expect(read.stdout.toString().trim()).toBe(vpnProfiles[0]!.identifier);
      const held = state.devices.find((d) => d.identity.udid === device.udid)!.profiles[vpnProfiles[0]!.identifier]!;
      expect(held.signerCertificateDer).toBeUndefined();
    }
  }, 240_000);

  it('RETIRE reaches a device enrolled from a direct profile: it removes its enrollment profile and the server lists it RETIRED', async () => {
    const [retired, kept] = (await simulatorStatus()).devices;
    const uuid = (await onServer(retired!.udid))!['common.uuid']!;
    const answer = await apiOk('PUT', '/api/v2/devices/retire', { deviceUuids: [uuid] });
    expect(answer.results[0].status).toBe('SUCCESS');
    expectOk(await mockiron(simulate(2, 300)));
    const after = (await simulatorStatus()).devices;
    const device = after.find((d) => d.udid === retired!.udid)!;
    expect(device.status).toBe('unenrolled');
    expect(device.profiles.filter((p) => p.source === 'enrollment')).toEqual([]);
    expect(await onServer(retired!.udid)).toMatchObject({ 'common.status': 'RETIRED' });
    const commands = (await apiOk('GET', `/api/v2/devices/${uuid}/commands?limit=50`)).results as { requestType: string; status: string }[];
    expect(commands.filter((c) => c.requestType === 'RemoveProfile').every((c) => c.status === 'Acknowledged')).toBe(true);
    expect(after.find((d) => d.udid === kept!.udid)!.status).toBe('enrolled');
    expect(await onServer(kept!.udid)).toMatchObject({ 'common.status': 'ACTIVE' });
  }, 240_000);
});

// End to end: the real server (the binary, --enroll-unknown-devices) and the device simulator (the
// binary) enrolling by the two shorter paths of issue #16, then polling:
// - `--enroll-mode direct`: one invitation per device (admin credentials), the profile fetched at
//   once from GET /mdm/enroll?token=…; a replayed fetch of the spent URL must not give a profile;
// - `--enroll-mode direct --enrollment-url …&signed=false`: a plain profile URL made elsewhere;
// - `--enroll-mode machine-info`: no admin credentials at all, each device POSTs its CMS-signed
//   MachineInfo (Apple's other/machineinfo.yaml keys) to /mdm/enroll.
// The server must list every device ACTIVE under its UDID, with the serial number it reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminPassword } from '../helpers/admin-password.js';
import { runMockiron, type RunResult } from '../helpers/serve.js';

const BIN = fileURLToPath(new URL('../../bin/mockiron.js', import.meta.url));
const AUTH = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

let dataDir: string;
let serverProcess: ChildProcess | undefined;
let serverUrl: string;
let serverLog = '';

/** Runs the real binary; `env` replaces the admin password variable (empty: no credentials). */
const mockiron = (args: string[], env: Record<string, string> = {}) =>
  runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword, ...env } });

function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}\nserver log tail: ${serverLog.slice(-3000)}`).toBe(0);
  return result;
}

async function api(method: string, pathname: string, body?: unknown): Promise<any> {
  const res = await fetch(`${serverUrl}${pathname}`, {
    method,
    headers: { Authorization: AUTH, Accept: 'application/json', ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${pathname}`).toBeLessThan(300);
  return res.json();
}

function simulate(stateFile: string, devices: number, extra: string[]): string[] {
  return [
    'simulate',
    '--server',
    serverUrl,
    '--devices',
    String(devices),
    '--concurrency',
    String(devices),
    '--iterations',
    '2',
    '--poll-interval',
    '0',
    '--state',
    stateFile,
    '--seed',
    path.basename(stateFile),
    '--json',
    ...extra,
  ];
}

async function simulatedDevices(stateFile: string): Promise<{ udid: string; status: string }[]> {
  return JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--json'])).stdout).devices;
}

/** The server's view of a device by UDID. */
async function onServer(udid: string): Promise<Record<string, string> | undefined> {
  const query = encodeURIComponent(`"ios.iPhone UDID" = "${udid}"`);
  const page = await api('GET', `/api/v2/devices?query=${query}&fields=common.uuid,common.status,common.SerialNumber`);
  return page.results[0];
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-enroll-modes-'));
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
  serverProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--enroll-unknown-devices'],
    { env: { ...process.env, MOCKIRON_ADMIN_PASSWORD: adminPassword, MOCKIRON_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  serverUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not log its URL in time:\n${serverLog}`)), 60_000);
    serverProcess!.stdout!.on('data', (chunk: Buffer) => {
      serverLog += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+:\d+)"/.exec(serverLog);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace('localhost', '127.0.0.1'));
      }
    });
    serverProcess!.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
    serverProcess!.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${serverLog}`)));
  });
}, 90_000);

afterAll(async () => {
  if (serverProcess && serverProcess.exitCode === null) {
    const exited = new Promise((resolve) => serverProcess!.once('exit', resolve));
    serverProcess.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('mockiron simulate --enroll-mode', () => {
  it('direct: devices enroll from GET /mdm/enroll?token=, poll, and a replayed fetch of a spent URL gets no profile', async () => {
    const stateFile = path.join(dataDir, 'direct.json');
    const run = expectOk(
      await mockiron(simulate(stateFile, 3, ['--enroll-mode', 'direct', '--faults', 'replay-challenge', '--fault-rate', '1'])),
    );
    const summary = JSON.parse(run.stdout);
    expect(summary.devices).toMatchObject({ total: 3, enrolled: 3, enrolledThisRun: 3, enrollmentFailures: 0 });
    expect(summary.errors.total).toBe(0);
    expect(summary.faults['replay-challenge'].notes.direct).toBe(3);
    expect(summary.faults['replay-challenge'].accepted).toBe(0);
    expect(Object.keys(summary.faults['replay-challenge'].answers)).toContain('410');
    for (const device of await simulatedDevices(stateFile)) {
      expect(device.status).toBe('enrolled');
      expect(await onServer(device.udid)).toMatchObject({ 'common.status': 'ACTIVE' });
    }
  }, 180_000);

  it('direct with --enrollment-url: a plain (signed=false) profile URL made elsewhere', async () => {
    await api('POST', '/api/v2/users', { userId: 'plain-url' });
    const invitation = (await api('POST', '/api/v2/enrollments', { userId: 'plain-url' })).results;
    const stateFile = path.join(dataDir, 'direct-plain.json');
    const url = `${serverUrl}/mdm/enroll?token=${invitation.token}&signed=false`;
    const run = expectOk(
      await mockiron(simulate(stateFile, 1, ['--enroll-mode', 'direct', '--enrollment-url', url]), { MOCKIRON_ADMIN_PASSWORD: '' }),
    );
    expect(JSON.parse(run.stdout).devices).toMatchObject({ enrolled: 1, enrollmentFailures: 0 });
    const [device] = await simulatedDevices(stateFile);
    expect(await onServer(device!.udid)).toMatchObject({ 'common.status': 'ACTIVE' });
  }, 120_000);

  it('machine-info: without admin credentials, devices POST signed MachineInfo and enroll with the serial numbers they report', async () => {
    const stateFile = path.join(dataDir, 'machine-info.json');
    const run = expectOk(await mockiron(simulate(stateFile, 3, ['--enroll-mode', 'machine-info']), { MOCKIRON_ADMIN_PASSWORD: '' }));
    const summary = JSON.parse(run.stdout);
    expect(summary.devices).toMatchObject({ total: 3, enrolled: 3, enrolledThisRun: 3, enrollmentFailures: 0 });
    expect(summary.errors.total).toBe(0);
    const state = JSON.parse((await import('node:fs')).readFileSync(stateFile, 'utf8')) as {
      devices: { identity: { udid: string; serialNumber: string } }[];
    };
    for (const { identity } of state.devices) {
      expect(await onServer(identity.udid)).toMatchObject({ 'common.status': 'ACTIVE', 'common.SerialNumber': identity.serialNumber });
    }
    expect(serverLog).toMatch(/"msg":"device enrolled with MachineInfo"/);
  }, 180_000);
});

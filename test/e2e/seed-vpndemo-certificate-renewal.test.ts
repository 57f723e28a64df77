// Issue #18's last "done when", with the real simulator process: renewal inside the window
// reinstalls a new identity exactly once per device. The server runs in this process (real HTTP,
// real SQLite) because renewal is judged by the identity service's clock
// (`services.identities.now`), which a test can only move in-process; the simulator is the real
// binary (`mockiron simulate`), enrolling its SCEP identity payloads over /scep.
// A SCEP setting of 30 days with a 5-day window on the seed label vpndemo-external: the iPad
// installs generation 1; with the clock 2 days before its notAfter the renewal sweep starts
// generation 2 (a second sweep does nothing: its certificate is not issued yet), the simulator
// installs the new profile and enrolls a new certificate (a new serial, the old one superseded),
// and from then on neither sweeps nor polls install anything: two InstallProfile commands in all.
//
// Sources: the seed, ../shared/seeds/000_0829dbd950fca5bc.txt (label vpndemo-external, AnyConnect
// per-app VPN); Apple's com.apple.security.scep.yaml (vendor/apple-device-management: the SCEP
// payload the simulator enrolls, its Challenge); RFC 8894 (SCEP); MobileIron Core's "Renew
// certificate before expiry (days)" as docs/certificate-vpn.md describes it.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { freePort, runMockiron, type RunResult } from '../helpers/serve.js';

const DAY_MS = 86_400_000;
let t: TestApp;
let server: Server;
let serverUrl: string;
let dir: string;
let stateFile: string;
let deviceUuid: string;
let deviceId: number;

const mockiron = (args: string[]) => runMockiron(args, { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword }, timeoutMs: 180_000 });
function expectOk(result: RunResult): RunResult {
  expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}`).toBe(0);
  return result;
}
const poll = async (iterations: number) =>
  JSON.parse(
    expectOk(
      await mockiron([
        'simulate',
        '--server',
        serverUrl,
        '--devices',
        '1',
        '--iterations',
        String(iterations),
        '--poll-interval',
        '300',
        '--state',
        stateFile,
        '--models',
        'iPad4,1:9.3.1',
        '--seed',
        'seed-vpndemo-renewal',
        '--json',
      ]),
    ).stdout,
  );

interface IdentityView {
  serialNumber: string;
  source: string;
  vpnNames: string[];
}
async function simulatorIdentities(): Promise<IdentityView[]> {
  const status = JSON.parse(expectOk(await mockiron(['simulate', 'status', '--state', stateFile, '--json'])).stdout);
  return status.devices[0].identityCertificates as IdentityView[];
}
async function serverCertificates(): Promise<Array<{ serialNumber: string; status: string; generation: number; notAfter: string }>> {
  const res = await t.admin.get(`/api/v2/devices/${deviceUuid}/certificates`);
  expect(res.status).toBe(200);
  return res.body.results;
}
async function installProfiles(): Promise<string[]> {
  const res = await t.admin.get(`/api/v2/devices/${deviceUuid}/commands?limit=200`);
  expect(res.status).toBe(200);
  return (res.body.results as { requestType: string; status: string }[])
    .filter((c) => c.requestType === 'InstallProfile')
    .map((c) => c.status);
}

beforeAll(async () => {
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}`;
  t = await startTestApp({ env: { MOCKIRON_PUBLIC_URL: serverUrl } });
  server = t.app.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-e2e-renewal-'));
  stateFile = path.join(dir, 'simulator-state.json');

  const label = await t.admin.post('/api/v2/labels').send({ name: 'vpndemo-external', static: true });
  const setting = await t.admin.post('/api/v2/configurations/certificate-enrollment').send({
    name: 'vpndemo identity',
    method: 'SCEP',
    subject: 'CN=vpndemo-$DEVICE_UUID$,OU=vpndemo,O=Example',
    validityDays: 30,
    renewalWindowDays: 5,
  });
  expect(setting.status, JSON.stringify(setting.body)).toBe(201);
  const vpn = await t.admin.post('/api/v2/configurations/vpn').send({
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    group: 'vpndemo',
    perApp: true,
    userAuthentication: 'CERTIFICATE',
    certificateEnrollmentId: setting.body.results.id,
  });
  expect(vpn.status, JSON.stringify(vpn.body)).toBe(201);
  expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${label.body.results.id}`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  removeDir(t.dataDir);
  rmSync(dir, { recursive: true, force: true });
});

describe('renewal of a SCEP identity with the simulator', () => {
  let first: { serialNumber: string; notAfter: string };

  it('the iPad enrolls and installs generation 1 of its identity', async () => {
    expect((await poll(1)).devices).toMatchObject({ total: 1, enrolled: 1 });
    const device = await t.services.db.device.findFirstOrThrow({ orderBy: { id: 'desc' } });
    deviceUuid = device.uuid;
    deviceId = device.id;
    expect((await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [deviceUuid] })).status).toBe(200);
    for (let run = 0; run < 5 && (await simulatorIdentities()).length === 0; run++) expect((await poll(2)).errors.total).toBe(0);
    const [identity, ...more] = await simulatorIdentities();
    expect(more).toEqual([]);
    expect(identity).toMatchObject({ source: 'scep', vpnNames: ['vpndemo-external'] });
    const [cert] = await serverCertificates();
    expect(cert).toMatchObject({ status: 'valid', generation: 1 });
    expect(cert!.serialNumber.toUpperCase()).toBe(identity!.serialNumber.toUpperCase());
    first = cert!;
    expect(await installProfiles()).toEqual(['Acknowledged']);
  }, 300_000);

  it('inside the window the sweep renews once; the simulator installs the new profile and a new certificate; nothing more after', async () => {
    t.services.identities.now = () => new Date(new Date(first.notAfter).getTime() - 2 * DAY_MS);
    try {
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([deviceId]);
      // Generation 2 has no certificate yet: nothing to renew
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([]);
      const renewedOnDevice = async () => (await simulatorIdentities())[0]?.serialNumber.toUpperCase() !== first.serialNumber.toUpperCase();
      for (let run = 0; run < 5 && !(await renewedOnDevice()); run++) expect((await poll(2)).errors.total).toBe(0);

      const [identity, ...more] = await simulatorIdentities();
      expect(more).toEqual([]);
      expect(identity!.serialNumber.toUpperCase()).not.toBe(first.serialNumber.toUpperCase());
      const certificates = await serverCertificates();
      expect(certificates.find((c) => c.serialNumber === first.serialNumber)).toMatchObject({ status: 'superseded' });
      const renewed = certificates.find((c) => c.serialNumber.toUpperCase() === identity!.serialNumber.toUpperCase());
      expect(renewed).toMatchObject({ status: 'valid', generation: 2 });
      expect(await installProfiles()).toEqual(['Acknowledged', 'Acknowledged']);

      // The renewed certificate is outside its window: sweeps and polls install nothing more
      expect(await t.services.mdm.reconciler.renewalPass()).toEqual([]);
      expect((await poll(2)).errors.total).toBe(0);
      expect(await installProfiles()).toHaveLength(2);
      expect((await simulatorIdentities()).map((i) => i.serialNumber)).toEqual([identity!.serialNumber]);
    } finally {
      t.services.identities.now = () => new Date();
    }
  }, 300_000);
});

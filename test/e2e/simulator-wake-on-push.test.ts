// A command reaches a device only through a push: the real server (bin/mockiron.js) with an
// MDM push certificate sends its pushes over HTTP/2 to the simulator, which stands in for APNs
// (`simulate --wake-on-push`) and wakes a device only when a push for its token arrives, as
// Apple's service wakes an iPad. Simulated devices never poll in this mode, so a command that is
// answered got there by a push. Checked against Apple's provider API ("Sending notification
// requests to APNs": POST /3/device/<token>, apns-push-type mdm, apns-topic = the certificate's
// topic, {"mdm": PushMagic}); certificates made with the openssl command line.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { selfSignedPushCertificate } from '../helpers/apns-stand-in.js';
import { freePort } from '../helpers/serve.js';

const BIN = fileURLToPath(new URL('../../bin/mockiron.js', import.meta.url));
const ADMIN_PASSWORD = 'e2e-wake-on-push-admin-password';
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const dir = mkdtempSync(path.join(tmpdir(), 'mockiron-wake-'));
let server: ChildProcess | undefined;
let sim: ChildProcess | undefined;
let serverLog = '';

afterAll(() => {
  sim?.kill('SIGKILL');
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function api(url: string, method: string, pathname: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { Authorization: AUTH, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  expect(res.status, `${method} ${pathname}: ${text}`).toBeLessThan(300);
  return text ? JSON.parse(text) : undefined;
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('wakes a simulated device by push; the command it was pushed for is answered', async () => {
  // The simulator's listener: a TLS certificate for 127.0.0.1 the server is told to trust.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'listener.key',
      '-out',
      'listener.pem',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  const [port, pushPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const startServer = () =>
    spawn(
      process.execPath,
      [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', '--public-url', url, '--data-dir', path.join(dir, 'data')],
      {
        env: {
          ...process.env,
          MOCKIRON_ADMIN_PASSWORD: ADMIN_PASSWORD,
          MOCKIRON_LOG_LEVEL: 'info',
          MOCKIRON_APNS_URL: `https://127.0.0.1:${pushPort}`,
          MOCKIRON_APNS_CA_FILE: path.join(dir, 'listener.pem'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  server = startServer();
  server.stdout!.on('data', (c: Buffer) => (serverLog += c.toString()));
  server.stderr!.on('data', (c: Buffer) => (serverLog += c.toString()));
  await until(
    async () => serverLog,
    (log) => log.includes('mockiron listening'),
    60_000,
  );
  // The start log says which provider is active.
  expect(serverLog).toContain('push provider: recording only');

  const cert = selfSignedPushCertificate('com.apple.mgmt.External.mockiron');
  await api(url, 'PUT', '/api/v2/apns/certificate', { certificate: cert.certificatePem, privateKey: cert.keyPem });

  const stateFile = path.join(dir, 'state.json');
  writeFileSync(path.join(dir, 'password'), ADMIN_PASSWORD);
  let simOut = '';
  sim = spawn(
    process.execPath,
    [
      BIN,
      'simulate',
      '--server',
      url,
      '--devices',
      '2',
      '--duration',
      '40',
      '--state',
      stateFile,
      '--admin-password-file',
      path.join(dir, 'password'),
      '--wake-on-push',
      `127.0.0.1:${pushPort}`,
      '--push-tls-cert',
      path.join(dir, 'listener.pem'),
      '--push-tls-key',
      path.join(dir, 'listener.key'),
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  sim.stdout!.on('data', (c: Buffer) => (simOut += c.toString()));
  sim.stderr!.on('data', (c: Buffer) => (simOut += c.toString()));
  const simDone = new Promise<number | null>((resolve) => sim!.on('close', resolve));

  const devices = await until(
    async () =>
      (await api(url, 'GET', `/api/v2/devices?fields=${encodeURIComponent('common.uuid,common.status')}&limit=10`)).results as any[],
    (list) => list.length === 2 && list.every((d) => d['common.status'] === 'ACTIVE'),
    60_000,
  );
  expect(devices.map((d) => d['common.status'])).toEqual(['ACTIVE', 'ACTIVE']);
  const [target, other] = devices.map((d) => d['common.uuid'] as string);

  const queued = await api(url, 'POST', `/api/v2/devices/${target}/commands`, { RequestType: 'DeviceInformation', Queries: ['OSVersion'] });
  const commandUuid = queued.results.commandUuid as string;
  const answered = await until(
    async () => (await api(url, 'GET', `/api/v2/devices/${target}/commands?limit=50`)).results as any[],
    (list) => list.some((c) => c.commandUuid === commandUuid && c.status === 'Acknowledged'),
    20_000,
  );
  expect(answered.find((c) => c.commandUuid === commandUuid)?.status, `${simOut}\n${serverLog.slice(-3000)}`).toBe('Acknowledged');
  const pushes = (await api(url, 'GET', `/api/v2/devices/${target}/pushes`)).results as any[];
  expect(pushes[0]).toMatchObject({ provider: 'apns', outcome: 'sent', reason: 'command' });
  // The other device was never pushed, so it never connected: its queue was never asked for.
  expect((await api(url, 'GET', `/api/v2/devices/${other}/pushes`)).results).toEqual([]);

  sim.kill('SIGINT');
  await simDone;
  const summary = JSON.parse(simOut.slice(simOut.indexOf('{'))) as { pushes: { delivered: number; refused: number } };
  expect(summary.pushes).toEqual({ delivered: 1, refused: 0 });

  // Started again with the certificate stored, the log says pushes go to APNs, and with which topic.
  const stopped = new Promise((resolve) => server!.once('exit', resolve));
  server.kill('SIGTERM');
  await stopped;
  serverLog = '';
  server = startServer();
  server.stdout!.on('data', (c: Buffer) => (serverLog += c.toString()));
  server.stderr!.resume();
  await until(
    async () => serverLog,
    (log) => log.includes('mockiron listening'),
    60_000,
  );
  const line = serverLog.split('\n').find((l) => l.includes('push provider'));
  expect(JSON.parse(line!)).toMatchObject({
    msg: 'push provider: APNs (pushes are sent)',
    provider: 'apns',
    topic: 'com.apple.mgmt.External.mockiron',
  });
}, 150_000);

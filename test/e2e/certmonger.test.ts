// The independent judge of our SCEP server: Debian's certmonger (getcert + scep-submit, OpenSSL
// inside) enrolling against a real listening mockiron. certmonger runs with its state in a temp
// directory and a private listening socket (-L -P), so it needs neither the system's state nor a
// D-Bus daemon, and leaves nothing behind. Its default cipher is read from our log (Debian's 0.79
// sends AES-256-CBC when GetCACaps lists AES; older versions chose DES3 when listed, else single
// DES: certmonger's src/scepgen-o.c).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../src/certificates/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

const run = promisify(execFile);
const SCEP_SUBMIT_CANDIDATES = ['/usr/lib/certmonger/scep-submit', '/usr/libexec/certmonger/scep-submit'];
const TERMINAL = new Set([
  'MONITORING',
  'CA_REJECTED',
  'CA_UNREACHABLE',
  'CA_UNCONFIGURED',
  'NEED_GUIDANCE',
  'NEED_CA',
  'CA_WORKING_FAILED',
]);

let t: TestApp;
let server: Server;
let scepUrl: string;
let dir: string;
let env: NodeJS.ProcessEnv;
let daemon: ChildProcess | undefined;
let daemonLog = '';
let scepSubmit: string;
/** The app's log lines (JSON): which cipher certmonger's requests used. */
const appLog: string[] = [];
const nickname = `mockiron-${randomUUID().slice(0, 8)}`;
let deviceUuid: string;
let deviceId: number;

async function which(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

async function getcert(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('getcert', args, { env, timeout: 20_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`getcert ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}\ncertmonger log:\n${daemonLog}`);
  }
}

/** Polls `getcert list -i id` until certmonger is done with the request; returns status and the listing. */
async function waitForRequest(id: string, deadlineMs = 30_000): Promise<{ status: string; listing: string }> {
  const until = Date.now() + deadlineMs;
  let listing = '';
  while (Date.now() < until) {
    listing = await getcert('list', '-i', id);
    const status = /^\s*status:\s*(\S+)/m.exec(listing)?.[1];
    if (status && TERMINAL.has(status)) return { status, listing };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`certmonger request ${id} did not finish within ${deadlineMs} ms:\n${listing}\ncertmonger log:\n${daemonLog}`);
}

async function mintChallenge(): Promise<string> {
  const res = await t.admin.post('/api/v2/scep/challenges').send({ ttlMinutes: 10, deviceUuid });
  expect(res.status).toBe(201);
  return res.body.results.challenge as string;
}

async function request(id: string, challenge: string, commonName: string) {
  const files = { cert: path.join(dir, `${id}.crt`), key: path.join(dir, `${id}.key`) };
  await getcert('request', '-c', nickname, '-I', id, '-f', files.cert, '-k', files.key, '-L', challenge, '-N', `CN=${commonName}`);
  return { ...files, ...(await waitForRequest(id)) };
}

const certificateCount = () => t.services.db.deviceCertificate.count();

beforeAll(async () => {
  // Not skippable: a machine without certmonger fails here with the fix in the message.
  const found = SCEP_SUBMIT_CANDIDATES.find((p) => existsSync(p));
  if (!(await which('getcert')) || !(await which('certmonger')) || !found) {
    throw new Error(
      'certmonger is not installed (getcert, certmonger, scep-submit): run `bash scripts/install-system-deps.sh` as root (npm test runs it as its pretest step)',
    );
  }
  scepSubmit = found;

  t = await startTestApp({ logTo: new Writable({ write: (chunk: Buffer, _encoding, done) => (appLog.push(chunk.toString()), done()) }) });
  server = await new Promise<Server>((resolve, reject) => {
    const s = t.app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  scepUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scep`;
  deviceUuid = randomUUID();
  deviceId = (await t.services.db.device.create({ data: { uuid: deviceUuid, platform: 'iOS' } })).id;

  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-certmonger-'));
  writeFileSync(path.join(dir, 'ca.pem'), t.services.signing.ca!.certificate.toString());
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'sock');
  env = {
    ...process.env,
    CERTMONGER_CONFIG_DIR: state,
    CERTMONGER_REQUESTS_DIR: path.join(state, 'requests'),
    CERTMONGER_CAS_DIR: path.join(state, 'cas'),
    CERTMONGER_LOCAL_CA_DIR: path.join(state, 'local'),
    CERTMONGER_TMPDIR: path.join(state, 'tmp'),
    CERTMONGER_PVT_ADDRESS: `unix:path=${socket}`,
  };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  for (const key of ['CERTMONGER_REQUESTS_DIR', 'CERTMONGER_CAS_DIR', 'CERTMONGER_LOCAL_CA_DIR', 'CERTMONGER_TMPDIR'] as const) {
    mkdirSync(env[key]!, { recursive: true });
  }

  // -n: foreground, so it is our child; -L -P: only the private socket; -B: no idle exit
  daemon = spawn('certmonger', ['-n', '-L', '-P', socket, '-B'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout!.on('data', (d: Buffer) => (daemonLog += d.toString()));
  daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));
  const started = Date.now();
  while (!existsSync(socket)) {
    if (daemon.exitCode !== null) throw new Error(`certmonger exited with ${daemon.exitCode}:\n${daemonLog}`);
    if (Date.now() - started > 10_000) throw new Error(`certmonger did not open ${socket} within 10 s:\n${daemonLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await getcert('add-scep-ca', '-c', nickname, '-u', scepUrl);
});

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  }
  if (server) await new Promise((r) => server.close(r));
  if (t) {
    await t.close();
    removeDir(t.dataDir);
  }
  if (dir) removeDir(dir);
}, 20_000);

describe('certmonger against mockiron SCEP', () => {
  it('reads GetCACaps and GetCACert with scep-submit', async () => {
    const caps = (await run(scepSubmit, ['-u', scepUrl, '-c'], { timeout: 15_000 })).stdout;
    expect(caps.split('\n')).toEqual(expect.arrayContaining(['POSTPKIOperation', 'Renewal', 'AES', 'SHA-256']));
    const certs = (await run(scepSubmit, ['-u', scepUrl, '-C'], { timeout: 15_000 })).stdout;
    const pems = certs.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const caDer = t.services.signing.ca!.certificate.raw;
    expect(pems.some((pem) => new X509Certificate(pem).raw.equals(caDer))).toBe(true);
  });

  it('enrolls with a valid challenge: MONITORING, and the certificate chains to our CA', async () => {
    const before = await certificateCount();
    const challenge = await mintChallenge();
    const result = await request('good', challenge, 'certmonger-device');
    expect(result.status, result.listing).toBe('MONITORING');

    const pem = readFileSync(result.cert, 'utf8');
    const issued = new X509Certificate(pem);
    expect(issued.subject).toBe('CN=certmonger-device');
    expect(issued.issuer).toBe(t.services.signing.ca!.certificate.subject);
    const verified = await run('openssl', ['verify', '-CAfile', path.join(dir, 'ca.pem'), '-purpose', 'sslclient', result.cert]);
    expect(verified.stdout).toContain(': OK');
    // certmonger's own key is the one certified
    expect(issued.checkPrivateKey(createPrivateKey(readFileSync(result.key, 'utf8')))).toBe(true);

    const row = await t.services.db.deviceCertificate.findUnique({ where: { fingerprintSha256: certificateFingerprint(issued) } });
    expect(row).toMatchObject({ source: 'scep', deviceRef: deviceId, revoked: false });
    expect(await certificateCount()).toBe(before + 1);
    // certmonger picks its cipher from GetCACaps (AES listed: an AES-CBC); the CertRep mirrors it,
    // and certmonger reading it is the MONITORING above
    const issuedLine = appLog
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as { msg?: string; scep?: { subject?: string; contentEncryption?: string } })
      .find((line) => line.msg === 'SCEP certificate issued' && line.scep?.subject === 'CN=certmonger-device');
    expect(issuedLine?.scep?.contentEncryption).toMatch(/^aes-(128|192|256)-cbc$/);

    // The spent challenge does not enroll a second key
    const replay = await request('replay', challenge, 'certmonger-replay');
    expect(replay.status, replay.listing).toBe('CA_REJECTED');
    expect(existsSync(replay.cert)).toBe(false);
    expect(await certificateCount()).toBe(before + 1);
  });

  it('is refused with a wrong challenge: CA_REJECTED, no certificate', async () => {
    const before = await certificateCount();
    const result = await request('wrong', 'not-the-challenge-0123456789', 'certmonger-intruder');
    expect(result.status, result.listing).toBe('CA_REJECTED');
    expect(result.listing).toMatch(/ca-error:/);
    expect(existsSync(result.cert)).toBe(false);
    expect(await certificateCount()).toBe(before);
  });
});

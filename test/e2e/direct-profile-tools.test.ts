// Issue #16's "done when": an enrollment profile fetched with curl from the direct URL, given to
// a tool that reads only plain profiles, is enough to enroll over SCEP with DES-EDE3 (and with
// single DES when the server allows it), authenticate and poll. The real binary serves; nothing
// of mockiron's code plays the device except the outer SCEP SignedData (OpenSSL's command line
// cannot add SCEP's signed attributes):
// - curl fetches the profile (`GET /mdm/enroll?token=…&signed=false`) and carries every request;
// - Python's plistlib reads the plain profile (SCEP URL, challenge, subject; the MDM URLs, topic);
// - OpenSSL makes the key and CSR (`req`, challengePassword), envelopes it (`cms -encrypt -des3`
//   or `-des` with the legacy provider) to the RA certificate GetCACert served (`pkcs7`), reads
//   the CertRep (`cms -verify`, `cms -decrypt`), and signs every MDM message (`cms -sign`,
//   detached DER, base64 in the Mdm-Signature header, as iOS does);
// - the check-in messages are NanoMDM's recorded Authenticate and TokenUpdate from a real iPad
//   (test/fixtures/device-messages/nanomdm), their UDID and Topic set by plistlib.
//
// Sources: RFC 8894 §3 (PKCSReq, CertRep, GetCACert with an RA as a certs-only PKCS#7) and §3.5.2
// (DES3 is what a client uses when AES is not its choice); Apple's MDM protocol: the Mdm-Signature
// header is a base64 detached CMS signature over the body; micromdm/scep and mozilla-services/pkcs7
// (the Go device simulator of issue #16 envelopes with single DES-CBC whatever GetCACaps says).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, createPrivateKey, X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signScepMessage } from '../../src/lib/scep/signed-data.js';
import { adminPassword } from '../helpers/admin-password.js';
import { spawnServe } from '../helpers/serve.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = path.join(root, 'test/fixtures/device-messages/nanomdm');
const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

let dataDir: string;
let tmp: string;
let counter = 0;

function file(name: string, data: Buffer | string = ''): string {
  const p = path.join(tmp, `${++counter}-${name}`);
  writeFileSync(p, data);
  return p;
}

function run(cmd: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(cmd, args, { input, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stderr.toString()}`);
  return result.stdout;
}

/** curl: the body and the status. `-g` so brackets in URLs are literal. */
function curl(args: string[]): { status: number; body: Buffer } {
  const out = file('curl.out');
  const status = run('curl', ['-sS', '-g', '-o', out, '-w', '%{http_code}', ...args]).toString();
  return { status: Number(status), body: readFileSync(out) };
}

const serve = (flags: string[]) =>
  spawnServe(dataDir, { flags, env: { MOCKIRON_ADMIN_PASSWORD: adminPassword, MOCKIRON_SCEP_ALLOW_DES: '' } });

interface PlainProfile {
  scep: { URL: string; Challenge: string; Subject: string[][][] };
  mdm: { ServerURL: string; CheckInURL: string; Topic: string; SignMessage: boolean };
}

/** What a plain-profile tool takes from the profile, read by Python's plistlib. */
function readWithPlistlib(xml: Buffer): PlainProfile {
  const script = [
    'import json, plistlib, sys',
    'c = plistlib.loads(sys.stdin.buffer.read())["PayloadContent"]',
    'scep = next(x["PayloadContent"] for x in c if x["PayloadType"] == "com.apple.security.scep")',
    'mdm = next(x for x in c if x["PayloadType"] == "com.apple.mdm")',
    'print(json.dumps({"scep": {k: scep[k] for k in ("URL", "Challenge", "Subject")},',
    '  "mdm": {k: mdm[k] for k in ("ServerURL", "CheckInURL", "Topic", "SignMessage")}}))',
  ].join('\n');
  return JSON.parse(run('python3', ['-c', script], xml).toString()) as PlainProfile;
}

/** A recorded device message with this device's UDID and the profile's Topic, rewritten by plistlib. */
function deviceMessage(fixture: string, udid: string, topic: string, extra: Record<string, string> = {}): Buffer {
  const script = [
    'import json, plistlib, sys',
    'm = plistlib.loads(open(sys.argv[1], "rb").read())',
    'm.update(json.loads(sys.argv[2]))',
    'sys.stdout.buffer.write(plistlib.dumps(m))',
  ].join('\n');
  return run('python3', ['-c', script, path.join(fixtures, fixture), JSON.stringify({ UDID: udid, Topic: topic, ...extra })]);
}

/** PUT a message, signed by openssl (detached CMS, base64) with the device identity, sent by curl. */
function signedPut(url: string, body: Buffer, identity: { key: string; cert: string }, contentType: string) {
  const bodyFile = file('message.plist', body);
  const signature = run('openssl', [
    'cms',
    '-sign',
    '-binary',
    '-outform',
    'DER',
    '-in',
    bodyFile,
    '-signer',
    identity.cert,
    '-inkey',
    identity.key,
    '-md',
    'sha256',
  ]).toString('base64');
  return curl([
    '-X',
    'PUT',
    '--data-binary',
    `@${bodyFile}`,
    '-H',
    `Content-Type: ${contentType}`,
    '-H',
    `Mdm-Signature: ${signature}`,
    url,
  ]);
}

/** SCEP as OpenSSL does it with `cipher`: returns the device identity (key and issued certificate files). */
function scepEnroll(profile: PlainProfile, cipher: 'des3' | 'des'): { key: string; cert: string; issued: X509Certificate } {
  const scepUrl = profile.scep.URL;
  const caCerts = curl([`${scepUrl}?operation=GetCACert`]);
  expect(caCerts.status).toBe(200);
  const pems = run('openssl', ['pkcs7', '-inform', 'DER', '-print_certs'], caCerts.body)
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
  const caPem = pems.find((p) => new X509Certificate(p).ca)!;
  const raPem = pems.find((p) => !new X509Certificate(p).ca)!;
  // The subject as the profile gives it: [[["O","mockiron"]],[["CN","…"]]]
  const dn = profile.scep.Subject.map((rdn) => rdn.map(([k, v]) => `${k} = ${v}`).join('\n')).join('\n');
  const config = file(
    'req.cnf',
    [
      '[req]',
      'distinguished_name = dn',
      'attributes = attrs',
      'prompt = no',
      '[dn]',
      dn,
      '[attrs]',
      `challengePassword = ${profile.scep.Challenge}`,
    ].join('\n'),
  );
  const key = file('device.key');
  const csr = file('device.csr');
  run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-config', config, '-outform', 'DER', '-out', csr]);
  const selfSigned = file('self.pem');
  run('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=scep-requester', '-days', '1', '-out', selfSigned]);
  const envelope = run(
    'openssl',
    ['cms', '-encrypt', '-binary', `-${cipher}`, ...(cipher === 'des' ? LEGACY : []), '-outform', 'DER', '-recip', file('ra.pem', raPem)],
    readFileSync(csr),
  );
  const transactionID = `TX${randomBytes(8).toString('hex').toUpperCase()}`;
  const pkcsReq = signScepMessage(
    envelope,
    { messageType: 'PKCSReq', transactionID, senderNonce: randomBytes(16) },
    { privateKey: createPrivateKey(readFileSync(key)), certificate: new X509Certificate(readFileSync(selfSigned)) },
  );
  const reply = curl([
    '-X',
    'POST',
    '--data-binary',
    `@${file('pkcsreq.der', pkcsReq)}`,
    '-H',
    'Content-Type: application/x-pki-message',
    `${scepUrl}?operation=PKIOperation`,
  ]);
  expect(reply.status).toBe(200);
  const certRep = file('certrep.der', reply.body);
  const innerEnvelope = run('openssl', [
    'cms',
    '-verify',
    '-inform',
    'DER',
    '-in',
    certRep,
    '-CAfile',
    file('ca.pem', caPem),
    '-purpose',
    'any',
    '-binary',
  ]);
  const printed = run('openssl', [
    'cms',
    '-cmsout',
    '-print',
    '-inform',
    'DER',
    '-in',
    file('env.der', innerEnvelope),
    '-noout',
  ]).toString();
  expect(printed).toContain(cipher === 'des3' ? 'des-ede3-cbc' : 'des-cbc');
  const certsOnly = run('openssl', [
    'cms',
    '-decrypt',
    ...(cipher === 'des' ? LEGACY : []),
    '-inform',
    'DER',
    '-in',
    file('env.der', innerEnvelope),
    '-recip',
    selfSigned,
    '-inkey',
    key,
    '-binary',
  ]);
  const issuedPem = run('openssl', ['pkcs7', '-inform', 'DER', '-print_certs'], certsOnly)
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0];
  expect(run('openssl', ['verify', '-CAfile', file('ca.pem', caPem), file('issued.pem', issuedPem)]).toString()).toMatch(/: OK/);
  return { key, cert: file('issued.pem', issuedPem), issued: new X509Certificate(issuedPem) };
}

async function enrollWithTools(url: string, cipher: 'des3' | 'des') {
  const admin = ['-u', `admin:${adminPassword}`, '-H', 'Content-Type: application/json'];
  expect(curl([...admin, '-X', 'POST', '--data', JSON.stringify({ userId: `tools-${cipher}` }), `${url}/api/v2/users`]).status).toBe(201);
  const invitation = curl([...admin, '-X', 'POST', '--data', JSON.stringify({ userId: `tools-${cipher}` }), `${url}/api/v2/enrollments`]);
  expect(invitation.status).toBe(201);
  const { token } = (JSON.parse(invitation.body.toString()) as { results: { token: string } }).results;

  // 1. the profile, plain, fetched by curl and read by plistlib
  const headers = file('headers.txt');
  const fetched = curl(['-D', headers, `${url}/mdm/enroll?token=${token}&signed=false`]);
  expect(fetched.status).toBe(200);
  expect(readFileSync(headers).toString()).toMatch(/content-type: application\/x-apple-aspen-config/i);
  const profile = readWithPlistlib(fetched.body);
  expect(profile.mdm.SignMessage).toBe(true);

  // 2. SCEP with OpenSSL
  const identity = scepEnroll(profile, cipher);

  // 3. check in with recorded device messages, signed by OpenSSL
  const udid = randomBytes(20).toString('hex');
  const checkin = 'application/x-apple-aspen-mdm-checkin';
  const authenticate = signedPut(profile.mdm.CheckInURL, deviceMessage('Authenticate.1.plist', udid, profile.mdm.Topic), identity, checkin);
  expect(authenticate.status, authenticate.body.toString()).toBe(200);
  const tokenUpdate = signedPut(profile.mdm.CheckInURL, deviceMessage('TokenUpdate.1.plist', udid, profile.mdm.Topic), identity, checkin);
  expect(tokenUpdate.status, tokenUpdate.body.toString()).toBe(200);

  // the device record, bound at Authenticate by UDID, is ACTIVE
  const query = encodeURIComponent(`"ios.iPhone UDID" = "${udid}"`);
  const found = curl([
    '-u',
    `admin:${adminPassword}`,
    `${url}/api/v2/devices?query=${query}&fields=common.uuid,common.status,common.SerialNumber`,
  ]);
  const [device] = (JSON.parse(found.body.toString()) as { results: Record<string, string>[] }).results;
  expect(device).toMatchObject({ 'common.status': 'ACTIVE', 'common.SerialNumber': 'F5JM992LF193' });

  // 4. poll: an Idle answered; a command queued by the admin comes out at the next poll
  const idle = (extra: Record<string, string> = {}) =>
    run('python3', [
      '-c',
      'import json,plistlib,sys; sys.stdout.buffer.write(plistlib.dumps(json.loads(sys.argv[1])))',
      JSON.stringify({ UDID: udid, Status: 'Idle', ...extra }),
    ]);
  const first = signedPut(profile.mdm.ServerURL, idle(), identity, 'application/x-apple-aspen-mdm');
  expect(first.status).toBe(200);
  const queued = curl([
    ...admin,
    '-X',
    'POST',
    '--data',
    JSON.stringify({ RequestType: 'DeviceInformation', Queries: ['UDID'] }),
    `${url}/api/v2/devices/${device!['common.uuid']}/commands`,
  ]);
  expect(queued.status, queued.body.toString()).toBeLessThan(300);
  const next = signedPut(profile.mdm.ServerURL, idle(), identity, 'application/x-apple-aspen-mdm');
  expect(next.status).toBe(200);
  const command = JSON.parse(
    run(
      'python3',
      ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())["Command"]["RequestType"]))'],
      next.body,
    ).toString(),
  );
  expect(command).toBe('DeviceInformation');
  // a message signed by a key the CA never certified is refused
  const stranger = { key: file('stranger.key'), cert: file('stranger.pem') };
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    stranger.key,
    '-out',
    stranger.cert,
    '-subj',
    '/CN=stranger',
    '-days',
    '1',
  ]);
  expect(signedPut(profile.mdm.ServerURL, idle(), stranger, 'application/x-apple-aspen-mdm').status).toBe(401);
  return identity;
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-direct-tools-'));
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mockiron-direct-tools-files-'));
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('a plain-profile tool enrolls from the direct URL (curl, plistlib, openssl)', () => {
  it('with DES-EDE3 by default', async () => {
    const server = serve([]);
    try {
      await enrollWithTools(await server.url, 'des3');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it('with single DES when the server runs with --scep-allow-des', async () => {
    const server = serve(['--scep-allow-des']);
    try {
      await enrollWithTools(await server.url, 'des');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});

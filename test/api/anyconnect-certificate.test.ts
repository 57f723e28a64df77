/**
 * /api/v2/anyconnect/simulate and /resolve with certificate authentication (issue #18), over real
 * HTTP on a real database: a device enrolled over OTA and SCEP obtains its VPN identity certificate
 * from the SCEP payload of its certificate-authenticated VPN profile (test/helpers/vpn-identity.ts)
 * and presents it through the DeviceIdentityCertificates port (never its MDM certificate), and
 * the head-end checks it against mockiron's CA and the CRL that GET /api/v2/scep/crl serves.
 * OpenSSL judges the CRL (`openssl crl -inform DER -text`) and makes the certificate of another CA.
 *
 * Cisco: ASA command reference A-H, "authentication (tunnel-group webvpn-attributes)"
 * (aaa | certificate | aaa certificate); T-Z, "username-from-certificate"
 * (https://www.cisco.com/c/en/us/td/docs/security/asa/asa-cli-reference/T-Z/asa-command-ref-T-Z/u-commands.html);
 * DAP certificate attributes `endpoint.certificate.user["0"].subject_cn` (Cisco tech note 224470).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';
import { obtainVpnIdentity, type VpnIdentity } from '../helpers/vpn-identity.js';

let t: TestApp;
let device: TestDevice;
let identity: VpnIdentity;
let dir: string;
let outsideCaPem: string;
let outsideCertPem: string;
const api = '/api/v2/anyconnect';
const app = { appId: 'com.example.mail' };

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' });
  device = await enrolledDevice(t, 'jdoe');
  identity = await obtainVpnIdentity(t, device);
  const created = await t.admin
    .post(`${api}/tunnel-groups`)
    .send({ name: 'TG_cert', authentication: 'certificate', usernameFromCertificate: 'CN' });
  expect(created.status).toBe(201);
  // A CA mockiron knows nothing of, and a clientAuth certificate it issued
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-headend-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '5', '-subj', '/CN=Outside CA');
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'c.key', '-out', 'c.csr', '-subj', '/OU=Field/CN=outsider');
  writeFileSync(path.join(dir, 'ext.cnf'), 'extendedKeyUsage = clientAuth\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'c.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'c.pem',
  );
  outsideCaPem = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  outsideCertPem = readFileSync(path.join(dir, 'c.pem'), 'utf8');
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
  rmSync(dir, { recursive: true, force: true });
});

const simulate = (body: Record<string, unknown>) => t.admin.post(`${api}/simulate`).send({ tunnelGroup: 'TG_cert', app, ...body });

describe('simulate with certificate authentication', () => {
  it("the device's VPN identity certificate is accepted; the username is its CN and DAP sees its fields", async () => {
    const res = await simulate({ deviceUuid: device.deviceUuid });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const r = res.body.results;
    expect(r.refusal).toBeNull();
    expect(r.terminated).toBe(false);
    const cn = /CN=([^\n]+)/.exec(identity.certificate.subject)![1];
    expect(r.authentication).toMatchObject({
      method: 'certificate',
      certificate: 'passed',
      trustpoint: 'MOCKIRON_CA',
      username: cn,
      usernameSource: 'certificate',
      presentedCertificate: { serialNumber: identity.certificate.serialNumber.replace(/^0+/, '') },
    });
    expect(r.authentication.certificateAttributes['endpoint.certificate.user["0"].subject_cn']).toBe(cn);
    expect(r.reasons.join('\n')).toMatch(/revocation: the CRL of trustpoint MOCKIRON_CA \(signature verified/);
    expect(r.reasons.join('\n')).toMatch(/the device presents its newest identity certificate/);
  });

  it('a DAP record on the certificate fields selects the session', async () => {
    const cn = /CN=([^\n]+)/.exec(identity.certificate.subject)![1]!;
    const dap = await t.admin.post(`${api}/dap-records`).send({
      name: 'DAP_by_cert',
      priority: 7,
      endpointCriteria: [{ attribute: 'endpoint.certificate.user["0"].subject_cn', operator: 'EQ', value: cn }],
    });
    expect(dap.status, JSON.stringify(dap.body)).toBe(201);
    const r = (await t.admin.post(`${api}/resolve`).send({ tunnelGroup: 'TG_cert', clientCertificate: identity.certificate.toString() }))
      .body.results;
    expect(r.selectedDapRecords.map((d: { name: string }) => d.name)).toEqual(['DAP_by_cert']);
    expect((await t.admin.delete(`${api}/dap-records/${dap.body.results.id}`)).status).toBe(200);
  });

  it('missing: no certificate presented', async () => {
    const r = (await simulate({ platform: 'iOS' })).body.results;
    expect(r).toMatchObject({ tunneled: false, terminated: true, refusal: { code: 'missing' } });
    expect(r.reasons.at(-1)).toMatch(/refused the connection \(missing\)/);
  });

  it('untrusted-issuer: a certificate of another CA', async () => {
    const r = (await simulate({ platform: 'iOS', clientCertificate: outsideCertPem })).body.results;
    expect(r.refusal.code).toBe('untrusted-issuer');
  });

  it('expired: a certificate of our CA whose validity ended', async () => {
    const old = t.services.signing.ca!.issueKeyAndCertificate({
      subject: { commonName: 'old-device' },
      profile: 'device',
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2020-02-01T00:00:00Z'),
    });
    const r = (await simulate({ platform: 'iOS', clientCertificate: old.pem })).body.results;
    expect(r.refusal.code).toBe('expired');
  });

  it('an outside CA as a trustpoint accepts its certificates (and then mockiron CA is no longer implicit)', async () => {
    const put = await t.admin
      .put(`${api}/settings`)
      .send({ trustpoints: [{ name: 'OUTSIDE', caCertificate: outsideCaPem, revocationCheck: 'crl none' }] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.results.trustpoints).toEqual([{ name: 'OUTSIDE', caCertificate: outsideCaPem, revocationCheck: 'crl none' }]);
    const outsider = (await simulate({ platform: 'iOS', clientCertificate: outsideCertPem })).body.results;
    expect(outsider.authentication).toMatchObject({ certificate: 'passed', trustpoint: 'OUTSIDE', username: 'outsider' });
    expect((await simulate({ deviceUuid: device.deviceUuid })).body.results.refusal.code).toBe('untrusted-issuer');
    const asa = await t.admin.get(`${api}/asa-config`);
    expect(asa.text).toContain(
      'crypto ca trustpoint OUTSIDE\n enrollment terminal\n revocation-check crl none\ncrypto ca certificate chain OUTSIDE',
    );
    expect(asa.text).toContain('tunnel-group TG_cert webvpn-attributes\n authentication certificate');
    // the rendered CLI imports back to the same head-end (trustpoint chain, authentication, username-from-certificate)
    const before = (await t.admin.get(`${api}/headend`)).body.results.config;
    const imported = await t.admin.post(`${api}/asa-config/import`).set('Content-Type', 'text/plain').send(asa.text);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect((await t.admin.get(`${api}/headend`)).body.results.config).toEqual(before);
    expect(before.tunnelGroups).toContainEqual({
      name: 'TG_cert',
      defaultGroupPolicy: 'DfltGrpPolicy',
      authentication: 'certificate',
      usernameFromCertificate: { primary: 'CN' },
    });
    expect((await t.admin.put(`${api}/settings`).send({ trustpoints: [] })).status).toBe(200);
  });

  it('revoked: after POST /scep/certificates/{serial}/revoke the CRL lists it (openssl agrees) and simulate refuses', async () => {
    const serial = identity.certificate.serialNumber;
    expect((await t.admin.post(`/api/v2/scep/certificates/${serial}/revoke`)).status).toBe(200);
    const crl = await t.admin.get('/api/v2/scep/crl').buffer(true).parse(rawBody);
    writeFileSync(path.join(dir, 'mockiron.crl'), crl.body as Buffer);
    const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', 'mockiron.crl', '-noout', '-text'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(text).toContain(`Serial Number: ${serial}`);
    const r = (await simulate({ deviceUuid: device.deviceUuid })).body.results;
    expect(r).toMatchObject({ tunneled: false, refusal: { code: 'revoked' } });
    expect(r.refusal.message).toContain(serial.replace(/^0+/, ''));
  });
});

describe('hostile input answers 400 with the envelope, never 500', () => {
  it('oversized or garbage client certificates', async () => {
    const big = await simulate({ platform: 'iOS', clientCertificate: 'A'.repeat(20000) });
    expect(big.status).toBe(400);
    const garbage = await simulate({ platform: 'iOS', clientCertificate: 'hello' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.messages[0]).toMatchObject({
      messageKey: 'com.mockiron.messages.anyconnect.clientCertificate',
      field: 'clientCertificate',
    });
    const broken = await t.admin
      .post(`${api}/resolve`)
      .send({ tunnelGroup: 'TG_cert', clientCertificate: '-----BEGIN CERTIFICATE-----\nMIIBzz==\n-----END CERTIFICATE-----' });
    expect(broken.status).toBe(400);
    expect((await simulate({ platform: 'iOS', clientCertificate: 42 })).status).toBe(400);
  });

  it('tunnel groups and trustpoints', async () => {
    const bad = [
      { name: 'TG_x', authentication: 'password' },
      { name: 'TG_x', usernameFromCertificate: 'XX' },
      { name: 'TG_x', usernameFromCertificate: { primary: 'CN', tertiary: 'OU' } },
      { name: 'TG_x', usernameFromCertificate: 'CN OU O' },
    ];
    for (const body of bad) expect((await t.admin.post(`${api}/tunnel-groups`).send(body)).status, JSON.stringify(body)).toBe(400);
    const trustpoints = [
      [{ name: 'TP', caCertificate: 'not a pem' }],
      [{ name: 'TP', caCertificate: outsideCertPem.replace('MII', 'MIX') }],
      [{ name: 'TP', revocationCheck: 'ocsp' }],
      [{ name: 'has space' }],
      [{ name: 'TP' }, { name: 'TP' }],
      Array.from({ length: 17 }, (_, i) => ({ name: `TP${i}` })),
      [{ name: 'TP', caCertificate: 'x'.repeat(20000) }],
    ];
    for (const list of trustpoints) expect((await t.admin.put(`${api}/settings`).send({ trustpoints: list })).status).toBe(400);
    // a leaf certificate is no CA
    const leaf = await t.admin.put(`${api}/settings`).send({ trustpoints: [{ name: 'TP', caCertificate: outsideCertPem }] });
    expect(leaf.status).toBe(400);
    expect(leaf.body.messages[0].localizedMessage).toMatch(/not a CA certificate/);
    expect((await t.admin.get(`${api}/settings`)).body.results.trustpoints).toEqual([]);
  });

  it('needs credentials', async () => {
    const res = await t.anon.post(`${api}/simulate`).send({ tunnelGroup: 'TG_cert', platform: 'iOS', app });
    expect(res.status).toBe(401);
  });
});

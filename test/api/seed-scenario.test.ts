// The seed walkthrough end to end through the API: a per-app AnyConnect VPN and two apps on a
// manual label; an iPad on iOS 9.3.1 given the label gets a signed profile that OpenSSL
// verifies and that lints clean, and exactly Chrome and Microsoft RDP are bound to its VPNUUID.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlist } from '../../src/lib/plist/index.js';
import { hasErrors, lintProfile } from '../../src/lib/profiles/index.js';
import { loadProfileSchemas } from '../../src/profiles/index.js';
import { verifyCms } from '../../src/lib/pki/cms.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let device: string;
let vpnUuid: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' });
  ids.label = (await t.admin.post('/api/v2/labels').send({ name: 'vpndemo-external', static: true })).body.results.id;
  const vpn = await t.admin.post('/api/v2/configurations/vpn').send({
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    group: 'vpndemo-external',
    perApp: true,
    onDemandMatchAppEnabled: true,
    safariDomains: ['example.com', 'intranet.example.com'],
    username: '$USERID$',
    password: 'vpn-secret-1',
  });
  ids.vpn = vpn.body.results.id;
  vpnUuid = vpn.body.results.vpnUuid;
  await t.admin.put(`/api/v2/configurations/vpn/${ids.vpn}/labels/${ids.label}`);
  for (const [key, name, bundleId] of [
    ['chrome', 'Chrome', 'com.google.chrome.ios'],
    ['rdp', 'Microsoft RDP', 'com.microsoft.rdc.ios'],
    ['jump', 'Jump Desktop', 'com.p5sys.jumpdesktop'],
  ] as const) {
    ids[key] = (await t.admin.post('/api/v2/appstore/apps').send({ name, bundleId })).body.results.id;
  }
  await t.admin.put(`/api/v2/appstore/apps/${ids.chrome}/labels/${ids.label}`);
  await t.admin.put(`/api/v2/appstore/apps/${ids.rdp}/labels/${ids.label}`);
  device = (
    await t.admin
      .post('/api/v2/devices')
      .send({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1', deviceName: 'iPad Air', userId: 'jdoe' })
  ).body.results['common.uuid'];
  await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [device] });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('the seed scenario', () => {
  it("binds exactly Chrome and Microsoft RDP to the VPN's VPNUUID", async () => {
    const res = await t.admin.get(`/api/v2/devices/${device}/policy`);
    expect(res.status).toBe(200);
    const p = res.body.results;
    expect(p.labels.map((l: { name: string }) => l.name).sort()).toEqual(['All-Smartphones', 'iOS', 'vpndemo-external']);
    expect(p.vpnConfigurations).toEqual([expect.objectContaining({ id: ids.vpn, name: 'vpndemo-external', vpnUuid, perApp: true })]);
    expect(p.apps.map((a: { bundleId: string; vpnUuid: string | null }) => [a.bundleId, a.vpnUuid])).toEqual([
      ['com.google.chrome.ios', vpnUuid],
      ['com.microsoft.rdc.ios', vpnUuid],
    ]);
    expect(p.warnings).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain('vpn-secret-1');
  });

  it('serves a signed profile that openssl verifies against the served CA, and that lints clean', async () => {
    const ca = await t.anon.get('/api/v2/signing/ca.pem');
    expect(ca.status).toBe(200);
    const res = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn`).buffer(true).parse(rawBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-apple-aspen-config');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename=".*\.mobileconfig"$/);
    expect(res.headers.etag).toMatch(/^".+"$/);
    const dir = t.dataDir;
    writeFileSync(path.join(dir, 'ca.pem'), ca.text);
    writeFileSync(path.join(dir, 'vpn.mobileconfig'), res.body as Buffer);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        path.join(dir, 'vpn.mobileconfig'),
        '-CAfile',
        path.join(dir, 'ca.pem'),
        '-purpose',
        'any',
        '-out',
        path.join(dir, 'vpn.plist'),
      ],
      { stdio: 'pipe' },
    );
    const verified = verifyCms(res.body as Buffer, { trustAnchors: [ca.text] });
    expect(verified.trusted).toBe(true);
    const profile = parsePlist(verified.content) as Record<string, any>;
    const payload = profile.PayloadContent[0];
    expect(payload).toMatchObject({
      PayloadType: 'com.apple.vpn.managed.applayer',
      VPNUUID: vpnUuid,
      OnDemandMatchAppEnabled: true,
      SafariDomains: ['example.com', 'intranet.example.com'],
      VPNType: 'VPN',
      VPNSubType: 'com.cisco.anyconnect',
    });
    expect(payload.VPN).toMatchObject({ RemoteAddress: 'asa.example.com', AuthName: 'jdoe', AuthenticationMethod: 'Password' });
    expect(payload.VendorConfig).toMatchObject({ Group: 'vpndemo-external' });
    const findings = lintProfile(profile, loadProfileSchemas());
    expect(hasErrors(findings), JSON.stringify(findings)).toBe(false);
    // python's plistlib, an independent reader, loads it too
    execFileSync('python3', ['-c', 'import plistlib,sys; plistlib.load(open(sys.argv[1],"rb"))', path.join(dir, 'vpn.plist')]);
  });

  it('answers If-None-Match with 304 and serves the unsigned XML on request', async () => {
    const first = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn?signed=false`);
    expect(first.status).toBe(200);
    expect(first.text).toContain('<key>VPNUUID</key>');
    const again = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn?signed=false`).set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('changes the profile (and its ETag) when the VPN configuration changes, and never re-signs an unchanged one', async () => {
    const before = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn`).buffer(true).parse(rawBody);
    const same = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn`).buffer(true).parse(rawBody);
    expect(same.headers.etag).toBe(before.headers.etag);
    expect(Buffer.compare(same.body, before.body)).toBe(0); // cached signed bytes, same signingTime
    await t.admin.put(`/api/v2/configurations/vpn/${ids.vpn}`).send({ safariDomains: ['changed.example.com'] });
    const after = await t.admin.get(`/api/v2/devices/${device}/profiles/vpn?signed=false`);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.text).toContain('changed.example.com');
    await t.admin.put(`/api/v2/configurations/vpn/${ids.vpn}`).send({ safariDomains: ['example.com', 'intranet.example.com'] });
  });

  it('answers 404 for an unknown device, and a clear 404 for a device without VPN', async () => {
    expect((await t.admin.get('/api/v2/devices/00000000-0000-0000-0000-000000000000/profiles/vpn')).status).toBe(404);
    const other = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion: '17.0' })).body.results['common.uuid'];
    const res = await t.admin.get(`/api/v2/devices/${other}/profiles/vpn`);
    expect(res.status).toBe(404);
    expect(res.body.messages[0].localizedMessage).toMatch(/has no VPN configuration/);
  });

  it('drops the apps and the VPN when the label is removed from the device', async () => {
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/remove').send({ deviceUuids: [device] });
    const p = (await t.admin.get(`/api/v2/devices/${device}/policy`)).body.results;
    expect(p.vpnConfigurations).toEqual([]);
    expect(p.apps).toEqual([]);
    expect((await t.admin.get(`/api/v2/devices/${device}/profiles/vpn`)).status).toBe(404);
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [device] });
  });

  it('serves the trust anchor publicly, as PEM, DER and a signed trust profile', async () => {
    const der = await t.anon.get('/api/v2/signing/ca.der').buffer(true).parse(rawBody);
    expect(der.status).toBe(200);
    const trust = await t.anon.get('/api/v2/signing/trust.mobileconfig').buffer(true).parse(rawBody);
    const pem = (await t.anon.get('/api/v2/signing/ca.pem')).text;
    const content = parsePlist(verifyCms(trust.body as Buffer, { trustAnchors: [pem] }).content) as Record<string, any>;
    expect(content.PayloadContent[0].PayloadType).toBe('com.apple.security.root');
    expect(Buffer.from(content.PayloadContent[0].PayloadContent)).toEqual(Buffer.from(der.body));
    expect(pem).not.toMatch(/PRIVATE KEY/);
  });

  it('writes the signing keys with mode 0600', async () => {
    const { statSync, readdirSync } = await import('node:fs');
    const dir = path.join(t.dataDir, 'signing');
    const keys = readdirSync(dir).filter((f) => f.endsWith('.key.pem'));
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(statSync(path.join(dir, k)).mode & 0o777).toBe(0o600);
  });
});

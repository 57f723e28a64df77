// The MDM protocol end to end: an invitation, OTA enrollment, SCEP identity, check-in with
// real device messages, the seed scenario delivered as commands, admin actions, retirement.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import { verifyCms } from '../../src/lib/pki/cms.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let device: TestDevice;
let vpnUuid: string;
const ids: Record<string, number> = {};

async function invite(userId = 'jdoe') {
  const res = await t.admin.post('/api/v2/enrollments').send({ userId });
  expect(res.status).toBe(201);
  return res.body.results as { url: string; challenge: string; token: string };
}

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' });
  ids.label = (await t.admin.post('/api/v2/labels').send({ name: 'vpndemo-external', static: true })).body.results.id;
  const vpn = await t.admin.post('/api/v2/configurations/vpn').send({
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    perApp: true,
    safariDomains: ['example.com'],
  });
  ids.vpn = vpn.body.results.id;
  vpnUuid = vpn.body.results.vpnUuid;
  await t.admin.put(`/api/v2/configurations/vpn/${ids.vpn}/labels/${ids.label}`);
  for (const [k, name, bundleId, store] of [
    ['chrome', 'Chrome', 'com.google.chrome.ios', '535886823'],
    ['rdp', 'Microsoft RDP', 'com.microsoft.rdc.ios', '714464092'],
    ['jump', 'Jump Desktop', 'com.p5sys.jumpdesktop', null],
  ] as const) {
    ids[k] = (
      await t.admin.post('/api/v2/appstore/apps').send({ name, bundleId, ...(store ? { iTunesStoreId: store } : {}) })
    ).body.results.id;
  }
  await t.admin.put(`/api/v2/appstore/apps/${ids.chrome}/labels/${ids.label}`);
  await t.admin.put(`/api/v2/appstore/apps/${ids.rdp}/labels/${ids.label}`);
  device = new TestDevice(t.app);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('enrollment', () => {
  it('creates an invitation with a URL and a one-time challenge that lists never show', async () => {
    const inv = await invite();
    expect(inv.url).toMatch(/\/ota\/enroll\?token=/);
    expect(inv.challenge).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const list = await t.admin.get('/api/v2/enrollments');
    expect(JSON.stringify(list.body)).not.toContain(inv.challenge);
    expect(JSON.stringify(list.body)).not.toContain(inv.token);
    const audit = await t.admin.get('/api/v2/audit?objectType=enrollment');
    expect(JSON.stringify(audit.body)).not.toContain(inv.challenge);
  });

  it('enrolls over the air: Profile Service, signed enrollment profile with CA, SCEP and com.apple.mdm', async () => {
    const inv = await invite();
    const profile = await device.enroll(inv.url);
    const types = (profile.PayloadContent as PlistDict[]).map((p) => p.PayloadType);
    expect(types).toEqual(['com.apple.security.root', 'com.apple.security.scep', 'com.apple.mdm']);
    const mdm = (profile.PayloadContent as PlistDict[])[2]!;
    expect(mdm).toMatchObject({ SignMessage: true, CheckOutWhenRemoved: true, Topic: expect.any(String) });
    expect(mdm.ServerURL).toMatch(/\/mdm\/connect$/);
    expect(mdm.CheckInURL).toMatch(/\/mdm\/checkin$/);
    expect(mdm.IdentityCertificateUUID).toBe((profile.PayloadContent as PlistDict[])[1]!.PayloadUUID);
    expect(device.certificate).toBeDefined();
    // the SCEP-issued identity chains to our CA
    expect(device.certificate.checkIssued(new (await import('node:crypto')).X509Certificate(device.caPem))).toBe(true);
    // the device record exists, pending verification, with the attributes it sent
    const found = await t.admin.get('/api/v2/devices').query({
      query: `"ios.iPhone UDID" = "${device.udid}"`,
      fields: 'common.uuid,common.status,common.model,common.os_version,user.user_id',
    });
    expect(found.body.results[0]).toMatchObject({
      'common.status': 'VERIFICATION_PENDING',
      'common.model': 'iPad4,1',
      'common.os_version': '9.3.1',
      'user.user_id': 'jdoe',
    });
    device.deviceUuid = found.body.results[0]['common.uuid'];
  });

  it('refuses a replayed OTA challenge and garbage CMS', async () => {
    const inv = await invite();
    const other = new TestDevice(t.app);
    await other.enroll(inv.url);
    const phase1 = new URL(inv.url);
    expect(phase1).toBeDefined();
    // the same challenge again
    const replay = await other.postOta(
      '/ota/profile',
      Buffer.from(
        `<?xml version="1.0"?><plist version="1.0"><dict><key>UDID</key><string>${'a'.repeat(40)}</string><key>CHALLENGE</key><string>${inv.challenge}</string></dict></plist>`,
      ),
    );
    expect(replay.status).toBe(403);
    const garbage = await t.anon.post('/ota/profile').set('content-type', 'application/pkcs7-signature').send(Buffer.from('not cms'));
    expect(garbage.status).toBe(400);
    const usedToken = await t.anon.get(`/ota/enroll?token=${inv.token}`);
    expect(usedToken.status).toBe(410);
  });
});

describe('check-in and commands', () => {
  it('accepts Authenticate and TokenUpdate; the device becomes ACTIVE', async () => {
    expect((await device.authenticate()).status).toBe(200);
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [device.deviceUuid] });
    expect((await device.tokenUpdate()).status).toBe(200);
    const d = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/details`);
    expect(d.body.results).toContainEqual({ name: 'common.status', value: 'ACTIVE' });
  });

  it('delivers the seed scenario: a signed per-app VPN profile and Chrome and RDP bound to its VPNUUID', async () => {
    const commands = await device.drain();
    const types = commands.map((c) => (c.Command as PlistDict).RequestType);
    expect(types.sort()).toEqual(['InstallApplication', 'InstallApplication', 'InstallProfile']);
    const install = commands.find((c) => (c.Command as PlistDict).RequestType === 'InstallProfile')!;
    const signed = Buffer.from((install.Command as PlistDict).Payload as Uint8Array);
    const file = path.join(t.dataDir, 'installed.mobileconfig');
    writeFileSync(file, signed);
    writeFileSync(path.join(t.dataDir, 'ca.pem'), device.caPem);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        file,
        '-CAfile',
        path.join(t.dataDir, 'ca.pem'),
        '-purpose',
        'any',
        '-out',
        path.join(t.dataDir, 'installed.plist'),
      ],
      { stdio: 'pipe' },
    );
    const profile = parsePlist(verifyCms(signed, { trustAnchors: [device.caPem] }).content) as PlistDict;
    expect((profile.PayloadContent as PlistDict[])[0]).toMatchObject({ PayloadType: 'com.apple.vpn.managed.applayer', VPNUUID: vpnUuid });
    const apps = commands
      .filter((c) => (c.Command as PlistDict).RequestType === 'InstallApplication')
      .map((c) => c.Command as PlistDict)
      .map((c) => [c.iTunesStoreID, (c.Attributes as PlistDict).VPNUUID]);
    expect(apps.sort()).toEqual([
      [535886823, vpnUuid],
      [714464092, vpnUuid],
    ]);
    // the queue shows them acknowledged, and nothing is queued twice
    const queue = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands`);
    expect(queue.body.results.map((c: { status: string }) => c.status)).toEqual(['Acknowledged', 'Acknowledged', 'Acknowledged']);
    expect((await device.connect()).command).toBeNull();
  });

  it('rebinds an installed app with Settings when its VPN changes, and removes everything when the label goes', async () => {
    const other = await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'second', connectionType: 'ANYCONNECT', server: 'asa2.example.com', perApp: true });
    await t.admin.put(`/api/v2/appstore/apps/${ids.rdp}`).send({ perAppVpnConfigId: other.body.results.id });
    await t.admin.put(`/api/v2/configurations/vpn/${other.body.results.id}/labels/${ids.label}`);
    const rebind = await device.drain();
    const settings = rebind.find((c) => (c.Command as PlistDict).RequestType === 'Settings')!;
    expect(((settings.Command as PlistDict).Settings as PlistDict[])[0]).toMatchObject({
      Item: 'ApplicationAttributes',
      Identifier: 'com.microsoft.rdc.ios',
      Attributes: { VPNUUID: other.body.results.vpnUuid },
    });
    expect(rebind.some((c) => (c.Command as PlistDict).RequestType === 'InstallProfile')).toBe(true); // the profile now has two VPNs
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/remove').send({ deviceUuids: [device.deviceUuid] });
    const removals = (await device.drain()).map((c) => c.Command as PlistDict);
    expect(removals.map((c) => c.RequestType).sort()).toEqual(['RemoveApplication', 'RemoveApplication', 'RemoveProfile']);
    expect(removals.find((c) => c.RequestType === 'RemoveProfile')!.Identifier).toBe(`com.mockiron.vpn.${device.deviceUuid}`);
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [device.deviceUuid] });
    expect((await device.drain()).length).toBe(3);
  });

  it('retries NotNow on the next Idle and never loses a command', async () => {
    const q = await t.admin
      .post(`/api/v2/devices/${device.deviceUuid}/commands`)
      .send({ RequestType: 'DeviceInformation', Queries: ['OSVersion', 'ProductName'] });
    expect(q.status).toBe(201);
    const first = await device.connect();
    expect(first.command!.CommandUUID).toBe(q.body.results.commandUuid);
    const after = await device.connect({ CommandUUID: first.command!.CommandUUID as string, Status: 'NotNow' });
    expect(after.command).toBeNull();
    const again = await device.connect();
    expect(again.command!.CommandUUID).toBe(q.body.results.commandUuid);
    await device.connect({
      CommandUUID: again.command!.CommandUUID as string,
      Status: 'Acknowledged',
      QueryResponses: { OSVersion: '9.3.5', ProductName: 'iPad4,1' },
    });
    const details = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/details`);
    expect(details.body.results).toContainEqual({ name: 'common.os_version', value: '9.3.5' });
  });

  it('cancels a queued command', async () => {
    const q = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send({ RequestType: 'ProfileList' });
    const del = await t.admin.delete(`/api/v2/devices/${device.deviceUuid}/commands/${q.body.results.commandUuid}`);
    expect(del.status).toBe(200);
    expect((await device.connect()).command).toBeNull();
    expect((await t.admin.delete(`/api/v2/devices/${device.deviceUuid}/commands/${q.body.results.commandUuid}`)).status).toBe(409);
  });

  it('rejects bad device input with 4xx and corrupts nothing', async () => {
    const tampered = await device.checkin(
      { MessageType: 'TokenUpdate', Topic: 't', Token: Buffer.alloc(32), PushMagic: 'x' },
      { tamper: true },
    );
    expect(tampered.status).toBe(401);
    const unsigned = await t.anon
      .put('/mdm/connect')
      .set('content-type', 'application/x-apple-aspen-mdm')
      .send(Buffer.from('<plist><dict><key>UDID</key><string>x</string><key>Status</key><string>Idle</string></dict></plist>'));
    expect(unsigned.status).toBe(401);
    // The signature is checked before the body is read: unsigned garbage is a 401, signed garbage a 400
    const malformed = await t.anon
      .put('/mdm/checkin')
      .set('content-type', 'application/x-apple-aspen-mdm-checkin')
      .send(Buffer.from('{"not":"a plist"}'));
    expect(malformed.status).toBe(401);
    const garbage = Buffer.from('{"not":"a plist"}');
    const signedMalformed = await t.anon
      .put('/mdm/checkin')
      .set('content-type', 'application/x-apple-aspen-mdm-checkin')
      .set('Mdm-Signature', signMdmRequest(garbage, { privateKey: device.key, certificate: device.certificate }))
      .send(garbage);
    expect(signedMalformed.status).toBe(400);
    const unknownCommand = await device.connect({ CommandUUID: '11111111-2222-3333-4444-555555555555', Status: 'Acknowledged' });
    expect(unknownCommand.status).toBe(400);
    const forUnknownDevice = await t.admin
      .post('/api/v2/devices/00000000-0000-0000-0000-000000000000/commands')
      .send({ RequestType: 'ProfileList' });
    expect(forUnknownDevice.status).toBe(404);
    const badCommand = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send({ RequestType: 'InstallProfile' });
    expect(badCommand.status).toBe(400);
    const d = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/details`);
    expect(d.body.results).toContainEqual({ name: 'common.status', value: 'ACTIVE' });
  });

  it('accepts every real iOS check-in and result message (signed by the test identity)', async () => {
    const root = 'test/fixtures/device-messages';
    const files = [
      ...readdirSync(`${root}/commandment`, { recursive: true }).map((f) => `${root}/commandment/${f}`),
      ...readdirSync(`${root}/nanomdm`).map((f) => `${root}/nanomdm/${f}`),
    ].filter((f) => /\.(xml|plist)$/.test(f) && !/macOS|10\.1\d|10\.11|-user/.test(f));
    let checkins = 0;
    let results = 0;
    for (const file of files) {
      let dict: PlistDict;
      try {
        dict = parsePlist(readFileSync(file)) as PlistDict;
      } catch {
        continue; // placeholder <data> in a few fixtures: covered by the protocol unit tests
      }
      if (typeof dict.MessageType === 'string') {
        if (dict.MessageType === 'CheckOut') continue; // retires the device: done last, below
        const res = await device.checkin({ ...dict, UDID: device.udid });
        expect(res.status, file).toBe(200);
        checkins++;
      } else if (typeof dict.Status === 'string' && dict.Status !== 'Idle') {
        const requestType = typeof dict.RequestType === 'string' ? dict.RequestType : path.basename(path.dirname(file));
        const q = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send({
          RequestType:
            /^[A-Za-z]+$/.test(requestType) && requestType !== 'Errors' && requestType !== 'NotNow' ? requestType : 'ProfileList',
        });
        const sent = await device.connect();
        expect(sent.command, file).not.toBeNull();
        const res = await device.connect({ ...dict, UDID: device.udid, CommandUUID: sent.command!.CommandUUID as string });
        expect(res.status, file).toBe(200);
        if (dict.Status === 'NotNow') await device.drain();
        void q;
        results++;
      }
    }
    expect(checkins).toBeGreaterThanOrEqual(4);
    expect(results).toBeGreaterThanOrEqual(10);
    await device.drain();
  });
});

describe('actions', () => {
  it('locks, wakes up (recorded push) and reports per-device results in Core shape', async () => {
    const lock = await t.admin
      .post('/api/v2/devices/action?actionType=LOCK')
      .send({ deviceUuids: [device.deviceUuid, '99999999-9999-9999-9999-999999999999'], message: 'Call IT' });
    expect(lock.status).toBe(200);
    expect(lock.body.results[0]).toMatchObject({ deviceUuid: device.deviceUuid, status: 'SUCCESS' });
    expect(lock.body.results[1]).toMatchObject({ status: 'FAILED' });
    const cmds = await device.drain();
    expect(cmds.map((c) => (c.Command as PlistDict).RequestType)).toContain('DeviceLock');
    const wake = await t.admin.put('/api/v2/devices/wakeup').send({ deviceUuids: [device.deviceUuid], note: 'poke' });
    expect(wake.body.results[0].message).toMatch(/push recorded/);
    expect((await t.admin.post('/api/v2/devices/action?actionType=EXPLODE').send({ deviceUuids: [device.deviceUuid] })).status).toBe(400);
  });

  it('retires: profiles removed, then the MDM profile; the device is RETIRED and its identity no longer accepted', async () => {
    const res = await t.admin.put('/api/v2/devices/retire').send({ deviceUuids: [device.deviceUuid], note: 'left the company' });
    expect(res.body.results[0].status).toBe('SUCCESS');
    const cmds = (await device.drain()).map((c) => c.Command as PlistDict);
    expect(cmds.at(-1)).toMatchObject({ RequestType: 'RemoveProfile', Identifier: `com.mockiron.mdm.${device.deviceUuid}` });
    const d = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/details`);
    expect(d.body.results).toContainEqual({ name: 'common.status', value: 'RETIRED' });
    expect((await device.connect()).status).toBe(401);
  });
});

describe('durability', () => {
  it('keeps queued commands across a restart', async () => {
    const inv = await invite();
    const d2 = new TestDevice(t.app, 'iPhone8,1', '10.3.3');
    await d2.enroll(inv.url);
    await d2.authenticate();
    await d2.tokenUpdate();
    await d2.drain();
    const uuid = (await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d2.udid}"`, fields: 'common.uuid' })).body
      .results[0]['common.uuid'];
    const q = await t.admin.post(`/api/v2/devices/${uuid}/commands`).send({ RequestType: 'SecurityInfo' });
    await t.close();
    t = await startTestApp({ dataDir: t.dataDir });
    const restarted = new TestDevice(t.app);
    Object.assign(restarted, { udid: d2.udid, key: d2.key, certificate: d2.certificate });
    const next = await restarted.connect();
    expect(next.command!.CommandUUID).toBe(q.body.results.commandUuid);
  });
});

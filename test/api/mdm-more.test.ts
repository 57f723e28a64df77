// More of the device side: PKCS#12 identities, wipe, pushes visible in details, a client
// certificate forwarded by a TLS proxy, and oversized device bodies.
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { MOCKIRON_CLIENT_CERT_HEADER: 'X-Client-Cert' } });
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe' });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

async function enrolledDevice(identity: 'scep' | 'pkcs12' = 'scep', userId = 'jdoe') {
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId, identity })).body.results;
  const d = new TestDevice(t.app);
  const profile = await d.enroll(inv.url);
  if (identity === 'pkcs12') {
    const p12 = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.pkcs12')!;
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(p12.PayloadContent as Uint8Array).toString('binary')));
    const parsed = forge.pkcs12.pkcs12FromAsn1(asn1, p12.Password as string);
    const keyBag = forge.pki.oids.pkcs8ShroudedKeyBag!;
    const certBag = forge.pki.oids.certBag!;
    const key = parsed.getBags({ bagType: keyBag })[keyBag]![0]!.key!;
    const certs = parsed.getBags({ bagType: certBag })[certBag]!.map((b) => new X509Certificate(forge.pki.certificateToPem(b.cert!)));
    const { createPrivateKey } = await import('node:crypto');
    d.key = createPrivateKey(forge.pki.privateKeyToPem(key));
    d.certificate = certs.find((c) => !c.ca)!;
  }
  expect((await d.authenticate()).status).toBe(200);
  expect((await d.tokenUpdate()).status).toBe(200);
  d.deviceUuid = (
    await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' })
  ).body.results[0]['common.uuid'];
  return d;
}

describe('device identities', () => {
  it('enrolls with a server-made PKCS#12 identity (for tools that cannot do SCEP)', async () => {
    const d = await enrolledDevice('pkcs12');
    const details = await t.admin.get(`/api/v2/devices/${d.deviceUuid}/details`);
    expect(details.body.results).toContainEqual({ name: 'common.status', value: 'ACTIVE' });
    const certs = await t.admin.get('/api/v2/scep/certificates').query({ deviceUuid: d.deviceUuid });
    expect(certs.body.results[0]).toMatchObject({ source: 'pkcs12', revoked: false });
    expect(JSON.stringify(certs.body)).not.toMatch(/PRIVATE KEY/);
  });

  it('accepts a client certificate forwarded by a TLS proxy instead of Mdm-Signature', async () => {
    const d = await enrolledDevice();
    const { toXmlPlist } = await import('../../src/lib/plist/index.js');
    const body = Buffer.from(toXmlPlist({ UDID: d.udid, Status: 'Idle' }));
    const ok = await t.anon.put('/mdm/connect').set('X-Client-Cert', encodeURIComponent(d.certificate.toString())).send(body);
    expect(ok.status).toBe(200);
    const foreign = (await import('../../src/signing/identity.js')).CertificateAuthority.create().issueKeyAndCertificate({
      subject: { commonName: 'x' },
      profile: 'device',
    });
    const bad = await t.anon.put('/mdm/connect').set('X-Client-Cert', encodeURIComponent(foreign.pem)).send(body);
    expect(bad.status).toBe(401);
  });
});

describe('what authentication and the queue remember between polls', () => {
  // A polling device is answered from memory (its certificate's device, an empty queue); these
  // check that the memory follows every change made meanwhile.
  it('a device deleted by an admin is refused on its next poll', async () => {
    const d = await enrolledDevice();
    await d.drain();
    expect((await d.connect()).status).toBe(200);
    expect((await t.admin.delete(`/api/v2/devices/${d.deviceUuid}`)).status).toBeLessThan(300);
    const res = await d.connect();
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/no longer exists|not bound/);
  });

  it('a certificate revoked by an admin is refused on the next poll', async () => {
    const d = await enrolledDevice();
    await d.drain();
    expect((await d.connect()).status).toBe(200);
    const serial = (await t.admin.get('/api/v2/scep/certificates').query({ deviceUuid: d.deviceUuid })).body.results[0].serialNumber;
    expect((await t.admin.post(`/api/v2/scep/certificates/${serial}/revoke`)).status).toBe(200);
    const res = await d.connect();
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/revoked/);
  });

  it('a command queued after polls that found an empty queue is delivered on the next poll, once', async () => {
    const d = await enrolledDevice();
    await d.drain();
    for (let i = 0; i < 3; i++) expect((await d.connect()).command).toBeNull();
    const queued = await t.admin
      .post(`/api/v2/devices/${d.deviceUuid}/commands`)
      .send({ RequestType: 'DeviceInformation', Queries: ['OSVersion'] });
    expect(queued.status).toBe(201);
    const first = await d.connect();
    expect(first.command?.CommandUUID).toBe(queued.body.results.commandUuid);
    const answered = await d.connect({
      Status: 'Acknowledged',
      CommandUUID: queued.body.results.commandUuid,
      QueryResponses: { OSVersion: '17.5' },
    });
    expect(answered.command).toBeNull();
    expect((await d.connect()).command).toBeNull();
  });
});

describe('UnlockToken', () => {
  it('is stored encrypted, never shown, and cleared into ClearPasscode for UNLOCK_DEVICE_ONLY', async () => {
    const d = await enrolledDevice();
    const token = Buffer.from('unlock-token-of-this-test-0123456789');
    expect(
      (
        await d.checkin({
          MessageType: 'TokenUpdate',
          Topic: 'com.apple.mgmt.External.mockiron',
          Token: Buffer.alloc(32, 7),
          PushMagic: 'push-magic-2',
          UnlockToken: token,
        })
      ).status,
    ).toBe(200);
    await d.drain();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(`${t.dataDir}/mockiron.db`, { readonly: true });
    const stored = (db.prepare('SELECT unlockToken FROM Device WHERE uuid = ?').get(d.deviceUuid) as { unlockToken: string }).unlockToken;
    db.close();
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain(token.toString('base64'));
    const details = await t.admin.get(`/api/v2/devices/${d.deviceUuid}/details`);
    expect(JSON.stringify(details.body)).not.toContain(token.toString('base64'));
    const res = await t.admin
      .post('/api/v2/devices/action')
      .query({ actionType: 'UNLOCK_DEVICE_ONLY' })
      .send({ deviceUuids: [d.deviceUuid] });
    expect(res.body.results[0]).toMatchObject({ status: 'SUCCESS' });
    const [cmd] = await d.drain();
    expect((cmd!.Command as PlistDict).RequestType).toBe('ClearPasscode');
    expect(Buffer.from((cmd!.Command as PlistDict).UnlockToken as Uint8Array).equals(token)).toBe(true);
  });
});

describe('user changes', () => {
  it("a user's new email reaches that user's device through a filter label on user.email_address", async () => {
    await t.admin.post('/api/v2/users').send({ userId: 'mover', email: 'mover@old.test' });
    const d = await enrolledDevice('scep', 'mover');
    await d.drain();
    const label = (
      await t.admin
        .post('/api/v2/labels')
        .send({ name: 'new-domain users', static: false, criteria: 'user.email_address contains "@new.test"' })
    ).body.results.id;
    const vpn = (
      await t.admin
        .post('/api/v2/configurations/vpn')
        .send({ name: 'vpn for movers', connectionType: 'ANYCONNECT', server: 'asa.example.com', perApp: true })
    ).body.results.id;
    expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn}/labels/${label}`)).status).toBeLessThan(300);
    // The label change reconciles the fleet: nothing for this device yet.
    await new Promise((r) => setTimeout(r, 700));
    expect((await d.drain()).length).toBe(0);
    expect((await t.admin.put('/api/v2/users/mover').send({ email: 'mover@new.test' })).status).toBe(200);
    const commands = await d.drain();
    expect(commands.map((c) => (c.Command as PlistDict).RequestType)).toEqual(['InstallProfile']);
  });
});

describe('wipe and pushes', () => {
  it('wipes: EraseDevice, then WIPED with the identity revoked; the push is visible in details', async () => {
    const d = await enrolledDevice();
    await d.drain();
    const res = await t.admin.put('/api/v2/devices/wipe').send({ deviceUuids: [d.deviceUuid], note: 'stolen' });
    expect(res.body.results[0]).toMatchObject({ status: 'SUCCESS', message: expect.stringMatching(/push recorded/) });
    const details = (await t.admin.get(`/api/v2/devices/${d.deviceUuid}/details`)).body.results;
    expect(details).toContainEqual({ name: 'mdm.last_push_reason', value: 'wipe' });
    expect(details).toContainEqual({ name: 'mdm.queued_commands', value: '1' });
    expect(JSON.stringify(details)).not.toMatch(/push-magic-1/);
    const pushes = await t.admin.get(`/api/v2/devices/${d.deviceUuid}/pushes`);
    expect(pushes.body.results[0]).toMatchObject({ reason: 'wipe', provider: 'recording', outcome: 'recorded' });
    const cmds = await d.drain();
    expect(cmds.map((c) => (c.Command as PlistDict).RequestType)).toEqual(['EraseDevice']);
    const after = (await t.admin.get(`/api/v2/devices/${d.deviceUuid}/details`)).body.results;
    expect(after).toContainEqual({ name: 'common.status', value: 'WIPED' });
    expect((await d.connect()).status).toBe(401);
    const again = await t.admin.put('/api/v2/devices/wipe').send({ deviceUuids: [d.deviceUuid] });
    expect(again.body.results[0].status).toBe('FAILED');
  });

  it('refuses giant device bodies with 413 and nothing changes', async () => {
    const res = await t.anon
      .put('/mdm/checkin')
      .set('content-type', 'application/x-apple-aspen-mdm-checkin')
      .send(Buffer.alloc(3 * 1024 * 1024, 0x41));
    expect(res.status).toBe(413);
  });
});

// A profile the server refuses to build (a certificate-authenticated VPN stored by a version before
// certificate enrollment settings, so naming none) is an error for the admin who asks for it, and only a logged refusal for reconciliation: the device keeps being
// served, without that profile. The refusal crosses from the profile service into mdm as a
// DomainError (the one error model), so this guards the seam between them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe' });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('a VPN profile the server cannot build', () => {
  it('answers 409 to the admin and keeps the device served, without the profile', async () => {
    const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'jdoe' })).body.results;
    const d = new TestDevice(t.app);
    await d.enroll(inv.url);
    expect((await d.authenticate()).status).toBe(200);
    expect((await d.tokenUpdate()).status).toBe(200);
    const uuid = (await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' })).body
      .results[0]['common.uuid'];
    await d.drain();

    const label = (await t.admin.post('/api/v2/labels').send({ name: 'cert-vpn', static: true })).body.results;
    expect((await t.admin.put('/api/v2/devices/labels/cert-vpn/add').send({ deviceUuids: [uuid] })).status).toBe(200);
    const vpn = await t.admin.post('/api/v2/configurations/vpn').send({
      name: 'cert-vpn',
      connectionType: 'ANYCONNECT',
      server: 'asa.example.com',
      userAuthentication: 'CERTIFICATE',
    });
    // The API requires the setting now; older versions stored such a row without one
    expect(vpn.status).toBe(400);
    const legacy = await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'cert-vpn', connectionType: 'ANYCONNECT', server: 'asa.example.com' });
    expect(legacy.status).toBe(201);
    await t.services.db.vpnConfiguration.update({ where: { id: legacy.body.results.id }, data: { userAuthentication: 'CERTIFICATE' } });
    vpn.body = legacy.body;
    expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${label.id}`)).status).toBe(200);

    const asked = await t.admin.get(`/api/v2/devices/${uuid}/profiles/vpn`);
    expect(asked.status).toBe(409);
    expect(asked.body.messages[0]).toMatchObject({
      messageKey: 'com.mockiron.messages.profile.certificateAuth',
      localizedMessage: expect.stringMatching(/^VPN configuration cert-vpn uses certificate authentication/),
    });

    const device = await t.services.db.device.findUniqueOrThrow({ where: { uuid } });
    await expect(t.services.mdm.reconcile(device.id)).resolves.toBeTypeOf('number');
    const served = await d.drain();
    expect(served.map((c) => (c.Command as { RequestType: string }).RequestType)).not.toContain('InstallProfile');
    expect((await d.connect()).status).toBe(200);
  });
});

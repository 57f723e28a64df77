import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com', displayName: 'Jane Doe' });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const ipad = {
  platform: 'iOS',
  osVersion: '9.3.1',
  model: 'iPad4,1',
  deviceName: 'Jane iPad',
  serialNumber: 'DMPK12345',
  udid: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  owner: 'COMPANY',
  userId: 'jdoe',
};

describe('devices', () => {
  let uuid: string;
  it('registers a device, VERIFICATION_PENDING, in Core field names', async () => {
    const res = await t.admin.post('/api/v2/devices').send(ipad);
    expect(res.status).toBe(201);
    uuid = res.body.results['common.uuid'];
    expect(res.body.results).toMatchObject({
      'common.platform': 'iOS',
      'common.os_version': '9.3.1',
      'common.model': 'iPad4,1',
      'common.status': 'VERIFICATION_PENDING',
      'ios.DeviceName': 'Jane iPad',
      'ios.iPhone UDID': ipad.udid,
      'user.user_id': 'jdoe',
      'common.SerialNumber': 'DMPK12345',
    });
  });

  it('refuses a second device with the same UDID (409) and an unknown user (400)', async () => {
    expect((await t.admin.post('/api/v2/devices').send(ipad)).status).toBe(409);
    const res = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', userId: 'ghost' });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].field).toBe('userId');
  });

  it('projects list results with fields=', async () => {
    const res = await t.admin.get('/api/v2/devices?fields=common.uuid,common.model,user.user_id');
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ 'common.uuid': uuid, 'common.model': 'iPad4,1', 'user.user_id': 'jdoe' });
  });

  it('returns details as name/value pairs', async () => {
    const res = await t.admin.get(`/api/v2/devices/${uuid}/details`);
    expect(res.status).toBe(200);
    expect(res.body.results).toContainEqual({ name: 'common.os_version', value: '9.3.1' });
    expect(res.body.results).toContainEqual({ name: 'user.email_address', value: 'jdoe@example.com' });
  });

  it('puts every device in All-Smartphones and iOS devices in the iOS system label', async () => {
    const res = await t.admin.get(`/api/v2/devices/${uuid}/labels`);
    expect(res.body.results.map((l: { name: string }) => l.name).sort()).toEqual(['All-Smartphones', 'iOS']);
  });

  it('answers 404 for an unknown device', async () => {
    expect((await t.admin.get('/api/v2/devices/00000000-0000-0000-0000-000000000000/details')).status).toBe(404);
  });

  it('bulk-registers from CSV with manual labels', async () => {
    await t.admin.post('/api/v2/labels').send({ name: 'bulk-label', static: true });
    const csv = [
      'userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels',
      // a model with a comma is quoted, as CSV requires
      'jdoe,iOS,COMPANY,SER001,1111111111111111111111111111111111111111,,"iPad4,1",9.3.1,Bulk one,bulk-label',
      ',Android,EMPLOYEE,SER002,,356938035643809,Pixel 8,14,Bulk two,',
    ].join('\n');
    const res = await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv);
    expect(res.status).toBe(201);
    expect(res.body.totalCount).toBe(2);
    const inLabel = await t.admin.get('/api/v2/devices?fields=common.SerialNumber&labelId=' + (await labelId('bulk-label')));
    expect(inLabel.body.results).toEqual([{ 'common.SerialNumber': 'SER001' }]);
  });

  it('rejects a CSV with a bad row entirely, naming the row', async () => {
    const before = (await t.admin.get('/api/v2/devices/count')).body.results.totalCount;
    const csv = [
      'userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels',
      ',iOS,COMPANY,OK001,,,iPhone,17.1,Fine,',
      ',Windows,COMPANY,BAD001,,,x,1,Bad,',
      ',iOS,COMPANY,BAD002,,,iPhone,17.1,Bad label,no-such-label',
    ].join('\n');
    const res = await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv);
    expect(res.status).toBe(400);
    expect(res.body.messages[0].localizedMessage).toMatch(/^row 3: platform/);
    expect((await t.admin.get('/api/v2/devices/count')).body.results.totalCount).toBe(before);
    // label problems are found in the transaction and roll everything back too
    const csv2 = csv
      .split('\n')
      .filter((_, i) => i !== 2)
      .join('\n');
    const res2 = await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send(csv2);
    expect(res2.status).toBe(400);
    expect(res2.body.messages[0].localizedMessage).toMatch(/^row 3: .*no label named no-such-label/);
    expect((await t.admin.get('/api/v2/devices/count')).body.results.totalCount).toBe(before);
  });

  it('deletes a device and its label memberships', async () => {
    const d = await t.admin.post('/api/v2/devices').send({ platform: 'Android', serialNumber: 'GONE1' });
    const id = d.body.results['common.uuid'];
    await t.admin.put('/api/v2/devices/labels/bulk-label/add').send({ deviceUuids: [id] });
    expect((await t.admin.delete(`/api/v2/devices/${id}`)).status).toBe(200);
    expect((await t.admin.get(`/api/v2/devices/${id}/details`)).status).toBe(404);
    const label = await t.admin.get(`/api/v2/labels/${await labelId('bulk-label')}`);
    expect(label.body.results.deviceCount).toBe(1);
  });
});

async function labelId(name: string): Promise<number> {
  const res = await t.admin.get('/api/v2/labels/label_summary?limit=200');
  return res.body.results.find((l: { name: string }) => l.name === name).id;
}

describe('manual and system labels', () => {
  it('has the system labels from the first start, undeletable', async () => {
    const res = await t.admin.get('/api/v2/labels/label_summary');
    const names = res.body.results.map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(['All-Smartphones', 'iOS', 'Android']));
    const del = await t.admin.delete('/api/v2/labels').send({ labelIds: [await labelId('iOS')], reason: 'try' });
    expect(del.status).toBe(409);
  });

  it('keeps names unique case-insensitively', async () => {
    expect((await t.admin.post('/api/v2/labels').send({ name: 'vpndemo-external', static: true })).status).toBe(201);
    const dup = await t.admin.post('/api/v2/labels').send({ name: 'VPNDemo-External', static: true });
    expect(dup.status).toBe(409);
  });

  it('applies and removes a manual label by name with per-device results', async () => {
    const d = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPad4,1', osVersion: '9.3.1' });
    const id = d.body.results['common.uuid'];
    const add = await t.admin
      .put('/api/v2/devices/labels/vpndemo-external/add')
      .send({ deviceUuids: [id, '99999999-9999-9999-9999-999999999999'] });
    expect(add.status).toBe(200);
    expect(add.body).toEqual({
      successful: false,
      results: {
        records: [
          { label: 'vpndemo-external', device: { uuid: id, status: 'SUCCESS', message: expect.any(String), failureCode: null } },
          {
            label: 'vpndemo-external',
            device: {
              uuid: '99999999-9999-9999-9999-999999999999',
              status: 'FAILED',
              message: expect.stringMatching(/not found/),
              failureCode: 'DEVICE_NOT_FOUND',
            },
          },
        ],
      },
    });
    const labels = await t.admin.get(`/api/v2/devices/${id}/labels`);
    expect(labels.body.results.map((l: { name: string }) => l.name)).toContain('vpndemo-external');
    const summary = await t.admin.get('/api/v2/labels/label_summary');
    expect(summary.body.results.find((l: { name: string }) => l.name === 'vpndemo-external')).toMatchObject({
      isStatic: true,
      criteria: null,
      deviceCount: 1,
    });
    await t.admin.put('/api/v2/devices/labels/vpndemo-external/remove').send({ deviceUuids: [id] });
    const after = await t.admin.get(`/api/v2/devices/${id}/labels`);
    expect(after.body.results.map((l: { name: string }) => l.name)).not.toContain('vpndemo-external');
  });

  it('refuses to apply a filter label by hand', async () => {
    const res = await t.admin.put('/api/v2/devices/labels/iOS/add').send({ deviceUuids: ['11111111-1111-1111-1111-111111111111'] });
    expect(res.status).toBe(400);
    expect(res.body.messages[0].localizedMessage).toMatch(/filter label/);
  });

  it('renames and describes a label; deleting it detaches its assignments', async () => {
    const l = await t.admin.post('/api/v2/labels').send({ name: 'temp', static: true, description: 'x' });
    const id = l.body.results.id;
    const put = await t.admin.put(`/api/v2/labels/${id}`).send({ name: 'temp2', description: 'renamed' });
    expect(put.body.results).toMatchObject({ name: 'temp2', description: 'renamed' });
    const vpn = await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'label-del-vpn', connectionType: 'ANYCONNECT', server: 'asa.example.com' });
    await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${id}`);
    const del = await t.admin.delete('/api/v2/labels').send({ labelIds: [id], reason: 'cleanup' });
    expect(del.status).toBe(200);
    expect(del.body.results[0].detached.vpnConfigurations).toBe(1);
    const after = await t.admin.get(`/api/v2/configurations/vpn/${vpn.body.results.id}`);
    expect(after.body.results.labelIds).toEqual([]);
  });
});

describe('VPN configurations', () => {
  const seed = {
    name: 'vpndemo-external-vpn',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    group: 'vpndemo-external',
    perApp: true,
    onDemandMatchAppEnabled: true,
    safariDomains: ['example.com', '*.corp.example.com'],
    userAuthentication: 'PASSWORD',
    username: '$USERID$',
    password: 'hunter2-vpn',
    customData: { 'vpn-profile': 'external' },
  };
  let id: number;
  let vpnUuid: string;

  it('creates one with a minted vpnUuid and never returns the password', async () => {
    const res = await t.admin.post('/api/v2/configurations/vpn').send(seed);
    expect(res.status).toBe(201);
    id = res.body.results.id;
    vpnUuid = res.body.results.vpnUuid;
    expect(vpnUuid).toMatch(/^[0-9A-F-]{36}$/);
    expect(res.body.results).toMatchObject({
      name: seed.name,
      server: 'asa.example.com',
      passwordSet: true,
      username: '$USERID$',
      safariDomains: seed.safariDomains,
    });
    for (const r of [res, await t.admin.get(`/api/v2/configurations/vpn/${id}`), await t.admin.get('/api/v2/configurations/vpn')]) {
      expect(JSON.stringify(r.body)).not.toContain('hunter2-vpn');
    }
  });

  it('keeps vpnUuid stable across updates', async () => {
    const res = await t.admin
      .put(`/api/v2/configurations/vpn/${id}`)
      .send({ server: 'asa2.example.com', safariDomains: ['intranet.example.com'] });
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({
      vpnUuid,
      server: 'asa2.example.com',
      safariDomains: ['intranet.example.com'],
      passwordSet: true,
    });
  });

  it('validates domains, servers, enums and type rules', async () => {
    const bad = [
      [{ ...seed, name: 'b1', safariDomains: ['not a domain'] }, 'safariDomains.0'],
      [{ ...seed, name: 'b2', server: 'http://bad host' }, 'server'],
      [{ ...seed, name: 'b3', connectionType: 'PPTP' }, 'connectionType'],
      [{ ...seed, name: 'b4', connectionType: 'CUSTOM_SSL' }, 'providerBundleId'],
      [{ ...seed, name: 'b5', userAuthentication: 'CERTIFICATE' }, 'password'],
      [{ ...seed, name: 'b6', perApp: 'yes' }, 'perApp'],
    ] as const;
    for (const [body, field] of bad) {
      const res = await t.admin.post('/api/v2/configurations/vpn').send(body);
      expect(res.status, field).toBe(400);
      expect(res.body.messages[0].field, JSON.stringify(res.body)).toBe(field);
    }
    expect((await t.admin.post('/api/v2/configurations/vpn').send({ ...seed, name: 'VPNDEMO-external-vpn' })).status).toBe(409);
  });

  it('applies to and removes from labels', async () => {
    const lid = await labelId('vpndemo-external');
    const res = await t.admin.put(`/api/v2/configurations/vpn/${id}/labels/${lid}`);
    expect(res.body.results.labelIds).toEqual([lid]);
    expect((await t.admin.put(`/api/v2/configurations/vpn/${id}/labels/999999`)).status).toBe(404);
    const removed = await t.admin.delete(`/api/v2/configurations/vpn/${id}/labels/${lid}`);
    expect(removed.body.results.labelIds).toEqual([]);
  });

  it('refuses to delete a VPN configuration an app names explicitly (409), then deletes it once freed', async () => {
    const app = await t.admin.post('/api/v2/appstore/apps').send({ name: 'Pinned', bundleId: 'com.example.pinned', perAppVpnConfigId: id });
    expect(app.status).toBe(201);
    const del = await t.admin.delete(`/api/v2/configurations/vpn/${id}`);
    expect(del.status).toBe(409);
    expect(del.body.messages[0].localizedMessage).toMatch(/Pinned/);
    await t.admin.put(`/api/v2/appstore/apps/${app.body.results.id}`).send({ perAppVpnConfigId: null });
    expect((await t.admin.delete(`/api/v2/configurations/vpn/${id}`)).status).toBe(200);
    expect((await t.admin.get(`/api/v2/configurations/vpn/${id}`)).status).toBe(404);
  });
});

describe('app catalog', () => {
  it('adds Chrome and Microsoft RDP, unique per platform', async () => {
    const chrome = await t.admin
      .post('/api/v2/appstore/apps')
      .send({ name: 'Chrome', bundleId: 'com.google.chrome.ios', platform: 'iOS', iTunesStoreId: '535886823' });
    expect(chrome.status).toBe(201);
    expect(chrome.body.results).toMatchObject({
      bundleId: 'com.google.chrome.ios',
      platform: 'iOS',
      perAppVpnConfigId: null,
      labelIds: [],
    });
    expect((await t.admin.post('/api/v2/appstore/apps').send({ name: 'Chrome again', bundleId: 'com.google.chrome.ios' })).status).toBe(
      409,
    );
    expect(
      (await t.admin.post('/api/v2/appstore/apps').send({ name: 'Chrome', bundleId: 'com.google.chrome.ios', platform: 'Android' })).status,
    ).toBe(201);
    const rdp = await t.admin.post('/api/v2/appstore/apps').send({ name: 'Microsoft RDP', bundleId: 'com.microsoft.rdc.ios' });
    const lid = await labelId('vpndemo-external');
    const applied = await t.admin.put(`/api/v2/appstore/apps/${rdp.body.results.id}/labels/${lid}`);
    expect(applied.body.results.labelIds).toEqual([lid]);
    const list = await t.admin.get(`/api/v2/appstore/apps?labelId=${lid}`);
    expect(list.body.results.map((a: { bundleId: string }) => a.bundleId)).toEqual(['com.microsoft.rdc.ios']);
    expect((await t.admin.post('/api/v2/appstore/apps').send({ name: 'x', bundleId: 'nodots' })).status).toBe(400);
    expect((await t.admin.post('/api/v2/appstore/apps').send({ name: 'x', bundleId: 'com.x.y', perAppVpnConfigId: 424242 })).status).toBe(
      400,
    );
    expect((await t.admin.delete(`/api/v2/appstore/apps/${rdp.body.results.id}`)).status).toBe(200);
    expect((await t.admin.get(`/api/v2/appstore/apps/${rdp.body.results.id}`)).status).toBe(404);
  });
});

// mjdibella/MICore.PSHelper, replayed call for call for its catalog, user and LDAP cmdlets:
// MICore.PSHelper.psm1 at 301bdb5707eda2adb29482b9e7a469fc5fbea96a — Get-MICatalogApp,
// Get-MIUser, Get-MILdapUser, Get-MILdapGroup, Get-MILdapOu. Each builds its URL by string
// concatenation (the search text raw in `query=`, adminDeviceSpaceId=1 last), sends
// `Authorization: Basic …` preemptively, and returns `results` of the parsed JSON;
// Invoke-WebRequest throws on any non-2xx. The search text is sent as .NET's Uri escapes it
// (a space as %20). What the cmdlets return (`results`) is asserted exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const basic = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

beforeAll(async () => {
  t = await startTestApp();
  for (const user of [
    { userId: 'jdoe', email: 'jane.doe@example.com', displayName: 'Jane Doe' },
    { userId: 'rroe', email: 'richard.roe@example.com', displayName: 'Richard Roe' },
    { userId: 'svc-kiosk', email: null, displayName: null },
  ]) {
    expect((await t.admin.post('/api/v2/users').send(user)).status).toBe(201);
  }
  expect(
    (
      await t.admin
        .post('/api/v2/appstore/apps')
        .send({ name: 'Outlook', bundleId: 'com.microsoft.Office.Outlook', iTunesStoreId: '951937596' })
    ).status,
  ).toBe(201);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** Invoke-WebRequest -Method Get with the preemptive Basic header; the URL as the cmdlet built it. */
function invoke(url: string) {
  return t.anon.get(url).set('Authorization', basic);
}

describe('MICore.PSHelper catalog, user and LDAP cmdlets', () => {
  let appId: number;
  it('Get-MICatalogApp: GET /api/v2/appstore/apps?adminDeviceSpaceId=1 → results', async () => {
    const res = await invoke('/api/v2/appstore/apps?adminDeviceSpaceId=1');
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0]).toMatchObject({
      name: 'Outlook',
      appId: 'com.microsoft.Office.Outlook',
      platformType: 'IOS',
      source: 'STORE',
    });
    appId = res.body.results[0].id;
  });

  it('Get-MICatalogApp -appId: GET /api/v2/appstore/apps/{appId}?adminDeviceSpaceId=1 → results', async () => {
    const res = await invoke(`/api/v2/appstore/apps/${appId}?adminDeviceSpaceId=1`);
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({ id: appId, name: 'Outlook', iTunesStoreId: '951937596' });
  });

  it('Get-MIUser: GET /api/v2/authorized/users?adminDeviceSpaceId=1 → every user, Core-shaped', async () => {
    const res = await invoke('/api/v2/authorized/users?adminDeviceSpaceId=1');
    expect(res.status).toBe(200);
    expect(res.body.results.map((u: { principal: string }) => u.principal)).toEqual(['jdoe', 'rroe', 'svc-kiosk']);
    expect(res.body.results[0]).toMatchObject({
      principal: 'jdoe',
      userId: 'jdoe',
      email: 'jane.doe@example.com',
      displayName: 'Jane Doe',
      enabled: true,
      firstName: null,
      lastName: null,
    });
  });

  it.each([
    ['jdoe', ['jdoe']],
    ['Jane%20Doe', ['jdoe']],
    ['example.com', ['jdoe', 'rroe']],
    ['roe', ['rroe']],
    ['nobody', []],
  ])('Get-MIUser -searchString: query=%s matches user id, display name or email', async (search, principals) => {
    const res = await invoke(`/api/v2/authorized/users?query=${search}&adminDeviceSpaceId=1`);
    expect(res.status).toBe(200);
    expect(res.body.results.map((u: { principal: string }) => u.principal)).toEqual(principals);
  });

  it('Get-MILdapUser: GET /api/v2/admins/ldap_entities?type=user&query=… → the matching local users (mockiron has no LDAP)', async () => {
    const res = await invoke('/api/v2/admins/ldap_entities?type=user&query=rroe&adminDeviceSpaceId=1');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({
        type: 'user',
        principal: 'rroe',
        email: 'richard.roe@example.com',
        displayName: 'Richard Roe',
        source: 'LOCAL',
      }),
    ]);
  });

  it.each(['group', 'ou'])('Get-MILdap%s: type=%s answers an empty list: there is no directory to have groups or OUs', async (type) => {
    const res = await invoke(`/api/v2/admins/ldap_entities?type=${type}&query=Sales&adminDeviceSpaceId=1`);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
    expect(res.body.totalCount).toBe(0);
  });

  it('an unknown type is refused with 400 and the error envelope (Invoke-WebRequest throws)', async () => {
    const res = await invoke('/api/v2/admins/ldap_entities?type=computer&query=x&adminDeviceSpaceId=1');
    expect(res.status).toBe(400);
    expect(res.body.messages[0]).toMatchObject({ type: 'Error', field: 'type' });
  });

  it('without credentials the cmdlets get 401, not data', async () => {
    for (const url of [
      '/api/v2/authorized/users?adminDeviceSpaceId=1',
      '/api/v2/admins/ldap_entities?type=user&query=j&adminDeviceSpaceId=1',
    ]) {
      const res = await t.anon.get(url);
      expect(res.status).toBe(401);
      expect(res.body.results).toBeUndefined();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const errorEnvelope = expect.objectContaining({
  messages: [expect.objectContaining({ type: 'Error', messageKey: expect.any(String), localizedMessage: expect.any(String) })],
});

describe('authentication and roles', () => {
  it('pings with credentials, in Core shape', async () => {
    const res = await t.admin.get('/api/v2/ping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ results: { apiVersion: 2.0, vspVersion: expect.stringMatching(/^mockiron \d/) } });
  });

  it('answers 401 in the envelope without or with wrong credentials', async () => {
    const none = await t.anon.get('/api/v2/devices');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    expect(none.body).toEqual(errorEnvelope);
    const wrong = await t.as('admin', 'not-the-password').get('/api/v2/devices');
    expect(wrong.status).toBe(401);
    const unknown = await t.as('nobody', 'x').get('/api/v2/devices');
    expect(unknown.status).toBe(401);
  });

  it('lets a viewer read but not write (403)', async () => {
    const created = await t.admin.post('/api/v2/admins').send({ username: 'viewer1', password: 'viewer-password-1', role: 'viewer' });
    expect(created.status).toBe(201);
    expect(created.body.results).not.toHaveProperty('password');
    expect(created.body.results).not.toHaveProperty('passwordHash');
    const viewer = t.as('viewer1', 'viewer-password-1');
    expect((await viewer.get('/api/v2/labels/label_summary')).status).toBe(200);
    const write = await viewer.post('/api/v2/labels').send({ name: 'nope', static: true });
    expect(write.status).toBe(403);
    expect(write.body).toEqual(errorEnvelope);
    expect((await viewer.get('/api/v2/audit')).status).toBe(403);
    const labels = await t.admin.get('/api/v2/labels/label_summary');
    expect(labels.body.results.map((l: { name: string }) => l.name)).not.toContain('nope');
  });

  it('never returns password hashes from the admin list', async () => {
    const res = await t.admin.get('/api/v2/admins');
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|passwordHash|password/);
  });

  it('refuses to delete or demote the last admin', async () => {
    const list = await t.admin.get('/api/v2/admins');
    const me = list.body.results.find((a: { username: string }) => a.username === 'admin');
    expect((await t.admin.delete(`/api/v2/admins/${me.id}`)).status).toBe(409);
    expect((await t.admin.put(`/api/v2/admins/${me.id}`).send({ role: 'viewer' })).status).toBe(409);
  });

  it('stops accepting a changed password at once (credential cache is invalidated)', async () => {
    const c = await t.admin.post('/api/v2/admins').send({ username: 'rotator', password: 'first-password-1', role: 'admin' });
    const id = c.body.results.id;
    expect((await t.as('rotator', 'first-password-1').get('/api/v2/ping')).status).toBe(200);
    expect((await t.admin.put(`/api/v2/admins/${id}`).send({ password: 'second-password-2' })).status).toBe(200);
    expect((await t.as('rotator', 'first-password-1').get('/api/v2/ping')).status).toBe(401);
    expect((await t.as('rotator', 'second-password-2').get('/api/v2/ping')).status).toBe(200);
  });

  it('throttles repeated failed logins per user and address with 429 and Retry-After', async () => {
    await t.admin.post('/api/v2/admins').send({ username: 'target', password: 'target-password-1', role: 'viewer' });
    for (let i = 0; i < 5; i++) expect((await t.as('target', `wrong-${i}`).get('/api/v2/ping')).status).toBe(401);
    const blocked = await t.as('target', 'target-password-1').get('/api/v2/ping');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // another user from the same address is not affected
    expect((await t.admin.get('/api/v2/ping')).status).toBe(200);
  });
});

describe('API conventions', () => {
  it('answers unknown routes with a 404 envelope', async () => {
    const res = await t.admin.get('/api/v2/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual(errorEnvelope);
  });

  it('serves an OpenAPI 3.1 document listing every endpoint, and a docs page', async () => {
    const res = await t.anon.get('/api/v2/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/api/v2/ping',
      '/api/v2/admins',
      '/api/v2/admins/{id}',
      '/api/v2/users',
      '/api/v2/users/{userId}',
      '/api/v2/devices',
      '/api/v2/devices/bulk',
      '/api/v2/devices/count',
      '/api/v2/devices/search_fields',
      '/api/v2/devices/{uuid}/details',
      '/api/v2/devices/{uuid}/labels',
      '/api/v2/devices/{uuid}/attributes',
      '/api/v2/devices/{uuid}',
      '/api/v2/labels',
      '/api/v2/labels/label_summary',
      '/api/v2/labels/preview',
      '/api/v2/labels/{id}',
      '/api/v2/devices/labels/{labelName}/add',
      '/api/v2/devices/labels/{labelName}/remove',
      '/api/v2/configurations/vpn',
      '/api/v2/configurations/vpn/{id}',
      '/api/v2/configurations/vpn/{id}/labels/{labelId}',
      '/api/v2/appstore/apps',
      '/api/v2/appstore/apps/{id}',
      '/api/v2/appstore/apps/{appId}/labels/{labelId}',
      '/api/v2/audit',
    ]) {
      expect(paths, p).toContain(p);
    }
    // request bodies are described by the same zod schemas that validate them
    const vpnPost = res.body.paths['/api/v2/configurations/vpn'].post;
    expect(Object.keys(vpnPost.requestBody.content['application/json'].schema.properties)).toContain('safariDomains');
    const docs = await t.anon.get('/api/v2/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toMatch(/swagger/i);
  });

  it('pages lists with limit/offset and sorts with sortField/sortOrder', async () => {
    for (const u of ['pg-c', 'pg-a', 'pg-b']) await t.admin.post('/api/v2/users').send({ userId: u });
    const page = await t.admin.get('/api/v2/users?limit=2&offset=0&sortField=userId&sortOrder=DESC&search=pg-');
    expect(page.body).toMatchObject({ totalCount: 3, resultCount: 2, hasMore: true });
    expect(page.body.results.map((u: { userId: string }) => u.userId)).toEqual(['pg-c', 'pg-b']);
    const last = await t.admin.get('/api/v2/users?limit=2&offset=2&sortField=userId&sortOrder=desc&search=pg-');
    expect(last.body).toMatchObject({ totalCount: 3, resultCount: 1, hasMore: false });
    expect((await t.admin.get('/api/v2/users?limit=500')).status).toBe(400);
    expect((await t.admin.get('/api/v2/users?sortField=password')).status).toBe(400);
    expect((await t.admin.get('/api/v2/users?adminDeviceSpaceId=1')).status).toBe(200);
    expect((await t.admin.get('/api/v2/users?adminDeviceSpaceId=7')).status).toBe(400);
  });

  it('records admin writes in the audit log without secrets', async () => {
    await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'audit-vpn', connectionType: 'ANYCONNECT', server: 'vpn.example.com', password: 'S3cret-VPN-pass' });
    const res = await t.admin.get('/api/v2/audit?objectType=vpnConfiguration');
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ actor: 'admin', action: 'create', objectType: 'vpnConfiguration' });
    expect(JSON.stringify(res.body)).not.toContain('S3cret-VPN-pass');
    const admins = await t.admin.get('/api/v2/audit?objectType=admin');
    expect(JSON.stringify(admins.body)).not.toMatch(/viewer-password-1|first-password-1/);
  });
});

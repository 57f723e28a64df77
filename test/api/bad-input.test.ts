// Every endpoint family answers malformed input with a 4xx envelope and leaves the database
// exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let deviceUuid: string;
let labelIdValue: number;
let vpnId: number;
let appId: number;

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'owner1' });
  deviceUuid = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion: '17.1' })).body.results['common.uuid'];
  labelIdValue = (await t.admin.post('/api/v2/labels').send({ name: 'manual-1', static: true })).body.results.id;
  vpnId = (await t.admin.post('/api/v2/configurations/vpn').send({ name: 'v1', connectionType: 'ANYCONNECT', server: 'asa.example.com' }))
    .body.results.id;
  appId = (await t.admin.post('/api/v2/appstore/apps').send({ name: 'a1', bundleId: 'com.example.a1' })).body.results.id;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** A fingerprint of everything stored: row counts and the newest row of each table. */
async function snapshot() {
  const db = t.services.db;
  return JSON.stringify(
    await Promise.all([
      db.adminUser.findMany(),
      db.user.findMany(),
      db.device.findMany(),
      db.label.findMany(),
      db.deviceLabel.findMany(),
      db.vpnConfiguration.findMany(),
      db.vpnConfigurationLabel.findMany(),
      db.app.findMany(),
      db.appLabel.findMany(),
      db.auditEvent.count(),
    ]),
  );
}

const long = 'x'.repeat(5000);
const sqlish = "x'); DROP TABLE Device; --";

type Case = [method: 'post' | 'put' | 'delete', url: () => string, body: unknown | (() => unknown), expected?: number];

const families: Record<string, Case[]> = {
  admins: [
    ['post', () => '/api/v2/admins', { username: 'u', password: 'short', role: 'admin' }],
    ['post', () => '/api/v2/admins', { username: 'u', password: 'long-enough-pass', role: 'root' }],
    ['put', () => '/api/v2/admins/abc', { role: 'viewer' }],
  ],
  users: [
    ['post', () => '/api/v2/users', { userId: 42 }],
    ['post', () => '/api/v2/users', { userId: 'ok', email: 'not-an-email' }],
    ['post', () => '/api/v2/users', { userId: 'ok', extra: true }],
    ['post', () => '/api/v2/users', { userId: long }],
    ['post', () => '/api/v2/users', { userId: 'owner1' }, 409],
  ],
  devices: [
    ['post', () => '/api/v2/devices', { platform: 'Windows' }],
    ['post', () => '/api/v2/devices', { platform: 'iOS', osVersion: sqlish }],
    ['post', () => '/api/v2/devices', { platform: 'iOS', deviceName: long }],
    ['post', () => '/api/v2/devices', { platform: 'iOS', model: 'bad\u0000model' }],
    ['put', () => `/api/v2/devices/${deviceUuid}/attributes`, { status: 'EXPLODED' }],
    ['put', () => `/api/v2/devices/${deviceUuid}/attributes`, { custom: { 'bad name!': 'x' } }],
    ['put', () => '/api/v2/devices/not-a-uuid!/attributes', { osVersion: '1.0' }],
  ],
  labels: [
    ['post', () => '/api/v2/labels', { name: '', static: true }],
    ['post', () => '/api/v2/labels', { name: 'x', static: 'yes' }],
    ['post', () => '/api/v2/labels', { name: 'MANUAL-1', static: true }, 409],
    ['post', () => '/api/v2/labels', { name: 'f', static: false, criteria: 'common.nope = 1' }],
    ['delete', () => '/api/v2/labels', { labelIds: ['one'] }],
    ['delete', () => '/api/v2/labels', () => ({ labelIds: [labelIdValue, 987654] }), 404],
    ['put', () => '/api/v2/devices/labels/manual-1/add', { deviceUuids: 'not-a-list' }],
  ],
  vpn: [
    ['post', () => '/api/v2/configurations/vpn', { name: 'v2', connectionType: 'ANYCONNECT', server: sqlish }],
    [
      'post',
      () => '/api/v2/configurations/vpn',
      { name: 'v2', connectionType: 'ANYCONNECT', server: 'a.example.com', safariDomains: 'example.com' },
    ],
    ['put', () => `/api/v2/configurations/vpn/${vpnId}`, { vpnUuid: 'FORGED' }],
    ['put', () => '/api/v2/configurations/vpn/0', { name: 'x' }],
    ['put', () => `/api/v2/configurations/vpn/${vpnId}/labels/notanumber`, undefined],
  ],
  apps: [
    ['post', () => '/api/v2/appstore/apps', { name: 'x', bundleId: sqlish }],
    ['post', () => '/api/v2/appstore/apps', { name: 'x', bundleId: 'com.x.y', iTunesStoreId: 'abc' }],
    ['put', () => `/api/v2/appstore/apps/${appId}`, { platform: 'Symbian' }],
    ['delete', () => '/api/v2/appstore/apps/-1', undefined],
  ],
};

describe.each(Object.entries(families))('bad input: %s', (_family, cases) => {
  it('answers 4xx in the envelope and changes nothing', async () => {
    for (const [method, url, bodyOrThunk, expected] of cases) {
      const body = typeof bodyOrThunk === 'function' ? (bodyOrThunk as () => unknown)() : bodyOrThunk;
      const before = await snapshot();
      const req = t.admin[method](url());
      const res = await (body === undefined ? req : req.send(body as object));
      expect(res.status, `${method} ${url()} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(expected ?? 400);
      expect(res.body.messages?.[0]).toMatchObject({ type: 'Error', messageKey: expect.any(String), localizedMessage: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|prisma|SQLITE/i);
      expect(await snapshot()).toBe(before);
    }
  });
});

describe('bad input: transport level', () => {
  it('rejects malformed JSON, non-UTF-8 bodies and oversized bodies', async () => {
    const before = await snapshot();
    const malformed = await t.admin.post('/api/v2/users').set('content-type', 'application/json').send('{"userId": "x",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.messages[0].localizedMessage).toMatch(/Malformed JSON/);
    // raw bytes over a real socket: supertest would re-encode a Buffer body as JSON
    const latin1 = Buffer.concat([Buffer.from('{"userId":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const server = t.app.listen(0);
    try {
      const { port } = server.address() as AddressInfo;
      const nonUtf8 = await fetch(`http://127.0.0.1:${port}/api/v2/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` },
        body: latin1,
      });
      expect(nonUtf8.status).toBe(400);
      expect(((await nonUtf8.json()) as { messages: { localizedMessage: string }[] }).messages[0]!.localizedMessage).toMatch(/UTF-8/);
    } finally {
      server.close();
    }
    const huge = await t.admin
      .post('/api/v2/users')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ userId: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    const csvGarbage = await t.admin.post('/api/v2/devices/bulk').set('content-type', 'text/csv').send('a,b\n"unterminated');
    expect(csvGarbage.status).toBe(400);
    const noBody = await t.admin.post('/api/v2/devices');
    expect(noBody.status).toBe(400);
    expect(await snapshot()).toBe(before);
  });

  it('stores SQL-looking strings literally where they are valid', async () => {
    const res = await t.admin.post('/api/v2/users').send({ userId: 'robert', displayName: sqlish });
    expect(res.status).toBe(201);
    expect((await t.admin.get('/api/v2/users/robert')).body.results.displayName).toBe(sqlish);
    expect(await t.services.db.device.count()).toBe(1);
  });
});

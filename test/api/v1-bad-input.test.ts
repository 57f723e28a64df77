// Hostile input to Core's v1 API: every refusal is a 4xx in the one envelope (never a 500), with
// the reason at messages[].message as v1 clients read it, and leaves nothing written — not half a
// label list applied, not a command queued, not an audit entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let a: string;
let b: string;
const missing = '0badc0de-0000-4000-8000-00000000dead';

/** What a refused request must not change: label memberships, queued commands, the audit log, the device count. */
async function state() {
  const labels = await Promise.all(
    [a, b].map(async (u) => (await t.admin.get(`/api/v2/devices/${u}/labels`)).body.results.map((l: { name: string }) => l.name).sort()),
  );
  const commands = await Promise.all([a, b].map(async (u) => (await t.admin.get(`/api/v2/devices/${u}/commands`)).body.totalCount));
  const audit = (await t.admin.get('/api/v2/audit').query({ limit: 1 })).body.totalCount;
  const devices = (await t.admin.get('/api/v2/devices/count')).body.totalCount;
  return JSON.stringify({ labels, commands, audit, devices });
}

async function refused(method: 'get' | 'put' | 'post', url: string, status: number, reason: RegExp) {
  const before = await state();
  const res = await t.admin[method](url);
  expect(res.status, `${method} ${url.slice(0, 120)}: ${res.text.slice(0, 300)}`).toBe(status);
  expect(res.body.messages[0].message).toMatch(reason);
  expect(res.body.messages[0].localizedMessage).toBe(res.body.messages[0].message);
  expect(await state()).toBe(before);
  return res;
}

beforeAll(async () => {
  t = await startTestApp();
  a = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'BAD-1' })).body.results['common.uuid'];
  b = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'BAD-2' })).body.results['common.uuid'];
  for (const name of ['Manual A', 'Manual B']) expect((await t.admin.post('/api/v2/labels').send({ name, static: true })).status).toBe(201);
  expect((await t.admin.post('/api/v2/labels').send({ name: 'Filter', static: false, criteria: 'common.platform = "iOS"' })).status).toBe(
    201,
  );
  expect((await t.admin.post('/api/v2/admins').send({ username: 'viewer1', password: 'viewer-password-1', role: 'viewer' })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('v1 refuses bad input with a 4xx and writes nothing', () => {
  it.each([
    ['get', '/api/v1/dm/devices/not-a-uuid'],
    ['get', '/api/v1/dm/labels/devices/12345678'],
    ['put', '/api/v1/dm/devices/lock/%3Cscript%3E'],
    ['put', '/api/v1/dm/devices/wipe/../../etc'],
    ['get', '/api/v1/dm/devices/unlock/0badc0de-0000-4000-8000'],
    ['put', '/api/v1/dm/devices/retire/mac/zz:zz:zz:zz:zz:zz'],
  ] as const)('a malformed device id: %s %s', async (method, url) => {
    const before = await state();
    const res = await t.admin[method](url);
    expect([400, 404]).toContain(res.status);
    expect(typeof res.body.messages[0].message).toBe('string');
    expect(await state()).toBe(before);
  });

  it('a device that does not exist is a 404 before anything is recorded', async () => {
    await refused('put', `/api/v1/dm/devices/lock/${missing}?reason=x`, 404, /not found/);
    await refused('get', `/api/v1/dm/devices/unlock/${missing}`, 404, /not found/);
  });

  it('1,000 comma-joined labels: 400', async () => {
    const labels = Array.from({ length: 1000 }, (_, i) => `L${i}`).join(',');
    await refused('put', `/api/v1/dm/labels/${labels}/${a}?action=apply`, 400, /at most 100 labels/);
  });

  it("1,001 comma-joined devices: refused (Node's 16 KB limit on the request line answers 431 before the route), nothing written", async () => {
    const before = await state();
    const uuids = Array.from({ length: 1001 }, () => a).join(',');
    const res = await t.admin.put(`/api/v1/dm/labels/Manual%20A/${uuids}?action=apply`);
    expect(res.status).toBe(431);
    expect(await state()).toBe(before);
  });

  it('more devices than fit: 400 from the route when the URL is within limits (a list of 300 with a bad one)', async () => {
    const uuids = [...Array.from({ length: 300 }, () => a), 'not-a-uuid'].join(',');
    await refused('put', `/api/v1/dm/labels/Manual%20A/${uuids}?action=apply`, 400, /comma-separated UUIDs/);
  });

  it('a known label then an unknown one: 404, and the known one is not applied either', async () => {
    await refused('put', `/api/v1/dm/labels/Manual%20A,No%20Such/${a},${b}?action=apply`, 404, /No Such not found/);
  });

  it('a filter label among manual ones: 400, none applied', async () => {
    await refused('put', `/api/v1/dm/labels/Manual%20A,Filter/${a}?action=apply`, 400, /Filter is a filter or system label/);
  });

  it('a device that does not exist among real ones: 404, no label applied to any', async () => {
    await refused('put', `/api/v1/dm/labels/Manual%20A,Manual%20B/${a},${missing}?action=apply`, 404, /not found/);
  });

  it('an action that is neither apply nor remove: 400', async () => {
    await refused('put', `/api/v1/dm/labels/Manual%20A/${a}?action=delete`, 400, /action/);
  });

  it('an overlong reason (1,025 characters): 400, no command, no audit entry', async () => {
    await refused('put', `/api/v1/dm/devices/lock/${a}?Reason=${'x'.repeat(1025)}`, 400, /reason: must be at most 1024 characters/);
  });

  it('a reason with control characters: 400', async () => {
    await refused('put', `/api/v1/dm/devices/wipe/${a}?reason=a%00b`, 400, /control characters/);
  });

  it('sendmessage without a device, without a message, with a bad mode, with 1,001 devices, with a bad MAC: 400', async () => {
    await refused('post', '/api/v1/dm/bulk/sendmessage?mode=pns&message=hi', 400, /at least one device/);
    await refused('post', `/api/v1/dm/bulk/sendmessage?mode=pns&deviceUuid=${a}`, 400, /message/);
    await refused('post', `/api/v1/dm/bulk/sendmessage?mode=fax&message=hi&deviceUuid=${a}`, 400, /mode/);
    await refused('post', `/api/v1/dm/bulk/sendmessage?mode=pns&message=hi&deviceWiFiMacAddress=nope`, 400, /MAC/);
    await refused('post', `/api/v1/dm/bulk/sendmessage?mode=pns&message=${'m'.repeat(1025)}&deviceUuid=${a}`, 400, /message/);
  });

  it('listing: an unknown status, a limit out of range, a negative offset: 400', async () => {
    await refused('get', '/api/v1/dm/devices?status=HACKED', 400, /status/);
    await refused('get', '/api/v1/dm/devices?limit=0', 400, /limit/);
    await refused('get', '/api/v1/dm/devices?limit=10001', 400, /limit/);
    await refused('get', '/api/v1/dm/devices?offset=-1', 400, /offset/);
  });

  it('register: an overlong user id, a bad email, a bad boolean: 400, no user or device created', async () => {
    await refused('put', `/api/v1/dm/register?userId=${'u'.repeat(129)}&platform=I`, 400, /userId/);
    await refused('put', '/api/v1/dm/register?userId=eve&platform=I&userEmailAddress=not-an-email', 400, /userEmailAddress/);
    await refused('put', '/api/v1/dm/register?userId=eve&platform=I&notifyUser=yes', 400, /notifyUser/);
    expect((await t.admin.get('/api/v2/users/eve')).status).toBe(404);
  });

  it('an overlong phone number, an overlong user id: 400', async () => {
    await refused('get', `/api/v1/dm/phones/${'5'.repeat(65)}`, 400, /phone: must be at most 64 characters/);
    await refused('get', `/api/v1/dm/users/${'u'.repeat(129)}`, 400, /userId/);
  });

  it('prototype keys in the query do not reach objects: an answer, not a 500', async () => {
    const res = await t.admin.get('/api/v1/dm/devices?__proto__=x&constructor=y&STATUS=active');
    expect(res.status).toBe(404);
    const lock = await t.admin.put(`/api/v1/dm/devices/lock/${a}?__proto__[reason]=x`);
    expect(lock.status).toBeLessThan(500);
  });

  it('no such v1 endpoint: 404 with the reason in messages', async () => {
    const res = await t.admin.get('/api/v1/dm/nothing/here/at/all');
    expect(res.status).toBe(404);
    expect(res.body.messages[0].message).toMatch(/No such endpoint/);
  });
});

describe('v1 credentials and roles', () => {
  it('without credentials: 401 with a Basic challenge and the reason in messages', async () => {
    const res = await t.anon.get('/api/v1/dm/devices');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(typeof res.body.messages[0].message).toBe('string');
  });

  it('a viewer may read but not lock, unlock, label or message: 403, nothing written', async () => {
    const viewer = t.as('viewer1', 'viewer-password-1');
    expect((await viewer.get(`/api/v1/dm/devices/${a}`)).status).toBe(200);
    const before = await state();
    expect((await viewer.put(`/api/v1/dm/devices/lock/${a}`)).status).toBe(403);
    expect((await viewer.get(`/api/v1/dm/devices/unlock/${a}`)).status).toBe(403);
    expect((await viewer.put(`/api/v1/dm/labels/Manual%20A/${a}?action=apply`)).status).toBe(403);
    expect((await viewer.post(`/api/v1/dm/bulk/sendmessage?message=hi&deviceUuid=${a}`)).status).toBe(403);
    expect((await viewer.put('/api/v1/dm/register?userId=viewer-made&platform=I')).status).toBe(403);
    expect(await state()).toBe(before);
  });
});

describe('v1 query names in any case', () => {
  it('Reason, REASON and reason are one parameter; the exact spelling wins when both come', async () => {
    const res = await t.admin.put(`/api/v1/dm/devices/lock/${a}?REASON=${'x'.repeat(1025)}`);
    expect(res.status).toBe(400);
    const both = await t.admin.put(`/api/v1/dm/devices/lock/${a}?Reason=${'x'.repeat(1025)}&reason=short`);
    expect(both.status).toBe(200);
    const audit = await t.admin.get('/api/v2/audit').query({ action: 'device.lock', objectId: a, limit: 1 });
    expect(audit.body.results[0].details).toMatchObject({ note: 'short' });
  });

  it('the v2 API keeps exact names: an unknown spelling there is not mapped', async () => {
    const res = await t.admin.get('/api/v2/devices/count?QUERY=common.platform%20%3D%20%22Android%22');
    expect(res.body.totalCount).toBe(2);
  });
});

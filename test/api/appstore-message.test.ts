// POST /appstore/apps/{appId}/message: what Core's "notify devices of this app" does here. The
// devices are those in the app's labels (manual and filter labels alike), only ACTIVE ones are
// reached; installIncluded/updateIncluded reconcile them now, pushApp pushes them; nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let device: TestDevice;
let pending: string; // a registered device that never enrolled

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'msg-user' })).status).toBe(201);
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'msg-user', identity: 'scep' })).body.results;
  device = new TestDevice(t.app);
  await device.enroll(inv.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
  pending = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'MSG-PENDING-1', userId: 'msg-user' })).body
    .results['common.uuid'];
  await device.drain();
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/**
 * Pushes of an app notification. The background reconciliation that a label or app change starts
 * may push too ('policy changed'), at a moment of its own: those are not the message's.
 */
const pushCount = async (uuid: string) =>
  ((await t.admin.get(`/api/v2/devices/${uuid}/pushes`).query({ limit: 200 })).body.results as Array<{ reason: string }>).filter(
    (p) => p.reason === 'app notification',
  ).length;
const message = (appId: number, body: object) =>
  t.admin.post(`/api/v2/appstore/apps/${appId}/message`).query({ adminDeviceSpaceId: 1 }).send(body);

describe('app message', () => {
  it('an app in no label reaches no device, and says so', async () => {
    const app = (await t.admin.post('/api/v2/appstore/apps').send({ name: 'Lonely', bundleId: 'com.example.lonely' })).body.results;
    const before = await pushCount(device.deviceUuid);
    const res = await message(app.id, { installIncluded: true, updateIncluded: true, pushApp: true });
    expect(res.status).toBe(200);
    expect(res.body.messages[0].messageKey).toContain('success');
    expect(res.body.results).toMatchObject({ devices: 0, commands: 0, pushed: 0, labelIds: [] });
    expect(await pushCount(device.deviceUuid)).toBe(before);
  });

  it('through a filter label: only the ACTIVE device is reached; pushApp=false sends no push', async () => {
    const label = (await t.admin.post('/api/v2/labels').send({ name: 'All iOS', static: false, criteria: 'common.platform = "iOS"' })).body
      .results;
    const app = (await t.admin.post('/api/v2/appstore/apps').send({ name: 'Maps', bundleId: 'com.example.maps' })).body.results;
    expect((await t.admin.put(`/api/v2/appstore/apps/${app.id}/labels/${label.id}`)).status).toBe(200);
    const before = await pushCount(device.deviceUuid);
    const pendingBefore = await pushCount(pending);
    const res = await message(app.id, { installIncluded: true, updateIncluded: false, pushApp: false });
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({ devices: 1, pushed: 0, labelIds: [label.id] });
    expect(await pushCount(device.deviceUuid)).toBe(before);
    expect(await pushCount(pending)).toBe(pendingBefore);
    // The install is queued (now, or by the background pass that the label change started).
    const received = await device.drain();
    expect(received.map((c) => (c.Command as PlistDict).Identifier).filter(Boolean)).toContain('com.example.maps');
    const audit = await t.admin.get('/api/v2/audit').query({ objectType: 'app', action: 'notify' });
    expect(audit.status).toBe(200);
    expect(audit.body.results[0]).toMatchObject({ objectId: String(app.id) });
  });

  it('only pushApp: the device is pushed, nothing is reconciled', async () => {
    const app = (await t.admin.get('/api/v2/appstore/apps').query({ platform: 'iOS' })).body.results.find(
      (a: { bundleId: string }) => a.bundleId === 'com.example.maps',
    );
    const before = await pushCount(device.deviceUuid);
    const res = await message(app.id, { installIncluded: false, updateIncluded: false, pushApp: true });
    expect(res.body.results).toMatchObject({ devices: 1, commands: 0, pushed: 1 });
    expect(await pushCount(device.deviceUuid)).toBe(before + 1);
  });

  it('an unknown app is 404; a body with other fields is 400; nothing is pushed', async () => {
    const before = await pushCount(device.deviceUuid);
    expect((await message(999999, { pushApp: true })).status).toBe(404);
    const bad = await message(1, { pushApp: 'yes' });
    expect(bad.status).toBe(400);
    expect((await message(1, { pushApp: true, everyone: true })).status).toBe(400);
    expect(await pushCount(device.deviceUuid)).toBe(before);
  });
});

// RIvannikov/fastlane-plugin-mobileiron, replayed call for call: the `mobileiron` action of
// lib/fastlane/plugin/mobileiron/actions/mobileiron_action.rb with its client
// client/mobileiron_api_client.rb and the response helpers in helper/*.rb (read at
// e80778bacb9791daf9d87d37f329f905f8d4054f, as docs/research/core-clients.md L records; the
// stored copy re-read for this test is cbe8c14eb73f384057947d0a8865a224a28bc176).
// Faraday with basic_auth, the :multipart and :url_encoded request middleware and a JSON
// response parser; :raise_error makes every non-2xx fatal. The action pings, uploads the
// .ipa as the multipart part `installer` (application/octet-stream) with adminDeviceSpaceId=1 in
// the query, prints results.{id, appId, name, displayVersion, version}, finds each label by its
// stripped name in label_summary, applies the app to it (success: messages[0].messageKey
// contains "success", else it prints type and localizedMessage) and finally posts the message
// {installIncluded, updateIncluded, pushApp} (same success test). What it reads is asserted
// exactly; what the device got, from our side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';
import { buildIpa, rubyMultipart } from '../helpers/ipa.js';

let t: TestApp;
let device: TestDevice;

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'tester' })).status).toBe(201);
  expect((await t.admin.post('/api/v2/labels').send({ name: 'Pilot Testers', static: true })).status).toBe(201);
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'tester', identity: 'scep' })).body.results;
  device = new TestDevice(t.app);
  await device.enroll(inv.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
  const added = await t.admin.put('/api/v2/devices/labels/Pilot Testers/add').send({ deviceUuids: [device.deviceUuid] });
  expect(added.status).toBe(200);
  await device.drain();
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

// The client's Faraday connection: Basic credentials on every request.
const get = (path: string) => t.anon.get(path).auth('admin', adminPassword);
const isSuccess = (message: { messageKey?: string }) => (message.messageKey ?? '').includes('success');

describe('fastlane mobileiron action', () => {
  const ipa = buildIpa({ bundleId: 'com.example.fieldnotes', name: 'Field Notes', shortVersion: '1.4.2', build: '142' });
  let app: { id: number; appId: string; name: string; displayVersion: string; version: string };

  it('ping: results.apiVersion and results.vspVersion', async () => {
    const res = await get('/api/v2/ping');
    expect(res.status).toBe(200);
    expect(res.body.results.apiVersion).toBe(2);
    expect(typeof res.body.results.vspVersion).toBe('string');
  });

  it('appstore_inhouse: POST /appstore/inhouse?adminDeviceSpaceId=1, multipart part installer → results.{id, appId, name, displayVersion, version}', async () => {
    const { contentType, body } = rubyMultipart([
      { name: 'installer', filename: 'FieldNotes-1.4.2.ipa', contentType: 'application/octet-stream', data: ipa },
    ]);
    const res = await t.anon
      .post('/api/v2/appstore/inhouse')
      .auth('admin', adminPassword)
      .query({ adminDeviceSpaceId: '1' })
      .set('Content-Type', contentType)
      .send(body);
    expect(res.status).toBe(200);
    app = res.body.results;
    expect(app).toMatchObject({
      appId: 'com.example.fieldnotes',
      name: 'Field Notes',
      displayVersion: '1.4.2',
      version: '142',
      platformType: 'IOS',
      platformCode: 'I',
      altVersion: null,
      provisioningProfile: null,
    });
    expect(Number.isInteger(app.id)).toBe(true);
    // The catalog has it as an in-house app, as GET /appstore/apps/{id} shows.
    expect((await get(`/api/v2/appstore/apps/${app.id}`).query({ adminDeviceSpaceId: 1 })).body.results).toMatchObject({
      id: app.id,
      bundleId: 'com.example.fieldnotes',
      source: 'INHOUSE',
      installerSize: ipa.length,
    });
  });

  let labelId: number;
  it('get_labels_summary: the label is found by its stripped name; results[].id', async () => {
    const res = await get('/api/v2/labels/label_summary').query({ adminDeviceSpaceId: '1' });
    expect(res.status).toBe(200);
    const wanted = ' Pilot Testers'.trim(); // the action splits "a; b" on ';' and strips each
    const label = res.body.results.find((l: { name: string }) => l.name.trim() === wanted);
    expect(label).toBeDefined();
    labelId = label.id;
  });

  it('appstore_apps_labels: PUT /appstore/apps/{appId}/labels/{labelId}?adminDeviceSpaceId=1 → messages[0].messageKey contains "success"', async () => {
    const policyPushes = async () =>
      ((await get(`/api/v2/devices/${device.deviceUuid}/pushes`)).body.results as { reason: string }[]).filter(
        (p) => p.reason === 'policy changed',
      ).length;
    const policyPushesBefore = await policyPushes();
    const res = await t.anon
      .put(`/api/v2/appstore/apps/${app.id}/labels/${labelId}`)
      .auth('admin', adminPassword)
      .query({ adminDeviceSpaceId: '1' });
    expect(res.status).toBe(200);
    const first = res.body.messages[0];
    expect(isSuccess(first)).toBe(true);
    expect(first.type).toBe('Info');
    expect(typeof first.localizedMessage).toBe('string');
    // The assignment is a policy change: the background reconciler queues InstallApplication and
    // pushes the device on its own. Wait for that push so the next step counts only its own.
    await expect.poll(policyPushes, { timeout: 10_000, interval: 100 }).toBe(policyPushesBefore + 1);
  });

  it('appstore_apps_message: POST /appstore/apps/{appId}/message {installIncluded, updateIncluded, pushApp} → messages[0] success; the device is pushed and installs the app', async () => {
    const pushesBefore = (await get(`/api/v2/devices/${device.deviceUuid}/pushes`)).body.totalCount;
    const res = await t.anon
      .post(`/api/v2/appstore/apps/${app.id}/message`)
      .auth('admin', adminPassword)
      .query({ adminDeviceSpaceId: '1' })
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ installIncluded: true, updateIncluded: true, pushApp: true }));
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.messages)).toBe(true);
    expect(isSuccess(res.body.messages[0])).toBe(true);
    expect(res.body.results).toMatchObject({ appId: app.id, devices: 1, pushed: 1 });
    // Our side: the device was pushed for the app, and on its next poll gets InstallApplication.
    const pushes = await get(`/api/v2/devices/${device.deviceUuid}/pushes`);
    expect(pushes.body.totalCount).toBe(pushesBefore + 1);
    expect(pushes.body.results[0]).toMatchObject({ reason: 'app notification' });
    const received = await device.drain();
    const installs = received.filter((c) => (c.Command as PlistDict).RequestType === 'InstallApplication');
    expect(installs.map((c) => (c.Command as PlistDict).Identifier)).toEqual(['com.example.fieldnotes']);
  });

  it('a second upload of the same bundle (the next build) keeps the id and the label, with the new versions', async () => {
    const next = buildIpa({ bundleId: 'com.example.fieldnotes', name: 'Field Notes', shortVersion: '1.5.0', build: '150' });
    const { contentType, body } = rubyMultipart([
      { name: 'installer', filename: 'FieldNotes-1.5.0.ipa', contentType: 'application/octet-stream', data: next },
    ]);
    const res = await t.anon
      .post('/api/v2/appstore/inhouse')
      .auth('admin', adminPassword)
      .query({ adminDeviceSpaceId: '1' })
      .set('Content-Type', contentType)
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({ id: app.id, displayVersion: '1.5.0', version: '150', labelIds: [labelId] });
  });
});

// A Ruby `MobileIron::Client` (repository not named by the index; file `read_file id=44372837350`,
// docs/research/core-clients.md P), replayed call for call. Faraday with the :multipart request
// middleware and basic_auth. upload_inhouse_app posts the params {installer: UploadIO(.ipa,
// application/octet-stream), adminDeviceSpaceId: '1'} — the space id as a multipart text part,
// not in the query — and requires status 200, then parses the body as JSON. update_app_data
// posts {appData: <JSON string>, icon: UploadIO(png, image/png) when given, adminDeviceSpaceId}
// to /api/v2/appstore/apps/{id} with Content-Type multipart/form-data (the middleware adds the
// boundary) and also requires 200 and JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { buildIpa, infoPlistBinary, rubyMultipart, type Part } from '../helpers/ipa.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const adminDeviceSpaceId: Part = { name: 'adminDeviceSpaceId', value: '1' };
// A 1×1 PNG.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

function post(path: string, parts: Part[]) {
  const { contentType, body } = rubyMultipart(parts);
  return t.anon.post(path).auth('admin', adminPassword).set('Content-Type', contentType).send(body);
}

describe('Ruby MobileIron::Client', () => {
  let id: number;

  it('upload_inhouse_app: installer + adminDeviceSpaceId as form parts → 200 and JSON', async () => {
    // An Info.plist as Xcode writes it in a built app: binary, with CFBundleDisplayName.
    const infoPlist = infoPlistBinary({
      CFBundleIdentifier: 'com.example.dispatch',
      CFBundleName: 'Dispatch',
      CFBundleDisplayName: 'Dispatch Pro',
      CFBundleShortVersionString: '3.0',
      CFBundleVersion: '3.0.17',
    });
    const res = await post('/api/v2/appstore/inhouse', [
      {
        name: 'installer',
        filename: 'Dispatch.ipa',
        contentType: 'application/octet-stream',
        data: buildIpa({ appFolder: 'Dispatch.app', infoPlist }),
      },
      adminDeviceSpaceId,
    ]);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.results).toMatchObject({
      appId: 'com.example.dispatch',
      name: 'Dispatch Pro',
      displayVersion: '3.0',
      version: '3.0.17',
    });
    id = res.body.results.id;
  });

  it('upload_inhouse_app with a space other than 1 in the form part is refused with 400', async () => {
    const res = await post('/api/v2/appstore/inhouse', [
      { name: 'installer', filename: 'Dispatch.ipa', contentType: 'application/octet-stream', data: buildIpa() },
      { name: 'adminDeviceSpaceId', value: '7' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.messages[0]).toMatchObject({ type: 'Error', field: 'adminDeviceSpaceId' });
  });

  it('update_app_data: appData JSON and an icon → 200 and JSON; name and description are kept, other fields named as ignored', async () => {
    const appData = JSON.stringify({ name: 'Dispatch', description: 'Field dispatch for technicians', category: 'Business' });
    const res = await post(`/api/v2/appstore/apps/${id}`, [
      { name: 'appData', value: appData },
      { name: 'icon', filename: 'icon.png', contentType: 'image/png', data: png },
      adminDeviceSpaceId,
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({ id, name: 'Dispatch', description: 'Field dispatch for technicians' });
    expect(res.body.messages[0].messageKey).toContain('success');
    expect(res.body.messages[1].localizedMessage).toContain('category');
    const stored = await t.services.db.app.findUnique({ where: { id }, select: { icon: true } });
    expect(Buffer.from(stored!.icon!)).toEqual(png);
  });

  it('update_app_data without an icon changes only what appData names', async () => {
    const res = await post(`/api/v2/appstore/apps/${id}`, [
      { name: 'appData', value: JSON.stringify({ description: null }) },
      adminDeviceSpaceId,
    ]);
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({ id, name: 'Dispatch', description: null, version: '3.0.17' });
    expect(res.body.messages).toHaveLength(1);
  });

  it('update_app_data of an unknown app is 404, an icon that is not a PNG 400, appData that is not an object 400', async () => {
    expect((await post('/api/v2/appstore/apps/999999', [{ name: 'appData', value: '{}' }])).status).toBe(404);
    const notPng = await post(`/api/v2/appstore/apps/${id}`, [
      { name: 'appData', value: '{}' },
      { name: 'icon', filename: 'icon.png', contentType: 'image/png', data: Buffer.from('GIF89a') },
    ]);
    expect(notPng.status).toBe(400);
    expect(notPng.body.messages[0].field).toBe('icon');
    for (const value of ['[1,2]', '"x"', '{"name":', '{"name":""}']) {
      const res = await post(`/api/v2/appstore/apps/${id}`, [{ name: 'appData', value }]);
      expect(res.status, value).toBe(400);
      expect(res.body.messages[0].field).toMatch(/^appData/);
    }
  });
});

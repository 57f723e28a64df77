// The prefixes public Core clients put before the v2 API (docs/research/core-clients.md):
// - /rest/api/v2, MobileIron Connected Cloud's: the Axonius adapter (hshmilov/mongomock,
//   adapters/mobileiron_adapter/connection.py, always that prefix), Siemplify's MobileIronManager
//   when "connected cloud" is set;
// - /<tenant>/rest/api/v2: the npm `mobileiron` client (mathiasringhof/mobileiron, README.md and
//   lib/index.js @10737d840d61b0b60fb61f652d01b664f251c99d) takes a base URL such as
//   https://xx.mobileiron.net/company/rest and appends /api/v2/…;
// - /api/V2/ping, with a capital V: Siemplify's MobileIronManager (Python 2; the search index
//   does not name its repository, see docs/research/core-clients.md section I) pings so.
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

describe('v2 API prefixes used by Core clients', () => {
  it.each(['/rest/api/v2/ping', '/api/V2/ping', '/api/v2/ping', '/company/rest/api/v2/ping'])(
    '%s answers results.apiVersion and vspVersion',
    async (path) => {
      const res = await t.admin.get(path);
      expect(res.status).toBe(200);
      expect(res.body.results.apiVersion).toBe(2);
      expect(typeof res.body.results.vspVersion).toBe('string');
    },
  );

  it('/rest/api/v2/devices pages like /api/v2/devices, behind the same authentication', async () => {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: 'prefixed' });
    expect(created.status).toBe(201);
    const res = await t.admin.get('/rest/api/v2/devices?adminDeviceSpaceId=1&limit=200&offset=0&query=');
    expect(res.status).toBe(200);
    expect(res.body.results.map((d: Record<string, unknown>) => d['common.uuid'])).toContain(created.body.results['common.uuid']);
    expect((await t.anon.get('/rest/api/v2/devices?adminDeviceSpaceId=1')).status).toBe(401);
  });
});

describe('labelId=-1', () => {
  // Core's own Admin Portal sends labelId=-1 for "no label filter": the URL it captured is kept in
  // a comment of sebastienle/mobile_iron_incomplete, Public/Get-MIAppsOnDevice.ps1
  // (@494ff55d82cf5ef136ef7db98abf95307d2370c0), for scripts that copy it.
  it('lists and counts every device, as without labelId', async () => {
    const all = await t.admin.get('/api/v2/devices?adminDeviceSpaceId=1&limit=200');
    const minusOne = await t.admin.get('/api/v2/devices?adminDeviceSpaceId=1&labelId=-1&limit=200&offset=0');
    expect(minusOne.status).toBe(200);
    expect(minusOne.body.totalCount).toBe(all.body.totalCount);
    expect(all.body.totalCount).toBeGreaterThan(0);
    expect((await t.admin.get('/api/v2/devices/count?adminDeviceSpaceId=1&labelId=-1')).body.totalCount).toBe(all.body.totalCount);
    expect((await t.admin.get('/api/v2/devices?adminDeviceSpaceId=1&labelId=-2')).status).toBe(400);
  });

  it('a tenant segment before /rest/api/v2 reaches the same API, behind the same authentication; other prefixes do not', async () => {
    const res = await t.admin.get('/company/rest/api/v2/devices/count?adminDeviceSpaceId=1');
    expect(res.status).toBe(200);
    expect(typeof res.body.totalCount).toBe('number');
    expect((await t.anon.get('/company/rest/api/v2/devices/count?adminDeviceSpaceId=1')).status).toBe(401);
    expect((await t.admin.get('/company/rest/api/v2x/ping')).status).toBe(404);
    expect((await t.admin.get('/a/b/rest/api/v2/ping')).status).toBe(404);
  });
});

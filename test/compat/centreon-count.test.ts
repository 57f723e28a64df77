// Replays, call for call, what a public Core monitoring plugin sends, and asserts on exactly what
// it reads back. Client: nosari20/centreon-mobileiron-plugin, monitor_devices.py and
// utils/api_util.py (@0e4227e504d740439ac1e38f98eb2f617f102721): every check asks
// GET /api/v2/devices/count with adminDeviceSpaceId=1 and a query of quoted field names, treats
// any status but 200 as UNKNOWN, and reads int(answer['totalCount']) at the top level of the JSON.
// (The plugin itself cannot run here: it is not vendored, and its scheme is fixed to https.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;

/** The plugin's request: the query string built by hand, the query value percent-encoded as requests does. */
async function pluginCount(query: string): Promise<number> {
  const res = await t.admin.get(`/api/v2/devices/count?adminDeviceSpaceId=1&query=${encodeURIComponent(query).replace(/%3D/g, '=')}`);
  expect(res.status).toBe(200);
  expect(typeof res.body.totalCount).toBe('number');
  return Number.parseInt(String(res.body.totalCount), 10);
}

beforeAll(async () => {
  t = await startTestApp();
  // 4 ACTIVE devices (1 non-compliant, 1 quarantined), 1 RETIRED, 1 still pending
  const states = [
    { status: 'ACTIVE', compliant: true, quarantined: false },
    { status: 'ACTIVE', compliant: true, quarantined: false },
    { status: 'ACTIVE', compliant: false, quarantined: false },
    { status: 'ACTIVE', compliant: true, quarantined: true },
    { status: 'RETIRED', compliant: false, quarantined: true },
    null,
  ];
  for (const [i, state] of states.entries()) {
    const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: `mon-${i}`, model: 'iPhone' });
    expect(created.status).toBe(201);
    if (state)
      expect((await t.admin.put(`/api/v2/devices/${created.body.results['common.uuid']}/attributes`).send(state)).status).toBe(200);
  }
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('Centreon MobileIron plugin (monitor_devices.py): device counts', () => {
  it('active: "common.status"="ACTIVE"', async () => {
    expect(await pluginCount('"common.status"="ACTIVE"')).toBe(4);
  });

  it('non-compliant: … AND "common.compliant" = false', async () => {
    expect(await pluginCount('"common.status"="ACTIVE" AND "common.compliant" = false')).toBe(1);
  });

  it('quarantined: … AND "common.quarantined" = true', async () => {
    expect(await pluginCount('"common.status"="ACTIVE" AND "common.quarantined" = true')).toBe(1);
  });

  it('keeps the count in results too, for clients written against mockiron', async () => {
    const res = await t.admin.get('/api/v2/devices/count?adminDeviceSpaceId=1');
    expect(res.body).toEqual({ totalCount: 6, results: { totalCount: 6 } });
  });
});

// The criteria traps through the REST API (issue #20): a single-quoted value answers 400 in the
// one error envelope saying to use double quotes, and a custom attribute named in another case
// finds the device — over real HTTP against real SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const count = (query: string) => t.admin.get(`/api/v2/devices/count?query=${encodeURIComponent(query)}`);

describe('criteria traps over the API', () => {
  it("common.model contains 'iPhone' is a 400 naming double quotes, not an empty result", async () => {
    await t.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPhone8,1', serialNumber: 'TRAP1' });
    const res = await count(`common.model contains 'iPhone'`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('use double quotes: \\"iPhone\\"');
    const ok = await count('common.model contains "iPhone"');
    expect(ok.status).toBe(200);
    expect(ok.body.results.totalCount).toBe(1);
  });

  it('custom.device.costcenter finds the device whose attribute is costCenter', async () => {
    const uuid = (await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber: 'TRAP2' })).body.results['common.uuid'];
    expect((await t.admin.put(`/api/v2/devices/${uuid}/attributes`).send({ custom: { costCenter: 'R&D' } })).status).toBe(200);
    for (const query of [
      'custom.device.costcenter = "R&D"',
      'custom.device.costCenter = "r&d"',
      'custom.device.COSTCENTER starts with "r"',
    ]) {
      const res = await count(query);
      expect(res.status, query).toBe(200);
      expect(res.body.results.totalCount, query).toBe(1);
    }
  });
});

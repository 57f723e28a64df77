// A draft XSOAR automation script found in the search index (repository not named there; read_file
// id=41245553105, docs/research/core-clients.md section R). It POSTs
// /api/v2/devices/action?adminDeviceSpaceId=1&actionType=SEND_MESSAGE|UPDATE_OS|UNLOCK_DEVICE_ONLY
// with requests' `data=` set to a string that is not JSON ({"deviceUuids":[deviceid],…} with a bare
// word) and no Content-Type, and counts status 200 as success. Core cannot act on it either; what
// matters is that the refusal is a 4xx in the one envelope, with nothing queued — never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let uuid: string;
beforeAll(async () => {
  t = await startTestApp();
  const created = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: 'draft-target' });
  expect(created.status).toBe(201);
  uuid = created.body.results['common.uuid'];
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('draft XSOAR script: a body that is not JSON', () => {
  for (const actionType of ['SEND_MESSAGE', 'UPDATE_OS', 'UNLOCK_DEVICE_ONLY']) {
    for (const contentType of [undefined, 'application/json']) {
      it(`${actionType}, Content-Type ${contentType ?? 'absent'}: a 4xx with messages[], nothing queued or audited`, async () => {
        const auditBefore = await t.services.db.auditEvent.count();
        const req = t.anon.post('/api/v2/devices/action').auth('admin', adminPassword).query({ adminDeviceSpaceId: 1, actionType });
        if (contentType) req.set('Content-Type', contentType);
        // What requests sends for data=<str>: the bytes as they are, no Content-Type of its own.
        const res = await req.send(`{"deviceUuids":[deviceid],"note":"from XSOAR"}`);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.messages[0]).toMatchObject({ type: 'Error' });
        expect(typeof res.body.messages[0].localizedMessage).toBe('string');
        expect(await t.services.db.mdmCommand.count({ where: { device: { uuid } } })).toBe(0);
        expect(await t.services.db.auditEvent.count()).toBe(auditBefore);
      });
    }
  }
});

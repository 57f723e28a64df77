// The Flask "Admin Api" label-request tool (repository not named by the index; read as
// `read_file id=33123680690`, its later version), replayed call for call for its label steps
// (addLabelMi / removeLabelMi, fetchDeviceLabels). Python requests with auth=(user, password),
// adminDeviceSpaceId in params=: GET api/v2/labels/{id} and compare results.name with the
// expected name; GET api/v2/devices with fields=common.uuid and query=common.uuid="<uuid>" and
// require a result; GET api/v2/devices/{uuid}/labels and look for an entry whose name is the
// label's and whose id equals str(labelId); PUT api/v2/devices/labels/{labelName}/add|remove
// with json={"deviceUuids": [uuid]} and read successful.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let uuid: string;
let labelId: number;
const labelName = '4G VPN Profile';
const params = { adminDeviceSpaceId: '1' };

beforeAll(async () => {
  t = await startTestApp();
  uuid = (await t.admin.post('/api/v2/devices').send({ platform: 'Android', model: 'Pixel', serialNumber: 'FLASK1' })).body.results[
    'common.uuid'
  ];
  labelId = (await t.admin.post('/api/v2/labels').send({ name: labelName, static: true })).body.results.id;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** The tool's checks before it changes anything: the label id names the label, the device exists. */
async function preconditions() {
  const label = await t.admin.get(`/api/v2/labels/${Number.parseInt(String(labelId), 10)}`).query(params);
  expect(label.body.results.name).toBe(labelName);
  const found = await t.admin.get('/api/v2/devices').query({ ...params, fields: 'common.uuid', query: `common.uuid="${uuid}"` });
  expect(found.body.results).toHaveLength(1);
}

/** fetchDeviceLabels / the check removeLabelMi makes: name and str(id) both match. */
async function deviceHasLabel(): Promise<boolean> {
  const res = await t.admin.get(`/api/v2/devices/${uuid}/labels`).query(params);
  expect(res.status).toBe(200);
  return res.body.results.some((l: { name: string; id: unknown }) => l.name === labelName && l.id === String(labelId));
}

function put(op: 'add' | 'remove') {
  // requests percent-encodes the space in the path.
  return t.admin
    .put(`/api/v2/devices/labels/${encodeURIComponent(labelName)}/${op}`)
    .query(params)
    .set('Content-Type', 'application/json')
    .send({ deviceUuids: [uuid] });
}

describe('Flask label tool', () => {
  it('addLabelMi: checks, then PUT …/add answers successful and the device lists the label with a string id', async () => {
    await preconditions();
    const res = await put('add');
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    expect(await deviceHasLabel()).toBe(true);
  });

  it('removeLabelMi: finds the label on the device by name and str(id), then PUT …/remove answers successful', async () => {
    await preconditions();
    expect(await deviceHasLabel()).toBe(true);
    const res = await put('remove');
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    expect(await deviceHasLabel()).toBe(false);
  });
});

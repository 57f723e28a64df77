// mjdibella/MICore.PSHelper, MICore.PSHelper.psm1 (@301bdb5707eda2adb29482b9e7a469fc5fbea96a),
// replayed call for call for its label cmdlets. The module builds JSON bodies as strings, sends
// `Authorization: Basic` on every call, adminDeviceSpaceId=1 in the query, and passes each URL
// through [uri]::EscapeUriString (a label name with a space arrives as %20). It reads back:
// New-MIStaticLabel results.id/.name/.staticLabel; Get-MILabel results; Get-MIDeviceLabel
// results (Copy-MIDeviceLabels keeps those with staticLabel -eq $true and takes .name);
// Add-MIDeviceLabel results.records.label/.device.message/.device.failureCode;
// Remove-MIDeviceLabel successful; Remove-MILabel the status code only. Invoke-WebRequest throws
// on any non-2xx status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let source: string;
let target: string;

async function device(name: string): Promise<string> {
  const res = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', deviceName: name, model: 'iPhone' });
  expect(res.status).toBe(201);
  return res.body.results['common.uuid'];
}

/** The module's string-built JSON, sent as -contentType application/json. */
const json = (text: string) => ({ text, type: 'application/json' });

beforeAll(async () => {
  t = await startTestApp();
  source = await device('source');
  target = await device('target');
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

async function newStaticLabel(name: string, description = '') {
  const body = json('{"name": "' + name + '","description": "' + description + '","deviceSpaceId": 1,"static": true}');
  return t.admin.post('/api/v2/labels/?adminDeviceSpaceId=1').set('content-type', body.type).send(body.text);
}

async function addDeviceLabel(uuid: string, label: string) {
  return t.admin
    .put(`/api/v2/devices/labels/${encodeURI(label)}/add?adminDeviceSpaceId=1`)
    .set('content-type', 'application/json')
    .send('{"deviceUuids": ["' + uuid + '"]}');
}

async function deviceLabels(uuid: string): Promise<Array<Record<string, unknown>>> {
  const res = await t.admin.get(`/api/v2/devices/${uuid}/labels?adminDeviceSpaceId=1`);
  expect(res.status).toBe(200);
  return res.body.results;
}

describe('MICore.PSHelper label cmdlets', () => {
  let salesId: number;

  it('New-MIStaticLabel: POST /labels/ with {name, description, deviceSpaceId: 1, static: true} answers id, name and staticLabel', async () => {
    const res = await newStaticLabel('Sales Team', 'Field sales');
    expect(res.status).toBe(201);
    expect(typeof res.body.results.id).toBe('number');
    expect(res.body.results.name).toBe('Sales Team');
    expect(res.body.results.staticLabel).toBe(true);
    salesId = res.body.results.id;
    expect((await newStaticLabel('Fleet')).status).toBe(201);
  });

  it('Get-MILabel: label_summary and labels/{id} answer results with the label', async () => {
    const all = await t.admin.get('/api/v2/labels/label_summary?adminDeviceSpaceId=1');
    expect(all.status).toBe(200);
    expect(all.body.results.find((l: { id: number }) => l.id === salesId)).toMatchObject({
      name: 'Sales Team',
      description: 'Field sales',
    });
    const one = await t.admin.get(`/api/v2/labels/${salesId}?adminDeviceSpaceId=1`);
    expect(one.status).toBe(200);
    expect(one.body.results).toMatchObject({ id: salesId, name: 'Sales Team', staticLabel: true });
  });

  it('Add-MIDeviceLabel: PUT /devices/labels/Sales%20Team/add answers a record per device', async () => {
    for (const label of ['Sales Team', 'Fleet']) {
      const res = await addDeviceLabel(source, label);
      expect(res.status).toBe(200);
      expect(res.body.results.records.map((r: { label: string }) => r.label)).toEqual([label]);
      expect(res.body.results.records[0].device.message).toEqual(expect.stringContaining('applied'));
      expect(res.body.results.records[0].device.failureCode).toBeNull();
    }
  });

  it('Add-MIDeviceLabel for a device that does not exist: the record says why, with a failure code', async () => {
    const res = await addDeviceLabel('0f0e0d0c-0b0a-4909-8807-060504030201', 'Fleet');
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(false);
    expect(res.body.results.records[0].device.message).toMatch(/not found/);
    expect(res.body.results.records[0].device.failureCode).toBe('DEVICE_NOT_FOUND');
  });

  it('Get-MIDeviceLabel and Copy-MIDeviceLabels: the static labels of one device applied to another', async () => {
    const labels = await deviceLabels(source);
    // System labels (All-Smartphones, iOS) are filter labels: staticLabel false, so not copied.
    expect(labels.filter((l) => l.staticLabel === false).map((l) => l.name)).toEqual(expect.arrayContaining(['All-Smartphones', 'iOS']));
    const copied = labels.filter((l) => l.staticLabel === true).map((l) => String(l.name));
    expect(copied.sort()).toEqual(['Fleet', 'Sales Team']);
    for (const label of copied) {
      const res = await addDeviceLabel(target, label);
      expect(res.body.results.records[0].device.failureCode).toBeNull();
    }
    const onTarget = (await deviceLabels(target)).filter((l) => l.staticLabel === true).map((l) => l.name);
    expect(onTarget.sort()).toEqual(['Fleet', 'Sales Team']);
  });

  it('Remove-MIDeviceLabel: PUT /devices/labels/Sales%20Team/remove answers successful', async () => {
    const res = await t.admin
      .put(`/api/v2/devices/labels/${encodeURI('Sales Team')}/remove?adminDeviceSpaceId=1`)
      .set('content-type', 'application/json')
      .send('{"deviceUuids": ["' + target + '"]}');
    expect(res.status).toBe(200);
    expect(res.body.successful).toBe(true);
    expect((await deviceLabels(target)).map((l) => l.name)).not.toContain('Sales Team');
  });

  it('Remove-MILabel: DELETE /labels/ with {reason, labelIds, deviceSpaceId} answers 200 and the label is gone', async () => {
    const res = await t.admin
      .delete('/api/v2/labels/?adminDeviceSpaceId=1')
      .set('content-type', 'application/json')
      .send('{"reason": "reorganised","labelIds":[' + salesId + '],"deviceSpaceId": 1}');
    expect(res.status).toBe(200);
    expect((await t.admin.get(`/api/v2/labels/${salesId}?adminDeviceSpaceId=1`)).status).toBe(404);
    expect((await deviceLabels(source)).map((l) => l.name)).not.toContain('Sales Team');
  });
});

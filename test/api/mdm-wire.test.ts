// The device endpoints' answers on the wire: status, Content-Type and body of every kind of
// answer (check-in accepted, a command, nothing queued, authentication refused, message
// rejected). The MDM parts return domain outcomes and src/mdm/routes.ts writes them; this pins
// down what a device receives, byte for byte, whatever the layers behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let d: TestDevice;
beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'wire' });
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'wire', identity: 'scep' })).body.results;
  d = new TestDevice(t.app);
  await d.enroll(inv.url);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const wire = (res: { status: number; headers: Record<string, string>; body: Buffer }) => ({
  status: res.status,
  contentType: res.headers['content-type'],
  body: res.body.toString('utf8'),
});

describe('device answers on the wire', () => {
  it('check-in accepted: 200, application/xml (express adds the charset), empty', async () => {
    expect(wire(await d.authenticate())).toEqual({ status: 200, contentType: 'application/xml; charset=utf-8', body: '' });
    expect(wire(await d.tokenUpdate())).toEqual({ status: 200, contentType: 'application/xml; charset=utf-8', body: '' });
  });

  it('a command: 200, application/xml; charset=utf-8, the command plist; nothing queued: 200, text/plain, empty', async () => {
    const uuid = (await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' })).body
      .results[0]['common.uuid'];
    await d.drain();
    const queued = (await t.admin.post(`/api/v2/devices/${uuid}/commands`).send({ RequestType: 'ProfileList' })).body.results;
    const res = wire(await d.put('/mdm/connect', { UDID: d.udid, Status: 'Idle' }));
    expect(res).toMatchObject({ status: 200, contentType: 'application/xml; charset=utf-8' });
    expect(res.body).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
    expect(res.body).toContain(`<string>${queued.commandUuid}</string>`);
    const idle = await d.put('/mdm/connect', { UDID: d.udid, Status: 'Acknowledged', CommandUUID: queued.commandUuid });
    expect(wire(idle)).toEqual({ status: 200, contentType: 'text/plain; charset=utf-8', body: '' });
  });

  it('authentication refused: 401, text/plain, the reason', async () => {
    const res = await d.put('/mdm/connect', { UDID: 'f'.repeat(40), Status: 'Idle' });
    expect(wire(res)).toEqual({
      status: 401,
      contentType: 'text/plain; charset=utf-8',
      body: 'the UDID in the message does not match the device this certificate was issued to',
    });
  });

  it('message rejected: 400, text/plain, the reason', async () => {
    const res = await d.checkin({ MessageType: 'NoSuchMessage' }, { tamper: false });
    expect(wire(res)).toEqual({ status: 400, contentType: 'text/plain; charset=utf-8', body: 'unknown MessageType NoSuchMessage' });
    const unknown = await d.put('/mdm/connect', { UDID: d.udid, Status: 'Acknowledged', CommandUUID: 'NOT-A-COMMAND' });
    expect(wire(unknown)).toEqual({ status: 400, contentType: 'text/plain; charset=utf-8', body: 'unknown CommandUUID NOT-A-COMMAND' });
  });
});

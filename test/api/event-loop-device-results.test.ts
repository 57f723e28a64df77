// Issue #13: an enrolled device must not stall the server with a big command result. A real
// iPad with a few thousand apps answers InstalledApplicationList with about 2 MB; /mdm/connect
// accepts 2 MiB. Before src/lib/plist/xml.ts replaced the `plist` package's DOM (0.4-0.7 s per MB)
// this stalled the loop 0.75-0.8 s; reading, re-serialising and storing the answer now run in
// separate slices. Its own file: a fresh process, not the heap of the 10,000-device tests.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { parsePlist, toXmlPlist } from '../../src/lib/plist/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';
import { bestOf, maxDelayMs, measureDelay } from '../helpers/event-loop.js';

let t: TestApp;
let device: TestDevice;
beforeAll(async () => {
  t = await startTestApp();
  t.services.mdm.stop();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe' });
  device = new TestDevice(t.app);
  await device.enroll((await t.admin.post('/api/v2/enrollments').send({ userId: 'jdoe' })).body.results.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

it('stores a 1.9 MB InstalledApplicationList answer from an enrolled device without stalling the loop', async () => {
  const measured = await bestOf(3, async () => {
    const queued = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send({ RequestType: 'InstalledApplicationList' });
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    const command = (await device.connect()).command!;
    expect(command.Command).toMatchObject({ RequestType: 'InstalledApplicationList' });
    // The answer and its Mdm-Signature are the device's work: made before the window.
    const apps = Array.from({ length: 3800 }, (_, i) => ({
      Identifier: `com.example.app${i}`,
      Name: `App ${i} & <more>`,
      Version: `${i % 9}.${i % 7}.1`,
      ShortVersion: `${i % 9}.${i % 7}`,
      BundleSize: 123_456 + i,
      DynamicSize: 4096 * (i % 13),
      Installing: false,
      IsValidated: true,
      ExternalVersionIdentifier: 800_000_000 + i,
    }));
    const body = Buffer.from(
      toXmlPlist({ UDID: device.udid, CommandUUID: command.CommandUUID as string, Status: 'Acknowledged', InstalledApplicationList: apps }),
    );
    expect(body.length).toBeGreaterThan(1_800_000);
    expect(body.length).toBeLessThan(2 * 1024 * 1024);
    const signature = signMdmRequest(body, { privateKey: device.key, certificate: device.certificate });
    const run = await measureDelay(() =>
      t.anon
        .put('/mdm/connect')
        .set('content-type', 'application/x-apple-aspen-mdm')
        .set('Mdm-Signature', signature)
        .send(body)
        .buffer(true)
        .parse(rawBody),
    );
    expect(run.result.status, String(run.result.body).slice(0, 300)).toBe(200);
    // stored whole: the answer as the server keeps it reads back to what the device sent
    const acknowledged = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands?status=Acknowledged`).buffer(true).parse(rawBody);
    const stored = (JSON.parse(String(acknowledged.body)).results as Array<{ commandUuid: string; result: string }>).find(
      (c) => c.commandUuid === command.CommandUUID,
    );
    expect(parsePlist(stored!.result)).toEqual(parsePlist(body));
    return run;
  });
  const { maxDelayMs: delay, rawMaxDelayMs, elapsedMs, attempts } = measured;
  console.log('event-loop delay, 1.9 MB InstalledApplicationList (ms):', JSON.stringify({ delay, rawMaxDelayMs, elapsedMs, attempts }));
  expect(measured.maxDelayMs, `event loop stalled ${measured.attempts.join(', ')} ms on a 1.9 MB InstalledApplicationList`).toBeLessThan(
    maxDelayMs,
  );
});

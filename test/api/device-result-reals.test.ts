// An enrolled device's answer holding a value our XML writer cannot write back: storing the
// answer re-serialises it (recordResult), which threw and answered 500. A real that is not finite
// (Infinity, a decimal beyond the double range) is now refused by the plist readers (plistlib,
// Lib/plistlib.py, reads "Infinity" as inf, but our codec has no way to write it); any other
// value the writer refuses (a control character in a string) is refused by recordResult. Either
// way the device gets a 400 in plain text and nothing is stored.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let t: TestApp;
let device: TestDevice;
beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe', email: 'jdoe@example.com' });
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

function signedPut(body: Buffer) {
  const signature = signMdmRequest(body, { privateKey: device.key, certificate: device.certificate });
  return t.anon
    .put('/mdm/connect')
    .set('content-type', 'application/x-apple-aspen-mdm')
    .set('Mdm-Signature', signature)
    .send(body)
    .buffer(true)
    .parse(rawBody);
}

describe('a command result with a string that XML cannot carry', () => {
  // XML 1.0 forbids U+0001 even as a reference; the package and our reader take it literally (as
  // CoreFoundation's reader does), a binary plist can hold it, and toXmlPlist refuses to write it
  it.each(['XML (literal U+0001)', 'binary (as plistlib writes it)'])(
    '%s: 400 in plain text, the command not acknowledged',
    async (format) => {
      const queued = await t.admin
        .post(`/api/v2/devices/${device.deviceUuid}/commands`)
        .send({ RequestType: 'DeviceInformation', Queries: ['DeviceName'] });
      expect(queued.status).toBe(201);
      const command = (await device.connect()).command!;
      const answer = {
        UDID: device.udid,
        CommandUUID: command.CommandUUID as string,
        Status: 'Acknowledged',
        QueryResponses: { DeviceName: 'bad\u0001name' },
      };
      const script = `import plistlib, sys, json, base64
sys.stdout.write(base64.b64encode(plistlib.dumps(json.loads(sys.argv[1]), fmt=plistlib.FMT_BINARY)).decode())`;
      const body = format.startsWith('XML')
        ? Buffer.from(
            `<plist version="1.0"><dict><key>UDID</key><string>${answer.UDID}</string><key>CommandUUID</key><string>${answer.CommandUUID}</string><key>Status</key><string>Acknowledged</string><key>QueryResponses</key><dict><key>DeviceName</key><string>bad\u0001name</string></dict></dict></plist>`,
          )
        : Buffer.from(execFileSync('python3', ['-c', script, JSON.stringify(answer)], { encoding: 'utf8' }), 'base64');
      const res = await signedPut(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(String(res.body)).toMatch(/^malformed command result: QueryResponses\.DeviceName: character U\+0001 cannot be represented/);
      const acknowledged = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands?status=Acknowledged`);
      expect(JSON.stringify(acknowledged.body)).not.toContain(command.CommandUUID as string);
    },
  );
});

describe('a command result with a real that cannot be written back', () => {
  const xmlAnswer = (uuid: string, real: string) =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>UDID</key><string>${device.udid}</string>` +
        `<key>CommandUUID</key><string>${uuid}</string><key>Status</key><string>Acknowledged</string>` +
        `<key>QueryResponses</key><dict><key>BatteryLevel</key><real>${real}</real></dict></dict></plist>`,
    );
  const binaryAnswer = (uuid: string, real: string) => {
    const script = `import plistlib, sys, json, base64
d = json.loads(sys.argv[1])
d["QueryResponses"] = {"BatteryLevel": float(sys.argv[2])}
sys.stdout.write(base64.b64encode(plistlib.dumps(d, fmt=plistlib.FMT_BINARY)).decode())`;
    return Buffer.from(
      execFileSync('python3', ['-c', script, JSON.stringify({ UDID: device.udid, CommandUUID: uuid, Status: 'Acknowledged' }), real], {
        encoding: 'utf8',
      }),
      'base64',
    );
  };

  it.each([
    ['XML <real>Infinity</real>', (uuid: string) => xmlAnswer(uuid, 'Infinity')],
    ['XML <real>1e400</real>', (uuid: string) => xmlAnswer(uuid, '1e400')],
    ['binary -inf (as plistlib writes it)', (uuid: string) => binaryAnswer(uuid, '-inf')],
  ])('%s: 400 in plain text, the command not acknowledged; a finite real is then accepted', async (_label, answer) => {
    const queued = await t.admin
      .post(`/api/v2/devices/${device.deviceUuid}/commands`)
      .send({ RequestType: 'DeviceInformation', Queries: ['BatteryLevel'] });
    expect(queued.status).toBe(201);
    const command = (await device.connect()).command!;
    const res = await signedPut(answer(command.CommandUUID as string));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // XML names the path; the binary reader names none
    expect(String(res.body)).toMatch(/^malformed command result: .*(BatteryLevel: <real>|a real) is not a (finite )?number$/);
    const acknowledged = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands?status=Acknowledged`);
    expect(JSON.stringify(acknowledged.body)).not.toContain(command.CommandUUID as string);
    // the device can still answer the same command properly
    expect((await signedPut(xmlAnswer(command.CommandUUID as string, '0.5'))).status).toBe(200);
    const after = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/commands?status=Acknowledged`);
    expect(JSON.stringify(after.body)).toContain(command.CommandUUID as string);
  });
});

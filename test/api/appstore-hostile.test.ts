// Hostile uploads to the app store: what an upload may cost is bounded before and while it is
// read (credentials first, the declared length, every part, the zip's entry count, the one
// entry inflated), and every refusal is a 4xx in the one envelope with nothing stored.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { buildIpa, infoPlistXml, rubyMultipart, type Part } from '../helpers/ipa.js';

let t: TestApp;
let server: http.Server;
beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0);
  expect((await t.admin.post('/api/v2/appstore/apps').send({ name: 'Store App', bundleId: 'com.example.store' })).status).toBe(201);
});
afterAll(async () => {
  server?.close();
  await t.close();
  removeDir(t.dataDir);
});

const appCount = () => t.services.db.app.count();

function upload(parts: Part[]) {
  const { contentType, body } = rubyMultipart(parts);
  return t.anon.post('/api/v2/appstore/inhouse').auth('admin', adminPassword).set('Content-Type', contentType).send(body);
}
const installer = (data: Buffer, filename = 'App.ipa'): Part => ({
  name: 'installer',
  filename,
  contentType: 'application/octet-stream',
  data,
});

/** Refused with `status` in the envelope, and the catalog is as it was. */
async function refused(parts: Part[], status: number, says: RegExp) {
  const before = await appCount();
  const res = await upload(parts);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.messages[0].type).toBe('Error');
  expect(res.body.messages[0].localizedMessage).toMatch(says);
  expect(await appCount()).toBe(before);
  return res;
}

/**
 * Starts a request that declares `declared` bytes, sends only the first 64 KB and waits for the
 * answer: an answer that arrives proves the server refused without waiting for the rest.
 */
function answerBeforeBody(
  declared: number,
  headers: Record<string, string>,
): Promise<{ status: number; connection?: string; sent: number }> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = http.request({
      port,
      method: 'POST',
      path: '/api/v2/appstore/inhouse?adminDeviceSpaceId=1',
      headers: { 'Content-Type': 'multipart/form-data; boundary=xyz', 'Content-Length': String(declared), ...headers },
    });
    const first = Buffer.alloc(64 * 1024, 0x41);
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode!, connection: res.headers.connection, sent: first.length });
      req.destroy();
    });
    req.on('error', (err) => (err.message.includes('socket hang up') || err.message.includes('EPIPE') ? undefined : reject(err)));
    req.write(first);
  });
}

describe('uploads are paid for only after authentication', () => {
  it('a 50 MB upload without credentials is answered 401 after 64 KB of it: the rest is never waited for', async () => {
    const answer = await answerBeforeBody(50 * 1024 * 1024, {});
    expect(answer.status).toBe(401);
    // The connection is closed rather than drained of the 50 MB.
    expect(answer.connection).toBe('close');
  });

  it('with credentials, a declared length over the bound is answered 413 before the body is read', async () => {
    const auth = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
    const answer = await answerBeforeBody(150 * 1024 * 1024, { Authorization: auth });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
  });
});

describe('hostile installers', () => {
  it('not a zip: 400', async () => {
    await refused([installer(Buffer.from('this is not an ipa, just text'.repeat(10)))], 400, /not a zip/);
  });

  it('a zip without Payload/<Name>.app/Info.plist: 400', async () => {
    const zip = Buffer.from(zipSync({ 'Payload/App.app/App': new Uint8Array(100), 'README.txt': new Uint8Array(10) }));
    await refused([installer(zip)], 400, /no Payload\/<Name>\.app\/Info\.plist/);
  });

  it('an .apk: 400 saying Android installers are not read', async () => {
    await refused([installer(buildIpa(), 'app-release.apk')], 400, /Android \.apk/);
  });

  it('5,000 entries: 400, from the central directory alone', async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5000; i++) files[`Payload/Many.app/f${i}`] = new Uint8Array(0);
    await refused([installer(buildIpa({ extra: files }))], 400, /5003 entries; at most 4096/);
  });

  it('a zip bomb whose Info.plist says it inflates to 20 MB: 413 without inflating it', async () => {
    const zip = buildIpa({ infoPlist: new Uint8Array(20 * 1024 * 1024) });
    expect(zip.length).toBeLessThan(200 * 1024);
    await refused([installer(zip)], 413, /larger than 1048576 bytes/);
  });

  it('a zip bomb that lies about its size (declares 100 bytes): inflating stops at the bound, 413', async () => {
    const zip = lieAboutSize(buildIpa({ infoPlist: new Uint8Array(20 * 1024 * 1024) }), 'Payload/FieldNotes.app/Info.plist', 100);
    await refused([installer(zip)], 413, /inflates to more than 1048576 bytes/);
  });

  it.each([
    ['../../../tmp/evil.sh', /unsafe entry name/],
    ['Payload/../Evil.app/Info.plist', /unsafe entry name/],
    ['/etc/passwd', /unsafe entry name/],
    ['Payload\\FieldNotes.app\\evil', /unsafe entry name/],
  ])('an entry named %j: 400', async (name, says) => {
    await refused([installer(buildIpa({ extra: { [name]: new Uint8Array(4) } }))], 400, says);
  });

  it('an Info.plist that is not a plist, or has no CFBundleIdentifier, or a malformed one: 400', async () => {
    await refused([installer(buildIpa({ infoPlist: Buffer.from('{"json": true}') }))], 400, /not a property list/);
    await refused([installer(buildIpa({ infoPlist: infoPlistXml({ CFBundleName: 'Nameless' }) }))], 400, /no CFBundleIdentifier/);
    await refused([installer(buildIpa({ bundleId: 'not a bundle id' }))], 400, /reverse-DNS/);
    await refused([installer(buildIpa({ build: 'x'.repeat(40) }))], 400, /CFBundleVersion/);
  });

  it('the bundle id of an App Store app in the catalog: 409', async () => {
    await refused([installer(buildIpa({ bundleId: 'com.example.store' }))], 409, /already in the catalog/);
  });
});

describe('hostile multipart bodies', () => {
  it('no installer part, a repeated one, or a part the route does not take: 400', async () => {
    await refused([{ name: 'adminDeviceSpaceId', value: '1' }], 400, /installer/);
    await refused([installer(buildIpa()), installer(buildIpa())], 400, /sent more than once/);
    await refused([installer(buildIpa()), { name: '__proto__', value: '{"role":"admin"}' }], 400, /unexpected field part/);
    await refused(
      [{ name: 'payload', filename: 'x.bin', contentType: 'application/octet-stream', data: Buffer.alloc(10) }],
      400,
      /unexpected file part/,
    );
  });

  it('a multipart body without a boundary, or cut short: 400', async () => {
    const noBoundary = await t.anon
      .post('/api/v2/appstore/inhouse')
      .auth('admin', adminPassword)
      .set('Content-Type', 'multipart/form-data')
      .send('x');
    expect(noBoundary.status).toBe(400);
    const { contentType, body } = rubyMultipart([installer(buildIpa())]);
    const cut = await t.anon
      .post('/api/v2/appstore/inhouse')
      .auth('admin', adminPassword)
      .set('Content-Type', contentType)
      .send(body.subarray(0, body.length - 200));
    expect(cut.status).toBe(400);
    expect(cut.body.messages[0].type).toBe('Error');
  });

  it('appData over 64 KB: 413; an icon over 512 KB: 413', async () => {
    const app = (await t.admin.get('/api/v2/appstore/apps')).body.results[0];
    const post = (parts: Part[]) => {
      const { contentType, body } = rubyMultipart(parts);
      return t.anon.post(`/api/v2/appstore/apps/${app.id}`).auth('admin', adminPassword).set('Content-Type', contentType).send(body);
    };
    const huge = await post([{ name: 'appData', value: JSON.stringify({ description: 'x'.repeat(70 * 1024) }) }]);
    expect(huge.status).toBe(413);
    expect(huge.body.messages[0].localizedMessage).toMatch(/appData/);
    const icon = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(520 * 1024)]);
    const bigIcon = await post([
      { name: 'appData', value: '{}' },
      { name: 'icon', filename: 'icon.png', contentType: 'image/png', data: icon },
    ]);
    expect(bigIcon.status).toBe(413);
    expect((await t.admin.get(`/api/v2/appstore/apps/${app.id}`)).body.results.description ?? null).toBeNull();
  });
});

/** Rewrites the uncompressed size an entry declares (local header and central directory). */
function lieAboutSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const encoded = Buffer.from(name);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50 && out.subarray(i + 30, i + 30 + encoded.length).equals(encoded)) out.writeUInt32LE(size, i + 22);
    if (sig === 0x02014b50 && out.subarray(i + 46, i + 46 + encoded.length).equals(encoded)) out.writeUInt32LE(size, i + 24);
  }
  return out;
}

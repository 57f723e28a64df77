// Real pushes: mockiron's APNs provider against a local stand-in for Apple's service
// (test/helpers/apns-stand-in.ts: HTTP/2 over TLS, client certificate checked, headers and payload
// checked, answers as Apple documents them), and the MDM push certificate as an admin resource.
// Sources checked against:
// - Apple, "Sending notification requests to APNs" (developer.apple.com/documentation/usernotifications/
//   sending-notification-requests-to-apns): POST /3/device/<token> over HTTP/2, apns-push-type,
//   apns-topic, apns-priority, apns-expiration; certificate-based trust.
// - Apple, "Handling notification responses from APNs" (developer.apple.com/documentation/
//   usernotifications/handling-notification-responses-from-apns): 200; 400 BadDeviceToken; 403
//   certificate errors; 410 Unregistered ("the device token is no longer active for the topic");
//   429 TooManyRequests ("too many requests for the same device token"); 500/503.
// - Apple, "Dealing with Inactive MDM Devices and Invalid Push Tokens" and the MDM protocol: the
//   payload is {"mdm": PushMagic}; the topic is the push certificate's UID and must be the
//   enrollment profile's Topic.
// - NanoMDM's push provider (github.com/micromdm/nanomdm, push/nanopush/provider.go): one HTTP/2
//   client for all pushes, {"mdm": PushMagic} to /3/device/<token>, apns-expiration, the JSON
//   reason of a non-200 answer. Certificates are made with the openssl command line.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import { startTestApp, removeDir, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';
import { selfSignedPushCertificate, startApnsStandIn, type ApnsStandIn } from '../helpers/apns-stand-in.js';
import type { PlistDict } from '../../src/lib/plist/index.js';

const TOPIC = 'com.apple.mgmt.External.mockiron';
let apns: ApnsStandIn;
let t: TestApp;

beforeAll(async () => {
  apns = await startApnsStandIn();
  t = await startTestApp({ env: { MOCKIRON_APNS_URL: apns.url, MOCKIRON_APNS_CA_FILE: apns.caFile } });
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe' });
}, 60_000);
afterAll(async () => {
  await t.close();
  await apns.close();
  removeDir(t.dataDir);
});
afterEach(() => {
  apns.behaviour = () => 'ok';
});

async function enrolledDevice(): Promise<TestDevice> {
  const inv = (await t.admin.post('/api/v2/enrollments').send({ userId: 'jdoe', identity: 'scep' })).body.results;
  const d = new TestDevice(t.app);
  await d.enroll(inv.url);
  expect((await d.authenticate()).status).toBe(200);
  expect((await d.tokenUpdate()).status).toBe(200);
  d.deviceUuid = (
    await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${d.udid}"`, fields: 'common.uuid' })
  ).body.results[0]['common.uuid'];
  return d;
}

function tokenOf(d: TestDevice): string {
  const db = new Database(path.join(t.dataDir, 'mockiron.db'), { readonly: true });
  try {
    return (db.prepare('SELECT pushToken FROM Device WHERE uuid = ?').get(d.deviceUuid) as { pushToken: string }).pushToken;
  } finally {
    db.close();
  }
}

const pushesTo = (token: string) => apns.received.filter((p) => p.token === token);
const queueCommand = (d: TestDevice) =>
  t.admin.post(`/api/v2/devices/${d.deviceUuid}/commands`).send({ RequestType: 'DeviceInformation', Queries: ['OSVersion'] });
const outcomes = async (d: TestDevice) =>
  (await t.admin.get(`/api/v2/devices/${d.deviceUuid}/pushes`)).body.results as Array<{ outcome: string; provider: string }>;

async function until<T>(what: () => Promise<T> | T, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('without a push certificate', () => {
  it('records pushes (the default), sends nothing, and GET answers 404', async () => {
    const d = await enrolledDevice();
    expect((await t.admin.get('/api/v2/apns/certificate')).status).toBe(404);
    expect((await queueCommand(d)).status).toBe(201);
    expect((await outcomes(d))[0]).toMatchObject({ provider: 'recording', outcome: 'recorded' });
    expect(apns.received).toHaveLength(0);
  });
});

describe('the push certificate resource', () => {
  it('refuses bad input with 400 and the envelope, and anonymous callers with 401', async () => {
    const cert = apns.pushCertificate(TOPIC);
    const other = apns.pushCertificate(TOPIC);
    const cases: Array<[unknown, RegExp]> = [
      [{ certificate: 'not a pem', privateKey: cert.keyPem }, /not a PEM X.509/],
      [{ certificate: cert.certificatePem, privateKey: 'nope' }, /not a PEM private key/],
      [{ certificate: cert.certificatePem, privateKey: other.keyPem }, /no certificate matches/],
      [{ pkcs12: cert.pkcs12, passphrase: 'wrong' }, /passphrase|PKCS#12/],
      [{ certificate: 'x'.repeat(70_000), privateKey: cert.keyPem }, /./],
      [{ certificate: cert.certificatePem }, /./],
      [{ certificate: cert.certificatePem, privateKey: cert.keyPem, extra: 1 }, /./],
    ];
    for (const [body, message] of cases) {
      const res = await t.admin.put('/api/v2/apns/certificate').send(body as object);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(JSON.stringify(res.body.messages)).toMatch(message);
    }
    const notPush = apns.pushCertificate('com.example.not-mdm');
    const refused = await t.admin.put('/api/v2/apns/certificate').send({ certificate: notPush.certificatePem, privateKey: notPush.keyPem });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/not an MDM push topic/);
    expect((await t.anon.put('/api/v2/apns/certificate').send({ certificate: cert.certificatePem, privateKey: cert.keyPem })).status).toBe(
      401,
    );
    expect((await t.anon.get('/api/v2/apns/certificate')).status).toBe(401);
  });

  it("refuses a certificate whose topic is not the enrolled devices' Topic, with a clear error", async () => {
    const foreign = apns.pushCertificate('com.apple.mgmt.External.00000000-1111-2222-3333-444444444444');
    const res = await t.admin.put('/api/v2/apns/certificate').send({ certificate: foreign.certificatePem, privateKey: foreign.keyPem });
    expect(res.status).toBe(409);
    const text = JSON.stringify(res.body);
    expect(text).toContain('com.apple.mgmt.External.00000000-1111-2222-3333-444444444444');
    expect(text).toContain(TOPIC);
    expect(text).toMatch(/would never receive its pushes/);
    expect((await t.admin.get('/api/v2/apns/certificate')).status).toBe(404);
  });

  it('takes a PKCS#12, reads back topic, subject and expiry, warns within 30 days, seals the key and never returns it', async () => {
    const soon = apns.pushCertificate(TOPIC, { days: 10 });
    const res = await t.admin.put('/api/v2/apns/certificate').send({ pkcs12: soon.pkcs12, passphrase: soon.passphrase });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toMatchObject({ topic: TOPIC, expiresInDays: 9 });
    expect(res.body.results.subject).toContain(`UID=${TOPIC}`);
    expect(res.body.results.warnings.join()).toMatch(/expires in 9 days/);
    const read = await t.admin.get('/api/v2/apns/certificate');
    expect(read.body.results.topic).toBe(TOPIC);
    expect(JSON.stringify(read.body)).not.toMatch(/PRIVATE KEY/);
    const db = new Database(path.join(t.dataDir, 'mockiron.db'), { readonly: true });
    const row = db.prepare('SELECT keySealed FROM PushCertificate').get() as { keySealed: string };
    db.close();
    expect(row.keySealed.startsWith('enc:v1:')).toBe(true);
    expect(row.keySealed).not.toMatch(/PRIVATE KEY/);
  });

  it('takes PEM certificate and key; new enrollment profiles carry its topic', async () => {
    const cert = apns.pushCertificate(TOPIC);
    const res = await t.admin.put('/api/v2/apns/certificate').send({ certificate: cert.certificatePem, privateKey: cert.keyPem });
    expect(res.status).toBe(200);
    expect(res.body.results.warnings).toEqual([]);
    const d = await enrolledDevice();
    const mdmPayload = (d.enrollmentProfile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.mdm')!;
    expect(mdmPayload.Topic).toBe(TOPIC);
  });
});

describe('pushes through the APNs stand-in', () => {
  it('sends one push per queued command as Apple specifies it: mdm type, topic, priority, expiration, {"mdm": PushMagic}', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    expect((await queueCommand(d)).status).toBe(201);
    const got = await until(
      () => pushesTo(token),
      (p) => p.length === 1 && p[0]!.status === 200,
    );
    expect(got).toHaveLength(1);
    expect(got[0]!.headers).toMatchObject({ 'apns-push-type': 'mdm', 'apns-topic': TOPIC, 'apns-priority': '10' });
    expect(Number(got[0]!.headers['apns-expiration'])).toBeGreaterThan(Date.now() / 1000);
    expect(got[0]!.body).toEqual({ mdm: 'push-magic-1' });
    expect(
      (
        await until(
          () => outcomes(d),
          (o) => o[0]?.outcome === 'sent',
        )
      )[0],
    ).toMatchObject({ provider: 'apns', outcome: 'sent' });
    // The device, woken, finds its command.
    expect((await d.connect()).command).not.toBeNull();
  });

  it('coalesces: commands queued while a push is pending produce no second push', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    apns.behaviour = () => 'hold';
    for (let i = 0; i < 5; i++) expect((await queueCommand(d)).status).toBe(201);
    await until(
      () => pushesTo(token),
      (p) => p.length >= 1,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(pushesTo(token)).toHaveLength(1);
    apns.release();
    await until(
      () => outcomes(d),
      (o) => o.some((x) => x.outcome === 'sent'),
    );
    // Once answered, the next command pushes again.
    apns.behaviour = () => 'ok';
    await queueCommand(d);
    expect(
      await until(
        () => pushesTo(token).length,
        (n) => n === 2,
      ),
    ).toBe(2);
  });

  it('stops pushing a token APNs answers 410 Unregistered for', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    apns.behaviour = (tok) => (tok === token ? 'unregistered' : 'ok');
    await queueCommand(d);
    await until(
      () => outcomes(d),
      (o) => o[0]?.outcome === 'unregistered',
    );
    await queueCommand(d);
    await queueCommand(d);
    const later = await until(
      () => outcomes(d),
      (o) => o.filter((x) => x.outcome === 'unregistered').length === 3,
    );
    expect(later.filter((x) => x.outcome === 'unregistered')).toHaveLength(3);
    expect(pushesTo(token)).toHaveLength(1);
    // Remembered across restarts: the dead token is stored.
    const db = new Database(path.join(t.dataDir, 'mockiron.db'), { readonly: true });
    expect(db.prepare('SELECT reason FROM DeadPushToken WHERE token = ?').get(token)).toEqual({ reason: 'Unregistered' });
    db.close();
  });

  it('backs off on 429 TooManyRequests, exponentially and with jitter, then delivers', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    apns.behaviour = (tok, attempt) => (tok === token && attempt <= 2 ? 'throttle' : 'ok');
    await queueCommand(d);
    const got = await until(
      () => pushesTo(token),
      (p) => p.length === 3,
      10_000,
    );
    expect(got.map((p) => p.status)).toEqual([429, 429, 200]);
    const gaps = [got[1]!.at - got[0]!.at, got[2]!.at - got[1]!.at];
    // base 1 s, doubled, jittered to between half and all of it
    expect(gaps[0]).toBeGreaterThanOrEqual(450);
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    expect(
      (
        await until(
          () => outcomes(d),
          (o) => o[0]?.outcome === 'sent',
        )
      )[0]!.outcome,
    ).toBe('sent');
  }, 20_000);

  it('pauses every push after a 503 ServiceUnavailable, then delivers', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    apns.behaviour = (tok, attempt) => (tok === token && attempt === 1 ? 'server-error' : 'ok');
    await queueCommand(d);
    const got = await until(
      () => pushesTo(token),
      (p) => p.length === 2,
      10_000,
    );
    expect(got.map((p) => p.status)).toEqual([503, 200]);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(450);
    expect(
      (
        await until(
          () => outcomes(d),
          (o) => o[0]?.outcome === 'sent',
        )
      )[0]!.outcome,
    ).toBe('sent');
  }, 20_000);

  it('a stand-in that never answers does not slow /mdm/connect (p99 within a generous bound of the baseline)', async () => {
    const devices = [await enrolledDevice(), await enrolledDevice(), await enrolledDevice()];
    const p99 = async (n: number, during?: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        if (during && i % 5 === 0) await during();
        const d = devices[i % devices.length]!;
        const start = performance.now();
        const res = await d.connect();
        times.push(performance.now() - start);
        expect(res.status).toBe(200);
        // answer what came so the queue does not grow a backlog of commands
        if (res.command) await d.connect({ Status: 'Acknowledged', CommandUUID: res.command.CommandUUID as string });
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(n * 0.99) - 1]!;
    };
    await p99(50);
    const baseline = await p99(200);
    apns.behaviour = () => 'hang';
    let queued = 0;
    const hanging = await p99(200, async () => {
      for (const d of devices) {
        await queueCommand(d);
        queued++;
      }
    });
    expect(queued).toBeGreaterThan(100);
    // The pushes reached the stand-in and hang there, unanswered.
    expect(apns.received.filter((p) => p.status === 0).length).toBeGreaterThanOrEqual(devices.length);
    console.log(`/mdm/connect p99: ${baseline.toFixed(1)} ms baseline, ${hanging.toFixed(1)} ms with APNs never answering`);
    expect(hanging).toBeLessThan(Math.max(baseline * 4, baseline + 100));
  }, 60_000);
});

describe('certificate and topic refusals at push time', () => {
  it('records 403 BadCertificate when APNs does not accept the certificate, and does not retry', async () => {
    const d = await enrolledDevice();
    const token = tokenOf(d);
    // Not issued by the stand-in's CA: its TLS layer takes it, its HTTP answer refuses it.
    const foreign = selfSignedPushCertificate(TOPIC);
    expect(
      (await t.admin.put('/api/v2/apns/certificate').send({ certificate: foreign.certificatePem, privateKey: foreign.keyPem })).status,
    ).toBe(200);
    await queueCommand(d);
    const o = await until(
      () => outcomes(d),
      (x) => x[0]?.outcome.startsWith('certificate-refused') ?? false,
    );
    expect(o[0]!.outcome).toBe('certificate-refused: BadCertificate');
    await new Promise((r) => setTimeout(r, 1500));
    expect(pushesTo(token)).toHaveLength(1);
  });

  it("does not push a device whose Topic is not the certificate's (uploaded with force)", async () => {
    const d = await enrolledDevice();
    const other = apns.pushCertificate('com.apple.mgmt.External.99999999-8888-7777-6666-555555555555');
    const refused = await t.admin.put('/api/v2/apns/certificate').send({ certificate: other.certificatePem, privateKey: other.keyPem });
    expect(refused.status).toBe(409);
    const forced = await t.admin
      .put('/api/v2/apns/certificate')
      .send({ certificate: other.certificatePem, privateKey: other.keyPem, force: true });
    expect(forced.status).toBe(200);
    const before = apns.received.length;
    await queueCommand(d);
    expect(
      (
        await until(
          () => outcomes(d),
          (x) => x[0]?.outcome === 'topic-mismatch',
        )
      )[0]!.outcome,
    ).toBe('topic-mismatch');
    expect(apns.received.length).toBe(before);
    // Removed: recorded only again.
    expect((await t.admin.delete('/api/v2/apns/certificate')).body.results).toEqual({ deleted: true });
    await queueCommand(d);
    expect((await outcomes(d))[0]).toMatchObject({ provider: 'recording', outcome: 'recorded' });
  });
});

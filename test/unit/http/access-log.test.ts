// The access log: one info line per request through the one logger, with method, path (never
// the query), status, duration, bytes and who; never a password, token, Authorization header
// or body. A real app on a real database, driven over HTTP, its log captured from pino.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';
import { createLogger } from '../../../src/platform/logger.js';
import { bootstrap } from '../../../src/app/server.js';
import { removeDir } from '../../helpers/app.js';
import { TestDevice } from '../../helpers/device.js';

const password = 'access-log-admin-password-9';
const lines: string[] = [];
const capture = new Writable({
  write(chunk, _enc, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let dataDir: string;
let built: Awaited<ReturnType<typeof bootstrap>>;
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-access-log-'));
  const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: password });
  built = await bootstrap(config, createLogger('info', capture));
});
afterAll(async () => {
  built.services.mdm.stop();
  await built.services.db.$disconnect();
  removeDir(dataDir);
});

interface AccessLine {
  level: number;
  msg: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  subject: string | null;
  ip?: string;
  operation?: string;
}

/** The access-log lines written while `run` ran. */
async function logged(run: () => Promise<unknown>): Promise<{ access: AccessLine[]; all: string[] }> {
  const from = lines.length;
  await run();
  // the line is written when the response is closed, right after the client has it
  await new Promise((r) => setTimeout(r, 20));
  const all = lines.slice(from);
  return { access: all.map((l) => JSON.parse(l) as AccessLine).filter((l) => l.msg === 'request'), all };
}

describe('access log', () => {
  it('writes one info line per request with method, path, status, duration, bytes and the admin', async () => {
    const { access } = await logged(async () => {
      const ping = await supertest(built.app).get('/api/v2/ping').auth('admin', password);
      expect(ping.status).toBe(200);
      expect((await supertest(built.app).get('/api/v2/signing/ca.pem')).status).toBe(200);
      expect((await supertest(built.app).get('/api/v2/no-such-thing')).status).toBe(404);
    });
    expect(access).toHaveLength(3);
    const [ping, ca, missing] = access;
    expect(ping).toMatchObject({ level: 30, method: 'GET', path: '/api/v2/ping', status: 200, subject: 'admin:admin' });
    expect(ping!.durationMs).toBeGreaterThanOrEqual(0);
    // bytes on the wire: at least the request line and the response headers and body
    expect(ping!.bytesIn).toBeGreaterThan('GET /api/v2/ping HTTP/1.1\r\n'.length);
    expect(ping!.bytesOut).toBeGreaterThan(JSON.stringify({ results: { apiVersion: 2 } }).length);
    expect(ca).toMatchObject({ method: 'GET', path: '/api/v2/signing/ca.pem', status: 200, subject: null });
    expect(ca!.bytesOut).toBeGreaterThan(built.services.signing.caPem().length);
    expect(missing).toMatchObject({ method: 'GET', path: '/api/v2/no-such-thing', status: 404, subject: null });
  });

  it('counts the request body in bytesIn and the answer in bytesOut', async () => {
    const body = JSON.stringify({ userId: 'bytes-counted', displayName: 'Byte Counter'.padEnd(120, '.') });
    const { access } = await logged(async () => {
      const res = await supertest(built.app)
        .post('/api/v2/users')
        .auth('admin', password)
        .set('content-type', 'application/json')
        .send(body);
      expect(res.status).toBe(201);
    });
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: 'POST', path: '/api/v2/users', status: 201, subject: 'admin:admin' });
    expect(access[0]!.bytesIn).toBeGreaterThan(body.length);
    expect(access[0]!.bytesIn).toBeLessThan(body.length + 1_000);
    expect(access[0]!.bytesOut).toBeGreaterThan('{"results":{"userId":"bytes-counted"}}'.length);
  });

  it('never logs a password, the Authorization header, a query string (tokens) or a body', async () => {
    const bodySecret = 'body-secret-value-4711';
    const queryToken = 'query-token-value-0815';
    const basic = Buffer.from(`admin:${password}`).toString('base64');
    const wrongPassword = 'wrong-password-value-1234';
    const { access, all } = await logged(async () => {
      await supertest(built.app)
        .post(`/api/v2/users?token=${queryToken}&password=${password}`)
        .auth('admin', password)
        .set('content-type', 'application/json')
        .send({ userId: 'secretive', password: bodySecret });
      await supertest(built.app).get('/api/v2/ping').auth('admin', wrongPassword);
      await supertest(built.app).get(`/ota/enroll?token=${queryToken}`);
      await supertest(built.app)
        .post('/mdm/checkin')
        .set('content-type', 'application/x-apple-aspen-mdm-checkin')
        .send(`<plist>${bodySecret}</plist>`);
    });
    expect(access.map((l) => [l.method, l.path])).toEqual([
      ['POST', '/api/v2/users'],
      ['GET', '/api/v2/ping'],
      ['GET', '/ota/enroll'],
      ['POST', '/mdm/checkin'],
    ]);
    // a failed login names no one
    expect(access[1]).toMatchObject({ status: 401, subject: null });
    const text = all.join('\n');
    for (const secret of [password, wrongPassword, basic, bodySecret, queryToken, 'token=', '?']) expect(text).not.toContain(secret);
    expect(text.toLowerCase()).not.toContain('authorization');
  });

  it('names the device on device endpoints once it is known (OTA phase 2, check-in, polls), and no one on a refused one', async () => {
    const admin = (url: string, body: object) => supertest(built.app).post(url).auth('admin', password).send(body);
    expect((await admin('/api/v2/users', { userId: 'device-owner' })).status).toBe(201);
    const inv = (await admin('/api/v2/enrollments', { userId: 'device-owner' })).body.results;
    const device = new TestDevice(built.app);
    const { access } = await logged(async () => {
      await device.enroll(inv.url);
      expect((await device.authenticate()).status).toBe(200);
      expect((await device.tokenUpdate()).status).toBe(200);
      expect((await device.put('/mdm/connect', { UDID: device.udid, Status: 'Idle' })).status).toBe(200);
      expect((await device.put('/mdm/connect', { UDID: device.udid, Status: 'Idle' }, { tamper: true })).status).toBe(401);
      // a result for a command this device was never sent is refused, and was still an Acknowledged message
      expect((await device.put('/mdm/connect', { UDID: device.udid, Status: 'Acknowledged', CommandUUID: 'not-sent' })).status).toBe(400);
      // a name the client made up is not echoed as the operation
      expect((await supertest(built.app).get('/scep?operation=MadeUpOp')).status).toBe(400);
    });
    const uuid = (await supertest(built.app).get('/api/v2/devices').auth('admin', password).query({ fields: 'common.uuid' })).body
      .results[0]['common.uuid'];
    const subjects = (p: string) => access.filter((l) => l.path === p).map((l) => [l.status, l.subject]);
    expect(subjects('/ota/profile')).toEqual([[200, `device:${uuid}`]]);
    expect(subjects('/mdm/checkin')).toEqual([
      [200, `device:${uuid}`],
      [200, `device:${uuid}`],
    ]);
    // a tampered signature is refused before anyone is known
    expect(subjects('/mdm/connect')).toEqual([
      [200, `device:${uuid}`],
      [401, null],
      [400, `device:${uuid}`],
    ]);
    // what each request asked for, where the path does not say: the MDM message, the SCEP operation
    const operations = (p: string) => access.filter((l) => l.path === p).map((l) => l.operation ?? null);
    expect(operations('/mdm/checkin')).toEqual(['Authenticate', 'TokenUpdate']);
    expect(operations('/mdm/connect')).toEqual(['Idle', null, 'Acknowledged']);
    expect(operations('/scep')).toEqual(['GetCACert', 'PKIOperation', null]);
  });

  it('keeps a line short for a very long path', async () => {
    const { access } = await logged(() => supertest(built.app).get(`/api/v2/${'a'.repeat(8_000)}`));
    expect(access).toHaveLength(1);
    expect(access[0]!.path.length).toBeLessThanOrEqual(513);
  });
});

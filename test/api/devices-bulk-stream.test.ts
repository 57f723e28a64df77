// Issue #19: POST /api/v2/devices/bulk reads the CSV as a stream over real HTTP (chunked uploads
// from node:http, no body parser), refuses at the caps as soon as they are crossed, and runs large
// files as a job (GET /api/v2/devices/bulk/{jobId}). The caps and the inline threshold are lowered
// through the environment (MOCKIRON_BULK_*), not by sending 100,000 rows. No public Core client
// in docs/research/core-clients.md uploads Core's bulk registration CSV, so its columns are
// mockiron's own (README); RFC 7240 defines Prefer: respond-async and Preference-Applied, RFC 9110
// §15.5.14 a 413 that the server may send before the request's content is complete.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

const maxBytes = 3 * 1024 * 1024;
const maxRows = 20_000;
const inlineRows = 100;

let t: TestApp;
let server: http.Server;
let port: number;
const authorization = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      MOCKIRON_BULK_MAX_BYTES: String(maxBytes),
      MOCKIRON_BULK_MAX_ROWS: String(maxRows),
      MOCKIRON_BULK_INLINE_ROWS: String(inlineRows),
    },
  });
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
  await t.admin.post('/api/v2/users').send({ userId: 'jdoe' });
  await t.admin.post('/api/v2/labels').send({ name: 'fleet', static: true });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  removeDir(t.dataDir);
});

const header = 'userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels';
const row = (prefix: string, i: number) =>
  `${i % 2 ? 'jdoe' : ''},iOS,COMPANY,${prefix}${i},00008030-${Buffer.from(prefix).toString('hex').padEnd(16, '0').slice(0, 16)}${i.toString(16).padStart(20, '0')},,"iPad13,1",17.1,Fleet iPad ${i},${i % 2 ? 'fleet' : ''}`;
const csvOf = (prefix: string, count: number, replace: Record<number, string> = {}) =>
  `${header}\n${Array.from({ length: count }, (_, i) => replace[i] ?? row(prefix, i)).join('\n')}\n`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the request had been ended by the client when the answer came. */
  requestEnded: boolean;
}

/** A POST whose body the test writes itself (chunked unless a Content-Length is set). */
function upload(path: string, headers: Record<string, string> = {}, auth = true) {
  let requestEnded = false;
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path,
    headers: { 'content-type': 'text/csv', ...(auth ? { authorization } : {}), ...headers },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const ended = requestEnded;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, requestEnded: ended }));
    });
    // Writing on after the server answered and closed: EPIPE/ECONNRESET, expected when refused early.
    req.on('error', (err) => setTimeout(() => reject(err), 500));
  });
  const end = () => {
    requestEnded = true;
    req.end();
  };
  return { req, answer, end };
}

/** Sends `body` in 64 KiB chunks, yielding between them, and ends the request. */
async function send(body: string | Buffer, path = '/api/v2/devices/bulk', headers: Record<string, string> = {}) {
  const u = upload(path, headers);
  const bytes = Buffer.from(body);
  for (let i = 0; i < bytes.length; i += 64 * 1024) {
    u.req.write(bytes.subarray(i, i + 64 * 1024));
    await new Promise((r) => setImmediate(r));
  }
  u.end();
  const a = await u.answer;
  return { ...a, json: a.body ? JSON.parse(a.body) : undefined };
}

const deviceCount = async () => (await t.admin.get('/api/v2/devices/count')).body.results.totalCount as number;

async function jobUntilDone(id: string) {
  for (;;) {
    const res = await t.admin.get(`/api/v2/devices/bulk/${id}`);
    expect(res.status).toBe(200);
    if (res.body.results.state === 'succeeded' || res.body.results.state === 'failed') return res.body.results;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('POST /api/v2/devices/bulk as a stream', () => {
  it('imports a chunked file above the old 1 MB body limit as a job, whose devices are then listed and audited with a digest', async () => {
    const before = await deviceCount();
    const body = csvOf('BIG', 12_000);
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    const res = await send(body);
    expect(res.status, res.body.slice(0, 300)).toBe(202);
    const { id } = res.json.results;
    expect(res.headers.location).toBe(`/api/v2/devices/bulk/${id}`);
    expect(res.json.results).toMatchObject({ rowsRead: 12_000, errorCount: 0 });
    expect(['queued', 'running', 'succeeded']).toContain(res.json.results.state);
    const job = await jobUntilDone(id);
    expect(job).toMatchObject({ state: 'succeeded', phase: 'done', rowsRead: 12_000, rowsWritten: 12_000, errors: [], message: null });
    expect(Date.parse(job.finishedAt)).toBeGreaterThanOrEqual(Date.parse(job.startedAt));
    expect(await deviceCount()).toBe(before + 12_000);
    const listed = await t.admin.get(`/api/v2/devices?limit=5&query=${encodeURIComponent('common.SerialNumber starts with "BIG"')}`);
    expect(listed.body.totalCount).toBe(12_000);
    const fleet = (await t.admin.get('/api/v2/labels/label_summary?limit=200')).body.results.find(
      (l: { name: string }) => l.name === 'fleet',
    );
    expect(fleet.deviceCount).toBe(6_000);
    // One audit entry: the count and a digest of the uuids in id order, checked against the database.
    const audit = (await t.admin.get('/api/v2/audit?limit=1&objectType=device')).body.results[0];
    const uuids = (
      await t.services.db.device.findMany({
        where: { serialNumber: { startsWith: 'BIG' } },
        select: { uuid: true },
        orderBy: { id: 'asc' },
      })
    ).map((d) => d.uuid);
    expect(audit).toMatchObject({ action: 'bulk.create', details: { count: 12_000, job: id } });
    expect(audit.details.uuidsSha256).toBe(createHash('sha256').update(uuids.join('\n')).digest('hex'));
    expect(JSON.stringify(audit).length).toBeLessThan(2000);
  });

  it('rolls a job back whole when SQLite fails in a later slice, and labels rows across slice boundaries by their own ids', async () => {
    const fleetIds = async () =>
      (
        await t.services.db.deviceLabel.findMany({
          where: { label: { name: 'fleet' }, device: { serialNumber: { startsWith: 'LATE' } } },
          select: { device: { select: { serialNumber: true } } },
        })
      ).map((m) => m.device.serialNumber);
    const [devices, audits] = [await deviceCount(), await t.services.db.auditEvent.count()];
    // A real SQLite failure in the label insert of row 551 (the third slice of 250): the devices
    // and memberships of the first two slices were already written inside the transaction.
    await t.services.db.$executeRawUnsafe(
      `CREATE TRIGGER fail_late BEFORE INSERT ON "DeviceLabel" WHEN (SELECT "serialNumber" FROM "Device" WHERE "id" = NEW."deviceId") = 'LATE551' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    try {
      const res = await send(csvOf('LATE', 700), '/api/v2/devices/bulk?async=true');
      expect(res.status).toBe(202);
      expect(await jobUntilDone(res.json.results.id)).toMatchObject({ state: 'failed', rowsWritten: 0 });
    } finally {
      await t.services.db.$executeRawUnsafe('DROP TRIGGER fail_late');
    }
    expect([await deviceCount(), await t.services.db.auditEvent.count(), await fleetIds()]).toEqual([devices, audits, []]);
    const again = await send(csvOf('LATE', 700), '/api/v2/devices/bulk?async=true');
    expect(await jobUntilDone(again.json.results.id)).toMatchObject({ state: 'succeeded', rowsWritten: 700 });
    // odd rows name the label: exactly those devices are in it, on both sides of each slice boundary
    const odd = Array.from({ length: 350 }, (_, k) => `LATE${2 * k + 1}`);
    expect((await fleetIds()).sort()).toEqual(odd.sort());
  });

  it('answers a small file inline as before, and as a job when asked (?async=true, Prefer: respond-async)', async () => {
    const inline = await send(csvOf('SMALL', inlineRows));
    expect(inline.status).toBe(201);
    expect(inline.json).toMatchObject({ totalCount: inlineRows, resultCount: inlineRows, hasMore: false });
    expect(inline.json.results[1]).toMatchObject({ 'common.SerialNumber': 'SMALL1', 'user.user_id': 'jdoe', 'common.model': 'iPad13,1' });
    const asked = await send(csvOf('ASKED', 3), '/api/v2/devices/bulk?async=true');
    expect(asked.status).toBe(202);
    expect((await jobUntilDone(asked.json.results.id)).rowsWritten).toBe(3);
    const preferred = await send(csvOf('PREFER', 3), '/api/v2/devices/bulk', { prefer: 'respond-async, wait=10' });
    expect(preferred.status).toBe(202);
    expect(preferred.headers['preference-applied']).toBe('respond-async');
    expect((await jobUntilDone(preferred.json.results.id)).state).toBe('succeeded');
  });

  it('fails a job on a bad row at line N, naming it, and writes nothing', async () => {
    const before = await deviceCount();
    const res = await send(csvOf('BADROW', 500, { 398: ',Windows,COMPANY,BADROW398,,,x,1,x,' }));
    expect(res.status).toBe(202);
    const job = await jobUntilDone(res.json.results.id);
    expect(job).toMatchObject({ state: 'failed', rowsRead: 500, rowsWritten: 0, errorCount: 1 });
    expect(job.errors).toEqual([{ row: 400, field: 'platform', message: expect.stringMatching(/^row 400: platform: /) }]);
    expect(job.message).toMatch(/^row 400: platform/);
    // A conflict only the write phase can see (a serial already registered): the same, nothing written.
    const taken = await send(csvOf('CONFLICT', 500, { 299: ',iOS,COMPANY,BIG7,,,x,1,x,' }));
    const failed = await jobUntilDone(taken.json.results.id);
    expect(failed).toMatchObject({ state: 'failed', rowsWritten: 0, errorCount: 1 });
    expect(failed.errors[0]).toMatchObject({ row: 301, field: 'serialNumber' });
    expect(await deviceCount()).toBe(before);
    expect(await t.services.db.device.count({ where: { serialNumber: { startsWith: 'CONFLICT' } } })).toBe(0);
  });

  it('refuses at the caps with 413 and the envelope, as soon as they are crossed', async () => {
    const before = await deviceCount();
    // Declared too large: refused before a byte is read.
    const declared = upload('/api/v2/devices/bulk', { 'content-length': String(maxBytes + 1) });
    declared.req.flushHeaders();
    const early = await declared.answer;
    declared.req.destroy();
    expect(early.status).toBe(413);
    expect(early.requestEnded).toBe(false);
    expect(JSON.parse(early.body).messages[0]).toMatchObject({ localizedMessage: `CSV is larger than ${maxBytes} bytes; split it` });
    // Chunked, no length: refused once the bytes read pass the cap, while the client still sends.
    const chunked = upload('/api/v2/devices/bulk');
    const rows = Buffer.from(`${header}\n${`,iOS,,,,,${'m'.repeat(60)},,${'n'.repeat(120)},\n`.repeat(19_000)}`);
    expect(rows.length).toBeGreaterThan(maxBytes);
    let answered = false;
    void chunked.answer.then(() => (answered = true));
    for (let i = 0; i < rows.length && !answered; i += 64 * 1024) {
      chunked.req.write(rows.subarray(i, i + 64 * 1024));
      await new Promise((r) => setTimeout(r, 1));
    }
    const capped = await chunked.answer;
    chunked.req.destroy();
    expect(capped.status).toBe(413);
    expect(capped.requestEnded).toBe(false);
    expect(JSON.parse(capped.body).messages[0].messageKey).toBe('com.mobileiron.vsp.messages.csv');
    // Rows: more than the cap in a few bytes.
    const many = await send(`platform\n${'A\n'.repeat(maxRows + 1)}`);
    expect(many.status).toBe(413);
    expect(many.json.messages[0].localizedMessage).toBe(`CSV has more than ${maxRows} rows; split it`);
    // A row longer than 64 KiB is a size problem too.
    const long = await send(`platform,deviceName\niOS,${'n'.repeat(70 * 1024)}\n`);
    expect(long.status).toBe(413);
    expect(await deviceCount()).toBe(before);
  });

  it('answers 401 to an unauthenticated upload before reading its body, and 400 to bad bytes', async () => {
    const anonymous = upload('/api/v2/devices/bulk', {}, false);
    anonymous.req.write(csvOf('ANON', 10));
    const refused = await anonymous.answer;
    anonymous.req.destroy();
    expect(refused.status).toBe(401);
    expect(refused.requestEnded).toBe(false);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic/);
    const latin1 = await send(Buffer.concat([Buffer.from(`${header}\n,iOS,,LATIN1,,,,,`), Buffer.from([0xe9]), Buffer.from('\n')]));
    expect(latin1.status).toBe(400);
    expect(latin1.json.messages[0].localizedMessage).toBe('Request body is not valid UTF-8');
    const gzipped = await send(gzipSync(csvOf('GZIP', 5)), '/api/v2/devices/bulk', { 'content-encoding': 'gzip' });
    expect(gzipped.status).toBe(201);
    expect(gzipped.json.totalCount).toBe(5);
    const corrupt = await send(Buffer.from('not gzip at all'), '/api/v2/devices/bulk', { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    const xml = await send('<devices/>', '/api/v2/devices/bulk', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
  });

  it('keeps answering other requests while an import runs', async () => {
    const res = await send(csvOf('BUSY', 12_000), '/api/v2/devices/bulk?async=true');
    expect(res.status).toBe(202);
    const id = res.json.results.id as string;
    // Until the job is done: pings and job polls, each of which must be answered; some are
    // answered while the job still runs (the server is not blocked by it).
    const seen: Array<{ state: string; ping: number }> = [];
    for (;;) {
      const [ping, job] = await Promise.all([t.admin.get('/api/v2/ping'), t.admin.get(`/api/v2/devices/bulk/${id}`)]);
      seen.push({ state: job.body.results.state, ping: ping.status });
      if (job.body.results.state === 'succeeded' || job.body.results.state === 'failed') break;
    }
    expect(seen.at(-1)!.state).toBe('succeeded');
    expect(seen.every((s) => s.ping === 200)).toBe(true);
    expect(seen.filter((s) => s.state === 'running' || s.state === 'queued').length).toBeGreaterThan(0);
  });

  it('answers 404 for a job id it does not know and 400 for one that is not an id', async () => {
    const unknown = await t.admin.get('/api/v2/devices/bulk/0badc0de-0000-4000-8000-00000000dead');
    expect(unknown.status).toBe(404);
    expect(unknown.body.messages[0].localizedMessage).toBe('Import job 0badc0de-0000-4000-8000-00000000dead not found');
    for (const garbage of ['x', '..%2f..%2fetc', '0BADC0DE-0000-4000-8000-00000000DEAD', 'a'.repeat(300)]) {
      const res = await t.admin.get(`/api/v2/devices/bulk/${garbage}`);
      expect(res.status, garbage).toBe(400);
      expect(res.body.messages[0].field).toBe('jobId');
    }
    expect((await t.anon.get('/api/v2/devices/bulk/0badc0de-0000-4000-8000-00000000dead')).status).toBe(401);
  });

  it('refuses one import more than it runs at once (429, Retry-After), and frees the slot of an upload the client abandoned', async () => {
    const open = [] as Array<ReturnType<typeof upload>>;
    for (let i = 0; i < 4; i++) {
      const u = upload('/api/v2/devices/bulk');
      u.req.write(`${header}\n`);
      open.push(u);
    }
    // The four are being read: wait until the server has opened each (a job counts from then).
    let fifth: Awaited<ReturnType<typeof send>> | undefined;
    for (let tries = 0; tries < 100; tries++) {
      fifth = await send(csvOf('FIFTH', 1));
      if (fifth.status === 429) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fifth!.status).toBe(429);
    expect(fifth!.headers['retry-after']).toBe('5');
    for (const u of open) {
      u.answer.catch(() => {});
      u.req.destroy();
    }
    let after: Awaited<ReturnType<typeof send>> | undefined;
    for (let tries = 0; tries < 100; tries++) {
      after = await send(csvOf('SIXTH', 1));
      if (after.status !== 429) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(after!.status).toBe(201);
  });
});

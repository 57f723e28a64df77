// The gate in front of the app, on a real HTTP server: 503 with Retry-After, Connection: close
// and the error envelope until the app is ready and once stopping (access-logged as well);
// requests in flight at the stop finish, and the stop waits for them within the grace period.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { accessLog } from '../../../src/platform/http/access-log.js';
import { RequestGate } from '../../../src/platform/http/request-gate.js';
import { createLogger } from '../../../src/platform/logger.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function gated() {
  const lines: { msg: string; status?: number; path?: string }[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  const gate = new RequestGate(accessLog(logger));
  const server = http.createServer(gate.handle);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { gate, port, lines };
}

function get(port: number, path = '/api/v2/ping?token=x') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function expect503(res: { status: number; headers: http.IncomingHttpHeaders; body: string }, message: RegExp) {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.headers.connection).toBe('close');
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(res.body)).toEqual({
    messages: [{ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.http.503', localizedMessage: expect.stringMatching(message) }],
  });
}

describe('RequestGate', () => {
  it('answers 503 until the app is ready, logs those answers, then passes requests to the app', async () => {
    const { gate, port, lines } = await gated();
    expect503(await get(port), /starting/);
    gate.open((_req, res) => res.end('from the app'));
    const ready = await get(port);
    expect(ready.status).toBe(200);
    expect(ready.body).toBe('from the app');
    await new Promise((r) => setTimeout(r, 20));
    // the 503 is in the access log (without its query); the app logs its own requests
    expect(lines.filter((l) => l.msg === 'request')).toEqual([expect.objectContaining({ status: 503, path: '/api/v2/ping' })]);
  });

  it('once stopping answers 503 to new requests while one in flight finishes, and resolves when it has', async () => {
    const { gate, port } = await gated();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    gate.open((req, res) => {
      if (req.url === '/slow') void released.then(() => res.end('finished'));
      else res.end('fast');
    });
    const slow = get(port, '/slow');
    await new Promise((r) => setTimeout(r, 50));
    let stopped = false;
    const stopping = gate.stop(5_000).then((cut) => {
      stopped = true;
      return cut;
    });
    expect503(await get(port, '/fast'), /shutting down/);
    expect(stopped).toBe(false);
    release();
    const answer = await slow;
    expect(answer.body).toBe('finished');
    // told not to reuse a connection that is about to be closed
    expect(answer.headers.connection).toBe('close');
    expect(await stopping).toBe(0);
  });

  it('stops waiting after the grace period and says how many requests are still in flight', async () => {
    const { gate, port } = await gated();
    gate.open(() => {}); // never answers
    const hanging = get(port, '/never').catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    expect(await gate.stop(300)).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(1_000);
    servers[0]!.closeAllConnections();
    expect(await hanging).toBeInstanceOf(Error);
  });
});

// --tls: HTTPS with a certificate our CA issues for the public host name, key file 0600.
import { statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startServer } from '../../src/app/server.js';
import { tlsMaterialFor } from '../../src/app/tls.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

function get(port: number, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', servername: 'localhost', port, path: '/api/v2/signing/ca.pem', ca }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('--tls', () => {
  it('serves HTTPS that verifies against the mockiron CA for the public host name', async () => {
    const material = tlsMaterialFor(t.dataDir, t.services.signing, 'https://localhost:8443');
    expect(statSync(path.join(t.dataDir, 'tls', 'server.key.pem')).mode & 0o777).toBe(0o600);
    const server = https.createServer(material, t.app).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as AddressInfo;
      const ca = t.services.signing.caPem();
      const res = await get(port, ca);
      expect(res.status).toBe(200);
      expect(res.body).toBe(ca);
      // a client that does not trust our CA refuses the connection
      await expect(get(port, '')).rejects.toThrow();
    } finally {
      server.close();
    }
    // reused on the next start rather than re-issued
    expect(tlsMaterialFor(t.dataDir, t.services.signing, 'https://localhost:8443').cert).toBe(material.cert);
  });

  it('starts with --tls on port 0: HTTPS on the bound port, which the public URL carries', async () => {
    const dataDir = (await import('node:fs')).mkdtempSync(path.join((await import('node:os')).tmpdir(), 'mockiron-tls-'));
    const config = loadConfig({ dataDir, port: '0', host: '127.0.0.1', tls: true }, { MOCKIRON_ADMIN_PASSWORD: 'tls-port-zero-password' });
    const running = await startServer(config, createLogger('silent'));
    try {
      const { port } = running.server.address() as AddressInfo;
      const ca = running.services.signing.caPem();
      expect(await get(port, ca)).toEqual({ status: 200, body: ca });
      expect(running.services.scep.publicUrl).toBe(`https://localhost:${port}`);
    } finally {
      await running.close();
      removeDir(dataDir);
    }
  });
});

// `mockiron serve` as a newcomer runs it: the first admin's generated password is printed once
// (never logged), the server answers, and SIGTERM stops it cleanly.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServe } from '../helpers/serve.js';

const serve = (dataDir: string, env: Record<string, string> = {}) => spawnServe(dataDir, { env: { MOCKIRON_ADMIN_PASSWORD: '', ...env } });

describe('mockiron serve', () => {
  it('prints a generated admin password once, serves, and exits 0 on SIGTERM; the password works after a restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-serve-'));
    try {
      const first = serve(dataDir);
      const url = await first.url;
      const password = /generated password: (\S+)/.exec(first.output())![1]!;
      const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
      const ping = await fetch(`${url}/api/v2/ping`, { headers: { authorization } });
      expect(ping.status).toBe(200);
      // With --port 0 and no --public-url, what devices are told to reach carries the bound port
      const port = new URL(url).port;
      const post = (p: string, body: unknown) =>
        fetch(`${url}/api/v2${p}`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await post('/users', { userId: 'porter' })).status).toBe(201);
      const invitation = (await (await post('/enrollments', { userId: 'porter' })).json()) as { results: { url: string } };
      expect(new URL(invitation.results.url).port).toBe(port);
      expect((await fetch(invitation.results.url)).status).toBe(200);
      // the structured log lines never carry it
      for (const line of first
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{')))
        expect(line).not.toContain(password);
      first.child.kill('SIGTERM');
      expect(await first.exit).toBe(0);

      const second = serve(dataDir);
      const url2 = await second.url;
      expect(second.output()).not.toMatch(/generated password/);
      const again = await fetch(`${url2}/api/v2/ping`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      });
      expect(again.status).toBe(200);
      second.child.kill('SIGINT');
      expect(await second.exit).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

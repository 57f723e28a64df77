// The login lockout over real HTTP: a real listening server, real scrypt, real SQLite. Source
// addresses vary by binding the client socket to other loopback addresses (127.0.0.0/8 is all
// loopback on Linux), so "another address" is a real different peer address.
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let server: Server;
let port: number;
/** The lockout's injectable clock: tests move it forward to see locks expire. */
let clock = Date.now();
/** Real password checks (scrypt) started, counted by wrapping the checker the authenticator was given. */
let checks = 0;

beforeAll(async () => {
  t = await startTestApp();
  t.services.admins.lockout.now = () => clock;
  const realCheck = t.services.admins.check.bind(t.services.admins);
  t.services.admins.check = (username, password) => {
    checks++;
    return realCheck(username, password);
  };
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
  removeDir(t.dataDir);
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { messages?: Array<{ type: string; messageKey: string; localizedMessage: string }> };
  ms: number;
}

/** GET /api/v2/ping with Basic credentials, from the given loopback source address. */
function ping(username: string, password: string, from: string): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v2/ping',
        localAddress: from,
        agent: false,
        headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            body: text ? JSON.parse(text) : {},
            ms: performance.now() - started,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function expectLockedOut(answer: Answer) {
  expect(answer.status).toBe(429);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(answer.body).toEqual({
    messages: [
      expect.objectContaining({ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.http.429', localizedMessage: expect.any(String) }),
    ],
  });
}

async function createAdmin(username: string, password: string) {
  const res = await t.admin.post('/api/v2/admins').send({ username, password, role: 'admin' });
  expect(res.status).toBe(201);
}

describe('login lockout under a burst of parallel guesses', () => {
  it('gives 300 parallel wrong guesses (the right password among them) at most the configured number of password checks', async () => {
    const policy = t.services.admins.lockout.policy;
    const before = checks;
    const rightAt = 150;
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => ping('admin', i === rightAt ? adminPassword : `wrong-guess-${i}`, '127.0.0.2')),
    );
    const burstMs = performance.now() - started;
    const checked = checks - before;
    const statuses = answers.map((a) => a.status);
    console.log(
      `burst: 300 requests in ${burstMs.toFixed(0)} ms, ${checked} password checks, ${statuses.filter((s) => s === 401).length}×401, ${statuses.filter((s) => s === 429).length}×429`,
    );

    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(policy.maxFailuresPerUser);
    // Every admitted check was a wrong guess (401); everything else was refused before scrypt.
    expect(statuses.filter((s) => s === 401)).toHaveLength(checked);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300 - checked);
    expectLockedOut(answers[rightAt]!);
    for (const a of answers.filter((x) => x.status === 429)) expectLockedOut(a);
  });

  it('refuses the right password during the lock from the same and from another address, without checking it', async () => {
    const before = checks;
    expectLockedOut(await ping('admin', adminPassword, '127.0.0.2'));
    const elsewhere = await ping('admin', adminPassword, '127.0.0.3');
    expectLockedOut(elsewhere);
    expect(Number(elsewhere.retryAfter)).toBeGreaterThan(60);
    expect(checks).toBe(before);
  });

  it('lets the right password in once the lock has expired', async () => {
    clock += t.services.admins.lockout.policy.lockMs - 1000;
    expectLockedOut(await ping('admin', adminPassword, '127.0.0.3'));
    clock += 2000;
    const before = checks;
    expect((await ping('admin', adminPassword, '127.0.0.3')).status).toBe(200);
    expect(checks).toBe(before + 1);
  });
});

describe('the admin locked out by someone else', () => {
  it('still gets in from an address they logged in from before; that address has its own allowance', async () => {
    await createAdmin('ops', 'ops-password-1');
    expect((await ping('ops', 'ops-password-1', '127.0.0.4')).status).toBe(200);
    // Forget cached credentials, so what follows is decided by the lockout alone.
    t.services.admins.onChange();

    await Promise.all(Array.from({ length: 50 }, (_, i) => ping('ops', `attacker-${i}`, '127.0.0.5')));
    t.services.admins.onChange();
    expectLockedOut(await ping('ops', 'ops-password-1', '127.0.0.5'));
    expectLockedOut(await ping('ops', 'ops-password-1', '127.0.0.6'));
    expect((await ping('ops', 'ops-password-1', '127.0.0.4')).status).toBe(200);

    // The trusted address is not a way around the lockout: guesses from it are limited too.
    t.services.admins.onChange();
    const before = checks;
    await Promise.all(Array.from({ length: 50 }, (_, i) => ping('ops', `insider-${i}`, '127.0.0.4')));
    expect(checks - before).toBeLessThanOrEqual(t.services.admins.lockout.policy.maxFailuresPerUser);
    expectLockedOut(await ping('ops', 'ops-password-1', '127.0.0.4'));
  });

  it('keeps answering with cached credentials verified before the lock (a lock stops guessing, not a working admin)', async () => {
    await createAdmin('steady', 'steady-password-1');
    expect((await ping('steady', 'steady-password-1', '127.0.0.10')).status).toBe(200);
    await Promise.all(Array.from({ length: 20 }, (_, i) => ping('steady', `guess-${i}`, '127.0.0.11')));
    expectLockedOut(await ping('steady', 'not-the-password', '127.0.0.11'));
    const before = checks;
    expect((await ping('steady', 'steady-password-1', '127.0.0.11')).status).toBe(200);
    expect(checks).toBe(before);
  });
});

describe('lifting a lock', () => {
  it("lets another admin lift a colleague's lock at once (audited); a viewer may not", async () => {
    const created = await t.admin.post('/api/v2/admins').send({ username: 'locked-one', password: 'locked-one-password', role: 'admin' });
    const id = created.body.results.id as number;
    await t.admin.post('/api/v2/admins').send({ username: 'watcher', password: 'watcher-password-1', role: 'viewer' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => ping('locked-one', `guess-${i}`, '127.0.0.12')));
    expectLockedOut(await ping('locked-one', 'locked-one-password', '127.0.0.13'));

    expect((await t.as('watcher', 'watcher-password-1').delete(`/api/v2/admins/${id}/lockout`)).status).toBe(403);
    expectLockedOut(await ping('locked-one', 'locked-one-password', '127.0.0.13'));
    const lifted = await t.admin.delete(`/api/v2/admins/${id}/lockout`);
    expect(lifted.status).toBe(200);
    expect(lifted.body.results).toEqual({ id, username: 'locked-one', unlocked: true });
    expect((await ping('locked-one', 'locked-one-password', '127.0.0.13')).status).toBe(200);
    const audit = await t.admin.get('/api/v2/audit?objectType=admin');
    expect(JSON.stringify(audit.body)).toContain('unlock');
    expect((await t.admin.delete('/api/v2/admins/999999/lockout')).status).toBe(404);
  });
});

describe('no user enumeration', () => {
  it('locks an unknown username exactly like a known one, after the same number of real checks', async () => {
    await createAdmin('known', 'known-password-1');
    const run = async (username: string, from: string) => {
      const before = checks;
      const answers: Answer[] = [];
      for (let i = 0; i < 8; i++) answers.push(await ping(username, `wrong-${i}`, from));
      return { checked: checks - before, statuses: answers.map((a) => a.status), answers };
    };
    const known = await run('known', '127.0.0.7');
    const unknown = await run('nobody-by-this-name', '127.0.0.8');
    expect(unknown.statuses).toEqual(known.statuses);
    expect(known.statuses.filter((s) => s === 401)).toHaveLength(t.services.admins.lockout.policy.maxFailuresPerUser);
    expect(unknown.checked).toBe(known.checked);
    expect(unknown.answers.at(-1)!.body).toEqual(known.answers.at(-1)!.body);
  });

  it('spends the same time on a wrong password for an unknown username as for a known one', async () => {
    // The real checker (database lookup and scrypt), measured alternately so that load from
    // elsewhere on the machine falls on both; the fastest run of each is the least disturbed.
    const time = async (username: string) => {
      const started = performance.now();
      expect(await t.services.admins.check(username, 'not-the-password')).toBeNull();
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 8; i++) {
      known.push(await time('admin'));
      unknown.push(await time(`nobody-${i}`));
    }
    const ratio = Math.min(...unknown) / Math.min(...known);
    console.log(
      `failed check: known user ${Math.min(...known).toFixed(1)} ms, unknown user ${Math.min(...unknown).toFixed(1)} ms (fastest of 8)`,
    );
    // Loose bounds (this machine is shared and busy): skipping scrypt for unknown usernames would
    // make the ratio about 0.02, far outside them.
    expect(ratio).toBeGreaterThan(0.33);
    expect(ratio).toBeLessThan(3);
  });

  it('limits one address spraying many usernames to the per-address allowance of checks', async () => {
    const policy = t.services.admins.lockout.policy;
    const before = checks;
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => ping(`sprayed-${i}`, 'Winter2026!', '127.0.0.9')));
    expect(checks - before).toBeLessThanOrEqual(policy.maxFailuresPerAddress);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(checks - before);
    for (const a of answers.filter((x) => x.status !== 401)) expectLockedOut(a);
    // The address is locked for every username, the real admin's right password included
    // (cached credentials forgotten first, so the check is the lockout's).
    t.services.admins.onChange();
    expectLockedOut(await ping('admin', adminPassword, '127.0.0.9'));
  });
});

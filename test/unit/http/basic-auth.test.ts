import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { BasicAuthenticator, type CredentialChecker } from '../../../src/platform/http/basic-auth.js';
import { createLogger } from '../../../src/platform/logger.js';

function request(user: string, password: string): Request {
  return {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    ip: '127.0.0.1',
  } as unknown as Request;
}

/** A checker that takes a while (like scrypt) and counts its calls. */
function slowChecker(): CredentialChecker & { calls: number; release: () => void } {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const checker = {
    calls: 0,
    release: () => {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
    async check(username: string, password: string) {
      checker.calls++;
      await gate;
      return password === 'right-password' ? { username, role: 'admin' as const } : null;
    },
  };
  return checker;
}

describe('BasicAuthenticator', () => {
  it('verifies a burst of requests with the same new credentials once, and remembers the verdict', async () => {
    const checker = slowChecker();
    const auth = new BasicAuthenticator(checker, createLogger('silent'), 60_000);
    const burst = Array.from({ length: 20 }, () => auth.authenticate(request('admin', 'right-password')));
    checker.release();
    const actors = await Promise.all(burst);
    expect(actors.every((a) => a.username === 'admin' && a.role === 'admin')).toBe(true);
    expect(checker.calls).toBe(1);
    await auth.authenticate(request('admin', 'right-password'));
    expect(checker.calls).toBe(1);
  });

  it('refuses every request of a burst with a wrong password', async () => {
    const checker = slowChecker();
    const auth = new BasicAuthenticator(checker, createLogger('silent'), 60_000);
    const burst = Array.from({ length: 3 }, () =>
      auth.authenticate(request('admin', 'wrong-password')).catch((e: { status: number }) => e.status),
    );
    checker.release();
    expect(await Promise.all(burst)).toEqual([401, 401, 401]);
  });

  it('does not remember a verdict reached across an invalidation (an admin changed meanwhile)', async () => {
    const checker = slowChecker();
    const auth = new BasicAuthenticator(checker, createLogger('silent'), 60_000);
    const pending = auth.authenticate(request('admin', 'right-password'));
    auth.invalidate();
    checker.release();
    await pending;
    const again = auth.authenticate(request('admin', 'right-password'));
    checker.release();
    await again;
    expect(checker.calls).toBe(2);
  });
});

import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { defaultLockoutPolicy, LoginLockout, normalizeAddress } from '../../../src/platform/auth/lockout.js';
import { BasicAuthenticator, type CredentialChecker } from '../../../src/platform/http/basic-auth.js';
import { createLogger } from '../../../src/platform/logger.js';

function request(user: string, password: string, ip: string): Request {
  return { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }, ip } as unknown as Request;
}

/** Right only for admin / right-password; answers at once (the lockout, not scrypt, is under test). */
const fastChecker: CredentialChecker = {
  check: async (username, password) => (username === 'admin' && password === 'right-password' ? { username, role: 'admin' } : null),
};

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { status: number }) => e.status,
  );

describe('LoginLockout', () => {
  it('counts an attempt when it starts: checks in flight hold their slots until they answer', () => {
    const lockout = new LoginLockout({ ...defaultLockoutPolicy, maxFailuresPerUser: 3 }, () => 1_000);
    const attempts = [1, 2, 3].map(() => lockout.begin('admin', '10.0.0.1'));
    expect(attempts.every((a) => a.admitted)).toBe(true);
    const fourth = lockout.begin('admin', '10.0.0.2');
    expect(fourth).toMatchObject({ admitted: false, lockedBy: 'user' });
    // A success gives the slots back and clears the user's failures.
    for (const a of attempts) if (a.admitted) a.attempt.succeeded();
    expect(lockout.begin('admin', '10.0.0.2').admitted).toBe(true);
  });

  it('locks for lockMs after maxFailuresPerUser failures, then lets the user try again', () => {
    let now = 5_000;
    const lockout = new LoginLockout(defaultLockoutPolicy, () => now);
    for (let i = 0; i < defaultLockoutPolicy.maxFailuresPerUser; i++) {
      const a = lockout.begin('Admin', `10.0.0.${i}`);
      if (!a.admitted) throw new Error('expected admission');
      a.attempt.failed();
    }
    const locked = lockout.begin('admin', '10.9.9.9');
    expect(locked).toEqual({ admitted: false, lockedBy: 'user', retryAfterSeconds: defaultLockoutPolicy.lockMs / 1000 });
    now += defaultLockoutPolicy.lockMs;
    expect(lockout.begin('admin', '10.9.9.9').admitted).toBe(true);
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const lockout = new LoginLockout({ ...defaultLockoutPolicy, maxFailuresPerUser: 2 }, () => now);
    const fail = () => {
      const a = lockout.begin('admin', '10.0.0.1');
      if (!a.admitted) throw new Error('expected admission');
      return a.attempt.failed().locked;
    };
    expect(fail()).toEqual([]);
    now += defaultLockoutPolicy.windowMs + 1;
    expect(fail()).toEqual([]);
    expect(fail()).toEqual(['user']);
  });

  it('stays within its memory bound under a spray of usernames and addresses, and keeps the lock under attack', async () => {
    const policy = { ...defaultLockoutPolicy, maxEntries: 2_000, maxTrusted: 50 };
    const lockout = new LoginLockout(policy);
    const auth = new BasicAuthenticator(fastChecker, createLogger('silent'), 60_000, undefined, lockout);
    for (let i = 0; i < policy.maxFailuresPerUser; i++) await status(auth.authenticate(request('admin', `guess-${i}`, '192.0.2.1')));
    expect(await status(auth.authenticate(request('admin', 'right-password', '192.0.2.2')))).toBe(429);

    for (let i = 0; i < 30_000; i++) {
      // Long usernames too: keys are hashed, so they cost no more than short ones.
      await status(
        auth.authenticate(request(`sprayed-${i}-${'x'.repeat(i % 7 === 0 ? 4_000 : 8)}`, 'pw', `198.51.${(i >> 8) & 255}.${i & 255}`)),
      );
      expect(lockout.size.counters).toBeLessThanOrEqual(policy.maxEntries);
    }
    expect(lockout.size.counters).toBeGreaterThan(policy.maxEntries / 2);
    // Eviction takes idle counters first: the spray did not flush the admin's lock.
    expect(await status(auth.authenticate(request('admin', 'right-password', '192.0.2.3')))).toBe(429);
  });

  it('bounds the trusted addresses too', async () => {
    const policy = { ...defaultLockoutPolicy, maxTrusted: 10 };
    const lockout = new LoginLockout(policy);
    const auth = new BasicAuthenticator(fastChecker, createLogger('silent'), 0, undefined, lockout);
    for (let i = 0; i < 100; i++) expect(await status(auth.authenticate(request('admin', 'right-password', `203.0.113.${i}`)))).toBe(200);
    expect(lockout.size.trusted).toBe(policy.maxTrusted);
  });

  it('lets a trusted (user, address) pair through a locked address, with its own allowance', () => {
    const lockout = new LoginLockout(defaultLockoutPolicy, () => 0);
    const fail = (user: string, address: string) => {
      const a = lockout.begin(user, address);
      if (a.admitted) a.attempt.failed();
      return a.admitted;
    };
    const ok = lockout.begin('admin', '192.0.2.7');
    if (!ok.admitted) throw new Error('expected admission');
    ok.attempt.succeeded();
    // Others behind the same address (a proxy, a NAT) spray until the address is locked.
    for (let i = 0; i < defaultLockoutPolicy.maxFailuresPerAddress; i++) expect(fail(`user-${i}`, '192.0.2.7')).toBe(true);
    expect(lockout.begin('someone-else', '192.0.2.7')).toMatchObject({ admitted: false, lockedBy: 'address' });
    expect(lockout.begin('admin', '192.0.2.7').admitted).toBe(true);
  });

  it("counts an IPv6 client's /64 as one address", () => {
    expect(normalizeAddress('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(normalizeAddress('2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(normalizeAddress('::1')).toBe('0:0:0:0::/64');
    expect(normalizeAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress('192.0.2.1')).toBe('192.0.2.1');
    const lockout = new LoginLockout(defaultLockoutPolicy, () => 0);
    let admitted = 0;
    for (let i = 0; i < 100; i++) {
      const a = lockout.begin(`user-${i}`, `2001:db8:0:1::${i.toString(16)}`);
      if (a.admitted) {
        admitted++;
        a.attempt.failed();
      }
    }
    expect(admitted).toBe(defaultLockoutPolicy.maxFailuresPerAddress);
    expect(lockout.begin('user-x', '2001:db8:0:2::1').admitted).toBe(true);
  });
});

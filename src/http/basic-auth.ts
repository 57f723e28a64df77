// HTTP Basic authentication for the admin API, with a short in-memory cache of verified
// credentials (scrypt is deliberately slow; it must not run on every request) and throttling
// of repeated failures per user and source address.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Actor, Role } from '../auth/actor.js';
import { ApiError } from './errors.js';
import type { Logger } from '../logger.js';

export interface CredentialChecker {
  /** Returns the role when the credentials are right, null otherwise. */
  check(username: string, password: string): Promise<{ username: string; role: Role } | null>;
}

interface Failures {
  count: number;
  firstAt: number;
  blockedUntil: number;
  lockouts: number;
}

const maxFailures = 5;
const failureWindowMs = 15 * 60_000;
const baseLockMs = 60_000;
const maxLockMs = 15 * 60_000;

export class BasicAuthenticator {
  private cache = new Map<string, { actor: Actor; expires: number }>();
  /** Checks under way, so a burst of requests with the same new credentials runs scrypt once. */
  private inflight = new Map<string, ReturnType<CredentialChecker['check']>>();
  private generation = 0;
  private failures = new Map<string, Failures>();

  constructor(
    private readonly checker: CredentialChecker,
    private readonly logger: Logger,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget cached credentials, e.g. after an admin user changed or was deleted. */
  invalidate(): void {
    this.cache.clear();
    this.inflight.clear();
    this.generation++;
  }

  async authenticate(req: Request): Promise<Actor> {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw unauthorized('Authentication required (HTTP Basic)');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized('Malformed Basic credentials');
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);

    const cacheKey = createHash('sha256').update(decoded).digest('hex');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > this.now()) return cached.actor;

    const throttleKey = `${username.toLowerCase()}|${req.ip ?? 'unknown'}`;
    const state = this.failures.get(throttleKey);
    if (state && state.blockedUntil > this.now()) {
      const retryAfter = Math.ceil((state.blockedUntil - this.now()) / 1000);
      throw new ApiError(429, 'com.mobileiron.vsp.messages.http.429', `Too many failed logins; retry in ${retryAfter} s`, {
        retryAfterSeconds: retryAfter,
      });
    }

    let check = this.inflight.get(cacheKey);
    if (!check) {
      check = this.checker.check(username, password);
      this.inflight.set(cacheKey, check);
      const clear = () => {
        if (this.inflight.get(cacheKey) === check) this.inflight.delete(cacheKey);
      };
      check.then(clear, clear);
    }
    const generation = this.generation;
    const ok = await check;
    if (!ok) {
      this.recordFailure(throttleKey, username, req.ip);
      throw unauthorized('Invalid credentials');
    }
    this.failures.delete(throttleKey);
    const actor: Actor = { kind: 'admin', username: ok.username, role: ok.role };
    // An admin changed meanwhile: answer this request, but do not remember the verdict.
    if (generation === this.generation) this.cache.set(cacheKey, { actor, expires: this.now() + this.cacheMs });
    return actor;
  }

  private recordFailure(key: string, username: string, ip: string | undefined): void {
    const now = this.now();
    let s = this.failures.get(key);
    if (!s || now - s.firstAt > failureWindowMs) s = { count: 0, firstAt: now, blockedUntil: 0, lockouts: s?.lockouts ?? 0 };
    s.count++;
    if (s.count >= maxFailures) {
      // Lockouts grow but are bounded, and are per source address: the real admin elsewhere is never locked out.
      const lockMs = Math.min(baseLockMs * 2 ** s.lockouts, maxLockMs);
      s.blockedUntil = now + lockMs;
      s.lockouts++;
      s.count = 0;
      s.firstAt = now;
      this.logger.warn({ username, ip, lockSeconds: lockMs / 1000 }, 'login throttled after repeated failures');
    } else {
      this.logger.info({ username, ip, failures: s.count }, 'failed login');
    }
    this.failures.set(key, s);
  }
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'com.mobileiron.vsp.messages.http.401', message);
}

// HTTP Basic authentication for the admin API, with a short in-memory cache of verified
// credentials (scrypt is deliberately slow; it must not run on every request) and the login
// lockout of src/platform/auth/lockout.ts: every password check reserves its slot before scrypt runs.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Actor, Role } from '../auth/actor.js';
import { LoginLockout } from '../auth/lockout.js';
import { DomainError } from '../errors/index.js';
import { apiErrorFrom, type ApiError } from './errors.js';
import type { Logger } from '../logger.js';

export interface CredentialChecker {
  /** Returns the role when the credentials are right, null otherwise. */
  check(username: string, password: string): Promise<{ username: string; role: Role } | null>;
  /** The lockout state of these accounts, when the checker keeps it (AdminService does). */
  readonly lockout?: LoginLockout;
}

export class BasicAuthenticator {
  private cache = new Map<string, { actor: Actor; expires: number }>();
  /** Checks under way, so a burst of requests with the same new credentials runs scrypt once. */
  private inflight = new Map<string, ReturnType<CredentialChecker['check']>>();
  private generation = 0;

  constructor(
    private readonly checker: CredentialChecker,
    private readonly logger: Logger,
    private readonly cacheMs: number,
    private readonly now: () => number = () => Date.now(),
    readonly lockout: LoginLockout = checker.lockout ?? new LoginLockout(undefined, now),
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

    // A cached verdict is honoured during a lockout: it needs no password check, and only the
    // exact right credentials, verified within the last cacheMs, can hit it. A lockout stops
    // guessing, not the admin who is already working.
    const cacheKey = createHash('sha256').update(decoded).digest('hex');
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > this.now()) return cached.actor;

    const address = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    const generation = this.generation;
    let check = this.inflight.get(cacheKey);
    if (check) {
      // The same credentials are being checked already: share that verdict (it counts once),
      // unless the username or address is locked.
      const locked = this.lockout.lockedFor(username, address);
      if (locked) throw tooManyAttempts(locked.retryAfterSeconds);
      const verdict = await check;
      if (!verdict) throw unauthorized('Invalid credentials');
      return this.accept(cacheKey, verdict, generation);
    }

    const admission = this.lockout.begin(username, address);
    if (!admission.admitted) {
      // debug: an attack would otherwise write a line per refused guess (the lock itself is a warning).
      this.logger.debug({ username, ip: address, lockedBy: admission.lockedBy }, 'login refused: locked out');
      throw tooManyAttempts(admission.retryAfterSeconds);
    }
    const { attempt } = admission;
    check = this.checker.check(username, password);
    this.inflight.set(cacheKey, check);
    const clear = () => {
      if (this.inflight.get(cacheKey) === check) this.inflight.delete(cacheKey);
    };
    check.then(clear, clear);
    let verdict: Awaited<typeof check>;
    try {
      verdict = await check;
    } catch (err) {
      attempt.abandoned();
      throw err;
    }
    if (!verdict) {
      const { locked } = attempt.failed();
      if (locked.length)
        this.logger.warn(
          { username, ip: address, locked, lockSeconds: this.lockout.policy.lockMs / 1000 },
          'login locked after repeated failures',
        );
      else this.logger.info({ username, ip: address }, 'failed login');
      throw unauthorized('Invalid credentials');
    }
    attempt.succeeded();
    return this.accept(cacheKey, verdict, generation);
  }

  private accept(cacheKey: string, ok: { username: string; role: Role }, generation: number): Actor {
    const actor: Actor = { kind: 'admin', username: ok.username, role: ok.role };
    // An admin changed meanwhile: answer this request, but do not remember the verdict.
    if (generation === this.generation) this.cache.set(cacheKey, { actor, expires: this.now() + this.cacheMs });
    return actor;
  }
}

function tooManyAttempts(retryAfterSeconds: number): ApiError {
  return apiErrorFrom(
    new DomainError('auth.tooManyAttempts', `Too many failed logins; retry in ${retryAfterSeconds} s`, { retryAfterSeconds }),
  );
}

function unauthorized(message: string): ApiError {
  return apiErrorFrom(new DomainError('auth.unauthenticated', message));
}

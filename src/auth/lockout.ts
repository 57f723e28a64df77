// Login lockout for the admin API. The model follows MobileIron Core's password policy ("Number
// of Failed attempts" locks the account for the "Auto-Lock Time"; the DISA STIG for Core asks
// for at least 15 minutes), plus a limit per source address against username spraying:
//
// - per username: maxFailuresPerUser failed checks within windowMs lock the username, from every
//   address, for lockMs. Unknown usernames are counted exactly like known ones, so neither timing
//   nor a lockout tells which admins exist.
// - per address: maxFailuresPerAddress failed checks (any usernames) lock the address.
// - trusted address: an address this user logged in from within trustMs is not held by the
//   user's lock; it has its own allowance of maxFailuresPerUser. An attacker elsewhere can lock
//   the username, but not the admin at the workstation they use; otherwise the lock expires.
//
// An attempt is counted when it STARTS: a password check reserves a slot on each counter before
// scrypt runs, and a counter whose failures plus checks in flight reach its limit refuses at
// once. So a burst of parallel guesses gets at most the limit of real password checks.
// State is in memory and bounded (maxEntries counters, maxTrusted trusted pairs); a restart
// forgets it.
import { createHash } from 'node:crypto';

export interface LockoutPolicy {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  /** Failures older than this (since the first of a run) are forgotten. */
  windowMs: number;
  /** How long a lock holds. */
  lockMs: number;
  /** How long a successful login makes its address trusted for that user. */
  trustMs: number;
  /** Upper bound on remembered counters (users and addresses together). */
  maxEntries: number;
  /** Upper bound on remembered trusted (user, address) pairs. */
  maxTrusted: number;
}

export const defaultLockoutPolicy: LockoutPolicy = {
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  trustMs: 30 * 24 * 3600_000,
  maxEntries: 10_000,
  maxTrusted: 1_000,
};

interface Counter {
  limit: number;
  failures: number;
  /** Password checks started and not yet answered: they hold a slot. */
  pending: number;
  windowStart: number;
  lockedUntil: number;
}

export type Admission =
  | { admitted: true; attempt: LoginAttempt }
  | { admitted: false; retryAfterSeconds: number; lockedBy: 'user' | 'address' };

/** A reserved slot: settle it exactly once with the verdict of the password check. */
export interface LoginAttempt {
  /** Whether the user's allowance came from a trusted address. */
  readonly trusted: boolean;
  succeeded(): void;
  /** Returns what was locked by this failure, if anything. */
  failed(): { locked: Array<'user' | 'address'> };
  /** The check itself broke (e.g. database error): give the slot back without a verdict. */
  abandoned(): void;
}

function digest(text: string): string {
  // Keys are hashed so an 8 KB username costs the same few bytes as a short one.
  return createHash('sha256').update(text).digest('base64url');
}

export class LoginLockout {
  private counters = new Map<string, Counter>();
  private trusted = new Map<string, number>();

  constructor(
    readonly policy: LockoutPolicy = defaultLockoutPolicy,
    /** Injectable clock (tests move it to see a lock expire). */
    public now: () => number = () => Date.now(),
  ) {}

  /** Counters and trusted pairs held in memory; both bounded by the policy. */
  get size(): { counters: number; trusted: number } {
    return { counters: this.counters.size, trusted: this.trusted.size };
  }

  /** Whether this username (from this address) or this address is locked now; reserves nothing. */
  lockedFor(username: string, address: string): { retryAfterSeconds: number; lockedBy: 'user' | 'address' } | null {
    const now = this.now();
    const { userKey, addressKey } = this.keys(username, address, now);
    for (const [key, lockedBy] of [[userKey, 'user'], [addressKey, 'address']] as const) {
      const lockedUntil = this.counters.get(key)?.lockedUntil ?? 0;
      if (lockedUntil > now) return { lockedBy, retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil - now) / 1000)) };
    }
    return null;
  }

  /** The user's counter is per (user, address) when that address is trusted for the user. */
  private keys(username: string, address: string, now: number) {
    const user = username.toLowerCase();
    const pairKey = `p:${digest(`${user}\u0000${address}`)}`;
    const trustedUntil = this.trusted.get(pairKey);
    const trusted = trustedUntil !== undefined && trustedUntil > now;
    if (trustedUntil !== undefined && !trusted) this.trusted.delete(pairKey);
    return { pairKey, trusted, userKey: trusted ? pairKey : `u:${digest(user)}`, addressKey: `a:${digest(address)}` };
  }

  /** Reserve a password check for this username from this address, or say how long to wait. */
  begin(username: string, address: string): Admission {
    const now = this.now();
    const { pairKey, trusted, userKey, addressKey } = this.keys(username, address, now);
    const userCounter = this.counter(userKey, this.policy.maxFailuresPerUser, now);
    const addressCounter = this.counter(addressKey, this.policy.maxFailuresPerAddress, now);

    for (const [counter, lockedBy] of [[userCounter, 'user'], [addressCounter, 'address']] as const) {
      if (counter.lockedUntil > now) {
        return { admitted: false, lockedBy, retryAfterSeconds: Math.max(1, Math.ceil((counter.lockedUntil - now) / 1000)) };
      }
      // The checks in flight may all fail and lock; until they answer, no further check starts.
      if (counter.failures + counter.pending >= counter.limit) return { admitted: false, lockedBy, retryAfterSeconds: 1 };
    }
    userCounter.pending++;
    addressCounter.pending++;

    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      userCounter.pending--;
      addressCounter.pending--;
      return true;
    };
    return {
      admitted: true,
      attempt: {
        trusted,
        succeeded: () => {
          if (!settle()) return;
          // The address counter is not reset: a sprayer holding one valid account must not
          // be able to wipe its address's failures by logging in between guesses.
          userCounter.failures = 0;
          this.trust(pairKey, this.now());
        },
        failed: () => {
          if (!settle()) return { locked: [] };
          const at = this.now();
          const locked: Array<'user' | 'address'> = [];
          if (this.fail(userCounter, at)) locked.push('user');
          if (this.fail(addressCounter, at)) locked.push('address');
          return { locked };
        },
        abandoned: () => {
          settle();
        },
      },
    };
  }

  private fail(counter: Counter, now: number): boolean {
    if (now - counter.windowStart > this.policy.windowMs) {
      counter.failures = 0;
      counter.windowStart = now;
    }
    counter.failures++;
    if (counter.failures < counter.limit) return false;
    counter.lockedUntil = now + this.policy.lockMs;
    counter.failures = 0;
    counter.windowStart = now;
    return true;
  }

  private counter(key: string, limit: number, now: number): Counter {
    let counter = this.counters.get(key);
    if (counter) {
      // Most recently used last, so eviction finds the oldest first.
      this.counters.delete(key);
      if (now - counter.windowStart > this.policy.windowMs && counter.lockedUntil <= now) {
        counter.failures = 0;
        counter.windowStart = now;
      }
    } else {
      if (this.counters.size >= this.policy.maxEntries) this.evict(now);
      counter = { limit, failures: 0, pending: 0, windowStart: now, lockedUntil: 0 };
    }
    this.counters.set(key, counter);
    return counter;
  }

  /**
   * Make room, in batches (a tenth of the bound) so a spray does not pay a scan per request.
   * Idle counters (not locked, nothing in flight) go first, oldest first: a spray of new
   * usernames or addresses cannot flush the lock of the admin it is attacking unless the whole
   * table is locks. The bound holds regardless.
   */
  private evict(now: number): void {
    const target = Math.floor(this.policy.maxEntries * 0.9);
    for (const [key, c] of this.counters) {
      if (this.counters.size <= target) return;
      if (c.pending === 0 && c.lockedUntil <= now) this.counters.delete(key);
    }
    for (const key of this.counters.keys()) {
      if (this.counters.size < this.policy.maxEntries) return;
      this.counters.delete(key);
    }
  }

  private trust(pairKey: string, now: number): void {
    this.trusted.delete(pairKey);
    while (this.trusted.size >= this.policy.maxTrusted) {
      const oldest = this.trusted.keys().next().value as string;
      this.trusted.delete(oldest);
    }
    this.trusted.set(pairKey, now + this.policy.trustMs);
  }
}

// Login lockout for the admin API. The model follows MobileIron Core's password policy ("Number
// of Failed attempts" locks the account for the "Auto-Lock Time"; the DISA STIG for Core asks
// for at least 15 minutes), plus a limit per source address against username spraying:
//
// - per username: maxFailuresPerUser failed checks within windowMs lock the username, from every
//   address, for lockMs. Unknown usernames are counted exactly like known ones, so neither timing
//   nor a lockout tells which admins exist.
// - per address: maxFailuresPerAddress failed checks (any usernames) lock the address (an IPv6
//   client's whole /64 counts as one address).
// - trusted address: an address this user logged in from within trustMs is held neither by the
//   user's lock nor by the address's; it has its own allowance of maxFailuresPerUser. An attacker
//   elsewhere (or behind the same proxy) can lock the username or the address, but not the admin
//   at the workstation they use; anyone else waits for the lock to expire (or a restart).
// - a credential verified within the cache time (BasicAuthenticator) is honoured during a lock:
//   it needs no password check.
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

export type Scope = 'user' | 'address';

export type Admission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterSeconds: number; lockedBy: Scope };

interface Route {
  key: string;
  limit: number;
  scope: Scope;
}

/** A reserved slot: settle it exactly once with the verdict of the password check. */
export interface LoginAttempt {
  /** Whether the user's allowance came from a trusted address. */
  readonly trusted: boolean;
  succeeded(): void;
  /** Returns what was locked by this failure, if anything. */
  failed(): { locked: Scope[] };
  /** The check itself broke (e.g. database error): give the slot back without a verdict. */
  abandoned(): void;
}

/** The lock that holds longest among these counters, if any. */
function lockOf(
  counters: Array<{ counter: Counter | undefined; scope: Scope }>,
  now: number,
): { retryAfterSeconds: number; lockedBy: Scope } | null {
  let longest: { until: number; scope: Scope } | null = null;
  for (const { counter, scope } of counters) {
    if (counter && counter.lockedUntil > now && (!longest || counter.lockedUntil > longest.until))
      longest = { until: counter.lockedUntil, scope };
  }
  return longest && { lockedBy: longest.scope, retryAfterSeconds: Math.max(1, Math.ceil((longest.until - now) / 1000)) };
}

/**
 * The address a per-address counter is kept for. An IPv6 client usually holds a whole /64, so
 * its addresses count together; IPv4 (and IPv4-mapped IPv6) addresses count one by one.
 */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
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

  /**
   * Lift the locks and forget the failures of a username (its own counter and those of its
   * trusted addresses). Address locks stay: they are about the address, not this user.
   * Returns whether a lock was lifted.
   */
  unlock(username: string): boolean {
    const now = this.now();
    const user = digest(username.toLowerCase());
    let lifted = false;
    for (const [key, counter] of this.counters) {
      if (key === `u:${user}` || key.startsWith(`p:${user}:`)) {
        if (counter.lockedUntil > now) lifted = true;
        counter.lockedUntil = 0;
        counter.failures = 0;
      }
    }
    return lifted;
  }

  /** Whether this username from this address is locked now; reserves nothing. */
  lockedFor(username: string, address: string): { retryAfterSeconds: number; lockedBy: Scope } | null {
    const now = this.now();
    const { gates } = this.route(username, address, now);
    return lockOf(
      gates.map(({ key, scope }) => ({ counter: this.counters.get(key), scope })),
      now,
    );
  }

  /**
   * Which counters decide, and which only record. Normally the username's and the address's
   * both decide. From an address this user logged in from before (trusted), only their own
   * (user, address) counter decides, so neither a locked username nor a locked address (a proxy
   * or NAT shared with an attacker) keeps them out; their failures still count on the address.
   */
  private route(username: string, address: string, now: number) {
    const user = username.toLowerCase();
    const network = normalizeAddress(address);
    const pairKey = `p:${digest(user)}:${digest(network)}`;
    const addressKey = `a:${digest(network)}`;
    const trustedUntil = this.trusted.get(pairKey);
    const trusted = trustedUntil !== undefined && trustedUntil > now;
    if (trustedUntil !== undefined && !trusted) this.trusted.delete(pairKey);
    const { maxFailuresPerUser, maxFailuresPerAddress } = this.policy;
    const gates: Route[] = trusted
      ? [{ key: pairKey, limit: maxFailuresPerUser, scope: 'user' }]
      : [
          { key: `u:${digest(user)}`, limit: maxFailuresPerUser, scope: 'user' },
          { key: addressKey, limit: maxFailuresPerAddress, scope: 'address' },
        ];
    const recordOnly: Route[] = trusted ? [{ key: addressKey, limit: maxFailuresPerAddress, scope: 'address' }] : [];
    return { pairKey, trusted, gates, recordOnly };
  }

  /** Reserve a password check for this username from this address, or say how long to wait. */
  begin(username: string, address: string): Admission {
    const now = this.now();
    const { pairKey, trusted, gates, recordOnly } = this.route(username, address, now);
    const gating = gates.map((r) => ({ counter: this.counter(r.key, r.limit, now), scope: r.scope }));
    const locked = lockOf(gating, now);
    if (locked) return { admitted: false, ...locked };
    // The checks in flight may all fail and lock; until they answer, no further check starts.
    const saturated = gating.find(({ counter }) => counter.failures + counter.pending >= counter.limit);
    if (saturated) return { admitted: false, lockedBy: saturated.scope, retryAfterSeconds: 1 };
    const all = [...gating, ...recordOnly.map((r) => ({ counter: this.counter(r.key, r.limit, now), scope: r.scope }))];
    for (const { counter } of all) counter.pending++;

    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      for (const { counter } of all) counter.pending--;
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
          for (const { counter, scope } of gating) if (scope === 'user') counter.failures = 0;
          this.trust(pairKey, this.now());
        },
        failed: () => {
          if (!settle()) return { locked: [] };
          const at = this.now();
          return { locked: all.filter(({ counter }) => this.fail(counter, at)).map(({ scope }) => scope) };
        },
        abandoned: () => {
          settle();
        },
      },
    };
  }

  private fail(counter: Counter, now: number): boolean {
    // The window runs from the first failure of a run.
    if (counter.failures === 0 || now - counter.windowStart > this.policy.windowMs) {
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

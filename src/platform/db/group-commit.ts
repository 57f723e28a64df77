// Group commit: many small write units share one transaction, one COMMIT and one WAL sync. On
// the one serialized connection each result used to pay its own BEGIN … COMMIT and fsync, and
// under load (fifty devices answering at once) results queued behind each other's.
//
// A unit is submitted with `run(work)`. When no batch is running one starts `windowMs` (2 ms)
// later, with every unit submitted by then; units submitted while a batch runs (it yields for
// big answers, and waits for its WAL sync, wal-sync.ts) join it or the next, until it holds
// `maxBatch` units or has run `maxBatchMs`, then it commits and the next batch takes the rest.
// Each unit runs in its own SAVEPOINT: a unit that throws is rolled back alone and its caller
// gets its error, the others commit. A unit's promise settles only after the transaction that
// holds it committed and the WAL was synced (createDb's $transaction), so whoever answers a
// client after `run` has durability. Units run one after the other in submission order, so two
// units of one device apply in the order they arrived. If the batch itself cannot commit, each
// unit that had succeeded in it is run again alone, in its own transaction, so one unit cannot
// make the others fail.
import type { DbTx } from './client.js';

/** What the scheduler needs of a client: interactive transactions whose client runs raw SQL. */
export interface TransactionRunner {
  $transaction<T>(work: (tx: DbTx) => Promise<T>, options?: { maxWait?: number; timeout?: number }): Promise<T>;
}

export interface GroupCommitOptions {
  /** At most this many units per transaction. */
  maxBatch?: number;
  /** A batch stops taking new units after running this long, so its first units are not held back. */
  maxBatchMs?: number;
  /** How long a batch collects units before it starts (ms). */
  windowMs?: number;
}

interface Unit {
  work: (tx: DbTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitClosedError extends Error {}

export class GroupCommit {
  private readonly pending: Unit[] = [];
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxBatchMs: number;
  private readonly windowMs: number;
  /** Batches committed and units in them, for tests and diagnostics. */
  readonly stats = { batches: 0, units: 0, largestBatch: 0, retriedAlone: 0 };

  constructor(
    private readonly db: TransactionRunner,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxBatchMs = options.maxBatchMs ?? 10;
    this.windowMs = options.windowMs ?? 2;
  }

  /** Runs `work` in a transaction shared with other units; resolves with its value once that transaction committed. */
  run<T>(work: (tx: DbTx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new GroupCommitClosedError('group commit closed: the database is shutting down'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // The batch starts `windowMs` after its first unit, with every unit submitted by then.
      // Started at once, each would commit alone: a request reaches run() after work of its
      // own (its signature, a read), and the others are still in theirs.
      this.running ??= new Promise((r) => setTimeout(r, this.windowMs)).then(() => this.drain());
    });
  }

  /** Takes no new units; resolves once every unit already submitted has settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.batch();
    } finally {
      this.running = null;
    }
  }

  private async batch(): Promise<void> {
    const done: Array<{ unit: Unit; value: unknown }> = [];
    const failed: Array<{ unit: Unit; err: unknown }> = [];
    const taken: Unit[] = [];
    try {
      // A generous timeout: the batch is bounded by maxBatch and maxBatchMs, but a unit may be a
      // 2 MiB answer that yields to the event loop while it is stored.
      await this.db.$transaction(
        async (tx) => {
          const started = performance.now();
          while (
            this.pending.length > 0 &&
            taken.length < this.maxBatch &&
            (taken.length === 0 || performance.now() - started < this.maxBatchMs)
          ) {
            const unit = this.pending.shift()!;
            taken.push(unit);
            await tx.$executeRawUnsafe('SAVEPOINT group_unit');
            try {
              const value = await unit.work(tx);
              await tx.$executeRawUnsafe('RELEASE group_unit');
              done.push({ unit, value });
            } catch (err) {
              // Undo this unit's writes only; the transaction stays open for the others.
              await tx.$executeRawUnsafe('ROLLBACK TO group_unit');
              await tx.$executeRawUnsafe('RELEASE group_unit');
              failed.push({ unit, err });
            }
          }
        },
        { maxWait: 60_000, timeout: 120_000 },
      );
    } catch {
      // The batch did not commit (a failed COMMIT, a savepoint statement refused). Units that
      // failed on their own keep their own error; each of the others gets a transaction alone.
      const own = new Set(failed.map((f) => f.unit));
      const rest = taken.filter((u) => !own.has(u));
      // The transaction did not even start: the first waiting unit tries alone, so every pass settles one at least.
      if (taken.length === 0 && this.pending.length > 0) rest.push(this.pending.shift()!);
      for (const f of failed) f.unit.reject(f.err);
      // Units taken when the failure struck mid-unit are neither done nor failed: run them alone too.
      for (const unit of rest) {
        this.stats.retriedAlone++;
        try {
          unit.resolve(await this.db.$transaction((tx) => unit.work(tx), { maxWait: 60_000, timeout: 120_000 }));
        } catch (err) {
          unit.reject(err);
        }
      }
      return;
    }
    this.stats.batches++;
    this.stats.units += taken.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, taken.length);
    for (const d of done) d.unit.resolve(d.value);
    for (const f of failed) f.unit.reject(f.err);
  }
}

/**
 * The one scheduler of a client: every part that commits through it shares its batches (and
 * per-device order). `createDb` closes it before the client disconnects.
 */
const schedulers = new WeakMap<object, GroupCommit>();

export function groupCommitFor(db: TransactionRunner): GroupCommit {
  let scheduler = schedulers.get(db);
  if (!scheduler) schedulers.set(db, (scheduler = new GroupCommit(db)));
  return scheduler;
}

/** Drains the client's scheduler, if it has one (units already submitted still commit). */
export async function closeGroupCommit(db: object): Promise<void> {
  await schedulers.get(db)?.close();
}

// The group commit scheduler (src/platform/db/group-commit.ts) on a real SQLite file through the
// Prisma client the server uses (createDb: the serialized better-sqlite3 connection). What is
// committed is read back through a second, independent better-sqlite3 connection, as another
// process would see it after a crash. SAVEPOINT / ROLLBACK TO / RELEASE behave as SQLite
// documents them (https://www.sqlite.org/lang_savepoint.html): a rolled-back savepoint undoes
// only the writes made since it, and the enclosing transaction stays open.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../../src/platform/db/client.js';
import { GroupCommit, GroupCommitClosedError, closeGroupCommit, groupCommitFor } from '../../../src/platform/db/group-commit.js';

let dir: string;
let dbFile: string;
let db: Db;

/** The rows as a second connection sees them: only what was committed. */
function committed(): Array<{ seq: number; key: string; value: string }> {
  const reader = new Database(dbFile, { readonly: true });
  try {
    return reader.prepare('SELECT seq, key, value FROM log ORDER BY seq').all() as Array<{ seq: number; key: string; value: string }>;
  } finally {
    reader.close();
  }
}

const insert = (key: string, value: string) => (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) =>
  tx.$executeRawUnsafe('INSERT INTO log (key, value) VALUES (?, ?)', key, value);

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-group-commit-'));
  dbFile = path.join(dir, 'test.db');
  db = createDb(dbFile);
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL'); // as openDatabase: createDb syncs the WAL after each commit
  await db.$executeRawUnsafe('CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL UNIQUE)');
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('commits concurrent units in fewer transactions than units, each settling only once its commit is visible to another connection', async () => {
    // no time limit on a batch: on a loaded machine 10 ms can pass within a few units
    const commits = new GroupCommit(db, { maxBatchMs: 60_000 });
    const seenAtSettle: number[] = [];
    const units = Array.from({ length: 40 }, (_, i) =>
      commits
        .run(async (tx) => {
          await insert('k', `v${i}`)(tx);
          // Not committed yet: another connection does not see this unit's row.
          expect(committed().some((r) => r.value === `v${i}`)).toBe(false);
          return i;
        })
        .then((value) => {
          // Settled: the row is on disk for anyone who opens the file.
          seenAtSettle.push(committed().filter((r) => r.value === `v${value}`).length);
          return value;
        }),
    );
    expect(await Promise.all(units)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seenAtSettle).toEqual(Array(40).fill(1));
    expect(commits.stats.units).toBe(40);
    expect(commits.stats.batches).toBeLessThan(40);
    expect(commits.stats.largestBatch).toBeGreaterThan(1);
  });

  it('respects maxBatch', async () => {
    const commits = new GroupCommit(db, { maxBatch: 3, maxBatchMs: 60_000 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => commits.run(insert('k', `v${i}`))));
    expect(commits.stats.largestBatch).toBe(3);
    expect(commits.stats.batches).toBe(4);
    expect(committed()).toHaveLength(10);
  });

  it('rolls back only the unit that failed: its caller gets its error, the others of its batch commit', async () => {
    const commits = new GroupCommit(db, { maxBatchMs: 60_000 });
    const failing = new Error('this unit fails after writing');
    const outcomes = await Promise.allSettled([
      commits.run(insert('a', 'first')),
      commits.run(async (tx) => {
        await insert('b', 'written then undone')(tx);
        throw failing;
      }),
      // A constraint violation raised by SQLite itself: the value is already taken by the first unit.
      commits.run(insert('c', 'first')),
      commits.run(insert('d', 'last')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(failing);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/i);
    expect(committed().map((r) => r.value)).toEqual(['first', 'last']);
    expect(commits.stats.batches).toBe(1);
  });

  it('runs units in submission order, within and across batches, so one key sees its writes in the order they arrived', async () => {
    const commits = new GroupCommit(db, { maxBatch: 4 });
    const order: string[] = [];
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => {
        const key = `device-${i % 3}`;
        return commits.run(async (tx) => {
          order.push(`${key}:${i}`);
          // Yielding inside a unit does not let a later unit overtake it.
          await new Promise((r) => setImmediate(r));
          await insert(key, String(i))(tx);
        });
      }),
    );
    const expected = Array.from({ length: 25 }, (_, i) => `device-${i % 3}:${i}`);
    expect(order).toEqual(expected);
    expect(committed().map((r) => `${r.key}:${r.value}`)).toEqual(expected);
    expect(commits.stats.batches).toBeGreaterThanOrEqual(7);
  });

  it('a batch that cannot commit runs its other units again, each alone', async () => {
    const commits = new GroupCommit(db);
    const outcomes = await Promise.allSettled([
      commits.run(insert('a', 'before the breaker')),
      // Ends the shared transaction under the scheduler's feet: the batch cannot commit.
      commits.run(async (tx) => {
        await tx.$executeRawUnsafe('ROLLBACK');
      }),
      commits.run(insert('c', 'after the breaker')),
    ]);
    expect(outcomes[0]!.status).toBe('fulfilled');
    expect(outcomes[2]!.status).toBe('fulfilled');
    expect(committed().map((r) => r.value)).toEqual(['before the breaker', 'after the breaker']);
    expect(commits.stats.retriedAlone).toBeGreaterThanOrEqual(1);
  });

  it('close() lets every unit already submitted commit, and refuses new ones', async () => {
    const commits = new GroupCommit(db, { maxBatch: 2 });
    const units = Array.from({ length: 7 }, (_, i) => commits.run(insert('k', `v${i}`)));
    await commits.close();
    expect(committed()).toHaveLength(7);
    await expect(Promise.all(units)).resolves.toHaveLength(7);
    await expect(commits.run(insert('k', 'late'))).rejects.toBeInstanceOf(GroupCommitClosedError);
    expect(committed()).toHaveLength(7);
  });

  it("the client's own scheduler is drained by $disconnect before the connection closes", async () => {
    const commits = groupCommitFor(db);
    expect(groupCommitFor(db)).toBe(commits);
    const units = Array.from({ length: 5 }, (_, i) => commits.run(insert('k', `v${i}`)));
    await db.$disconnect();
    await expect(Promise.all(units)).resolves.toHaveLength(5);
    expect(committed()).toHaveLength(5);
    await closeGroupCommit(db);
    // afterEach disconnects again: reopen so it has a client to close
    db = createDb(dbFile);
  });
});

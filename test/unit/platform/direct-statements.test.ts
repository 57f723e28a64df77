// Statements on the SQLite connection itself (directStatements, src/platform/db/serialized-adapter.ts),
// used by the bulk import: only inside a $transaction callback, where the transaction holds the
// one connection, so they commit and roll back with it, and the caller is answered only after
// the WAL sync like any model write. Real SQLite through the server's Prisma client; what is
// committed is read back by a second, independent connection.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, directRead, directStatements, sqliteValue, type Db } from '../../../src/platform/db/client.js';
import { TransactionMisuseError } from '../../../src/platform/db/serialized-adapter.js';

let dir: string;
let dbFile: string;
let db: Db;

function committed(): Array<{ key: string; at: string | null; flag: number | null }> {
  const reader = new Database(dbFile, { readonly: true });
  try {
    return reader.prepare('SELECT key, at, flag FROM log ORDER BY seq').all() as Array<{
      key: string;
      at: string | null;
      flag: number | null;
    }>;
  } finally {
    reader.close();
  }
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-direct-'));
  dbFile = path.join(dir, 'test.db');
  db = createDb(dbFile);
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, at TEXT, flag INTEGER)');
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('directStatements', () => {
  it('is not offered outside a transaction, nor to other work running while one is open', async () => {
    expect(directStatements()).toBeNull();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const transaction = db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe("INSERT INTO log (key) VALUES ('in-tx')");
      expect(directStatements()).not.toBeNull();
      opened();
      await held;
    });
    await open;
    // another request's code, while the transaction holds the connection: it must not write into it
    expect(directStatements()).toBeNull();
    release();
    await transaction;
    expect(directStatements()).toBeNull();
  });

  it('writes inside the transaction: committed with it, values bound as the Prisma adapter stores them', async () => {
    const at = new Date('2026-12-03T06:40:00.123Z');
    await db.$transaction(async (tx) => {
      const direct = directStatements();
      expect(direct).not.toBeNull();
      const insert = direct!.prepare('INSERT INTO log (key, at, flag) VALUES (?, ?, ?)');
      // run answers the new row's rowid (the bulk import's device ids, for its label memberships)
      const a = insert.run(['a', sqliteValue(at), sqliteValue(true)]);
      const b = insert.run(['b', null, sqliteValue(false)]);
      expect(await tx.$queryRawUnsafe('SELECT seq FROM log ORDER BY seq')).toEqual([{ seq: a }, { seq: b }]);
      expect(b).toBe(a + 1);
      // the transaction's own queries see them before the commit; another connection does not
      expect(await tx.$queryRawUnsafe('SELECT count(*) AS n FROM log')).toEqual([{ n: 2n }]);
      expect(committed()).toEqual([]);
    });
    expect(committed()).toEqual([
      { key: 'a', at: '2026-12-03T06:40:00.123+00:00', flag: 1 },
      { key: 'b', at: null, flag: 0 },
    ]);
    // the same text Prisma writes for a Date, so Prisma reads it back as that instant
    await db.$executeRawUnsafe('INSERT INTO log (key, at) VALUES (?, ?)', 'prisma', at);
    expect(committed().at(-1)!.at).toBe(committed()[0]!.at);
  });

  it('rolls back with the transaction when the callback fails, even after a statement of its own failed', async () => {
    await expect(
      db.$transaction(async () => {
        const insert = directStatements()!.prepare('INSERT INTO log (key) VALUES (?)');
        insert.run(['x']);
        insert.run(['x']); // UNIQUE
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(committed()).toEqual([]);
    // the connection is free again and not left inside a transaction
    await db.$executeRawUnsafe("INSERT INTO log (key) VALUES ('after')");
    expect(committed().map((r) => r.key)).toEqual(['after']);
  });
});

describe('directRead', () => {
  it('through the plain client waits for an open transaction and then sees only what it committed', async () => {
    await db.$executeRawUnsafe("INSERT INTO log (key) VALUES ('before')");
    expect(await directRead(db, 'SELECT key, flag FROM log ORDER BY seq', [])).toEqual([{ key: 'before', flag: null }]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const transaction = db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe("INSERT INTO log (key) VALUES ('inside')");
      // the transaction's own read sees its write
      expect(await directRead(tx, 'SELECT count(*) AS n FROM log', [])).toEqual([{ n: 2n }]);
      opened();
      await held;
      throw new Error('rolled back');
    });
    await open;
    let readDone = false;
    const outside = directRead(db, 'SELECT key FROM log ORDER BY seq', []).then((rows) => ((readDone = true), rows));
    await new Promise((r) => setTimeout(r, 20));
    expect(readDone).toBe(false); // waiting for the connection, not reading inside the transaction
    release();
    await expect(transaction).rejects.toThrow('rolled back');
    expect(await outside).toEqual([{ key: 'before' }]);
  });

  it('refuses the plain client inside a transaction callback, as every query does', async () => {
    await expect(db.$transaction(async () => directRead(db, 'SELECT 1 AS one', []))).rejects.toThrow(TransactionMisuseError);
  });
});

// The WAL sync behind every write's promise (src/platform/db/wal-sync.ts): a caller is answered
// only after an fsync that started after its call (one already running may predate its commit),
// and callers arriving during one fsync share the next. The file target fsyncs a real SQLite
// WAL (https://www.sqlite.org/wal.html: the -wal file beside the database) through its own
// descriptor; fsync(2) flushes the file, whatever descriptor wrote it.
import { existsSync, fstatSync, fsyncSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync, walFileTarget, type SyncTarget } from '../../../src/platform/db/wal-sync.js';

/** A target whose fsyncs finish when the test says so. */
function manualTarget() {
  const started: Array<() => void> = [];
  const target: SyncTarget = {
    sync: () => new Promise<void>((resolve) => started.push(resolve)),
    close: async () => {},
  };
  return { target, started };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('WalSync', () => {
  it('answers a caller only after an fsync that started after its call; callers during one fsync share the next', async () => {
    const { target, started } = manualTarget();
    const wal = new WalSync(target);
    const first = wal.durable();
    expect(started).toHaveLength(1);
    const during = [wal.durable(), wal.durable(), wal.durable()];
    // One fsync at a time: the three wait, without starting their own yet.
    expect(started).toHaveLength(1);
    started[0]!();
    expect(await settled(first)).toBe(true);
    // The first fsync may have started before their commits: they are not answered by it.
    for (const p of during) expect(await settled(p)).toBe(false);
    expect(started).toHaveLength(2);
    started[1]!();
    for (const p of during) expect(await settled(p)).toBe(true);
    expect(wal.stats).toEqual({ syncs: 2, waits: 4 });
  });

  it('a failed fsync fails its callers, and the next callers get a new one', async () => {
    const calls: number[] = [];
    const wal = new WalSync({
      sync: async () => {
        calls.push(calls.length);
        if (calls.length === 1) throw new Error('EIO');
      },
      close: async () => {},
    });
    await expect(wal.durable()).rejects.toThrow('EIO');
    await expect(wal.durable()).resolves.toBeUndefined();
    expect(calls).toEqual([0, 1]);
  });

  it('close() waits for the fsyncs under way', async () => {
    const { target, started } = manualTarget();
    const wal = new WalSync(target);
    const pending = wal.durable();
    const closing = wal.close();
    expect(await settled(closing)).toBe(false);
    started[0]!();
    await closing;
    expect(await settled(pending)).toBe(true);
  });

  it("fsyncs a real SQLite database's WAL, and does nothing while there is none", async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-wal-sync-'));
    const dbFile = path.join(dir, 'test.db');
    // Each fsync is real; the test also notes which file (inode) it reached.
    const synced: number[] = [];
    const target = walFileTarget(dbFile, async (fd) => {
      fsyncSync(fd);
      synced.push(fstatSync(fd).ino);
    });
    const walInode = () => statSync(`${dbFile}-wal`).ino;
    await expect(target.sync()).resolves.toBeUndefined(); // no database, no WAL yet
    expect(synced).toEqual([]);
    const db = new Database(dbFile);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
    expect(existsSync(`${dbFile}-wal`)).toBe(true);
    await target.sync();
    db.exec('INSERT INTO t VALUES (2)');
    await target.sync();
    expect(synced).toEqual([walInode(), walInode()]);
    // The last connection closing removes the WAL; a new connection makes a new file, which is synced.
    db.close();
    expect(existsSync(`${dbFile}-wal`)).toBe(false);
    await target.sync();
    expect(synced).toHaveLength(2);
    // Our descriptor keeps the old file's inode alive, so the new WAL has another one.
    const again = new Database(dbFile);
    again.pragma('journal_mode = WAL');
    again.exec('INSERT INTO t VALUES (3)');
    await target.sync();
    expect(synced.at(-1)).toBe(walInode());
    await target.close();
    again.close();
  });
});

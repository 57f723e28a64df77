// Durability without blocking the event loop. With `synchronous = FULL`, better-sqlite3 runs
// SQLite's fsync of the WAL inside COMMIT, on the thread that runs the event loop: on this
// shared machine one fsync took 3 to 160 ms, and no request could even be read meanwhile.
//
// Instead the connection runs with `synchronous = NORMAL` (in WAL mode: COMMIT writes the WAL
// without syncing it; checkpoints still sync the WAL before copying it and the database after,
// https://www.sqlite.org/pragma.html#pragma_synchronous and https://www.sqlite.org/wal.html),
// and every write's promise resolves only after an fsync of the WAL file that started after its
// COMMIT returned: the same guarantee as FULL for whoever waits for the promise (an answer is
// sent after its data is on disk), with the fsync on libuv's thread pool. fsync flushes the file,
// not a descriptor (POSIX fsync: "all modified data ... of the file"), so our own descriptor of
// the WAL covers what SQLite wrote through its own. Commits that arrive while an fsync runs share
// the next one (group commit at the file level).
import { close, existsSync, fstat, fsync, open, stat } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const openAsync = promisify(open);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);
const statAsync = promisify(stat);
const fstatAsync = promisify(fstat);

/** How a WalSync reaches the disk; tests count the calls. */
export interface SyncTarget {
  /** Makes everything written to the file so far durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The WAL file of a database, opened once it exists; the directory is synced once after that, so its entry is durable too. */
export function walFileTarget(dbFile: string, syncFd: (fd: number) => Promise<void> = fsyncAsync): SyncTarget {
  const walFile = `${dbFile}-wal`;
  let fd: number | undefined;
  return {
    async sync() {
      // SQLite removes the WAL when its last connection closes; ours stays open, but a file made
      // anew (another process closed last meanwhile) must not be missed behind an old descriptor.
      if (fd !== undefined) {
        const current = await statAsync(walFile).catch(() => null);
        if (!current || current.ino !== (await fstatAsync(fd)).ino) {
          await closeAsync(fd);
          fd = undefined;
        }
      }
      if (fd === undefined) {
        // No WAL yet: nothing was committed since the database was opened (a checkpoint on close removes it).
        if (!existsSync(walFile)) return;
        fd = await openAsync(walFile, 'r');
        const dirFd = await openAsync(path.dirname(walFile), 'r');
        try {
          await fsyncAsync(dirFd);
        } finally {
          await closeAsync(dirFd);
        }
      }
      await syncFd(fd);
    },
    async close() {
      if (fd !== undefined) await closeAsync(fd);
      fd = undefined;
    },
  };
}

export class WalSync {
  private current: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** fsyncs started and durable() calls served, for tests and diagnostics. */
  readonly stats = { syncs: 0, waits: 0 };

  constructor(private readonly target: SyncTarget) {}

  /**
   * Resolves once everything committed before this call is on disk. An fsync already running
   * may have started before the caller's commit, so the caller waits for the next one, which
   * every caller arriving meanwhile shares.
   */
  durable(): Promise<void> {
    this.stats.waits++;
    if (!this.current) return this.start();
    this.queued ??= this.current.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = null;
    return this.start();
  }

  private start(): Promise<void> {
    this.stats.syncs++;
    const run = this.target.sync().finally(() => {
      if (this.current === run) this.current = null;
    });
    this.current = run;
    return run;
  }

  /** Waits for the fsyncs under way, then lets the file go. */
  async close(): Promise<void> {
    while (this.current || this.queued) await (this.queued ?? this.current)!.catch(() => {});
    await this.target.close();
  }
}

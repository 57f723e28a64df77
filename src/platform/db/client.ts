// Prisma client on the better-sqlite3 driver adapter (no Prisma query engine binary needed).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../../generated/prisma/client.js';
import { ChangeCounter, devicePolicyTables, sharedPolicyTables } from './changes.js';
import { closeGroupCommit } from './group-commit.js';
import { applyMigrations } from './schema-engine.js';
import { registerDirectReads, serialized, transactionContext, type TransactionContext } from './serialized-adapter.js';

export { directFirst, directRead, directStatements, sqliteValue } from './serialized-adapter.js';
import { WalSync, walFileTarget } from './wal-sync.js';

export type Db = PrismaClient;
export type { Prisma } from '../../generated/prisma/client.js';
/** A Prisma transaction client, or the client itself: stores accept either. */
export type DbTx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

const writeOperations = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
]);

/**
 * The Prisma client, counting writes to policy tables in `changes`, and resolving each write (a
 * transaction, or a write outside one) only once the WAL is synced after it (wal-sync.ts). A write inside a
 * transaction counts when it runs and again when the transaction ends, so a cache filled by a
 * reader in between (which still saw the old data) is invalidated after the commit. Transactions
 * that wrote no policy table leave the count alone.
 */
export function createDb(dbFile: string, changes = new ChangeCounter()): Db {
  const adapter = serialized(new PrismaBetterSqlite3({ url: `file:${dbFile}` }));
  const base = new PrismaClient({ adapter });
  const walSync = new WalSync(walFileTarget(dbFile));
  const counted = base.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          const result = await query(args);
          if (writeOperations.has(operation)) {
            if (sharedPolicyTables.has(model)) changes.bumpShared();
            else if (devicePolicyTables.has(model)) changes.bump();
            // A write outside a transaction committed on its own: durable before its caller hears of it.
            const context = transactionContext.getStore();
            if (context?.state === 'open') context.wrote = true;
            else await walSync.durable();
          }
          return result;
        },
      },
    },
  });
  const transaction = counted.$transaction.bind(counted) as (...a: unknown[]) => Promise<unknown>;
  const client = new Proxy(counted, {
    get(target, prop, receiver) {
      // Units already handed to the group commit scheduler commit before the connection closes.
      if (prop === '$disconnect') {
        return async () => {
          await closeGroupCommit(receiver as object);
          await walSync.close();
          await target.$disconnect();
        };
      }
      if (prop === '$transaction') {
        return async (...a: unknown[]) => {
          const before = changes.value;
          const sharedBefore = changes.shared;
          try {
            const context: TransactionContext = { state: 'pending', connection: adapter.connection };
            let result: unknown;
            try {
              result = await transactionContext.run(context, () => transaction(...a));
            } finally {
              context.state = 'done';
            }
            // Committed: durable before the caller hears of it (wal-sync.ts). Model writes in a
            // callback mark the context (raw SQL writes would not: none exist but savepoints); the
            // array form's queries were made outside it, so it always waits.
            if (context.wrote || typeof a[0] !== 'function') await walSync.durable();
            return result;
          } finally {
            // Policy writes inside counted as they ran; count once more now that they are committed.
            if (changes.shared !== sharedBefore) changes.bumpShared();
            else if (changes.value !== before) changes.bump();
          }
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as unknown as Db;
  registerDirectReads(client, adapter);
  return client;
}

/**
 * The data directory owner-only (0700), and the database with its WAL and SHM 0600: they hold
 * hashes and sealed secrets. The database file is created empty with that mode before SQLite
 * opens it (SQLite then gives its WAL, SHM and journal the database file's mode); files an
 * older version left looser are fixed.
 */
function restrictDatabaseFiles(dbFile: string): void {
  const dir = path.dirname(dbFile);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  closeSync(openSync(dbFile, 'a', 0o600));
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** Creates the data dir if needed, applies pending migrations, and returns a connected client. */
export async function openDatabase(
  dbFile: string,
  changes = new ChangeCounter(),
): Promise<{ db: Db; applied: string[]; changes: ChangeCounter }> {
  restrictDatabaseFiles(dbFile);
  const applied = await applyMigrations(dbFile);
  const db = createDb(dbFile, changes);
  await db.$connect();
  // WAL keeps readers and the single writer out of each other's way. Durability stays on: every
  // write's promise resolves after an fsync of the WAL that followed its COMMIT (wal-sync.ts,
  // what FULL would do inside COMMIT, but on the thread pool instead of the event loop), so
  // SQLite itself syncs only at checkpoints (NORMAL).
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 5000');
  return { db, applied, changes };
}

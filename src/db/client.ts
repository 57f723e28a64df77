// Prisma client on the better-sqlite3 driver adapter (no Prisma query engine binary needed).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/prisma/client.js';
import { applyMigrations } from './schema-engine.js';

export type Db = PrismaClient;
export type { Prisma } from '../generated/prisma/client.js';
/** A Prisma transaction client, or the client itself: stores accept either. */
export type DbTx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export function createDb(dbFile: string): Db {
  const adapter = new PrismaBetterSqlite3({ url: `file:${dbFile}` });
  return new PrismaClient({ adapter });
}

/** Creates the data dir if needed, applies pending migrations, and returns a connected client. */
export async function openDatabase(dbFile: string): Promise<{ db: Db; applied: string[] }> {
  mkdirSync(path.dirname(dbFile), { recursive: true, mode: 0o700 });
  const applied = await applyMigrations(dbFile);
  const db = createDb(dbFile);
  await db.$connect();
  // WAL keeps readers and the single writer out of each other's way; durability stays on.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  await db.$executeRawUnsafe('PRAGMA busy_timeout = 5000');
  return { db, applied };
}

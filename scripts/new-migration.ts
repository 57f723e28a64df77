// Writes prisma/migrations/<timestamp>_<name>/migration.sql with the SQL that takes the
// existing migrations to the current prisma/schema.prisma. Usage: npm run db:migration -- NAME
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { diffMigrationsToSchema, migrationsDir } from '../src/platform/db/schema-engine.js';

const name = (process.argv[2] ?? '').replace(/[^a-zA-Z0-9_]/g, '_');
if (!name) {
  console.error('usage: npm run db:migration -- NAME');
  process.exit(2);
}
const scratch = await mkdtemp(path.join(os.tmpdir(), 'mockiron-migration-'));
try {
  const sql = await diffMigrationsToSchema(path.join(scratch, 'scratch.db'));
  if (!sql.trim() || /empty migration/i.test(sql)) {
    console.log('schema.prisma matches the migrations: nothing to write');
    process.exit(0);
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'migration.sql'), sql);
  await writeFile(path.join(migrationsDir, 'migration_lock.toml'), 'provider = "sqlite"\n');
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
} finally {
  await rm(scratch, { recursive: true, force: true });
}

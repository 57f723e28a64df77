// Prisma's schema engine, compiled to WebAssembly, driven through the better-sqlite3 adapter.
// This replaces the downloadable Rust binary that `prisma migrate` would normally fetch.
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';

const require = createRequire(import.meta.url);

export const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const schemaPath = path.join(projectRoot, 'prisma', 'schema.prisma');
export const migrationsDir = path.join(projectRoot, 'prisma', 'migrations');

type Engine = {
  applyMigrations(input: unknown): Promise<{ appliedMigrationNames: string[] }>;
  diff(input: unknown): Promise<{ exitCode: number; stdout: string | null }>;
  free(): void;
};

let bgModule: Promise<any> | undefined;

async function loadWasm(): Promise<any> {
  bgModule ??= (async () => {
    const bgPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const pkgDir = path.dirname(bgPath);
    const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(path.join(pkgDir, 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as any).__wbindgen_start?.();
    return bg;
  })();
  return bgModule;
}

/** The engine plus every connection it opened, so they can all be closed (free() does not). */
async function openEngine(dbFile: string, datamodel?: string): Promise<Engine & { close(): Promise<void> }> {
  const bg = await loadWasm();
  const factory = new PrismaBetterSqlite3({ url: `file:${dbFile}` });
  const opened: SqlDriverAdapter[] = [];
  const tracking: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const a = await factory.connect();
      opened.push(a);
      return a;
    },
    connectToShadowDb: async () => {
      const a = await factory.connectToShadowDb();
      opened.push(a);
      return a;
    },
  };
  const adapter = bindMigrationAwareSqlAdapterFactory(tracking);
  const datamodels = datamodel ? [[schemaPath, datamodel]] : undefined;
  const engine = (await bg.SchemaEngine.new({ datamodels }, () => {}, adapter)) as Engine;
  return Object.assign(engine, {
    async close() {
      engine.free();
      await Promise.all(opened.map((a) => a.dispose()));
    },
  });
}

async function listMigrations() {
  const entries = (await readdir(migrationsDir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = await Promise.all(
    entries.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8') },
      },
    })),
  );
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: await readFile(lockPath, 'utf8').catch(() => null) },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

const noFilter = { externalTables: [], externalEnums: [] };

/** Applies prisma/migrations/* like `prisma migrate deploy`; returns the names just applied. */
export async function applyMigrations(dbFile: string): Promise<string[]> {
  const engine = await openEngine(dbFile);
  try {
    const out = await engine.applyMigrations({ migrationsList: await listMigrations(), filters: noFilter });
    return out.appliedMigrationNames;
  } finally {
    await engine.close();
  }
}

/** SQL that takes a database built from the existing migrations to the current schema.prisma. */
export async function diffMigrationsToSchema(scratchDbFile: string): Promise<string> {
  const datamodel = await readFile(schemaPath, 'utf8');
  const engine = await openEngine(scratchDbFile, datamodel);
  try {
    await engine.applyMigrations({ migrationsList: await listMigrations(), filters: noFilter });
    const out = await engine.diff({
      // schemaDatasource = the live database behind the adapter (the scratch db, migrated)
      from: { tag: 'schemaDatasource', files: [{ path: schemaPath, content: datamodel }], configDir: projectRoot },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: datamodel }] },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    return out.stdout ?? '';
  } finally {
    await engine.close();
  }
}

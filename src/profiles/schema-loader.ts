import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { CommandSchema } from '../lib/profiles/app-commands.js';
import { indexProfileSchemas, type ProfileSchemaSet } from '../lib/profiles/schema.js';

// Reads Apple's vendored profile schemas (vendor/apple-device-management/mdm/profiles) once.
// Kept apart from lint so lint stays pure and tests can hand it a doctored schema set.

export const VENDORED_PROFILE_SCHEMA_DIR = fileURLToPath(
  new URL('../../vendor/apple-device-management/mdm/profiles/', import.meta.url),
);

const cache = new Map<string, ProfileSchemaSet>();

export function loadProfileSchemas(dir: string = VENDORED_PROFILE_SCHEMA_DIR): ProfileSchemaSet {
  const cached = cache.get(dir);
  if (cached) return cached;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const docs = files.map((f) => parseYaml(readFileSync(`${dir}/${f}`, 'utf8'), { maxAliasCount: -1 }) as unknown);
  const set = indexProfileSchemas(docs);
  cache.set(dir, set);
  return set;
}

const VENDORED_COMMAND_SCHEMA_DIR = fileURLToPath(new URL('../../vendor/apple-device-management/mdm/commands/', import.meta.url));

/** The command schemas the app side uses, by request type (InstallApplication, Settings). */
export function loadAppCommandSchemas(dir: string = VENDORED_COMMAND_SCHEMA_DIR): ReadonlyMap<string, CommandSchema> {
  const schemas = new Map<string, CommandSchema>();
  for (const file of ['application.install.yaml', 'settings.yaml']) {
    const doc = parseYaml(readFileSync(`${dir}/${file}`, 'utf8'), { maxAliasCount: -1 }) as CommandSchema;
    schemas.set(doc.payload.requesttype, doc);
  }
  return schemas;
}

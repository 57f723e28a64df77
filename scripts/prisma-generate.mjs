// Generates the Prisma client without Prisma's downloadable engines: `prisma generate` only
// needs PRISMA_SCHEMA_ENGINE_BINARY to name an existing file (it never runs it), and the
// client itself runs on the better-sqlite3 driver adapter.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', 'prisma/schema.prisma'], {
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

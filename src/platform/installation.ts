// Per-installation facts kept in the data dir: the UUID namespace all derived PayloadUUIDs
// live in (so two installations never hand out the same UUIDs for their profiles).
import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Installation {
  namespace: string;
}

export function loadOrCreateInstallation(dataDir: string): Installation {
  const file = path.join(dataDir, 'installation.json');
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Installation;
    // Like every file of the data directory: owner only, also when an older version made it 0644.
    chmodSync(file, 0o600);
    if (typeof parsed.namespace === 'string') return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable: ${(err as Error).message}`);
  }
  const created: Installation = { namespace: randomUUID() };
  writeFileSync(file, JSON.stringify(created, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
  return created;
}

// The data directory at rest: owner-only modes on the directory, the database (with its WAL and
// SHM), the keys and the installation file, as created by a first start and as fixed by a
// restart when an older version left them readable by others.
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp } from '../helpers/app.js';

const mode = (file: string) => statSync(file).mode & 0o777;

/** The files and directories that must be owner-only, relative to the data directory. */
const ownerOnly = {
  dirs: ['.', 'signing'],
  files: [
    'mockiron.db',
    'mockiron.db-wal',
    'mockiron.db-shm',
    'secrets.key',
    'installation.json',
    'signing/ca.key.pem',
    'signing/signer.key.pem',
  ],
};

function modes(dataDir: string): Record<string, string> {
  return Object.fromEntries(
    [...ownerOnly.dirs, ...ownerOnly.files].map((p) => {
      const full = path.join(dataDir, p);
      return [p, existsSync(full) ? mode(full).toString(8) : 'missing'];
    }),
  );
}

const expected = Object.fromEntries([...ownerOnly.dirs.map((d) => [d, '700']), ...ownerOnly.files.map((f) => [f, '600'])]);

/** Every file under dir that others (group or world) can read, except public certificates. */
function readableByOthers(dir: string, base = dir): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) found.push(...readableByOthers(full, base));
    else if (mode(full) & 0o077 && !/(^|\/)(ca|signer|chain)\.pem$/.test(path.relative(base, full))) found.push(path.relative(base, full));
  }
  return found;
}

const parent = mkdtempSync(path.join(os.tmpdir(), 'mockiron-modes-'));
afterAll(() => removeDir(parent));

describe('file modes of the data directory', () => {
  const dataDir = path.join(parent, 'data');

  it('creates everything owner-only on a first start, even under a permissive umask', async () => {
    // With umask 0 a file created without an explicit mode would be 0666: nothing may rely on the umask.
    const previous = process.umask(0);
    let t;
    try {
      t = await startTestApp({ dataDir });
    } finally {
      process.umask(previous);
    }
    try {
      // A write, so the WAL and SHM exist while the server runs.
      expect((await t.admin.post('/api/v2/users').send({ userId: 'modes' })).status).toBe(201);
      expect(modes(dataDir)).toEqual(expected);
      expect(readableByOthers(dataDir)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('fixes modes an older version left looser, on the next start', async () => {
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'signing'), 0o755);
    for (const f of ownerOnly.files) if (existsSync(path.join(dataDir, f))) chmodSync(path.join(dataDir, f), 0o644);
    expect(readableByOthers(dataDir).length).toBeGreaterThanOrEqual(5);

    const t = await startTestApp({ dataDir });
    try {
      expect((await t.admin.post('/api/v2/users').send({ userId: 'modes-2' })).status).toBe(201);
      expect(modes(dataDir)).toEqual(expected);
      expect(readableByOthers(dataDir)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

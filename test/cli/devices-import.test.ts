// `mockiron devices import FILE --server URL` against a real server (the binary, spawned): a
// small file is imported through the job and its devices are then on the server; a file with a
// bad row exits non-zero naming the row, and nothing is written; a wrong password exits 5.
// The CSV columns are those of POST /api/v2/devices/bulk (README, "Bulk import").
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminPassword } from '../helpers/admin-password.js';
import { runMockiron, spawnServe, type ServedProcess } from '../helpers/serve.js';

let dir: string;
let served: ServedProcess;
let url: string;
const auth = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-devices-import-'));
  cpSync(inject('templateDataDir'), path.join(dir, 'data'), { recursive: true });
  served = spawnServe(path.join(dir, 'data'), { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });
  url = await served.url;
  writeFileSync(path.join(dir, 'password'), `${adminPassword}\n`, { mode: 0o600 });
  await fetch(`${url}/api/v2/labels`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cli-fleet', static: true }),
  });
}, 60_000);
afterAll(async () => {
  await served?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const count = async (query: string) =>
  (
    (await (
      await fetch(`${url}/api/v2/devices/count?query=${encodeURIComponent(query)}`, { headers: { authorization: auth } })
    ).json()) as {
      totalCount: number;
    }
  ).totalCount;

describe('mockiron devices import', () => {
  it('imports a small file through the job and prints how many devices it wrote', async () => {
    const file = path.join(dir, 'fleet.csv');
    writeFileSync(
      file,
      'platform,serialNumber,model,labels\niOS,CLI0001,"iPad13,1",cli-fleet\nA,CLI0002,Pixel 8,\niOS,CLI0003,iPhone15,cli-fleet\n',
    );
    const run = await runMockiron(['devices', 'import', file, '--server', url, '--password-file', path.join(dir, 'password')]);
    expect(run.stderr).not.toMatch(/mockiron:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^imported 3 devices from .*fleet\.csv \(job [0-9a-f-]{36}\)\n$/);
    // Not a terminal here: plain progress lines, no bar.
    expect(run.stderr).toMatch(/^uploading: \d+\/\d+ bytes$/m);
    expect(await count('common.SerialNumber starts with "CLI"')).toBe(3);
    expect(await count('common.model = "iPad13,1"')).toBe(1);
  });

  it('exits non-zero on a bad row, printing its line, and writes nothing', async () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, 'platform,serialNumber\niOS,BADCLI1\nWindows,BADCLI2\niOS,BADCLI3\n');
    const run = await runMockiron(['devices', 'import', file, '--server', url], { env: { MOCKIRON_ADMIN_PASSWORD: adminPassword } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('bad.csv: row 3: platform: must be iOS or Android');
    expect(run.stderr).toMatch(/mockiron: .*bad\.csv: import failed, nothing was written \(1 row\(s\) refused\)/);
    expect(await count('common.SerialNumber starts with "BADCLI"')).toBe(0);
  });

  it('exits 5 on a wrong password and 2 without one, before sending the file', async () => {
    const file = path.join(dir, 'fleet.csv');
    const wrong = await runMockiron(['devices', 'import', file, '--server', url], { env: { MOCKIRON_ADMIN_PASSWORD: 'not-the-password' } });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/^mockiron: .*fleet\.csv: /m);
    const none = await runMockiron(['devices', 'import', file, '--server', url], { env: { MOCKIRON_ADMIN_PASSWORD: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('the admin password is needed: --password-file FILE or MOCKIRON_ADMIN_PASSWORD');
  });
});

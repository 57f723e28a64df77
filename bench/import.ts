// `npm run bench -- import`: the CSV bulk import through the real server over HTTP, 10,000 and
// 100,000 devices (BENCH_IMPORT_ROWS adds another size, e.g. 1000000), each against a baseline
// measured in the same run: raw better-sqlite3 prepared inserts of the same rows into a copy of
// the server's schema (the same indexes, WAL, one transaction). During the largest import a
// client asks GET /api/v2/ping in a loop; its p99 says whether the server kept answering.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { benchAuth, serveMockiron } from './http.js';
import type { BenchRow } from './signing.js';

const auth = benchAuth;

/** `count` rows as a fleet would register them: a user on a third, a label on half, real-looking identifiers. */
function fleetRows(count: number, prefix: string): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < count; i++) {
    const ios = i % 4 !== 0;
    rows.push([
      i % 3 === 0 ? 'bench-user' : '',
      ios ? 'iOS' : 'Android',
      i % 5 ? 'COMPANY' : 'EMPLOYEE',
      `${prefix}${String(i).padStart(7, '0')}`,
      ios ? `00008030-${count.toString(16).padStart(6, '0')}${i.toString(16).padStart(16, '0')}` : '',
      ios ? '' : `35${String(i).padStart(13, '0')}`,
      ios ? 'iPad13,1' : 'Pixel 8',
      ios ? `17.${i % 6}` : '14',
      `Fleet device ${i}`,
      i % 2 ? 'bench-fleet' : '',
    ]);
  }
  return rows;
}

const csvOf = (rows: string[][]) =>
  `userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels\n${rows.map((r) => r.map((f) => (f.includes(',') ? `"${f}"` : f)).join(',')).join('\n')}\n`;

/** The same rows, written the fastest plain way: one prepared INSERT per row in one transaction, into a copy of the schema. */
function baseline(schemaFrom: string, rows: string[][], dir: string): number {
  const source = new Database(schemaFrom, { readonly: true });
  const schema = source
    .prepare(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations'`)
    .all() as Array<{ sql: string }>;
  source.close();
  const file = path.join(dir, `baseline-${randomUUID()}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const { sql } of schema) db.exec(sql);
  db.prepare(`INSERT INTO "User" ("userId","createdAt","updatedAt") VALUES ('bench-user', 0, 0)`).run();
  const insert = db.prepare(
    `INSERT INTO "Device" ("uuid","adminDeviceSpaceId","platform","osVersion","model","manufacturer","deviceName","serialNumber","udid","imei",` +
      `"owner","status","compliant","quarantined","customAttributes","userRef","registeredAt","lastConnectedAt","updatedAt","enrolledAt","topic",` +
      `"pushToken","pushMagic","unlockToken","mdmState","wifiMac","ipAddress","phoneNumber","osVersionKey","reportedInfo")` +
      ` VALUES (?,1,?,?,?,?,?,?,?,?,?,'VERIFICATION_PENDING',1,0,'{}',?,?,NULL,?,NULL,NULL,NULL,NULL,NULL,'{}',NULL,NULL,NULL,?,'{}')`,
  );
  const start = performance.now();
  const now = Date.now();
  db.transaction(() => {
    for (const [userId, platform, owner, serial, udid, imei, model, osVersion, name] of rows) {
      insert.run(
        randomUUID(),
        platform,
        osVersion,
        model,
        platform === 'iOS' ? 'Apple' : null,
        name,
        serial,
        udid || null,
        imei || null,
        owner,
        userId ? 1 : null,
        now,
        now,
        osVersion,
      );
    }
  })();
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return rows.length / seconds;
}

async function importOnce(base: string, csv: string): Promise<{ seconds: number; state: string; written: number }> {
  const start = performance.now();
  const res = await fetch(`${base}/api/v2/devices/bulk?async=true`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'text/csv' },
    body: csv,
  });
  if (res.status !== 202) throw new Error(`import: ${res.status} ${(await res.text()).slice(0, 300)}`);
  const { results } = (await res.json()) as { results: { id: string } };
  for (;;) {
    const job = (await (await fetch(`${base}/api/v2/devices/bulk/${results.id}`, { headers: { authorization: auth } })).json()) as {
      results: { state: string; rowsWritten: number; message: string | null };
    };
    if (job.results.state === 'succeeded' || job.results.state === 'failed') {
      if (job.results.state === 'failed') throw new Error(`import failed: ${job.results.message}`);
      return { seconds: (performance.now() - start) / 1000, state: job.results.state, written: job.results.rowsWritten };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET /api/v2/ping one after the other until `done`; the latencies in ms. */
async function pingWhile(base: string, done: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!done()) {
    const start = performance.now();
    const res = await fetch(`${base}/api/v2/ping`, { headers: { authorization: auth } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`ping: ${res.status}`);
    latencies.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
};

export async function benchImport(): Promise<BenchRow[]> {
  const sizes = [10_000, 100_000];
  const extra = Number(process.env.BENCH_IMPORT_ROWS);
  if (Number.isSafeInteger(extra) && extra > 0 && !sizes.includes(extra)) sizes.push(extra);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-import-'));
  const rows: BenchRow[] = [];
  const procs: ChildProcess[] = [];
  try {
    for (const size of sizes) {
      // A fresh server per size, so each import starts from the same empty fleet.
      const dataDir = path.join(dir, `data-${size}`);
      const server = await serveMockiron(dataDir);
      procs.push(server.child);
      const call = (p: string, body: unknown) =>
        fetch(`${server.origin}/api/v2${p}`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      await call('/users', { userId: 'bench-user' });
      await call('/labels', { name: 'bench-fleet', static: true });
      const fleet = fleetRows(size, `B${size}X`);
      const csv = csvOf(fleet);
      let finished = false;
      const pings = size >= 100_000 ? pingWhile(server.origin, () => finished) : Promise.resolve([]);
      const result = await importOnce(server.origin, csv).finally(() => (finished = true));
      const latencies = await pings;
      if (result.written !== size) throw new Error(`import wrote ${result.written} of ${size}`);
      const raw = baseline(path.join(dataDir, 'mockiron.db'), fleet, dir);
      const rate = size / result.seconds;
      rows.push({
        name: `CSV import, ${size.toLocaleString('en-US')} devices, one request + job (target >= 0.3)`,
        value: Math.round(rate),
        unit: 'rows/s',
        baseline: Math.round(raw),
        ratio: Math.round((rate / raw) * 100) / 100,
      });
      rows.push({ name: `  same, wall-clock`, value: Math.round(result.seconds * 100) / 100, unit: 's' });
      if (latencies.length > 0) {
        rows.push({
          name: `  GET /api/v2/ping during it, p99 of ${latencies.length} (target < 100 ms)`,
          value: Math.round(percentile(latencies, 99)),
          unit: 'ms',
        });
        rows.push({ name: `  same, p50`, value: Math.round(percentile(latencies, 50)), unit: 'ms' });
      }
      server.child.kill('SIGTERM');
    }
    return rows;
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

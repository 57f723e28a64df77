// Filter-label membership through the real store: 100,000 devices in a temporary SQLite
// database; the device directory's first load, a filter label's members warm, and right after
// one device changed. BENCH_DEVICES=1000000 for the moonshot (membership of a million devices).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { system } from '../src/platform/auth/actor.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { bootstrap } from '../src/app/server.js';
import { compileOrThrow } from '../src/devices/index.js';
import { syntheticDevices, type BenchResult } from './criteria.js';

const DEVICE_COUNT = 100_000;

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

export async function benchMembership(count = DEVICE_COUNT): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-'));
  try {
    const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: 'bench-password-1' });
    const { services } = await bootstrap(config, createLogger('silent'));
    const { db } = services;
    // The MDM reconciler's background pass would reconcile the synthetic ACTIVE devices (a
    // transaction each) while the directory loads; this measures the directory alone.
    services.mdm.stop();
    const facts = syntheticDevices(count);
    // Bulk setup goes straight to SQLite (Prisma's createMany is slow at this size); the
    // measurement below reads through the real services and store.
    const insertStart = performance.now();
    const raw = new Database(config.dbFile);
    const insert = raw.prepare(
      `INSERT INTO Device (uuid, platform, osVersion, model, manufacturer, serialNumber, imei, owner, status, compliant, quarantined,
        registeredAt, lastConnectedAt, deviceName, udid, customAttributes, updatedAt, adminDeviceSpaceId)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
    );
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    // Written a minute ago: steady state, not the seconds right after a bulk import (during
    // which every read also re-reads the freshly written rows; see DeviceDirectory).
    const aMinuteAgo = new Date(Date.now() - 60_000).toISOString();
    raw.transaction(() => {
      for (const f of facts) {
        insert.run(
          f.uuid,
          f.platform,
          f.osVersion,
          f.model,
          f.manufacturer,
          f.serialNumber,
          f.imei,
          f.owner,
          f.status,
          f.compliant ? 1 : 0,
          f.quarantined ? 1 : 0,
          iso(f.registrationDate),
          iso(f.lastConnectedAt),
          f.deviceName,
          f.udid,
          JSON.stringify(f.custom),
          aMinuteAgo,
        );
      }
    })();
    raw.close();
    const insertMs = performance.now() - insertStart;
    const directory = services.labels.directory;
    const loadStart = performance.now();
    const loadCpu = process.cpuUsage();
    await directory.all();
    const firstLoadMs = performance.now() - loadStart;
    const firstLoadCpu = cpuMs(loadCpu);
    const label = await services.labels.create(system, {
      name: 'bench iPads',
      static: false,
      criteria:
        'common.platform = "iOS" AND common.os_version >= 9.3 AND common.model contains "iPad" AND common.compliant = true AND common.status != RETIRED',
    });
    const row = (await db.label.findUnique({ where: { id: label.id } }))!;
    const time = async () => {
      const start = performance.now();
      const members = await services.labels.memberIds(db, row);
      return { ms: performance.now() - start, size: members.size };
    };
    const warm: number[] = [];
    for (let i = 0; i < 7; i++) warm.push((await time()).ms);
    warm.sort((a, b) => a - b);
    // One device changes (out of the label, then back in): the next read re-reads it and
    // re-evaluates it against each filter label's criteria.
    const afterChange: number[] = [];
    const changed = facts.find((f) => f.platform === 'iOS' && f.model?.includes('iPad') && f.compliant && f.status !== 'RETIRED')!;
    let size = 0;
    for (const osVersion of ['1.0', '17.1', '2.0', '17.2', '3.0']) {
      await services.devices.setAttributes(system, changed.uuid, { osVersion });
      const t = await time();
      afterChange.push(t.ms);
      size = t.size;
    }
    afterChange.sort((a, b) => a - b);
    // The member set kept device by device equals a full evaluation.
    const predicate = compileOrThrow(row.criteria!);
    const full = (await directory.all()).filter((e) => predicate(e.facts)).length;
    if (full !== size) throw new Error(`membership drifted: ${size} kept, ${full} by a full evaluation`);
    await db.$disconnect();
    return [
      { name: 'membership.insert_devices', value: Math.round(insertMs), unit: `ms for ${count} devices (setup, raw SQLite)` },
      {
        name: 'membership.first_full_load',
        value: Math.round(firstLoadMs),
        unit: `ms wall, ${Math.round(firstLoadCpu)} ms CPU (${count} devices, target < 500)`,
      },
      { name: 'membership.warm_median', value: Number(warm[3]!.toFixed(2)), unit: `ms (${size} members of ${count})` },
      { name: 'membership.after_one_change_median', value: Number(afterChange[2]!.toFixed(2)), unit: 'ms (of 5 changes, target < 20)' },
      {
        name: 'membership.directory_loads',
        value: directory.loads,
        unit: 'full loads in the whole run (1: changes were applied one by one)',
      },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  for (const r of await benchMembership(Number(process.env.BENCH_DEVICES ?? DEVICE_COUNT))) console.log(`${r.name}: ${r.value} ${r.unit}`);
}

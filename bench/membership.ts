// Filter-label membership through the real store: 100,000 devices in a temporary SQLite
// database, one filter label, time to compute its full membership (cold and warm).
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
import { syntheticDevices, type BenchResult } from './criteria.js';

const DEVICE_COUNT = 100_000;

export async function benchMembership(count = DEVICE_COUNT): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-'));
  try {
    const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: 'bench-password-1' });
    const { services } = await bootstrap(config, createLogger('silent'));
    const { db } = services;
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
    const loadStart = performance.now();
    const label = await services.labels.create(system, {
      name: 'bench iPads',
      static: false,
      criteria:
        'common.platform = "iOS" AND common.os_version >= 9.3 AND common.model contains "iPad" AND common.compliant = true AND common.status != RETIRED',
    });
    // Creating a filter label counts its members: the first read loads every device.
    const firstLoadMs = performance.now() - loadStart;
    const row = (await db.label.findUnique({ where: { id: label.id } }))!;
    const time = async () => {
      const start = performance.now();
      const members = await services.labels.memberIds(db, row);
      return { ms: performance.now() - start, size: members.size };
    };
    const cold = await time();
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push((await time()).ms);
    warm.sort((a, b) => a - b);
    // one device changes: membership must be recomputed with the change
    const changed = facts[0]!;
    await services.devices.setAttributes(system, changed.uuid, { osVersion: '1.0' });
    const afterChange = await time();
    await db.$disconnect();
    return [
      { name: 'membership.insert_devices', value: Math.round(insertMs), unit: `ms for ${count} devices` },
      { name: 'membership.first_full_load', value: Math.round(firstLoadMs), unit: 'ms (label create: loads all devices once)' },
      { name: 'membership.first_read', value: Number(cold.ms.toFixed(1)), unit: `ms (${cold.size} members of ${count})` },
      { name: 'membership.warm_median', value: Number(warm[2]!.toFixed(1)), unit: 'ms (target < 100)' },
      { name: 'membership.after_one_change', value: Number(afterChange.ms.toFixed(1)), unit: 'ms' },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  for (const r of await benchMembership(Number(process.env.BENCH_DEVICES ?? DEVICE_COUNT))) console.log(`${r.name}: ${r.value} ${r.unit}`);
}

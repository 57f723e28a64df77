// First build and signature of many different devices' VPN profiles, through the real services
// (policy resolution, profile construction, variable filling, XML, CMS signing), against raw
// RSA-2048 signatures by node:crypto in the same run. The goal (issue #19): construction cheap
// enough that signing dominates, ratio >= 0.5.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { sign } from 'node:crypto';
import Database from 'better-sqlite3';
import { system } from '../src/platform/auth/actor.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { bootstrap } from '../src/app/server.js';
import type { BenchRow } from './signing.js';

export async function benchFirstBuild(count = Number(process.env.BENCH_FIRSTBUILD_DEVICES ?? 10_000)): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-firstbuild-'));
  try {
    const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: 'bench-password-1' });
    const { services } = await bootstrap(config, createLogger('silent'));
    // Setup straight into SQLite; the measurement goes through the services. The devices are not
    // ACTIVE, so the background reconciler (which would build the same profiles meanwhile) leaves them be.
    const raw = new Database(config.dbFile);
    const aMinuteAgo = new Date(Date.now() - 60_000).toISOString();
    const insertUser = raw.prepare(`INSERT INTO User (userId, email, displayName, updatedAt) VALUES (?, ?, ?, ?)`);
    const insertDevice = raw.prepare(
      `INSERT INTO Device (uuid, platform, osVersion, model, status, userRef, deviceName, serialNumber, udid, updatedAt, adminDeviceSpaceId)
       VALUES (?, 'iOS', '9.3.1', 'iPad4,1', 'VERIFICATION_PENDING', ?, ?, ?, ?, ?, 1)`,
    );
    const uuids: string[] = [];
    raw.transaction(() => {
      for (let i = 0; i < count; i++) {
        const userRef = insertUser.run(`user${i}`, `user${i}@example.com`, `User ${i}`, aMinuteAgo).lastInsertRowid;
        const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
        insertDevice.run(uuid, userRef, `iPad ${i}`, `SER${i}`, i.toString(16).padStart(40, '0'), aMinuteAgo);
        uuids.push(uuid);
      }
    })();
    raw.close();
    const label = await services.labels.create(system, { name: 'bench iPads', static: false, criteria: 'common.platform = "iOS"' });
    for (const [i, name] of ['vpndemo-external', 'vpndemo-mail'].entries()) {
      const vpn = await services.vpn.create(system, {
        name,
        connectionType: 'ANYCONNECT',
        server: `asa${i}.example.com`,
        group: 'vpndemo',
        username: '$USERID$',
        password: 'bench-secret',
        safariDomains: ['example.com', 'intranet.example.com'],
        customData: { Email: '$EMAIL$' },
      });
      await services.vpn.setLabel(system, vpn.id, label.id, true);
    }
    // Warm the code paths (and the directory) on a few devices that the measurement skips.
    for (const uuid of uuids.slice(0, 20)) services.profiles.signed(await services.profiles.forDevice(system, uuid));
    const measured = uuids.slice(20);
    // Chunks of profiles alternate with as many raw signatures, so that drift on a shared machine
    // hits both sides of the ratio alike.
    const key = services.signing.identity.privateKey;
    const attributesSized = Buffer.alloc(200, 1);
    let bytes = 0;
    let buildMs = 0;
    let rawMs = 0;
    for (let i = 0; i < measured.length; i += 250) {
      const chunk = measured.slice(i, i + 250);
      const start = performance.now();
      for (const uuid of chunk) bytes += services.profiles.signed(await services.profiles.forDevice(system, uuid)).length;
      buildMs += performance.now() - start;
      const rawStart = performance.now();
      for (let j = 0; j < chunk.length; j++) sign('sha256', attributesSized, key);
      rawMs += performance.now() - rawStart;
    }
    const profilesPerSecond = measured.length / (buildMs / 1000);
    const rawPerSecond = measured.length / (rawMs / 1000);
    await services.db.$disconnect();
    return [
      { name: 'node:crypto RSA-2048 sign (raw)', value: Math.round(rawPerSecond), unit: 'signatures/s' },
      {
        name: `first build + sign, ${measured.length.toLocaleString('en-US')} devices, 2 VPN configs (target >= 0.5)`,
        value: Math.round(profilesPerSecond),
        unit: `profiles/s (${Math.round(bytes / measured.length)} B each)`,
        baseline: Math.round(rawPerSecond),
        ratio: Math.round((profilesPerSecond / rawPerSecond) * 100) / 100,
      },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchFirstBuild());
}

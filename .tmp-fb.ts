import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { system } from './src/platform/auth/actor.js';
import { loadConfig } from './src/platform/config.js';
import { createLogger } from './src/platform/logger.js';
import { bootstrap } from './src/app/server.js';
import { deviceStore } from './src/devices/index.js';
import { toXml, buildVpnProfile } from './src/lib/profiles/profile.js';
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'exp-fb-'));
const config = loadConfig({ dataDir, port: 0 }, { MOCKIRON_ADMIN_PASSWORD: 'bench-password-1' });
const { services } = await bootstrap(config, createLogger('silent'));
const raw = new Database(config.dbFile);
const aMinuteAgo = new Date(Date.now() - 60_000).toISOString();
const insertUser = raw.prepare(`INSERT INTO User (userId, email, displayName, updatedAt) VALUES (?, ?, ?, ?)`);
const insertDevice = raw.prepare(`INSERT INTO Device (uuid, platform, osVersion, model, status, userRef, deviceName, serialNumber, udid, updatedAt, adminDeviceSpaceId) VALUES (?, 'iOS', '9.3.1', 'iPad4,1', 'VERIFICATION_PENDING', ?, ?, ?, ?, ?, 1)`);
const uuids: string[] = [];
const N = 4000;
raw.transaction(() => { for (let i = 0; i < N; i++) { const u = insertUser.run(`user${i}`, `user${i}@example.com`, `User ${i}`, aMinuteAgo).lastInsertRowid; const uuid = `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`; insertDevice.run(uuid, u, `iPad ${i}`, `SER${i}`, i.toString(16).padStart(40, '0'), aMinuteAgo); uuids.push(uuid); } })();
raw.close();
const label = await services.labels.create(system, { name: 'bench iPads', static: false, criteria: 'common.platform = "iOS"' });
for (const [i, name] of ['vpndemo-external', 'vpndemo-mail'].entries()) {
  const vpn = await services.vpn.create(system, { name, connectionType: 'ANYCONNECT', server: `asa${i}.example.com`, group: 'vpndemo', username: '$USERID$', password: 'bench-secret', safariDomains: ['example.com', 'intranet.example.com'], customData: { Email: '$EMAIL$' } });
  await services.vpn.setLabel(system, vpn.id, label.id, true);
}
for (const uuid of uuids.slice(0, 20)) services.profiles.signed(await services.profiles.forDevice(system, uuid));
const ms = (t0: number) => (performance.now() - t0);
const set = uuids.slice(20, 2020);
let t0 = performance.now(); for (const u of set) await deviceStore.withManualLabels(services.db, { uuid: u }); const read = ms(t0);
t0 = performance.now(); const pols = []; for (const u of set) pols.push(await services.policy.forDevice(system, u)); const pol = ms(t0);
t0 = performance.now(); const profs = []; for (const p of pols) profs.push((await services.profiles.build(p))!); const build = ms(t0);
t0 = performance.now(); for (const p of profs) services.profiles.signed(p); const sign = ms(t0);
const n = set.length;
console.log(`per device: read ${(read / n * 1000).toFixed(0)} µs, policy(read+resolve) ${(pol / n * 1000).toFixed(0)} µs, build ${(build / n * 1000).toFixed(0)} µs, sign ${(sign / n * 1000).toFixed(0)} µs`);
// build breakdown
const p0 = pols[0]!;
t0 = performance.now(); for (let i = 0; i < 2000; i++) await services.profiles.build(p0); console.log('build same policy', (ms(t0) / 2000 * 1000).toFixed(0), 'µs');

import { sign as rawSign, createHash } from 'node:crypto';
const key = services.signing.identity.privateKey;
const contents = profs.map((p) => p.xml);
for (let r = 0; r < 3; r++) {
  t0 = performance.now(); for (const c of contents) services.signing.signOnce(c); const a = ms(t0);
  t0 = performance.now(); for (const c of contents) rawSign('sha256', c.subarray(0, 200), key); const b = ms(t0);
  t0 = performance.now(); for (const c of contents) createHash('sha256').update(c).digest(); const h = ms(t0);
  console.log(`signOnce ${(a / contents.length * 1000).toFixed(0)} µs, raw sign ${(b / contents.length * 1000).toFixed(0)} µs, hash ${(h / contents.length * 1000).toFixed(1)} µs`);
}
console.log(key.asymmetricKeyType, (key as any).asymmetricKeyDetails);
process.exit(0);

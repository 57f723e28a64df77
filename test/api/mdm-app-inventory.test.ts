// A device's app inventory through the real MDM protocol: an admin queues InstalledApplicationList,
// the enrolled device answers it (with a real iPhone's answer from the Commandment fixtures), and
// the admin API's devices/appinventory then shows those apps; the next answer replaces them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, fixtureApps, reportApps } from '../helpers/app-inventory.js';
import type { TestDevice } from '../helpers/device.js';

let t: TestApp;
let d: TestDevice;
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'inventory-user' })).status).toBe(201);
  d = await enrolledDevice(t, 'inventory-user');
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

interface App {
  inventoryId: number;
  name: string;
  appId: string | null;
  version: string | null;
  shortVersion: string | null;
  longVersion: string | null;
  bundleSize: number | null;
  managed: boolean | null;
}

async function inventoryOf(uuid: string) {
  const res = await t.admin.get('/api/v2/devices/appinventory').query({ adminDeviceSpaceId: 1, deviceUuids: uuid });
  expect(res.status).toBe(200);
  expect(res.body.results).toHaveLength(1);
  return res.body.results[0] as { deviceUuid: string; found: boolean; inventoryReportedAt: string | null; appInventory: App[] };
}

const byName = (a: { name: string }, b: { name: string }) => a.name.toLowerCase().localeCompare(b.name.toLowerCase());

describe('InstalledApplicationList fills the app inventory', () => {
  it('a device that never answered has an empty inventory', async () => {
    const entry = await inventoryOf(d.deviceUuid);
    expect(entry).toMatchObject({ deviceUuid: d.deviceUuid, found: true, inventoryReportedAt: null, appInventory: [] });
  });

  it("stores a real iPhone's answer: every app with its name, bundle id, versions and size", async () => {
    const reported = fixtureApps('iOS-12.1');
    const before = Date.now();
    const command = await reportApps(t, d, reported);
    expect((command.Command as PlistDict).RequestType).toBe('InstalledApplicationList');

    const entry = await inventoryOf(d.deviceUuid);
    expect(Date.parse(entry.inventoryReportedAt!)).toBeGreaterThanOrEqual(before - 1000);
    const expected = reported
      .map((a) => ({
        name: a.Name as string,
        appId: a.Identifier as string,
        version: a.ShortVersion as string,
        shortVersion: a.ShortVersion as string,
        longVersion: a.Version as string,
        bundleSize: a.BundleSize as number,
        // Not installed by this server, and the answer does not say.
        managed: null,
      }))
      .sort(byName);
    expect(entry.appInventory.map(({ inventoryId: _id, ...app }) => app)).toEqual(expected.map((a) => ({ ...a, platform: 'iOS' })));
    expect(new Set(entry.appInventory.map((a) => a.inventoryId)).size).toBe(reported.length);
  });

  it('the next answer replaces the inventory: removed apps go, an updated one changes, unchanged ones keep their inventoryId', async () => {
    const first = (await inventoryOf(d.deviceUuid)).appInventory;
    const next = fixtureApps('iOS-12.1')
      .filter((a) => a.Name !== 'Slack' && a.Name !== 'Queue')
      .map((a) => (a.Name === 'Prompt' ? { ...a, ShortVersion: '2.7.0', Version: '99999' } : a));
    await reportApps(t, d, next);
    const now = (await inventoryOf(d.deviceUuid)).appInventory;
    expect(now.map((a) => a.name).sort()).toEqual(next.map((a) => a.Name as string).sort());
    expect(now.find((a) => a.name === 'Prompt')).toMatchObject({ version: '2.7.0', longVersion: '99999' });
    const idOf = (apps: App[], name: string) => apps.find((a) => a.name === name)!.inventoryId;
    expect(idOf(now, '1Password')).toBe(idOf(first, '1Password'));
    expect(idOf(now, 'Prompt')).not.toBe(idOf(first, 'Prompt'));
  });

  it('an answer without a bundle id or versions (macOS bundles) is kept with what it says', async () => {
    await reportApps(t, d, fixtureApps('10.11.x'));
    const apps = (await inventoryOf(d.deviceUuid)).appInventory;
    expect(apps.map((a) => a.name)).toEqual(['Install OS X Yosemite', 'Set Info', 'System Preferences']);
    expect(apps.find((a) => a.name === 'Set Info')).toMatchObject({ appId: null, version: null, shortVersion: null, longVersion: null });
  });

  it('a big answer (1,200 apps, one listed twice, one name of 10,000 characters) is stored whole, once each, names capped', async () => {
    const many: PlistDict[] = Array.from({ length: 1200 }, (_, i) => ({
      Identifier: `com.example.bulk${i}`,
      Name: `Bulk ${String(i).padStart(4, '0')}`,
      ShortVersion: `1.${i}`,
      Version: String(i),
      BundleSize: 5_000_000_000 + i,
    }));
    many.push({ ...many[7]! }, { Identifier: 'com.example.long', Name: 'N'.repeat(10_000), ShortVersion: '1.0', Version: '1' });
    await reportApps(t, d, many);
    const first = (await inventoryOf(d.deviceUuid)).appInventory;
    expect(first).toHaveLength(1201);
    expect(first.filter((a) => a.appId === 'com.example.bulk7')).toHaveLength(1);
    // Sizes beyond 32 bits survive (a big game is several GB).
    expect(first.find((a) => a.appId === 'com.example.bulk1199')!.bundleSize).toBe(5_000_001_199);
    expect(first.find((a) => a.appId === 'com.example.long')!.name).toBe('N'.repeat(512));
    // The same answer again keeps every row.
    await reportApps(t, d, many);
    const again = (await inventoryOf(d.deviceUuid)).appInventory;
    expect(again.map((a) => a.inventoryId)).toEqual(first.map((a) => a.inventoryId));
  });

  it('an Error answer leaves the inventory as it was', async () => {
    const before = (await inventoryOf(d.deviceUuid)).appInventory;
    const queued = await t.admin.post(`/api/v2/devices/${d.deviceUuid}/commands`).send({ RequestType: 'InstalledApplicationList' });
    expect(queued.status).toBe(201);
    await d.drain(() => ({ Status: 'Error', ErrorChain: [{ ErrorCode: 12021, ErrorDomain: 'MCMDMErrorDomain' }] }));
    expect((await inventoryOf(d.deviceUuid)).appInventory).toEqual(before);
  });

  it("apps this server installed are reported managed: true (from the device's reconciled state)", async () => {
    // An app assigned to every device through the catalog is installed by reconciliation.
    const created = await t.admin
      .post('/api/v2/appstore/apps')
      .send({ name: 'Chrome', bundleId: 'com.google.chrome.ios', iTunesStoreId: '535886823' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const labels = await t.admin.get('/api/v2/labels/label_summary').query({ adminDeviceSpaceId: 1 });
    const everyone = labels.body.results.find((l: { name: string }) => l.name === 'All-Smartphones');
    expect(everyone).toBeDefined();
    const assigned = await t.admin.put(`/api/v2/appstore/apps/${created.body.results.id}/labels/${everyone.id}`);
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    const installed = await d.drain();
    expect(installed.map((c) => (c.Command as PlistDict).RequestType)).toContain('InstallApplication');
    await reportApps(t, d, [
      { Identifier: 'com.google.chrome.ios', Name: 'Chrome', ShortVersion: '120.0', Version: '120.0.6099' },
      ...fixtureApps('iOS-11.3.1'),
    ]);
    const apps = (await inventoryOf(d.deviceUuid)).appInventory;
    expect(apps.find((a) => a.appId === 'com.google.chrome.ios')!.managed).toBe(true);
    expect(apps.filter((a) => a.appId !== 'com.google.chrome.ios').every((a) => a.managed === null)).toBe(true);
  });

  it('deleting the device deletes its inventory; its apps no longer list it', async () => {
    const before = await t.admin.get('/api/v2/appinventory/devices').query({ appId: 'com.agilebits.onepassword-ios', platformType: 'iOS' });
    expect(before.body.results.map((r: { deviceUuid: string }) => r.deviceUuid)).toEqual([d.deviceUuid]);
    expect((await t.admin.delete(`/api/v2/devices/${d.deviceUuid}`)).status).toBe(200);
    const after = await t.admin.get('/api/v2/appinventory/devices').query({ appId: 'com.agilebits.onepassword-ios', platformType: 'iOS' });
    expect(after.body).toMatchObject({ totalCount: 0, results: [] });
    expect((await inventoryOf(d.deviceUuid)).found).toBe(false);
  });
});

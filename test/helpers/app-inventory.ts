// Devices that report their installed apps through the real MDM protocol: enrolled over OTA and
// SCEP, asked for InstalledApplicationList through the admin API's command queue, answering with
// an app list (real ones from test/fixtures/device-messages/commandment/InstalledApplicationList).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import type { TestApp } from './app.js';
import type { TestDevice } from './device.js';
export { enrolledDevice } from './device.js';

const fixtureDir = new URL('../fixtures/device-messages/commandment/InstalledApplicationList/', import.meta.url);

/** The app list of a real device's InstalledApplicationList answer (iOS-12.1, iOS-11.3.1, 10.11.x). */
export function fixtureApps(name: 'iOS-12.1' | 'iOS-11.3.1' | '10.11.x'): PlistDict[] {
  const answer = parsePlist(readFileSync(new URL(`${name}.xml`, fixtureDir))) as PlistDict;
  return answer.InstalledApplicationList as PlistDict[];
}

/**
 * Queues InstalledApplicationList for the device (as an admin can, POST /devices/{uuid}/commands)
 * and has the device answer it with `apps`. Returns the command the device received.
 */
export async function reportApps(t: TestApp, d: TestDevice, apps: PlistDict[]): Promise<PlistDict> {
  const queued = await t.admin.post(`/api/v2/devices/${d.deviceUuid}/commands`).send({ RequestType: 'InstalledApplicationList' });
  expect(queued.status).toBe(201);
  const received = await d.drain((cmd) =>
    (cmd.Command as PlistDict).RequestType === 'InstalledApplicationList'
      ? { Status: 'Acknowledged', InstalledApplicationList: apps }
      : { Status: 'Acknowledged' },
  );
  const asked = received.find((c) => (c.Command as PlistDict).RequestType === 'InstalledApplicationList');
  expect(asked).toBeDefined();
  return asked!;
}

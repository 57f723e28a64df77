// sebastienle/mobile_iron_incomplete (@494ff55d82cf5ef136ef7db98abf95307d2370c0),
// Public/Get-MIAppsOnDevice.ps1 with -WifiMacs: GET {host}/api/v2/devices/appinventory?adminDeviceSpaceId=1&wifimacs=<csv>
// (string concatenation, Basic header); reads $result.Results.appInventory. Devices are found by
// the devices' criteria search, common.wifi_mac_address = "<mac>", the address a device reports
// as WiFiMAC in its DeviceInformation answer (the field comes with the device field catalogue).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, fixtureApps, reportApps } from '../helpers/app-inventory.js';
import type { TestDevice } from '../helpers/device.js';

let t: TestApp;
let d: TestDevice;
const mac = 'a4:b1:c2:d3:e4:f5';
const reported = fixtureApps('iOS-12.1');

beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'wifi-user' })).status).toBe(201);
  d = await enrolledDevice(t, 'wifi-user');
  await reportApps(t, d, reported);
  // The device tells its Wi-Fi address when asked for its information (UPDATE_DEVICE_INFO → DeviceInformation).
  const asked = await t.admin
    .post('/api/v2/devices/action')
    .query({ adminDeviceSpaceId: 1, actionType: 'UPDATE_DEVICE_INFO' })
    .send({ deviceUuids: [d.deviceUuid] });
  expect(asked.body.successful).toBe(true);
  const answered = await d.drain((cmd) =>
    (cmd.Command as PlistDict).RequestType === 'DeviceInformation'
      ? { Status: 'Acknowledged', QueryResponses: { WiFiMAC: mac, DeviceName: 'Wi-Fi iPhone' } }
      : { Status: 'Acknowledged' },
  );
  expect(answered.map((c) => (c.Command as PlistDict).RequestType)).toContain('DeviceInformation');
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('G Get-MIAppsOnDevice -WifiMacs', () => {
  it('finds the device by the Wi-Fi MAC address it reported; an address no device has answers found: false', async () => {
    const unknown = '02:00:00:00:00:01';
    const res = await t.anon
      .get(`/api/v2/devices/appinventory?adminDeviceSpaceId=1&wifimacs=${mac},${unknown}`)
      .set('Authorization', `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results.map((r: { deviceUuid: string | null; wifiMacAddress: string; found: boolean }) => r)).toMatchObject([
      { deviceUuid: d.deviceUuid, wifiMacAddress: mac, found: true },
      { deviceUuid: null, wifiMacAddress: unknown, found: false, appInventory: [] },
    ]);
    const enumerated = (res.body.results as Array<{ appInventory: Array<{ name: string }> }>).flatMap((r) => r.appInventory);
    expect(enumerated.map((a) => a.name).sort()).toEqual(reported.map((a) => a.Name as string).sort());
  });
});

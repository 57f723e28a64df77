// The v1 calls that find a device by its Wi-Fi MAC or phone number, replayed as their clients send
// them: Kraktorist/PSMobileIron (PSMobileIron/*.ps1 @ b208decfd7cdc61ce060d901af265853b1d5a999;
// docs/research/core-clients.md section E): Get-MIDevice -MACAddress and -Phone,
// Lock-/Unlock-/Clear-MIDevice -MACAddress, Send-MIMessage with repeated deviceWiFiMacAddress,
// each first without credentials (PowerShell answers the 401 challenge), reading `.Device`,
// `.Devices.Device` and `.messages.message`; a 404 means "none". Remove-MIDevice's MAC variant
// is unreachable in the module (a parameter-set bug) but is Core's, so it is asserted too.
// The device reports its Wi-Fi MAC and phone number as a real iPhone does, in its
// DeviceInformation answer (WiFiMAC, PhoneNumber); v1 finds them through the criteria fields
// common.wifi_mac_address and common.current_phone_number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlistDict } from '../../src/lib/plist/index.js';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { enrolledDevice, type TestDevice } from '../helpers/device.js';

let t: TestApp;
const base = '/api/v1';

async function invoke(method: 'get' | 'put' | 'post', url: string) {
  const challenge = await t.anon[method](url);
  expect(challenge.status).toBe(401);
  expect(String(challenge.headers['www-authenticate'])).toMatch(/^Basic /);
  return t.anon[method](url).auth('admin', adminPassword);
}

const requestTypes = (commands: PlistDict[]) => commands.map((c) => (c.Command as PlistDict).RequestType);
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** An enrolled iPhone that answers DeviceInformation with its Wi-Fi MAC and phone number. */
async function iphone(wifiMac: string, phone: string): Promise<TestDevice> {
  const d = await enrolledDevice(t, 'mac-user');
  const asked = await t.admin
    .post('/api/v2/devices/action')
    .query({ actionType: 'UPDATE_DEVICE_INFO' })
    .send({ deviceUuids: [d.deviceUuid] });
  expect(asked.body.successful).toBe(true);
  const answered = await d.drain((cmd) =>
    (cmd.Command as PlistDict).RequestType === 'DeviceInformation'
      ? { Status: 'Acknowledged', QueryResponses: { WiFiMAC: wifiMac, PhoneNumber: phone, DeviceName: 'MAC test' } }
      : { Status: 'Acknowledged' },
  );
  expect(requestTypes(answered)).toContain('DeviceInformation');
  return d;
}

let device: TestDevice;
const mac = 'a4:83:e7:12:34:56';
const phone = '+14155550100';
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'mac-user' })).status).toBe(201);
  device = await iphone(mac, phone);
}, 60_000);
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('PSMobileIron by Wi-Fi MAC and phone number (v1)', () => {
  it('Get-MIDevice -MACAddress: GET /dm/devices/mac/{mac} reads .Device, whatever the MAC spelling', async () => {
    for (const spelling of [mac, mac.toUpperCase(), mac.replace(/:/g, '-'), mac.replace(/:/g, '')]) {
      const res = await invoke('get', `${base}/dm/devices/mac/${spelling}`);
      expect(res.status, spelling).toBe(200);
      expect(res.body.device).toMatchObject({ uuid: device.deviceUuid, wifiMacAddress: mac });
    }
  });

  it('a MAC no device has: 404, which Get-MIDevice takes as "none"', async () => {
    const res = await invoke('get', `${base}/dm/devices/mac/a4:83:e7:00:00:99`);
    expect(res.status).toBe(404);
    expect(res.body.messages[0].message).toMatch(/not found/);
  });

  it('Get-MIDevice -Phone: GET /dm/phones/{phone} reads .Devices.Device', async () => {
    const res = await invoke('get', `${base}/dm/phones/${encodeURIComponent(phone)}`);
    expect(res.status).toBe(200);
    expect(asArray(res.body.devices.device).map((d: { uuid: string }) => d.uuid)).toEqual([device.deviceUuid]);
    expect(asArray(res.body.devices.device)[0].currentPhoneNumber).toBe(phone);
    expect((await invoke('get', `${base}/dm/phones/15550000000`)).status).toBe(404);
  });

  it('Lock-MIDevice -MACAddress: PUT /dm/devices/lock/mac/{mac}?Reason= sends DeviceLock', async () => {
    const res = await invoke('put', `${base}/dm/devices/lock/mac/${mac}?Reason=lost`);
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toContain(device.deviceUuid);
    expect(requestTypes(await device.drain())).toEqual(['DeviceLock']);
  });

  it('Unlock-MIDevice -MACAddress: GET /dm/devices/unlock/mac/{mac} sends ClearPasscode', async () => {
    const res = await invoke('get', `${base}/dm/devices/unlock/mac/${mac}?Reason=found`);
    expect(res.status).toBe(200);
    expect(requestTypes(await device.drain())).toEqual(['ClearPasscode']);
  });

  it('Send-MIMessage with deviceWiFiMacAddress: a notification to that device, no command', async () => {
    const res = await invoke(
      'post',
      `${base}/dm/bulk/sendmessage/?mode=pns&message=hello&subject=IT&deviceWiFiMacAddress=${mac.toUpperCase()}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toBe('Message sent to 1 device of 1.');
    expect(await device.drain()).toEqual([]);
  });

  it('Clear-MIDevice -MACAddress: PUT /dm/devices/wipe/mac/{mac} sends EraseDevice', async () => {
    const res = await invoke('put', `${base}/dm/devices/wipe/mac/${mac}?Reason=stolen`);
    expect(res.status).toBe(200);
    expect(requestTypes(await device.drain())).toEqual(['EraseDevice']);
  });

  it('retire by MAC (Core has it; the module cannot reach it): PUT /dm/devices/retire/mac/{mac} removes the profiles', async () => {
    const other = await iphone('a4:83:e7:65:43:21', '+14155550111');
    const res = await invoke('put', `${base}/dm/devices/retire/mac/a4:83:e7:65:43:21`);
    expect(res.status).toBe(200);
    expect(res.body.messages.message).toContain(other.deviceUuid);
    expect(requestTypes(await other.drain())).toContain('RemoveProfile');
  }, 60_000);
});

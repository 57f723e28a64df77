// Real device answers fill the Core field catalogue: an iPad's DeviceInformation and SecurityInfo
// answers (iOS 11.3.1, captured by Commandment: test/fixtures/device-messages/commandment/) are
// sent over /mdm/connect by an enrolled test device, with only UDID and CommandUUID changed to
// its own, and the fields clients read come back through fields=, details and criteria.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMdmRequest } from '../../src/lib/mdm-protocol/index.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

const fixtures = new URL('../fixtures/device-messages/commandment/', import.meta.url);
const fixtureUdid = '1c111c111c111c111c111c111c111c111c111c11';

let t: TestApp;
let device: TestDevice;

beforeAll(async () => {
  t = await startTestApp();
  await t.admin.post('/api/v2/users').send({ userId: 'ipad-user', email: 'ipad@example.com' });
  device = new TestDevice(t.app);
  await device.enroll((await t.admin.post('/api/v2/enrollments').send({ userId: 'ipad-user' })).body.results.url);
  expect((await device.authenticate()).status).toBe(200);
  expect((await device.tokenUpdate()).status).toBe(200);
  const found = await t.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
});

afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** Queues `command`, lets the device fetch it, and answers with the fixture (UDID and CommandUUID made the device's). */
async function answerWithFixture(command: Record<string, unknown>, fixture: string): Promise<void> {
  const queued = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send(command);
  expect(queued.status).toBe(201);
  const sent = (await device.connect()).command!;
  const xml = readFileSync(new URL(fixture, fixtures), 'utf8')
    .replaceAll(fixtureUdid, device.udid)
    .replace(/(<key>CommandUUID<\/key>\s*<string>)[^<]+/, `$1${sent.CommandUUID as string}`);
  const body = Buffer.from(xml);
  const signature = signMdmRequest(body, { privateKey: device.key, certificate: device.certificate });
  const res = await t.anon
    .put('/mdm/connect')
    .set('content-type', 'application/x-apple-aspen-mdm')
    .set('Mdm-Signature', signature)
    .send(body)
    .buffer(true)
    .parse(rawBody);
  expect(res.status).toBe(200);
}

const fieldsOfDevice = async (fields: string[]) => {
  const res = await t.admin
    .get('/api/v2/devices')
    .query({ adminDeviceSpaceId: 1, query: `common.uuid = "${device.deviceUuid}"`, fields: fields.join(',') });
  expect(res.status).toBe(200);
  expect(res.body.results).toHaveLength(1);
  return res.body.results[0] as Record<string, unknown>;
};

describe('an iPad answers DeviceInformation and SecurityInfo (iOS 11.3.1)', () => {
  const reported = [
    'common.os_version',
    'common.model',
    'common.SerialNumber',
    'ios.DeviceName',
    'common.wifi_mac_address',
    'ios.iPhone MAC_ADDRESS_EN0',
    'common.storage_capacity',
    'common.storage_free',
    'ios.BuildVersion',
    'ios.ModelName',
    'ios.Model',
    'ios.DataRoamingEnabled',
    'ios.VoiceRoamingEnabled',
    'ios.IsRoaming',
    'common.platform_name',
    'common.mdm_managed',
    'common.battery_level',
    'common.device_encrypted',
    'common.data_protection_enabled',
    'ios.PasscodePresent',
    'ios.PasscodeCompliant',
  ];

  beforeAll(async () => {
    await answerWithFixture(
      { RequestType: 'DeviceInformation', Queries: ['OSVersion', 'WiFiMAC', 'DeviceCapacity'] },
      'DeviceInformation/iOS-11.3.1.xml',
    );
  });

  it('fills the DeviceInformation fields; what the answer did not carry stays null', async () => {
    expect(await fieldsOfDevice(reported)).toMatchObject({
      'common.os_version': '11.3.1',
      'common.model': 'iPad4,1',
      'common.SerialNumber': 'C00000000004',
      'ios.DeviceName': 'iPad',
      'common.wifi_mac_address': '00:00:00:00:00:00',
      'ios.iPhone MAC_ADDRESS_EN0': '00:00:00:00:00:00',
      'common.storage_capacity': 26.91,
      'common.storage_free': 15.47,
      'ios.BuildVersion': '15E302',
      'ios.ModelName': 'iPad',
      'ios.Model': 'MD786X',
      'ios.DataRoamingEnabled': false,
      'ios.VoiceRoamingEnabled': false,
      'ios.IsRoaming': false,
      'common.platform_name': 'iOS 11.3.1',
      'common.mdm_managed': true,
      // not in this answer (no BatteryLevel key), and SecurityInfo not answered yet
      'common.battery_level': null,
      'common.device_encrypted': null,
      'common.data_protection_enabled': null,
      'ios.PasscodePresent': null,
    });
  });

  it('fills the SecurityInfo fields, keeping what DeviceInformation said', async () => {
    await answerWithFixture({ RequestType: 'SecurityInfo' }, 'SecurityInfo/iOS-11.3.1.xml');
    expect(await fieldsOfDevice(reported)).toMatchObject({
      'common.os_version': '11.3.1',
      'common.storage_capacity': 26.91,
      // HardwareEncryptionCaps 3 (block and file level), but no passcode: no data protection
      'common.device_encrypted': true,
      'common.data_protection_enabled': false,
      'ios.PasscodePresent': false,
      'ios.PasscodeCompliant': true,
    });
  });

  it('reads ManagementStatus (iOS 13+) flattened beside the other SecurityInfo values', async () => {
    const queued = await t.admin.post(`/api/v2/devices/${device.deviceUuid}/commands`).send({ RequestType: 'SecurityInfo' });
    expect(queued.status).toBe(201);
    const sent = (await device.connect()).command!;
    const body = Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>UDID</key><string>${device.udid}</string>` +
        `<key>CommandUUID</key><string>${sent.CommandUUID as string}</string><key>Status</key><string>Acknowledged</string>` +
        '<key>SecurityInfo</key><dict><key>PasscodePresent</key><true/><key>ManagementStatus</key><dict>' +
        '<key>EnrolledViaDEP</key><true/><key>UserApprovedEnrollment</key><true/></dict></dict></dict></plist>',
    );
    const signature = signMdmRequest(body, { privateKey: device.key, certificate: device.certificate });
    const res = await t.anon
      .put('/mdm/connect')
      .set('content-type', 'application/x-apple-aspen-mdm')
      .set('Mdm-Signature', signature)
      .send(body);
    expect(res.status).toBe(200);
    expect(
      await fieldsOfDevice(['ios.EnrolledViaDEP', 'ios.PasscodePresent', 'common.data_protection_enabled', 'ios.HardwareEncryptionCaps']),
    ).toEqual({
      'ios.EnrolledViaDEP': true,
      'ios.PasscodePresent': true,
      // HardwareEncryptionCaps from the earlier answer is kept: file-level encryption and now a passcode
      'common.data_protection_enabled': true,
      'ios.HardwareEncryptionCaps': 3,
    });
  });

  it('criteria and details read the same values', async () => {
    const count = async (query: string) => (await t.admin.get('/api/v2/devices/count').query({ query })).body.totalCount;
    expect(await count('common.storage_capacity > 26 AND common.storage_capacity < 27')).toBe(1);
    expect(await count('"ios.BuildVersion" = "15E302" AND common.device_encrypted = true')).toBe(1);
    expect(await count('common.data_protection_enabled = true')).toBe(1);
    expect(await count('common.wifi_mac_address = "00:00:00:00:00:00"')).toBe(1);
    const details = await t.admin.get(`/api/v2/devices/${device.deviceUuid}/details`);
    const byName = new Map((details.body.results as Array<{ name: string; value: string | null }>).map((d) => [d.name, d.value]));
    expect(byName.get('ios.BuildVersion')).toBe('15E302');
    expect(byName.get('common.storage_free')).toBe('15.47');
    expect(byName.get('common.device_encrypted')).toBe('true');
    expect(byName.get('common.imsi')).toBeNull();
    // details lists the whole catalogue, as search_fields does
    const catalogue = (await t.admin.get('/api/v2/devices/search_fields')).body.results as Array<{ name: string }>;
    for (const { name } of catalogue) expect(byName.has(name), name).toBe(true);
  });
});

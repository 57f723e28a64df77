// mjdibella/MICore.PSHelper, its v1 calls replayed call for call: MICore.PSHelper.psm1 (read at
// 301bdb5707eda2adb29482b9e7a469fc5fbea96a; docs/research/core-clients.md section F). Every call
// carries a preemptive `Authorization: Basic` header. Get-MIDevice reads `devices.device`, and
// with -uuid the root `device`: its `details.entry[]` filtered by `key` (`platform`: iPhone/iOS
// → I, Android → A), `currentPhoneNumber`, `principal`, `operator`, `employeeOwned`. New-MIDevice
// sends PUT /api/v1/dm/register with PowerShell's True/False booleans and reads
// `registration.status` and `registration.deviceUuid`; on an error it prints the body's
// `messages`. (Its v2 label and app calls belong to the v2 tests; the module needs Windows.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const basic = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
const helper = (method: 'get' | 'put', url: string) => t.anon[method](url).set('Authorization', basic);

let ios: string;
beforeAll(async () => {
  t = await startTestApp();
  expect((await t.admin.post('/api/v2/users').send({ userId: 'pshelper' })).status).toBe(201);
  const made = await t.admin
    .post('/api/v2/devices')
    .send({ platform: 'iOS', serialNumber: 'PSH-1', userId: 'pshelper', owner: 'EMPLOYEE' });
  ios = made.body.results['common.uuid'];
  expect((await t.admin.put(`/api/v2/devices/${ios}/attributes`).send({ status: 'ACTIVE' })).status).toBe(200);
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

/** The platform letter Get-MIDevice derives from details.entry. */
function platformLetter(device: { details: { entry: Array<{ key: string; value: string }> } }): string | undefined {
  const value = device.details.entry.find((e) => e.key === 'platform')?.value;
  return value === 'iPhone' || value === 'iOS' ? 'I' : value === 'macOS' ? 'L' : value === 'Android' ? 'A' : undefined;
}

describe('MICore.PSHelper v1 calls', () => {
  it('Get-MIDevice: GET /api/v1/dm/devices reads devices.device', async () => {
    const res = await helper('get', '/api/v1/dm/devices');
    expect(res.status).toBe(200);
    expect(res.body.devices.device.uuid).toBe(ios);
  });

  it('Get-MIDevice -uuid: GET /api/v1/dm/devices/{uuid} reads device, its platform entry, phone, principal, operator, ownership', async () => {
    const res = await helper('get', `/api/v1/dm/devices/${ios}`);
    expect(res.status).toBe(200);
    const d = res.body.device;
    expect(platformLetter(d)).toBe('I');
    expect(d.principal).toBe('pshelper');
    expect(d.employeeOwned).toBe(true);
    expect(d).toHaveProperty('currentPhoneNumber');
    expect(d).toHaveProperty('operator');
  });

  it('New-MIDevice: PUT /api/v1/dm/register with True/False booleans reads registration.status and registration.deviceUuid', async () => {
    const q =
      'phoneNumber=4155550123&userId=pshelper&operator=AT%26T&isEmployeeOwned=True&platform=I&deviceType=Phone' +
      '&importUserFromLdap=False&userFirstName=PS&userLastName=Helper&userEmailAddress=ps%40example.com' +
      '&notifyuser=False&notifyuserbysms=False&countryCode=1';
    const res = await helper('put', `/api/v1/dm/register?${q}`);
    expect(res.status).toBe(200);
    expect(res.body.registration.status).toBe('SUCCESS');
    const created = await t.admin.get(`/api/v2/devices/${res.body.registration.deviceUuid}/details`);
    expect(created.status).toBe(200);
    const detail = Object.fromEntries(created.body.results.map((d: { name: string; value: string }) => [d.name, d.value]));
    // isEmployeeOwned=True is honoured; the user existed, so its names are left as they were.
    expect(detail).toMatchObject({ 'common.owner': 'EMPLOYEE', 'user.user_id': 'pshelper', 'user.display_name': null });
    expect(res.body.registration).toMatchObject({ operator: 'AT&T', countryCode: '1', employeeOwned: true });
  });

  it('New-MIDevice refused (a platform that cannot enroll here): not 2xx, and the body has messages to print; nothing registered', async () => {
    const before = (await t.admin.get('/api/v2/devices/count')).body.totalCount;
    const res = await helper('put', '/api/v1/dm/register?userId=pshelper&platform=E&isEmployeeOwned=False');
    expect(res.status).toBe(400);
    expect(res.body.messages[0].message).toMatch(/only iOS/);
    expect((await t.admin.get('/api/v2/devices/count')).body.totalCount).toBe(before);
  });

  it('a boolean that is neither True nor False is refused with the reason in messages', async () => {
    const res = await helper('put', '/api/v1/dm/register?userId=pshelper&platform=I&isEmployeeOwned=Maybe');
    expect(res.status).toBe(400);
    expect(res.body.messages[0].message).toMatch(/isEmployeeOwned: must be true or false/);
  });
});

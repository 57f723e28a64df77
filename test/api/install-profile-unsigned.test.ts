// The InstallProfile delivery setting (--install-profile-unsigned / MOCKIRON_INSTALL_PROFILE_UNSIGNED):
// signed by default; unsigned carries the same profile minus the CMS wrapper, and the
// reconciliation (which compares profiles by the hash of their XML) treats both as the same
// content. One data directory, served first signed, then unsigned after a restart, to one device.
// `openssl cms -verify` unwraps the signed profile and Python's plistlib reads the plain one.
//
// Sources: Apple's MDM protocol reference, InstallProfile: "Payload: the profile to install",
// which may be signed or not (a signed profile is verified and shown as such); iOS installs both.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlistDict } from '../../src/lib/plist/index.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';

let current: TestApp;
let dataDir: string;
let device: TestDevice;
let signedContent: Buffer;

const requestTypes = (commands: PlistDict[]) => commands.map((c) => (c.Command as PlistDict).RequestType as string);
const installPayload = (commands: PlistDict[]) => {
  const install = commands.find((c) => (c.Command as PlistDict).RequestType === 'InstallProfile');
  return install ? Buffer.from((install.Command as PlistDict).Payload as Uint8Array) : undefined;
};

beforeAll(async () => {
  current = await startTestApp();
  dataDir = current.dataDir;
  // The device talks to whichever app is current: the same device across the restart.
  device = new TestDevice((req: unknown, res: unknown) => (current.app as unknown as (a: unknown, b: unknown) => void)(req, res));
  await current.admin.post('/api/v2/users').send({ userId: 'unsigned-user' });
  const label = (await current.admin.post('/api/v2/labels').send({ name: 'vpn-unsigned', static: true })).body.results.id;
  const vpn = await current.admin.post('/api/v2/configurations/vpn').send({
    name: 'vpn-unsigned',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    perApp: true,
    safariDomains: ['example.com'],
  });
  await current.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${label}`);
  const inv = await current.admin.post('/api/v2/enrollments').send({ userId: 'unsigned-user' });
  await device.enroll(inv.body.results.url);
  expect((await device.authenticate()).status).toBe(200);
  const found = await current.admin.get('/api/v2/devices').query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  device.deviceUuid = found.body.results[0]['common.uuid'];
  await current.admin.put('/api/v2/devices/labels/vpn-unsigned/add').send({ deviceUuids: [device.deviceUuid] });
  expect((await device.tokenUpdate()).status).toBe(200);
});
afterAll(async () => {
  await current?.close();
  if (dataDir) removeDir(dataDir);
});

describe('InstallProfile delivery', () => {
  it('is signed by default: openssl verifies the payload against our CA', async () => {
    const commands = await device.drain();
    expect(requestTypes(commands)).toEqual(['InstallProfile']);
    const payload = installPayload(commands)!;
    expect(payload.subarray(0, 5).toString()).not.toBe('<?xml');
    writeFileSync(path.join(dataDir, 'signed.mobileconfig'), payload);
    writeFileSync(path.join(dataDir, 'ca.pem'), device.caPem);
    signedContent = execFileSync('openssl', [
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      path.join(dataDir, 'signed.mobileconfig'),
      '-CAfile',
      path.join(dataDir, 'ca.pem'),
      '-purpose',
      'any',
      '-binary',
    ]);
    expect(signedContent.subarray(0, 5).toString()).toBe('<?xml');
  });

  it('after a restart with MOCKIRON_INSTALL_PROFILE_UNSIGNED=1, the profile installed signed counts as up to date', async () => {
    await current.close();
    current = await startTestApp({ dataDir, env: { MOCKIRON_INSTALL_PROFILE_UNSIGNED: '1' } });
    await current.services.mdm.reconciler.reconcileAll();
    expect(requestTypes(await device.drain())).toEqual([]);
  });

  it('unsigned, it carries the same profile as signed minus the CMS wrapper (byte for byte), which plistlib reads', async () => {
    // The label goes (the profile is removed), then comes back: the same profile is installed again.
    await current.admin.put('/api/v2/devices/labels/vpn-unsigned/remove').send({ deviceUuids: [device.deviceUuid] });
    expect(requestTypes(await device.drain())).toEqual(['RemoveProfile']);
    await current.admin.put('/api/v2/devices/labels/vpn-unsigned/add').send({ deviceUuids: [device.deviceUuid] });
    const commands = await device.drain();
    expect(requestTypes(commands)).toEqual(['InstallProfile']);
    const plain = installPayload(commands)!;
    expect(plain.equals(signedContent)).toBe(true);
    const read = execFileSync(
      'python3',
      [
        '-c',
        'import json,plistlib,sys; p=plistlib.loads(sys.stdin.buffer.read()); print(json.dumps([x["PayloadType"] for x in p["PayloadContent"]]))',
      ],
      { input: plain },
    ).toString();
    expect(JSON.parse(read)).toContain('com.apple.vpn.managed.applayer');
    // and once acknowledged, it is up to date in this mode too
    await current.services.mdm.reconciler.reconcileAll();
    expect(requestTypes(await device.drain())).toEqual([]);
  });
});

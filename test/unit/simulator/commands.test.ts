// The device side in isolation: commands built with src/lib/mdm-protocol's builders go in, results
// come out and are read back with decodeCommandResult / parseResultPayload, as the server will.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  decodeCommandResult,
  deviceInformationCommand,
  deviceLockCommand,
  encodeCommand,
  eraseDeviceCommand,
  installApplicationCommand,
  installedApplicationListCommand,
  installProfileCommand,
  managedApplicationAttributesCommand,
  managedApplicationListCommand,
  parseResultPayload,
  profileListCommand,
  rawCommand,
  removeApplicationCommand,
  removeProfileCommand,
  securityInfoCommand,
  settingsCommand,
  applicationAttributesSetting,
  enabledSetting,
  type CommandResult,
  type MdmCommand,
} from '../../../src/lib/mdm-protocol/index.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { signCms } from '../../../src/lib/pki/cms.js';
import { createSigningIdentity } from '../../../src/signing/identity.js';
import { UnanswerableCommandError } from '../../../src/simulator/commands.js';
import { newDeviceState, VirtualDevice } from '../../../src/simulator/device.js';

const trusted = createSigningIdentity({ organization: 'Test MDM' });
const stranger = createSigningIdentity({ organization: 'Someone Else' });
const VPN_UUID = 'C6F1F9A4-8E2B-4C1D-9C53-2B6C1E0D7A11';
const OTHER_VPN_UUID = '0D1E2F30-4A5B-4C6D-8E9F-A0B1C2D3E4F5';

function vpnProfile(identifier = 'com.example.vpn.perapp'): PlistDict {
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: randomUUID().toUpperCase(),
    PayloadDisplayName: 'Per-app VPN',
    PayloadContent: [
      {
        PayloadType: 'com.apple.vpn.managed.applayer',
        PayloadVersion: 1,
        PayloadIdentifier: `${identifier}.applayer`,
        PayloadUUID: randomUUID().toUpperCase(),
        VPNUUID: VPN_UUID,
        UserDefinedName: 'vpndemo-external',
        VPNType: 'VPN',
        VPNSubType: 'com.cisco.anyconnect',
        VPN: { RemoteAddress: 'asa.example.com', AuthenticationMethod: 'Password' },
      },
    ],
  };
}

let device: VirtualDevice;
beforeEach(() => {
  device = new VirtualDevice(newDeviceState('unit-seed', 0, undefined, [trusted.ca.certificatePem]));
});

async function run(command: MdmCommand, on: VirtualDevice = device): Promise<CommandResult> {
  const response = await on.respond(encodeCommand(command));
  const result = decodeCommandResult(response.body);
  expect(result.commandUuid).toBe(command.CommandUUID);
  expect(result.udid).toBe(on.udid);
  expect(response.status).toBe(result.status);
  return result;
}

function payload<T extends string>(result: CommandResult, requestType: T) {
  const parsed = parseResultPayload(result, requestType);
  expect(parsed?.requestType).toBe(requestType);
  return parsed!.data as any;
}

const toBinary =
  'import plistlib, sys; sys.stdout.buffer.write(plistlib.dumps(plistlib.loads(sys.stdin.buffer.read()), fmt=plistlib.FMT_BINARY))';

describe('InstallProfile', () => {
  it('installs a profile signed under a trusted CA, remembers it with its content hash, and lists it', async () => {
    const profile = vpnProfile();
    const content = Buffer.from(toXmlPlist(profile), 'utf8');
    const result = await run(installProfileCommand({ profile: signCms(content, trusted.identity) }));
    expect(result.status).toBe('Acknowledged');
    expect(result.errorChain).toEqual([]);
    const held = device.state.profiles['com.example.vpn.perapp']!;
    expect(held).toMatchObject({
      uuid: profile.PayloadUUID,
      source: 'mdm',
      contentSha256: createHash('sha256').update(content).digest('hex'),
    });
    expect(held.payloads).toEqual([expect.objectContaining({ type: 'com.apple.vpn.managed.applayer', vpnUuid: VPN_UUID })]);

    const list = payload(await run(profileListCommand()), 'ProfileList');
    expect(list.profiles).toEqual([
      expect.objectContaining({
        identifier: 'com.example.vpn.perapp',
        uuid: profile.PayloadUUID,
        isManaged: true,
        payloads: [
          expect.objectContaining({ payloadType: 'com.apple.vpn.managed.applayer', identifier: 'com.example.vpn.perapp.applayer' }),
        ],
      }),
    ]);
  });

  it('replaces a profile installed again under the same identifier', async () => {
    await run(installProfileCommand({ profile: signCms(Buffer.from(toXmlPlist(vpnProfile()), 'utf8'), trusted.identity) }));
    const second = vpnProfile();
    await run(installProfileCommand({ profile: signCms(Buffer.from(toXmlPlist(second), 'utf8'), trusted.identity) }));
    expect(Object.keys(device.state.profiles)).toEqual(['com.example.vpn.perapp']);
    expect(device.state.profiles['com.example.vpn.perapp']!.uuid).toBe(second.PayloadUUID);
  });

  // Apple's InstallProfile: Payload is "the profile to install", signed or not; an MDM-delivered
  // profile need not be signed (the MDM channel is authenticated by the device identity).
  it('installs a plain profile (XML and binary plist) as iOS does: the same content hash as signed, no signer listed', async () => {
    const profile = vpnProfile();
    const xml = Buffer.from(toXmlPlist(profile), 'utf8');
    const result = await run(installProfileCommand({ profile: xml }));
    expect(result.status).toBe('Acknowledged');
    const held = device.state.profiles['com.example.vpn.perapp']!;
    expect(held).toMatchObject({ uuid: profile.PayloadUUID, source: 'mdm', contentSha256: createHash('sha256').update(xml).digest('hex') });
    expect(held.signerCertificateDer).toBeUndefined();
    expect(held.payloads).toEqual([expect.objectContaining({ type: 'com.apple.vpn.managed.applayer', vpnUuid: VPN_UUID })]);
    // the same bytes signed: the device holds the same content
    const signedDevice = new VirtualDevice(newDeviceState('unit-seed', 1, undefined, [trusted.ca.certificatePem]));
    expect((await run(installProfileCommand({ profile: signCms(xml, trusted.identity) }), signedDevice)).status).toBe('Acknowledged');
    expect(signedDevice.state.profiles['com.example.vpn.perapp']!.contentSha256).toBe(held.contentSha256);
    const list = payload(await run(profileListCommand()), 'ProfileList');
    expect(list.profiles).toEqual([expect.objectContaining({ identifier: 'com.example.vpn.perapp', uuid: profile.PayloadUUID })]);

    const binary = vpnProfile('com.example.vpn.binary');
    // written by Python's plistlib, as a binary .mobileconfig is
    const bplist = execFileSync('python3', ['-c', toBinary], { input: toXmlPlist(binary) });
    expect(bplist.subarray(0, 8).toString()).toBe('bplist00');
    expect((await run(installProfileCommand({ profile: bplist }))).status).toBe('Acknowledged');
    expect(device.state.profiles['com.example.vpn.binary']!.uuid).toBe(binary.PayloadUUID);
  });

  it('refuses a plain profile that is not one (bad plist, wrong PayloadType, a payload without identifier) and holds nothing', async () => {
    const noIdentifier = vpnProfile();
    delete (noIdentifier.PayloadContent as PlistDict[])[0]!.PayloadIdentifier;
    for (const body of [
      '<?xml version="1.0"?><plist><dict><key>PayloadType</key>',
      toXmlPlist({ ...vpnProfile(), PayloadType: 'Profile Service' }),
      toXmlPlist(noIdentifier),
    ]) {
      const result = await run(installProfileCommand({ profile: Buffer.from(body, 'utf8') }));
      expect(result.status, body.slice(0, 80)).toBe('Error');
      expect(result.errorChain.map((e) => e.errorDomain)).toEqual(['MCInstallationErrorDomain', 'MCProfileErrorDomain']);
      expect(result.errorChain[1]!.errorCode).toBe(1000);
    }
    expect(device.state.profiles).toEqual({});
  });

  it('refuses a profile whose signed content was altered after signing', async () => {
    const signed = signCms(Buffer.from(toXmlPlist(vpnProfile()), 'utf8'), trusted.identity);
    const at = signed.indexOf('asa.example.com');
    expect(at).toBeGreaterThan(0);
    signed[at] = 'b'.charCodeAt(0);
    const result = await run(installProfileCommand({ profile: signed }));
    expect(result.status).toBe('Error');
    expect(result.errorChain[1]).toMatchObject({ errorDomain: 'MCProfileErrorDomain', errorCode: 1004 });
    expect(device.state.profiles).toEqual({});
  });

  it('refuses a correctly signed profile from a CA the device does not trust', async () => {
    const result = await run(installProfileCommand({ profile: signCms(Buffer.from(toXmlPlist(vpnProfile()), 'utf8'), stranger.identity) }));
    expect(result.status).toBe('Error');
    expect(result.errorChain[1]!.localizedDescription).toMatch(/untrusted/);
    expect(device.state.profiles).toEqual({});
  });

  it('refuses a signed plist that is not a configuration profile', async () => {
    const notAProfile = { PayloadType: 'com.apple.vpn.managed', PayloadIdentifier: 'x', PayloadUUID: randomUUID() };
    const result = await run(installProfileCommand({ profile: signCms(Buffer.from(toXmlPlist(notAProfile), 'utf8'), trusted.identity) }));
    expect(result.status).toBe('Error');
    expect(result.errorChain[1]).toMatchObject({ errorCode: 1000 });
  });
});

describe('RemoveProfile', () => {
  it('removes a profile it holds, and answers 12013 for one it does not', async () => {
    await run(installProfileCommand({ profile: signCms(Buffer.from(toXmlPlist(vpnProfile()), 'utf8'), trusted.identity) }));
    expect((await run(removeProfileCommand({ identifier: 'com.example.vpn.perapp' }))).status).toBe('Acknowledged');
    expect(device.state.profiles).toEqual({});
    const missing = await run(removeProfileCommand({ identifier: 'com.example.vpn.perapp' }));
    expect(missing.status).toBe('Error');
    expect(missing.errorChain[0]).toMatchObject({ errorCode: 12013, errorDomain: 'MCMDMErrorDomain' });
  });
});

describe('applications', () => {
  it('InstallApplication records the app and its VPNUUID; the list commands report it', async () => {
    const install = await run(installApplicationCommand({ identifier: 'com.google.chrome.ios', vpnUuid: VPN_UUID, managementFlags: 1 }));
    expect(install.status).toBe('Acknowledged');
    expect(install.raw).toMatchObject({ Identifier: 'com.google.chrome.ios', State: 'Managed' });
    expect(device.state.apps['com.google.chrome.ios']).toMatchObject({ attributes: { VPNUUID: VPN_UUID }, managementFlags: 1 });

    await run(installApplicationCommand({ iTunesStoreId: 714464092 }));
    expect(device.state.apps['itunes:714464092']).toMatchObject({ iTunesStoreId: 714464092 });

    const attributes = payload(
      await run(managedApplicationAttributesCommand({ identifiers: ['com.google.chrome.ios'] })),
      'ManagedApplicationAttributes',
    );
    expect(attributes.applications).toEqual({ 'com.google.chrome.ios': expect.objectContaining({ vpnUuid: VPN_UUID }) });

    const managed = payload(await run(managedApplicationListCommand()), 'ManagedApplicationList');
    expect(Object.keys(managed.applications).sort()).toEqual(['com.google.chrome.ios', 'itunes:714464092']);
    expect(managed.applications['com.google.chrome.ios']).toMatchObject({ status: 'Managed', managementFlags: 1 });

    const installed = payload(
      await run(installedApplicationListCommand({ identifiers: ['com.google.chrome.ios'] })),
      'InstalledApplicationList',
    );
    expect(installed.applications.map((a: { identifier: string }) => a.identifier)).toEqual(['com.google.chrome.ios']);
  });

  it('Settings ApplicationAttributes rebinds an installed app to another VPN, and {} unbinds it', async () => {
    await run(installApplicationCommand({ identifier: 'com.microsoft.rdc.ios', vpnUuid: VPN_UUID }));
    const rebind = await run(
      settingsCommand({
        settings: [applicationAttributesSetting({ identifier: 'com.microsoft.rdc.ios', attributes: { VPNUUID: OTHER_VPN_UUID } })],
      }),
    );
    expect(rebind.status).toBe('Acknowledged');
    expect(rebind.raw.Settings).toEqual([{ Status: 'Acknowledged' }]);
    expect(device.state.apps['com.microsoft.rdc.ios']!.attributes).toEqual({ VPNUUID: OTHER_VPN_UUID });

    await run(settingsCommand({ settings: [applicationAttributesSetting({ identifier: 'com.microsoft.rdc.ios', attributes: {} })] }));
    expect(device.state.apps['com.microsoft.rdc.ios']!.attributes).toEqual({});
  });

  it('Settings for an app the device does not manage is an Error for that item', async () => {
    const result = await run(
      settingsCommand({
        settings: [applicationAttributesSetting({ identifier: 'com.example.absent', attributes: { VPNUUID: VPN_UUID } })],
      }),
    );
    expect(result.status).toBe('Error');
    expect((result.raw.Settings as PlistDict[])[0]).toMatchObject({ Status: 'Error' });
    expect(device.state.apps).toEqual({});
  });

  it('RemoveApplication removes a managed app and refuses an unknown one', async () => {
    await run(installApplicationCommand({ identifier: 'com.google.chrome.ios' }));
    expect((await run(removeApplicationCommand({ identifier: 'com.google.chrome.ios' }))).status).toBe('Acknowledged');
    expect(device.state.apps).toEqual({});
    expect((await run(removeApplicationCommand({ identifier: 'com.google.chrome.ios' }))).status).toBe('Error');
  });
});

describe('information commands', () => {
  it('DeviceInformation reports the roaming and hotspot settings the server last set', async () => {
    const ask = async () =>
      payload(
        await run(deviceInformationCommand({ queries: ['DataRoamingEnabled', 'VoiceRoamingEnabled', 'PersonalHotspotEnabled'] })),
        'DeviceInformation',
      ).queryResponses;
    expect(await ask()).toEqual({ DataRoamingEnabled: false, VoiceRoamingEnabled: true, PersonalHotspotEnabled: false });
    const set = await run(
      settingsCommand({
        settings: [enabledSetting('DataRoaming', true), enabledSetting('VoiceRoaming', false), enabledSetting('PersonalHotspot', true)],
      }),
    );
    expect(set.raw.Settings).toEqual([{ Status: 'Acknowledged' }, { Status: 'Acknowledged' }, { Status: 'Acknowledged' }]);
    expect(await ask()).toEqual({ DataRoamingEnabled: true, VoiceRoamingEnabled: false, PersonalHotspotEnabled: true });
    expect(device.state.network).toEqual({ dataRoaming: true, voiceRoaming: false, personalHotspot: true });
  });

  it('DeviceInformation answers with real key names and leaves out queries it cannot answer', async () => {
    const id = device.state.identity;
    const result = await run(
      deviceInformationCommand({
        queries: ['UDID', 'SerialNumber', 'ProductName', 'OSVersion', 'BuildVersion', 'ModelName', 'DeviceCapacity', 'NoSuchQuery'],
      }),
    );
    const info = payload(result, 'DeviceInformation');
    expect(info).toMatchObject({
      udid: id.udid,
      serialNumber: id.serialNumber,
      productName: 'iPad4,1',
      osVersion: '9.3.1',
      buildVersion: '13E238',
      modelName: 'iPad',
    });
    expect(typeof info.deviceCapacity).toBe('number');
    expect(Object.keys(info.queryResponses)).not.toContain('NoSuchQuery');
  });

  it('SecurityInfo reports hardware encryption and passcode state', async () => {
    const info = payload(await run(securityInfoCommand()), 'SecurityInfo');
    expect(info).toMatchObject({ hardwareEncryptionCaps: 3, fileLevelEncryption: true, passcodePresent: false });
  });
});

describe('device actions', () => {
  it('DeviceLock locks the device', async () => {
    expect((await run(deviceLockCommand({ message: 'Lost', phoneNumber: '555-0100' }))).status).toBe('Acknowledged');
    expect(device.state.lock).toMatchObject({ message: 'Lost', phoneNumber: '555-0100' });
  });

  it('EraseDevice is acknowledged and marks the device for wiping after the answer', async () => {
    const response = await device.respond(encodeCommand(eraseDeviceCommand()));
    expect(response.status).toBe('Acknowledged');
    expect(response.after).toBe('erase');
  });
});

describe('unknown and malformed commands', () => {
  it('an unknown RequestType is an Error with MCMDMErrorDomain 12021', async () => {
    const result = await run(rawCommand('FrobnicateDevice', { Level: 3 }).command);
    expect(result.status).toBe('Error');
    expect(result.errorChain[0]).toMatchObject({ errorCode: 12021, errorDomain: 'MCMDMErrorDomain' });
    expect(result.errorChain[0]!.localizedDescription).toContain('FrobnicateDevice');
  });

  it('a known command missing a required key is a CommandFormatError', async () => {
    const uuid = randomUUID();
    const response = await device.respond(toXmlPlist({ CommandUUID: uuid, Command: { RequestType: 'InstallProfile' } }));
    expect(decodeCommandResult(response.body)).toMatchObject({ status: 'CommandFormatError', commandUuid: uuid });
    const noSource = await device.respond(
      toXmlPlist({ CommandUUID: uuid, Command: { RequestType: 'InstallApplication', ManagementFlags: 1 } }),
    );
    expect(noSource.status).toBe('CommandFormatError');
  });

  it('a command without RequestType but with a CommandUUID is a CommandFormatError; without one it cannot be answered', async () => {
    const uuid = randomUUID();
    expect((await device.respond(toXmlPlist({ CommandUUID: uuid, Command: {} }))).status).toBe('CommandFormatError');
    await expect(device.respond('<plist><dict><key>Command</key><dict/></dict></plist>')).rejects.toThrow(UnanswerableCommandError);
    await expect(device.respond('not a plist')).rejects.toThrow(UnanswerableCommandError);
  });
});

describe('NotNow', () => {
  async function statuses(d: VirtualDevice, count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push((await d.respond(encodeCommand(securityInfoCommand()))).status);
    return out;
  }

  async function notNowPattern(seed: string, rate: number, count: number): Promise<string> {
    const d = new VirtualDevice(newDeviceState(seed, 0), { notNowRate: rate });
    return (await statuses(d, count)).map((s) => (s === 'NotNow' ? 'N' : 'A')).join('');
  }

  it('answers the configured share of deferrable commands NotNow, the same way for the same seed', async () => {
    const pattern = await notNowPattern('notnow-seed', 0.3, 1000);
    const share = [...pattern].filter((c) => c === 'N').length / pattern.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    expect(await notNowPattern('notnow-seed', 0.3, 1000)).toBe(pattern);
    expect(await notNowPattern('another-seed', 0.3, 1000)).not.toBe(pattern);
    expect(await notNowPattern('notnow-seed', 0, 200)).toBe('A'.repeat(200));
  });

  it('continues the same sequence after the state is saved and restored', async () => {
    const straight = await notNowPattern('resume-seed', 0.5, 40);
    const state = newDeviceState('resume-seed', 0);
    const first = new VirtualDevice(state, { notNowRate: 0.5 });
    const part1 = await statuses(first, 20);
    const restored = new VirtualDevice(JSON.parse(JSON.stringify(state)), { notNowRate: 0.5 });
    const part2 = await statuses(restored, 20);
    expect([...part1, ...part2].map((s) => (s === 'NotNow' ? 'N' : 'A')).join('')).toBe(straight);
  });

  it('a NotNow leaves the state untouched, and DeviceLock / EraseDevice are never deferred', async () => {
    const d = new VirtualDevice(newDeviceState('always', 0), { notNowRate: 1 });
    expect((await run(installApplicationCommand({ identifier: 'com.google.chrome.ios' }), d)).status).toBe('NotNow');
    expect(d.state.apps).toEqual({});
    expect((await run(deviceLockCommand(), d)).status).toBe('Acknowledged');
    expect((await run(eraseDeviceCommand(), d)).status).toBe('Acknowledged');
  });
});

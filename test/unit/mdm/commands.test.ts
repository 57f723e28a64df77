import { describe, expect, it } from 'vitest';
import {
  COMMAND_SCHEMAS,
  DEFAULT_DEVICE_INFORMATION_QUERIES,
  MdmCommandError,
  applicationAttributesSetting,
  clearPasscodeCommand,
  decodeCommand,
  deviceInformationCommand,
  deviceLockCommand,
  enabledSetting,
  encodeCommand,
  eraseDeviceCommand,
  installApplicationCommand,
  installProfileCommand,
  installedApplicationListCommand,
  managedApplicationAttributesCommand,
  managedApplicationListCommand,
  profileListCommand,
  rawCommand,
  removeApplicationCommand,
  removeProfileCommand,
  scheduleOsUpdateCommand,
  securityInfoCommand,
  settingsCommand,
  validateCommandFields,
  type MdmCommand,
} from '../../../src/lib/mdm-protocol/index.js';
import { parsePlist, plistToJson } from '../../../src/lib/plist/index.js';
import { checkAgainstYaml, commandYaml, deviceMessage } from './helpers.js';

const VPN_UUID = '5F0D4E4C-3C0B-4E7A-9A0A-7C1D2B3A4F5E';
const UNLOCK_TOKEN = Buffer.from('REFUQQAABORWRVJTAAAABAAAAAQ=', 'base64');

/** One of each builder, with every option it has exercised. */
const BUILT: [string, () => MdmCommand][] = [
  ['InstallProfile', () => installProfileCommand({ profile: Buffer.from('<?xml version="1.0"?><plist/>') })],
  ['RemoveProfile', () => removeProfileCommand({ identifier: 'com.example.vpn' })],
  ['ProfileList', () => profileListCommand()],
  ['ProfileList (ManagedOnly)', () => profileListCommand({ managedOnly: true })],
  [
    'InstallApplication (iTunesStoreID)',
    () => installApplicationCommand({ iTunesStoreId: 1135064690, managementFlags: 1, vpnUuid: VPN_UUID }),
  ],
  [
    'InstallApplication (Identifier, VPP)',
    () =>
      installApplicationCommand({
        identifier: 'com.cisco.anyconnect',
        purchaseMethod: 1,
        managementFlags: 5,
        attributes: { VPNUUID: VPN_UUID, Removable: false, AssociatedDomains: ['example.com'] },
        changeManagementState: 'Managed',
        configuration: { server: 'vpn.example.com' },
      }),
  ],
  ['InstallApplication (manifest)', () => installApplicationCommand({ manifestUrl: 'https://apps.example.com/app.plist' })],
  [
    'Settings (ApplicationAttributes)',
    () =>
      settingsCommand({
        settings: [applicationAttributesSetting({ identifier: 'com.cisco.anyconnect', attributes: { VPNUUID: VPN_UUID } })],
      }),
  ],
  [
    'Settings (other items)',
    () =>
      settingsCommand({
        settings: [
          { Item: 'DeviceName', DeviceName: 'Kiosk 1' },
          { Item: 'DataRoaming', Enabled: false },
        ],
      }),
  ],
  [
    'Settings (roaming and hotspot switches)',
    () =>
      settingsCommand({
        settings: [enabledSetting('VoiceRoaming', true), enabledSetting('DataRoaming', false), enabledSetting('PersonalHotspot', true)],
      }),
  ],
  ['ScheduleOSUpdate', () => scheduleOsUpdateCommand()],
  [
    'ScheduleOSUpdate (a given update)',
    () => scheduleOsUpdateCommand({ installAction: 'InstallASAP', productKey: 'iOSUpdate21A5291h', productVersion: '17.0' }),
  ],
  ['ManagedApplicationAttributes', () => managedApplicationAttributesCommand({ identifiers: ['com.cisco.anyconnect', 'com.example.app'] })],
  ['InstalledApplicationList', () => installedApplicationListCommand()],
  [
    'InstalledApplicationList (filtered)',
    () =>
      installedApplicationListCommand({
        identifiers: ['com.cisco.anyconnect'],
        managedAppsOnly: true,
        items: ['Identifier', 'Version', 'Name'],
      }),
  ],
  ['ManagedApplicationList', () => managedApplicationListCommand({ identifiers: ['com.cisco.anyconnect'] })],
  ['DeviceInformation (default queries)', () => deviceInformationCommand()],
  ['DeviceInformation (custom)', () => deviceInformationCommand({ queries: ['UDID', 'OSVersion'] })],
  ['SecurityInfo', () => securityInfoCommand()],
  ['DeviceLock', () => deviceLockCommand({ message: 'Found me? Call us.', phoneNumber: '+61 2 0000 0000', pin: '123456' })],
  ['EraseDevice', () => eraseDeviceCommand({ pin: '123456', preserveDataPlan: true, disallowProximitySetup: true })],
  ['RemoveApplication', () => removeApplicationCommand({ identifier: 'com.cisco.anyconnect' })],
  ['ClearPasscode', () => clearPasscodeCommand({ unlockToken: UNLOCK_TOKEN })],
];

describe('command builders', () => {
  describe.each(BUILT)('%s', (_label, build) => {
    it("matches Apple's YAML: RequestType, required keys, documented keys, types, ranges", () => {
      const command = build();
      const yaml = commandYaml(command.Command.RequestType);
      expect(yaml.payload.requesttype).toBe(command.Command.RequestType);
      expect(checkAgainstYaml(command.Command, yaml.payloadkeys ?? [], '', ['RequestType'])).toEqual([]);
    });

    it('round-trips through the XML plist writer and parsePlist', () => {
      const command = build();
      const parsed = parsePlist(encodeCommand(command));
      expect(plistToJson(parsed)).toEqual(plistToJson(command));
      const decoded = decodeCommand(encodeCommand(command));
      expect(decoded.commandUuid).toBe(command.CommandUUID);
      expect(decoded.requestType).toBe(command.Command.RequestType);
    });

    it('is only {CommandUUID, Command}', () => {
      const command = build();
      expect(Object.keys(command).sort()).toEqual(['Command', 'CommandUUID']);
      expect(command.CommandUUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  });

  it('builds the exact InstallProfile command MicroMDM sends', () => {
    const fixture = decodeCommand(deviceMessage('micromdm/InstallProfile.plist'));
    const built = installProfileCommand({ profile: Buffer.from('foobarbaz'), commandUuid: fixture.commandUuid });
    expect(plistToJson(built.Command)).toEqual(plistToJson(fixture.command));
    expect(built.CommandUUID).toBe(fixture.commandUuid);
  });

  it('writes the profile as <data> and numbers as <integer>', () => {
    const xml = encodeCommand(installProfileCommand({ profile: Buffer.from('foobarbaz'), commandUuid: 'c-1' })).toString('utf8');
    expect(xml).toContain('<data>Zm9vYmFyYmF6</data>');
    const app = encodeCommand(installApplicationCommand({ iTunesStoreId: 1135064690, managementFlags: 4, commandUuid: 'c-2' })).toString(
      'utf8',
    );
    expect(app).toMatch(/<key>iTunesStoreID<\/key>\s*<integer>1135064690<\/integer>/);
    expect(app).toMatch(/<key>ManagementFlags<\/key>\s*<integer>4<\/integer>/);
  });

  it('puts the per-app VPN UUID under Attributes.VPNUUID', () => {
    const command = installApplicationCommand({ identifier: 'com.cisco.anyconnect', vpnUuid: VPN_UUID });
    expect(command.Command.Attributes).toEqual({ VPNUUID: VPN_UUID });
    expect(command.Command.Identifier).toBe('com.cisco.anyconnect');
    expect(command.Command.iTunesStoreID).toBeUndefined();
    const rebind = settingsCommand({
      settings: [applicationAttributesSetting({ identifier: 'com.cisco.anyconnect', attributes: { VPNUUID: VPN_UUID } })],
    });
    expect(rebind.Command.Settings).toEqual([
      { Item: 'ApplicationAttributes', Identifier: 'com.cisco.anyconnect', Attributes: { VPNUUID: VPN_UUID } },
    ]);
  });

  it('asks for documented DeviceInformation queries by default', () => {
    expect(deviceInformationCommand().Command.Queries).toEqual([...DEFAULT_DEVICE_INFORMATION_QUERIES]);
    expect(DEFAULT_DEVICE_INFORMATION_QUERIES).toEqual(expect.arrayContaining(['UDID', 'OSVersion', 'SerialNumber', 'IMEI', 'ModelName']));
  });

  it('leaves ManagementFlags 0 out (Apple documents only 1, 4 and 5; absent means none)', () => {
    expect(installApplicationCommand({ identifier: 'x', managementFlags: 0 }).Command.ManagementFlags).toBeUndefined();
  });

  it("the YAML checker is not vacuous: it catches what Apple's schema forbids", () => {
    const keys = (requestType: string) => commandYaml(requestType).payloadkeys ?? [];
    expect(checkAgainstYaml({ Identifier: 'x', ManagementFlags: 2 }, keys('InstallApplication'))).toEqual([
      'ManagementFlags = 2 is not one of [1,4,5]',
    ]);
    expect(checkAgainstYaml({ Queries: ['UDID', 'Bogus'] }, keys('DeviceInformation'))).toEqual([
      'Queries[1] = "Bogus" is not one of the documented names',
    ]);
    expect(checkAgainstYaml({ Settings: [{ Item: 'ApplicationAttributes', Attributes: { VPNUUID: 1 } }] }, keys('Settings'))).toEqual([
      'Settings[0].Identifier is required',
      'Settings[0].Attributes.VPNUUID must be <string>, not <integer>',
    ]);
    expect(checkAgainstYaml({ Settings: [{ Item: 'Teleport' }] }, keys('Settings'))).toEqual([
      'Settings[0] matches none of the documented element kinds',
    ]);
    expect(checkAgainstYaml({ Identifer: 'typo' }, keys('RemoveProfile'))).toEqual([
      'Identifier is required',
      'Identifer is not a documented key',
    ]);
  });

  it('keeps a given CommandUUID', () => {
    expect(securityInfoCommand({ commandUuid: 'fixed-uuid' }).CommandUUID).toBe('fixed-uuid');
  });

  it.each([
    ['InstallApplication without a source', () => installApplicationCommand({} as never)],
    ['InstallApplication with two sources', () => installApplicationCommand({ iTunesStoreId: 1, identifier: 'x' } as never)],
    ['a non-integer iTunesStoreID', () => installApplicationCommand({ iTunesStoreId: 1.5 })],
    ['a negative iTunesStoreID', () => installApplicationCommand({ iTunesStoreId: -3 })],
    ['ManagementFlags 2', () => installApplicationCommand({ identifier: 'x', managementFlags: 2 })],
    ['an http manifest', () => installApplicationCommand({ manifestUrl: 'http://apps.example.com/app.plist' })],
    ['disagreeing VPN UUIDs', () => installApplicationCommand({ identifier: 'x', vpnUuid: 'A', attributes: { VPNUUID: 'B' } })],
    ['an empty RemoveProfile identifier', () => removeProfileCommand({ identifier: ' ' })],
    ['an empty profile', () => installProfileCommand({ profile: new Uint8Array() })],
    ['no app identifiers for ManagedApplicationAttributes', () => managedApplicationAttributesCommand({ identifiers: [] })],
    ['empty Settings', () => settingsCommand({ settings: [] })],
    ['a five-character PIN', () => deviceLockCommand({ pin: '12345' })],
    ['an empty unlock token', () => clearPasscodeCommand({ unlockToken: Buffer.alloc(0) })],
    ['an empty CommandUUID', () => securityInfoCommand({ commandUuid: '' })],
  ])('refuses %s with INVALID_ARGUMENT', (_label, build) => {
    expect(build).toThrow(MdmCommandError);
    try {
      build();
    } catch (err) {
      expect((err as MdmCommandError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('COMMAND_SCHEMAS', () => {
  it.each(Object.keys(COMMAND_SCHEMAS))("%s: same top-level keys, presence and types as Apple's YAML", (requestType) => {
    const yamlKeys = commandYaml(requestType).payloadkeys ?? [];
    const fromYaml = Object.fromEntries(
      yamlKeys.map((k) => {
        const items = k.type === '<array>' && k.subkeys?.length ? k.subkeys[0]!.type.slice(1, -1) : undefined;
        return [k.key, { type: k.type.slice(1, -1), required: k.presence === 'required', ...(items && { items }) }];
      }),
    );
    expect(COMMAND_SCHEMAS[requestType]).toEqual(fromYaml);
  });

  it('covers every command this module builds', () => {
    for (const [, build] of BUILT) expect(Object.keys(COMMAND_SCHEMAS)).toContain(build().Command.RequestType);
  });
});

describe('rawCommand', () => {
  it('builds a known command and reports it as known', () => {
    const { command, known, warnings } = rawCommand('RestartDevice', { NotifyUser: true });
    expect(known).toBe(true);
    expect(warnings).toEqual([]);
    expect(command.Command).toEqual({ RequestType: 'RestartDevice', NotifyUser: true });
    expect(checkAgainstYaml(command.Command, commandYaml('RestartDevice').payloadkeys ?? [], '', ['RequestType'])).toEqual([]);
  });

  it('refuses a known command missing a required key', () => {
    expect(() => rawCommand('RemoveProfile', {})).toThrow(/Identifier is required/);
    try {
      rawCommand('ClearPasscode', {});
    } catch (err) {
      expect(err).toBeInstanceOf(MdmCommandError);
      expect((err as MdmCommandError).code).toBe('INVALID_COMMAND');
    }
  });

  it('refuses wrong types, including array elements', () => {
    expect(() => rawCommand('InstallProfile', { Payload: 'base64 text is not data' })).toThrow(/Payload must be data, not string/);
    expect(() => rawCommand('InstallApplication', { iTunesStoreID: '361309726' })).toThrow(/iTunesStoreID must be integer/);
    expect(() => rawCommand('DeviceInformation', { Queries: ['UDID', 3] })).toThrow(/Queries\[1\] must be string/);
  });

  it('allows an unknown RequestType but flags it', () => {
    const { command, known, warnings } = rawCommand('FutureCommand', { Anything: 1 });
    expect(known).toBe(false);
    expect(warnings.join()).toMatch(/FutureCommand.*not in the known command table/);
    expect(command.Command.RequestType).toBe('FutureCommand');
  });

  it('warns about keys Apple does not document for a known command', () => {
    const { warnings } = rawCommand('SecurityInfo', { Verbose: true });
    expect(warnings).toEqual(['SecurityInfo: Verbose is not a documented key of this command']);
  });

  it('refuses a contradicting RequestType field and an empty RequestType', () => {
    expect(() => rawCommand('ProfileList', { RequestType: 'SecurityInfo' })).toThrow(MdmCommandError);
    expect(() => rawCommand('', {})).toThrow(MdmCommandError);
  });

  it('validateCommandFields accepts integers where a real is documented, and "any"', () => {
    expect(validateCommandFields('InstallApplication', { RequestType: 'InstallApplication', Configuration: { x: 1 } }).errors).toEqual([]);
  });
});

// Builders for the commands the server queues, as plist dictionaries
// { CommandUUID, Command: { RequestType, ... } } ready for toXmlPlist (encodeCommand). Inputs are
// camelCase; output keys are Apple's. Every built command is checked against COMMAND_SCHEMAS, so a
// builder bug surfaces here rather than as a CommandFormatError from a device.

import { randomUUID } from 'node:crypto';
import { isPlistDict, toXmlPlist, type PlistDict } from '../plist/index.js';
import { validateCommandFields } from './command-schemas.js';
import { MdmCommandError } from './errors.js';
import { decodePlistDict, requiredDict, requiredString } from './fields.js';

export interface MdmCommand<R extends string = string> extends PlistDict {
  CommandUUID: string;
  Command: PlistDict & { RequestType: R };
}

export interface CommandOptions {
  /** Defaults to a random UUID; pass one to make output deterministic or to re-send a command. */
  commandUuid?: string;
}

function invalidArgument(message: string, field?: string): never {
  throw new MdmCommandError('INVALID_ARGUMENT', message, field);
}

function nonEmpty(value: string, what: string, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') invalidArgument(`${what}: ${field} must be a non-empty string`, field);
  return value;
}

function nonEmptyList(values: readonly string[], what: string, field: string): string[] {
  if (!Array.isArray(values)) invalidArgument(`${what}: ${field} must be an array of strings`, field);
  return values.map((value, i) => nonEmpty(value, what, `${field}[${i}]`));
}

function makeCommand<R extends string>(requestType: R, fields: PlistDict, options: CommandOptions = {}): MdmCommand<R> {
  const commandUuid = options.commandUuid ?? randomUUID();
  nonEmpty(commandUuid, requestType, 'CommandUUID');
  const command = { RequestType: requestType, ...fields } as PlistDict & { RequestType: R };
  const validation = validateCommandFields(requestType, command);
  if (validation.errors.length > 0) throw new MdmCommandError('INVALID_COMMAND', validation.errors.join('; '));
  return { CommandUUID: commandUuid, Command: command };
}

/** The XML plist bytes a device receives as the /mdm/connect response body. */
export function encodeCommand(command: MdmCommand): Buffer {
  return Buffer.from(toXmlPlist(command), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Profiles

/** `profile` is the (usually CMS-signed) .mobileconfig, sent as <data>. */
export function installProfileCommand(input: { profile: Uint8Array } & CommandOptions): MdmCommand<'InstallProfile'> {
  if (!(input.profile instanceof Uint8Array) || input.profile.byteLength === 0) {
    invalidArgument('InstallProfile: profile must be non-empty bytes', 'Payload');
  }
  return makeCommand('InstallProfile', { Payload: input.profile }, input);
}

/** `identifier` is the top-level PayloadIdentifier of the installed profile. */
export function removeProfileCommand(input: { identifier: string } & CommandOptions): MdmCommand<'RemoveProfile'> {
  return makeCommand('RemoveProfile', { Identifier: nonEmpty(input.identifier, 'RemoveProfile', 'Identifier') }, input);
}

export function profileListCommand(input: { managedOnly?: boolean } & CommandOptions = {}): MdmCommand<'ProfileList'> {
  return makeCommand('ProfileList', { ManagedOnly: input.managedOnly }, input);
}

// ---------------------------------------------------------------------------------------------
// Applications

/** Per-app attributes, under Apple's key names (they are passed through as they are). */
export interface ApplicationAttributes {
  /** Binds the app to the per-app VPN whose VPN payload carries this VPNUUID. */
  VPNUUID?: string;
  ContentFilterUUID?: string;
  DNSProxyUUID?: string;
  RelayUUID?: string;
  CellularSliceUUID?: string;
  AssociatedDomains?: string[];
  AssociatedDomainsEnableDirectDownloads?: boolean;
  Removable?: boolean;
  TapToPayScreenLock?: boolean;
  Hideable?: boolean;
  Lockable?: boolean;
}

/** InstallApplication's ManagementFlags bits. */
export const MANAGEMENT_FLAGS = {
  /** Remove the app when the MDM profile is removed. */
  removeWithMdmProfile: 1,
  /** Prevent backup of the app's data. */
  preventBackup: 4,
} as const;

export type InstallApplicationSource =
  /** App Store app by its numeric iTunes Store (Adam) id. */
  | { iTunesStoreId: number }
  /** App Store app by bundle id (iOS 7+); VPP-licensed apps are usually installed this way. */
  | { identifier: string }
  /** In-house (enterprise) app by the https URL of its manifest plist. */
  | { manifestUrl: string };

export type InstallApplicationInput = InstallApplicationSource &
  CommandOptions & {
    /** Bitwise OR of MANAGEMENT_FLAGS; Apple documents 1, 4 and 5 (0 means none). */
    managementFlags?: number;
    /** Shorthand for attributes.VPNUUID: the per-app VPN to bind the app to. */
    vpnUuid?: string;
    attributes?: ApplicationAttributes;
    /** 'Managed' takes over an app the user installed. */
    changeManagementState?: 'Managed';
    /** Options.PurchaseMethod: 1 for VPP-assigned licences, 0 (default) otherwise. */
    purchaseMethod?: 0 | 1;
    /** Initial managed app configuration. */
    configuration?: PlistDict;
  };

function attributesDict(what: string, attributes: ApplicationAttributes | undefined, vpnUuid: string | undefined): PlistDict | undefined {
  if (vpnUuid !== undefined) nonEmpty(vpnUuid, what, 'Attributes.VPNUUID');
  if (attributes?.VPNUUID !== undefined && vpnUuid !== undefined && attributes.VPNUUID !== vpnUuid) {
    invalidArgument(`${what}: vpnUuid and attributes.VPNUUID disagree`, 'Attributes.VPNUUID');
  }
  const merged: PlistDict = { ...(attributes as PlistDict | undefined), ...(vpnUuid !== undefined && { VPNUUID: vpnUuid }) };
  return Object.values(merged).some((v) => v !== undefined) ? merged : undefined;
}

export function installApplicationCommand(input: InstallApplicationInput): MdmCommand<'InstallApplication'> {
  const what = 'InstallApplication';
  const sources = (['iTunesStoreId', 'identifier', 'manifestUrl'] as const).filter(
    (key) => (input as unknown as Record<string, unknown>)[key] !== undefined,
  );
  if (sources.length !== 1) {
    invalidArgument(`${what}: give exactly one of iTunesStoreId, identifier or manifestUrl (got ${sources.length})`);
  }
  const fields: PlistDict = {};
  if ('iTunesStoreId' in input && input.iTunesStoreId !== undefined) {
    if (!Number.isSafeInteger(input.iTunesStoreId) || input.iTunesStoreId <= 0) {
      invalidArgument(`${what}: iTunesStoreId must be a positive integer`, 'iTunesStoreID');
    }
    fields.iTunesStoreID = input.iTunesStoreId;
  } else if ('identifier' in input && input.identifier !== undefined) {
    fields.Identifier = nonEmpty(input.identifier, what, 'Identifier');
  } else if ('manifestUrl' in input && input.manifestUrl !== undefined) {
    if (!/^https:\/\//i.test(input.manifestUrl)) invalidArgument(`${what}: ManifestURL must begin with https:`, 'ManifestURL');
    fields.ManifestURL = input.manifestUrl;
  }
  if (input.managementFlags !== undefined) {
    const known = MANAGEMENT_FLAGS.removeWithMdmProfile | MANAGEMENT_FLAGS.preventBackup;
    if (!Number.isInteger(input.managementFlags) || input.managementFlags < 0 || (input.managementFlags & ~known) !== 0) {
      invalidArgument(`${what}: ManagementFlags must combine only 1 and 4 (got ${input.managementFlags})`, 'ManagementFlags');
    }
    // 0 means "no flags", which is what omitting the key says; Apple's rangelist has no 0
    if (input.managementFlags !== 0) fields.ManagementFlags = input.managementFlags;
  }
  if (input.purchaseMethod !== undefined) fields.Options = { PurchaseMethod: input.purchaseMethod };
  if (input.configuration !== undefined) fields.Configuration = input.configuration;
  fields.Attributes = attributesDict(what, input.attributes, input.vpnUuid);
  if (input.changeManagementState !== undefined) {
    if (input.changeManagementState !== 'Managed')
      invalidArgument(`${what}: ChangeManagementState can only be "Managed"`, 'ChangeManagementState');
    fields.ChangeManagementState = input.changeManagementState;
  }
  return makeCommand('InstallApplication', fields, input);
}

export function removeApplicationCommand(input: { identifier: string } & CommandOptions): MdmCommand<'RemoveApplication'> {
  return makeCommand('RemoveApplication', { Identifier: nonEmpty(input.identifier, 'RemoveApplication', 'Identifier') }, input);
}

export function installedApplicationListCommand(
  input: { identifiers?: string[]; managedAppsOnly?: boolean; items?: string[] } & CommandOptions = {},
): MdmCommand<'InstalledApplicationList'> {
  const what = 'InstalledApplicationList';
  return makeCommand(
    what,
    {
      Identifiers: input.identifiers && nonEmptyList(input.identifiers, what, 'Identifiers'),
      ManagedAppsOnly: input.managedAppsOnly,
      Items: input.items && nonEmptyList(input.items, what, 'Items'),
    },
    input,
  );
}

export function managedApplicationListCommand(
  input: { identifiers?: string[] } & CommandOptions = {},
): MdmCommand<'ManagedApplicationList'> {
  const what = 'ManagedApplicationList';
  return makeCommand(what, { Identifiers: input.identifiers && nonEmptyList(input.identifiers, what, 'Identifiers') }, input);
}

/** Reads the per-app VPN (and other) attributes of managed apps. */
export function managedApplicationAttributesCommand(
  input: { identifiers: string[] } & CommandOptions,
): MdmCommand<'ManagedApplicationAttributes'> {
  const what = 'ManagedApplicationAttributes';
  const identifiers = nonEmptyList(input.identifiers, what, 'Identifiers');
  if (identifiers.length === 0) invalidArgument(`${what}: Identifiers must name at least one app`, 'Identifiers');
  return makeCommand(what, { Identifiers: identifiers }, input);
}

// ---------------------------------------------------------------------------------------------
// Settings

/** One element of Settings' Settings array; `Item` names the setting. */
export type SettingsItem = PlistDict & { Item: string };

/** Rebinds an installed managed app, e.g. to another per-app VPN (or to none with `{}`). */
export function applicationAttributesSetting(input: { identifier: string; attributes: ApplicationAttributes }): SettingsItem {
  const identifier = nonEmpty(input.identifier, 'Settings', 'ApplicationAttributes.Identifier');
  return { Item: 'ApplicationAttributes', Identifier: identifier, Attributes: { ...(input.attributes as PlistDict) } };
}

export function settingsCommand(input: { settings: SettingsItem[] } & CommandOptions): MdmCommand<'Settings'> {
  if (!Array.isArray(input.settings) || input.settings.length === 0) invalidArgument('Settings: give at least one setting', 'Settings');
  input.settings.forEach((item, i) => {
    if (!isPlistDict(item)) invalidArgument(`Settings: Settings[${i}] must be a dictionary`, `Settings[${i}]`);
    nonEmpty(item.Item, 'Settings', `Settings[${i}].Item`);
    if (item.Item === 'ApplicationAttributes') {
      nonEmpty(item.Identifier as string, 'Settings', `Settings[${i}].Identifier`);
      if (item.Attributes !== undefined && !isPlistDict(item.Attributes)) {
        invalidArgument(`Settings: Settings[${i}].Attributes must be a dictionary`, `Settings[${i}].Attributes`);
      }
    }
  });
  return makeCommand('Settings', { Settings: input.settings }, input);
}

/** A Settings item that turns an on/off setting such as VoiceRoaming, DataRoaming or PersonalHotspot on or off. */
export function enabledSetting(item: 'VoiceRoaming' | 'DataRoaming' | 'PersonalHotspot', enabled: boolean): SettingsItem {
  return { Item: item, Enabled: enabled };
}

/** How ScheduleOSUpdate applies an update (Apple's InstallAction values). */
export type OsUpdateInstallAction = 'Default' | 'DownloadOnly' | 'InstallASAP' | 'NotifyOnly' | 'InstallLater' | 'InstallForceRestart';

/** One update to schedule; without a ProductKey the device takes the update it is offered. */
export function scheduleOsUpdateCommand(
  input: { installAction?: OsUpdateInstallAction; productKey?: string; productVersion?: string } & CommandOptions = {},
): MdmCommand<'ScheduleOSUpdate'> {
  const update: PlistDict = { InstallAction: input.installAction ?? 'Default' };
  if (input.productKey !== undefined) update.ProductKey = nonEmpty(input.productKey, 'ScheduleOSUpdate', 'ProductKey');
  if (input.productVersion !== undefined) update.ProductVersion = nonEmpty(input.productVersion, 'ScheduleOSUpdate', 'ProductVersion');
  return makeCommand('ScheduleOSUpdate', { Updates: [update] }, input);
}

// ---------------------------------------------------------------------------------------------
// Information

/** What the server records about a device; every query here is available on iOS and macOS. */
export const DEFAULT_DEVICE_INFORMATION_QUERIES: readonly string[] = [
  'UDID',
  'DeviceName',
  'OSVersion',
  'BuildVersion',
  'ModelName',
  'Model',
  'ProductName',
  'SerialNumber',
  'IMEI',
  'MEID',
  'ICCID',
  'PhoneNumber',
  'DeviceCapacity',
  'AvailableDeviceCapacity',
  'BatteryLevel',
  'WiFiMAC',
  'BluetoothMAC',
  'IsSupervised',
  'IsActivationLockEnabled',
  'IsDeviceLocatorServiceEnabled',
  'IsRoaming',
  'AwaitingConfiguration',
];

export function deviceInformationCommand(input: { queries?: readonly string[] } & CommandOptions = {}): MdmCommand<'DeviceInformation'> {
  const queries = nonEmptyList(input.queries ?? DEFAULT_DEVICE_INFORMATION_QUERIES, 'DeviceInformation', 'Queries');
  if (queries.length === 0) invalidArgument('DeviceInformation: Queries must not be empty', 'Queries');
  return makeCommand('DeviceInformation', { Queries: queries }, input);
}

export function securityInfoCommand(input: CommandOptions = {}): MdmCommand<'SecurityInfo'> {
  return makeCommand('SecurityInfo', {}, input);
}

// ---------------------------------------------------------------------------------------------
// Device actions

function sixCharacterPin(what: string, pin: string | undefined): string | undefined {
  if (pin !== undefined && [...pin].length !== 6) invalidArgument(`${what}: PIN must be six characters (Find My PIN, macOS)`, 'PIN');
  return pin;
}

/** Message and PhoneNumber show on the lock screen; PIN is macOS-only. */
export function deviceLockCommand(
  input: { message?: string; phoneNumber?: string; pin?: string } & CommandOptions = {},
): MdmCommand<'DeviceLock'> {
  return makeCommand(
    'DeviceLock',
    { Message: input.message, PhoneNumber: input.phoneNumber, PIN: sixCharacterPin('DeviceLock', input.pin) },
    input,
  );
}

export function eraseDeviceCommand(
  input: { pin?: string; preserveDataPlan?: boolean; disallowProximitySetup?: boolean } & CommandOptions = {},
): MdmCommand<'EraseDevice'> {
  return makeCommand(
    'EraseDevice',
    {
      PIN: sixCharacterPin('EraseDevice', input.pin),
      PreserveDataPlan: input.preserveDataPlan,
      DisallowProximitySetup: input.disallowProximitySetup,
    },
    input,
  );
}

/** Removes the passcode (UNLOCK_DEVICE_ONLY) using the UnlockToken from the device's TokenUpdate. */
export function clearPasscodeCommand(input: { unlockToken: Uint8Array } & CommandOptions): MdmCommand<'ClearPasscode'> {
  if (!(input.unlockToken instanceof Uint8Array) || input.unlockToken.byteLength === 0) {
    invalidArgument('ClearPasscode: unlockToken must be the non-empty UnlockToken from TokenUpdate', 'UnlockToken');
  }
  return makeCommand('ClearPasscode', { UnlockToken: input.unlockToken }, input);
}

// ---------------------------------------------------------------------------------------------
// Anything else

export interface RawCommand<R extends string = string> {
  command: MdmCommand<R>;
  /** False when RequestType is not in COMMAND_SCHEMAS: allowed, but nothing was checked. */
  known: boolean;
  /** Unknown RequestType, undocumented keys. */
  warnings: string[];
}

/**
 * Any command by RequestType and Apple-named fields. Known RequestTypes are checked for required
 * keys and key types (MdmCommandError INVALID_COMMAND on failure); unknown ones pass, flagged.
 */
export function rawCommand<R extends string>(requestType: R, fields: PlistDict = {}, options: CommandOptions = {}): RawCommand<R> {
  nonEmpty(requestType, 'command', 'RequestType');
  if (!isPlistDict(fields)) invalidArgument(`${requestType}: fields must be a dictionary`);
  if (fields.RequestType !== undefined && fields.RequestType !== requestType) {
    invalidArgument(`${requestType}: fields.RequestType says "${String(fields.RequestType)}"`, 'RequestType');
  }
  const command = makeCommand(requestType, fields, options);
  const { known, warnings } = validateCommandFields(requestType, command.Command);
  return { command, known, warnings };
}

// ---------------------------------------------------------------------------------------------
// Reading commands (the simulator's side of /mdm/connect)

export interface DecodedCommand {
  commandUuid: string;
  requestType: string;
  /** The Command dictionary, RequestType included. */
  command: PlistDict;
}

/** Decodes a command plist as a device receives it. Throws only MdmProtocolError. */
export function decodeCommand(body: Uint8Array | string): DecodedCommand {
  const dict = decodePlistDict(body, 'command');
  const command = requiredDict(dict, 'Command', 'command');
  const requestType = requiredString(command, 'RequestType', 'command', 'Command');
  return { commandUuid: requiredString(dict, 'CommandUUID', 'command'), requestType, command };
}

// Command results (PUT /mdm/connect). decodeCommandResult reads the envelope every result shares
// (Status, CommandUUID, UDID, ErrorChain); parseResultPayload turns the payload of the commands we
// act on into plain objects, dispatching on RequestType through RESULT_PAYLOAD_PARSERS.
// Devices rarely echo RequestType (see the fixtures), so the caller passes the type of the command
// it queued under that CommandUUID; failing that, the payload's top-level key identifies it.

import type { PlistDict, PlistLimits, PlistValue } from '../plist/index.js';
import { detectChannel, userChannelIdentity, type MdmChannel, type UserChannelIdentity } from './checkin.js';
import { MdmProtocolError } from './errors.js';
import {
  decodePlistDict,
  dropUndefined,
  dictItems,
  expectDict,
  fieldPath,
  optionalArray,
  optionalBoolean,
  optionalDate,
  optionalDict,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringArray,
  requiredArray,
  requiredDict,
  requiredString,
} from './fields.js';

export const COMMAND_STATUSES = ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface ErrorChainItem {
  errorCode: number;
  errorDomain: string;
  localizedDescription?: string;
  usEnglishDescription?: string;
}

export interface CommandResult {
  status: CommandStatus;
  /** Absent only for Idle ("anything for me?"), which answers no command. */
  commandUuid?: string;
  udid: string;
  /** Echoed by some OS versions only. */
  requestType?: string;
  /** Empty unless the device reported errors (Status Error, sometimes Acknowledged too). */
  errorChain: ErrorChainItem[];
  channel: MdmChannel;
  user?: UserChannelIdentity;
  enrollmentId?: string;
  raw: PlistDict;
}

function readErrorChain(dict: PlistDict): ErrorChainItem[] {
  const items = optionalArray(dict, 'ErrorChain');
  if (!items) return [];
  return dictItems(items, 'ErrorChain').map(({ item, path }) =>
    dropUndefined({
      // Both are always sent; a missing code is reported rather than invented
      errorCode: requiredInteger(item, 'ErrorCode', 'ErrorChain', path),
      errorDomain: requiredString(item, 'ErrorDomain', 'ErrorChain', path),
      localizedDescription: optionalString(item, 'LocalizedDescription', path),
      usEnglishDescription: optionalString(item, 'USEnglishDescription', path),
    }),
  );
}

function requiredInteger(dict: PlistDict, key: string, what: string, path: string): number {
  const value = optionalInteger(dict, key, path);
  if (value === undefined) throw new MdmProtocolError('MISSING_FIELD', `${what}: ${fieldPath(path, key)} is missing`, fieldPath(path, key));
  return value;
}

/** Decodes an already-parsed result dictionary. Throws only MdmProtocolError. */
export function decodeCommandResultDict(dict: PlistDict): CommandResult {
  const statusValue = requiredString(dict, 'Status', 'command result');
  if (!(COMMAND_STATUSES as readonly string[]).includes(statusValue)) {
    throw new MdmProtocolError('INVALID_FIELD', `command result: unknown Status "${statusValue}"`, 'Status');
  }
  const status = statusValue as CommandStatus;
  return dropUndefined<CommandResult>({
    status,
    commandUuid: status === 'Idle' ? optionalString(dict, 'CommandUUID') : requiredString(dict, 'CommandUUID', `${status} result`),
    udid: requiredString(dict, 'UDID', 'command result'),
    requestType: optionalString(dict, 'RequestType'),
    errorChain: readErrorChain(dict),
    channel: detectChannel(dict),
    user: userChannelIdentity(dict),
    enrollmentId: optionalString(dict, 'EnrollmentID'),
    raw: dict,
  });
}

/** Decodes a /mdm/connect request body (XML or binary plist) within `limits`. Throws only MdmProtocolError. */
export function decodeCommandResult(body: Uint8Array | string, limits?: PlistLimits): CommandResult {
  return decodeCommandResultDict(decodePlistDict(body, 'command result', limits));
}

/** What an entry costs beyond its body and its decoded copy (map entry, objects, the key). */
const IDLE_ENTRY_OVERHEAD_BYTES = 512;

/**
 * decodeCommandResult, remembering each device's small Idle poll. A device sends the same Idle
 * body, byte for byte, on every poll, and polls are most of an MDM server's traffic: parsing
 * the XML again was a fifth of the server's time per poll. Callers pass an authenticated key
 * (the device's certificate), so only devices that proved who they are can fill it: one entry
 * per device, and all entries together within `maxBytes` (least recently used dropped first).
 * Results are frozen because they are shared.
 */
export class IdlePollDecoder {
  private readonly cache = new Map<string, { body: Buffer; result: CommandResult; cost: number }>();
  private totalBytes = 0;

  constructor(
    private readonly maxBytes = 16 * 1024 * 1024,
    private readonly maxBodyBytes = 1024,
  ) {}

  decode(deviceKey: string, body: Uint8Array, limits?: PlistLimits): CommandResult {
    if (body.length > this.maxBodyBytes) return decodeCommandResult(body, limits);
    const hit = this.cache.get(deviceKey);
    if (hit && hit.body.equals(body)) {
      // Most recently used goes last, so eviction takes the devices that stopped polling
      this.cache.delete(deviceKey);
      this.cache.set(deviceKey, hit);
      return hit.result;
    }
    const result = decodeCommandResult(body, limits);
    if (result.status === 'Idle') {
      this.forget(deviceKey);
      // A copy: the caller's buffer may be a slice of a larger one it reuses
      const entry = {
        body: Buffer.from(body),
        result: deepFreeze(result),
        cost: 2 * body.length + deviceKey.length + IDLE_ENTRY_OVERHEAD_BYTES,
      };
      this.cache.set(deviceKey, entry);
      this.totalBytes += entry.cost;
      while (this.totalBytes > this.maxBytes) this.forget(this.cache.keys().next().value!);
    }
    return result;
  }

  /** Drops a device's entry (e.g. its certificate was revoked). */
  forget(deviceKey: string): void {
    const entry = this.cache.get(deviceKey);
    if (!entry) return;
    this.cache.delete(deviceKey);
    this.totalBytes -= entry.cost;
  }

  get size(): number {
    return this.cache.size;
  }

  /** What the entries are accounted at, in bytes (never above maxBytes). */
  get bytes(): number {
    return this.totalBytes;
  }
}

function deepFreeze<T>(value: T): T {
  // Typed arrays cannot be frozen; nothing in the server writes into result data anyway.
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Payloads

export interface DeviceInformation {
  udid?: string;
  deviceName?: string;
  osVersion?: string;
  buildVersion?: string;
  /** e.g. "MD786X" (iOS) or "iMac14,2" (macOS). */
  model?: string;
  /** e.g. "iPad". */
  modelName?: string;
  /** Hardware id such as "iPad4,1". */
  productName?: string;
  serialNumber?: string;
  imei?: string;
  meid?: string;
  iccid?: string;
  phoneNumber?: string;
  /** GB, as the device reports it. */
  deviceCapacity?: number;
  availableDeviceCapacity?: number;
  /** 0..1. */
  batteryLevel?: number;
  wifiMac?: string;
  bluetoothMac?: string;
  isSupervised?: boolean;
  isActivationLockEnabled?: boolean;
  isDeviceLocatorServiceEnabled?: boolean;
  isRoaming?: boolean;
  awaitingConfiguration?: boolean;
  lastCloudBackupDate?: Date;
  /** Every QueryResponses key, including the ones not modelled above. */
  queryResponses: PlistDict;
}

export function parseDeviceInformation(result: PlistDict): DeviceInformation {
  const q = requiredDict(result, 'QueryResponses', 'DeviceInformation result');
  const p = 'QueryResponses';
  return dropUndefined<DeviceInformation>({
    udid: optionalString(q, 'UDID', p),
    deviceName: optionalString(q, 'DeviceName', p),
    osVersion: optionalString(q, 'OSVersion', p),
    buildVersion: optionalString(q, 'BuildVersion', p),
    model: optionalString(q, 'Model', p),
    modelName: optionalString(q, 'ModelName', p),
    productName: optionalString(q, 'ProductName', p),
    serialNumber: optionalString(q, 'SerialNumber', p),
    imei: optionalString(q, 'IMEI', p),
    meid: optionalString(q, 'MEID', p),
    iccid: optionalString(q, 'ICCID', p),
    phoneNumber: optionalString(q, 'PhoneNumber', p),
    deviceCapacity: optionalNumber(q, 'DeviceCapacity', p),
    availableDeviceCapacity: optionalNumber(q, 'AvailableDeviceCapacity', p),
    batteryLevel: optionalNumber(q, 'BatteryLevel', p),
    wifiMac: optionalString(q, 'WiFiMAC', p),
    bluetoothMac: optionalString(q, 'BluetoothMAC', p),
    isSupervised: optionalBoolean(q, 'IsSupervised', p),
    isActivationLockEnabled: optionalBoolean(q, 'IsActivationLockEnabled', p),
    isDeviceLocatorServiceEnabled: optionalBoolean(q, 'IsDeviceLocatorServiceEnabled', p),
    isRoaming: optionalBoolean(q, 'IsRoaming', p),
    awaitingConfiguration: optionalBoolean(q, 'AwaitingConfiguration', p),
    lastCloudBackupDate: optionalDate(q, 'LastCloudBackupDate', p),
    queryResponses: q,
  });
}

export interface ProfilePayloadSummary {
  payloadType: string;
  identifier: string;
  /** Apple documents it as required, but iOS 11 omits it from ProfileList. */
  uuid?: string;
  displayName?: string;
  description?: string;
  version?: number;
}

export interface InstalledProfile {
  identifier: string;
  uuid: string;
  displayName?: string;
  description?: string;
  organization?: string;
  version?: number;
  /** Installed by this MDM (iOS 11+; older devices omit it). */
  isManaged?: boolean;
  isEncrypted?: boolean;
  hasRemovalPasscode?: boolean;
  removalDisallowed?: boolean;
  payloads: ProfilePayloadSummary[];
}

export interface ProfileListResult {
  profiles: InstalledProfile[];
}

export function parseProfileList(result: PlistDict): ProfileListResult {
  const items = requiredArray(result, 'ProfileList', 'ProfileList result');
  return {
    profiles: dictItems(items, 'ProfileList').map(({ item, path }) =>
      dropUndefined<InstalledProfile>({
        identifier: requiredString(item, 'PayloadIdentifier', 'ProfileList', path),
        uuid: requiredString(item, 'PayloadUUID', 'ProfileList', path),
        displayName: optionalString(item, 'PayloadDisplayName', path),
        description: optionalString(item, 'PayloadDescription', path),
        organization: optionalString(item, 'PayloadOrganization', path),
        version: optionalInteger(item, 'PayloadVersion', path),
        isManaged: optionalBoolean(item, 'IsManaged', path),
        isEncrypted: optionalBoolean(item, 'IsEncrypted', path),
        hasRemovalPasscode: optionalBoolean(item, 'HasRemovalPasscode', path),
        removalDisallowed: optionalBoolean(item, 'PayloadRemovalDisallowed', path),
        payloads: dictItems(optionalArray(item, 'PayloadContent', path) ?? [], fieldPath(path, 'PayloadContent')).map(
          ({ item: payload, path: payloadPath }) =>
            dropUndefined<ProfilePayloadSummary>({
              payloadType: requiredString(payload, 'PayloadType', 'ProfileList', payloadPath),
              identifier: requiredString(payload, 'PayloadIdentifier', 'ProfileList', payloadPath),
              uuid: optionalString(payload, 'PayloadUUID', payloadPath),
              displayName: optionalString(payload, 'PayloadDisplayName', payloadPath),
              description: optionalString(payload, 'PayloadDescription', payloadPath),
              version: optionalInteger(payload, 'PayloadVersion', payloadPath),
            }),
        ),
      }),
    ),
  };
}

export interface InstalledApplication {
  /** Bundle id; macOS leaves it out for some bundles (installers, helpers). */
  identifier?: string;
  name?: string;
  version?: string;
  shortVersion?: string;
  bundleSize?: number;
  dynamicSize?: number;
  externalVersionIdentifier?: number;
  isValidated?: boolean;
  installing?: boolean;
  appStoreVendable?: boolean;
  deviceBasedVpp?: boolean;
  betaApp?: boolean;
  adHocCodeSigned?: boolean;
  hasUpdateAvailable?: boolean;
}

export interface InstalledApplicationListResult {
  applications: InstalledApplication[];
}

export function parseInstalledApplicationList(result: PlistDict): InstalledApplicationListResult {
  const items = requiredArray(result, 'InstalledApplicationList', 'InstalledApplicationList result');
  return {
    applications: dictItems(items, 'InstalledApplicationList').map(({ item, path }) =>
      dropUndefined<InstalledApplication>({
        identifier: optionalString(item, 'Identifier', path),
        name: optionalString(item, 'Name', path),
        version: optionalString(item, 'Version', path),
        shortVersion: optionalString(item, 'ShortVersion', path),
        bundleSize: optionalInteger(item, 'BundleSize', path),
        dynamicSize: optionalInteger(item, 'DynamicSize', path),
        externalVersionIdentifier: optionalInteger(item, 'ExternalVersionIdentifier', path),
        isValidated: optionalBoolean(item, 'IsValidated', path),
        installing: optionalBoolean(item, 'Installing', path),
        appStoreVendable: optionalBoolean(item, 'AppStoreVendable', path),
        deviceBasedVpp: optionalBoolean(item, 'DeviceBasedVPP', path),
        betaApp: optionalBoolean(item, 'BetaApp', path),
        adHocCodeSigned: optionalBoolean(item, 'AdHocCodeSigned', path),
        hasUpdateAvailable: optionalBoolean(item, 'HasUpdateAvailable', path),
      }),
    ),
  };
}

/** Values of ManagedApplicationList's Status (Apple's rangelist); devices may add more. */
export type ManagedApplicationStatus =
  | 'Queued'
  | 'NeedsRedemption'
  | 'Redeeming'
  | 'Prompting'
  | 'PromptingForLogin'
  | 'ValidatingPurchase'
  | 'PromptingForUpdate'
  | 'PromptingForUpdateLogin'
  | 'PromptingForManagement'
  | 'ValidatingUpdate'
  | 'Updating'
  | 'Installing'
  | 'Managed'
  | 'ManagedButUninstalled'
  | 'Unknown'
  | 'UserInstalledApp'
  | 'UserRejected'
  | 'UpdateRejected'
  | 'ManagementRejected'
  | 'Failed'
  | (string & {});

export interface ManagedApplicationState {
  status: ManagedApplicationStatus;
  /** Bitmask: 1 remove with the MDM profile, 4 prevent backup. */
  managementFlags?: number;
  hasConfiguration?: boolean;
  hasFeedback?: boolean;
  isValidated?: boolean;
  externalVersionIdentifier?: number;
  unusedRedemptionCode?: string;
}

export interface ManagedApplicationListResult {
  /** Keyed by bundle id. */
  applications: Record<string, ManagedApplicationState>;
}

export function parseManagedApplicationList(result: PlistDict): ManagedApplicationListResult {
  const byId = requiredDict(result, 'ManagedApplicationList', 'ManagedApplicationList result');
  const entries = Object.entries(byId).map(([bundleId, value]): [string, ManagedApplicationState] => {
    const path = `ManagedApplicationList.${bundleId}`;
    const item = expectDict(value as PlistValue, path);
    return [
      bundleId,
      dropUndefined<ManagedApplicationState>({
        // Apple lists the rest as required too, but only Status is needed to act on an app
        status: requiredString(item, 'Status', 'ManagedApplicationList', path),
        managementFlags: optionalInteger(item, 'ManagementFlags', path),
        hasConfiguration: optionalBoolean(item, 'HasConfiguration', path),
        hasFeedback: optionalBoolean(item, 'HasFeedback', path),
        isValidated: optionalBoolean(item, 'IsValidated', path),
        externalVersionIdentifier: optionalInteger(item, 'ExternalVersionIdentifier', path),
        unusedRedemptionCode: optionalString(item, 'UnusedRedemptionCode', path),
      }),
    ];
  });
  return { applications: Object.fromEntries(entries) };
}

export interface ManagedApplicationAttributeValues {
  /** The per-app VPN the app is bound to (the VPN payload's VPNUUID). */
  vpnUuid?: string;
  contentFilterUuid?: string;
  dnsProxyUuid?: string;
  relayUuid?: string;
  cellularSliceUuid?: string;
  associatedDomains?: string[];
  associatedDomainsEnableDirectDownloads?: boolean;
  removable?: boolean;
  /** The Attributes dictionary as sent. */
  attributes: PlistDict;
}

export interface ManagedApplicationAttributesResult {
  /** Keyed by bundle id. */
  applications: Record<string, ManagedApplicationAttributeValues>;
}

export function parseManagedApplicationAttributes(result: PlistDict): ManagedApplicationAttributesResult {
  const items = requiredArray(result, 'ApplicationAttributes', 'ManagedApplicationAttributes result');
  const entries = dictItems(items, 'ApplicationAttributes').map(({ item, path }): [string, ManagedApplicationAttributeValues] => {
    const identifier = requiredString(item, 'Identifier', 'ManagedApplicationAttributes', path);
    const attributes = optionalDict(item, 'Attributes', path) ?? {};
    const a = fieldPath(path, 'Attributes');
    return [
      identifier,
      dropUndefined<ManagedApplicationAttributeValues>({
        vpnUuid: optionalString(attributes, 'VPNUUID', a),
        contentFilterUuid: optionalString(attributes, 'ContentFilterUUID', a),
        dnsProxyUuid: optionalString(attributes, 'DNSProxyUUID', a),
        relayUuid: optionalString(attributes, 'RelayUUID', a),
        cellularSliceUuid: optionalString(attributes, 'CellularSliceUUID', a),
        associatedDomains: optionalStringArray(attributes, 'AssociatedDomains', a),
        associatedDomainsEnableDirectDownloads: optionalBoolean(attributes, 'AssociatedDomainsEnableDirectDownloads', a),
        removable: optionalBoolean(attributes, 'Removable', a),
        attributes,
      }),
    ];
  });
  return { applications: Object.fromEntries(entries) };
}

export interface SecurityInfo {
  /** Bitmask: 1 block-level, 2 file-level encryption. iOS only. */
  hardwareEncryptionCaps?: number;
  blockLevelEncryption?: boolean;
  /** File-level encryption is what Data Protection needs (with a passcode). */
  fileLevelEncryption?: boolean;
  passcodePresent?: boolean;
  passcodeCompliant?: boolean;
  passcodeCompliantWithProfiles?: boolean;
  passcodeLockGracePeriod?: number;
  passcodeLockGracePeriodEnforced?: number;
  autoLockTime?: number;
  /** macOS FileVault. */
  fdeEnabled?: boolean;
  systemIntegrityProtectionEnabled?: boolean;
  enrolledViaDep?: boolean;
  userApprovedEnrollment?: boolean;
  isUserEnrollment?: boolean;
  /** The SecurityInfo dictionary as sent. */
  securityInfo: PlistDict;
}

export function parseSecurityInfo(result: PlistDict): SecurityInfo {
  const s = requiredDict(result, 'SecurityInfo', 'SecurityInfo result');
  const p = 'SecurityInfo';
  const caps = optionalInteger(s, 'HardwareEncryptionCaps', p);
  const management = optionalDict(s, 'ManagementStatus', p) ?? {};
  const m = fieldPath(p, 'ManagementStatus');
  return dropUndefined<SecurityInfo>({
    hardwareEncryptionCaps: caps,
    blockLevelEncryption: caps === undefined ? undefined : (caps & 1) !== 0,
    fileLevelEncryption: caps === undefined ? undefined : (caps & 2) !== 0,
    passcodePresent: optionalBoolean(s, 'PasscodePresent', p),
    passcodeCompliant: optionalBoolean(s, 'PasscodeCompliant', p),
    passcodeCompliantWithProfiles: optionalBoolean(s, 'PasscodeCompliantWithProfiles', p),
    passcodeLockGracePeriod: optionalInteger(s, 'PasscodeLockGracePeriod', p),
    passcodeLockGracePeriodEnforced: optionalInteger(s, 'PasscodeLockGracePeriodEnforced', p),
    autoLockTime: optionalInteger(s, 'AutoLockTime', p),
    fdeEnabled: optionalBoolean(s, 'FDE_Enabled', p),
    systemIntegrityProtectionEnabled: optionalBoolean(s, 'SystemIntegrityProtectionEnabled', p),
    enrolledViaDep: optionalBoolean(management, 'EnrolledViaDEP', m),
    userApprovedEnrollment: optionalBoolean(management, 'UserApprovedEnrollment', m),
    isUserEnrollment: optionalBoolean(management, 'IsUserEnrollment', m),
    securityInfo: s,
  });
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/** Result payload per RequestType; extend here and in RESULT_PAYLOAD_PARSERS together. */
export interface ResultPayloads {
  DeviceInformation: DeviceInformation;
  ProfileList: ProfileListResult;
  InstalledApplicationList: InstalledApplicationListResult;
  ManagedApplicationList: ManagedApplicationListResult;
  ManagedApplicationAttributes: ManagedApplicationAttributesResult;
  SecurityInfo: SecurityInfo;
}

export type ParsedRequestType = keyof ResultPayloads;

export type ResultPayload = { [K in ParsedRequestType]: { requestType: K; data: ResultPayloads[K] } }[ParsedRequestType];

interface ResultPayloadParser<K extends ParsedRequestType> {
  /** The top-level key carrying this payload, used to recognise results without RequestType. */
  responseKey: string;
  parse: (result: PlistDict) => ResultPayloads[K];
}

export const RESULT_PAYLOAD_PARSERS: { readonly [K in ParsedRequestType]: ResultPayloadParser<K> } = {
  DeviceInformation: { responseKey: 'QueryResponses', parse: parseDeviceInformation },
  ProfileList: { responseKey: 'ProfileList', parse: parseProfileList },
  InstalledApplicationList: { responseKey: 'InstalledApplicationList', parse: parseInstalledApplicationList },
  ManagedApplicationList: { responseKey: 'ManagedApplicationList', parse: parseManagedApplicationList },
  ManagedApplicationAttributes: { responseKey: 'ApplicationAttributes', parse: parseManagedApplicationAttributes },
  SecurityInfo: { responseKey: 'SecurityInfo', parse: parseSecurityInfo },
};

function isParsedRequestType(requestType: string): requestType is ParsedRequestType {
  return Object.hasOwn(RESULT_PAYLOAD_PARSERS, requestType);
}

/**
 * The RequestType a result answers: the caller's (from its command queue) first, then the
 * device's echo, then the payload key. Undefined when none of these tells.
 */
export function resultRequestType(result: CommandResult, queuedRequestType?: string): string | undefined {
  if (queuedRequestType) return queuedRequestType;
  if (result.requestType) return result.requestType;
  for (const [requestType, parser] of Object.entries(RESULT_PAYLOAD_PARSERS)) {
    if (result.raw[parser.responseKey] !== undefined) return requestType;
  }
  return undefined;
}

/**
 * The typed payload of an Acknowledged result for the request types in RESULT_PAYLOAD_PARSERS;
 * undefined for other types, other statuses, or when the type cannot be told. Throws
 * MdmProtocolError when the payload is malformed.
 */
export function parseResultPayload(result: CommandResult, queuedRequestType?: string): ResultPayload | undefined {
  if (result.status !== 'Acknowledged') return undefined;
  const requestType = resultRequestType(result, queuedRequestType);
  if (requestType === undefined || !isParsedRequestType(requestType)) return undefined;
  const parser = RESULT_PAYLOAD_PARSERS[requestType] as ResultPayloadParser<typeof requestType>;
  return { requestType, data: parser.parse(result.raw) } as ResultPayload;
}

// How a virtual device answers the commands an MDM server sends, the way iOS does: the result
// dictionary (Status, ErrorChain, the payload under Apple's key names) plus the change to the
// device's state. Pure apart from the clock: the network side (SCEP for a profile's identity
// payloads) is behind CommandContext.identities, which device.ts provides.

import { createHash, X509Certificate } from 'node:crypto';
import { decodeCommand, MdmProtocolError, validateCommandFields, type DecodedCommand } from '../lib/mdm-protocol/index.js';
import { detectPlistFormat, isPlistDict, parsePlist, PlistReal, toXmlPlist, type PlistDict, type PlistValue } from '../lib/plist/index.js';
import { CmsVerifyError, verifyCms } from '../lib/pki/cms.js';
import type { SeededRandom } from './random.js';
import type { DeviceState, InstalledAppState, InstalledProfileState, ProfileIdentityState, ProfilePayloadState } from './state.js';

export interface ErrorChainEntry extends PlistDict {
  ErrorCode: number;
  ErrorDomain: string;
  LocalizedDescription: string;
  USEnglishDescription: string;
}

export type ResultStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';

/** What happens to the device once its answer has been delivered. */
export type AfterAnswer = 'erase' | 'unenroll';

export interface CommandResponse {
  commandUuid: string;
  /** "(unreadable)" when the command could not be decoded. */
  requestType: string;
  status: ResultStatus;
  /** The result dictionary, UDID and CommandUUID included. */
  result: PlistDict;
  /** The XML plist the device PUTs to /mdm/connect. */
  body: Buffer;
  after?: AfterAnswer;
}

/** A command the device cannot answer at all (no readable CommandUUID): iOS drops these. */
export class UnanswerableCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnanswerableCommandError';
  }
}

/** Why an identity payload gave no identity; each maps to the ErrorChain entry iOS reports. */
export type IdentityProblem =
  | 'payload'
  | 'keysize'
  | 'key-usage'
  | 'network'
  | 'ca-response'
  | 'ca-fingerprint'
  | 'refused'
  | 'pki-response'
  | 'certificate'
  | 'pkcs12-password'
  | 'pkcs12-malformed'
  | 'pkcs12-no-identity';

export type IdentityAttempt =
  | { ok: true; source: 'scep' | 'pkcs12'; privateKeyPem: string; certificatePem: string }
  | { ok: false; problem: IdentityProblem; reason: string };

/** Obtains the identity a com.apple.security.scep or com.apple.security.pkcs12 payload describes. */
export interface IdentityProvisioner {
  obtain(payload: PlistDict): Promise<IdentityAttempt>;
}

export interface CommandContext {
  /** Share (0..1) of deferrable commands answered NotNow, as a locked device does. */
  notNowRate: number;
  random: SeededRandom;
  now?: () => Date;
  /** For InstallProfile with identity payloads; without it such a profile fails as on a device with no network. */
  identities?: IdentityProvisioner;
}

function errorEntry(code: number, domain: string, description: string): ErrorChainEntry {
  return { ErrorCode: code, ErrorDomain: domain, LocalizedDescription: description, USEnglishDescription: description };
}

// Error codes and domains as iOS reports them (MCMDMErrorDomain 12013 and 12021 are taken from
// real device answers; the profile ones follow MCProfileErrorDomain's numbering).
const ERRORS = {
  profileInstallFailed: (name: string) => errorEntry(4001, 'MCInstallationErrorDomain', `Profile “${name}” could not be installed.`),
  malformedProfile: (why: string) => errorEntry(1000, 'MCProfileErrorDomain', `The profile is not properly formatted: ${why}`),
  badSignature: (why: string) => errorEntry(1004, 'MCProfileErrorDomain', `The profile signature could not be verified: ${why}`),
  untrusted: (why: string) => errorEntry(1013, 'MCProfileErrorDomain', `The profile is signed by an untrusted certificate: ${why}`),
  profileNotManaged: (id: string) => errorEntry(12013, 'MCMDMErrorDomain', `The profile “${id}” is not managed by MDM.`),
  invalidRequestType: (type: string) => errorEntry(12021, 'MCMDMErrorDomain', `“${type}” is not a valid request type.`),
  appNotManaged: (id: string) => errorEntry(12029, 'MCMDMErrorDomain', `The app “${id}” is not managed.`),
  unknownSetting: (item: string) => errorEntry(12066, 'MCMDMErrorDomain', `The setting “${item}” is not supported.`),
  // Apple's MDM protocol reference, "Error Codes": MCPayloadErrorDomain 2000, MCVPNErrorDomain 15003,
  // MCCertificateErrorDomain 9000/9005/9006, MCSCEPErrorDomain 22000..22013
  malformedPayload: (why: string) => errorEntry(2000, 'MCPayloadErrorDomain', `The payload is not properly formatted: ${why}`),
  vpnCertificate: (why: string) => errorEntry(15003, 'MCVPNErrorDomain', `The VPN certificate is invalid: ${why}`),
  tooManyIdentities: (max: number) => errorEntry(9001, 'MCCertificateErrorDomain', `The profile has more than ${max} identity payloads.`),
} as const;

/** The ErrorChain entry for an identity that could not be obtained, as iOS reports each cause. */
const IDENTITY_ERRORS: Readonly<Record<IdentityProblem, [code: number, domain: string, what: string]>> = {
  payload: [2000, 'MCPayloadErrorDomain', 'The payload is not properly formatted'],
  keysize: [22001, 'MCSCEPErrorDomain', 'Cannot generate the key pair'],
  'key-usage': [22000, 'MCSCEPErrorDomain', 'Invalid key usage'],
  network: [22005, 'MCSCEPErrorDomain', 'The SCEP server could not be reached'],
  'ca-response': [22002, 'MCSCEPErrorDomain', 'The SCEP server returned an invalid CA certificate'],
  'ca-fingerprint': [22002, 'MCSCEPErrorDomain', 'The CA certificate does not match the fingerprint'],
  refused: [22013, 'MCSCEPErrorDomain', 'The SCEP server refused the request'],
  'pki-response': [22013, 'MCSCEPErrorDomain', 'The SCEP server returned an invalid response'],
  certificate: [22007, 'MCSCEPErrorDomain', 'The SCEP server returned an invalid signed certificate'],
  'pkcs12-password': [9000, 'MCCertificateErrorDomain', 'The password for the certificate is incorrect'],
  'pkcs12-malformed': [9005, 'MCCertificateErrorDomain', 'The certificate is malformed'],
  'pkcs12-no-identity': [9006, 'MCCertificateErrorDomain', 'The certificate is not an identity'],
};

function identityError(problem: IdentityProblem, payloadName: string, reason: string): ErrorChainEntry {
  const [code, domain, what] = IDENTITY_ERRORS[problem];
  return errorEntry(code, domain, `${what} (“${payloadName}”): ${reason}`);
}

/** Commands a locked or busy iOS device may defer; DeviceLock and EraseDevice never are. */
const DEFERRABLE = new Set([
  'InstallProfile',
  'RemoveProfile',
  'ProfileList',
  'CertificateList',
  'InstallApplication',
  'RemoveApplication',
  'InstalledApplicationList',
  'ManagedApplicationList',
  'ManagedApplicationAttributes',
  'Settings',
  'DeviceInformation',
  'SecurityInfo',
]);

/** Settings items accepted (and, apart from DeviceName, ApplicationAttributes and the roaming/hotspot items, ignored). */
const ACCEPTED_SETTINGS = new Set([
  'ApplicationAttributes',
  'DeviceName',
  'VoiceRoaming',
  'DataRoaming',
  'PersonalHotspot',
  'Bluetooth',
  'TimeZone',
  'Wallpaper',
  'MDMOptions',
  'OrganizationInfo',
  'ApplicationConfiguration',
]);

/** Settings items the device remembers and reports in DeviceInformation, by the state key that keeps them. */
const NETWORK_SETTINGS: Readonly<Record<string, 'dataRoaming' | 'voiceRoaming' | 'personalHotspot'>> = {
  DataRoaming: 'dataRoaming',
  VoiceRoaming: 'voiceRoaming',
  PersonalHotspot: 'personalHotspot',
};

class CommandFormat extends Error {}

function iso(now: () => Date): string {
  return now().toISOString();
}

function jsonSafe(dict: PlistDict): Record<string, unknown> {
  // Attributes hold strings, booleans, numbers and arrays of strings: JSON round-trips them
  return JSON.parse(JSON.stringify(dict)) as Record<string, unknown>;
}

function profileName(dict: PlistDict | undefined): string {
  const name = dict?.PayloadDisplayName ?? dict?.PayloadIdentifier;
  return typeof name === 'string' ? name : 'Profile';
}

function payloadSummaries(profile: PlistDict): ProfilePayloadState[] {
  const content = Array.isArray(profile.PayloadContent) ? profile.PayloadContent : [];
  return content.filter(isPlistDict).map((payload) => {
    const summary: ProfilePayloadState = {
      type: String(payload.PayloadType ?? ''),
      identifier: String(payload.PayloadIdentifier ?? ''),
    };
    if (typeof payload.PayloadUUID === 'string') summary.uuid = payload.PayloadUUID;
    if (typeof payload.PayloadDisplayName === 'string') summary.displayName = payload.PayloadDisplayName;
    if (typeof payload.VPNUUID === 'string') summary.vpnUuid = payload.VPNUUID;
    const certificateUuid = vpnCertificateUuid(payload);
    if (certificateUuid) summary.certificateUuid = certificateUuid;
    return summary;
  });
}

/** Checks a profile's outer keys the way the profile installer does; returns what is wrong, if anything. */
export function profileProblem(profile: PlistValue): string | undefined {
  if (!isPlistDict(profile)) return 'the root is not a dictionary';
  if (profile.PayloadType !== 'Configuration') return `PayloadType is ${JSON.stringify(profile.PayloadType)}, not "Configuration"`;
  for (const key of ['PayloadIdentifier', 'PayloadUUID'] as const) {
    if (typeof profile[key] !== 'string' || profile[key] === '') return `${key} is missing`;
  }
  if (profile.PayloadContent !== undefined && !Array.isArray(profile.PayloadContent)) return 'PayloadContent is not an array';
  const payloads = (profile.PayloadContent as PlistValue[] | undefined) ?? [];
  for (const [i, payload] of payloads.entries()) {
    if (!isPlistDict(payload)) return `PayloadContent[${i}] is not a dictionary`;
    for (const key of ['PayloadType', 'PayloadIdentifier', 'PayloadUUID'] as const) {
      if (typeof payload[key] !== 'string' || payload[key] === '') return `PayloadContent[${i}].${key} is missing`;
    }
  }
  return undefined;
}

interface Outcome {
  status: Exclude<ResultStatus, 'NotNow'>;
  fields?: PlistDict;
  errorChain?: ErrorChainEntry[];
  after?: AfterAnswer;
}

const ack = (fields?: PlistDict, after?: AfterAnswer): Outcome => ({ status: 'Acknowledged', fields, after });
const error = (...errorChain: ErrorChainEntry[]): Outcome => ({ status: 'Error', errorChain });

type Handler = (state: DeviceState, command: PlistDict, now: () => Date, context: CommandContext) => Outcome | Promise<Outcome>;

function requiredString(command: PlistDict, key: string): string {
  const value = command[key];
  if (typeof value !== 'string' || value === '') throw new CommandFormat(`${key} is missing`);
  return value;
}

function stringList(command: PlistDict, key: string): string[] | undefined {
  const value = command[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new CommandFormat(`${key} must be an array of strings`);
  return value as string[];
}

/** An InstallProfile payload's profile bytes and, when it was CMS-signed, the signer; or why it cannot be read. */
function profileContent(bytes: Buffer, trustAnchorsPem: DeviceState['trustAnchorsPem']): { content: Buffer; signerPem?: string } | Outcome {
  // iOS installs a plain profile (XML or binary plist) delivered by MDM as well as a signed one:
  // the MDM channel, authenticated by the device identity, is what vouches for it.
  if (detectPlistFormat(bytes)) return { content: bytes };
  try {
    const verified = verifyCms(bytes, { trustAnchors: trustAnchorsPem });
    return { content: verified.content, signerPem: verified.signer.certificatePem };
  } catch (err) {
    if (err instanceof CmsVerifyError) {
      const entry = err.code === 'UNTRUSTED_CHAIN' ? ERRORS.untrusted(err.message) : ERRORS.badSignature(`${err.code}: ${err.message}`);
      return error(ERRORS.profileInstallFailed('Profile'), entry);
    }
    if (err instanceof RangeError) return error(ERRORS.profileInstallFailed('Profile'), ERRORS.untrusted(err.message));
    throw err;
  }
}

/** At most this many identity payloads per profile: each may mean a key generation and a SCEP round trip. */
export const MAX_IDENTITY_PAYLOADS = 8;
const IDENTITY_PAYLOAD_TYPES: ReadonlySet<string> = new Set(['com.apple.security.scep', 'com.apple.security.pkcs12']);
const VPN_PAYLOAD_TYPES: ReadonlySet<string> = new Set(['com.apple.vpn.managed', 'com.apple.vpn.managed.applayer']);
/** The dictionaries of a VPN payload that may carry AuthenticationMethod and PayloadCertificateUUID (Apple's com.apple.vpn.managed.yaml). */
const VPN_AUTH_DICTS = ['VPN', 'IKEv2', 'IPSec'] as const;

/** A VPN payload's PayloadCertificateUUID (in its VPN, IKEv2 or IPSec dictionary), if it names one. */
export function vpnCertificateUuid(payload: PlistDict): string | undefined {
  if (!VPN_PAYLOAD_TYPES.has(String(payload.PayloadType))) return undefined;
  for (const key of VPN_AUTH_DICTS) {
    const dict = payload[key];
    if (isPlistDict(dict) && typeof dict.PayloadCertificateUUID === 'string' && dict.PayloadCertificateUUID !== '')
      return dict.PayloadCertificateUUID;
  }
  return undefined;
}

/** What is wrong with a VPN payload's certificate reference in this profile, if anything. */
function vpnCertificateProblem(payload: PlistDict, identityPayloads: readonly PlistDict[]): string | undefined {
  if (!VPN_PAYLOAD_TYPES.has(String(payload.PayloadType))) return undefined;
  const uuid = vpnCertificateUuid(payload);
  const where = `“${String(payload.PayloadIdentifier)}”`;
  if (uuid === undefined) {
    const wantsCertificate = VPN_AUTH_DICTS.some((key) => {
      const dict = payload[key];
      return isPlistDict(dict) && dict.AuthenticationMethod === 'Certificate';
    });
    return wantsCertificate ? `${where} authenticates with a certificate but has no PayloadCertificateUUID` : undefined;
  }
  const named = identityPayloads.some((p) => String(p.PayloadUUID).toUpperCase() === uuid.toUpperCase());
  return named ? undefined : `PayloadCertificateUUID ${uuid} of ${where} names no SCEP or PKCS#12 payload in this profile`;
}

function payloadLabel(payload: PlistDict): string {
  const name = payload.PayloadDisplayName ?? payload.PayloadIdentifier;
  return typeof name === 'string' ? name : String(payload.PayloadType);
}

const installProfile: Handler = async (state, command, now, context) => {
  const payload = command.Payload as Uint8Array;
  const read = profileContent(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), state.trustAnchorsPem);
  if ('status' in read) return read;
  let profile: PlistValue;
  try {
    profile = parsePlist(read.content);
  } catch (err) {
    return error(ERRORS.profileInstallFailed('Profile'), ERRORS.malformedProfile((err as Error).message));
  }
  const problem = profileProblem(profile);
  if (problem)
    return error(ERRORS.profileInstallFailed(profileName(isPlistDict(profile) ? profile : undefined)), ERRORS.malformedProfile(problem));
  const dict = profile as PlistDict;
  const identifier = dict.PayloadIdentifier as string;
  const failed = ERRORS.profileInstallFailed(profileName(dict));
  const existing = state.profiles[identifier];
  if (existing?.source === 'enrollment') {
    return error(failed, ERRORS.profileNotManaged(identifier));
  }
  const payloads = (dict.PayloadContent as PlistDict[] | undefined) ?? [];
  const identityPayloads = payloads.filter((p) => IDENTITY_PAYLOAD_TYPES.has(p.PayloadType as string));
  if (identityPayloads.length > MAX_IDENTITY_PAYLOADS) return error(failed, ERRORS.tooManyIdentities(MAX_IDENTITY_PAYLOADS));
  // Checked before any SCEP request, so a broken profile spends no challenge
  for (const p of payloads) {
    const why = vpnCertificateProblem(p, identityPayloads);
    if (why) return error(failed, ERRORS.vpnCertificate(why));
  }
  const identities: ProfileIdentityState[] = [];
  for (const p of identityPayloads) {
    const attempt: IdentityAttempt = context.identities
      ? await context.identities.obtain(p)
      : { ok: false, problem: 'network', reason: 'this device has no network' };
    // iOS installs all of a profile or nothing: the profile installed before (if any) stays
    if (!attempt.ok) return error(failed, identityError(attempt.problem, payloadLabel(p), attempt.reason));
    const uuid = String(p.PayloadUUID);
    identities.push({
      payloadUuid: uuid,
      payloadIdentifier: String(p.PayloadIdentifier),
      source: attempt.source,
      privateKeyPem: attempt.privateKeyPem,
      certificatePem: attempt.certificatePem,
      obtainedAt: iso(now),
      vpns: payloads
        .filter((v) => vpnCertificateUuid(v)?.toUpperCase() === uuid.toUpperCase())
        .map((v) => ({
          payloadUuid: String(v.PayloadUUID),
          ...(typeof v.VPNUUID === 'string' && { vpnUuid: v.VPNUUID }),
          ...(typeof v.UserDefinedName === 'string' && { name: v.UserDefinedName }),
        })),
    });
  }
  const installed: InstalledProfileState = {
    identifier,
    uuid: dict.PayloadUUID as string,
    contentSha256: createHash('sha256').update(read.content).digest('hex'),
    source: 'mdm',
    ...(read.signerPem && { signerCertificateDer: new X509Certificate(read.signerPem).raw.toString('base64') }),
    installedAt: iso(now),
    payloads: payloadSummaries(dict),
  };
  if (typeof dict.PayloadDisplayName === 'string') installed.displayName = dict.PayloadDisplayName;
  if (typeof dict.PayloadOrganization === 'string') installed.organization = dict.PayloadOrganization;
  if (typeof dict.PayloadVersion === 'number') installed.version = dict.PayloadVersion;
  // Replacing a profile replaces its identities: those of the old version go with it
  if (identities.length > 0) installed.identities = identities;
  state.profiles[identifier] = installed;
  return ack();
};

const removeProfile: Handler = (state, command) => {
  const identifier = requiredString(command, 'Identifier');
  const profile = state.profiles[identifier];
  if (!profile) return error(ERRORS.profileNotManaged(identifier));
  if (profile.source === 'enrollment') return ack(undefined, 'unenroll');
  delete state.profiles[identifier];
  return ack();
};

function profileListEntry(profile: InstalledProfileState): PlistDict {
  return {
    HasRemovalPasscode: false,
    IsEncrypted: false,
    IsManaged: profile.source === 'mdm',
    PayloadContent: profile.payloads.map((p) => ({
      PayloadType: p.type,
      PayloadIdentifier: p.identifier,
      PayloadUUID: p.uuid,
      PayloadDisplayName: p.displayName,
      PayloadVersion: 1,
    })),
    PayloadDisplayName: profile.displayName,
    PayloadIdentifier: profile.identifier,
    PayloadOrganization: profile.organization,
    PayloadRemovalDisallowed: false,
    PayloadUUID: profile.uuid,
    PayloadVersion: profile.version ?? 1,
    SignerCertificates: profile.signerCertificateDer ? [Buffer.from(profile.signerCertificateDer, 'base64')] : undefined,
  };
}

const profileList: Handler = (state, command) => {
  const managedOnly = command.ManagedOnly === true;
  const profiles = Object.values(state.profiles).filter((p) => !managedOnly || p.source === 'mdm');
  return ack({ ProfileList: profiles.map(profileListEntry) });
};

const installApplication: Handler = (state, command, now) => {
  const storeId = command.iTunesStoreID;
  const bundleId = command.Identifier;
  const manifestUrl = command.ManifestURL;
  let identifier: string;
  if (typeof bundleId === 'string' && bundleId !== '') identifier = bundleId;
  else if (typeof storeId === 'number' || typeof storeId === 'bigint') identifier = `itunes:${String(storeId)}`;
  else if (typeof manifestUrl === 'string' && manifestUrl !== '') identifier = manifestUrl;
  else throw new CommandFormat('one of iTunesStoreID, Identifier or ManifestURL is required');
  const attributes = command.Attributes;
  if (attributes !== undefined && !isPlistDict(attributes)) throw new CommandFormat('Attributes must be a dictionary');
  const existing = state.apps[identifier];
  // Re-sending InstallApplication for a managed app updates its attributes and configuration
  const app: InstalledAppState = {
    identifier,
    attributes: attributes ? jsonSafe(attributes) : (existing?.attributes ?? {}),
    hasConfiguration: command.Configuration !== undefined || (existing?.hasConfiguration ?? false),
    installedAt: existing?.installedAt ?? iso(now),
  };
  if (storeId !== undefined) app.iTunesStoreId = Number(storeId);
  if (typeof manifestUrl === 'string') app.manifestUrl = manifestUrl;
  const flags = command.ManagementFlags ?? existing?.managementFlags;
  if (typeof flags === 'number') app.managementFlags = flags;
  state.apps[identifier] = app;
  return ack({ Identifier: identifier, State: 'Managed' });
};

const removeApplication: Handler = (state, command) => {
  const identifier = requiredString(command, 'Identifier');
  if (!state.apps[identifier]) return error(ERRORS.appNotManaged(identifier));
  delete state.apps[identifier];
  return ack();
};

const settings: Handler = (state, command) => {
  const items = command.Settings as PlistValue[];
  const answers: PlistDict[] = [];
  for (const [i, item] of items.entries()) {
    if (!isPlistDict(item) || typeof item.Item !== 'string') throw new CommandFormat(`Settings[${i}].Item is missing`);
    if (!ACCEPTED_SETTINGS.has(item.Item)) {
      answers.push({ Status: 'Error', ErrorChain: [ERRORS.unknownSetting(item.Item)] });
      continue;
    }
    if (item.Item === 'ApplicationAttributes') {
      const identifier = item.Identifier;
      if (typeof identifier !== 'string' || identifier === '') throw new CommandFormat(`Settings[${i}].Identifier is missing`);
      if (item.Attributes !== undefined && !isPlistDict(item.Attributes))
        throw new CommandFormat(`Settings[${i}].Attributes must be a dictionary`);
      const app = state.apps[identifier];
      if (!app) {
        answers.push({ Status: 'Error', ErrorChain: [ERRORS.appNotManaged(identifier)] });
        continue;
      }
      // The new attributes replace the old ones: no Attributes (or {}) unbinds the app
      app.attributes = item.Attributes ? jsonSafe(item.Attributes) : {};
    } else if (item.Item === 'DeviceName' && typeof item.DeviceName === 'string' && item.DeviceName !== '') {
      state.identity.deviceName = item.DeviceName;
    } else if (NETWORK_SETTINGS[item.Item] && typeof item.Enabled === 'boolean') {
      state.network = { ...state.network, [NETWORK_SETTINGS[item.Item]!]: item.Enabled };
    }
    answers.push({ Status: 'Acknowledged' });
  }
  const failed = answers.filter((a) => a.Status === 'Error');
  return failed.length === 0
    ? ack({ Settings: answers })
    : { status: 'Error', fields: { Settings: answers }, errorChain: failed.flatMap((a) => a.ErrorChain as ErrorChainEntry[]) };
};

function selectApps(state: DeviceState, identifiers: string[] | undefined): InstalledAppState[] {
  const apps = Object.values(state.apps);
  return identifiers ? apps.filter((app) => identifiers.includes(app.identifier)) : apps;
}

const managedApplicationList: Handler = (state, command) => {
  const apps = selectApps(state, stringList(command, 'Identifiers'));
  const list: PlistDict = {};
  for (const app of apps) {
    list[app.identifier] = {
      Status: 'Managed',
      ManagementFlags: app.managementFlags ?? 0,
      HasConfiguration: app.hasConfiguration,
      HasFeedback: false,
      IsValidated: true,
      ExternalVersionIdentifier: 0,
    };
  }
  return ack({ ManagedApplicationList: list });
};

const managedApplicationAttributes: Handler = (state, command) => {
  const identifiers = stringList(command, 'Identifiers') ?? [];
  const apps = selectApps(state, identifiers);
  return ack({ ApplicationAttributes: apps.map((app) => ({ Identifier: app.identifier, Attributes: app.attributes as PlistDict })) });
};

const installedApplicationList: Handler = (state, command) => {
  // iOS lists user-visible apps only; on a simulated device those are the managed ones
  const apps = selectApps(state, stringList(command, 'Identifiers'));
  return ack({
    InstalledApplicationList: apps.map((app) => ({
      Identifier: app.identifier,
      Name: app.identifier.split('.').pop() ?? app.identifier,
      Version: '1',
      ShortVersion: '1.0',
      BundleSize: 50_000_000,
      DynamicSize: 1_000_000,
      IsValidated: true,
      Installing: false,
    })),
  });
};

function deviceInformationValues(state: DeviceState): PlistDict {
  const id = state.identity;
  const major = Number(id.osVersion.split('.')[0]);
  return {
    UDID: id.udid,
    DeviceName: id.deviceName,
    OSVersion: id.osVersion,
    BuildVersion: id.buildVersion,
    ModelName: id.modelName,
    Model: id.model,
    ProductName: id.productName,
    SerialNumber: id.serialNumber,
    IMEI: id.imei,
    DeviceCapacity: new PlistReal(id.capacityGb * 0.93),
    AvailableDeviceCapacity: new PlistReal(id.capacityGb * 0.6),
    BatteryLevel: new PlistReal(0.8),
    CellularTechnology: id.imei ? 1 : 0,
    WiFiMAC: id.wifiMac,
    BluetoothMAC: id.bluetoothMac,
    IsSupervised: false,
    IsActivationLockEnabled: false,
    IsDeviceLocatorServiceEnabled: false,
    IsDoNotDisturbInEffect: false,
    IsCloudBackupEnabled: false,
    IsMDMLostModeEnabled: false,
    IsRoaming: false,
    // What the server last set with Settings; iOS's defaults otherwise
    DataRoamingEnabled: state.network?.dataRoaming ?? false,
    VoiceRoamingEnabled: state.network?.voiceRoaming ?? true,
    PersonalHotspotEnabled: state.network?.personalHotspot ?? false,
    AwaitingConfiguration: major >= 9 ? false : undefined,
    Languages: ['en'],
    Locales: ['en_US'],
  };
}

const deviceInformation: Handler = (state, command) => {
  const queries = stringList(command, 'Queries') ?? [];
  const values = deviceInformationValues(state);
  const responses: PlistDict = {};
  // Queries the device cannot answer are left out, as iOS does
  for (const query of queries) if (Object.hasOwn(values, query) && values[query] !== undefined) responses[query] = values[query];
  return ack({ QueryResponses: responses });
};

const securityInfo: Handler = (state) => {
  const major = Number(state.identity.osVersion.split('.')[0]);
  return ack({
    SecurityInfo: {
      HardwareEncryptionCaps: 3,
      PasscodePresent: false,
      PasscodeCompliant: true,
      PasscodeCompliantWithProfiles: true,
      ManagementStatus: major >= 13 ? { EnrolledViaDEP: false, IsUserEnrollment: false, UserApprovedEnrollment: true } : undefined,
    },
  });
};

const deviceLock: Handler = (state, command, now) => {
  state.lock = { lockedAt: iso(now) };
  if (typeof command.Message === 'string') state.lock.message = command.Message;
  if (typeof command.PhoneNumber === 'string') state.lock.phoneNumber = command.PhoneNumber;
  return ack();
};

const eraseDevice: Handler = () => ack(undefined, 'erase');

function certificateListItem(pem: string, isIdentity: boolean): PlistDict {
  const certificate = new X509Certificate(pem);
  const commonName = /^CN=(.*)$/m.exec(certificate.subject)?.[1] ?? certificate.subject.replace(/\n/g, ', ');
  return { CommonName: commonName, IsIdentity: isIdentity, Data: certificate.raw };
}

/**
 * CertificateList (Apple's certificate.list.yaml): the MDM identity, the identities profiles
 * installed, and the trusted roots. Everything a simulated device holds came through MDM or its
 * enrollment profile, so ManagedOnly leaves the list as it is.
 */
const certificateList: Handler = (state) => {
  const items: PlistDict[] = [];
  if (state.mdm) items.push(certificateListItem(state.mdm.identityCertificatePem, true));
  for (const profile of Object.values(state.profiles))
    for (const identity of profile.identities ?? []) items.push(certificateListItem(identity.certificatePem, true));
  for (const pem of state.trustAnchorsPem) items.push(certificateListItem(pem, false));
  return ack({ CertificateList: items });
};

export const COMMAND_HANDLERS: Readonly<Record<string, Handler>> = {
  InstallProfile: installProfile,
  RemoveProfile: removeProfile,
  ProfileList: profileList,
  InstallApplication: installApplication,
  RemoveApplication: removeApplication,
  Settings: settings,
  ManagedApplicationList: managedApplicationList,
  ManagedApplicationAttributes: managedApplicationAttributes,
  InstalledApplicationList: installedApplicationList,
  DeviceInformation: deviceInformation,
  SecurityInfo: securityInfo,
  DeviceLock: deviceLock,
  EraseDevice: eraseDevice,
  CertificateList: certificateList,
};

function buildResponse(
  state: DeviceState,
  commandUuid: string,
  requestType: string,
  outcome: Outcome | { status: 'NotNow' },
): CommandResponse {
  const result: PlistDict = {
    UDID: state.identity.udid,
    CommandUUID: commandUuid,
    Status: outcome.status,
    ...('fields' in outcome ? outcome.fields : undefined),
    ErrorChain: 'errorChain' in outcome && outcome.errorChain?.length ? outcome.errorChain : undefined,
  };
  const response: CommandResponse = {
    commandUuid,
    requestType,
    status: outcome.status,
    result,
    body: Buffer.from(toXmlPlist(result), 'utf8'),
  };
  if ('after' in outcome && outcome.after) response.after = outcome.after;
  return response;
}

/** The CommandUUID of a command that failed to decode, when it has a readable one. */
function salvageCommandUuid(body: Uint8Array | string): string | undefined {
  try {
    const value = parsePlist(body);
    return isPlistDict(value) && typeof value.CommandUUID === 'string' && value.CommandUUID !== '' ? value.CommandUUID : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers one command body (the /mdm/connect response) and applies it to `state`. Rejects with
 * UnanswerableCommandError when the body has no readable CommandUUID.
 */
export async function respondToCommand(state: DeviceState, body: Uint8Array | string, context: CommandContext): Promise<CommandResponse> {
  const now = context.now ?? (() => new Date());
  let decoded: DecodedCommand;
  try {
    decoded = decodeCommand(body);
  } catch (err) {
    if (!(err instanceof MdmProtocolError)) throw err;
    const commandUuid = salvageCommandUuid(body);
    if (!commandUuid) throw new UnanswerableCommandError(`unreadable command: ${err.message}`);
    return buildResponse(state, commandUuid, '(unreadable)', { status: 'CommandFormatError' });
  }
  const { commandUuid, requestType, command } = decoded;
  const handler = Object.hasOwn(COMMAND_HANDLERS, requestType) ? COMMAND_HANDLERS[requestType] : undefined;
  if (!handler) return buildResponse(state, commandUuid, requestType, error(ERRORS.invalidRequestType(requestType)));
  if (validateCommandFields(requestType, command).errors.length > 0) {
    return buildResponse(state, commandUuid, requestType, { status: 'CommandFormatError' });
  }
  if (DEFERRABLE.has(requestType) && context.random.chance(context.notNowRate)) {
    return buildResponse(state, commandUuid, requestType, { status: 'NotNow' });
  }
  let outcome: Outcome;
  try {
    outcome = await handler(state, command, now, context);
  } catch (err) {
    if (err instanceof CommandFormat) outcome = { status: 'CommandFormatError' };
    else throw err;
  }
  return buildResponse(state, commandUuid, requestType, outcome);
}

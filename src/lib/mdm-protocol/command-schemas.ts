// Top-level Command keys per RequestType, transcribed from Apple's mdm/commands/*.yaml
// (apple/device-management, Release_iOS-18-1_macOS-15-1). A unit test re-reads the YAML and
// fails when this table drifts from it. Only top-level keys are described: deeper structure is
// left to the typed builders, which know what they put there.

import { plistTypeOf, type PlistDict, type PlistTypeName } from '../plist/index.js';

export type CommandKeyType = PlistTypeName | 'any';

export interface CommandKeySpec {
  type: CommandKeyType;
  required: boolean;
  /** For arrays: the type of every element. */
  items?: CommandKeyType;
}

export type CommandSchema = Readonly<Record<string, CommandKeySpec>>;

const required = (type: CommandKeyType, items?: CommandKeyType): CommandKeySpec => ({ type, required: true, ...(items && { items }) });
const optional = (type: CommandKeyType, items?: CommandKeyType): CommandKeySpec => ({ type, required: false, ...(items && { items }) });

export const COMMAND_SCHEMAS: Readonly<Record<string, CommandSchema>> = {
  // Profiles
  InstallProfile: { Payload: required('data') },
  RemoveProfile: { Identifier: required('string') },
  ProfileList: { ManagedOnly: optional('boolean') },
  InstallProvisioningProfile: { ProvisioningProfile: required('data') },
  RemoveProvisioningProfile: { UUID: required('string') },
  ProvisioningProfileList: { ManagedOnly: optional('boolean') },
  CertificateList: { ManagedOnly: optional('boolean') },

  // Applications
  InstallApplication: {
    iTunesStoreID: optional('integer'),
    Identifier: optional('string'),
    Options: optional('dictionary'),
    ManifestURL: optional('string'),
    ManagementFlags: optional('integer'),
    Configuration: optional('dictionary'),
    Attributes: optional('dictionary'),
    ChangeManagementState: optional('string'),
    InstallAsManaged: optional('boolean'),
    iOSApp: optional('boolean'),
  },
  InstallEnterpriseApplication: {
    Manifest: optional('dictionary'),
    ManifestURL: optional('string'),
    ManifestURLPinningCerts: optional('array', 'data'),
    PinningRevocationCheckRequired: optional('boolean'),
    InstallAsManaged: optional('boolean'),
    ManagementFlags: optional('integer'),
    Configuration: optional('dictionary'),
    ChangeManagementState: optional('string'),
    iOSApp: optional('boolean'),
  },
  RemoveApplication: { Identifier: required('string') },
  InstalledApplicationList: {
    Identifiers: optional('array', 'string'),
    ManagedAppsOnly: optional('boolean'),
    Items: optional('array', 'string'),
  },
  ManagedApplicationList: { Identifiers: optional('array', 'string') },
  ManagedApplicationAttributes: { Identifiers: required('array', 'string') },
  ManagedApplicationConfiguration: { Identifiers: required('array', 'string') },
  ManagedApplicationFeedback: { Identifiers: required('array', 'string'), DeleteFeedback: optional('boolean') },
  ValidateApplications: { Identifiers: optional('array', 'string') },
  ApplyRedemptionCode: { Identifier: required('string'), RedemptionCode: required('string') },
  Settings: { Settings: required('array', 'dictionary') },

  // Information
  DeviceInformation: { Queries: required('array', 'string'), DeviceAttestationNonce: optional('data') },
  SecurityInfo: {},
  Restrictions: { ProfileRestrictions: optional('boolean') },
  AvailableOSUpdates: {},
  OSUpdateStatus: {},
  UserList: {},

  // Device actions
  DeviceLock: { Message: optional('string'), PhoneNumber: optional('string'), PIN: optional('string') },
  EraseDevice: {
    PreserveDataPlan: optional('boolean'),
    DisallowProximitySetup: optional('boolean'),
    PIN: optional('string'),
    ObliterationBehavior: optional('string'),
    ReturnToService: optional('dictionary'),
  },
  ClearPasscode: { UnlockToken: required('data') },
  ClearRestrictionsPassword: {},
  RestartDevice: { RebuildKernelCache: optional('boolean'), KextPaths: optional('array', 'string'), NotifyUser: optional('boolean') },
  ShutDownDevice: {},
  DeviceConfigured: {},
  EnableLostMode: { Message: optional('string'), PhoneNumber: optional('string'), Footnote: optional('string') },
  DisableLostMode: {},
  DeviceLocation: {},
  PlayLostModeSound: {},
  ActivationLockBypassCode: {},
  ClearActivationLockBypassCode: {},
  ScheduleOSUpdateScan: { Force: optional('boolean') },
  ScheduleOSUpdate: { Updates: required('array', 'dictionary') },
  DeclarativeManagement: { Data: optional('data') },
};

export interface CommandValidation {
  /** RequestType is in COMMAND_SCHEMAS. Unknown types are allowed, but nothing was checked. */
  known: boolean;
  /** Missing required keys and wrong types: the device would answer CommandFormatError. */
  errors: string[];
  /** Keys this table does not know (newer OS features, typos) and unknown RequestTypes. */
  warnings: string[];
}

function typeMatches(expected: CommandKeyType, actual: PlistTypeName): boolean {
  // An integral number written where Apple documents <real> is still read as a number by devices
  return expected === 'any' || expected === actual || (expected === 'real' && actual === 'integer');
}

/** Checks a Command dictionary (RequestType plus fields) against COMMAND_SCHEMAS. */
export function validateCommandFields(requestType: string, fields: PlistDict): CommandValidation {
  const schema = Object.hasOwn(COMMAND_SCHEMAS, requestType) ? COMMAND_SCHEMAS[requestType] : undefined;
  if (!schema) {
    return {
      known: false,
      errors: [],
      warnings: [`RequestType "${requestType}" is not in the known command table; its keys were not checked`],
    };
  }
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const [key, spec] of Object.entries(schema)) {
    const value = fields[key];
    if (value === undefined) {
      if (spec.required) errors.push(`${requestType}: ${key} is required`);
      continue;
    }
    const actual = plistTypeOf(value);
    if (!typeMatches(spec.type, actual)) {
      errors.push(`${requestType}: ${key} must be ${spec.type}, not ${actual}`);
      continue;
    }
    if (spec.items && Array.isArray(value)) {
      value.forEach((item, i) => {
        const itemType = plistTypeOf(item);
        if (!typeMatches(spec.items!, itemType)) errors.push(`${requestType}: ${key}[${i}] must be ${spec.items}, not ${itemType}`);
      });
    }
  }
  for (const key of Object.keys(fields)) {
    if (key !== 'RequestType' && fields[key] !== undefined && !Object.hasOwn(schema, key)) {
      warnings.push(`${requestType}: ${key} is not a documented key of this command`);
    }
  }
  return { known: true, errors, warnings };
}

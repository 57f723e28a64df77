// The typed field registry: which names a criteria expression may use, what type each has,
// and where the value lives on a DeviceFacts object.

/** What the evaluator sees of a device. src/devices/fields.ts builds these from database rows. */
export interface DeviceFacts {
  id: number;
  uuid: string;
  adminDeviceSpaceId: number;
  platform: string;
  osVersion: string | null;
  model: string | null;
  manufacturer: string | null;
  serialNumber: string | null;
  imei: string | null;
  owner: string;
  status: string;
  compliant: boolean;
  quarantined: boolean;
  registrationDate: Date;
  lastConnectedAt: Date | null;
  deviceName: string | null;
  udid: string | null;
  wifiMac: string | null;
  ipAddress: string | null;
  phoneNumber: string | null;
  /** The device completed MDM enrollment (TokenUpdate) and has not left it since. */
  mdmEnrolled: boolean;
  userId: string | null;
  email: string | null;
  displayName: string | null;
  custom: Record<string, string>;
  /** Scalar QueryResponses of the device's DeviceInformation answers, by Apple's key. */
  info: Readonly<Record<string, string | number | boolean>>;
  /** Scalar values of its SecurityInfo answer, by Apple's key (ManagementStatus keys flattened). */
  security: Readonly<Record<string, string | number | boolean>>;
}

export type FieldType = 'string' | 'number' | 'boolean' | 'enum' | 'version' | 'date';

export const PLATFORMS = ['iOS', 'Android'] as const;
export const OWNERSHIP_TYPES = ['COMPANY', 'EMPLOYEE'] as const;
export const DEVICE_STATUSES = ['VERIFICATION_PENDING', 'ACTIVE', 'RETIRED', 'WIPED', 'LOST', 'BLOCKED'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** Where a field's value comes from here, as search_fields reports it. */
export type FieldFill = 'registration' | 'DeviceInformation' | 'SecurityInfo' | 'derived' | 'not reported';

/** How a field sorts in the database: a Device column, or a column of the device's user. */
export type FieldSort = { column: string } | { userColumn: string };

export interface FieldDefinition {
  /** Canonical spelling, as reported in errors, formatted text and search_fields. */
  name: string;
  type: FieldType;
  description: string;
  /** Allowed values of an enum field, in canonical spelling. */
  values?: readonly string[];
  /**
   * JavaScript expression reading the raw value from a DeviceFacts object named `f`. The
   * compiler splices it into generated code, so it must only ever come from this file.
   */
  source: string;
  /** What fills the value (registration, an MDM result, derived) and, in `fillNote`, how. */
  fill: FieldFill;
  fillNote: string;
  /** The field has a column to sort on; only these are accepted as sortField. */
  sort?: FieldSort;
  /** Core answers a list (reason codes): the criteria see it joined with commas. */
  list?: boolean;
  /** Other spellings clients send for the same field (Core's portal writes ios.iPhoneVERSION). */
  aliases?: readonly string[];
}

// Sources reading what a device reported: typed reads, so a device answering a string where a
// number belongs reads as unknown rather than as a wrong value.
const key = (name: string) => JSON.stringify(name);
const infoString = (k: string) => `(typeof f.info[${key(k)}] === 'string' ? f.info[${key(k)}] : null)`;
const infoBoolean = (k: string) => `(typeof f.info[${key(k)}] === 'boolean' ? f.info[${key(k)}] : null)`;
const infoNumber = (k: string) => `(typeof f.info[${key(k)}] === 'number' ? f.info[${key(k)}] : null)`;
const securityBoolean = (k: string) => `(typeof f.security[${key(k)}] === 'boolean' ? f.security[${key(k)}] : null)`;
const securityNumber = (k: string) => `(typeof f.security[${key(k)}] === 'number' ? f.security[${key(k)}] : null)`;
/** Bytes to the GB a device reports (DeviceCapacity is in GB, as a decimal). */
const infoGigabytes = (k: string) => `(typeof f.info[${key(k)}] === 'number' ? Math.round(f.info[${key(k)}] * 100) / 100 : null)`;

const NOT_REPORTED_IOS = 'not reported by iOS devices over MDM: always null here';
const NO_CLIENT = 'reported by the Mobile@Work client, which mockiron does not have: always null here';
const ANDROID_ONLY = 'reported by Android devices, which mockiron does not manage over MDM: always null here';
const WINDOWS_ONLY = 'reported by Windows devices, which mockiron does not manage: always null here';

function notReported(name: string, type: FieldType, description: string, why: string): FieldDefinition {
  return { name, type, description, source: 'null', fill: 'not reported', fillNote: why };
}

function reportedInfo(name: string, type: FieldType, description: string, queryKey: string): FieldDefinition {
  const source = type === 'boolean' ? infoBoolean(queryKey) : type === 'number' ? infoNumber(queryKey) : infoString(queryKey);
  return { name, type, description, source, fill: 'DeviceInformation', fillNote: `DeviceInformation ${queryKey}` };
}

// The catalogue: Core's field names as public clients send them and Core's documentation lists
// them (docs/research/core-clients.md, ../shared/design/mobileiron-core-api.md §2.1). One list
// serves criteria (query=, filter labels), the fields= projection, search_fields and sorting.
const BUILT_IN_FIELDS: readonly FieldDefinition[] = [
  // ---- common.*: identity and registration
  {
    name: 'common.id',
    type: 'number',
    description: 'Device id',
    source: 'f.id',
    fill: 'registration',
    fillNote: 'assigned at registration',
    sort: { column: 'id' },
  },
  {
    name: 'common.uuid',
    type: 'string',
    description: 'Device UUID',
    source: 'f.uuid',
    fill: 'registration',
    fillNote: 'assigned at registration',
    sort: { column: 'uuid' },
  },
  {
    name: 'common.device_admin_space_id',
    type: 'number',
    description: 'Admin device space id (1, the global space)',
    source: 'f.adminDeviceSpaceId',
    fill: 'registration',
    fillNote: 'always 1: mockiron has one device space',
    sort: { column: 'adminDeviceSpaceId' },
  },
  {
    name: 'common.device_space_name',
    type: 'string',
    description: 'Device space name',
    source: "'Global'",
    fill: 'derived',
    fillNote: 'always Global: mockiron has one device space',
  },
  {
    name: 'common.platform',
    type: 'enum',
    description: 'Platform',
    values: PLATFORMS,
    source: 'f.platform',
    fill: 'registration',
    fillNote: 'given at registration',
    sort: { column: 'platform' },
  },
  {
    name: 'common.platform_name',
    type: 'string',
    description: 'Platform and OS version, e.g. "iOS 17.2"',
    source: "(f.osVersion ? f.platform + ' ' + f.osVersion : f.platform)",
    fill: 'derived',
    fillNote: 'common.platform and common.os_version',
  },
  {
    name: 'common.os_version',
    type: 'version',
    description: 'OS version, compared and sorted segment by segment (9.10 > 9.9)',
    source: 'f.osVersion',
    fill: 'DeviceInformation',
    fillNote: 'registration, MDM Authenticate, DeviceInformation OSVersion',
    sort: { column: 'osVersionKey' },
  },
  {
    name: 'common.model',
    type: 'string',
    description: 'Model (hardware id such as iPhone15,2)',
    source: 'f.model',
    fill: 'DeviceInformation',
    fillNote: 'registration, DeviceInformation ProductName',
    sort: { column: 'model' },
  },
  {
    name: 'common.manufacturer',
    type: 'string',
    description: 'Manufacturer',
    source: 'f.manufacturer',
    fill: 'registration',
    fillNote: 'registration (Apple for iOS)',
    sort: { column: 'manufacturer' },
  },
  {
    name: 'common.SerialNumber',
    type: 'string',
    description: 'Serial number',
    source: 'f.serialNumber',
    fill: 'DeviceInformation',
    fillNote: 'registration, DeviceInformation SerialNumber',
    sort: { column: 'serialNumber' },
  },
  {
    name: 'common.imei',
    type: 'string',
    description: 'IMEI',
    source: 'f.imei',
    fill: 'DeviceInformation',
    fillNote: 'registration, DeviceInformation IMEI',
    sort: { column: 'imei' },
  },
  notReported('common.imsi', 'string', 'IMSI of the SIM', NOT_REPORTED_IOS),
  {
    name: 'common.owner',
    type: 'enum',
    description: 'Ownership',
    values: OWNERSHIP_TYPES,
    source: 'f.owner',
    fill: 'registration',
    fillNote: 'registration or PUT attributes',
    sort: { column: 'owner' },
  },
  {
    name: 'common.status',
    type: 'enum',
    description: 'Registration status',
    values: DEVICE_STATUSES,
    source: 'f.status',
    fill: 'derived',
    fillNote: 'registration, enrollment, retire and wipe',
    sort: { column: 'status' },
  },
  {
    name: 'common.registration_date',
    type: 'date',
    description: 'Registration date',
    source: 'f.registrationDate',
    fill: 'registration',
    fillNote: 'time of registration',
    sort: { column: 'registeredAt' },
  },
  {
    name: 'common.creation_date',
    type: 'date',
    description: 'When the device record was created',
    source: 'f.registrationDate',
    fill: 'registration',
    fillNote: 'time of registration (the record is created then)',
    sort: { column: 'registeredAt' },
  },
  {
    name: 'common.last_connected_at',
    type: 'date',
    description: 'Last MDM check-in',
    source: 'f.lastConnectedAt',
    fill: 'derived',
    fillNote: 'the last MDM request of the device',
    sort: { column: 'lastConnectedAt' },
  },
  notReported('common.miclient_last_connected_at', 'date', 'Last check-in of the Mobile@Work client', NO_CLIENT),
  notReported('common.comment', 'string', 'Administrator comment', 'not kept by mockiron: always null here'),

  // ---- common.*: compliance and security
  {
    name: 'common.compliant',
    type: 'boolean',
    description: 'Compliant with policies',
    source: 'f.compliant',
    fill: 'registration',
    fillNote: 'true at registration; PUT attributes changes it',
    sort: { column: 'compliant' },
  },
  {
    name: 'common.quarantined',
    type: 'boolean',
    description: 'Quarantined',
    source: 'f.quarantined',
    fill: 'registration',
    fillNote: 'false at registration; PUT attributes changes it',
    sort: { column: 'quarantined' },
  },
  {
    name: 'common.retired',
    type: 'boolean',
    description: 'Retired (status is RETIRED)',
    source: "(f.status === 'RETIRED')",
    fill: 'derived',
    fillNote: 'common.status is RETIRED',
  },
  {
    name: 'common.noncompliance_reasons',
    type: 'string',
    list: true,
    description: 'Why the device is not compliant: a list of reason codes (criteria see them joined with commas)',
    source: "(f.compliant ? '' : 'MANUAL')",
    fill: 'derived',
    fillNote: 'empty when compliant; MANUAL when an administrator marked it non-compliant',
  },
  {
    name: 'common.quarantined_reasons',
    type: 'string',
    list: true,
    description: 'Why the device is quarantined: a list of reason codes (criteria see them joined with commas)',
    source: "(f.quarantined ? 'MANUAL' : '')",
    fill: 'derived',
    fillNote: 'empty unless quarantined; MANUAL when an administrator quarantined it',
  },
  {
    name: 'common.device_is_compromised',
    type: 'boolean',
    description: 'Jailbroken or rooted',
    source: 'false',
    fill: 'derived',
    fillNote: 'always false: jailbreak detection needs the Mobile@Work client, which mockiron does not have',
  },
  {
    name: 'common.security_state',
    type: 'string',
    description: 'Security state: Ok, or Compromised for a jailbroken or rooted device',
    source: "'Ok'",
    fill: 'derived',
    fillNote: 'Ok unless common.device_is_compromised (never, here)',
  },
  {
    name: 'common.mdm_managed',
    type: 'boolean',
    description: 'Enrolled in MDM',
    source: "(f.mdmEnrolled && f.status === 'ACTIVE')",
    fill: 'derived',
    fillNote: 'ACTIVE with an MDM push token (enrollment completed)',
  },
  reportedInfo('common.supervised', 'boolean', 'Supervised', 'IsSupervised'),
  {
    name: 'common.device_encrypted',
    type: 'boolean',
    description: 'Storage encrypted by the hardware',
    source: `(typeof f.security['HardwareEncryptionCaps'] === 'number' ? (f.security['HardwareEncryptionCaps'] & 3) !== 0 : null)`,
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo HardwareEncryptionCaps (block- or file-level)',
  },
  {
    name: 'common.data_protection_enabled',
    type: 'boolean',
    description: 'Data protection on: file-level encryption and a passcode',
    source: `(typeof f.security['HardwareEncryptionCaps'] === 'number' && typeof f.security['PasscodePresent'] === 'boolean' ? (f.security['HardwareEncryptionCaps'] & 2) !== 0 && f.security['PasscodePresent'] : null)`,
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo HardwareEncryptionCaps and PasscodePresent',
  },
  notReported('common.data_protection_reasons', 'string', 'Why data protection is off', NOT_REPORTED_IOS),
  notReported('common.device_admin_enabled', 'boolean', 'Android device administrator active', ANDROID_ONLY),
  notReported('common.background_status', 'string', 'Mobile@Work background status', NO_CLIENT),

  // ---- common.*: hardware, network, carrier
  {
    name: 'common.wifi_mac_address',
    type: 'string',
    description: 'Wi-Fi MAC address',
    source: 'f.wifiMac',
    fill: 'DeviceInformation',
    fillNote: 'DeviceInformation WiFiMAC, registration or PUT attributes',
    sort: { column: 'wifiMac' },
  },
  reportedInfo('common.ethernet_mac', 'string', 'Ethernet MAC address', 'EthernetMAC'),
  {
    name: 'common.ip_address',
    type: 'string',
    description: 'IP address',
    source: 'f.ipAddress',
    fill: 'registration',
    fillNote: 'registration or PUT attributes (MDM does not report it)',
    sort: { column: 'ipAddress' },
  },
  {
    name: 'common.current_phone_number',
    type: 'string',
    description: 'Phone number of the SIM in use',
    source: 'f.phoneNumber',
    fill: 'DeviceInformation',
    fillNote: 'DeviceInformation PhoneNumber, registration or PUT attributes',
    sort: { column: 'phoneNumber' },
  },
  {
    name: 'common.battery_level',
    type: 'number',
    description: 'Battery level in percent',
    source: `(typeof f.info['BatteryLevel'] === 'number' && f.info['BatteryLevel'] >= 0 ? Math.round(f.info['BatteryLevel'] * 100) : null)`,
    fill: 'DeviceInformation',
    fillNote: 'DeviceInformation BatteryLevel (0..1) as a percentage',
  },
  {
    ...reportedInfo('common.storage_capacity', 'number', 'Storage capacity in GB', 'DeviceCapacity'),
    source: infoGigabytes('DeviceCapacity'),
  },
  {
    ...reportedInfo('common.storage_free', 'number', 'Free storage in GB', 'AvailableDeviceCapacity'),
    source: infoGigabytes('AvailableDeviceCapacity'),
  },
  notReported('common.memory_capacity', 'number', 'Memory (RAM) capacity', NOT_REPORTED_IOS),
  notReported('common.memory_free', 'number', 'Free memory (RAM)', NOT_REPORTED_IOS),
  reportedInfo('common.home_operator_name', 'string', 'Home carrier (of the SIM)', 'SubscriberCarrierNetwork'),
  reportedInfo('common.current_operator_name', 'string', 'Carrier of the network in use', 'CurrentCarrierNetwork'),
  notReported('common.home_country_code', 'string', 'Home country code', NOT_REPORTED_IOS),
  notReported('common.home_country_name', 'string', 'Home country name', NOT_REPORTED_IOS),
  notReported('common.current_country_code', 'string', 'Current country code', NOT_REPORTED_IOS),
  notReported('common.current_country_name', 'string', 'Current country name', NOT_REPORTED_IOS),
  notReported('common.language', 'string', 'Device language', NOT_REPORTED_IOS),
  notReported('common.locale', 'string', 'Device locale', NOT_REPORTED_IOS),
  notReported('common.location', 'string', 'Last known location', NO_CLIENT),
  notReported('common.location_last_captured_at', 'date', 'When the location was captured', NO_CLIENT),
  notReported('common.client_name', 'string', 'Mobile@Work client name', NO_CLIENT),
  notReported('common.client_version', 'version', 'Mobile@Work client version', NO_CLIENT),
  notReported('common.clientId', 'number', 'Mobile@Work client id', NO_CLIENT),

  // ---- ios.*: DeviceInformation answers, under the names Core gives them
  {
    name: 'ios.DeviceName',
    type: 'string',
    description: 'Device name set by the user',
    source: 'f.deviceName',
    fill: 'DeviceInformation',
    fillNote: 'registration, DeviceInformation DeviceName',
    sort: { column: 'deviceName' },
  },
  {
    name: 'ios.iPhone UDID',
    type: 'string',
    description: 'UDID',
    source: 'f.udid',
    fill: 'registration',
    fillNote: 'registration or OTA enrollment',
    sort: { column: 'udid' },
    aliases: ['ios.iPhoneUDID'],
  },
  {
    name: 'ios.iPhone MAC_ADDRESS_EN0',
    type: 'string',
    description: 'Wi-Fi MAC address (en0)',
    source: 'f.wifiMac',
    fill: 'DeviceInformation',
    fillNote: 'DeviceInformation WiFiMAC, as common.wifi_mac_address',
    sort: { column: 'wifiMac' },
    aliases: ['ios.iPhoneMAC_ADDRESS_EN0'],
  },
  {
    name: 'ios.iPhone VERSION',
    type: 'version',
    description: 'iOS version',
    source: 'f.osVersion',
    fill: 'DeviceInformation',
    fillNote: 'DeviceInformation OSVersion, as common.os_version',
    sort: { column: 'osVersionKey' },
    aliases: ['ios.iPhoneVERSION'],
  },
  { ...reportedInfo('ios.iPhone ICCID', 'string', 'ICCID of the SIM', 'ICCID'), aliases: ['ios.iPhoneICCID'] },
  reportedInfo('ios.Current MCC', 'string', 'Mobile country code of the network in use', 'CurrentMCC'),
  reportedInfo('ios.Current MNC', 'string', 'Mobile network code of the network in use', 'CurrentMNC'),
  reportedInfo('ios.Subscriber MCC', 'string', 'Mobile country code of the SIM', 'SubscriberMCC'),
  reportedInfo('ios.BuildVersion', 'string', 'OS build', 'BuildVersion'),
  reportedInfo('ios.ModelName', 'string', 'Model name, e.g. iPhone', 'ModelName'),
  reportedInfo('ios.Model', 'string', 'Model number, e.g. MD786LL', 'Model'),
  reportedInfo('ios.ProductName', 'string', 'Hardware id, e.g. iPhone15,2', 'ProductName'),
  reportedInfo('ios.MEID', 'string', 'MEID', 'MEID'),
  reportedInfo('ios.BluetoothMAC', 'string', 'Bluetooth MAC address', 'BluetoothMAC'),
  reportedInfo('ios.IsSupervised', 'boolean', 'Supervised', 'IsSupervised'),
  reportedInfo('ios.IsActivationLockEnabled', 'boolean', 'Activation Lock on', 'IsActivationLockEnabled'),
  reportedInfo('ios.IsDeviceLocatorServiceEnabled', 'boolean', 'Find My on', 'IsDeviceLocatorServiceEnabled'),
  reportedInfo('ios.IsRoaming', 'boolean', 'Roaming', 'IsRoaming'),
  reportedInfo('ios.DataRoamingEnabled', 'boolean', 'Data roaming allowed', 'DataRoamingEnabled'),
  reportedInfo('ios.VoiceRoamingEnabled', 'boolean', 'Voice roaming allowed', 'VoiceRoamingEnabled'),
  reportedInfo('ios.PersonalHotspotEnabled', 'boolean', 'Personal hotspot on', 'PersonalHotspotEnabled'),
  reportedInfo('ios.IsMDMLostModeEnabled', 'boolean', 'MDM Lost Mode on', 'IsMDMLostModeEnabled'),
  reportedInfo('ios.AwaitingConfiguration', 'boolean', 'Waiting in Setup Assistant (DEP)', 'AwaitingConfiguration'),
  {
    name: 'ios.PasscodePresent',
    type: 'boolean',
    description: 'A passcode is set',
    source: securityBoolean('PasscodePresent'),
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo PasscodePresent',
  },
  {
    name: 'ios.PasscodeCompliant',
    type: 'boolean',
    description: 'The passcode meets the requirements',
    source: securityBoolean('PasscodeCompliant'),
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo PasscodeCompliant',
  },
  {
    name: 'ios.HardwareEncryptionCaps',
    type: 'number',
    description: 'Encryption capabilities bitmask: 1 block-level, 2 file-level',
    source: securityNumber('HardwareEncryptionCaps'),
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo HardwareEncryptionCaps',
  },
  {
    name: 'ios.EnrolledViaDEP',
    type: 'boolean',
    description: 'Enrolled through Automated Device Enrollment',
    source: securityBoolean('EnrolledViaDEP'),
    fill: 'SecurityInfo',
    fillNote: 'SecurityInfo ManagementStatus.EnrolledViaDEP',
  },
  notReported('ios.wakeup_status', 'string', 'Status of the last MDM wake-up', 'not kept by mockiron: always null here'),

  // ---- android.* and windows_phone.*: named by clients, not reported here
  notReported('android.afw_capable', 'boolean', 'Android Enterprise capable', ANDROID_ONLY),
  notReported('android.attestation', 'string', 'SafetyNet attestation result', ANDROID_ONLY),
  notReported('android.registration_status', 'string', 'Android registration status', ANDROID_ONLY),
  notReported('android.security_patch', 'date', 'Android security patch level', ANDROID_ONLY),
  notReported('windows_phone.win10_antivirus_status', 'string', 'Windows antivirus status', WINDOWS_ONLY),
  notReported('windows_phone.health_data_bit_locker_status', 'string', 'Windows BitLocker status', WINDOWS_ONLY),

  // ---- user.*: the device's user
  {
    name: 'user.user_id',
    type: 'string',
    description: 'User id',
    source: 'f.userId',
    fill: 'registration',
    fillNote: 'the user named at registration or by PUT attributes',
    sort: { userColumn: 'userId' },
  },
  {
    name: 'user.email_address',
    type: 'string',
    description: 'User email address',
    source: 'f.email',
    fill: 'registration',
    fillNote: "the user's email",
    sort: { userColumn: 'email' },
  },
  {
    name: 'user.display_name',
    type: 'string',
    description: 'User display name',
    source: 'f.displayName',
    fill: 'registration',
    fillNote: "the user's display name",
    sort: { userColumn: 'displayName' },
  },
  {
    name: 'user.sam_account_name',
    type: 'string',
    description: 'User account name (sAMAccountName for LDAP users)',
    source: 'f.userId',
    fill: 'derived',
    fillNote: 'the user id: mockiron has no LDAP users',
    sort: { userColumn: 'userId' },
  },
];

export const CUSTOM_DEVICE_PREFIX = 'custom.device.';
export const CUSTOM_ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const BUILT_IN_BY_LOWER_NAME = new Map(
  BUILT_IN_FIELDS.flatMap((field) => [field.name, ...(field.aliases ?? [])].map((name) => [name.toLowerCase(), field] as const)),
);

/**
 * Names written without their namespace ("SerialNumber", "retired", as some Core clients send
 * them), lower-cased: the one field with that local name, or null when several share it.
 */
const BUILT_IN_BY_LOCAL_NAME = new Map<string, FieldDefinition | null>();
for (const field of BUILT_IN_FIELDS) {
  const local = field.name.slice(field.name.indexOf('.') + 1).toLowerCase();
  BUILT_IN_BY_LOCAL_NAME.set(local, BUILT_IN_BY_LOCAL_NAME.has(local) ? null : field);
}

export type ResolvedField =
  { kind: 'builtin'; definition: FieldDefinition } | { kind: 'custom'; definition: FieldDefinition; attribute: string };

export type FieldLookup =
  ResolvedField | { kind: 'unknown'; suggestion: string | undefined } | { kind: 'bad-custom-name'; attribute: string };

/** Resolves a field name case-insensitively; custom attribute names keep the case they were written in. */
export function lookupField(name: string): FieldLookup {
  const lower = name.toLowerCase();
  const builtin = BUILT_IN_BY_LOWER_NAME.get(lower) ?? (lower.includes('.') ? undefined : BUILT_IN_BY_LOCAL_NAME.get(lower));
  if (builtin) return { kind: 'builtin', definition: builtin };
  if (lower.startsWith(CUSTOM_DEVICE_PREFIX)) {
    const attribute = name.slice(CUSTOM_DEVICE_PREFIX.length);
    if (!CUSTOM_ATTRIBUTE_NAME.test(attribute)) return { kind: 'bad-custom-name', attribute };
    return { kind: 'custom', definition: customFieldDefinition(attribute), attribute };
  }
  return { kind: 'unknown', suggestion: suggestFieldName(name) };
}

function customFieldDefinition(attribute: string): FieldDefinition {
  return {
    name: CUSTOM_DEVICE_PREFIX + attribute,
    type: 'string',
    description: `Custom device attribute ${attribute}`,
    // The compiler replaces this: the attribute name is passed as a constant, never spliced.
    source: 'f.custom',
    fill: 'registration',
    fillNote: 'PUT /api/v2/devices/{uuid}/attributes',
  };
}

/** The closest registry name by edit distance, if it is close enough to be a plausible typo. */
export function suggestFieldName(input: string): string | undefined {
  const wanted = input.toLowerCase();
  // Allow about one edit per three characters, so short inputs do not match everything.
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const field of BUILT_IN_FIELDS) {
    const full = field.name.toLowerCase();
    // Also compare against the part after the namespace, so "platform" finds "common.platform".
    const local = full.slice(full.indexOf('.') + 1);
    const distance = Math.min(editDistance(wanted, full), editDistance(wanted, local));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = field.name;
    }
  }
  if (bestDistance <= limit) return best;
  // Two names run together by a missing comma: suggest the first ("common.imeicommon.model").
  const prefixOf = BUILT_IN_FIELDS.filter((field) => wanted.startsWith(field.name.toLowerCase())).sort(
    (a, b) => b.name.length - a.name.length,
  );
  if (prefixOf.length > 0) return prefixOf[0]!.name;
  // A truncated name ("user.email", "serial") is worth suggesting even when far in edits.
  if (wanted.length < 3) return undefined;
  return BUILT_IN_FIELDS.find((field) => {
    const full = field.name.toLowerCase();
    return full.startsWith(wanted) || full.slice(full.indexOf('.') + 1).startsWith(wanted);
  })?.name;
}

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps as one each. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus transpositions, so "modle" is 1 from "model".
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row[j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

export interface SearchField {
  name: string;
  type: FieldType;
  description: string;
  values?: string[];
  /** What fills the value here: registration, DeviceInformation, SecurityInfo, derived, not reported. */
  filledBy: FieldFill;
  /** How, in a few words (the DeviceInformation key, the rule, or why it stays null). */
  source: string;
  /** Accepted as sortField. */
  sortable: boolean;
}

/**
 * Fields for GET /api/v2/devices/search_fields. Custom attributes are free-form, so callers
 * pass the attribute names they know about (e.g. those present in the database).
 */
export function searchFields(options: { customAttributeNames?: Iterable<string> } = {}): SearchField[] {
  const fields: SearchField[] = BUILT_IN_FIELDS.map((field) => ({
    name: field.name,
    type: field.type,
    description: field.description,
    ...(field.values ? { values: [...field.values] } : {}),
    filledBy: field.fill,
    source: field.fillNote,
    sortable: field.sort !== undefined,
  }));
  const custom = [...new Set(options.customAttributeNames ?? [])].filter((attribute) => CUSTOM_ATTRIBUTE_NAME.test(attribute)).sort();
  for (const attribute of custom) {
    fields.push({
      name: CUSTOM_DEVICE_PREFIX + attribute,
      type: 'string',
      description: `Custom device attribute ${attribute}`,
      filledBy: 'registration',
      source: 'PUT /api/v2/devices/{uuid}/attributes',
      sortable: false,
    });
  }
  return fields;
}

/** All built-in field definitions, in registry order. */
export function builtInFields(): readonly FieldDefinition[] {
  return BUILT_IN_FIELDS;
}

/** Built-in fields that have a column to sort on, by canonical name. */
export function sortableFields(): ReadonlyMap<string, FieldSort> {
  return new Map(BUILT_IN_FIELDS.flatMap((field) => (field.sort ? [[field.name, field.sort] as const] : [])));
}

/**
 * A reader per built-in field for the fields= projection, compiled once from the same source
 * expressions the criteria compiler uses, so a projected value is the value criteria compare.
 */
export interface FieldReader {
  definition: FieldDefinition;
  read: (facts: DeviceFacts) => unknown;
}

let readers: ReadonlyMap<FieldDefinition, FieldReader> | undefined;

export function fieldReader(definition: FieldDefinition): FieldReader {
  readers ??= new Map(
    BUILT_IN_FIELDS.map((field) => {
      const raw = new Function('f', `"use strict"; return ${field.source};`) as (facts: DeviceFacts) => unknown;
      return [field, { definition: field, read: (facts: DeviceFacts) => answerValue(field, raw(facts)) }] as const;
    }),
  );
  const reader = readers.get(definition);
  if (!reader) throw new Error(`not a built-in field: ${definition.name}`);
  return reader;
}

/** A value as Core answers it: dates as ISO-8601 text, reason lists as arrays, unknown as null. */
function answerValue(field: FieldDefinition, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (field.list) return typeof value === 'string' && value !== '' ? value.split(',') : [];
  return value;
}

/**
 * Fields a free-text search (query=samsung, as Core's portal search box sends it) looks in,
 * case-insensitively, for the text anywhere in the value.
 */
export const FREE_TEXT_FIELDS: readonly string[] = [
  'common.uuid',
  'common.platform_name',
  'common.model',
  'common.manufacturer',
  'common.SerialNumber',
  'common.imei',
  'common.wifi_mac_address',
  'common.ip_address',
  'common.current_phone_number',
  'ios.DeviceName',
  'user.user_id',
  'user.email_address',
  'user.display_name',
];

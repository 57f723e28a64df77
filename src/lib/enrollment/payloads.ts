// Enrollment payloads, as plist dictionaries (write with toXmlPlist, sign with signCms):
//  1. the OTA "Profile Service" payload that asks the device for its attributes,
//  2. the MDM enrollment profile: our CA (com.apple.security.root), a device identity
//     (com.apple.security.pkcs12 or com.apple.security.scep) and com.apple.mdm pointing at it,
// and decodeDeviceAttributes for the device's answer to (1).
// Keys and types follow Apple's mdm/profiles/*.yaml; "Profile Service" has no YAML there and
// follows Apple's Over-the-Air Profile Delivery and Configuration guide.
// PayloadUUIDs are UUIDv5 names of the payload identifiers in a caller-supplied namespace, so the
// same inputs always give the same profile (and a re-enrollment replaces, not duplicates).

import type { PlistDict, PlistLimits } from '../plist/index.js';
import { decodePlistDict, optionalString, requiredString } from '../mdm-protocol/fields.js';
import { MdmProtocolError } from '../mdm-protocol/errors.js';
import { isUuid, uuidV5 } from '../profiles/uuid.js';

export class EnrollmentPayloadError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'EnrollmentPayloadError';
  }
}

export interface PayloadMetadata {
  /** Reverse-DNS PayloadIdentifier. */
  identifier: string;
  displayName: string;
  description?: string;
  organization?: string;
}

/** The name-based PayloadUUID of a payload identifier (upper-case, as Apple's tools write them). */
export function enrollmentPayloadUuid(namespace: string, payloadIdentifier: string): string {
  return uuidV5(namespace, `mockiron/enrollment/${payloadIdentifier}`).toUpperCase();
}

function checkNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || !isUuid(namespace))
    throw new EnrollmentPayloadError(`namespace is not a UUID: ${String(namespace)}`, 'namespace');
}

function nonEmpty(value: string | undefined, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new EnrollmentPayloadError(`${field} must be a non-empty string`, field);
  return value;
}

function absoluteUrl(value: string, field: string): string {
  nonEmpty(value, field);
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new EnrollmentPayloadError(`${field} must be an absolute http(s) URL, got "${value}"`, field);
  }
  return value;
}

function bytes(value: Uint8Array, field: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength === 0) throw new EnrollmentPayloadError(`${field} must be non-empty bytes`, field);
  return value;
}

/** The keys every payload carries, in Apple's order of importance. */
function payloadHeader(namespace: string, type: string, meta: PayloadMetadata): PlistDict {
  const identifier = nonEmpty(meta.identifier, 'PayloadIdentifier');
  return {
    PayloadType: type,
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: enrollmentPayloadUuid(namespace, identifier),
    PayloadDisplayName: nonEmpty(meta.displayName, 'PayloadDisplayName'),
    PayloadDescription: meta.description,
    PayloadOrganization: meta.organization,
  };
}

// ---------------------------------------------------------------------------------------------
// Profile Service (OTA phase 1)

/** Attributes a Profile Service may ask for. */
export type DeviceAttributeName =
  'UDID' | 'VERSION' | 'PRODUCT' | 'SERIAL' | 'IMEI' | 'MEID' | 'DEVICE_NAME' | 'MAC_ADDRESS_EN0' | 'ICCID' | 'COMPROMISED';

const KNOWN_DEVICE_ATTRIBUTES: ReadonlySet<string> = new Set<DeviceAttributeName>([
  'UDID',
  'VERSION',
  'PRODUCT',
  'SERIAL',
  'IMEI',
  'MEID',
  'DEVICE_NAME',
  'MAC_ADDRESS_EN0',
  'ICCID',
  'COMPROMISED',
]);

export const DEFAULT_DEVICE_ATTRIBUTES: readonly DeviceAttributeName[] = ['UDID', 'VERSION', 'PRODUCT', 'SERIAL', 'IMEI', 'MEID'];

export interface ProfileServiceInput {
  namespace: string;
  payload: PayloadMetadata;
  /** Where the device POSTs its signed attributes (our /ota/profile). */
  url: string;
  /** Echoed back as CHALLENGE: ties the answer to this enrollment invitation. */
  challenge: string;
  deviceAttributes?: readonly DeviceAttributeName[];
}

/** A top-level "Profile Service" payload (it is not wrapped in a Configuration profile). */
export function buildProfileServicePayload(input: ProfileServiceInput): PlistDict {
  checkNamespace(input.namespace);
  const attributes = [...(input.deviceAttributes ?? DEFAULT_DEVICE_ATTRIBUTES)];
  if (!attributes.includes('UDID')) throw new EnrollmentPayloadError('DeviceAttributes must include UDID', 'DeviceAttributes');
  const unknown = attributes.filter((a) => !KNOWN_DEVICE_ATTRIBUTES.has(a));
  if (unknown.length > 0) throw new EnrollmentPayloadError(`unknown DeviceAttributes: ${unknown.join(', ')}`, 'DeviceAttributes');
  return {
    ...payloadHeader(input.namespace, 'Profile Service', input.payload),
    PayloadContent: {
      URL: absoluteUrl(input.url, 'URL'),
      DeviceAttributes: [...new Set(attributes)],
      Challenge: nonEmpty(input.challenge, 'Challenge'),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MDM enrollment profile

/** The CA that issued device identities and our TLS/signing certificates, as DER. */
export function buildRootCertificatePayload(input: {
  namespace: string;
  payload: PayloadMetadata;
  certificateDer: Uint8Array;
  fileName?: string;
}): PlistDict {
  checkNamespace(input.namespace);
  return {
    ...payloadHeader(input.namespace, 'com.apple.security.root', input.payload),
    PayloadCertificateFileName: input.fileName,
    PayloadContent: bytes(input.certificateDer, 'PayloadContent'),
  };
}

export interface Pkcs12IdentityInput {
  kind: 'pkcs12';
  /** PKCS#12 (key + certificate) bytes. */
  pkcs12: Uint8Array;
  password: string;
  fileName?: string;
}

/** One relative distinguished name: [oid-or-short-name, value] pairs, e.g. [['CN', 'iPhone']]. */
export type ScepSubjectRdn = ReadonlyArray<readonly [string, string]>;

export interface ScepIdentityInput {
  kind: 'scep';
  url: string;
  /** The CA's name (SCEP "CA-IDENT"). */
  name?: string;
  /** RDNs in order, e.g. scepSubject([['O', 'mockiron'], ['CN', 'device']]). */
  subject: readonly ScepSubjectRdn[];
  challenge: string;
  /** Defaults to 2048. */
  keysize?: 1024 | 2048 | 4096;
  /** Bitmask: 1 signing, 4 encryption; defaults to 5 (both). */
  keyUsage?: number;
  /** SHA-1 or MD5 of the CA certificate, to pin the SCEP CA. */
  caFingerprint?: Uint8Array;
  retries?: number;
  retryDelay?: number;
  /** Apple's SubjectAltName dictionary: one value (or several) per type the CA should put in the certificate. */
  subjectAltName?: Partial<Record<'rfc822Name' | 'dNSName' | 'uniformResourceIdentifier' | 'ntPrincipalName', string | string[]>>;
}

export type DeviceIdentityInput = Pkcs12IdentityInput | ScepIdentityInput;

/** One RDN per pair: [['O','x'],['CN','y']] → [[['O','x']],[['CN','y']]], the nesting Apple expects. */
export function scepSubject(pairs: ReadonlyArray<readonly [string, string]>): ScepSubjectRdn[] {
  return pairs.map((pair) => [pair]);
}

export function buildPkcs12Payload(input: { namespace: string; payload: PayloadMetadata } & Omit<Pkcs12IdentityInput, 'kind'>): PlistDict {
  checkNamespace(input.namespace);
  if (typeof input.password !== 'string') throw new EnrollmentPayloadError('Password must be a string', 'Password');
  return {
    ...payloadHeader(input.namespace, 'com.apple.security.pkcs12', input.payload),
    PayloadCertificateFileName: input.fileName,
    PayloadContent: bytes(input.pkcs12, 'PayloadContent'),
    Password: input.password,
  };
}

export function buildScepPayload(input: { namespace: string; payload: PayloadMetadata } & Omit<ScepIdentityInput, 'kind'>): PlistDict {
  checkNamespace(input.namespace);
  if (!Array.isArray(input.subject) || input.subject.length === 0)
    throw new EnrollmentPayloadError('Subject must have at least one RDN', 'Subject');
  const subject = input.subject.map((rdn, i) => {
    if (!Array.isArray(rdn) || rdn.length === 0)
      throw new EnrollmentPayloadError(`Subject[${i}] must be a non-empty array of pairs`, `Subject[${i}]`);
    return rdn.map((pair, j) => {
      if (!Array.isArray(pair) || pair.length !== 2 || pair.some((part) => typeof part !== 'string' || part === '')) {
        throw new EnrollmentPayloadError(`Subject[${i}][${j}] must be a [type, value] pair of non-empty strings`, `Subject[${i}][${j}]`);
      }
      return [pair[0], pair[1]];
    });
  });
  const keysize = input.keysize ?? 2048;
  if (![1024, 2048, 4096].includes(keysize)) throw new EnrollmentPayloadError('Keysize must be 1024, 2048 or 4096', 'Keysize');
  const keyUsage = input.keyUsage ?? 5;
  if (!Number.isInteger(keyUsage) || keyUsage < 0 || (keyUsage & ~5) !== 0) {
    throw new EnrollmentPayloadError('Key Usage must combine only 1 (signing) and 4 (encryption)', 'Key Usage');
  }
  return {
    ...payloadHeader(input.namespace, 'com.apple.security.scep', input.payload),
    PayloadContent: {
      URL: absoluteUrl(input.url, 'URL'),
      Name: input.name,
      Subject: subject,
      Challenge: nonEmpty(input.challenge, 'Challenge'),
      Keysize: keysize,
      'Key Type': 'RSA',
      'Key Usage': keyUsage,
      CAFingerprint: input.caFingerprint && bytes(input.caFingerprint, 'CAFingerprint'),
      Retries: input.retries,
      RetryDelay: input.retryDelay,
      SubjectAltName: input.subjectAltName && Object.keys(input.subjectAltName).length > 0 ? { ...input.subjectAltName } : undefined,
    },
  };
}

/** Every access right (bits 1..4096): what a full MDM server asks for. */
export const ALL_ACCESS_RIGHTS = 8191;

export interface MdmPayloadSettings {
  /** Where the device polls for commands (our /mdm/connect). */
  serverUrl: string;
  /** Where Authenticate/TokenUpdate/CheckOut go (our /mdm/checkin); ServerURL when absent. */
  checkInUrl?: string;
  /** APNs topic: the UID of the MDM push certificate. */
  topic: string;
  /** Defaults to ALL_ACCESS_RIGHTS. */
  accessRights?: number;
  /** Defaults to true: devices sign every request (Mdm-Signature header). */
  signMessage?: boolean;
  /** Defaults to true: the device sends CheckOut when the profile is removed. */
  checkOutWhenRemoved?: boolean;
  /** Defaults to ['com.apple.mdm.per-user-connections']. */
  serverCapabilities?: readonly string[];
  useDevelopmentApns?: boolean;
}

export function buildMdmPayload(
  input: { namespace: string; payload: PayloadMetadata; identityCertificateUuid: string } & MdmPayloadSettings,
): PlistDict {
  checkNamespace(input.namespace);
  if (!isUuid(input.identityCertificateUuid)) {
    throw new EnrollmentPayloadError('IdentityCertificateUUID must be the identity payload’s PayloadUUID', 'IdentityCertificateUUID');
  }
  const accessRights = input.accessRights ?? ALL_ACCESS_RIGHTS;
  if (!Number.isInteger(accessRights) || accessRights < 1 || accessRights > ALL_ACCESS_RIGHTS) {
    throw new EnrollmentPayloadError(`AccessRights must be an integer in 1..${ALL_ACCESS_RIGHTS}`, 'AccessRights');
  }
  return {
    ...payloadHeader(input.namespace, 'com.apple.mdm', input.payload),
    ServerURL: absoluteUrl(input.serverUrl, 'ServerURL'),
    CheckInURL: input.checkInUrl === undefined ? undefined : absoluteUrl(input.checkInUrl, 'CheckInURL'),
    Topic: nonEmpty(input.topic, 'Topic'),
    IdentityCertificateUUID: input.identityCertificateUuid,
    AccessRights: accessRights,
    SignMessage: input.signMessage ?? true,
    CheckOutWhenRemoved: input.checkOutWhenRemoved ?? true,
    ServerCapabilities: [...(input.serverCapabilities ?? ['com.apple.mdm.per-user-connections'])],
    UseDevelopmentAPNS: input.useDevelopmentApns,
  };
}

export interface EnrollmentProfileInput {
  namespace: string;
  /** The profile itself; payload identifiers are derived from profile.identifier. */
  profile: PayloadMetadata;
  /** DER of the CA the device must trust. */
  caCertificateDer: Uint8Array;
  identity: DeviceIdentityInput;
  mdm: MdmPayloadSettings;
}

/** The Configuration profile enrolling a device: [root CA, device identity, com.apple.mdm]. */
export function buildEnrollmentProfile(input: EnrollmentProfileInput): PlistDict {
  const { namespace, profile } = input;
  checkNamespace(namespace);
  const base = nonEmpty(profile.identifier, 'PayloadIdentifier');
  const organization = profile.organization;
  const root = buildRootCertificatePayload({
    namespace,
    payload: { identifier: `${base}.ca`, displayName: 'Certificate Authority', organization },
    certificateDer: input.caCertificateDer,
    fileName: 'ca.cer',
  });
  const identityMeta = { identifier: `${base}.identity`, displayName: 'Device Identity', organization };
  const identity =
    input.identity.kind === 'pkcs12'
      ? buildPkcs12Payload({ namespace, payload: identityMeta, ...input.identity })
      : buildScepPayload({ namespace, payload: identityMeta, ...input.identity });
  const mdm = buildMdmPayload({
    namespace,
    payload: { identifier: `${base}.mdm`, displayName: 'Mobile Device Management', organization },
    identityCertificateUuid: identity.PayloadUUID as string,
    ...input.mdm,
  });
  return {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: base,
    PayloadUUID: enrollmentPayloadUuid(namespace, base),
    PayloadDisplayName: nonEmpty(profile.displayName, 'PayloadDisplayName'),
    PayloadDescription: profile.description,
    PayloadOrganization: organization,
    PayloadContent: [root, identity, mdm],
  };
}

// ---------------------------------------------------------------------------------------------
// The device's answer to the Profile Service (OTA phase 2)

export interface DeviceAttributes {
  udid: string;
  /** Build version, e.g. "15E302". */
  version?: string;
  /** Hardware id, e.g. "iPhone7,2". */
  product?: string;
  serial?: string;
  imei?: string;
  meid?: string;
  deviceName?: string;
  macAddressEn0?: string;
  iccid?: string;
  /** The Profile Service's Challenge, echoed. Compare it with what was issued. */
  challenge?: string;
  raw: PlistDict;
}

/**
 * Reads the plist a device POSTs to the Profile Service URL: the content of the CMS structure,
 * after the caller has verified it, decoded within `limits` (the caller sizes them to its body
 * limit, as for check-in messages). Throws MdmProtocolError (NOT_A_PLIST, NOT_A_DICT,
 * MISSING_FIELD, INVALID_FIELD) naming the offending key.
 */
export function decodeDeviceAttributes(
  body: Uint8Array | string,
  options: { requireChallenge?: boolean; limits?: PlistLimits } = {},
): DeviceAttributes {
  const dict = decodePlistDict(body, 'device attributes', options.limits);
  const challenge = options.requireChallenge ? requiredString(dict, 'CHALLENGE', 'device attributes') : optionalString(dict, 'CHALLENGE');
  const attributes: DeviceAttributes = {
    udid: requiredString(dict, 'UDID', 'device attributes'),
    version: optionalString(dict, 'VERSION'),
    product: optionalString(dict, 'PRODUCT'),
    serial: optionalString(dict, 'SERIAL'),
    imei: optionalString(dict, 'IMEI'),
    meid: optionalString(dict, 'MEID'),
    deviceName: optionalString(dict, 'DEVICE_NAME'),
    macAddressEn0: optionalString(dict, 'MAC_ADDRESS_EN0'),
    iccid: optionalString(dict, 'ICCID'),
    challenge,
    raw: dict,
  };
  for (const key of Object.keys(attributes) as (keyof DeviceAttributes)[]) if (attributes[key] === undefined) delete attributes[key];
  return attributes;
}

export { MdmProtocolError };

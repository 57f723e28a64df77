// MachineInfo: the plist a device sends when it fetches its MDM enrollment profile in automated
// (ADE-style) enrollment, CMS-signed by the device identity. Keys and types follow Apple's
// other/machineinfo.yaml (apple/device-management): UDID, SERIAL, PRODUCT and VERSION are
// required; OS_VERSION is required from iOS 17 / macOS 14 only, so it is read as optional here
// (older devices do not send it). Every string is bounded: the values end up in the device record.

import type { PlistLimits } from '../plist/index.js';
import { decodePlistDict, optionalBoolean, optionalData, optionalString, requiredString } from '../mdm-protocol/fields.js';
import { MdmProtocolError } from '../mdm-protocol/errors.js';

export interface MachineInfo {
  udid: string;
  serial: string;
  /** Hardware id, e.g. "iPad8,1". */
  product: string;
  /** Build version, e.g. "21A329". */
  version: string;
  /** e.g. "17.0" (iOS 17 / macOS 14 and later). */
  osVersion?: string;
  supplementalBuildVersion?: string;
  supplementalOsVersionExtra?: string;
  imei?: string;
  meid?: string;
  /** The user's language, e.g. "en". */
  language?: string;
  mdmCanRequestSoftwareUpdate?: boolean;
  pairingToken?: Buffer;
  softwareUpdateDeviceId?: string;
}

/** Longest accepted value of each string key: generous for what Apple sends, small for a database row. */
export const MACHINE_INFO_MAX_LENGTHS = {
  UDID: 64,
  SERIAL: 64,
  PRODUCT: 64,
  VERSION: 32,
  OS_VERSION: 32,
  SUPPLEMENTAL_BUILD_VERSION: 32,
  SUPPLEMENTAL_OS_VERSION_EXTRA: 32,
  IMEI: 32,
  MEID: 32,
  LANGUAGE: 35,
  SOFTWARE_UPDATE_DEVICE_ID: 64,
} as const;
/** A watch pairing token is a short opaque value; bounded like the strings. */
export const MACHINE_INFO_MAX_PAIRING_TOKEN_BYTES = 1024;

type StringKey = keyof typeof MACHINE_INFO_MAX_LENGTHS;

// Identifiers (UDID, serial) are letters, digits and dashes in every form Apple uses
// (40 hex digits, 00008030-001A..., a UUID, C02XXXXXXXXX); other values are printable text.
const IDENTIFIER = /^[A-Za-z0-9-]+$/;
const PRINTABLE = /^[^\p{Cc}]+$/u;

function bounded(key: StringKey, value: string | undefined, pattern: RegExp = PRINTABLE): string | undefined {
  if (value === undefined) return undefined;
  const max = MACHINE_INFO_MAX_LENGTHS[key];
  if (value.length > max) throw new MdmProtocolError('INVALID_FIELD', `${key} is longer than ${max} characters`, key);
  if (value !== '' && !pattern.test(value)) throw new MdmProtocolError('INVALID_FIELD', `${key} holds characters it may not`, key);
  return value;
}

/**
 * Reads MachineInfo (the content of the CMS structure, after the caller verified it) within
 * `limits`. Throws MdmProtocolError (NOT_A_PLIST, NOT_A_DICT, MISSING_FIELD, INVALID_FIELD)
 * naming the offending key.
 */
export function decodeMachineInfo(body: Uint8Array | string, limits?: PlistLimits): MachineInfo {
  const dict = decodePlistDict(body, 'MachineInfo', limits);
  const required = (key: StringKey, pattern?: RegExp) => bounded(key, requiredString(dict, key, 'MachineInfo'), pattern)!;
  const optional = (key: StringKey) => {
    const value = bounded(key, optionalString(dict, key));
    return value === '' ? undefined : value;
  };
  const pairingToken = optionalData(dict, 'PAIRING_TOKEN');
  if (pairingToken && pairingToken.byteLength > MACHINE_INFO_MAX_PAIRING_TOKEN_BYTES) {
    throw new MdmProtocolError(
      'INVALID_FIELD',
      `PAIRING_TOKEN is longer than ${MACHINE_INFO_MAX_PAIRING_TOKEN_BYTES} bytes`,
      'PAIRING_TOKEN',
    );
  }
  const info: MachineInfo = {
    udid: required('UDID', IDENTIFIER),
    serial: required('SERIAL', IDENTIFIER),
    product: required('PRODUCT'),
    version: required('VERSION'),
    osVersion: optional('OS_VERSION'),
    supplementalBuildVersion: optional('SUPPLEMENTAL_BUILD_VERSION'),
    supplementalOsVersionExtra: optional('SUPPLEMENTAL_OS_VERSION_EXTRA'),
    imei: optional('IMEI'),
    meid: optional('MEID'),
    language: optional('LANGUAGE'),
    mdmCanRequestSoftwareUpdate: optionalBoolean(dict, 'MDM_CAN_REQUEST_SOFTWARE_UPDATE'),
    pairingToken,
    softwareUpdateDeviceId: optional('SOFTWARE_UPDATE_DEVICE_ID'),
  };
  for (const key of Object.keys(info) as (keyof MachineInfo)[]) if (info[key] === undefined) delete info[key];
  return info;
}

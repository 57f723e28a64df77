// The device's answer to the Profile Service as OTA phase 2 reads it, and MachineInfo as POST /mdm/enroll
// reads it: the pure decoders
// (src/lib/enrollment) within plist limits sized to that endpoint's body limit.
import { plistLimitsForBody } from '../lib/plist/index.js';
import { decodeDeviceAttributes, type DeviceAttributes } from '../lib/enrollment/payloads.js';
import { decodeMachineInfo, type MachineInfo } from '../lib/enrollment/machine-info.js';
import { DEVICE_BODY_LIMITS } from '../platform/http/device-limits.js';

/** Device attributes arrive in an OTA body: they decode within that endpoint's proportion. */
const DEVICE_ATTRIBUTES_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.otaProfile);

export function parseDeviceAttributes(body: Uint8Array | string, options: { requireChallenge?: boolean } = {}): DeviceAttributes {
  return decodeDeviceAttributes(body, { ...options, limits: DEVICE_ATTRIBUTES_PLIST_LIMITS });
}

/** MachineInfo arrives in a POST /mdm/enroll body: it decodes within that endpoint's proportion. */
const MACHINE_INFO_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.mdmEnroll);

export function parseMachineInfo(body: Uint8Array | string): MachineInfo {
  return decodeMachineInfo(body, MACHINE_INFO_PLIST_LIMITS);
}

// OTA phase 2 decodes a device's attributes within limits sized to that endpoint's body limit
// (64 KiB body → 256 KiB decoded); the pure decoder itself takes whatever limits its caller passes.
import { describe, expect, it } from 'vitest';
import { parseDeviceAttributes } from '../../../src/enrollment/device-attributes.js';
import { decodeDeviceAttributes, MdmProtocolError } from '../../../src/lib/enrollment/payloads.js';
import { DEFAULT_PLIST_LIMITS, plistLimitsForBody, toXmlPlist } from '../../../src/lib/plist/index.js';
import { DEVICE_BODY_LIMITS } from '../../../src/platform/http/device-limits.js';

const KiB = 1024;
const attributesWithDeviceName = (bytes: number) => toXmlPlist({ UDID: 'u-1', DEVICE_NAME: 'n'.repeat(bytes) });

describe('device attributes within the OTA endpoint limits', () => {
  const otaDecodedLimit = plistLimitsForBody(DEVICE_BODY_LIMITS.otaProfile).maxDecodedBytes;

  it('the OTA limit is far below the default one, so the cases below tell them apart', () => {
    expect(otaDecodedLimit).toBe(256 * KiB);
    expect(DEFAULT_PLIST_LIMITS.maxDecodedBytes).toBeGreaterThan(4 * otaDecodedLimit);
  });

  it('reads attributes that decode within the OTA limit', () => {
    expect(parseDeviceAttributes(attributesWithDeviceName(200 * KiB)).deviceName).toHaveLength(200 * KiB);
  });

  it('refuses attributes that decode beyond the OTA limit, which the decoder alone (default limits) reads', () => {
    const body = attributesWithDeviceName(300 * KiB);
    expect(decodeDeviceAttributes(body).deviceName).toHaveLength(300 * KiB);
    try {
      parseDeviceAttributes(body);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MdmProtocolError);
      expect((err as MdmProtocolError).code).toBe('NOT_A_PLIST');
    }
  });

  it('passes requireChallenge through', () => {
    expect(() => parseDeviceAttributes(toXmlPlist({ UDID: 'u-1' }), { requireChallenge: true })).toThrow(/CHALLENGE is missing/);
    expect(parseDeviceAttributes(toXmlPlist({ UDID: 'u-1', CHALLENGE: 'c' }), { requireChallenge: true }).challenge).toBe('c');
  });
});

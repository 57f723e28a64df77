// MachineInfo as Apple documents it (apple/device-management other/machineinfo.yaml): UDID,
// SERIAL, PRODUCT and VERSION required; OS_VERSION (iOS 17+), SUPPLEMENTAL_*, IMEI, MEID,
// LANGUAGE, MDM_CAN_REQUEST_SOFTWARE_UPDATE (boolean), PAIRING_TOKEN (data) and
// SOFTWARE_UPDATE_DEVICE_ID optional. The decoder bounds every value; POST /mdm/enroll decodes
// within plist limits sized to its 64 KiB body limit.
import { describe, expect, it } from 'vitest';
import { parseMachineInfo } from '../../../src/enrollment/device-attributes.js';
import { decodeMachineInfo, MACHINE_INFO_MAX_LENGTHS } from '../../../src/lib/enrollment/machine-info.js';
import { MdmProtocolError } from '../../../src/lib/mdm-protocol/errors.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';

const required = { UDID: '00008030-001A35E03C38802E', SERIAL: 'DMPXK0ABCDEF', PRODUCT: 'iPad8,1', VERSION: '21A329' };

function refusal(dict: PlistDict | string): MdmProtocolError {
  try {
    decodeMachineInfo(typeof dict === 'string' ? dict : toXmlPlist(dict));
  } catch (err) {
    expect(err).toBeInstanceOf(MdmProtocolError);
    return err as MdmProtocolError;
  }
  throw new Error('expected a refusal');
}

describe('decodeMachineInfo', () => {
  it('reads every key Apple documents, typed as the schema says', () => {
    const info = decodeMachineInfo(
      toXmlPlist({
        ...required,
        OS_VERSION: '17.0',
        SUPPLEMENTAL_BUILD_VERSION: '21A329a',
        SUPPLEMENTAL_OS_VERSION_EXTRA: '(a)',
        IMEI: '35 123456 789012 3',
        MEID: '35123456789012',
        LANGUAGE: 'en-GB',
        MDM_CAN_REQUEST_SOFTWARE_UPDATE: true,
        PAIRING_TOKEN: Buffer.from('token'),
        SOFTWARE_UPDATE_DEVICE_ID: 'J317AP',
      }),
    );
    expect(info).toEqual({
      udid: required.UDID,
      serial: required.SERIAL,
      product: 'iPad8,1',
      version: '21A329',
      osVersion: '17.0',
      supplementalBuildVersion: '21A329a',
      supplementalOsVersionExtra: '(a)',
      imei: '35 123456 789012 3',
      meid: '35123456789012',
      language: 'en-GB',
      mdmCanRequestSoftwareUpdate: true,
      pairingToken: Buffer.from('token'),
      softwareUpdateDeviceId: 'J317AP',
    });
  });

  it('reads what a device before iOS 17 sends: the four required keys, no OS_VERSION', () => {
    expect(decodeMachineInfo(toXmlPlist(required))).toEqual({
      udid: required.UDID,
      serial: required.SERIAL,
      product: 'iPad8,1',
      version: '21A329',
    });
  });

  it.each(['UDID', 'SERIAL', 'PRODUCT', 'VERSION'])('refuses MachineInfo without %s, naming it', (key) => {
    const dict: PlistDict = { ...required };
    delete dict[key];
    expect(refusal(dict)).toMatchObject({ code: 'MISSING_FIELD', field: key });
  });

  it('refuses wrong types, naming the key', () => {
    expect(refusal({ ...required, SERIAL: 42 })).toMatchObject({ code: 'INVALID_FIELD', field: 'SERIAL' });
    expect(refusal({ ...required, MDM_CAN_REQUEST_SOFTWARE_UPDATE: 'yes' })).toMatchObject({ field: 'MDM_CAN_REQUEST_SOFTWARE_UPDATE' });
    expect(refusal({ ...required, PAIRING_TOKEN: 'text' })).toMatchObject({ field: 'PAIRING_TOKEN' });
    expect(refusal(toXmlPlist(['UDID']))).toMatchObject({ code: 'NOT_A_DICT' });
    expect(refusal('UDID=1')).toMatchObject({ code: 'NOT_A_PLIST' });
  });

  it('bounds every string at its documented length, and identifiers to letters, digits and dashes', () => {
    for (const [key, max] of Object.entries(MACHINE_INFO_MAX_LENGTHS)) {
      const base = { ...required, [key]: (key === 'UDID' || key === 'SERIAL' ? 'A' : 'x').repeat(max) };
      expect(() => decodeMachineInfo(toXmlPlist(base)), key).not.toThrow();
      expect(refusal({ ...base, [key]: 'A'.repeat(max + 1) }), key).toMatchObject({ code: 'INVALID_FIELD', field: key });
    }
    expect(refusal({ ...required, UDID: 'abc def' })).toMatchObject({ field: 'UDID' });
    expect(refusal({ ...required, SERIAL: 'ABC/../1' })).toMatchObject({ field: 'SERIAL' });
    expect(refusal({ ...required, PRODUCT: 'iPad\t8,1' })).toMatchObject({ field: 'PRODUCT' });
    expect(refusal({ ...required, PAIRING_TOKEN: Buffer.alloc(1025) })).toMatchObject({ field: 'PAIRING_TOKEN' });
  });

  it('POST /mdm/enroll decodes within limits sized to its body: a 300 KB value the default limits read is refused', () => {
    const big = toXmlPlist({ ...required, EXTRA: 'x'.repeat(300 * 1024) });
    expect(decodeMachineInfo(big).udid).toBe(required.UDID);
    expect(() => parseMachineInfo(big)).toThrow(MdmProtocolError);
  });
});

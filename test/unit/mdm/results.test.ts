import { describe, expect, it } from 'vitest';
import {
  IdlePollDecoder,
  MdmProtocolError,
  RESULT_PAYLOAD_PARSERS,
  decodeCommandResult,
  parseDeviceInformation,
  parseInstalledApplicationList,
  parseManagedApplicationAttributes,
  parseManagedApplicationList,
  parseProfileList,
  parseResultPayload,
  parseSecurityInfo,
  resultRequestType,
} from '../../../src/lib/mdm-protocol/index.js';
import { PlistReal, toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { commandYaml, deviceMessage } from './helpers.js';

function result(path: string) {
  return decodeCommandResult(deviceMessage(path));
}

function protocolError(fn: () => unknown): MdmProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MdmProtocolError) return err;
    throw new Error(`expected MdmProtocolError, got ${String(err)}`);
  }
  throw new Error('expected MdmProtocolError, nothing was thrown');
}

const IPAD = '1c111c111c111c111c111c111c111c111c111c11';

describe('decodeCommandResult: envelope', () => {
  it('reads NotNow', () => {
    expect(result('commandment/NotNow/iOS-11.3.1.xml')).toMatchObject({
      status: 'NotNow',
      commandUuid: 'bb5d7813-e7c3-4279-b954-4b678925de5f',
      udid: IPAD,
      errorChain: [],
      channel: 'device',
    });
  });

  it('reads CommandFormatError', () => {
    expect(result('commandment/Errors/iOS-11.3.1-CommandFormatError.xml')).toMatchObject({
      status: 'CommandFormatError',
      commandUuid: '52aab5d2-6a61-4fe8-b685-44f8b56972d0',
    });
  });

  it('reads an Error with a two-item ErrorChain', () => {
    const r = result('commandment/Errors/iOS-11.3.1-AvailableOSUpdatesFailure.xml');
    expect(r.status).toBe('Error');
    expect(r.errorChain).toEqual([
      { errorCode: 2213, errorDomain: 'DeviceManagement.error', localizedDescription: 'No update available.' },
      {
        errorCode: 3,
        errorDomain: 'com.apple.softwareupdateservices.errors',
        // The fixture carries the escaped bytes literally (a Python repr artefact upstream)
        localizedDescription: String.raw`The operation couldn\xe2\x80\x99t be completed. (com.apple.softwareupdateservices.errors error 3.)`,
      },
    ]);
  });

  it('reads USEnglishDescription and non-ASCII text', () => {
    const r = result('commandment/Errors/error_invalid_request_type.plist');
    expect(r.errorChain).toEqual([
      {
        errorCode: 12021,
        errorDomain: 'MCMDMErrorDomain',
        localizedDescription: '“OSUpdateStatus” is not a valid request type.',
        usEnglishDescription: '“OSUpdateStatus” is not a valid request type.',
      },
    ]);
    expect(result('commandment/Errors/iOS-11.3.1-RemoveProfile-Unmanaged.xml').errorChain[0]).toMatchObject({
      errorCode: 12013,
      errorDomain: 'MCMDMErrorDomain',
    });
  });

  it('reads the echoed RequestType when a device sends it', () => {
    const r = result('commandment/Errors/10.12.5-invalid-command.xml');
    expect(r.requestType).toBe('RemoveProfile');
    expect(r.errorChain[0]).toMatchObject({ errorCode: 97, errorDomain: 'MDMClientError' });
  });

  it('reads Idle, which has no CommandUUID', () => {
    const r = decodeCommandResult(toXmlPlist({ Status: 'Idle', UDID: IPAD }));
    expect(r.status).toBe('Idle');
    expect(r.commandUuid).toBeUndefined();
  });

  it('detects user-channel results', () => {
    const r = decodeCommandResult(toXmlPlist({ Status: 'Idle', UDID: 'u', UserID: 'USER-1', UserShortName: 'joe' }));
    expect(r.channel).toBe('user');
    expect(r.user).toEqual({ userId: 'USER-1', userShortName: 'joe' });
  });

  it.each([
    [{ UDID: 'u', CommandUUID: 'c' }, 'MISSING_FIELD', 'Status'],
    [{ Status: 'Maybe', UDID: 'u', CommandUUID: 'c' }, 'INVALID_FIELD', 'Status'],
    [{ Status: 'Acknowledged', UDID: 'u' }, 'MISSING_FIELD', 'CommandUUID'],
    [{ Status: 'Acknowledged', CommandUUID: 'c' }, 'MISSING_FIELD', 'UDID'],
    [{ Status: 'Error', UDID: 'u', CommandUUID: 'c', ErrorChain: 'oops' }, 'INVALID_FIELD', 'ErrorChain'],
    [{ Status: 'Error', UDID: 'u', CommandUUID: 'c', ErrorChain: ['x'] }, 'INVALID_FIELD', 'ErrorChain[0]'],
    [{ Status: 'Error', UDID: 'u', CommandUUID: 'c', ErrorChain: [{ ErrorDomain: 'd' }] }, 'MISSING_FIELD', 'ErrorChain[0].ErrorCode'],
  ])('%j → %s on %s', (dict, code, field) => {
    const error = protocolError(() => decodeCommandResult(toXmlPlist(dict as PlistDict)));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it.each([
    ['not a plist', 'Status=Acknowledged', 'NOT_A_PLIST'],
    ['an array root', toXmlPlist(['Acknowledged']), 'NOT_A_DICT'],
  ])('%s → %s', (_label, body, code) => {
    expect(protocolError(() => decodeCommandResult(body)).code).toBe(code);
  });
});

describe('result payloads', () => {
  it('dispatches through a table keyed by RequestType', () => {
    expect(Object.keys(RESULT_PAYLOAD_PARSERS).sort()).toEqual(
      [
        'DeviceInformation',
        'InstalledApplicationList',
        'ManagedApplicationAttributes',
        'ManagedApplicationList',
        'ProfileList',
        'SecurityInfo',
      ].sort(),
    );
  });

  it("each parser's responseKey is the response key Apple documents for it", () => {
    for (const [requestType, parser] of Object.entries(RESULT_PAYLOAD_PARSERS)) {
      const keys = (commandYaml(requestType).responsekeys ?? []).map((k) => k.key);
      expect(keys, requestType).toContain(parser.responseKey);
    }
  });

  it('DeviceInformation (iOS): identity, model and capacity', () => {
    const info = parseDeviceInformation(result('commandment/DeviceInformation/iOS-11.3.1.xml').raw);
    expect(info).toMatchObject({
      udid: IPAD,
      deviceName: 'iPad',
      osVersion: '11.3.1',
      buildVersion: '15E302',
      model: 'MD786X',
      modelName: 'iPad',
      productName: 'iPad4,1',
      serialNumber: 'C00000000004',
      wifiMac: '00:00:00:00:00:00',
      bluetoothMac: '00:00:00:00:00:00',
      isRoaming: false,
    });
    expect(info.deviceCapacity).toBeCloseTo(26.914535522460938);
    expect(info.availableDeviceCapacity).toBeCloseTo(15.468269348144531);
    expect(info.imei).toBeUndefined();
    expect(info.queryResponses.SubscriberMCC).toBe('');
  });

  it('DeviceInformation (macOS) and NanoMDM’s minimal answer', () => {
    const mac = parseDeviceInformation(result('commandment/DeviceInformation/macOS-10.13.1.xml').raw);
    expect(mac.deviceName).toBe('commandment');
    expect(mac.buildVersion).toBe('17B48');
    const nano = parseResultPayload(result('nanomdm/DeviceInformation.1.plist'));
    expect(nano).toEqual({
      requestType: 'DeviceInformation',
      data: { udid: '66ADE930-5FDF-5EC4-8429-15640684C489', queryResponses: expect.any(Object) },
    });
  });

  it('ProfileList: identifiers, UUIDs, display names and payload types', () => {
    const { profiles } = parseProfileList(result('commandment/ProfileList/iOS-11.3.1.xml').raw);
    expect(profiles).toHaveLength(1);
    const [profile] = profiles;
    expect(profile).toMatchObject({
      identifier: 'dev.commandment.enroll',
      uuid: 'ac9e8c32-5c15-40b9-b187-70a81c49aa4e',
      displayName: 'Commandment Enrollment Profile',
      organization: 'Commandment Inc',
      isManaged: false,
      isEncrypted: false,
      hasRemovalPasscode: false,
      removalDisallowed: false,
      version: 1,
    });
    expect(profile!.payloads.map((p) => p.payloadType)).toEqual([
      'com.apple.security.root',
      'com.apple.security.pkcs1',
      'com.apple.security.pkcs12',
      'com.apple.mdm',
    ]);
    expect(profile!.payloads[3]).toMatchObject({ identifier: 'dev.commandment.mdm', displayName: 'Device Configuration and Management' });
  });

  it('ProfileList (macOS) parses too', () => {
    const { profiles } = parseProfileList(result('commandment/ProfileList/10.11.x.xml').raw);
    expect(profiles.length).toBeGreaterThan(0);
    for (const p of profiles) expect(p.uuid).not.toBe('');
  });

  it('InstalledApplicationList: identifier, versions, name', () => {
    const { applications } = parseInstalledApplicationList(result('commandment/InstalledApplicationList/iOS-12.1.xml').raw);
    expect(applications[0]).toEqual({
      identifier: 'com.agilebits.onepassword-ios',
      name: '1Password',
      version: '70202006',
      shortVersion: '7.2.2',
      bundleSize: 87191552,
      dynamicSize: 196608,
      externalVersionIdentifier: 829185909,
      isValidated: true,
      installing: false,
      appStoreVendable: true,
      deviceBasedVpp: false,
      betaApp: false,
      adHocCodeSigned: false,
      hasUpdateAvailable: true,
    });
  });

  it('InstalledApplicationList (macOS): entries without Identifier are kept', () => {
    const { applications } = parseInstalledApplicationList(result('commandment/InstalledApplicationList/10.11.x.xml').raw);
    expect(applications).toEqual([
      { identifier: 'com.apple.systempreferences', name: 'System Preferences', version: '14.0', shortVersion: '14.0', bundleSize: 5855484 },
      { name: 'Set Info', bundleSize: 65092 },
      { name: 'Install OS X Yosemite', bundleSize: 0 },
    ]);
  });

  it('ManagedApplicationList: bundle id → status and flags', () => {
    const managed = parseManagedApplicationList(result('commandment/ManagedApplicationList/iOS-12.1-Managed.xml').raw);
    expect(managed.applications).toEqual({
      'com.apple.Numbers': {
        status: 'Managed',
        managementFlags: 0,
        hasConfiguration: false,
        hasFeedback: false,
        isValidated: true,
        externalVersionIdentifier: 829165942,
      },
    });
    const rejected = parseManagedApplicationList(result('commandment/ManagedApplicationList/iOS-12.1-RejectedPrompting.xml').raw);
    expect(Object.keys(rejected.applications)).toEqual(['com.apple.iWork.Keynote', 'com.tinyspeck.slackmacgap']);
    expect(Object.values(rejected.applications).map((a) => a.status)).toEqual(['UserRejected', 'UserRejected']);
  });

  it('ManagedApplicationAttributes: bundle id → VPNUUID and friends', () => {
    const raw: PlistDict = {
      ApplicationAttributes: [
        { Identifier: 'com.cisco.anyconnect', Attributes: { VPNUUID: 'A1B2C3', AssociatedDomains: ['example.com'], Removable: false } },
        { Identifier: 'com.example.noattrs' },
      ],
    };
    expect(parseManagedApplicationAttributes(raw).applications).toEqual({
      'com.cisco.anyconnect': {
        vpnUuid: 'A1B2C3',
        associatedDomains: ['example.com'],
        removable: false,
        attributes: { VPNUUID: 'A1B2C3', AssociatedDomains: ['example.com'], Removable: false },
      },
      'com.example.noattrs': { attributes: {} },
    });
    const error = protocolError(() =>
      parseManagedApplicationAttributes({ ApplicationAttributes: [{ Identifier: 'x', Attributes: { VPNUUID: 7 } }] }),
    );
    expect(error.field).toBe('ApplicationAttributes[0].Attributes.VPNUUID');
  });

  it('SecurityInfo (iOS): passcode and hardware encryption', () => {
    const info = parseSecurityInfo(result('commandment/SecurityInfo/iOS-11.3.1.xml').raw);
    expect(info).toMatchObject({
      hardwareEncryptionCaps: 3,
      blockLevelEncryption: true,
      fileLevelEncryption: true,
      passcodePresent: false,
      passcodeCompliant: true,
      passcodeCompliantWithProfiles: true,
      passcodeLockGracePeriod: 0,
      passcodeLockGracePeriodEnforced: 0,
    });
  });

  it('SecurityInfo (macOS): FileVault and SIP', () => {
    const info = parseSecurityInfo(result('commandment/SecurityInfo/macOS-10.13.1.xml').raw);
    expect(info).toMatchObject({ fdeEnabled: false, systemIntegrityProtectionEnabled: false });
    expect(info.hardwareEncryptionCaps).toBeUndefined();
  });

  it('uses the queued RequestType first, then the echo, then the payload key', () => {
    const r = result('commandment/SecurityInfo/iOS-11.3.1.xml');
    expect(resultRequestType(r)).toBe('SecurityInfo');
    expect(resultRequestType(r, 'DeviceInformation')).toBe('DeviceInformation');
    expect(resultRequestType(result('commandment/Errors/10.12.5-invalid-command.xml'))).toBe('RemoveProfile');
    expect(resultRequestType(result('commandment/DeviceLock/iOS-11.3.1.xml'))).toBeUndefined();
  });

  it('gives no payload for statuses other than Acknowledged or types without a parser', () => {
    expect(parseResultPayload(result('commandment/NotNow/iOS-11.3.1.xml'), 'DeviceInformation')).toBeUndefined();
    expect(parseResultPayload(result('commandment/DeviceLock/iOS-11.3.1.xml'), 'DeviceLock')).toBeUndefined();
  });

  it('a queued type whose payload is absent is a MISSING_FIELD, not a crash', () => {
    const error = protocolError(() => parseResultPayload(result('commandment/DeviceLock/iOS-11.3.1.xml'), 'ProfileList'));
    expect(error.code).toBe('MISSING_FIELD');
    expect(error.field).toBe('ProfileList');
  });

  it('reports wrongly typed payload fields with their path', () => {
    expect(protocolError(() => parseProfileList({ ProfileList: [{ PayloadIdentifier: 'a', PayloadUUID: 5 }] })).field).toBe(
      'ProfileList[0].PayloadUUID',
    );
    expect(protocolError(() => parseManagedApplicationList({ ManagedApplicationList: { 'com.x': 'Managed' } })).field).toBe(
      'ManagedApplicationList.com.x',
    );
    expect(protocolError(() => parseDeviceInformation({ QueryResponses: { OSVersion: 17 } })).field).toBe('QueryResponses.OSVersion');
    expect(parseDeviceInformation({ QueryResponses: { BatteryLevel: new PlistReal(0.5) } }).batteryLevel).toBe(0.5);
  });
});

describe('IdlePollDecoder', () => {
  const idle = (udid: string) => Buffer.from(toXmlPlist({ UDID: udid, Status: 'Idle' }));

  it("decodes like decodeCommandResult and answers a device's repeated Idle body from memory, frozen", () => {
    const decoder = new IdlePollDecoder();
    const first = decoder.decode('device-1', idle('UDID-1'));
    expect(first).toEqual(decodeCommandResult(idle('UDID-1')));
    const again = decoder.decode('device-1', idle('UDID-1'));
    expect(again).toBe(first);
    expect(Object.isFrozen(again)).toBe(true);
    expect(Object.isFrozen(again.raw)).toBe(true);
    expect(decoder.decode('device-2', idle('UDID-2')).udid).toBe('UDID-2');
    expect(decoder.size).toBe(2);
  });

  it('keeps one entry per device: another body from the same device replaces it, the same body from another device is decoded afresh', () => {
    const decoder = new IdlePollDecoder();
    const a = decoder.decode('device-1', idle('A'));
    const b = decoder.decode('device-1', idle('B'));
    expect(b.udid).toBe('B');
    expect(decoder.size).toBe(1);
    expect(decoder.decode('device-1', idle('B'))).toBe(b);
    expect(decoder.decode('device-2', idle('A'))).not.toBe(a);
    expect(decoder.size).toBe(2);
  });

  it('never remembers command results, large bodies, or bodies it cannot decode', () => {
    const decoder = new IdlePollDecoder();
    const ack = Buffer.from(toXmlPlist({ UDID: 'U', Status: 'Acknowledged', CommandUUID: 'c-1' }));
    expect(decoder.decode('d', ack).status).toBe('Acknowledged');
    expect(decoder.decode('d', ack)).not.toBe(decoder.decode('d', ack));
    const big = Buffer.from(toXmlPlist({ UDID: 'U', Status: 'Idle', Padding: 'x'.repeat(2000) }));
    expect(decoder.decode('d', big)).not.toBe(decoder.decode('d', big));
    expect(() => decoder.decode('d', Buffer.from('<plist><dict><key>Status</key>'))).toThrow(MdmProtocolError);
    expect(decoder.size).toBe(0);
    expect(decoder.bytes).toBe(0);
  });

  it('stays within its byte budget however many devices poll, dropping the least recently used', () => {
    const budget = 20_000;
    const decoder = new IdlePollDecoder(budget);
    const first = decoder.decode('device-0', idle('U-0'));
    for (let i = 1; i < 1000; i++) {
      decoder.decode(`device-${i}`, idle(`U-${i}`));
      expect(decoder.bytes).toBeLessThanOrEqual(budget);
    }
    expect(decoder.size).toBeGreaterThan(10);
    expect(decoder.size).toBeLessThan(1000);
    expect(decoder.decode('device-0', idle('U-0'))).not.toBe(first);
    // a device that keeps polling stays while others come and go
    const steady = decoder.decode('steady', idle('S'));
    for (let i = 0; i < 200; i++) {
      decoder.decode(`churn-${i}`, idle(`C-${i}`));
      if (i % 5 === 0) expect(decoder.decode('steady', idle('S'))).toBe(steady);
    }
  });
});

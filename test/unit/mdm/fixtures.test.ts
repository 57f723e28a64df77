// Every file in test/fixtures/device-messages is accounted for here: each real check-in decodes to
// its MessageType, each command result to its Status (and payload type), the MicroMDM command to
// its RequestType. Files that are not MDM bodies are listed with the reason.
import { describe, expect, it } from 'vitest';
import {
  MdmProtocolError,
  decodeCheckin,
  decodeCommand,
  decodeCommandResult,
  parseResultPayload,
  type CheckinMessage,
  type CommandStatus,
} from '../../../src/lib/mdm-protocol/index.js';
import { allDeviceMessageFiles, deviceMessage } from './helpers.js';

const CHECKINS: Record<string, CheckinMessage['kind']> = {
  'commandment/Authenticate/10.11.x.xml': 'Authenticate',
  'commandment/Authenticate/10.12.2.xml': 'Authenticate',
  'commandment/Authenticate/IOS-11.3.1.xml': 'Authenticate',
  'commandment/Authenticate/IOS-9.x.xml': 'Authenticate',
  'commandment/Authenticate/iOS-11.3.1-cell.xml': 'Authenticate',
  'commandment/CheckOut/10.11.x.xml': 'CheckOut',
  'commandment/CheckOut/iOS-11.3.1.xml': 'CheckOut',
  'commandment/TokenUpdate/10.11.x.plist': 'TokenUpdate',
  'commandment/TokenUpdate/10.12.2-user.xml': 'TokenUpdate',
  'commandment/TokenUpdate/10.12.2.xml': 'TokenUpdate',
  'nanomdm/Authenticate.1.plist': 'Authenticate',
  'nanomdm/Authenticate.2.plist': 'Authenticate',
  'nanomdm/TokenUpdate.1.plist': 'TokenUpdate',
  'nanomdm/TokenUpdate.2.plist': 'TokenUpdate',
};

/**
 * Commandment redacted some <data> values to placeholders that are not valid base64 ("Base64=",
 * "AAAA="). A device never sends those, and the plist reader rightly refuses them, so these are
 * checked twice: the file as-is gives the typed NOT_A_PLIST error, and with the placeholders
 * replaced by valid base64 it decodes to the expected type.
 */
const REDACTED_CHECKINS: Record<string, CheckinMessage['kind']> = {
  'commandment/TokenUpdate/10.11.x-user.plist': 'TokenUpdate',
  'commandment/TokenUpdate/iOS-11.3.1.xml': 'TokenUpdate',
};
const REDACTED_RESULTS: Record<string, { status: CommandStatus; payload?: string }> = {
  'commandment/CertificateList/iOS-11.3.1.xml': { status: 'Acknowledged' },
};

/** status, and the payload parseResultPayload recognises (undefined: none of our parsers applies). */
const RESULTS: Record<string, { status: CommandStatus; payload?: string }> = {
  'commandment/AvailableOSUpdates/10.12.5.xml': { status: 'Acknowledged' },
  'commandment/AvailableOSUpdates/iOS-11.3.1.xml': { status: 'Acknowledged' },
  'commandment/AvailableOSUpdates/macOS-10.13.1.xml': { status: 'Acknowledged' },
  'commandment/CertificateList/10.11.x.xml': { status: 'Acknowledged' },
  'commandment/DeviceInformation/10.11.x.xml': { status: 'Acknowledged', payload: 'DeviceInformation' },
  'commandment/DeviceInformation/iOS-11.3.1.xml': { status: 'Acknowledged', payload: 'DeviceInformation' },
  'commandment/DeviceInformation/macOS-10.13.1.xml': { status: 'Acknowledged', payload: 'DeviceInformation' },
  'commandment/DeviceLock/iOS-11.3.1.xml': { status: 'Acknowledged' },
  'commandment/Errors/10.12.5-invalid-command.xml': { status: 'Error' },
  'commandment/Errors/10.13.6-invalid-command.xml': { status: 'Error' },
  'commandment/Errors/error_invalid_request_type.plist': { status: 'Error' },
  'commandment/Errors/iOS-11.3.1-AvailableOSUpdatesFailure.xml': { status: 'Error' },
  'commandment/Errors/iOS-11.3.1-CommandFormatError.xml': { status: 'CommandFormatError' },
  'commandment/Errors/iOS-11.3.1-RemoveProfile-Unmanaged.xml': { status: 'Error' },
  'commandment/InstallApplication/iOS-11.3.1-alreadyprompting.xml': { status: 'Error' },
  'commandment/InstallApplication/iOS-12.1-prompting.xml': { status: 'Acknowledged' },
  'commandment/InstalledApplicationList/10.11.x.xml': { status: 'Acknowledged', payload: 'InstalledApplicationList' },
  'commandment/InstalledApplicationList/iOS-11.3.1.xml': { status: 'Acknowledged', payload: 'InstalledApplicationList' },
  'commandment/InstalledApplicationList/iOS-12.1.xml': { status: 'Acknowledged', payload: 'InstalledApplicationList' },
  'commandment/ManagedApplicationList/iOS-11.3.1-Failed.xml': { status: 'Acknowledged', payload: 'ManagedApplicationList' },
  'commandment/ManagedApplicationList/iOS-12.1-Failed.xml': { status: 'Acknowledged', payload: 'ManagedApplicationList' },
  'commandment/ManagedApplicationList/iOS-12.1-Installing.xml': { status: 'Acknowledged', payload: 'ManagedApplicationList' },
  'commandment/ManagedApplicationList/iOS-12.1-Managed.xml': { status: 'Acknowledged', payload: 'ManagedApplicationList' },
  'commandment/ManagedApplicationList/iOS-12.1-RejectedPrompting.xml': { status: 'Acknowledged', payload: 'ManagedApplicationList' },
  'commandment/NotNow/iOS-11.3.1.xml': { status: 'NotNow' },
  'commandment/ProfileList/10.11.x.xml': { status: 'Acknowledged', payload: 'ProfileList' },
  'commandment/ProfileList/iOS-11.3.1.xml': { status: 'Acknowledged', payload: 'ProfileList' },
  'commandment/SecurityInfo/10.11.x.xml': { status: 'Acknowledged', payload: 'SecurityInfo' },
  'commandment/SecurityInfo/IOS-9.x.xml': { status: 'Acknowledged', payload: 'SecurityInfo' },
  'commandment/SecurityInfo/iOS-11.3.1.xml': { status: 'Acknowledged', payload: 'SecurityInfo' },
  'commandment/SecurityInfo/macOS-10.13.1.xml': { status: 'Acknowledged', payload: 'SecurityInfo' },
  'nanomdm/DeviceInformation.1.plist': { status: 'Acknowledged', payload: 'DeviceInformation' },
};

/** Server-to-device commands (what decodeCommand reads on the simulator's side). */
const COMMANDS: Record<string, string> = {
  'micromdm/InstallProfile.plist': 'InstallProfile',
};

const NOT_MDM_BODIES: Record<string, string> = {
  'commandment/LICENSE.txt': 'licence',
  'micromdm/LICENSE': 'licence',
  'nanomdm/LICENSE': 'licence',
  'nanomdm/DeviceInformation.1.txt': 'NanoMDM test metadata (tab-separated)',
  'nanomdm/TokenUpdate.1.txt': 'NanoMDM test metadata (tab-separated)',
  'nanomdm/TokenUpdate.2.txt': 'NanoMDM test metadata (tab-separated)',
  'micromdm/InstallProfile.json': "MicroMDM's JSON API form of InstallProfile.plist",
  'commandment/mdmclient-PKIOperation.der': 'a SCEP PKIOperation (CMS), not a plist: the decoders must refuse it with NOT_A_PLIST',
};

/** Replaces <data> contents that are not valid base64 with valid base64, keeping everything else. */
function fixRedactedData(text: string): string {
  return text.replace(/<data>([^<]*)<\/data>/g, (whole, content: string) => {
    try {
      atob(content.replace(/\s+/g, ''));
      return whole;
    } catch {
      return `<data>${Buffer.from('redacted').toString('base64')}</data>`;
    }
  });
}

function expectProtocolError(fn: () => unknown, code: MdmProtocolError['code']): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(MdmProtocolError);
  expect((thrown as MdmProtocolError).code).toBe(code);
}

describe('device-message fixtures', () => {
  it('accounts for every file in test/fixtures/device-messages exactly once', () => {
    const listed = [CHECKINS, REDACTED_CHECKINS, RESULTS, REDACTED_RESULTS, COMMANDS, NOT_MDM_BODIES].flatMap(Object.keys);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(allDeviceMessageFiles());
  });

  it('keeps each upstream LICENSE beside its fixtures', () => {
    const files = allDeviceMessageFiles();
    for (const folder of ['commandment', 'micromdm', 'nanomdm']) {
      expect(files.some((f) => f.startsWith(`${folder}/LICENSE`))).toBe(true);
    }
  });

  describe.each(Object.entries(CHECKINS))('check-in %s', (path, kind) => {
    it(`decodes to ${kind}`, () => {
      const message = decodeCheckin(deviceMessage(path));
      expect(message.kind).toBe(kind);
      expect(message.messageType).toBe(kind);
    });
  });

  describe.each(Object.entries(REDACTED_CHECKINS))('redacted check-in %s', (path, kind) => {
    it('is refused with NOT_A_PLIST as-is (invalid base64 placeholder)', () => {
      expectProtocolError(() => decodeCheckin(deviceMessage(path)), 'NOT_A_PLIST');
    });
    it(`decodes to ${kind} once the placeholder is valid base64`, () => {
      const message = decodeCheckin(fixRedactedData(deviceMessage(path).toString('utf8')));
      expect(message.kind).toBe(kind);
    });
  });

  describe.each(Object.entries(RESULTS))('command result %s', (path, expected) => {
    it(`decodes to ${expected.status}${expected.payload ? ` with a ${expected.payload} payload` : ''}`, () => {
      const result = decodeCommandResult(deviceMessage(path));
      expect(result.status).toBe(expected.status);
      expect(result.commandUuid).toMatch(/^[0-9a-f-]{36}$/i);
      expect(result.udid).not.toBe('');
      expect(parseResultPayload(result)?.requestType).toBe(expected.payload);
      // A result is never mistaken for a check-in
      expectProtocolError(() => decodeCheckin(deviceMessage(path)), 'MISSING_MESSAGE_TYPE');
    });
  });

  describe.each(Object.entries(REDACTED_RESULTS))('redacted command result %s', (path, expected) => {
    it('is refused with NOT_A_PLIST as-is, and decodes once the placeholder is valid base64', () => {
      expectProtocolError(() => decodeCommandResult(deviceMessage(path)), 'NOT_A_PLIST');
      expect(decodeCommandResult(fixRedactedData(deviceMessage(path).toString('utf8'))).status).toBe(expected.status);
    });
  });

  describe.each(Object.entries(COMMANDS))('command %s', (path, requestType) => {
    it(`decodes to ${requestType}`, () => {
      expect(decodeCommand(deviceMessage(path)).requestType).toBe(requestType);
    });
  });

  it('refuses the SCEP PKIOperation body with NOT_A_PLIST from every decoder', () => {
    const der = deviceMessage('commandment/mdmclient-PKIOperation.der');
    expectProtocolError(() => decodeCheckin(der), 'NOT_A_PLIST');
    expectProtocolError(() => decodeCommandResult(der), 'NOT_A_PLIST');
    expectProtocolError(() => decodeCommand(der), 'NOT_A_PLIST');
  });

  it("MicroMDM's JSON form describes the same command as its plist", () => {
    const json = JSON.parse(deviceMessage('micromdm/InstallProfile.json').toString('utf8')) as {
      command_uuid: string;
      command: { request_type: string; payload: string };
    };
    const decoded = decodeCommand(deviceMessage('micromdm/InstallProfile.plist'));
    expect(decoded.commandUuid).toBe(json.command_uuid);
    expect(decoded.requestType).toBe(json.command.request_type);
    expect(Buffer.from(decoded.command.Payload as Uint8Array).toString('base64')).toBe(json.command.payload);
    expect(Buffer.from(decoded.command.Payload as Uint8Array).toString('utf8')).toBe('foobarbaz');
  });
});

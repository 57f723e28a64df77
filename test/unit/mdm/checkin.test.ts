import fc from 'fast-check';
import { buildBinary } from 'plist';
import { describe, expect, it } from 'vitest';
import {
  MdmProtocolError,
  UNSUPPORTED_CHECKIN_MESSAGE_TYPES,
  decodeCheckin,
  detectChannel,
  type AuthenticateMessage,
  type CheckOutMessage,
  type TokenUpdateMessage,
} from '../../../src/lib/mdm-protocol/index.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { deviceMessage } from './helpers.js';

function protocolError(fn: () => unknown): MdmProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MdmProtocolError) return err;
    throw new Error(`expected MdmProtocolError, got ${String(err)}`);
  }
  throw new Error('expected MdmProtocolError, nothing was thrown');
}

const TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';

describe('decodeCheckin: real messages', () => {
  it('reads an iOS Authenticate (cellular iPhone) with IMEI and MEID', () => {
    const message = decodeCheckin(deviceMessage('commandment/Authenticate/iOS-11.3.1-cell.xml')) as AuthenticateMessage;
    expect(message).toMatchObject({
      kind: 'Authenticate',
      channel: 'device',
      udid: '1111111111111111111111111111111111111111',
      topic: 'com.apple.mgmt.XServer.1c111c11-1c11-1c11-1c11-1c111c111c11',
      osVersion: '11.3.1',
      buildVersion: '15E302',
      productName: 'iPhone7,2',
      serialNumber: 'XXXXXXXXXXXX',
      imei: '11 111111 111111 1',
      meid: '1111111111111',
    });
    expect(message.user).toBeUndefined();
    expect(message.deviceName).toBeUndefined(); // iOS 11 does not send it, Apple's YAML notwithstanding
  });

  it('reads an iOS 9 iPad Authenticate from NanoMDM', () => {
    expect(decodeCheckin(deviceMessage('nanomdm/Authenticate.1.plist'))).toMatchObject({
      kind: 'Authenticate',
      udid: '663b07bb783e9ade1dae4fbb92ea12afc0ce5b69',
      topic: TOPIC,
      productName: 'iPad2,5',
      osVersion: '9.3.5',
      buildVersion: '13G36',
      serialNumber: 'F5JM992LF193',
    });
  });

  it('reads a macOS Authenticate with DeviceName, Model, ModelName and the challenge bytes', () => {
    const message = decodeCheckin(deviceMessage('nanomdm/Authenticate.2.plist')) as AuthenticateMessage;
    expect(message).toMatchObject({ deviceName: 'Fruit', model: 'iMac14,2', modelName: 'iMac', osVersion: '10.12.6' });
    expect(message.challenge).toEqual(Buffer.from('apple'));
  });

  it('reads a TokenUpdate with token, push magic and unlock token bytes', () => {
    const message = decodeCheckin(deviceMessage('nanomdm/TokenUpdate.1.plist')) as TokenUpdateMessage;
    expect(message.kind).toBe('TokenUpdate');
    expect(message.channel).toBe('device');
    expect(message.udid).toBe('663b07bb783e9ade1dae4fbb92ea12afc0ce5b69');
    expect(message.topic).toBe(TOPIC);
    expect(message.pushMagic).toBe('CEFDF0BD-E342-4A27-8742-E930EA116B0A');
    expect(Buffer.isBuffer(message.token)).toBe(true);
    expect(message.token.toString('hex')).toBe(Buffer.from('R+juwGLC9ynsFwPBs+GPGXHYXwC+dkRdNAgLqnAbX1E=', 'base64').toString('hex'));
    expect(message.token).toHaveLength(32);
    expect(message.unlockToken!.subarray(0, 4).toString('ascii')).toBe('DATA'); // Apple's keybag blob header
    expect(message.awaitingConfiguration).toBe(false);
  });

  it('reads a TokenUpdate without UnlockToken', () => {
    const message = decodeCheckin(deviceMessage('nanomdm/TokenUpdate.2.plist')) as TokenUpdateMessage;
    expect(message.unlockToken).toBeUndefined();
    expect(message.token.toString('base64')).toBe('G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw=');
  });

  it('detects a macOS user-channel TokenUpdate and its user', () => {
    const message = decodeCheckin(deviceMessage('commandment/TokenUpdate/10.12.2-user.xml')) as TokenUpdateMessage;
    expect(message.channel).toBe('user');
    expect(message.user).toEqual({
      userId: 'A522C2FB-D0BA-487E-BBC6-BE0DB2DC7883',
      userShortName: 'cjoe',
      userLongName: 'Commando Joe',
    });
    expect(message.notOnConsole).toBe(false);
    expect(message.udid).toBe('E3568F17-92ED-450A-8904-C3BF4CB7E9A5');
    // The device channel twin of the same Mac
    expect(decodeCheckin(deviceMessage('commandment/TokenUpdate/10.12.2.xml')).channel).toBe('device');
  });

  it('reads a CheckOut', () => {
    const message = decodeCheckin(deviceMessage('commandment/CheckOut/iOS-11.3.1.xml')) as CheckOutMessage;
    expect(message).toMatchObject({
      kind: 'CheckOut',
      udid: '1c111c111c111c111c111c111c111c111c111c11',
      topic: 'com.apple.mgmt.XServer.1c111c11-1c11-1c11-1c11-1c111c111c11',
    });
  });

  it('keeps the decoded dictionary for fields not modelled', () => {
    const message = decodeCheckin(deviceMessage('nanomdm/Authenticate.1.plist'));
    expect(message.raw.MessageType).toBe('Authenticate');
  });
});

describe('decodeCheckin: formats and message types', () => {
  const authenticate: PlistDict = { MessageType: 'Authenticate', UDID: 'UDID-1', Topic: 'com.apple.mgmt.x' };

  it('reads binary plists like XML ones', () => {
    const xml = decodeCheckin(deviceMessage('nanomdm/TokenUpdate.1.plist')) as TokenUpdateMessage;
    const binary = decodeCheckin(Buffer.from(buildBinary(xml.raw as never))) as TokenUpdateMessage;
    expect(binary.kind).toBe('TokenUpdate');
    expect(binary.token.equals(xml.token)).toBe(true);
    expect(binary.unlockToken!.equals(xml.unlockToken!)).toBe(true);
  });

  it('accepts a string body', () => {
    expect(decodeCheckin(toXmlPlist(authenticate)).kind).toBe('Authenticate');
  });

  it.each(UNSUPPORTED_CHECKIN_MESSAGE_TYPES)('recognises %s as known but unsupported', (messageType) => {
    const message = decodeCheckin(toXmlPlist({ MessageType: messageType, UDID: 'UDID-1' }));
    expect(message.kind).toBe('Unsupported');
    expect(message.messageType).toBe(messageType);
    expect(message.udid).toBe('UDID-1');
  });

  it('reports an undocumented MessageType as Unknown with its name', () => {
    const message = decodeCheckin(toXmlPlist({ MessageType: 'FrobnicateDevice', UDID: 'UDID-1' }));
    expect(message).toMatchObject({ kind: 'Unknown', messageType: 'FrobnicateDevice', udid: 'UDID-1' });
  });

  it('does not mistake Object.prototype names for message types', () => {
    expect(decodeCheckin(toXmlPlist({ MessageType: 'constructor', UDID: 'x' })).kind).toBe('Unknown');
    expect(decodeCheckin(toXmlPlist({ MessageType: 'toString', UDID: 'x' })).kind).toBe('Unknown');
  });

  it('puts Shared iPad / User Enrollment ids on the user channel', () => {
    expect(detectChannel({ UserID: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' })).toBe('user');
    expect(detectChannel({ EnrollmentUserID: 'abc' })).toBe('user');
    expect(detectChannel({ UDID: 'x' })).toBe('device');
  });
});

describe('decodeCheckin: malformed input', () => {
  it.each([
    ['an empty body', ''],
    ['whitespace', '   \n'],
    ['JSON', '{"MessageType":"Authenticate"}'],
    ['truncated XML', toXmlPlist({ MessageType: 'Authenticate' }).slice(0, 120)],
    ['binary garbage', Buffer.from([0x30, 0x82, 0x01, 0x00, 0xff, 0xfe])],
    ['a truncated binary plist', Buffer.from('bplist00\x00\x01', 'latin1')],
  ])('%s → NOT_A_PLIST', (_label, body) => {
    expect(protocolError(() => decodeCheckin(body)).code).toBe('NOT_A_PLIST');
  });

  it.each([
    ['an array', ['Authenticate']],
    ['a string', 'Authenticate'],
    ['an integer', 7],
  ])('a plist whose root is %s → NOT_A_DICT', (_label, root) => {
    expect(protocolError(() => decodeCheckin(toXmlPlist(root as never))).code).toBe('NOT_A_DICT');
  });

  it('no MessageType → MISSING_MESSAGE_TYPE', () => {
    const error = protocolError(() => decodeCheckin(toXmlPlist({ UDID: 'x', Topic: 't' })));
    expect(error.code).toBe('MISSING_MESSAGE_TYPE');
    expect(error.field).toBe('MessageType');
  });

  it('a non-string MessageType → MISSING_MESSAGE_TYPE', () => {
    expect(protocolError(() => decodeCheckin(toXmlPlist({ MessageType: 3, UDID: 'x' }))).code).toBe('MISSING_MESSAGE_TYPE');
  });

  it.each([
    ['Authenticate', { Topic: 't' }, 'UDID'],
    ['Authenticate', { UDID: 'u' }, 'Topic'],
    ['Authenticate', { UDID: '', Topic: 't' }, 'UDID'],
    ['TokenUpdate', { UDID: 'u', Topic: 't', PushMagic: 'm' }, 'Token'],
    ['TokenUpdate', { UDID: 'u', Topic: 't', Token: Buffer.from('x') }, 'PushMagic'],
    ['TokenUpdate', { Topic: 't', Token: Buffer.from('x'), PushMagic: 'm' }, 'UDID'],
    ['CheckOut', { Topic: 't' }, 'UDID'],
  ])('%s without %j → MISSING_FIELD naming %s', (messageType, fields, field) => {
    const error = protocolError(() => decodeCheckin(toXmlPlist({ MessageType: messageType, ...fields })));
    expect(error.code).toBe('MISSING_FIELD');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('a User Enrollment (EnrollmentID, no UDID) says so', () => {
    const error = protocolError(() => decodeCheckin(toXmlPlist({ MessageType: 'Authenticate', EnrollmentID: 'E', Topic: 't' })));
    expect(error.code).toBe('MISSING_FIELD');
    expect(error.message).toMatch(/User Enrollment/);
  });

  it.each([
    [{ Token: 'not-data' }, 'Token'],
    [{ UnlockToken: 'not-data' }, 'UnlockToken'],
    [{ AwaitingConfiguration: 'no' }, 'AwaitingConfiguration'],
    [{ UDID: 42 }, 'UDID'],
    [{ UserID: 5 }, 'UserID'],
  ])('a wrongly typed field %j → INVALID_FIELD', (override, field) => {
    const body = { MessageType: 'TokenUpdate', UDID: 'u', Topic: 't', Token: Buffer.from('tok'), PushMagic: 'm', ...override };
    const error = protocolError(() => decodeCheckin(toXmlPlist(body)));
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toBe(field);
  });

  it('throws nothing but MdmProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeCheckin(bytes);
        } catch (err) {
          return err instanceof MdmProtocolError;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but MdmProtocolError on arbitrary plist dictionaries', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
    );
    const dict = fc.record(
      {
        MessageType: fc.constantFrom('Authenticate', 'TokenUpdate', 'CheckOut', 'GetBootstrapToken', 'Other'),
        UDID: value,
        Topic: value,
        Token: value,
        PushMagic: value,
        UnlockToken: value,
        UserID: value,
        AwaitingConfiguration: value,
      },
      { requiredKeys: ['MessageType'] },
    );
    fc.assert(
      fc.property(dict, (fields) => {
        try {
          decodeCheckin(toXmlPlist(fields as PlistDict));
        } catch (err) {
          return err instanceof MdmProtocolError;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

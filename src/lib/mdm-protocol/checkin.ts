// Check-in messages (PUT /mdm/checkin): Authenticate, TokenUpdate and CheckOut are decoded into
// typed values; the other documented MessageTypes are recognised but reported as unsupported so
// the route can answer them deliberately instead of as garbage. Keys and types follow Apple's
// mdm/checkin/*.yaml, except where real devices differ (see the notes at each decoder).

import type { PlistDict, PlistLimits } from '../plist/index.js';
import { MdmProtocolError } from './errors.js';
import { decodePlistDict, dropUndefined, optionalBoolean, optionalData, optionalString, requiredData, requiredString } from './fields.js';

/** The device channel carries device-wide commands; a user channel (macOS users, Shared iPad, User Enrollment) one user's. */
export type MdmChannel = 'device' | 'user';

/** Who the message is for when it arrives on a user channel. */
export interface UserChannelIdentity {
  /** macOS local user GUID, or the Shared iPad user's id (FFFFFFFF-… for a temporary session). */
  userId?: string;
  userShortName?: string;
  userLongName?: string;
  /** User Enrollment's per-user id (sent instead of UserID). */
  enrollmentUserId?: string;
}

interface CheckinCommon {
  /** The MessageType exactly as sent. */
  messageType: string;
  channel: MdmChannel;
  /** Present only on user-channel messages. */
  user?: UserChannelIdentity;
  /** User Enrollment's device id; sent alongside or instead of UDID on iOS 13+/macOS 10.15+. */
  enrollmentId?: string;
  /** The decoded dictionary, for fields not modelled here. */
  raw: PlistDict;
}

export interface AuthenticateMessage extends CheckinCommon {
  kind: 'Authenticate';
  udid: string;
  /** APNs topic the device will listen on; must match the push certificate's topic. */
  topic: string;
  serialNumber?: string;
  /** Hardware id such as "iPhone7,2". */
  productName?: string;
  osVersion?: string;
  buildVersion?: string;
  deviceName?: string;
  /** e.g. "MD786X" on iOS, "iMac14,2" on macOS. */
  model?: string;
  /** e.g. "iPhone", "iMac". */
  modelName?: string;
  imei?: string;
  meid?: string;
  /** macOS only: the enrollment profile's challenge, echoed back. */
  challenge?: Buffer;
}

export interface TokenUpdateMessage extends CheckinCommon {
  kind: 'TokenUpdate';
  udid: string;
  topic: string;
  /** APNs device token (raw bytes; hex-encode for the push API). */
  token: Buffer;
  /** Sent back in the push payload's `mdm` key. */
  pushMagic: string;
  /** Device channel only, and only when the device has a passcode: needed for ClearPasscode. */
  unlockToken?: Buffer;
  /** True while a DEP device waits in Setup Assistant for a DeviceConfigured command. */
  awaitingConfiguration?: boolean;
  /** macOS user channel: the user is not logged in at the console. */
  notOnConsole?: boolean;
}

export interface CheckOutMessage extends CheckinCommon {
  kind: 'CheckOut';
  udid: string;
  /** Apple documents it as required, but nothing depends on it here, so it is not insisted on. */
  topic?: string;
}

/** Documented MessageTypes this server does not implement. */
export const UNSUPPORTED_CHECKIN_MESSAGE_TYPES = [
  'GetBootstrapToken',
  'SetBootstrapToken',
  'DeclarativeManagement',
  'UserAuthenticate',
  'GetToken',
] as const;
export type UnsupportedCheckinMessageType = (typeof UNSUPPORTED_CHECKIN_MESSAGE_TYPES)[number];

export interface UnsupportedCheckinMessage extends CheckinCommon {
  kind: 'Unsupported';
  messageType: UnsupportedCheckinMessageType;
  /** Not required: some of these (e.g. macOS bootstrap token messages) are documented without it. */
  udid?: string;
}

export interface UnknownCheckinMessage extends CheckinCommon {
  kind: 'Unknown';
  udid?: string;
}

export type CheckinMessage = AuthenticateMessage | TokenUpdateMessage | CheckOutMessage | UnsupportedCheckinMessage | UnknownCheckinMessage;

/** A message is on a user channel when it names a user (UserID, or EnrollmentUserID for User Enrollment). */
export function detectChannel(dict: PlistDict): MdmChannel {
  return dict.UserID !== undefined || dict.EnrollmentUserID !== undefined ? 'user' : 'device';
}

/** The user a user-channel message is for; undefined on the device channel. */
export function userChannelIdentity(dict: PlistDict): UserChannelIdentity | undefined {
  if (detectChannel(dict) !== 'user') return undefined;
  return dropUndefined({
    userId: optionalString(dict, 'UserID'),
    userShortName: optionalString(dict, 'UserShortName'),
    userLongName: optionalString(dict, 'UserLongName'),
    enrollmentUserId: optionalString(dict, 'EnrollmentUserID'),
  });
}

function common(dict: PlistDict, messageType: string): CheckinCommon {
  return dropUndefined({
    messageType,
    channel: detectChannel(dict),
    user: userChannelIdentity(dict),
    enrollmentId: optionalString(dict, 'EnrollmentID'),
    raw: dict,
  });
}

function requiredUdid(dict: PlistDict, messageType: string): string {
  if ((dict.UDID === undefined || dict.UDID === '') && dict.EnrollmentID !== undefined) {
    throw new MdmProtocolError(
      'MISSING_FIELD',
      `${messageType}: UDID is missing (EnrollmentID without UDID is a User Enrollment, which this server does not support)`,
      'UDID',
    );
  }
  return requiredString(dict, 'UDID', messageType);
}

type Decoder = (dict: PlistDict, messageType: string) => CheckinMessage;

// Apple's YAML marks DeviceName/Model/ModelName required for Authenticate, yet iOS 9-11 devices
// omit them (see the fixtures), so only UDID and Topic are insisted on.
const decodeAuthenticate: Decoder = (dict, messageType) =>
  dropUndefined<AuthenticateMessage>({
    ...common(dict, messageType),
    kind: 'Authenticate',
    udid: requiredUdid(dict, messageType),
    topic: requiredString(dict, 'Topic', messageType),
    serialNumber: optionalString(dict, 'SerialNumber'),
    productName: optionalString(dict, 'ProductName'),
    osVersion: optionalString(dict, 'OSVersion'),
    buildVersion: optionalString(dict, 'BuildVersion'),
    deviceName: optionalString(dict, 'DeviceName'),
    model: optionalString(dict, 'Model'),
    modelName: optionalString(dict, 'ModelName'),
    imei: optionalString(dict, 'IMEI'),
    meid: optionalString(dict, 'MEID'),
    challenge: optionalData(dict, 'Challenge'),
  });

// NotOnConsole and UserLongName are "required" in the YAML but only exist on macOS user channels.
const decodeTokenUpdate: Decoder = (dict, messageType) =>
  dropUndefined<TokenUpdateMessage>({
    ...common(dict, messageType),
    kind: 'TokenUpdate',
    udid: requiredUdid(dict, messageType),
    topic: requiredString(dict, 'Topic', messageType),
    token: requiredData(dict, 'Token', messageType),
    pushMagic: requiredString(dict, 'PushMagic', messageType),
    unlockToken: optionalData(dict, 'UnlockToken'),
    awaitingConfiguration: optionalBoolean(dict, 'AwaitingConfiguration'),
    notOnConsole: optionalBoolean(dict, 'NotOnConsole'),
  });

const decodeCheckOut: Decoder = (dict, messageType) =>
  dropUndefined<CheckOutMessage>({
    ...common(dict, messageType),
    kind: 'CheckOut',
    udid: requiredUdid(dict, messageType),
    topic: optionalString(dict, 'Topic'),
  });

const decodeUnsupported: Decoder = (dict, messageType) =>
  dropUndefined<UnsupportedCheckinMessage>({
    ...common(dict, messageType),
    kind: 'Unsupported',
    messageType: messageType as UnsupportedCheckinMessageType,
    udid: optionalString(dict, 'UDID'),
  });

const CHECKIN_DECODERS: Readonly<Record<string, Decoder>> = {
  Authenticate: decodeAuthenticate,
  TokenUpdate: decodeTokenUpdate,
  CheckOut: decodeCheckOut,
  ...Object.fromEntries(UNSUPPORTED_CHECKIN_MESSAGE_TYPES.map((type) => [type, decodeUnsupported])),
};

/** Decodes an already-parsed check-in dictionary. Throws only MdmProtocolError. */
export function decodeCheckinDict(dict: PlistDict): CheckinMessage {
  const messageType = dict.MessageType;
  if (typeof messageType !== 'string' || messageType === '') {
    throw new MdmProtocolError(
      'MISSING_MESSAGE_TYPE',
      messageType === undefined ? 'check-in message without MessageType' : 'check-in MessageType must be a non-empty string',
      'MessageType',
    );
  }
  // Own-property lookup: a MessageType of "constructor" must not find Object.prototype's
  const decoder = Object.hasOwn(CHECKIN_DECODERS, messageType) ? CHECKIN_DECODERS[messageType] : undefined;
  if (decoder) return decoder(dict, messageType);
  return dropUndefined<UnknownCheckinMessage>({
    ...common(dict, messageType),
    kind: 'Unknown',
    udid: optionalString(dict, 'UDID'),
  });
}

/** Decodes a check-in request body (XML or binary plist) within `limits`. Throws only MdmProtocolError. */
export function decodeCheckin(body: Uint8Array | string, limits?: PlistLimits): CheckinMessage {
  return decodeCheckinDict(decodePlistDict(body, 'check-in message', limits));
}

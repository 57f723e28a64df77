// The one error type of the device-facing MDM decoders. Routes map `code` to an HTTP status
// (everything here is the device's fault, so 400) and log `field` for diagnosis.

export type MdmProtocolErrorCode =
  /** The body is neither an XML nor a binary property list (or is empty). */
  | 'NOT_A_PLIST'
  /** The plist's root is not a dictionary. */
  | 'NOT_A_DICT'
  /** A check-in message without a (string) MessageType. */
  | 'MISSING_MESSAGE_TYPE'
  /** A key the message needs is absent; `field` names it. */
  | 'MISSING_FIELD'
  /** A key is present with the wrong plist type or an impossible value; `field` names it. */
  | 'INVALID_FIELD';

export class MdmProtocolError extends Error {
  constructor(
    readonly code: MdmProtocolErrorCode,
    message: string,
    /** Key path of the offending field, e.g. "UDID" or "ProfileList[2].PayloadIdentifier". */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MdmProtocolError';
  }
}

export type MdmCommandErrorCode =
  /** A builder was given a value the command cannot carry (empty identifier, bad flags...). */
  | 'INVALID_ARGUMENT'
  /** A command dictionary misses a required key or has a key of the wrong type. */
  | 'INVALID_COMMAND';

/** Raised while building commands: always a server-side bug or bad admin input, never the device's. */
export class MdmCommandError extends Error {
  constructor(
    readonly code: MdmCommandErrorCode,
    message: string,
    /** Key path inside Command, when one is to blame. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MdmCommandError';
  }
}

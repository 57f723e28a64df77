// SCEP (RFC 8894) identifiers and the small enumerations carried in its signed attributes.
import { OID } from '../pki/oids.js';

/** The OIDs SCEP messages carry (all from the one table, src/lib/pki/oids.ts). */
export const SCEP_OID = {
  messageType: OID.scepMessageType,
  pkiStatus: OID.scepPkiStatus,
  failInfo: OID.scepFailInfo,
  senderNonce: OID.scepSenderNonce,
  recipientNonce: OID.scepRecipientNonce,
  transactionID: OID.scepTransactionID,
  failInfoText: OID.scepFailInfoText,

  envelopedData: OID.envelopedData,
  challengePassword: OID.challengePassword,
  extensionRequest: OID.extensionRequest,
  msExtensionRequest: OID.msExtensionRequest,

  rsaesOaep: OID.rsaesOaep,
  aes128Cbc: OID.aes128Cbc,
  aes192Cbc: OID.aes192Cbc,
  aes256Cbc: OID.aes256Cbc,
  desEde3Cbc: OID.desEde3Cbc,
  desCbc: OID.desCbc,
} as const;

/** RFC 8894 §3.2.1.2 messageType values (sent as decimal PrintableStrings). */
export const MESSAGE_TYPE_CODE = {
  CertRep: 3,
  RenewalReq: 17,
  PKCSReq: 19,
  /** Called CertPoll in RFC 8894. */
  GetCertInitial: 20,
  GetCert: 21,
  GetCRL: 22,
} as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPE_CODE;

/** The request types this layer handles. */
export type RequestMessageType = 'PKCSReq' | 'RenewalReq' | 'GetCertInitial';

/** RFC 8894 §3.2.1.3 pkiStatus values. */
export const PKI_STATUS_CODE = { SUCCESS: 0, FAILURE: 2, PENDING: 3 } as const;
export type PkiStatus = keyof typeof PKI_STATUS_CODE;

/** RFC 8894 §3.2.1.4 failInfo values. */
export const FAIL_INFO_CODE = { badAlg: 0, badMessageCheck: 1, badRequest: 2, badTime: 3, badCertId: 4 } as const;
export type FailInfo = keyof typeof FAIL_INFO_CODE;

export {
  ALL_CONTENT_ENCRYPTIONS,
  CONTENT_ENCRYPTION,
  contentEncryptionForOid,
  type ContentEncryption,
  type ContentEncryptionSpec,
} from '../pki/enveloped-data.js';

/** RFC 8894 sends transactionID as a PrintableString, so only these characters can be echoed back. */
export function isPrintableString(text: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text);
}

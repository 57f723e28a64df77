import type { X509Certificate } from 'node:crypto';
import { ownReason as pkiOwnReason } from '../pki/errors.js';
import { isPrintableString, type ContentEncryption, type FailInfo, type MessageTypeName } from './constants.js';

/** What could be read from a request before it was rejected: enough, ideally, to answer with a CertRep FAILURE. */
export interface RecoveredRequestFields {
  transactionID?: string;
  senderNonce?: Buffer;
  messageType?: MessageTypeName | number;
  signerCertificate?: X509Certificate;
  /** The pkcsPKIEnvelope's content encryption, when it was refused as not accepted (single DES unless allowed). */
  contentEncryption?: ContentEncryption;
  /**
   * True once the signature over the signed attributes verified, i.e. transactionID and
   * senderNonce above are the requester's own and not whatever a forger put there.
   */
  attributesAuthenticated: boolean;
}

/**
 * A SCEP message the other side sent could not be accepted. `failInfo` is the RFC 8894 value to
 * put in the CertRep FAILURE; failures are answered with a CertRep, not with an HTTP error.
 */
export class ScepMessageError extends Error {
  readonly failInfo: FailInfo;
  readonly recovered: RecoveredRequestFields;

  constructor(failInfo: FailInfo, message: string, recovered: RecoveredRequestFields = { attributesAuthenticated: false }) {
    super(message);
    this.name = 'ScepMessageError';
    this.failInfo = failInfo;
    this.recovered = recovered;
  }

  get transactionID(): string | undefined {
    return this.recovered.transactionID;
  }

  get senderNonce(): Buffer | undefined {
    return this.recovered.senderNonce;
  }

  /** A CertRep needs the transactionID and a nonce to echo; without them only an HTTP error is possible. */
  get canAnswerWithCertRep(): boolean {
    const { transactionID, senderNonce } = this.recovered;
    return !!transactionID && isPrintableString(transactionID) && senderNonce !== undefined && senderNonce.length > 0;
  }
}

/** The SCEP codec's own error types, besides the PKI codecs' (DER, CMS, EnvelopedData). */
const SCEP_ERROR_NAMES: ReadonlySet<string> = new Set(['CsrError', 'SignedMessageError', 'ScepMessageError']);

/** ownReason of src/lib/pki, knowing SCEP's error types too. */
export function ownReason(err: unknown, otherwise = 'unreadable'): string {
  return pkiOwnReason(err, otherwise, SCEP_ERROR_NAMES);
}

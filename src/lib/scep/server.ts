// The CA side of SCEP's message layer (RFC 8894): GetCACaps/GetCACert bodies, reading a
// PKIOperation request and writing the CertRep answer. Pure: the decision (check the challenge,
// issue, keep pending) belongs to the caller, so an HTTP handler is
//   body → parsePkiMessage → decide → buildCertRep,
// and a ScepMessageError becomes buildCertRep({ status: 'FAILURE', failInfo: err.failInfo, ... }).

import { randomBytes, type X509Certificate, type KeyObject } from 'node:crypto';
import { children, DerError, expectTag, parseDer, TAG } from '../pki/der.js';
import { OID, type HashName } from '../pki/oids.js';
import { readCertificateFields } from '../pki/x509.js';
import {
  isPrintableString,
  SCEP_OID,
  type ContentEncryption,
  type FailInfo,
  type PkiStatus,
  type RequestMessageType,
} from './constants.js';
import { CsrError, parseCsr, type ParsedCsr } from './csr.js';
import { buildEnvelopedData, EnvelopeError, openEnvelopedData, type KeyEncryption } from '../pki/enveloped-data.js';
import { ownReason, ScepMessageError, type RecoveredRequestFields } from './errors.js';
import { readName, type ReadName } from '../pki/names.js';
import {
  certsOnlySignedData,
  readMessageType,
  readNonceAttribute,
  readSignedMessage,
  readSigningTime,
  readStringAttribute,
  signScepMessage,
  SignedMessageError,
  verifySignedMessage,
  type ScepSigner,
  type SignedMessage,
} from './signed-data.js';

// ---------------------------------------------------------------------------------------------
// GetCACaps / GetCACert

export interface CaCapsOptions {
  /** RenewalReq is parsed here; leave it on unless the handler refuses renewals. Default true. */
  renewal?: boolean;
  /** Advertise SHA-1 (accepted on input). Off by default: RFC 8894 clients use SHA-256 or better. */
  sha1?: boolean;
  /**
   * Only when the caller serves GetNextCACert (CA rollover); this module has no builder for it,
   * so it stays off by default.
   */
  getNextCACert?: boolean;
}

/**
 * The GetCACaps body (text/plain, one capability per line). SCEPStandard implies AES,
 * POSTPKIOperation and SHA-256; they are listed anyway for pre-RFC 8894 clients.
 */
export function caCaps(options: CaCapsOptions = {}): string {
  const caps = [
    'POSTPKIOperation',
    ...(options.renewal === false ? [] : ['Renewal']),
    ...(options.sha1 ? ['SHA-1'] : []),
    'SHA-256',
    'SHA-512',
    'AES',
    'DES3',
    'SCEPStandard',
    ...(options.getNextCACert ? ['GetNextCACert'] : []),
  ];
  return `${caps.join('\n')}\n`;
}

export interface ScepHttpBody {
  contentType: 'application/x-x509-ca-cert' | 'application/x-x509-ca-ra-cert';
  body: Buffer;
}

/**
 * The GetCACert answer: the bare DER CA certificate, or, with RA certificates, a degenerate
 * certs-only PKCS#7 holding the CA and the RA(s) (RFC 8894 §4.2.1.2).
 */
export function caCertResponse(caCertDer: Buffer, raCertDers: readonly Buffer[] = []): ScepHttpBody {
  if (raCertDers.length === 0) return { contentType: 'application/x-x509-ca-cert', body: Buffer.from(caCertDer) };
  return { contentType: 'application/x-x509-ca-ra-cert', body: certsOnlySignedData([caCertDer, ...raCertDers]) };
}

// ---------------------------------------------------------------------------------------------
// PKIOperation requests

/**
 * What a PKIOperation may be encrypted with unless the caller says otherwise: AES (what
 * `SCEPStandard` and `AES` in GetCACaps promise) and triple DES (`DES3`). Single DES is left out:
 * its 56-bit key falls to brute force. Clients send it when GetCACaps lists neither (certmonger
 * before AES support) or whatever it lists (Go's pkcs7 default, as micromdm/scep uses it).
 */
export const DEFAULT_CONTENT_ENCRYPTIONS: readonly ContentEncryption[] = ['aes128', 'aes192', 'aes256', 'des3'];

export interface ParsePkiMessageOptions {
  caCert: X509Certificate;
  caKey: KeyObject;
  /** When an RA is published in GetCACert, clients encrypt to it; both keys are tried. */
  raCert?: X509Certificate;
  raKey?: KeyObject;
  /** When validity is judged (RenewalReq signer, signingTime). Defaults to now. */
  now?: Date;
  /**
   * Reject (badTime) a signingTime further than this from `now`. Off by default: devices with a
   * wrong clock are common and RFC 8894 does not require the check.
   */
  maxClockSkewMs?: number;
  /** Content encryptions accepted; anything else is badAlg. Default DEFAULT_CONTENT_ENCRYPTIONS. */
  contentEncryptions?: readonly ContentEncryption[];
}

interface ScepRequestBase {
  messageType: RequestMessageType;
  transactionID: string;
  senderNonce: Buffer;
  /** The certificate that signed the request: self-signed for PKCSReq/GetCertInitial, ours for RenewalReq. */
  signerCertificate: X509Certificate;
  signerSelfSigned: boolean;
  /** The signer certificate was issued by our CA (always true for an accepted RenewalReq). */
  signerIssuedByCa: boolean;
  digestAlgorithm: HashName;
  /** e.g. "rsa-pkcs1-sha256". */
  signatureAlgorithm: string;
  signingTime?: Date;
  contentEncryption: ContentEncryption;
  keyEncryption: KeyEncryption;
  /** Whether the client encrypted to the CA or to the RA certificate. */
  encryptedTo: 'ca' | 'ra';
}

export interface CertificateRequestMessage extends ScepRequestBase {
  messageType: 'PKCSReq' | 'RenewalReq';
  csr: ParsedCsr;
  /** RFC 8894 §3.3.1: a PKCSReq's self-signed certificate should carry the key being certified. */
  signerKeyMatchesCsr: boolean;
}

export interface CertPollMessage extends ScepRequestBase {
  messageType: 'GetCertInitial';
  /** IssuerAndSubject: the CA the request went to (checked to be ours) and the subject requested. */
  issuer: ReadName;
  subject: ReadName;
}

export type ScepRequest = CertificateRequestMessage | CertPollMessage;

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Self-signed by name and signature; checkIssued would also demand keyCertSign, which requester certificates lack. */
function isSelfSigned(cert: X509Certificate): boolean {
  const fields = readCertificateFields(cert.raw);
  try {
    return fields.issuerName.equals(fields.subjectName) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

function readCertPoll(body: Buffer): { issuer: ReadName; subject: ReadName } {
  const [issuer, subject, extra] = children(expectTag(parseDer(body), TAG.SEQUENCE, 'IssuerAndSubject'));
  if (!issuer || !subject || extra) throw new DerError('IssuerAndSubject must hold exactly an issuer and a subject Name');
  return { issuer: readName(issuer), subject: readName(subject) };
}

/**
 * Reads and checks a PKIOperation request, in this order: structure (badRequest), algorithms
 * (badAlg), signature (badMessageCheck), message type (badRequest), decryption
 * (badMessageCheck when encrypted to someone else or undecryptable; badAlg for unsupported
 * ciphers), content (badRequest; badCertId for a GetCertInitial naming another CA), then time
 * (badTime) and the RenewalReq signer (badCertId unless issued by our CA). Every failure is a
 * ScepMessageError carrying whatever transaction fields were recovered.
 */
export function parsePkiMessage(derBytes: Buffer, options: ParsePkiMessageOptions): ScepRequest {
  const recovered: RecoveredRequestFields = { attributesAuthenticated: false };
  const reject = (failInfo: FailInfo, message: string): never => {
    throw new ScepMessageError(failInfo, message, { ...recovered });
  };

  // Structure, and the transaction fields first so that any later failure can still be answered
  let message: SignedMessage;
  try {
    message = readSignedMessage(derBytes);
  } catch (err) {
    return reject('badRequest', `not a SCEP PKIMessage: ${ownReason(err)}`);
  }
  recovered.signerCertificate = message.signer.certificate;
  try {
    recovered.transactionID = readStringAttribute(message, SCEP_OID.transactionID);
  } catch {
    // unreadable: left out of the recovered fields
  }
  try {
    recovered.senderNonce = readNonceAttribute(message, SCEP_OID.senderNonce);
  } catch {
    // likewise
  }
  try {
    recovered.messageType = readMessageType(message);
  } catch {
    // likewise
  }

  let signerCertificate: X509Certificate;
  try {
    signerCertificate = verifySignedMessage(message);
  } catch (err) {
    const kind = err instanceof SignedMessageError ? err.kind : 'malformed';
    const failInfo: FailInfo = kind === 'unsupportedAlgorithm' ? 'badAlg' : kind === 'badSignature' ? 'badMessageCheck' : 'badRequest';
    return reject(failInfo, ownReason(err));
  }
  recovered.attributesAuthenticated = true;

  const { transactionID, senderNonce, messageType } = recovered;
  if (!transactionID || !isPrintableString(transactionID)) {
    return reject('badRequest', 'the transactionID attribute is missing or not a PrintableString');
  }
  if (!senderNonce || senderNonce.length === 0) return reject('badRequest', 'the senderNonce attribute is missing or empty');
  if (messageType !== 'PKCSReq' && messageType !== 'RenewalReq' && messageType !== 'GetCertInitial') {
    return reject('badRequest', `unsupported messageType ${String(messageType ?? 'missing')}`);
  }
  if (message.eContentType !== OID.data || !message.contentPresent) {
    return reject('badRequest', 'the SignedData does not encapsulate a pkcsPKIEnvelope');
  }
  if (signerCertificate.publicKey.asymmetricKeyType !== 'rsa') {
    // The CertRep is encrypted to this key by RSA key transport: nothing else could be answered
    return reject('badAlg', `the requester key is ${signerCertificate.publicKey.asymmetricKeyType ?? 'unknown'}; SCEP needs RSA`);
  }

  const recipients = [
    ...(options.raCert && options.raKey ? [{ certificate: options.raCert, privateKey: options.raKey }] : []),
    { certificate: options.caCert, privateKey: options.caKey },
  ];
  let opened;
  try {
    opened = openEnvelopedData(message.content, recipients, { accept: options.contentEncryptions ?? DEFAULT_CONTENT_ENCRYPTIONS });
  } catch (err) {
    if (err instanceof EnvelopeError && err.refusedEncryption) recovered.contentEncryption = err.refusedEncryption;
    const kind = err instanceof EnvelopeError ? err.kind : 'malformed';
    const failInfo: FailInfo = kind === 'unsupportedAlgorithm' ? 'badAlg' : kind === 'malformed' ? 'badRequest' : 'badMessageCheck';
    return reject(failInfo, ownReason(err));
  }
  const encryptedTo: 'ca' | 'ra' = recipients[opened.recipientIndex]!.certificate === options.caCert ? 'ca' : 'ra';

  const now = options.now ?? new Date();
  let signingTime: Date | undefined;
  try {
    signingTime = readSigningTime(message);
  } catch {
    return reject('badRequest', 'unreadable signingTime attribute');
  }
  const base: ScepRequestBase = {
    messageType,
    transactionID,
    senderNonce,
    signerCertificate,
    signerSelfSigned: isSelfSigned(signerCertificate),
    signerIssuedByCa: issuedBy(signerCertificate, options.caCert),
    digestAlgorithm: message.signer.digest,
    signatureAlgorithm: message.signer.signatureAlgorithm,
    signingTime,
    contentEncryption: opened.encryption,
    keyEncryption: opened.keyEncryption,
    encryptedTo,
  };

  let request: ScepRequest;
  if (messageType === 'GetCertInitial') {
    let poll: { issuer: ReadName; subject: ReadName };
    try {
      poll = readCertPoll(opened.content);
    } catch (err) {
      return reject('badRequest', `malformed IssuerAndSubject: ${ownReason(err)}`);
    }
    if (!poll.issuer.der.equals(readCertificateFields(options.caCert.raw).subjectName)) {
      return reject('badCertId', `the poll names issuer ${poll.issuer.text}, not this CA`);
    }
    request = { ...base, messageType, ...poll };
  } else {
    let csr: ParsedCsr;
    try {
      csr = parseCsr(opened.content);
    } catch (err) {
      return reject('badRequest', err instanceof CsrError ? err.message : `unreadable PKCS#10: ${ownReason(err)}`);
    }
    request = { ...base, messageType, csr, signerKeyMatchesCsr: sameKey(signerCertificate.publicKey, csr.publicKey) };
  }

  if (options.maxClockSkewMs !== undefined && signingTime && Math.abs(signingTime.getTime() - now.getTime()) > options.maxClockSkewMs) {
    return reject('badTime', `signingTime ${signingTime.toISOString()} is too far from ${now.toISOString()}`);
  }
  if (messageType === 'RenewalReq') {
    if (!base.signerIssuedByCa) {
      const signer = signerCertificate.subject.replace(/\n/g, ', ');
      return reject('badCertId', `a RenewalReq must be signed by a certificate this CA issued, not ${signer}`);
    }
    const { notBefore, notAfter } = readCertificateFields(signerCertificate.raw);
    if (now < notBefore || now > notAfter) {
      const validity = `${notBefore.toISOString()} to ${notAfter.toISOString()}`;
      return reject('badTime', `the certificate being renewed is valid ${validity}, not at ${now.toISOString()}`);
    }
  }
  return request;
}

// ---------------------------------------------------------------------------------------------
// CertRep

export interface BuildCertRepOptions {
  status: PkiStatus;
  /** Required for FAILURE. */
  failInfo?: FailInfo;
  /** RFC 8894 failInfoText, for FAILURE: a short explanation for logs on the device side. */
  failInfoText?: string;
  transactionID: string;
  /** The request's senderNonce, echoed. */
  recipientNonce: Buffer;
  /** Defaults to 16 fresh random bytes. */
  senderNonce?: Buffer;
  /** SUCCESS: the certificate issued (or found, for GetCertInitial). */
  issuedCertDer?: Buffer;
  /** SUCCESS: added after the issued certificate in the certs-only structure. */
  caCertDer?: Buffer;
  /** SUCCESS: the certificate that signed the request; the reply is encrypted to its key. */
  requesterCert?: X509Certificate;
  /** Our CA, or RA, key and certificate. */
  signer: ScepSigner;
  /** Defaults to SHA-256; pass the request's digestAlgorithm to mirror it. */
  digest?: HashName;
  /** Defaults to AES-256-CBC; pass the request's contentEncryption to mirror it. */
  encryption?: ContentEncryption;
  signingTime?: Date;
}

/**
 * DER CertRep: SignedData by our CA/RA with messageType 3, pkiStatus, failInfo (FAILURE),
 * transactionID, senderNonce and recipientNonce. On SUCCESS the content is an EnvelopedData for
 * the requester holding a certs-only SignedData; on FAILURE and PENDING there is no
 * pkcsPKIEnvelope, so the encapsulated id-data content is empty (as jscep/micromdm send it,
 * which keeps the messageDigest well defined and `openssl cms -verify` happy).
 */
export function buildCertRep(options: BuildCertRepOptions): Buffer {
  if (options.status === 'FAILURE' && !options.failInfo) throw new RangeError('a FAILURE CertRep needs a failInfo');
  if (options.status !== 'FAILURE' && (options.failInfo || options.failInfoText !== undefined)) {
    throw new RangeError(`failInfo belongs in FAILURE CertReps only, not ${options.status}`);
  }
  let encapsulated: Buffer = Buffer.alloc(0);
  if (options.status === 'SUCCESS') {
    if (!options.issuedCertDer || !options.requesterCert) {
      throw new RangeError('a SUCCESS CertRep needs issuedCertDer and requesterCert');
    }
    const certsOnly = certsOnlySignedData([options.issuedCertDer, ...(options.caCertDer ? [options.caCertDer] : [])]);
    encapsulated = buildEnvelopedData(certsOnly, options.requesterCert, options.encryption ?? 'aes256');
  }
  return signScepMessage(
    encapsulated,
    {
      messageType: 'CertRep',
      transactionID: options.transactionID,
      senderNonce: options.senderNonce ?? randomBytes(16),
      recipientNonce: options.recipientNonce,
      pkiStatus: options.status,
      failInfo: options.status === 'FAILURE' ? options.failInfo : undefined,
      failInfoText: options.status === 'FAILURE' ? options.failInfoText : undefined,
    },
    options.signer,
    { digest: options.digest, signingTime: options.signingTime },
  );
}

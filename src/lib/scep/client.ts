// The requester side of SCEP's message layer: what a device sends and how it reads the CertRep.
// Used by the tests and by the device simulator.

import { createHash, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { der, parseDer, TAG, expectTag, children, raw } from '../pki/der.js';
import { OID, type HashName } from '../pki/oids.js';
import {
  basicConstraintsExtension,
  buildCertificate,
  encodeName,
  keyUsageExtension,
  randomSerialNumber,
  readCertificateFields,
  type SubjectName,
} from '../pki/x509.js';
import { SCEP_OID, type ContentEncryption, type FailInfo, type PkiStatus, type RequestMessageType } from './constants.js';
import { buildCsr } from './csr.js';
import { buildEnvelopedData, openEnvelopedData } from '../pki/enveloped-data.js';
import { ScepMessageError } from './errors.js';
import {
  readCertsOnly,
  readFailInfo,
  readMessageType,
  readNonceAttribute,
  readPkiStatus,
  readSignedMessage,
  readStringAttribute,
  signScepMessage,
  verifySignedMessage,
  type ScepSigner,
} from './signed-data.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * The throwaway certificate a requester signs its first PKCSReq with (RFC 8894 §2.3): self-signed,
 * same subject and key as the request, usable for key transport so the CertRep can be encrypted to it.
 */
export function selfSignedCertificate(
  privateKey: KeyObject,
  subject: SubjectName,
  options: { validityDays?: number; notBefore?: Date } = {},
): X509Certificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - 5 * MINUTE_MS);
  const subjectName = encodeName(subject);
  const derBytes = buildCertificate({
    serialNumber: randomSerialNumber(),
    issuerName: subjectName,
    subjectName,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validityDays ?? 30) * DAY_MS),
    publicKey: createPublicKey(privateKey),
    signingKey: privateKey,
    extensions: [basicConstraintsExtension(false), keyUsageExtension(['digitalSignature', 'keyEncipherment'])],
  });
  return new X509Certificate(derBytes);
}

export interface BuildPkiRequestOptions {
  /** Default PKCSReq. */
  messageType?: RequestMessageType;
  /** The CA: named as issuer in GetCertInitial, and encrypted to unless recipientCert is given. */
  caCert: X509Certificate;
  /** An RA certificate from GetCACert, to encrypt to instead of the CA. */
  recipientCert?: X509Certificate;
  /** A ready PKCS#10; otherwise one is built from privateKey, subject, challengePassword and sans. */
  csrDer?: Buffer;
  privateKey?: KeyObject;
  subject?: SubjectName;
  challengePassword?: string;
  challengePasswordEncoding?: 'auto' | 'printable' | 'utf8';
  sans?: string[];
  /**
   * Who signs the message: the certificate being renewed for RenewalReq; by default a fresh
   * self-signed certificate for privateKey and subject.
   */
  signer?: ScepSigner;
  /** Default AES-256-CBC. */
  encryption?: ContentEncryption;
  /** Default SHA-256. */
  digest?: HashName;
  /** Default: hex SHA-256 of the requested public key, as RFC 8894 §3.2.1.1 suggests. */
  transactionID?: string;
  /** Default: 16 random bytes. */
  senderNonce?: Buffer;
  signingTime?: Date;
}

export interface BuiltPkiRequest {
  der: Buffer;
  transactionID: string;
  senderNonce: Buffer;
  /** The signer, whose key decrypts the CertRep. */
  signer: ScepSigner;
  /** The PKCS#10 sent (PKCSReq/RenewalReq). */
  csrDer?: Buffer;
}

function keyTransactionID(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .toUpperCase();
}

function csrParts(csrDer: Buffer): { subjectName: Buffer; publicKey: KeyObject } {
  const [info] = children(expectTag(parseDer(csrDer), TAG.SEQUENCE, 'CertificationRequest'));
  const [, subject, spki] = children(expectTag(info, TAG.SEQUENCE, 'CertificationRequestInfo'));
  return { subjectName: raw(subject!), publicKey: createPublicKey({ key: raw(spki!), format: 'der', type: 'spki' }) };
}

/** A signed and encrypted PKIOperation request: PKCSReq, RenewalReq or GetCertInitial. */
export function buildPkcsReq(options: BuildPkiRequestOptions): BuiltPkiRequest {
  const messageType = options.messageType ?? 'PKCSReq';
  let csrDer = options.csrDer;
  if (!csrDer && messageType !== 'GetCertInitial') {
    if (!options.privateKey || !options.subject) throw new RangeError('give csrDer, or privateKey and subject to build one');
    csrDer = buildCsr({
      privateKey: options.privateKey,
      subject: options.subject,
      challengePassword: options.challengePassword,
      challengePasswordEncoding: options.challengePasswordEncoding,
      sans: options.sans,
    });
  }
  const fromCsr = csrDer ? csrParts(csrDer) : undefined;
  let signer = options.signer;
  if (!signer) {
    if (!options.privateKey || !options.subject) throw new RangeError('give a signer, or privateKey and subject for a self-signed one');
    signer = { privateKey: options.privateKey, certificate: selfSignedCertificate(options.privateKey, options.subject) };
  }

  let messageData: Buffer;
  if (messageType === 'GetCertInitial') {
    const subjectName = options.subject ? encodeName(options.subject) : fromCsr?.subjectName;
    if (!subjectName) throw new RangeError('GetCertInitial needs the requested subject (subject or csrDer)');
    messageData = der.sequence(readCertificateFields(options.caCert.raw).subjectName, subjectName);
  } else {
    messageData = csrDer!;
  }
  const requestedKey = fromCsr?.publicKey ?? (options.privateKey ? createPublicKey(options.privateKey) : signer.certificate.publicKey);
  const transactionID = options.transactionID ?? keyTransactionID(requestedKey);
  const senderNonce = options.senderNonce ?? randomBytes(16);
  const envelope = buildEnvelopedData(messageData, options.recipientCert ?? options.caCert, options.encryption ?? 'aes256');
  const derBytes = signScepMessage(envelope, { messageType, transactionID, senderNonce }, signer, {
    digest: options.digest,
    signingTime: options.signingTime,
  });
  return { der: derBytes, transactionID, senderNonce, signer, csrDer };
}

export { buildCsr, type BuildCsrOptions } from './csr.js';

// ---------------------------------------------------------------------------------------------
// CertRep

export interface ParseCertRepOptions {
  /** The key the request was signed with: the CertRep's EnvelopedData is encrypted to it. */
  requesterKey: KeyObject;
  /** The requester's certificate, to match the EnvelopedData recipient exactly (optional). */
  requesterCert?: X509Certificate;
  /** The CertRep must be signed by this CA, the RA or another certificate the CA issued. */
  caCert: X509Certificate;
  raCert?: X509Certificate;
  /** When given, a CertRep for another transaction is rejected (badCertId). */
  expectedTransactionID?: string;
  /** The request's senderNonce: when given, the recipientNonce must echo it (badMessageCheck). */
  expectedRecipientNonce?: Buffer;
}

export interface CertRep {
  status: PkiStatus;
  failInfo?: FailInfo;
  failInfoText?: string;
  transactionID: string;
  senderNonce: Buffer;
  recipientNonce: Buffer;
  /** SUCCESS: the certificates of the decrypted certs-only structure (issued certificate first, as sent). */
  certificates: X509Certificate[];
  signerCertificate: X509Certificate;
  digestAlgorithm: HashName;
  contentEncryption?: ContentEncryption;
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Verifies (CA signature, nonces) and decrypts a CertRep; throws ScepMessageError. */
export function parseCertRep(derBytes: Buffer, options: ParseCertRepOptions): CertRep {
  const fail = (failInfo: FailInfo, message: string): never => {
    throw new ScepMessageError(failInfo, `CertRep: ${message}`);
  };
  let message;
  try {
    message = readSignedMessage(derBytes, [options.caCert, ...(options.raCert ? [options.raCert] : [])]);
  } catch (err) {
    return fail('badRequest', (err as Error).message);
  }
  let signerCertificate: X509Certificate;
  try {
    signerCertificate = verifySignedMessage(message);
  } catch (err) {
    return fail('badMessageCheck', (err as Error).message);
  }
  const trusted =
    signerCertificate.raw.equals(options.caCert.raw) ||
    (options.raCert !== undefined && signerCertificate.raw.equals(options.raCert.raw)) ||
    issuedBy(signerCertificate, options.caCert);
  if (!trusted) return fail('badMessageCheck', `signed by ${signerCertificate.subject.replace(/\n/g, ', ')}, not by our CA or its RA`);

  let fields;
  try {
    fields = {
      messageType: readMessageType(message),
      status: readPkiStatus(message),
      failInfo: readFailInfo(message),
      failInfoText: readStringAttribute(message, SCEP_OID.failInfoText),
      transactionID: readStringAttribute(message, SCEP_OID.transactionID),
      senderNonce: readNonceAttribute(message, SCEP_OID.senderNonce),
      recipientNonce: readNonceAttribute(message, SCEP_OID.recipientNonce),
    };
  } catch (err) {
    return fail('badRequest', `unreadable SCEP attribute: ${(err as Error).message}`);
  }
  if (fields.messageType !== 'CertRep') return fail('badRequest', `messageType is ${String(fields.messageType)}, not CertRep (3)`);
  const { status, transactionID, senderNonce, recipientNonce } = fields;
  if (!status || !transactionID || !senderNonce || !recipientNonce) {
    return fail('badRequest', 'pkiStatus, transactionID, senderNonce and recipientNonce are all required');
  }
  if (status === 'FAILURE' && !fields.failInfo) return fail('badRequest', 'a FAILURE without failInfo');
  if (options.expectedTransactionID !== undefined && transactionID !== options.expectedTransactionID) {
    return fail('badCertId', `answers transaction ${transactionID}, not ${options.expectedTransactionID}`);
  }
  if (options.expectedRecipientNonce && !recipientNonce.equals(options.expectedRecipientNonce)) {
    return fail('badMessageCheck', 'the recipientNonce does not echo our senderNonce (replayed?)');
  }

  const result: CertRep = {
    status,
    transactionID,
    senderNonce,
    recipientNonce,
    certificates: [],
    signerCertificate,
    digestAlgorithm: message.signer.digest,
  };
  if (status === 'FAILURE') {
    result.failInfo = fields.failInfo;
    if (fields.failInfoText !== undefined) result.failInfoText = fields.failInfoText;
  }
  if (status === 'SUCCESS') {
    if (message.eContentType !== OID.data || message.content.length === 0) return fail('badRequest', 'a SUCCESS without a pkcsPKIEnvelope');
    try {
      const opened = openEnvelopedData(message.content, [{ certificate: options.requesterCert, privateKey: options.requesterKey }]);
      result.contentEncryption = opened.encryption;
      result.certificates = readCertsOnly(opened.content);
    } catch (err) {
      return fail('badMessageCheck', `cannot read the issued certificates: ${(err as Error).message}`);
    }
    if (result.certificates.length === 0) return fail('badRequest', 'a SUCCESS carrying no certificate');
  }
  return result;
}

// CMS SignedData as SCEP uses it: the one SignedData codec (src/lib/pki/signed-data.ts) with
// SCEP's transaction fields as signed attributes. SCEP reads those attributes *before* the
// signature is known to be good, to answer a forged or damaged request with a CertRep FAILURE,
// and judges no certificate chain (requests are signed by throwaway self-signed certificates).

import type { X509Certificate } from 'node:crypto';
import { der, DerError, expectTag, readOctetString, readTime, TAG, type DerNode } from '../pki/der.js';
import { OID, type HashName } from '../pki/oids.js';
import {
  algorithmIdentifierOid,
  buildSignedData,
  certsOnlySignedData,
  digestHash,
  findSignerCertificate,
  parseSignedData,
  readSignedAttributes,
  readSignerInfo,
  signatureScheme,
  signedAttribute,
  SignedDataError,
  verifySignerSignature,
  type SignatureScheme,
  type SignedDataSigner,
  type SignerInfo,
} from '../pki/signed-data.js';
import {
  FAIL_INFO_CODE,
  isPrintableString,
  MESSAGE_TYPE_CODE,
  PKI_STATUS_CODE,
  SCEP_OID,
  type FailInfo,
  type MessageTypeName,
  type PkiStatus,
} from './constants.js';
import { readAnyString } from '../pki/names.js';
import { ownReason } from './errors.js';

export { certsOnlySignedData };

/** Our CA or RA (or a requester): key, certificate, and further certificates to embed (e.g. the CA above an RA). */
export type ScepSigner = SignedDataSigner;

/** The SCEP transaction attributes; which ones are present depends on the message. */
export interface ScepAttributes {
  messageType: MessageTypeName;
  transactionID: string;
  senderNonce: Buffer;
  recipientNonce?: Buffer;
  pkiStatus?: PkiStatus;
  failInfo?: FailInfo;
  failInfoText?: string;
}

function scepAttributes(attrs: ScepAttributes): Buffer[] {
  if (!attrs.transactionID || !isPrintableString(attrs.transactionID)) {
    throw new RangeError(`transactionID ${JSON.stringify(attrs.transactionID)} is not a non-empty PrintableString`);
  }
  const out = [
    signedAttribute(SCEP_OID.messageType, der.printable(String(MESSAGE_TYPE_CODE[attrs.messageType]))),
    signedAttribute(SCEP_OID.transactionID, der.printable(attrs.transactionID)),
    signedAttribute(SCEP_OID.senderNonce, der.octetString(attrs.senderNonce)),
  ];
  if (attrs.recipientNonce) out.push(signedAttribute(SCEP_OID.recipientNonce, der.octetString(attrs.recipientNonce)));
  if (attrs.pkiStatus) out.push(signedAttribute(SCEP_OID.pkiStatus, der.printable(String(PKI_STATUS_CODE[attrs.pkiStatus]))));
  if (attrs.failInfo) out.push(signedAttribute(SCEP_OID.failInfo, der.printable(String(FAIL_INFO_CODE[attrs.failInfo]))));
  if (attrs.failInfoText !== undefined) out.push(signedAttribute(SCEP_OID.failInfoText, der.utf8(attrs.failInfoText)));
  return out;
}

export interface SignScepOptions {
  digest?: HashName;
  signingTime?: Date;
}

/**
 * DER ContentInfo(SignedData) over `encapsulated` (id-data), with the SCEP attributes signed
 * alongside contentType, messageDigest and signingTime. The signer's certificate is embedded.
 */
export function signScepMessage(encapsulated: Buffer, attrs: ScepAttributes, signer: ScepSigner, options: SignScepOptions = {}): Buffer {
  const keyType = signer.privateKey.asymmetricKeyType;
  if (keyType !== 'rsa' && keyType !== 'ec') throw new RangeError(`cannot sign with a ${keyType ?? 'unknown'} key; use RSA or EC`);
  return buildSignedData(encapsulated, signer, {
    digest: options.digest ?? 'sha256',
    signingTime: options.signingTime,
    extraSignedAttributes: scepAttributes(attrs),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

export type SignedMessageErrorKind = 'malformed' | 'unsupportedAlgorithm' | 'badSignature' | 'signerMissing';

export class SignedMessageError extends Error {
  constructor(
    readonly kind: SignedMessageErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'SignedMessageError';
  }
}

function fail(kind: SignedMessageErrorKind, message: string): never {
  throw new SignedMessageError(kind, message);
}

function readSignedDataParts(cms: Buffer) {
  try {
    return parseSignedData(cms);
  } catch (err) {
    fail('malformed', `not a CMS SignedData: ${ownReason(err)}`);
  }
}

/** Certificates of a degenerate certs-only SignedData (or any SignedData), in encoded order. */
export function readCertsOnly(cms: Buffer): X509Certificate[] {
  return readSignedDataParts(cms).certificates;
}

export interface SignerInfoParts {
  digest: HashName;
  /** e.g. "rsa-pkcs1-sha256", "ecdsa-sha256"; the OID when unsupported. */
  signatureAlgorithm: string;
  /** Unset when the digest or signature algorithm is not supported (see unsupportedAlgorithm). */
  scheme?: SignatureScheme;
  /** Set when the digest or signature algorithm is not supported; verifySignedMessage then fails. */
  unsupportedAlgorithm?: string;
  info: SignerInfo;
  attributes: Map<string, DerNode[]>;
  certificate?: X509Certificate;
}

export interface SignedMessage {
  eContentType: string;
  /** The encapsulated content; empty when absent. */
  content: Buffer;
  contentPresent: boolean;
  certificates: X509Certificate[];
  signer: SignerInfoParts;
}

/** The signature scheme, or why SCEP cannot take it. */
function scepSignatureScheme(info: SignerInfo, digest: HashName): SignatureScheme | string {
  try {
    const scheme = signatureScheme(info.signatureAlgorithm, digest);
    // SCEP has never taken RSASSA-PSS (no SCEP client sends it): still badAlg
    if (scheme.pssSaltLength !== undefined) return `unsupported signature algorithm ${algorithmIdentifierOid(info.signatureAlgorithm)}`;
    return scheme;
  } catch (err) {
    return ownReason(err);
  }
}

/**
 * Parses a single-signer SignedData with signed attributes without checking the signature yet
 * (see verifySignedMessage), so its attributes can be read even from a message that fails.
 * `extraCertificates` are searched for the signer too (a CertRep may leave the CA's out).
 */
export function readSignedMessage(cms: Buffer, extraCertificates: readonly X509Certificate[] = []): SignedMessage {
  const parts = readSignedDataParts(cms);
  if (parts.signerInfoNodes.length !== 1) fail('malformed', `expected one signer, found ${parts.signerInfoNodes.length}`);
  let signer: SignerInfoParts;
  try {
    const info = readSignerInfo(parts.signerInfoNodes[0]!, 'digestAlgorithm');
    if (!info.signedAttributes) throw new DerError('the SignerInfo has no signed attributes, which SCEP requires');
    const signatureOid = algorithmIdentifierOid(expectTag(info.signatureAlgorithm, TAG.SEQUENCE, 'signatureAlgorithm'));
    const attributes = readSignedAttributes(info.signedAttributes);
    const certificate = findSignerCertificate(info.sid, [...parts.certificates, ...extraCertificates]);
    // Algorithms are only judged in verifySignedMessage, so that a message using an unsupported
    // one still yields its transaction fields for the CertRep FAILURE
    let digest: HashName | undefined;
    let unsupportedAlgorithm: string | undefined;
    try {
      digest = digestHash(info.digestAlgorithm);
    } catch (err) {
      if (!(err instanceof SignedDataError)) throw err;
      unsupportedAlgorithm = err.message;
    }
    const scheme = digest ? scepSignatureScheme(info, digest) : undefined;
    if (typeof scheme === 'string') unsupportedAlgorithm = scheme;
    signer = {
      digest: digest ?? 'sha256',
      signatureAlgorithm: typeof scheme === 'object' ? scheme.name : signatureOid,
      ...(typeof scheme === 'object' ? { scheme } : {}),
      ...(unsupportedAlgorithm ? { unsupportedAlgorithm } : {}),
      info,
      attributes,
      ...(certificate ? { certificate } : {}),
    };
  } catch (err) {
    if (err instanceof SignedMessageError) throw err;
    fail('malformed', `malformed SignerInfo: ${ownReason(err)}`);
  }
  return {
    eContentType: parts.eContentType,
    content: parts.content ?? Buffer.alloc(0),
    contentPresent: parts.content !== undefined,
    certificates: parts.certificates,
    signer,
  };
}

/** The codec's verdict in the words SCEP has always used (they reach failInfoText and logs). */
function scepVerdict(err: SignedDataError, signer: SignerInfoParts): SignedMessageError {
  switch (err.code) {
    case 'MALFORMED':
      return new SignedMessageError(
        'malformed',
        err.rule === 'signedAttributeCount' ? 'the signed attributes need exactly one contentType and one messageDigest' : err.message,
      );
    case 'UNSUPPORTED_ALGORITHM':
      return new SignedMessageError('unsupportedAlgorithm', err.message);
    case 'BAD_SIGNATURE':
      return new SignedMessageError(
        'badSignature',
        `the ${signer.signatureAlgorithm} signature over the signed attributes does not verify`,
      );
    default: // CONTENT_TYPE_MISMATCH, CONTENT_DIGEST_MISMATCH
      return new SignedMessageError('badSignature', err.message);
  }
}

/**
 * Checks the algorithms, the contentType and messageDigest attributes and the signature over the
 * signed attributes with the signer certificate's key. Certificate validity and trust are left
 * to the caller: SCEP requests are often signed by throwaway self-signed certificates.
 */
export function verifySignedMessage(message: SignedMessage): X509Certificate {
  const { signer } = message;
  if (signer.unsupportedAlgorithm || !signer.scheme) fail('unsupportedAlgorithm', signer.unsupportedAlgorithm ?? 'unsupported algorithm');
  if (!signer.certificate) fail('signerMissing', 'the signer certificate is not included in the message');
  try {
    verifySignerSignature({
      signerInfo: signer.info,
      digest: signer.digest,
      scheme: signer.scheme,
      eContentType: message.eContentType,
      content: message.content,
      publicKey: signer.certificate.publicKey,
    });
  } catch (err) {
    throw err instanceof SignedDataError ? scepVerdict(err, signer) : err;
  }
  return signer.certificate;
}

// ---------------------------------------------------------------------------------------------
// SCEP attribute values (lenient on read: any string type, as some clients use IA5/UTF8)

function single(message: SignedMessage, oid: string): DerNode | undefined {
  return message.signer.attributes.get(oid)?.[0];
}

export function readStringAttribute(message: SignedMessage, oid: string): string | undefined {
  const node = single(message, oid);
  return node ? readAnyString(node) : undefined;
}

export function readNonceAttribute(message: SignedMessage, oid: string): Buffer | undefined {
  const node = single(message, oid);
  return node ? Buffer.from(readOctetString(expectTag(node, TAG.OCTET_STRING, 'nonce'))) : undefined;
}

export function readSigningTime(message: SignedMessage): Date | undefined {
  const node = single(message, OID.signingTime);
  return node ? readTime(node) : undefined;
}

function invertCodes<K extends string>(codes: Readonly<Record<K, number>>): Map<number, K> {
  return new Map((Object.entries(codes) as [K, number][]).map(([name, code]) => [code, name]));
}

const MESSAGE_TYPE_BY_CODE = invertCodes(MESSAGE_TYPE_CODE);
const PKI_STATUS_BY_CODE = invertCodes(PKI_STATUS_CODE);
const FAIL_INFO_BY_CODE = invertCodes(FAIL_INFO_CODE);

function decimal(text: string, what: string): number {
  if (!/^\d{1,3}$/.test(text.trim())) throw new DerError(`${what} ${JSON.stringify(text)} is not a decimal number`);
  return Number(text.trim());
}

/** messageType as a name when known, else the number. */
export function readMessageType(message: SignedMessage): MessageTypeName | number | undefined {
  const text = readStringAttribute(message, SCEP_OID.messageType);
  if (text === undefined) return undefined;
  const code = decimal(text, 'messageType');
  return MESSAGE_TYPE_BY_CODE.get(code) ?? code;
}

export function readPkiStatus(message: SignedMessage): PkiStatus | undefined {
  const text = readStringAttribute(message, SCEP_OID.pkiStatus);
  if (text === undefined) return undefined;
  const status = PKI_STATUS_BY_CODE.get(decimal(text, 'pkiStatus'));
  if (!status) throw new DerError(`unknown pkiStatus ${text}`);
  return status;
}

export function readFailInfo(message: SignedMessage): FailInfo | undefined {
  const text = readStringAttribute(message, SCEP_OID.failInfo);
  if (text === undefined) return undefined;
  const failInfo = FAIL_INFO_BY_CODE.get(decimal(text, 'failInfo'));
  if (!failInfo) throw new DerError(`unknown failInfo ${text}`);
  return failInfo;
}

// CMS SignedData as SCEP uses it: signed attributes carrying the SCEP transaction fields.
//
// src/lib/pki/cms.ts signs with a fixed attribute set and its verifyCms() returns neither the
// signed attributes nor the signer's X509Certificate, both of which SCEP needs (and SCEP must
// read the attributes *before* the signature is known to be good, to answer a forged or damaged
// request with a CertRep FAILURE). Hence this small SCEP-specific reader/writer over der.ts.

import { createHash, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import {
  children,
  content,
  der,
  DerError,
  expectTag,
  parseDer,
  raw,
  readIntegerBytes,
  readOctetString,
  readOid,
  readTime,
  tlv,
  TAG,
  type DerNode,
} from '../pki/der.js';
import {
  DIGEST_OID_TO_HASH,
  ECDSA_SIGNATURE_OID_FOR_HASH,
  ECDSA_SIGNATURE_OIDS,
  HASH_TO_DIGEST_OID,
  OID,
  RSA_PKCS1_SIGNATURE_OIDS,
  type HashName,
} from '../pki/oids.js';
import { readCertificateFields } from '../pki/x509.js';
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
import { readAnyString } from './names.js';
import { ownReason } from './errors.js';

export interface ScepSigner {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  /** Further certificates to embed (e.g. the CA above an RA). */
  readonly chain?: readonly X509Certificate[];
}

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

function attribute(oid: string, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), der.setOf(value));
}

function scepAttributes(attrs: ScepAttributes): Buffer[] {
  if (!attrs.transactionID || !isPrintableString(attrs.transactionID)) {
    throw new RangeError(`transactionID ${JSON.stringify(attrs.transactionID)} is not a non-empty PrintableString`);
  }
  const out = [
    attribute(SCEP_OID.messageType, der.printable(String(MESSAGE_TYPE_CODE[attrs.messageType]))),
    attribute(SCEP_OID.transactionID, der.printable(attrs.transactionID)),
    attribute(SCEP_OID.senderNonce, der.octetString(attrs.senderNonce)),
  ];
  if (attrs.recipientNonce) out.push(attribute(SCEP_OID.recipientNonce, der.octetString(attrs.recipientNonce)));
  if (attrs.pkiStatus) out.push(attribute(SCEP_OID.pkiStatus, der.printable(String(PKI_STATUS_CODE[attrs.pkiStatus]))));
  if (attrs.failInfo) out.push(attribute(SCEP_OID.failInfo, der.printable(String(FAIL_INFO_CODE[attrs.failInfo]))));
  if (attrs.failInfoText !== undefined) out.push(attribute(SCEP_OID.failInfoText, der.utf8(attrs.failInfoText)));
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
  const hash = options.digest ?? 'sha256';
  const keyType = signer.privateKey.asymmetricKeyType;
  let signatureAlgorithm: Buffer;
  if (keyType === 'rsa') signatureAlgorithm = der.sequence(der.oid(OID.rsaEncryption), der.null());
  else if (keyType === 'ec') signatureAlgorithm = der.sequence(der.oid(ECDSA_SIGNATURE_OID_FOR_HASH[hash]));
  else throw new RangeError(`cannot sign with a ${keyType ?? 'unknown'} key; use RSA or EC`);
  const signingTime = new Date(Math.floor((options.signingTime ?? new Date()).getTime() / 1000) * 1000);
  const signedAttributes = der.setOf(
    attribute(OID.contentType, der.oid(OID.data)),
    attribute(OID.signingTime, der.time(signingTime)),
    attribute(OID.messageDigest, der.octetString(createHash(hash).update(encapsulated).digest())),
    ...scepAttributes(attrs),
  );
  const signature = sign(hash, signedAttributes, signer.privateKey);
  const fields = readCertificateFields(signer.certificate.raw);
  const digestAlgorithm = der.sequence(der.oid(HASH_TO_DIGEST_OID[hash]));
  const signerInfo = der.sequence(
    der.smallInteger(1),
    der.sequence(fields.issuerName, tlv(TAG.INTEGER, fields.serialNumber)),
    digestAlgorithm,
    Buffer.concat([Buffer.from([0xa0]), signedAttributes.subarray(1)]), // [0] IMPLICIT SET OF
    signatureAlgorithm,
    der.octetString(signature),
  );
  const signedData = der.sequence(
    der.smallInteger(1),
    der.setOf(digestAlgorithm),
    der.sequence(der.oid(OID.data), der.explicit(0, der.octetString(encapsulated))),
    der.implicitConstructed(0, signer.certificate.raw, ...(signer.chain ?? []).map((c) => c.raw)),
    der.setOf(signerInfo),
  );
  return der.sequence(der.oid(OID.signedData), der.explicit(0, signedData));
}

/** A degenerate certificates-only SignedData (RFC 8894 §3.4): no content, no signers. */
export function certsOnlySignedData(certificates: readonly Buffer[]): Buffer {
  if (certificates.length === 0) throw new RangeError('a certificates-only SignedData needs at least one certificate');
  const signedData = der.sequence(
    der.smallInteger(1),
    tlv(TAG.SET),
    der.sequence(der.oid(OID.data)),
    der.implicitConstructed(0, ...certificates),
    tlv(TAG.SET),
  );
  return der.sequence(der.oid(OID.signedData), der.explicit(0, signedData));
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

interface SignedDataParts {
  eContentType: string;
  eContent?: Buffer;
  certificates: X509Certificate[];
  signerInfos: DerNode[];
}

function readSignedDataParts(cms: Buffer): SignedDataParts {
  try {
    const contentInfo = children(expectTag(parseDer(cms), TAG.SEQUENCE, 'ContentInfo'));
    const contentType = readOid(contentInfo[0]!);
    if (contentType !== OID.signedData) throw new DerError(`content type is ${contentType}, not signedData`);
    const [signedData] = children(expectTag(contentInfo[1], 0xa0, 'ContentInfo content'));
    const fields = children(expectTag(signedData, TAG.SEQUENCE, 'SignedData'));
    const encapsulated = children(expectTag(fields[2], TAG.SEQUENCE, 'EncapsulatedContentInfo'));
    const eContentType = readOid(encapsulated[0]!);
    let eContent: Buffer | undefined;
    if (encapsulated[1]) {
      const [octets] = children(expectTag(encapsulated[1], 0xa0, 'eContent'));
      eContent = octets ? readOctetString(octets) : Buffer.alloc(0);
    }
    const certificates: X509Certificate[] = [];
    let signerInfos: DerNode[] | undefined;
    for (const field of fields.slice(3)) {
      if (field.tag === 0xa0) {
        for (const choice of children(field)) {
          if (choice.tag === TAG.SEQUENCE) certificates.push(new X509Certificate(raw(choice)));
        }
      } else if (field.tag === TAG.SET) {
        signerInfos = children(field);
      }
    }
    if (!signerInfos) throw new DerError('missing signerInfos');
    return { eContentType, eContent, certificates, signerInfos };
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
  /** e.g. "rsa-pkcs1-sha256", "ecdsa-sha256". */
  signatureAlgorithm: string;
  signatureHash: HashName;
  signatureFamily: 'rsa' | 'ec';
  /** Set when the digest or signature algorithm is not supported; verifySignedMessage then fails. */
  unsupportedAlgorithm?: string;
  signature: Buffer;
  /** The DER SET OF the signed attributes, i.e. what the signature covers. */
  signedAttributesSet: Buffer;
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

function signatureScheme(oid: string, digest: HashName): { name: string; hash: HashName; family: 'rsa' | 'ec' } {
  if (oid === OID.rsaEncryption) return { name: `rsa-pkcs1-${digest}`, hash: digest, family: 'rsa' };
  const rsaHash = RSA_PKCS1_SIGNATURE_OIDS[oid];
  if (rsaHash) return { name: `rsa-pkcs1-${rsaHash}`, hash: rsaHash, family: 'rsa' };
  const ecHash = ECDSA_SIGNATURE_OIDS[oid];
  if (ecHash) return { name: `ecdsa-${ecHash}`, hash: ecHash, family: 'ec' };
  if (oid === OID.ecPublicKey) return { name: `ecdsa-${digest}`, hash: digest, family: 'ec' };
  fail('unsupportedAlgorithm', `unsupported signature algorithm ${oid}`);
}

function sameSerial(a: Buffer, b: Buffer): boolean {
  const strip = (x: Buffer) => (x.length > 1 && x[0] === 0 ? x.subarray(1) : x);
  return strip(a).equals(strip(b));
}

function findCertificate(sid: DerNode, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sid);
    const issuerBytes = raw(expectTag(issuer, TAG.SEQUENCE, 'issuer'));
    const serialBytes = readIntegerBytes(serial!);
    return candidates.find((c) => {
      const f = readCertificateFields(c.raw);
      return f.issuerName.equals(issuerBytes) && sameSerial(f.serialNumber, serialBytes);
    });
  }
  if (sid.tag === 0x80) {
    return candidates.find((c) => readCertificateFields(c.raw).subjectKeyIdentifier?.equals(content(sid)) ?? false);
  }
  throw new DerError(`unknown signer identifier tag 0x${sid.tag.toString(16)}`);
}

/**
 * Parses a single-signer SignedData with signed attributes without checking the signature yet
 * (see verifySignedMessage), so its attributes can be read even from a message that fails.
 * `extraCertificates` are searched for the signer too (a CertRep may leave the CA's out).
 */
export function readSignedMessage(cms: Buffer, extraCertificates: readonly X509Certificate[] = []): SignedMessage {
  const parts = readSignedDataParts(cms);
  if (parts.signerInfos.length !== 1) fail('malformed', `expected one signer, found ${parts.signerInfos.length}`);
  let signer: SignerInfoParts;
  try {
    const fields = children(expectTag(parts.signerInfos[0], TAG.SEQUENCE, 'SignerInfo'));
    let i = 1;
    const sid = fields[i++]!;
    const digestOid = readOid(children(expectTag(fields[i++], TAG.SEQUENCE, 'digestAlgorithm'))[0]!);
    const signedAttributesNode = fields[i]?.tag === 0xa0 ? fields[i++]! : undefined;
    if (!signedAttributesNode) throw new DerError('the SignerInfo has no signed attributes, which SCEP requires');
    const signatureOid = readOid(children(expectTag(fields[i++], TAG.SEQUENCE, 'signatureAlgorithm'))[0]!);
    const signature = readOctetString(expectTag(fields[i++], TAG.OCTET_STRING, 'signature'));
    const attributes = new Map<string, DerNode[]>();
    for (const attr of children(signedAttributesNode)) {
      const [type, values] = children(expectTag(attr, TAG.SEQUENCE, 'Attribute'));
      attributes.set(readOid(type!), children(expectTag(values, TAG.SET, 'attribute values')));
    }
    const certificate = findCertificate(sid, [...parts.certificates, ...extraCertificates]);
    // Algorithms are only judged in verifySignedMessage, so that a message using an unsupported
    // one still yields its transaction fields for the CertRep FAILURE
    const digest = DIGEST_OID_TO_HASH[digestOid] ?? RSA_PKCS1_SIGNATURE_OIDS[digestOid];
    let scheme: { name: string; hash: HashName; family: 'rsa' | 'ec' } | undefined;
    let unsupportedAlgorithm = digest ? undefined : `unsupported digest algorithm ${digestOid}`;
    if (digest) {
      try {
        scheme = signatureScheme(signatureOid, digest);
      } catch (err) {
        unsupportedAlgorithm = ownReason(err);
      }
    }
    signer = {
      digest: digest ?? 'sha256',
      signatureAlgorithm: scheme?.name ?? signatureOid,
      signatureHash: scheme?.hash ?? 'sha256',
      signatureFamily: scheme?.family ?? 'rsa',
      unsupportedAlgorithm,
      signature,
      signedAttributesSet: Buffer.concat([Buffer.from([TAG.SET]), raw(signedAttributesNode).subarray(1)]),
      attributes,
      certificate,
    };
  } catch (err) {
    if (err instanceof SignedMessageError) throw err;
    fail('malformed', `malformed SignerInfo: ${ownReason(err)}`);
  }
  return {
    eContentType: parts.eContentType,
    content: parts.eContent ?? Buffer.alloc(0),
    contentPresent: parts.eContent !== undefined,
    certificates: parts.certificates,
    signer,
  };
}

/**
 * Checks the algorithms, the contentType and messageDigest attributes and the signature over the
 * signed attributes with the signer certificate's key. Certificate validity and trust are left
 * to the caller: SCEP requests are often signed by throwaway self-signed certificates.
 */
export function verifySignedMessage(message: SignedMessage): X509Certificate {
  const { signer } = message;
  if (signer.unsupportedAlgorithm) fail('unsupportedAlgorithm', signer.unsupportedAlgorithm);
  if (!signer.certificate) fail('signerMissing', 'the signer certificate is not included in the message');
  const contentTypeValue = signer.attributes.get(OID.contentType);
  const digestValue = signer.attributes.get(OID.messageDigest);
  if (contentTypeValue?.length !== 1 || digestValue?.length !== 1) {
    fail('malformed', 'the signed attributes need exactly one contentType and one messageDigest');
  }
  if (readOid(contentTypeValue[0]!) !== message.eContentType) {
    fail('badSignature', 'the signed contentType attribute differs from the encapsulated content type');
  }
  const expected = readOctetString(expectTag(digestValue[0], TAG.OCTET_STRING, 'messageDigest'));
  if (!createHash(signer.digest).update(message.content).digest().equals(expected)) {
    fail('badSignature', `the content's ${signer.digest} digest does not match the signed messageDigest`);
  }
  const key = signer.certificate.publicKey;
  const keyFamily = key.asymmetricKeyType === 'rsa' ? 'rsa' : key.asymmetricKeyType;
  if (keyFamily !== signer.signatureFamily) {
    fail('unsupportedAlgorithm', `signature algorithm ${signer.signatureAlgorithm} does not fit a ${key.asymmetricKeyType} key`);
  }
  let ok: boolean;
  try {
    ok = verify(signer.signatureHash, signer.signedAttributesSet, { key, dsaEncoding: 'der' }, signer.signature);
  } catch {
    ok = false;
  }
  if (!ok) fail('badSignature', `the ${signer.signatureAlgorithm} signature over the signed attributes does not verify`);
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

// CMS SignedData (RFC 5652 §5): the one codec. Builds and signs; reads the structure (content,
// certificates, signer infos, signed attributes) over the exact encoded bytes; checks one
// signer's signature math with node:crypto. What a signature is trusted for (certificate
// chains and validity for profiles and Mdm-Signature, SCEP's transaction attributes) is decided
// by the callers: ./cms.ts and src/lib/scep.

import { constants, createHash, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
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
  readSmallInteger,
  readTime,
  tlv,
  TAG,
  type DerNode,
} from './der.js';
import {
  DIGEST_OID_TO_HASH,
  ECDSA_SIGNATURE_OID_FOR_HASH,
  ECDSA_SIGNATURE_OIDS,
  HASH_TO_DIGEST_OID,
  OID,
  RSA_PKCS1_SIGNATURE_OIDS,
  type HashName,
} from './oids.js';
import { readCertificateFields, type CertificateFields } from './x509.js';

export type SignedDataErrorCode =
  'MALFORMED' | 'NOT_SIGNED_DATA' | 'UNSUPPORTED_ALGORITHM' | 'CONTENT_TYPE_MISMATCH' | 'CONTENT_DIGEST_MISMATCH' | 'BAD_SIGNATURE';

/**
 * A SignedData that cannot be read or whose signature does not check out. `own` is false when
 * the message comes from somewhere else (OpenSSL via node:crypto) rather than from this codec.
 */
export class SignedDataError extends Error {
  constructor(
    readonly code: SignedDataErrorCode,
    message: string,
    readonly own = true,
    /** Which structural rule a MALFORMED broke, where a caller words it differently. */
    readonly rule?: 'signedAttributeCount',
  ) {
    super(message);
    this.name = 'SignedDataError';
  }
}

function fail(code: SignedDataErrorCode, message: string): never {
  throw new SignedDataError(code, message);
}

// ---------------------------------------------------------------------------------------------
// Certificates (parsed once, shared)

const fieldsCache = new WeakMap<X509Certificate, CertificateFields>();

/** readCertificateFields, remembered per parsed certificate. */
export function certificateFields(cert: X509Certificate): CertificateFields {
  let fields = fieldsCache.get(cert);
  if (!fields) {
    fields = readCertificateFields(cert.raw);
    fieldsCache.set(cert, fields);
  }
  return fields;
}

// A device signs every MDM request with the same certificate: parsing it and checking its
// issuer's signature once per certificate, not once per message, is most of a verification.
// Certificates are parsed before any signature is checked, so anyone can fill this: it is keyed
// by a digest (not the bytes) and bounded in bytes as well as entries, least recently used out.
const parsedCertificates = new Map<string, { cert: X509Certificate; bytes: number }>();
const PARSED_CERTIFICATES_LIMIT = 10_000;
const PARSED_CERTIFICATES_MAX_BYTES = 16 * 1024 * 1024;
/** A parsed certificate holds its DER and decoded fields natively: counted as three times its DER. */
const PARSED_CERTIFICATE_COST_FACTOR = 3;
let parsedCertificateBytes = 0;

/** The parsed certificate for these DER bytes, shared between messages that carry the same one. */
function parseCertificate(derBytes: Buffer): X509Certificate {
  const key = createHash('sha256').update(derBytes).digest('base64');
  const hit = parsedCertificates.get(key);
  if (hit) {
    parsedCertificates.delete(key);
    parsedCertificates.set(key, hit);
    return hit.cert;
  }
  const cert = new X509Certificate(derBytes);
  const bytes = derBytes.length * PARSED_CERTIFICATE_COST_FACTOR + key.length;
  parsedCertificates.set(key, { cert, bytes });
  parsedCertificateBytes += bytes;
  while (parsedCertificates.size > PARSED_CERTIFICATES_LIMIT || parsedCertificateBytes > PARSED_CERTIFICATES_MAX_BYTES) {
    const [oldest, entry] = parsedCertificates.entries().next().value!;
    parsedCertificates.delete(oldest);
    parsedCertificateBytes -= entry.bytes;
  }
  return cert;
}

/** What the parsed-certificate cache holds (entries, accounted bytes): for tests of its bound. */
export function parsedCertificateCacheStats(): { entries: number; bytes: number; maxBytes: number } {
  return { entries: parsedCertificates.size, bytes: parsedCertificateBytes, maxBytes: PARSED_CERTIFICATES_MAX_BYTES };
}

// ---------------------------------------------------------------------------------------------
// Building

/** Who signs: the key, its certificate, and further certificates to embed (intermediates, the CA above an RA). */
export interface SignedDataSigner {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  readonly chain?: readonly X509Certificate[];
}

export interface BuildSignedDataOptions {
  /** Leave the content out of the structure (e.g. Mdm-Signature over a request body). */
  detached?: boolean;
  /**
   * Defaults to now; whole seconds are signed. null leaves the signingTime attribute out (it is
   * optional, RFC 5652 §11.3): with a deterministic signature (RSA PKCS#1 v1.5) the output then
   * depends only on the content and the signer, which reproducible builds need.
   */
  signingTime?: Date | null;
  /** Defaults to SHA-256. */
  digest?: HashName;
  /** Signed after contentType, signingTime and messageDigest (e.g. SCEP's transaction attributes). */
  extraSignedAttributes?: readonly Buffer[];
}

/** One Attribute: SEQUENCE { type, SET { value } }. */
export function signedAttribute(oid: string, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), der.setOf(value));
}

interface PreparedSigner {
  certificates: Buffer;
  signerIdentifier: Buffer;
  digestAlgorithm: Buffer;
  signatureAlgorithm: Buffer;
}

// Per signer+digest, the parts that do not depend on the content: profiles are signed in bulk
const preparedCache = new WeakMap<SignedDataSigner, Map<HashName, PreparedSigner>>();

function prepareSigner(signer: SignedDataSigner, hash: HashName): PreparedSigner {
  let byHash = preparedCache.get(signer);
  const cached = byHash?.get(hash);
  if (cached) return cached;
  const keyType = signer.privateKey.asymmetricKeyType;
  let signatureAlgorithm: Buffer;
  if (keyType === 'rsa') {
    // rsaEncryption (hash taken from digestAlgorithm) is what Apple's own signers emit
    signatureAlgorithm = der.sequence(der.oid(OID.rsaEncryption), der.null());
  } else if (keyType === 'ec') {
    signatureAlgorithm = der.sequence(der.oid(ECDSA_SIGNATURE_OID_FOR_HASH[hash]));
  } else {
    throw new RangeError(`cannot sign CMS with a ${keyType ?? 'unknown'} key; use RSA or EC`);
  }
  if (!signer.certificate.checkPrivateKey(signer.privateKey)) {
    throw new RangeError('the signing key does not match the signer certificate');
  }
  const fields = certificateFields(signer.certificate);
  const prepared: PreparedSigner = {
    certificates: der.implicitConstructed(0, signer.certificate.raw, ...(signer.chain ?? []).map((c) => c.raw)),
    signerIdentifier: der.sequence(fields.issuerName, tlv(TAG.INTEGER, fields.serialNumber)),
    digestAlgorithm: der.sequence(der.oid(HASH_TO_DIGEST_OID[hash])),
    signatureAlgorithm,
  };
  if (!byHash) preparedCache.set(signer, (byHash = new Map()));
  byHash.set(hash, prepared);
  return prepared;
}

/**
 * DER ContentInfo(SignedData) over `contentBytes` (id-data): one signer identified by issuer and
 * serial, signed attributes (contentType, signingTime, messageDigest, then any extra ones), the
 * signer's certificate and chain embedded.
 */
export function buildSignedData(contentBytes: Buffer, signer: SignedDataSigner, options: BuildSignedDataOptions = {}): Buffer {
  const hash = options.digest ?? 'sha256';
  const prepared = prepareSigner(signer, hash);
  const signingTime =
    options.signingTime === null ? null : new Date(Math.floor((options.signingTime ?? new Date()).getTime() / 1000) * 1000);
  // The signature covers the attributes encoded as a SET; they are stored under [0] IMPLICIT
  const signedAttributesSet = der.setOf(
    signedAttribute(OID.contentType, der.oid(OID.data)),
    ...(signingTime ? [signedAttribute(OID.signingTime, der.time(signingTime))] : []),
    signedAttribute(OID.messageDigest, der.octetString(createHash(hash).update(contentBytes).digest())),
    ...(options.extraSignedAttributes ?? []),
  );
  const signature = sign(hash, signedAttributesSet, signer.privateKey);
  const signerInfo = der.sequence(
    der.smallInteger(1),
    prepared.signerIdentifier,
    prepared.digestAlgorithm,
    Buffer.concat([Buffer.from([0xa0]), signedAttributesSet.subarray(1)]),
    prepared.signatureAlgorithm,
    der.octetString(signature),
  );
  const encapsulated = options.detached
    ? der.sequence(der.oid(OID.data))
    : der.sequence(der.oid(OID.data), der.explicit(0, der.octetString(contentBytes)));
  const signedData = der.sequence(
    der.smallInteger(1),
    tlv(TAG.SET, prepared.digestAlgorithm),
    encapsulated,
    prepared.certificates,
    tlv(TAG.SET, signerInfo),
  );
  return der.sequence(der.oid(OID.signedData), der.explicit(0, signedData));
}

/** A degenerate certificates-only SignedData (RFC 8894 §3.4, "certs-only" PKCS#7): no content, no signers. */
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

export interface SignedDataStructure {
  /** The encapsulated content type. */
  eContentType: string;
  /** The encapsulated content; undefined when detached (an empty [0] counts as empty content). */
  content?: Buffer;
  /** The DER of each X.509 certificate embedded, in encoded order (attribute certificates etc. left out). */
  certificateDers: Buffer[];
  /** Each SignerInfo, read with readSignerInfo. */
  signerInfoNodes: DerNode[];
}

/**
 * The structure of a DER (or BER) ContentInfo(SignedData), without parsing certificates or
 * signer infos. Throws SignedDataError: NOT_SIGNED_DATA for another content type (message
 * "content type is …, not signedData"), MALFORMED otherwise.
 */
export function readSignedDataStructure(bytes: Buffer): SignedDataStructure {
  try {
    const contentInfo = children(expectTag(parseDer(bytes), TAG.SEQUENCE, 'ContentInfo'));
    const contentType = readOid(contentInfo[0]!);
    if (contentType !== OID.signedData) fail('NOT_SIGNED_DATA', `content type is ${contentType}, not signedData`);
    const [signedDataNode] = children(expectTag(contentInfo[1], 0xa0, 'ContentInfo content'));
    const fields = children(expectTag(signedDataNode, TAG.SEQUENCE, 'SignedData'));
    const encapsulated = children(expectTag(fields[2], TAG.SEQUENCE, 'EncapsulatedContentInfo'));
    const eContentType = readOid(encapsulated[0]!);
    let eContent: Buffer | undefined;
    if (encapsulated[1]) {
      const [octets] = children(expectTag(encapsulated[1], 0xa0, 'eContent'));
      eContent = octets ? readOctetString(octets) : Buffer.alloc(0);
    }
    const certificateDers: Buffer[] = [];
    let signerInfoNodes: DerNode[] | undefined;
    for (const field of fields.slice(3)) {
      if (field.tag === 0xa0) {
        for (const choice of children(field)) if (choice.tag === TAG.SEQUENCE) certificateDers.push(raw(choice));
      } else if (field.tag === TAG.SET) {
        signerInfoNodes = children(field);
      }
    }
    if (!signerInfoNodes) throw new DerError('missing signerInfos');
    return { eContentType, content: eContent, certificateDers, signerInfoNodes };
  } catch (err) {
    throw asMalformed(err);
  }
}

export interface SignedDataMessage extends Omit<SignedDataStructure, 'certificateDers'> {
  /** The embedded X.509 certificates, parsed (their fields and keys are read when first needed). */
  certificates: X509Certificate[];
}

/** readSignedDataStructure with the certificates parsed; a certificate OpenSSL cannot parse is MALFORMED. */
export function parseSignedData(bytes: Buffer): SignedDataMessage {
  const { certificateDers, ...structure } = readSignedDataStructure(bytes);
  try {
    return { ...structure, certificates: certificateDers.map(parseCertificate) };
  } catch (err) {
    throw asMalformed(err);
  }
}

function asMalformed(err: unknown): SignedDataError {
  if (err instanceof SignedDataError) return err;
  return new SignedDataError('MALFORMED', (err as Error).message, err instanceof DerError);
}

export interface SignerInfo {
  /** SignerIdentifier: issuerAndSerialNumber (a SEQUENCE) or [0] subjectKeyIdentifier. */
  sid: DerNode;
  digestAlgorithm: DerNode;
  /** [0] IMPLICIT SET OF Attribute, when present. */
  signedAttributes?: DerNode;
  signatureAlgorithm: DerNode;
  signature: Buffer;
}

/**
 * The fields of one SignerInfo; throws DerError when it is not one. `digestAlgorithmName` is how
 * an error names the digestAlgorithm field (the callers have always worded it differently).
 */
export function readSignerInfo(node: DerNode, digestAlgorithmName = 'AlgorithmIdentifier'): SignerInfo {
  const fields = children(expectTag(node, TAG.SEQUENCE, 'SignerInfo'));
  let i = 1;
  const sid = fields[i++]!;
  const digestAlgorithm = expectTag(fields[i++], TAG.SEQUENCE, digestAlgorithmName);
  const signedAttributes = fields[i]?.tag === 0xa0 ? fields[i++] : undefined;
  const signatureAlgorithm = fields[i++]!;
  const signature = readOctetString(expectTag(fields[i++], TAG.OCTET_STRING, 'signature'));
  return { sid, digestAlgorithm, signatureAlgorithm, signature, ...(signedAttributes ? { signedAttributes } : {}) };
}

/** The signed attributes by type (the first of a repeated type wins); throws DerError. */
export function readSignedAttributes(signedAttributes: DerNode): Map<string, DerNode[]> {
  const attributes = new Map<string, DerNode[]>();
  for (const attribute of children(signedAttributes)) {
    const [type, values] = children(expectTag(attribute, TAG.SEQUENCE, 'Attribute'));
    const oid = readOid(type!);
    if (!attributes.has(oid)) attributes.set(oid, children(expectTag(values, TAG.SET, 'attribute values')));
  }
  return attributes;
}

/** What the signature covers: the signed attributes as an EXPLICIT SET OF, though stored under [0] IMPLICIT. */
export function signedAttributesSignedBytes(signedAttributes: DerNode): Buffer {
  return Buffer.concat([Buffer.from([TAG.SET]), raw(signedAttributes).subarray(1)]);
}

function sameSerial(a: Buffer, b: Buffer): boolean {
  // Positive INTEGER bytes compare equal regardless of a leading 0x00
  const strip = (x: Buffer) => (x.length > 1 && x[0] === 0 ? x.subarray(1) : x);
  return strip(a).equals(strip(b));
}

/** Whether a SignerIdentifier names the certificate with these fields; throws DerError for an unknown identifier form. */
export function signerIdentifierMatches(sid: DerNode, fields: CertificateFields): boolean {
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sid);
    const issuerBytes = raw(expectTag(issuer, TAG.SEQUENCE, 'issuer Name'));
    return fields.issuerName.equals(issuerBytes) && sameSerial(fields.serialNumber, readIntegerBytes(serial!));
  }
  if (sid.tag === 0x80) return fields.subjectKeyIdentifier?.equals(content(sid)) ?? false;
  throw new DerError(`unknown signer identifier tag 0x${sid.tag.toString(16)}`);
}

/** The certificate a SignerIdentifier names, among `candidates`; throws DerError for an unknown identifier form. */
export function findSignerCertificate(sid: DerNode, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  if (sid.tag !== TAG.SEQUENCE && sid.tag !== 0x80) throw new DerError(`unknown signer identifier tag 0x${sid.tag.toString(16)}`);
  return candidates.find((c) => signerIdentifierMatches(sid, certificateFields(c)));
}

// ---------------------------------------------------------------------------------------------
// Algorithms

export interface SignatureScheme {
  /** e.g. "rsa-pkcs1-sha256", "rsa-pss-sha256", "ecdsa-sha384". */
  name: string;
  hash: HashName;
  keyFamily: 'rsa' | 'ec';
  /** Set for RSASSA-PSS. */
  pssSaltLength?: number;
}

function algorithmOid(algorithmIdentifier: DerNode): { oid: string; parameters?: DerNode } {
  const parts = children(expectTag(algorithmIdentifier, TAG.SEQUENCE, 'AlgorithmIdentifier'));
  return { oid: readOid(parts[0]!), parameters: parts[1] };
}

/** The OID of an AlgorithmIdentifier; throws DerError. */
export function algorithmIdentifierOid(algorithmIdentifier: DerNode): string {
  return algorithmOid(algorithmIdentifier).oid;
}

/** The hash a digestAlgorithm names: UNSUPPORTED_ALGORITHM for others. */
export function digestHash(algorithmIdentifier: DerNode): HashName {
  const { oid } = algorithmOid(algorithmIdentifier);
  // Some old signers put a signature OID where the digest OID belongs
  const hash = DIGEST_OID_TO_HASH[oid] ?? RSA_PKCS1_SIGNATURE_OIDS[oid];
  if (!hash) fail('UNSUPPORTED_ALGORITHM', `unsupported digest algorithm ${oid}`);
  return hash;
}

function pssScheme(parameters: DerNode | undefined): SignatureScheme {
  // RSASSA-PSS-params defaults (RFC 4055): SHA-1, MGF1 with SHA-1, salt 20, trailer 1
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  if (parameters && parameters.tag === TAG.SEQUENCE) {
    for (const field of children(parameters)) {
      const [inner] = children(field);
      if (field.tag === 0xa0) hash = digestHash(inner!);
      else if (field.tag === 0xa1) {
        const mgf = algorithmOid(inner!);
        if (mgf.oid !== OID.mgf1 || !mgf.parameters) fail('UNSUPPORTED_ALGORITHM', `unsupported PSS mask generation ${mgf.oid}`);
        mgfHash = digestHash(mgf.parameters);
      } else if (field.tag === 0xa2) saltLength = readSmallInteger(inner!);
      else if (field.tag === 0xa3 && readSmallInteger(inner!) !== 1) fail('UNSUPPORTED_ALGORITHM', 'unsupported PSS trailer field');
    }
  }
  // node:crypto (OpenSSL) uses the signature hash for MGF1 too
  if (mgfHash !== hash) fail('UNSUPPORTED_ALGORITHM', `RSA-PSS with MGF1-${mgfHash} and ${hash} differing is not supported`);
  return { name: `rsa-pss-${hash}`, hash, keyFamily: 'rsa', pssSaltLength: saltLength };
}

/** The scheme a signatureAlgorithm names, given the SignerInfo's digest: UNSUPPORTED_ALGORITHM for others. */
export function signatureScheme(algorithmIdentifier: DerNode, digest: HashName): SignatureScheme {
  const { oid, parameters } = algorithmOid(algorithmIdentifier);
  if (oid === OID.rsaEncryption) return { name: `rsa-pkcs1-${digest}`, hash: digest, keyFamily: 'rsa' };
  const rsaHash = RSA_PKCS1_SIGNATURE_OIDS[oid];
  if (rsaHash) return { name: `rsa-pkcs1-${rsaHash}`, hash: rsaHash, keyFamily: 'rsa' };
  const ecHash = ECDSA_SIGNATURE_OIDS[oid];
  if (ecHash) return { name: `ecdsa-${ecHash}`, hash: ecHash, keyFamily: 'ec' };
  // Some signers name only the key type for ECDSA
  if (oid === OID.ecPublicKey) return { name: `ecdsa-${digest}`, hash: digest, keyFamily: 'ec' };
  if (oid === OID.rsassaPss) return pssScheme(parameters);
  fail('UNSUPPORTED_ALGORITHM', `unsupported signature algorithm ${oid}`);
}

// ---------------------------------------------------------------------------------------------
// Verifying one signer

export interface SignerSignatureInput {
  signerInfo: SignerInfo;
  /** Resolved with digestHash and signatureScheme. */
  digest: HashName;
  scheme: SignatureScheme;
  /** The SignedData's encapsulated content type and the content signed (embedded or detached). */
  eContentType: string;
  content: Buffer;
  publicKey: KeyObject;
  /** Also read the signingTime attribute (a MALFORMED error when unreadable). */
  readSigningTime?: boolean;
}

/**
 * Checks the signature math of one signer, in this order: signed attributes (exactly one
 * contentType and messageDigest, MALFORMED; contentType matching, CONTENT_TYPE_MISMATCH), the
 * content digest (CONTENT_DIGEST_MISMATCH), the key fitting the scheme (UNSUPPORTED_ALGORITHM)
 * and the signature itself (BAD_SIGNATURE). Without signed attributes the signature is over the
 * content itself, so a changed content shows as BAD_SIGNATURE. Certificates are not judged here.
 */
export function verifySignerSignature(input: SignerSignatureInput): { signingTime?: Date } {
  const { signerInfo, digest, scheme } = input;
  let signed: Buffer;
  let signingTime: Date | undefined;
  if (signerInfo.signedAttributes) {
    let messageDigest: Buffer;
    try {
      const attributes = readSignedAttributes(signerInfo.signedAttributes);
      const digestValues = attributes.get(OID.messageDigest);
      const typeValues = attributes.get(OID.contentType);
      if (digestValues?.length !== 1 || typeValues?.length !== 1) {
        throw new SignedDataError(
          'MALFORMED',
          'signed attributes need exactly one messageDigest and one contentType',
          true,
          'signedAttributeCount',
        );
      }
      messageDigest = readOctetString(expectTag(digestValues[0], TAG.OCTET_STRING, 'messageDigest'));
      if (readOid(typeValues[0]!) !== input.eContentType) {
        fail('CONTENT_TYPE_MISMATCH', 'the signed contentType attribute differs from the encapsulated content type');
      }
      const timeValue = input.readSigningTime ? attributes.get(OID.signingTime)?.[0] : undefined;
      if (timeValue) signingTime = readTime(timeValue);
    } catch (err) {
      throw asMalformed(err);
    }
    if (!createHash(digest).update(input.content).digest().equals(messageDigest)) {
      fail('CONTENT_DIGEST_MISMATCH', `the content's ${digest} digest does not match the signed messageDigest`);
    }
    signed = signedAttributesSignedBytes(signerInfo.signedAttributes);
  } else {
    signed = input.content;
  }
  const key = input.publicKey;
  const keyType = key.asymmetricKeyType;
  const family = keyType === 'rsa' || keyType === 'rsa-pss' ? 'rsa' : keyType;
  if (family !== scheme.keyFamily) fail('UNSUPPORTED_ALGORITHM', `signature algorithm ${scheme.name} does not fit a ${keyType} key`);
  let ok: boolean;
  try {
    ok = verify(
      scheme.hash,
      signed,
      scheme.pssSaltLength === undefined
        ? { key, dsaEncoding: 'der' }
        : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength },
      signerInfo.signature,
    );
  } catch {
    ok = false; // e.g. a malformed ECDSA signature
  }
  if (!ok) fail('BAD_SIGNATURE', `the ${scheme.name} signature does not verify with the signer's public key`);
  return signingTime ? { signingTime } : {};
}

// CMS SignedData (RFC 5652) signing and verification for configuration profiles and
// Mdm-Signature headers. Pure: no file I/O. ASN.1 is walked with ./der.js so signed attributes and
// certificates are checked over their exact encoded bytes; all cryptography is node:crypto.

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

export type { HashName } from './oids.js';

/** What signCms needs: the signer's key and certificate, plus intermediates to embed. */
export interface CmsSigner {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  readonly chain?: readonly X509Certificate[];
}

export interface SignCmsOptions {
  /** Leave the content out of the structure (e.g. Mdm-Signature over a request body). */
  detached?: boolean;
  /** Defaults to now. */
  signingTime?: Date;
  digest?: 'sha256' | 'sha384' | 'sha512';
}

const fieldsCache = new WeakMap<X509Certificate, CertificateFields>();

function certificateFields(cert: X509Certificate): CertificateFields {
  let fields = fieldsCache.get(cert);
  if (!fields) {
    fields = readCertificateFields(cert.raw);
    fieldsCache.set(cert, fields);
  }
  return fields;
}

interface PreparedSigner {
  certificates: Buffer;
  signerIdentifier: Buffer;
  digestAlgorithm: Buffer;
  signatureAlgorithm: Buffer;
}

// Per signer+digest, the parts that do not depend on the content: profiles are signed in bulk
const preparedCache = new WeakMap<CmsSigner, Map<HashName, PreparedSigner>>();

function prepareSigner(signer: CmsSigner, hash: HashName): PreparedSigner {
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

/** DER CMS SignedData over `content`: SHA-256 by default, signed attributes, certificates embedded. */
export function signCms(contentBytes: Buffer, signer: CmsSigner, options: SignCmsOptions = {}): Buffer {
  const hash = options.digest ?? 'sha256';
  const prepared = prepareSigner(signer, hash);
  const signingTime = new Date(Math.floor((options.signingTime ?? new Date()).getTime() / 1000) * 1000);
  const attributes = [
    der.sequence(der.oid(OID.contentType), der.setOf(der.oid(OID.data))),
    der.sequence(der.oid(OID.signingTime), der.setOf(der.time(signingTime))),
    der.sequence(der.oid(OID.messageDigest), der.setOf(der.octetString(createHash(hash).update(contentBytes).digest()))),
  ];
  // The signature covers the attributes encoded as a SET; they are stored under [0] IMPLICIT
  const signedAttributesSet = der.setOf(...attributes);
  const signature = sign(hash, signedAttributesSet, signer.privateKey);
  const signedAttributes = Buffer.concat([Buffer.from([0xa0]), signedAttributesSet.subarray(1)]);

  const signerInfo = der.sequence(
    der.smallInteger(1),
    prepared.signerIdentifier,
    prepared.digestAlgorithm,
    signedAttributes,
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

// ---------------------------------------------------------------------------------------------
// Verification

export type CmsVerifyErrorCode =
  | 'MALFORMED'
  | 'NOT_SIGNED_DATA'
  | 'NO_SIGNERS'
  | 'DETACHED_CONTENT_REQUIRED'
  | 'SIGNER_CERTIFICATE_MISSING'
  | 'UNSUPPORTED_ALGORITHM'
  | 'CONTENT_TYPE_MISMATCH'
  | 'CONTENT_DIGEST_MISMATCH'
  | 'BAD_SIGNATURE'
  | 'SIGNER_EXPIRED'
  | 'SIGNER_NOT_YET_VALID'
  | 'CHAIN_CERTIFICATE_EXPIRED'
  | 'CHAIN_CERTIFICATE_NOT_YET_VALID'
  | 'UNTRUSTED_CHAIN';

export class CmsVerifyError extends Error {
  constructor(
    readonly code: CmsVerifyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CmsVerifyError';
  }
}

export interface CertificateSummary {
  /** e.g. "C=US, O=Let's Encrypt, CN=E8" */
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex with colons, as openssl prints it. */
  fingerprintSha256: string;
  certificatePem: string;
}

export interface VerifyCmsOptions {
  /**
   * Certificates to trust. When given (non-empty), a chain that does not end at one of them is
   * an UNTRUSTED_CHAIN error. When absent, the signature is still fully checked but the result
   * says `trusted: false`.
   */
  trustAnchors?: readonly (string | X509Certificate)[];
  /** The signed bytes, for detached signatures (Mdm-Signature headers). */
  detachedContent?: Buffer;
  /** Time at which certificate validity is judged; defaults to now. */
  at?: Date;
}

export interface SignerVerification {
  signer: CertificateSummary;
  /** From the signer upwards; ends with the trust anchor when trusted. */
  chain: CertificateSummary[];
  trusted: boolean;
  trustAnchor?: CertificateSummary;
  digestAlgorithm: HashName;
  /** e.g. "rsa-pkcs1-sha256", "rsa-pss-sha256", "ecdsa-sha384". */
  signatureAlgorithm: string;
  signedAttributes: boolean;
  signingTime?: Date;
}

export interface CmsVerifyResult extends SignerVerification {
  content: Buffer;
  detached: boolean;
  /**
   * Always true in a returned result (a bad signature throws). Spelled out so callers can show
   * "signature valid" separately from `trusted`, which needs trust anchors.
   */
  signatureValid: true;
  /** Every signer (all were verified); the top-level fields describe the first. */
  signers: SignerVerification[];
}

function fail(code: CmsVerifyErrorCode, message: string): never {
  throw new CmsVerifyError(code, message);
}

function oneLineName(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

const summaryCache = new WeakMap<X509Certificate, CertificateSummary>();

/** A certificate's summary (cached per parsed certificate: verifications repeat signers). */
export function summarizeCertificate(cert: X509Certificate): CertificateSummary {
  let summary = summaryCache.get(cert);
  if (!summary) {
    summary = Object.freeze(makeSummary(cert));
    summaryCache.set(cert, summary);
  }
  return { ...summary };
}

function makeSummary(cert: X509Certificate): CertificateSummary {
  const fields = certificateFields(cert);
  return {
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    fingerprintSha256: cert.fingerprint256,
    certificatePem: cert.toString(),
  };
}

interface SignatureScheme {
  name: string;
  hash: HashName;
  keyFamily: 'rsa' | 'ec';
  pssSaltLength?: number;
}

function algorithmOid(algorithmIdentifier: DerNode): { oid: string; parameters?: DerNode } {
  const parts = children(expectTag(algorithmIdentifier, TAG.SEQUENCE, 'AlgorithmIdentifier'));
  return { oid: readOid(parts[0]!), parameters: parts[1] };
}

function digestHash(algorithmIdentifier: DerNode): HashName {
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

function signatureScheme(algorithmIdentifier: DerNode, digest: HashName): SignatureScheme {
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

function checkSignature(scheme: SignatureScheme, data: Buffer, signature: Buffer, key: KeyObject, what: string): void {
  const keyType = key.asymmetricKeyType;
  const family = keyType === 'rsa' || keyType === 'rsa-pss' ? 'rsa' : keyType;
  if (family !== scheme.keyFamily) {
    fail('UNSUPPORTED_ALGORITHM', `${what}: signature algorithm ${scheme.name} does not fit a ${keyType} key`);
  }
  let ok: boolean;
  try {
    ok = verify(
      scheme.hash,
      data,
      scheme.pssSaltLength === undefined
        ? { key, dsaEncoding: 'der' }
        : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength },
      signature,
    );
  } catch {
    ok = false; // e.g. a malformed ECDSA signature
  }
  if (!ok) fail('BAD_SIGNATURE', `${what}: the ${scheme.name} signature does not verify with the signer's public key`);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

/** Positive INTEGER bytes compare equal regardless of a leading 0x00. */
function sameSerial(a: Buffer, b: Buffer): boolean {
  const strip = (x: Buffer) => (x.length > 1 && x[0] === 0 ? x.subarray(1) : x);
  return sameBytes(strip(a), strip(b));
}

function findSignerCertificate(sid: DerNode, certificates: X509Certificate[]): X509Certificate | undefined {
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sid);
    const issuerBytes = raw(expectTag(issuer, TAG.SEQUENCE, 'issuer Name'));
    const serialBytes = readIntegerBytes(serial!);
    return certificates.find((c) => {
      const f = certificateFields(c);
      return sameBytes(f.issuerName, issuerBytes) && sameSerial(f.serialNumber, serialBytes);
    });
  }
  if (sid.tag === 0x80) {
    const keyId = content(sid);
    return certificates.find((c) => {
      const ski = certificateFields(c).subjectKeyIdentifier;
      return ski !== undefined && sameBytes(ski, keyId);
    });
  }
  fail('MALFORMED', `unknown signer identifier tag 0x${sid.tag.toString(16)}`);
}

function checkValidity(cert: X509Certificate, at: Date, isSigner: boolean): void {
  const { notBefore, notAfter } = certificateFields(cert);
  if (at >= notBefore && at <= notAfter) return;
  const who = `${isSigner ? 'signer' : 'chain'} certificate ${oneLineName(cert.subject)}`;
  if (at > notAfter) {
    fail(
      isSigner ? 'SIGNER_EXPIRED' : 'CHAIN_CERTIFICATE_EXPIRED',
      `${who} expired on ${notAfter.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
  if (at < notBefore) {
    fail(
      isSigner ? 'SIGNER_NOT_YET_VALID' : 'CHAIN_CERTIFICATE_NOT_YET_VALID',
      `${who} is not valid before ${notBefore.toISOString()} (checked at ${at.toISOString()})`,
    );
  }
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
function parseCertificate(der: Buffer): X509Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = parsedCertificates.get(key);
  if (hit) {
    parsedCertificates.delete(key);
    parsedCertificates.set(key, hit);
    return hit.cert;
  }
  const cert = new X509Certificate(der);
  const bytes = der.length * PARSED_CERTIFICATE_COST_FACTOR + key.length;
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

const issuedByCache = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  let byIssuer = issuedByCache.get(child);
  const known = byIssuer?.get(issuer);
  if (known !== undefined) return known;
  let verdict: boolean;
  try {
    verdict = child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    verdict = false;
  }
  if (!byIssuer) issuedByCache.set(child, (byIssuer = new WeakMap()));
  byIssuer.set(issuer, verdict);
  return verdict;
}

interface BuiltChain {
  chain: X509Certificate[];
  anchor?: X509Certificate;
}

/**
 * Walks from the signer towards a trust anchor: at each step an anchor that issued the current
 * certificate wins; otherwise an embedded CA certificate that issued it (name linkage and a
 * verified signature) is appended. Stops when neither exists.
 */
function buildChain(signer: X509Certificate, pool: X509Certificate[], anchors: X509Certificate[]): BuiltChain {
  const isAnchor = (c: X509Certificate) => anchors.some((a) => sameBytes(a.raw, c.raw));
  const chain = [signer];
  let current = signer;
  for (let depth = 0; depth < 10; depth++) {
    if (isAnchor(current)) return { chain, anchor: current };
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      chain.push(anchor);
      return { chain, anchor };
    }
    const next = pool.find((c) => !chain.includes(c) && c.ca && issuedBy(current, c));
    if (!next) break;
    chain.push(next);
    current = next;
  }
  return { chain };
}

function findAttribute(attributes: DerNode[], oid: string): DerNode[] | undefined {
  for (const attribute of attributes) {
    const [type, values] = children(expectTag(attribute, TAG.SEQUENCE, 'Attribute'));
    if (readOid(type!) === oid) return children(expectTag(values, TAG.SET, 'attribute values'));
  }
  return undefined;
}

interface ParsedSignedData {
  contentType: string;
  embeddedContent?: Buffer;
  certificates: X509Certificate[];
  signerInfos: DerNode[];
}

function parseSignedData(cms: Buffer): ParsedSignedData {
  try {
    const contentInfo = children(expectTag(parseDer(cms), TAG.SEQUENCE, 'ContentInfo'));
    const contentType = readOid(contentInfo[0]!);
    if (contentType !== OID.signedData) fail('NOT_SIGNED_DATA', `CMS content type is ${contentType}, not signedData`);
    const [signedDataNode] = children(expectTag(contentInfo[1], 0xa0, 'ContentInfo content'));
    const fields = children(expectTag(signedDataNode, TAG.SEQUENCE, 'SignedData'));
    const encapsulated = children(expectTag(fields[2], TAG.SEQUENCE, 'EncapsulatedContentInfo'));
    const eContentType = readOid(encapsulated[0]!);
    let embeddedContent: Buffer | undefined;
    if (encapsulated[1]) {
      const [octets] = children(expectTag(encapsulated[1], 0xa0, 'eContent'));
      if (!octets) throw new DerError('empty eContent');
      embeddedContent = readOctetString(octets);
    }
    const certificates: X509Certificate[] = [];
    let signerInfosNode: DerNode | undefined;
    for (const field of fields.slice(3)) {
      if (field.tag === 0xa0) {
        for (const choice of children(field)) {
          // Only plain X.509 certificates; attribute certificates etc. are irrelevant here
          if (choice.tag !== TAG.SEQUENCE) continue;
          const cert = parseCertificate(raw(choice));
          certificateFields(cert); // read up front so later steps cannot hit unreadable fields
          void cert.publicKey; // likewise an unusable key is a structural problem, found here
          certificates.push(cert);
        }
      } else if (field.tag === TAG.SET) {
        signerInfosNode = field;
      }
    }
    if (!signerInfosNode) throw new DerError('missing signerInfos');
    return { contentType: eContentType, embeddedContent, certificates, signerInfos: children(signerInfosNode) };
  } catch (err) {
    if (err instanceof CmsVerifyError) throw err;
    fail('MALFORMED', `malformed CMS: ${(err as Error).message}`);
  }
}

function toCertificate(anchor: string | X509Certificate): X509Certificate {
  return typeof anchor === 'string' ? new X509Certificate(anchor) : anchor;
}

function verifySignerInfo(
  signerInfo: DerNode,
  parsed: ParsedSignedData,
  contentBytes: Buffer,
  anchors: X509Certificate[],
  at: Date,
  index: number,
): SignerVerification {
  const what = `signer ${index + 1}`;
  let fields: DerNode[];
  let digest: HashName;
  let signedAttributesNode: DerNode | undefined;
  let signatureAlgorithmNode: DerNode;
  let signature: Buffer;
  let certificate: X509Certificate | undefined;
  try {
    fields = children(expectTag(signerInfo, TAG.SEQUENCE, 'SignerInfo'));
    let i = 1;
    const sid = fields[i++]!;
    digest = digestHash(fields[i++]!);
    if (fields[i]?.tag === 0xa0) signedAttributesNode = fields[i++];
    signatureAlgorithmNode = fields[i++]!;
    signature = readOctetString(expectTag(fields[i++], TAG.OCTET_STRING, 'signature'));
    certificate = findSignerCertificate(sid, parsed.certificates);
  } catch (err) {
    if (err instanceof CmsVerifyError) throw err;
    fail('MALFORMED', `malformed SignerInfo: ${(err as Error).message}`);
  }
  if (!certificate) fail('SIGNER_CERTIFICATE_MISSING', `${what}: its certificate is not included in the CMS structure`);
  const scheme = signatureScheme(signatureAlgorithmNode, digest);

  let signedData: Buffer;
  let signingTime: Date | undefined;
  if (signedAttributesNode) {
    let messageDigest: Buffer;
    try {
      const attributes = children(signedAttributesNode);
      const digestValues = findAttribute(attributes, OID.messageDigest);
      const typeValues = findAttribute(attributes, OID.contentType);
      if (digestValues?.length !== 1 || typeValues?.length !== 1) {
        throw new DerError('signed attributes need exactly one messageDigest and one contentType');
      }
      messageDigest = readOctetString(expectTag(digestValues[0], TAG.OCTET_STRING, 'messageDigest'));
      if (readOid(typeValues[0]!) !== parsed.contentType) {
        fail('CONTENT_TYPE_MISMATCH', `${what}: the signed contentType attribute differs from the encapsulated content type`);
      }
      const timeValue = findAttribute(attributes, OID.signingTime)?.[0];
      if (timeValue) signingTime = readTime(timeValue);
    } catch (err) {
      if (err instanceof CmsVerifyError) throw err;
      fail('MALFORMED', `malformed signed attributes: ${(err as Error).message}`);
    }
    const actual = createHash(digest).update(contentBytes).digest();
    if (!sameBytes(actual, messageDigest)) {
      fail('CONTENT_DIGEST_MISMATCH', `${what}: the content's ${digest} digest does not match the signed messageDigest (content altered?)`);
    }
    // Signed over the EXPLICIT SET OF encoding, while stored under [0] IMPLICIT
    signedData = Buffer.concat([Buffer.from([TAG.SET]), raw(signedAttributesNode).subarray(1)]);
  } else {
    // Without signed attributes the signature is over the content itself, so a changed
    // content shows up as BAD_SIGNATURE rather than CONTENT_DIGEST_MISMATCH
    signedData = contentBytes;
  }
  checkSignature(scheme, signedData, signature, certificate.publicKey, what);
  checkValidity(certificate, at, true);

  const { chain, anchor } = buildChain(certificate, parsed.certificates, anchors);
  for (const cert of chain.slice(1)) checkValidity(cert, at, false);
  if (anchors.length > 0 && !anchor) {
    const top = chain[chain.length - 1]!;
    fail(
      'UNTRUSTED_CHAIN',
      `${what}: the chain ends at ${oneLineName(top.subject)} (issued by ${oneLineName(top.issuer)}), ` +
        `which does not lead to any of the ${anchors.length} trust anchor(s)`,
    );
  }
  return {
    signer: summarizeCertificate(certificate),
    chain: chain.map(summarizeCertificate),
    trusted: anchor !== undefined,
    trustAnchor: anchor ? summarizeCertificate(anchor) : undefined,
    digestAlgorithm: digest,
    signatureAlgorithm: scheme.name,
    signedAttributes: signedAttributesNode !== undefined,
    signingTime,
  };
}

/**
 * Verifies a DER (or BER) CMS SignedData. Throws CmsVerifyError with a specific `code` on the
 * first failure; checks run in this order: structure, content digest, signature, validity, trust.
 */
export function verifyCms(cms: Buffer, options: VerifyCmsOptions = {}): CmsVerifyResult {
  const parsed = parseSignedData(cms);
  let contentBytes: Buffer;
  if (parsed.embeddedContent !== undefined) {
    // Never let a caller believe their bytes were verified when other bytes were
    if (options.detachedContent !== undefined && !sameBytes(options.detachedContent, parsed.embeddedContent)) {
      fail('CONTENT_DIGEST_MISMATCH', 'the CMS carries content that differs from the detached content supplied');
    }
    contentBytes = parsed.embeddedContent;
  } else if (options.detachedContent !== undefined) {
    contentBytes = options.detachedContent;
  } else {
    fail('DETACHED_CONTENT_REQUIRED', 'the signature is detached; supply the signed content to verify it');
  }
  if (parsed.signerInfos.length === 0) fail('NO_SIGNERS', 'the CMS structure has no signers');
  let anchors: X509Certificate[];
  try {
    anchors = (options.trustAnchors ?? []).map(toCertificate);
  } catch (err) {
    throw new RangeError(`unreadable trust anchor: ${(err as Error).message}`);
  }
  const at = options.at ?? new Date();
  let signers: SignerVerification[];
  try {
    signers = parsed.signerInfos.map((info, i) => verifySignerInfo(info, parsed, contentBytes, anchors, at, i));
  } catch (err) {
    // Signer infos are decoded lazily; a structural fault there is still a malformed CMS.
    if (err instanceof DerError) fail('MALFORMED', `malformed signer info: ${err.message}`);
    throw err;
  }
  return {
    ...signers[0]!,
    content: contentBytes,
    detached: parsed.embeddedContent === undefined,
    signatureValid: true,
    signers,
  };
}

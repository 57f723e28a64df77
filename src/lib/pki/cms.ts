// CMS SignedData (RFC 5652) signing and verification for configuration profiles, OTA phase 2 and
// Mdm-Signature headers: the SignedData codec (./signed-data.ts) plus what a verifier decides
// here: which signers, certificate validity, the chain to a trust anchor. Pure: no file I/O.

import { X509Certificate } from 'node:crypto';
import { DerError, type DerNode } from './der.js';
import type { HashName } from './oids.js';
import {
  buildSignedData,
  certificateFields,
  digestHash,
  findSignerCertificate,
  parseSignedData,
  readSignerInfo,
  signatureScheme,
  SignedDataError,
  verifySignerSignature,
  type SignedDataMessage,
  type SignedDataSigner,
  type SignerInfo,
} from './signed-data.js';

export type { HashName } from './oids.js';
export { parsedCertificateCacheStats } from './signed-data.js';

/** What signCms needs: the signer's key and certificate, plus intermediates to embed. */
export type CmsSigner = SignedDataSigner;

export interface SignCmsOptions {
  /** Leave the content out of the structure (e.g. Mdm-Signature over a request body). */
  detached?: boolean;
  /** Defaults to now; null leaves the attribute out. */
  signingTime?: Date | null;
  digest?: 'sha256' | 'sha384' | 'sha512';
}

/** DER CMS SignedData over `content`: SHA-256 by default, signed attributes, certificates embedded. */
export function signCms(contentBytes: Buffer, signer: CmsSigner, options: SignCmsOptions = {}): Buffer {
  return buildSignedData(contentBytes, signer, options);
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

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
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

function toCertificate(anchor: string | X509Certificate): X509Certificate {
  return typeof anchor === 'string' ? new X509Certificate(anchor) : anchor;
}

/** The codec's verdict in this verifier's words: signer-specific failures name the signer. */
function rethrow(err: unknown, what: string): never {
  if (!(err instanceof SignedDataError)) throw err;
  switch (err.code) {
    case 'MALFORMED':
      fail('MALFORMED', `malformed signed attributes: ${err.message}`);
    case 'CONTENT_DIGEST_MISMATCH':
      fail(err.code, `${what}: ${err.message} (content altered?)`);
    default:
      fail(err.code, `${what}: ${err.message}`);
  }
}

function verifySignerInfo(
  signerInfoNode: DerNode,
  parsed: SignedDataMessage,
  contentBytes: Buffer,
  anchors: X509Certificate[],
  at: Date,
  index: number,
): SignerVerification {
  const what = `signer ${index + 1}`;
  let signerInfo: SignerInfo;
  let digest: HashName;
  let certificate: X509Certificate | undefined;
  try {
    signerInfo = readSignerInfo(signerInfoNode);
    digest = digestHash(signerInfo.digestAlgorithm);
    certificate = findSignerCertificate(signerInfo.sid, parsed.certificates);
  } catch (err) {
    if (err instanceof SignedDataError) fail(err.code, err.message);
    fail('MALFORMED', `malformed SignerInfo: ${(err as Error).message}`);
  }
  if (!certificate) fail('SIGNER_CERTIFICATE_MISSING', `${what}: its certificate is not included in the CMS structure`);
  let signingTime: Date | undefined;
  let scheme;
  try {
    scheme = signatureScheme(signerInfo.signatureAlgorithm, digest);
    ({ signingTime } = verifySignerSignature({
      signerInfo,
      digest,
      scheme,
      eContentType: parsed.eContentType,
      content: contentBytes,
      publicKey: certificate.publicKey,
      readSigningTime: true,
    }));
  } catch (err) {
    if (err instanceof SignedDataError && scheme === undefined) fail(err.code, err.message);
    // A structural fault in the signature algorithm surfaces here, after the SignerInfo was read
    if (err instanceof DerError) fail('MALFORMED', `malformed signer info: ${err.message}`);
    rethrow(err, what);
  }
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
    signedAttributes: signerInfo.signedAttributes !== undefined,
    signingTime,
  };
}

/**
 * Verifies a DER (or BER) CMS SignedData. Throws CmsVerifyError with a specific `code` on the
 * first failure; checks run in this order: structure, content digest, signature, validity, trust.
 */
export function verifyCms(cms: Buffer, options: VerifyCmsOptions = {}): CmsVerifyResult {
  let parsed: SignedDataMessage;
  try {
    parsed = parseSignedData(cms);
    for (const cert of parsed.certificates) {
      certificateFields(cert); // read up front so later steps cannot hit unreadable fields
      void cert.publicKey; // likewise an unusable key is a structural problem, found here
    }
  } catch (err) {
    if (err instanceof SignedDataError && err.code === 'NOT_SIGNED_DATA') fail('NOT_SIGNED_DATA', `CMS ${err.message}`);
    fail('MALFORMED', `malformed CMS: ${(err as Error).message}`);
  }
  let contentBytes: Buffer;
  if (parsed.content !== undefined) {
    // Never let a caller believe their bytes were verified when other bytes were
    if (options.detachedContent !== undefined && !sameBytes(options.detachedContent, parsed.content)) {
      fail('CONTENT_DIGEST_MISMATCH', 'the CMS carries content that differs from the detached content supplied');
    }
    contentBytes = parsed.content;
  } else if (options.detachedContent !== undefined) {
    contentBytes = options.detachedContent;
  } else {
    fail('DETACHED_CONTENT_REQUIRED', 'the signature is detached; supply the signed content to verify it');
  }
  if (parsed.signerInfoNodes.length === 0) fail('NO_SIGNERS', 'the CMS structure has no signers');
  let anchors: X509Certificate[];
  try {
    anchors = (options.trustAnchors ?? []).map(toCertificate);
  } catch (err) {
    throw new RangeError(`unreadable trust anchor: ${(err as Error).message}`);
  }
  const at = options.at ?? new Date();
  const signers = parsed.signerInfoNodes.map((info, i) => verifySignerInfo(info, parsed, contentBytes, anchors, at, i));
  return {
    ...signers[0]!,
    content: contentBytes,
    detached: parsed.content === undefined,
    signatureValid: true,
    signers,
  };
}

// The Mdm-Signature header (com.apple.mdm SignMessage = true): base64 of a detached CMS
// SignedData over the exact request body, signed with the device identity the enrollment
// profile installed. Verifying it identifies the device without TLS client certificates.

import { X509Certificate } from 'node:crypto';
import { CmsVerifyError, signCms, verifyCms, type CmsSigner, type CmsVerifyErrorCode } from '../pki/cms.js';

export type MdmSignatureErrorCode =
  | 'MISSING_HEADER'
  | 'NOT_BASE64'
  /** Not a CMS SignedData we can read (includes unsupported algorithms and absent signer certificates). */
  | 'MALFORMED_CMS'
  /** The signature does not cover this body: altered body, or a signature over something else. */
  | 'SIGNATURE_MISMATCH'
  /** The signer (or a certificate above it) is expired or not yet valid. */
  | 'CERTIFICATE_NOT_VALID'
  /** Correctly signed, but not by a certificate issued under the trust anchors. */
  | 'UNTRUSTED';

export class MdmSignatureError extends Error {
  constructor(
    readonly code: MdmSignatureErrorCode,
    message: string,
    /** The underlying CMS verification code, when there is one. */
    readonly cmsCode?: CmsVerifyErrorCode,
  ) {
    super(message);
    this.name = 'MdmSignatureError';
  }
}

export interface MdmSigner {
  certificatePem: string;
  /** Upper-case hex with colons, as openssl prints it. */
  fingerprintSha256: string;
  /** Upper-case hex. */
  serialNumber: string;
  subject: string;
  issuer: string;
  notAfter: Date;
  /** The signingTime attribute, when the device included one. */
  signingTime?: Date;
}

export interface VerifyMdmSignatureOptions {
  /** The CA(s) that issue device identities. Empty means nothing is trusted. */
  trustAnchors: readonly (string | X509Certificate)[];
  /** Time at which certificate validity is judged; defaults to now. */
  at?: Date;
}

const CMS_CODE_TO_SIGNATURE_CODE: Record<CmsVerifyErrorCode, MdmSignatureErrorCode> = {
  MALFORMED: 'MALFORMED_CMS',
  NOT_SIGNED_DATA: 'MALFORMED_CMS',
  NO_SIGNERS: 'MALFORMED_CMS',
  // Cannot happen (the body is always supplied), but would mean a structure we cannot use
  DETACHED_CONTENT_REQUIRED: 'MALFORMED_CMS',
  SIGNER_CERTIFICATE_MISSING: 'MALFORMED_CMS',
  UNSUPPORTED_ALGORITHM: 'MALFORMED_CMS',
  CONTENT_TYPE_MISMATCH: 'SIGNATURE_MISMATCH',
  CONTENT_DIGEST_MISMATCH: 'SIGNATURE_MISMATCH',
  BAD_SIGNATURE: 'SIGNATURE_MISMATCH',
  SIGNER_EXPIRED: 'CERTIFICATE_NOT_VALID',
  SIGNER_NOT_YET_VALID: 'CERTIFICATE_NOT_VALID',
  CHAIN_CERTIFICATE_EXPIRED: 'CERTIFICATE_NOT_VALID',
  CHAIN_CERTIFICATE_NOT_YET_VALID: 'CERTIFICATE_NOT_VALID',
  UNTRUSTED_CHAIN: 'UNTRUSTED',
};

// Strict: Buffer.from(…, 'base64') silently skips junk, which would turn garbage into "malformed
// CMS". Canonical base64 is exactly what re-encoding the decoded bytes gives back (a native
// round trip, cheaper than a regular expression over a 2 KB header on every request).
function decodeStrictBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/**
 * Verifies an Mdm-Signature header value against the raw request body (the exact bytes received,
 * before any parsing). Returns the signing device certificate; throws MdmSignatureError otherwise.
 */
export function verifyMdmSignature(headerValue: string | undefined, body: Uint8Array, options: VerifyMdmSignatureOptions): MdmSigner {
  if (headerValue === undefined || headerValue.trim() === '') {
    throw new MdmSignatureError('MISSING_HEADER', 'the Mdm-Signature header is missing');
  }
  // Tolerate line-wrapped base64 (whitespace is not part of the alphabet, so nothing is lost)
  const compact = headerValue.replace(/\s+/g, '');
  const der = decodeStrictBase64(compact);
  if (!der) throw new MdmSignatureError('NOT_BASE64', 'the Mdm-Signature header is not valid base64');
  if (options.trustAnchors.length === 0) {
    // verifyCms would report "signature valid, not trusted"; for device authentication that is a rejection
    throw new MdmSignatureError('UNTRUSTED', 'no trust anchors are configured for device identities');
  }
  // Parsed up front so that an unreadable anchor (server configuration) surfaces as itself and
  // never as a verdict on the device's signature
  let trustAnchors: X509Certificate[];
  try {
    trustAnchors = options.trustAnchors.map((anchor) => (typeof anchor === 'string' ? new X509Certificate(anchor) : anchor));
  } catch (err) {
    throw new RangeError(`unreadable trust anchor for Mdm-Signature: ${(err as Error).message}`);
  }
  const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    const result = verifyCms(der, { detachedContent: content, trustAnchors, at: options.at });
    const signer: MdmSigner = {
      certificatePem: result.signer.certificatePem,
      fingerprintSha256: result.signer.fingerprintSha256,
      serialNumber: result.signer.serialNumber,
      subject: result.signer.subject,
      issuer: result.signer.issuer,
      notAfter: result.signer.notAfter,
    };
    if (result.signingTime) signer.signingTime = result.signingTime;
    return signer;
  } catch (err) {
    if (err instanceof CmsVerifyError) {
      throw new MdmSignatureError(CMS_CODE_TO_SIGNATURE_CODE[err.code], `Mdm-Signature: ${err.message}`, err.code);
    }
    throw new MdmSignatureError('MALFORMED_CMS', `Mdm-Signature: ${(err as Error).message}`);
  }
}

/** The Mdm-Signature header value for `body`, as a device (or the simulator) sends it. */
export function signMdmRequest(body: Uint8Array, identity: CmsSigner, options: { signingTime?: Date } = {}): string {
  const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return signCms(content, identity, { detached: true, signingTime: options.signingTime }).toString('base64');
}

// Reads the content of a signed (DER CMS / PKCS#7 SignedData) .mobileconfig without verifying
// it, and names the signer, with the one SignedData codec (src/lib/pki/signed-data.ts). Only
// the structure is read, no certificate is parsed by OpenSSL: any signer (RSA, or ECDSA like
// Let's Encrypt E-series chains) is named. Verification belongs to src/signing.
import { children, content, parseDer, TAG } from '../lib/pki/der.js';
import { readName } from '../lib/pki/names.js';
import { readSignedDataStructure, readSignerInfo, SignedDataError, signerIdentifierMatches } from '../lib/pki/signed-data.js';
import { readCertificateFields, type CertificateFields } from '../lib/pki/x509.js';

export class SignedContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignedContentError';
  }
}

export interface SignedContent {
  /** The encapsulated content (for a profile: the XML or binary plist). */
  content: Uint8Array;
  /** Subject DNs of the certificates whose issuer and serial match a SignerInfo. */
  signers: string[];
  /** Subject DNs of every certificate in the message, in order. */
  certificates: string[];
}

/** True when bytes start like a DER SEQUENCE, i.e. could be a CMS message. */
export function looksLikeDer(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x30;
}

interface NamedCertificate {
  fields: CertificateFields;
  subject: string;
}

function nameText(nameDer: Buffer): string {
  return readName(parseDer(nameDer)).text;
}

/** How a signer is shown: the subject of its certificate, or what the SignerIdentifier says. */
function describeSigner(sid: ReturnType<typeof readSignerInfo>['sid'], certificates: NamedCertificate[]): string {
  const match = certificates.find((c) => signerIdentifierMatches(sid, c.fields));
  if (match) return match.subject;
  if (sid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(sid);
    return `issuer ${readName(issuer!).text}, serial ${content(serial!).toString('hex')} (certificate not included)`;
  }
  return `subject key identifier ${content(sid).toString('hex')} (certificate not matched)`;
}

export function extractSignedContent(der: Uint8Array): SignedContent {
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const structure = readSignedDataStructure(bytes);
    if (structure.content === undefined) throw new SignedContentError('the signed message carries no content (detached signature)');
    const certificates = structure.certificateDers.map((certificateDer) => {
      const fields = readCertificateFields(certificateDer);
      return { fields, subject: nameText(fields.subjectName) };
    });
    const signers = structure.signerInfoNodes.map((node) => describeSigner(readSignerInfo(node).sid, certificates));
    return { content: structure.content, signers, certificates: certificates.map((c) => c.subject) };
  } catch (err) {
    if (err instanceof SignedContentError) throw err;
    if (err instanceof SignedDataError && err.code === 'NOT_SIGNED_DATA') throw new SignedContentError('not a CMS SignedData message');
    // DerError, or a certificate field this reader cannot take
    throw new SignedContentError(`not a DER CMS message: ${(err as Error).message}`);
  }
}

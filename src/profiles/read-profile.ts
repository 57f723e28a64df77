import { detectPlistFormat, parsePlist, PlistParseError, type PlistFormat, type PlistValue } from '../lib/plist/index.js';
import { extractSignedContent, looksLikeDer, SignedContentError } from './signed-content.js';

// Turns the bytes of a .mobileconfig — XML, binary, or either wrapped in a CMS signature — into
// a plist value. Pure (bytes in); the CLI does the file reading.

export class ProfileReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileReadError';
  }
}

export interface ReadProfile {
  value: PlistValue;
  format: PlistFormat;
  /** Present when the bytes were a CMS SignedData message; the signature is not verified. */
  signature?: { signers: string[]; certificates: string[] };
}

export function readProfileBytes(bytes: Uint8Array): ReadProfile {
  const format = detectPlistFormat(bytes);
  try {
    if (format) return { value: parsePlist(bytes), format };
    if (!looksLikeDer(bytes)) {
      throw new ProfileReadError('not a configuration profile: neither a property list (XML or binary) nor a signed (DER CMS) profile');
    }
    let signed;
    try {
      signed = extractSignedContent(bytes);
    } catch (err) {
      if (err instanceof SignedContentError) throw new ProfileReadError(`not a configuration profile: ${err.message}`);
      throw err;
    }
    const signature = { signers: signed.signers, certificates: signed.certificates };
    const innerFormat = detectPlistFormat(signed.content);
    if (!innerFormat) {
      throw new ProfileReadError(
        `signed by ${signed.signers.join('; ') || 'an unknown signer'}, but the signed content is not a property list`,
      );
    }
    return { value: parsePlist(signed.content), format: innerFormat, signature };
  } catch (err) {
    if (err instanceof PlistParseError) throw new ProfileReadError(err.message);
    throw err;
  }
}

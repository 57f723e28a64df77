import { parseBinaryPlist } from './binary.js';
import { PlistParseError } from './errors.js';
import { DEFAULT_PLIST_LIMITS, type PlistLimits } from './limits.js';
import type { PlistValue } from './types.js';
import { readXmlPlist } from './xml.js';

// XML goes through our own one-pass reader (xml.ts), which checks the limits as it reads; binary goes through our own bounded bplist00 reader (binary.ts). Every
// failure is a PlistParseError in our own words.

export { PlistParseError };

export type PlistFormat = 'xml' | 'binary';

const BINARY_MAGIC = 'bplist00';

/** 'binary' for bplist00, 'xml' when the text looks like an XML plist, otherwise null. */
export function detectPlistFormat(bytes: Uint8Array): PlistFormat | null {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('utf8');
  if (head.startsWith(BINARY_MAGIC)) return 'binary';
  const trimmed = head.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('<?xml') || trimmed.startsWith('<!DOCTYPE plist') || trimmed.startsWith('<plist')) {
    return /<plist[\s>/]/.test(head) || trimmed.startsWith('<?xml') ? 'xml' : null;
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses an XML or binary plist within `limits` (depth, values, decoded bytes; see limits.ts).
 * Throws PlistParseError with a short message of our own on anything else.
 */
export function parsePlist(input: Uint8Array | string, limits: PlistLimits = DEFAULT_PLIST_LIMITS): PlistValue {
  // Only the head is needed to tell the formats apart: no copy of a whole string
  const bytes = typeof input === 'string' ? Buffer.from(input.slice(0, 512), 'utf8') : input;
  const format = detectPlistFormat(bytes);
  if (format === null) throw new PlistParseError('not a property list (expected an XML plist or a bplist00 binary plist)');
  if (format === 'binary') return parseBinaryPlist(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, limits);
  let xml: string;
  if (typeof input === 'string') {
    xml = input;
  } else {
    try {
      xml = utf8.decode(bytes);
    } catch {
      throw new PlistParseError('malformed XML plist: not valid UTF-8');
    }
  }
  return readXmlPlist(xml, limits);
}

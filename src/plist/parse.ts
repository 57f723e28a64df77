import { parse as parseXmlPlist, type PlistValue as PackagePlistValue } from 'plist';
import { parseBinaryPlist } from './binary.js';
import { PlistParseError } from './errors.js';
import { DEFAULT_PLIST_LIMITS, type PlistLimits } from './limits.js';
import { PlistReal, type PlistDict, type PlistValue } from './types.js';
import { scanXmlPlist } from './xml-scan.js';

// XML goes through the `plist` package (xmldom) after a linear pre-scan against the limits;
// binary goes through our own bounded bplist00 reader (see binary.ts for why). One addition for
// XML: the package turns <real>1.0</real> into the number 1, indistinguishable from
// <integer>1</integer>, and lint needs the difference. So <real> elements are rewritten to
// marked <string>s before parsing and turned into PlistReal afterwards (likewise integers too
// large for a JS number become bigint). Every failure is a PlistParseError in our own words:
// the package's and xmldom's texts (one names a CVE) never leave this file.

export { PlistParseError };

export type PlistFormat = 'xml' | 'binary';

const BINARY_MAGIC = 'bplist00';
// A private-use character that a real document is vanishingly unlikely to start a string with;
// inputs that contain it skip the <real> marking rather than risk a wrong PlistReal.
const REAL_MARK = '\uE000mockiron-real:';
// Same trick for integers beyond 2^53, which the package's parseInt would round.
const BIG_INTEGER_MARK = '\uE000mockiron-int:';

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

function convert(value: PackagePlistValue, path: string): PlistValue {
  if (value === null) throw new PlistParseError(`${path || 'document'}: unsupported <null/> value`);
  if (typeof value === 'string') {
    if (value.startsWith(REAL_MARK)) {
      const n = Number.parseFloat(value.slice(REAL_MARK.length));
      if (Number.isNaN(n)) throw new PlistParseError(`${path || 'document'}: <real> is not a number`);
      return new PlistReal(n);
    }
    if (value.startsWith(BIG_INTEGER_MARK)) {
      const digits = value.slice(BIG_INTEGER_MARK.length);
      if (!/^[-+]?\d+$/.test(digits)) throw new PlistParseError(`${path || 'document'}: <integer> is not an integer`);
      const big = BigInt(digits);
      return Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    return value;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PlistParseError(`${path || 'document'}: <integer> is not a number`);
    return value;
  }
  if (typeof value === 'boolean' || value instanceof Date) {
    if (value instanceof Date && Number.isNaN(value.getTime())) {
      throw new PlistParseError(`${path || 'document'}: <date> is not a valid date`);
    }
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v, i) => convert(v, `${path}[${i}]`));
  const out: PlistDict = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') throw new PlistParseError('a dictionary key named __proto__ is not accepted');
    out[k] = convert(v, path ? `${path}.${k}` : k);
  }
  return out;
}

// xmldom reports fatal errors on the console before throwing; the thrown error already carries
// the message, so keep the console clean (matters for CLI output).
function quietly<T>(fn: () => T): T {
  const { error, warn } = console;
  console.error = () => {};
  console.warn = () => {};
  try {
    return fn();
  } finally {
    console.error = error;
    console.warn = warn;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses an XML or binary plist within `limits` (depth, values, decoded bytes; see limits.ts).
 * Throws PlistParseError with a short message of our own on anything else.
 */
export function parsePlist(input: Uint8Array | string, limits: PlistLimits = DEFAULT_PLIST_LIMITS): PlistValue {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const format = detectPlistFormat(bytes);
  if (format === null) throw new PlistParseError('not a property list (expected an XML plist or a bplist00 binary plist)');
  if (format === 'binary') return parseBinaryPlist(bytes, limits);
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
  scanXmlPlist(xml, limits);
  if (!xml.includes('\uE000') && !xml.includes('<![CDATA[')) {
    xml = xml
      .replace(/<real>([^<]*)<\/real>/g, (_m, text: string) => `<string>${REAL_MARK}${text.trim()}</string>`)
      .replace(/<integer>\s*([-+]?\d{16,})\s*<\/integer>/g, (_m, digits: string) => `<string>${BIG_INTEGER_MARK}${digits}</string>`);
  }
  let raw: PackagePlistValue;
  try {
    raw = quietly(() => parseXmlPlist(xml));
  } catch (err) {
    // The package refuses a __proto__ key itself, with a message naming a CVE: say it plainly
    if (err instanceof Error && err.message.includes('__proto__')) throw new PlistParseError('a dictionary key named __proto__ is not accepted');
    throw new PlistParseError('malformed XML plist: not well-formed XML, or not a plist structure');
  }
  return convert(raw, '');
}

import { parse as parseXmlPlist, parseBinary, type PlistValue as PackagePlistValue } from 'plist';
import { PlistReal, type PlistDict, type PlistValue } from './types.js';

// Parsing wraps the `plist` package (XML via xmldom, binary via its bplist00 reader). One
// addition: the package turns <real>1.0</real> into the number 1, indistinguishable from
// <integer>1</integer>, and lint needs the difference. So <real> elements are rewritten to
// marked <string>s before parsing and turned into PlistReal afterwards (likewise integers too
// large for a JS number become bigint).

export class PlistParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlistParseError';
  }
}

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
  for (const [k, v] of Object.entries(value)) out[k] = convert(v, path ? `${path}.${k}` : k);
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

/** Parses an XML or binary plist. Throws PlistParseError with a readable message on anything else. */
export function parsePlist(input: Uint8Array | string): PlistValue {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const format = detectPlistFormat(bytes);
  if (format === null) throw new PlistParseError('not a property list (expected an XML plist or a bplist00 binary plist)');
  let raw: PackagePlistValue;
  try {
    if (format === 'binary') {
      raw = parseBinary(bytes);
    } else {
      let xml = typeof input === 'string' ? input : Buffer.from(bytes).toString('utf8');
      if (!xml.includes('\uE000') && !xml.includes('<![CDATA[')) {
        xml = xml
          .replace(/<real>([^<]*)<\/real>/g, (_m, text: string) => `<string>${REAL_MARK}${text.trim()}</string>`)
          .replace(/<integer>\s*([-+]?\d{16,})\s*<\/integer>/g, (_m, digits: string) => `<string>${BIG_INTEGER_MARK}${digits}</string>`);
      }
      raw = quietly(() => parseXmlPlist(xml));
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PlistParseError(`malformed ${format === 'binary' ? 'binary' : 'XML'} plist: ${reason}`);
  }
  return convert(raw, '');
}

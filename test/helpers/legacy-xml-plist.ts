// The XML plist path parsePlist used before src/lib/plist/xml.ts: the `plist` package (an xmldom DOM),
// with <real> and big <integer> marked so they survive the package (the pre-scan that guarded
// it against hostile input is left out: this only ever reads documents a test wrote).
// Kept callable here only, as the reference the new reader is compared against in tests.
import { parse as parseWithPackage, type PlistValue as PackagePlistValue } from 'plist';
import { PlistParseError, PlistReal, type PlistDict, type PlistValue } from '../../src/lib/plist/index.js';

const REAL_MARK = '\uE000mockiron-real:';
const BIG_INTEGER_MARK = '\uE000mockiron-int:';

function convert(value: PackagePlistValue, path: string): PlistValue {
  if (value === null) throw new PlistParseError(`${path || 'document'}: unsupported <null/> value`);
  if (typeof value === 'string') {
    if (value.startsWith(REAL_MARK)) {
      const n = Number.parseFloat(value.slice(REAL_MARK.length));
      if (Number.isNaN(n)) throw new PlistParseError(`${path || 'document'}: <real> is not a number`);
      return new PlistReal(n);
    }
    if (value.startsWith(BIG_INTEGER_MARK)) {
      const big = BigInt(value.slice(BIG_INTEGER_MARK.length));
      return Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    return value;
  }
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new PlistParseError(`${path || 'document'}: <integer> is not a number`);
    return value;
  }
  if (value instanceof Date && Number.isNaN(value.getTime()))
    throw new PlistParseError(`${path || 'document'}: <date> is not a valid date`);
  if (typeof value === 'boolean' || value instanceof Date || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v, i) => convert(v, `${path}[${i}]`));
  const out: PlistDict = {};
  for (const [k, v] of Object.entries(value)) out[k] = convert(v, path ? `${path}.${k}` : k);
  return out;
}

/** Parses XML plist text the old way; throws PlistParseError (or the package's error) on refusal. */
export function parseXmlPlistWithPackage(text: string): PlistValue {
  let xml = text;
  if (!xml.includes('\uE000') && !xml.includes('<![CDATA[')) {
    xml = xml
      .replace(/<real>([^<]*)<\/real>/g, (_m, t: string) => `<string>${REAL_MARK}${t.trim()}</string>`)
      .replace(/<integer>\s*([-+]?\d{16,})\s*<\/integer>/g, (_m, digits: string) => `<string>${BIG_INTEGER_MARK}${digits}</string>`);
  }
  const { error, warn } = console;
  console.error = () => {};
  console.warn = () => {};
  try {
    return convert(parseWithPackage(xml), '');
  } finally {
    console.error = error;
    console.warn = warn;
  }
}

import { PlistReal, isPlistDict, type PlistValue } from './types.js';

// A deterministic XML plist writer in Apple's layout (tab indentation, DOCTYPE, one element
// per line). Same value → same bytes, so built profiles can be checked in and diffed.

export class PlistWriteError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'PlistWriteError';
  }
}

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

// XML 1.0 cannot carry these at all, not even as &#x..; references, so refusing is the only
// honest option (Python's plistlib refuses them too).
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function escapeText(text: string, path: string): string {
  const bad = FORBIDDEN_CHARS.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new PlistWriteError(`character U+${code} cannot be represented in an XML plist (use <data>)`, path);
  }
  // Line-end characters must be character references: XML parsers normalise a literal CR (and
  // CRLF) to LF, and xmldom also folds NEL (U+0085) and the Unicode LINE/PARAGRAPH SEPARATORs (U+2028, U+2029).
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\u0085\u2028\u2029]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatReal(n: number, path: string): string {
  if (!Number.isFinite(n)) throw new PlistWriteError(`real ${n} is not finite`, path);
  // String(-0) is "0"; keep the sign so a round trip is exact.
  const text = Object.is(n, -0) ? '-0' : String(n);
  // Keep an integral real visibly real ("2.0"), as plistlib and CoreFoundation do.
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

function formatDate(d: Date, path: string): string {
  if (Number.isNaN(d.getTime())) throw new PlistWriteError('invalid date', path);
  // Apple plists carry whole seconds in UTC.
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function writeValue(value: PlistValue, depth: number, path: string, out: string[]): void {
  const pad = '\t'.repeat(depth);
  if (typeof value === 'string') {
    out.push(`${pad}<string>${escapeText(value, path)}</string>`);
  } else if (typeof value === 'boolean') {
    out.push(`${pad}<${value ? 'true' : 'false'}/>`);
  } else if (typeof value === 'bigint') {
    out.push(`${pad}<integer>${value.toString()}</integer>`);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) throw new PlistWriteError(`integer ${value} is not exact; use a bigint`, path);
      out.push(`${pad}<integer>${value}</integer>`);
    } else {
      out.push(`${pad}<real>${formatReal(value, path)}</real>`);
    }
  } else if (value instanceof PlistReal) {
    out.push(`${pad}<real>${formatReal(value.value, path)}</real>`);
  } else if (value instanceof Date) {
    out.push(`${pad}<date>${formatDate(value, path)}</date>`);
  } else if (value instanceof Uint8Array) {
    out.push(`${pad}<data>${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}</data>`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push(`${pad}<array/>`);
      return;
    }
    out.push(`${pad}<array>`);
    value.forEach((item, i) => {
      if (item === undefined || item === null) throw new PlistWriteError('arrays cannot hold null or undefined', `${path}[${i}]`);
      writeValue(item, depth + 1, `${path}[${i}]`, out);
    });
    out.push(`${pad}</array>`);
  } else if (isPlistDict(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) {
      out.push(`${pad}<dict/>`);
      return;
    }
    out.push(`${pad}<dict>`);
    for (const [key, v] of entries) {
      const childPath = path ? `${path}.${key}` : key;
      if (v === null) throw new PlistWriteError('plists have no null; omit the key instead', childPath);
      out.push(`${pad}\t<key>${escapeText(key, childPath)}</key>`);
      writeValue(v as PlistValue, depth + 1, childPath, out);
    }
    out.push(`${pad}</dict>`);
  } else {
    throw new PlistWriteError(`cannot write a value of type ${typeof value}`, path);
  }
}

/** Serialises a value as an XML plist document (UTF-8 text, trailing newline). */
export function toXmlPlist(value: PlistValue): string {
  const lines: string[] = [];
  // The root element sits at column 0 under <plist>, as Apple's own tools write it.
  writeValue(value, 0, '', lines);
  return `${HEADER}${lines.join('\n')}\n</plist>\n`;
}

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
const FORBIDDEN_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Anything escapeText has to look at; most strings have none of it and are written as they are.
const NEEDS_ESCAPING = /[\u0000-\u0008\u000B\u000C\u000E-\u001F&<>\r\u0085\u2028\u2029\uD800-\uDFFF\uFFFE\uFFFF]/;

function escapeText(text: string, parent: string, key: string | number | null): string {
  if (!NEEDS_ESCAPING.test(text)) return text;
  const bad = FORBIDDEN_CHARS.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new PlistWriteError(`character U+${code} cannot be represented in an XML plist (use <data>)`, joinPath(parent, key));
  }
  // Line-end characters must be character references: XML parsers normalise a literal CR (and
  // CRLF) to LF, and XML 1.1 readers (xmldom among them) also fold NEL (U+0085) and the Unicode
  // LINE/PARAGRAPH SEPARATORs (U+2028, U+2029); our reader (xml.ts) keeps them, as XML 1.0 says.
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

const PADS: string[] = [];
function padding(depth: number): string {
  return (PADS[depth] ??= '\t'.repeat(depth));
}

/** The path of a child for error messages, built only when one is needed. */
function joinPath(parent: string, key: string | number | null): string {
  if (key === null) return parent;
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

// The document grows as one string (V8 keeps it as a rope until it is used): no array of
// lines to hold and join, and paths for error messages are made only on an error.
interface Output {
  text: string;
}

function writeValue(value: PlistValue, depth: number, parent: string, key: string | number | null, out: Output): void {
  const pad = padding(depth);
  if (typeof value === 'string') {
    out.text += `${pad}<string>${escapeText(value, parent, key)}</string>\n`;
  } else if (typeof value === 'boolean') {
    out.text += value ? `${pad}<true/>\n` : `${pad}<false/>\n`;
  } else if (typeof value === 'bigint') {
    out.text += `${pad}<integer>${value.toString()}</integer>\n`;
  } else if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) throw new PlistWriteError(`integer ${value} is not exact; use a bigint`, joinPath(parent, key));
      out.text += `${pad}<integer>${value}</integer>\n`;
    } else {
      out.text += `${pad}<real>${formatReal(value, joinPath(parent, key))}</real>\n`;
    }
  } else if (value instanceof PlistReal) {
    out.text += `${pad}<real>${formatReal(value.value, joinPath(parent, key))}</real>\n`;
  } else if (value instanceof Date) {
    out.text += `${pad}<date>${formatDate(value, joinPath(parent, key))}</date>\n`;
  } else if (value instanceof Uint8Array) {
    out.text += `${pad}<data>${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}</data>\n`;
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.text += `${pad}<array/>\n`;
      return;
    }
    const path = joinPath(parent, key);
    out.text += `${pad}<array>\n`;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined || item === null) throw new PlistWriteError('arrays cannot hold null or undefined', joinPath(path, i));
      writeValue(item, depth + 1, path, i, out);
    }
    out.text += `${pad}</array>\n`;
  } else if (isPlistDict(value)) {
    const path = joinPath(parent, key);
    let empty = true;
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const v = value[name];
      if (v === undefined) continue;
      if (empty) {
        out.text += `${pad}<dict>\n`;
        empty = false;
      }
      if (v === null) throw new PlistWriteError('plists have no null; omit the key instead', joinPath(path, name));
      out.text += `${pad}\t<key>${escapeText(name, path, name)}</key>\n`;
      writeValue(v, depth + 1, path, name, out);
    }
    out.text += empty ? `${pad}<dict/>\n` : `${pad}</dict>\n`;
  } else {
    throw new PlistWriteError(`cannot write a value of type ${typeof value}`, joinPath(parent, key));
  }
}

/** Serialises a value as an XML plist document (UTF-8 text, trailing newline). */
export function toXmlPlist(value: PlistValue): string {
  const out: Output = { text: HEADER };
  // The root element sits at column 0 under <plist>, as Apple's own tools write it.
  writeValue(value, 0, '', null, out);
  return `${out.text}</plist>\n`;
}

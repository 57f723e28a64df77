// Our own XML plist reader: one left-to-right pass with an explicit stack, no DOM. The `plist`
// package built a whole xmldom DOM first and spent ~0.6 s per MB doing it, long enough for one
// enrolled device answering InstalledApplicationList to stall every other request.
// The limits are checked as it goes (depth, value count, size), and so are the entity rules
// the pre-scan in xml-scan.ts used to check in a pass of its own: no declarations at all (billion
// laughs and external entities need them), no references to entities XML does not predefine.
// Element rules follow Apple's PropertyList-1.0.dtd; where the DTD is silent (whitespace,
// hexadecimal integers, partial dates, stray text in containers) it does what Python's plistlib
// does, which is also what the `plist` package did wherever the package was not plainly wrong.

import { PlistParseError } from './errors.js';
import type { PlistLimits } from './limits.js';
import { PlistReal, type PlistDict, type PlistValue } from './types.js';

const TAG_NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
// One attribute (value without '<', as XML requires), then the end of the start tag
const ATTRIBUTE = /[\t\n\r ]+[A-Za-z_:][A-Za-z0-9_.:-]*[\t\n\r ]*=[\t\n\r ]*(?:"[^"<]*"|'[^'<]*')/y;
const START_TAG_END = /[\t\n\r ]*(\/?)>/y;
const CLOSE_TAG_END = /[\t\n\r ]*>/y;
const WHITESPACE_ONLY = /^[\t\n\r ]*$/;
const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const INTEGER = /^[-+]?[0-9]+$/;
const HEX_INTEGER = /^([-+]?)0[xX]([0-9A-Fa-f]+)$/;
// What parseFloat accepted before, minus trailing garbage: decimal, exponent, or ±Infinity
const REAL = /^[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|Infinity)$/;
// Apple's layout, with plistlib's tolerance of a shorter form: 2024, 2024-05, ... always UTC ('Z')
const DATE = /^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?)?)?)?Z$/;
const BASE64 = /^[A-Za-z0-9+/]*$/;

function refuse(reason: string): never {
  throw new PlistParseError(`XML plist refused: ${reason}`);
}

function malformed(reason: string): never {
  throw new PlistParseError(`malformed XML plist: ${reason}`);
}

function invalid(path: string, reason: string): never {
  throw new PlistParseError(`${path || 'document'}: ${reason}`);
}

/** A character XML 1.0 allows (section 2.2); a reference to any other is not well-formed. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** Character data as XML defines it: line ends normalised to LF, then references replaced. */
function decodeText(raw: string): string {
  // A literal CR or CRLF is LF to every XML reader; a CR written as &#13; survives (below)
  const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  let amp = text.indexOf('&');
  if (amp === -1) return text;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    ENTITY.lastIndex = amp;
    const m = ENTITY.exec(text);
    if (m === null) refuse('references an entity XML does not predefine');
    let decoded: string;
    if (m[1] !== undefined) {
      decoded = PREDEFINED[m[1]]!;
    } else {
      const code = m[2] !== undefined ? Number.parseInt(m[2], 10) : Number.parseInt(m[3]!, 16);
      if (!isXmlChar(code)) malformed(`a reference to character ${code}, which XML does not allow`);
      decoded = String.fromCodePoint(code);
    }
    out += text.slice(from, amp) + decoded;
    from = ENTITY.lastIndex;
    amp = text.indexOf('&', from);
  }
  return out + text.slice(from);
}

interface Frame {
  name: 'plist' | 'array' | 'dict';
  array: PlistValue[] | null;
  dict: PlistDict | null;
  /** plist: its one value once read; dict: the key waiting for its value */
  value: PlistValue | undefined;
  key: string | undefined;
  path: string;
}

function childPath(frame: Frame): string {
  if (frame.name === 'array') return `${frame.path}[${frame.array!.length}]`;
  if (frame.name === 'dict' && frame.key !== undefined) return frame.path ? `${frame.path}.${frame.key}` : frame.key;
  return frame.path;
}

function integerValue(text: string, where: Frame): number | bigint {
  const t = text.trim();
  let big: bigint;
  if (INTEGER.test(t)) {
    // Up to 15 digits is always exact as a number; beyond, read exactly and keep a bigint if needed
    if (t.length <= 15) {
      const n = Number(t);
      return n === 0 ? 0 : n; // no negative zero among integers
    }
    big = BigInt(t);
  } else {
    const hex = HEX_INTEGER.exec(t);
    if (hex === null) invalid(childPath(where), '<integer> is not an integer');
    big = BigInt(`0x${hex[2]}`);
    if (hex[1] === '-') big = -big;
  }
  const n = Number(big);
  return Number.isSafeInteger(n) ? (n === 0 ? 0 : n) : big;
}

function realValue(text: string, where: Frame): PlistReal {
  const t = text.trim();
  if (!REAL.test(t)) invalid(childPath(where), '<real> is not a number');
  return new PlistReal(Number(t));
}

function dateValue(text: string, where: Frame): Date {
  const m = DATE.exec(text);
  if (m === null) invalid(childPath(where), '<date> is not a valid date');
  const [year, month, day, hour, minute, second] = [m[1], m[2] ?? '01', m[3] ?? '01', m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number, number, number, number, number, number,
  ];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Date.UTC rolls 2024-02-30 over into March: a field that moved was out of range
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    invalid(childPath(where), '<date> is not a valid date');
  }
  return date;
}

/** Base64 as atob reads it (WHATWG forgiving-base64): whitespace ignored, padding whole or absent. */
function dataValue(text: string, where: Frame): Uint8Array {
  let b64 = text.replace(/\s+/g, '');
  if (b64.length % 4 === 0) b64 = b64.replace(/={1,2}$/, '');
  if (b64.length % 4 === 1 || !BASE64.test(b64)) invalid(childPath(where), '<data> is not base64');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/**
 * Reads an XML plist document within `limits`: containers nest at most maxDepth deep, at most
 * maxObjects values (every element but <key> and <plist>), and the text is at most
 * maxDecodedBytes long (with entities refused, XML decodes to at most its own length).
 * Returns the value inside <plist>; throws PlistParseError on anything else.
 */
export function readXmlPlist(xml: string, limits: PlistLimits): PlistValue {
  if (xml.length > limits.maxDecodedBytes) refuse(`larger than ${limits.maxDecodedBytes} bytes`);
  const stack: Frame[] = [];
  let values = 0;
  // The next '&' at or after the text being looked at: one pointer over the document, so
  // checking the references in skipped text stays linear
  let nextAmp = xml.indexOf('&');
  let rootDone = false;
  let pos = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  let result: PlistValue | undefined;

  // Reads the character data of a leaf element whose start tag ended at `from`, up to and
  // including its end tag; comments and processing instructions inside are skipped, CDATA kept.
  const leafText = (name: string, from: number): string => {
    let text = '';
    let at = from;
    for (;;) {
      const lt = xml.indexOf('<', at);
      if (lt === -1) malformed(`<${name}> is not closed`);
      if (lt > at) text += decodeText(xml.slice(at, lt));
      if (xml.charCodeAt(lt + 1) === 0x2f /* / */) {
        if (!xml.startsWith(name, lt + 2)) malformed(`<${name}> is closed by another element`);
        CLOSE_TAG_END.lastIndex = lt + 2 + name.length;
        if (!CLOSE_TAG_END.test(xml)) malformed(`<${name}> is closed by another element`);
        pos = CLOSE_TAG_END.lastIndex;
        return text;
      }
      if (xml.startsWith('<!--', lt)) {
        const end = xml.indexOf('-->', lt + 4);
        if (end === -1) malformed('a comment is not closed');
        at = end + 3;
      } else if (xml.startsWith('<![CDATA[', lt)) {
        const end = xml.indexOf(']]>', lt + 9);
        if (end === -1) malformed('a CDATA section is not closed');
        const raw = xml.slice(lt + 9, end);
        text += raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
        at = end + 3;
      } else if (xml.startsWith('<?', lt)) {
        const end = xml.indexOf('?>', lt + 2);
        if (end === -1) malformed('a processing instruction is not closed');
        at = end + 2;
      } else {
        malformed(`an element inside <${name}>`);
      }
    }
  };

  const attach = (value: PlistValue): void => {
    const top = stack[stack.length - 1]!;
    if (top.name === 'array') {
      top.array!.push(value);
    } else if (top.name === 'dict') {
      if (top.key === undefined) malformed('a value without a <key> in a <dict>');
      top.dict![top.key] = value;
      top.key = undefined;
    } else {
      if (top.value !== undefined) malformed('<plist> holds more than one value');
      top.value = value;
    }
  };

  for (;;) {
    const lt = xml.indexOf('<', pos);
    const end = lt === -1 ? xml.length : lt;
    // Text between elements: ignored inside containers (as plistlib and the DOM reader did),
    // only whitespace allowed before and after the document element
    if (end > pos) {
      if (stack.length === 0 && !WHITESPACE_ONLY.test(xml.slice(pos, end))) malformed('text outside the <plist> element');
      if (nextAmp !== -1 && nextAmp < pos) nextAmp = xml.indexOf('&', pos);
      if (nextAmp !== -1 && nextAmp < end) decodeText(xml.slice(pos, end));
    }
    if (lt === -1) break;

    if (xml.startsWith('<!--', lt)) {
      const close = xml.indexOf('-->', lt + 4);
      if (close === -1) malformed('a comment is not closed');
      pos = close + 3;
      continue;
    }
    if (xml.startsWith('<?', lt)) {
      const close = xml.indexOf('?>', lt + 2);
      if (close === -1) malformed('a processing instruction is not closed');
      pos = close + 2;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      if (stack.length === 0) malformed('text outside the <plist> element');
      const close = xml.indexOf(']]>', lt + 9);
      if (close === -1) malformed('a CDATA section is not closed');
      pos = close + 3;
      continue;
    }
    if (xml.startsWith('<!', lt)) {
      // The scan admits only a DOCTYPE without an internal subset; it belongs before the root
      if (!/^<!DOCTYPE[\t\n\r ]/.test(xml.slice(lt, lt + 10))) refuse('markup declarations other than DOCTYPE are not accepted');
      if (stack.length > 0 || rootDone) malformed('a DOCTYPE after the document element started');
      let quote = 0;
      let i = lt + 9;
      for (; i < xml.length; i++) {
        const c = xml.charCodeAt(i);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) {
          quote = c;
        } else if (c === 0x3e /* > */ || c === 0x5b /* [ */) {
          break;
        }
      }
      if (i >= xml.length) malformed('a DOCTYPE is not closed');
      if (xml.charCodeAt(i) !== 0x3e) refuse('a DOCTYPE with an internal subset (entity declarations) is not accepted');
      pos = i + 1;
      continue;
    }

    if (xml.charCodeAt(lt + 1) === 0x2f /* / */) {
      const top = stack.pop();
      if (top === undefined || !xml.startsWith(top.name, lt + 2)) malformed('a closing tag that does not match its opening tag');
      CLOSE_TAG_END.lastIndex = lt + 2 + top.name.length;
      if (!CLOSE_TAG_END.test(xml)) malformed('a closing tag that does not match its opening tag');
      pos = CLOSE_TAG_END.lastIndex;
      if (top.name === 'dict') {
        if (top.key !== undefined) malformed(`the <key> ${JSON.stringify(top.key.slice(0, 40))} has no value`);
        attach(top.dict!);
      } else if (top.name === 'array') {
        attach(top.array!);
      } else {
        if (top.value === undefined) malformed('<plist> holds no value');
        result = top.value;
        rootDone = true;
      }
      continue;
    }

    TAG_NAME.lastIndex = lt + 1;
    const name = TAG_NAME.exec(xml)?.[0];
    if (name === undefined) malformed('a tag without a name');
    let at = lt + 1 + name.length;
    // Attributes are allowed (<plist version="1.0">) and otherwise ignored
    if (xml.charCodeAt(at) !== 0x3e) {
      ATTRIBUTE.lastIndex = at;
      while (ATTRIBUTE.test(xml)) {
        at = ATTRIBUTE.lastIndex;
        ATTRIBUTE.lastIndex = at;
      }
      const attributes = xml.slice(lt, at);
      if (attributes.includes('&')) decodeText(attributes);
    }
    START_TAG_END.lastIndex = at;
    const tagEnd = START_TAG_END.exec(xml);
    if (tagEnd === null) malformed(`the tag <${name}> is not well-formed`);
    const empty = tagEnd[1] === '/';
    pos = START_TAG_END.lastIndex;

    if (stack.length === 0) {
      if (name !== 'plist' || rootDone) malformed('the document element is not <plist>');
      if (empty) malformed('<plist> holds no value');
      stack.push({ name: 'plist', array: null, dict: null, value: undefined, key: undefined, path: '' });
      continue;
    }
    if (name !== 'key' && ++values > limits.maxObjects) refuse(`more than ${limits.maxObjects} values`);
    const top = stack[stack.length - 1]!;
    if (name === 'dict' || name === 'array') {
      // the <plist> frame is not a container: stack.length is the depth of the new one
      if (stack.length > limits.maxDepth) refuse(`nested deeper than ${limits.maxDepth} levels`);
      if (top.name === 'dict' && top.key === undefined) malformed('a value without a <key> in a <dict>');
      const frame: Frame = { name, array: name === 'array' ? [] : null, dict: name === 'dict' ? {} : null, value: undefined, key: undefined, path: childPath(top) };
      if (empty) attach(name === 'array' ? frame.array! : frame.dict!);
      else stack.push(frame);
      continue;
    }
    const text = empty ? '' : leafText(name, pos);
    switch (name) {
      case 'key':
        if (top.name !== 'dict') malformed('a <key> outside a <dict>');
        if (top.key !== undefined) malformed('two <key>s in a row in a <dict>');
        if (text === '__proto__') throw new PlistParseError('a dictionary key named __proto__ is not accepted');
        top.key = text;
        break;
      case 'string':
        attach(text);
        break;
      case 'integer':
        attach(integerValue(text, top));
        break;
      case 'real':
        attach(realValue(text, top));
        break;
      case 'date':
        attach(dateValue(text, top));
        break;
      case 'data':
        attach(dataValue(text, top));
        break;
      case 'true':
        attach(true);
        break;
      case 'false':
        attach(false);
        break;
      case 'null':
        invalid(childPath(top), 'unsupported <null/> value');
        break;
      default:
        malformed(`<${name.slice(0, 40)}> is not a plist element`);
    }
  }
  if (stack.length > 0) malformed(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (result === undefined) malformed('no <plist> element');
  return result;
}

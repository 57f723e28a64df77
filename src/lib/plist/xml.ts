// Our own XML plist reader: one left-to-right pass with an explicit stack, no DOM. The `plist`
// package built a whole xmldom DOM first and spent 0.4-0.7 s per MB doing it, long enough for one
// enrolled device answering InstalledApplicationList to stall every other request (now ~10 ms
// per MB once optimised, ~40 ms per MB on a first call).
// The limits are checked as it goes (depth, value count, size), and so are the entity rules
// the pre-scan that ran before the `plist` package used to check in a pass of its own: no declarations at all (billion
// laughs and external entities need them), no references to entities XML does not predefine.
// Element rules follow Apple's PropertyList-1.0.dtd; where the DTD is silent (whitespace,
// hexadecimal integers, partial dates, stray text in containers) it does what Python's plistlib
// does, which is also what the `plist` package did wherever the package was not plainly wrong;
// it refuses what is not one plist (<plist/>, two values in <plist>, <null/>) where plistlib guesses.

import { PlistParseError } from './errors.js';
import type { PlistLimits } from './limits.js';
import { PlistReal, type PlistDict, type PlistValue } from './types.js';

// One attribute (value without '<', as XML requires), then the end of the start tag
const ATTRIBUTE = /[\t\n\r ]+[A-Za-z_:][A-Za-z0-9_.:-]*[\t\n\r ]*=[\t\n\r ]*(?:"[^"<]*"|'[^'<]*')/y;
const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const START_TAG_END = /[\t\n\r ]*(\/?)>/y;
const CLOSE_TAG_END = /[\t\n\r ]*>/y;
const WHITESPACE_ONLY = /^[\t\n\r ]*$/;
const ENTITY = /&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/y;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const INTEGER = /^[-+]?[0-9]+$/;
const HEX_INTEGER = /^([-+]?)0[xX]([0-9A-Fa-f]+)$/;
// A decimal number with an optional exponent (parseFloat took trailing garbage too)
const REAL = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
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
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
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

/** Where the end tag `</name>` that starts at `lt` ends (after its '>'), or -1 if it is another tag. */
function endTagEnd(xml: string, lt: number, name: string): number {
  if (!xml.startsWith(name, lt + 2)) return -1;
  const at = lt + 2 + name.length;
  if (xml.charCodeAt(at) === 0x3e /* > */) return at + 1;
  CLOSE_TAG_END.lastIndex = at;
  return CLOSE_TAG_END.test(xml) ? CLOSE_TAG_END.lastIndex : -1;
}

// The element names a plist uses, as constants: comparing (and switching on) the same string
// object is cheaper than on a fresh slice of the document
function elementName(xml: string, from: number, to: number): string {
  let known: string;
  switch (xml.charCodeAt(from)) {
    case 0x6b /* k */:
      known = 'key';
      break;
    case 0x73 /* s */:
      known = 'string';
      break;
    case 0x69 /* i */:
      known = 'integer';
      break;
    case 0x72 /* r */:
      known = 'real';
      break;
    case 0x74 /* t */:
      known = 'true';
      break;
    case 0x66 /* f */:
      known = 'false';
      break;
    case 0x64 /* d */:
      known = xml.charCodeAt(from + 2) === 0x63 /* c */ ? 'dict' : xml.charCodeAt(from + 3) === 0x65 /* e */ ? 'date' : 'data';
      break;
    case 0x61 /* a */:
      known = 'array';
      break;
    case 0x70 /* p */:
      known = 'plist';
      break;
    case 0x6e /* n */:
      known = 'null';
      break;
    default:
      known = '';
  }
  return known.length === to - from && xml.startsWith(known, from) ? known : xml.slice(from, to);
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
  const n = Number(t);
  // Infinity (or 1e400) could not be written back (toXmlPlist refuses it): a device's answer
  // holding one made storing the answer fail with a 500
  if (!Number.isFinite(n)) invalid(childPath(where), '<real> is not a finite number');
  return new PlistReal(n);
}

function dateValue(text: string, where: Frame): Date {
  const m = DATE.exec(text);
  if (m === null) invalid(childPath(where), '<date> is not a valid date');
  const [year, month, day, hour, minute, second] = [m[1], m[2] ?? '01', m[3] ?? '01', m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(
    Number,
  ) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  // Date.UTC rolls 2024-02-30 over into March: a field that moved was out of range
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
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

// The reader's state. The work is split into small functions (the common path first, rare
// markup and errors apart) so V8 optimises them early: a single big loop took the optimising
// compiler ~40 ms on this machine, all of it spent meanwhile in the interpreter.
interface Reader {
  readonly xml: string;
  readonly limits: PlistLimits;
  pos: number;
  readonly stack: Frame[];
  values: number;
  /** The next '&' at or after the text being looked at: one pointer, so checking skipped text stays linear */
  nextAmp: number;
  rootDone: boolean;
  result: PlistValue | undefined;
}

/** Skips a comment, processing instruction, CDATA section or DOCTYPE at `lt`; CDATA text is returned. */
function skipMarkup(r: Reader, lt: number, inLeaf: string | null): string {
  const { xml } = r;
  if (xml.startsWith('<!--', lt)) {
    const close = xml.indexOf('-->', lt + 4);
    if (close === -1) malformed('a comment is not closed');
    r.pos = close + 3;
    return '';
  }
  if (xml.startsWith('<?', lt)) {
    const close = xml.indexOf('?>', lt + 2);
    if (close === -1) malformed('a processing instruction is not closed');
    r.pos = close + 2;
    return '';
  }
  if (xml.startsWith('<![CDATA[', lt)) {
    // Character data in a leaf; ignored in a container, as text there is
    if (r.stack.length === 0) malformed('text outside the <plist> element');
    const close = xml.indexOf(']]>', lt + 9);
    if (close === -1) malformed('a CDATA section is not closed');
    r.pos = close + 3;
    const raw = xml.slice(lt + 9, close);
    return raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  }
  if (inLeaf !== null) malformed(`an element inside <${inLeaf}>`);
  if (!/^<!DOCTYPE[\t\n\r ]/.test(xml.slice(lt, lt + 10))) refuse('markup declarations other than DOCTYPE are not accepted');
  if (r.stack.length > 0 || r.rootDone) malformed('a DOCTYPE after the document element started');
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
  r.pos = i + 1;
  return '';
}

/** Text between elements: ignored inside containers (as plistlib and the DOM reader did); only whitespace outside <plist>. */
function skipText(r: Reader, end: number): void {
  const { xml } = r;
  if (r.stack.length === 0 && !WHITESPACE_ONLY.test(xml.slice(r.pos, end))) malformed('text outside the <plist> element');
  if (r.nextAmp !== -1 && r.nextAmp < r.pos) r.nextAmp = xml.indexOf('&', r.pos);
  if (r.nextAmp !== -1 && r.nextAmp < end) decodeText(xml.slice(r.pos, end));
}

/** The character data of a leaf element from r.pos through its end tag, with markup inside it. */
function leafTextWithMarkup(r: Reader, name: string): string {
  const { xml } = r;
  let text = '';
  for (;;) {
    const lt = xml.indexOf('<', r.pos);
    if (lt === -1) malformed(`<${name}> is not closed`);
    if (lt > r.pos) text += decodeText(xml.slice(r.pos, lt));
    if (xml.charCodeAt(lt + 1) === 0x2f /* / */) {
      const after = endTagEnd(xml, lt, name);
      if (after === -1) malformed(`<${name}> is closed by another element`);
      r.pos = after;
      return text;
    }
    text += skipMarkup(r, lt, name);
  }
}

/** The character data of a leaf element from r.pos through its end tag. */
function leafText(r: Reader, name: string): string {
  const { xml } = r;
  const lt = xml.indexOf('<', r.pos);
  if (lt !== -1 && xml.charCodeAt(lt + 1) === 0x2f /* / */) {
    const after = endTagEnd(xml, lt, name);
    if (after === -1) malformed(`<${name}> is closed by another element`);
    const text = decodeText(xml.slice(r.pos, lt));
    r.pos = after;
    return text;
  }
  return leafTextWithMarkup(r, name);
}

function attach(r: Reader, value: PlistValue): void {
  const top = r.stack[r.stack.length - 1]!;
  if (top.array !== null) {
    top.array.push(value);
  } else if (top.dict !== null) {
    if (top.key === undefined) malformed('a value without a <key> in a <dict>');
    top.dict[top.key] = value;
    top.key = undefined;
  } else {
    if (top.value !== undefined) malformed('<plist> holds more than one value');
    top.value = value;
  }
}

/** An end tag at `lt` closes the innermost container (or <plist>). */
function closeElement(r: Reader, lt: number): void {
  const top = r.stack.pop();
  const after = top === undefined ? -1 : endTagEnd(r.xml, lt, top.name);
  if (top === undefined || after === -1) malformed('a closing tag that does not match its opening tag');
  r.pos = after;
  if (top.dict !== null) {
    if (top.key !== undefined) malformed(`the <key> ${JSON.stringify(top.key.slice(0, 40))} has no value`);
    attach(r, top.dict);
  } else if (top.array !== null) {
    attach(r, top.array);
  } else {
    if (top.value === undefined) malformed('<plist> holds no value');
    r.result = top.value;
    r.rootDone = true;
  }
}

/** Past the attributes of a start tag from `at` (allowed, as in <plist version="1.0">, and ignored): its end, and whether it is empty. */
function skipAttributes(r: Reader, lt: number, at: number, name: string): boolean {
  const { xml } = r;
  let end = at;
  ATTRIBUTE.lastIndex = end;
  while (ATTRIBUTE.test(xml)) {
    end = ATTRIBUTE.lastIndex;
    ATTRIBUTE.lastIndex = end;
  }
  const attributes = xml.slice(lt, end);
  if (attributes.includes('&')) decodeText(attributes);
  START_TAG_END.lastIndex = end;
  const tagEnd = START_TAG_END.exec(xml);
  if (tagEnd === null) malformed(`the tag <${name}> is not well-formed`);
  r.pos = START_TAG_END.lastIndex;
  return tagEnd[1] === '/';
}

function leafValue(r: Reader, name: string, text: string, top: Frame): void {
  switch (name) {
    case 'key':
      if (top.dict === null) malformed('a <key> outside a <dict>');
      if (top.key !== undefined) malformed('two <key>s in a row in a <dict>');
      if (text === '__proto__') throw new PlistParseError('a dictionary key named __proto__ is not accepted');
      top.key = text;
      return;
    case 'string':
      return attach(r, text);
    case 'integer':
      return attach(r, integerValue(text, top));
    case 'real':
      return attach(r, realValue(text, top));
    case 'date':
      return attach(r, dateValue(text, top));
    case 'data':
      return attach(r, dataValue(text, top));
    case 'true':
      return attach(r, true);
    case 'false':
      return attach(r, false);
    case 'null':
      return invalid(childPath(top), 'unsupported <null/> value');
    default:
      return malformed(`<${name.slice(0, 40)}> is not a plist element`);
  }
}

/** A start tag at `lt`: a container opens, a leaf is read whole. */
function openElement(r: Reader, lt: number): void {
  const { xml, stack, limits } = r;
  NAME.lastIndex = lt + 1;
  if (!NAME.test(xml)) malformed('a tag without a name');
  const at = NAME.lastIndex;
  const name = elementName(xml, lt + 1, at);
  let empty: boolean;
  const c = xml.charCodeAt(at);
  if (c === 0x3e /* > */) {
    empty = false;
    r.pos = at + 1;
  } else if (c === 0x2f /* / */ && xml.charCodeAt(at + 1) === 0x3e) {
    empty = true;
    r.pos = at + 2;
  } else {
    empty = skipAttributes(r, lt, at, name);
  }
  if (stack.length === 0) {
    if (name !== 'plist' || r.rootDone) malformed('the document element is not <plist>');
    if (empty) malformed('<plist> holds no value');
    stack.push({ name: 'plist', array: null, dict: null, value: undefined, key: undefined, path: '' });
    return;
  }
  if (name !== 'key' && ++r.values > limits.maxObjects) refuse(`more than ${limits.maxObjects} values`);
  const top = stack[stack.length - 1]!;
  if (name === 'dict' || name === 'array') {
    // the <plist> frame is not a container: stack.length is the depth of the new one
    if (stack.length > limits.maxDepth) refuse(`nested deeper than ${limits.maxDepth} levels`);
    if (top.dict !== null && top.key === undefined) malformed('a value without a <key> in a <dict>');
    const frame: Frame = {
      name,
      array: name === 'array' ? [] : null,
      dict: name === 'dict' ? {} : null,
      value: undefined,
      key: undefined,
      path: childPath(top),
    };
    if (empty) attach(r, name === 'array' ? frame.array! : frame.dict!);
    else stack.push(frame);
    return;
  }
  leafValue(r, name, empty ? '' : leafText(r, name), top);
}

/**
 * Reads an XML plist document within `limits`: containers nest at most maxDepth deep, at most
 * maxObjects values (every element but <key> and <plist>), and the text is at most
 * maxDecodedBytes long (with entities refused, XML decodes to at most its own length).
 * Returns the value inside <plist>; throws PlistParseError on anything else.
 */
export function readXmlPlist(xml: string, limits: PlistLimits): PlistValue {
  if (xml.length > limits.maxDecodedBytes) refuse(`larger than ${limits.maxDecodedBytes} bytes`);
  const r: Reader = {
    xml,
    limits,
    pos: xml.charCodeAt(0) === 0xfeff ? 1 : 0,
    stack: [],
    values: 0,
    nextAmp: xml.indexOf('&'),
    rootDone: false,
    result: undefined,
  };
  for (;;) {
    const lt = xml.indexOf('<', r.pos);
    const end = lt === -1 ? xml.length : lt;
    if (end > r.pos) skipText(r, end);
    if (lt === -1) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === 0x2f /* / */) closeElement(r, lt);
    else if (next === 0x21 /* ! */ || next === 0x3f /* ? */) skipMarkup(r, lt, null);
    else openElement(r, lt);
  }
  if (r.stack.length > 0) malformed(`<${r.stack[r.stack.length - 1]!.name}> is not closed`);
  if (r.result === undefined) malformed('no <plist> element');
  return r.result;
}

// A bounded bplist00 reader. The `plist` package's reader follows object references as it
// meets them, so a document whose arrays reference the next array twice decodes to 2^N values
// from a few hundred bytes, and a cyclic reference recurses until the stack overflows. Here the
// trailer and offset table are checked first, then the object graph is walked once with
// memoisation to learn the depth, count and size the document would decode to; only a document
// within the limits is built. Format: Apple's CFBinaryPList.c (bplist00 object markers).

import { PlistParseError } from './errors.js';
import type { PlistLimits } from './limits.js';
import { PlistReal, type PlistDict, type PlistValue } from './types.js';

const MAGIC = 'bplist00';
const TRAILER_SIZE = 32;
const EPOCH_2001_MS = Date.UTC(2001, 0, 1);
/** What one reference costs in the decoded size (a pointer). */
const REFERENCE_BYTES = 8;
/** What a number, date or boolean costs in the decoded size. */
const SCALAR_BYTES = 8;

const enum Kind {
  False,
  True,
  Int,
  Real,
  Date,
  Data,
  Ascii,
  Utf16,
  Array,
  Dict,
}

interface ObjectHeader {
  kind: Kind;
  /** Bytes (data, ASCII), UTF-16 code units, elements (array) or entries (dict); the integer/real width otherwise. */
  count: number;
  /** Where the object's content starts, after its marker and any extended count. */
  start: number;
}

function fail(reason: string): never {
  throw new PlistParseError(`malformed binary plist: ${reason}`);
}

function tooLarge(reason: string): never {
  throw new PlistParseError(`binary plist refused: ${reason}`);
}

/** Big-endian unsigned integer of 1..8 bytes; anything beyond 2^53 is reported as Infinity. */
function readUnsigned(buf: Buffer, offset: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + buf[offset + i]!;
  return Number.isSafeInteger(value) ? value : Number.POSITIVE_INFINITY;
}

export function parseBinaryPlist(bytes: Uint8Array, limits: PlistLimits): PlistValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 1 + TRAILER_SIZE || buf.toString('latin1', 0, MAGIC.length) !== MAGIC)
    fail('too short for a header, an object and a trailer');
  const trailer = buf.length - TRAILER_SIZE;
  const offsetSize = buf[trailer + 6]!;
  const refSize = buf[trailer + 7]!;
  const objectCount = readUnsigned(buf, trailer + 8, 8);
  const topObject = readUnsigned(buf, trailer + 16, 8);
  const tableOffset = readUnsigned(buf, trailer + 24, 8);
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8) fail('offset or reference size out of range');
  // Every object takes at least one byte between the header and the offset table
  if (objectCount < 1 || tableOffset < MAGIC.length + 1 || objectCount > tableOffset - MAGIC.length) fail('object count out of range');
  if (tableOffset + objectCount * offsetSize > trailer) fail('offset table out of range');
  if (topObject >= objectCount) fail('top object out of range');

  const offsetOf = (index: number): number => {
    const offset = readUnsigned(buf, tableOffset + index * offsetSize, offsetSize);
    if (offset < MAGIC.length || offset >= tableOffset) fail(`object ${index} lies outside the object area`);
    return offset;
  };

  const headers = new Map<number, ObjectHeader>();
  const header = (index: number): ObjectHeader => {
    const cached = headers.get(index);
    if (cached) return cached;
    let pos = offsetOf(index);
    const marker = buf[pos++]!;
    const type = marker >> 4;
    let count = marker & 0x0f;
    const need = (n: number) => {
      if (pos + n > tableOffset) fail(`object ${index} runs past the object area`);
    };
    let kind: Kind;
    switch (type) {
      case 0x0:
        if (marker === 0x08) kind = Kind.False;
        else if (marker === 0x09) kind = Kind.True;
        else fail(marker === 0x00 ? 'null values are not supported' : `unsupported object marker 0x${marker.toString(16)}`);
        break;
      case 0x1:
        if (count > 4) fail(`object ${index}: integer width out of range`);
        kind = Kind.Int;
        count = 1 << count;
        need(count);
        break;
      case 0x2:
        if (count !== 2 && count !== 3) fail(`object ${index}: real width out of range`);
        kind = Kind.Real;
        count = 1 << count;
        need(count);
        break;
      case 0x3:
        if (marker !== 0x33) fail(`object ${index}: date width out of range`);
        kind = Kind.Date;
        count = 8;
        need(8);
        break;
      case 0x4:
      case 0x5:
      case 0x6:
      case 0xa:
      case 0xd: {
        if (count === 0x0f) {
          need(1);
          const sizeMarker = buf[pos++]!;
          if (sizeMarker >> 4 !== 0x1 || (sizeMarker & 0x0f) > 3) fail(`object ${index}: bad extended length`);
          const width = 1 << (sizeMarker & 0x0f);
          need(width);
          count = readUnsigned(buf, pos, width);
          pos += width;
        }
        kind = type === 0x4 ? Kind.Data : type === 0x5 ? Kind.Ascii : type === 0x6 ? Kind.Utf16 : type === 0xa ? Kind.Array : Kind.Dict;
        const width = kind === Kind.Utf16 ? 2 : kind === Kind.Array ? refSize : kind === Kind.Dict ? 2 * refSize : 1;
        if (count > tableOffset) fail(`object ${index} runs past the object area`);
        need(count * width);
        break;
      }
      default:
        fail(`unsupported object type 0x${type.toString(16)}${type === 0x8 ? ' (UID)' : type === 0xc ? ' (set)' : ''}`);
    }
    const h = { kind, count, start: pos };
    headers.set(index, h);
    return h;
  };

  const refAt = (h: ObjectHeader, i: number): number => {
    const ref = readUnsigned(buf, h.start + i * refSize, refSize);
    if (ref >= objectCount) fail('reference out of range');
    return ref;
  };

  // ---- measure: one memoised walk of the graph, recursion bounded by maxDepth
  const IN_PROGRESS = 1;
  const DONE = 2;
  // objectCount is below the document's length (checked above), so this is at most one byte per byte
  const state = new Uint8Array(objectCount);
  const measured = new Map<number, { values: number; bytes: number; height: number }>();

  const measure = (index: number, above: number): { values: number; bytes: number; height: number } => {
    const s = state[index];
    if (s === IN_PROGRESS) fail('cyclic reference');
    if (s === DONE) {
      const m = measured.get(index)!;
      if (above + m.height > limits.maxDepth) tooLarge(`nested deeper than ${limits.maxDepth} levels`);
      return m;
    }
    const h = header(index);
    let m: { values: number; bytes: number; height: number };
    if (h.kind === Kind.Array || h.kind === Kind.Dict) {
      if (above + 1 > limits.maxDepth) tooLarge(`nested deeper than ${limits.maxDepth} levels`);
      state[index] = IN_PROGRESS;
      const refs = h.kind === Kind.Dict ? 2 * h.count : h.count;
      m = { values: 1, bytes: refs * REFERENCE_BYTES, height: 1 };
      for (let i = 0; i < refs; i++) {
        const ref = refAt(h, i);
        if (h.kind === Kind.Dict && i < h.count) {
          const keyKind = header(ref).kind;
          if (keyKind !== Kind.Ascii && keyKind !== Kind.Utf16) fail('a dictionary key is not a string');
        }
        const child = measure(ref, above + 1);
        m.values += child.values;
        m.bytes += child.bytes;
        m.height = Math.max(m.height, child.height + 1);
        if (m.values > limits.maxObjects) tooLarge(`more than ${limits.maxObjects} values once references are expanded`);
        if (m.bytes > limits.maxDecodedBytes) tooLarge(`more than ${limits.maxDecodedBytes} bytes once references are expanded`);
      }
    } else {
      const bytes = h.kind === Kind.Data || h.kind === Kind.Ascii ? h.count : h.kind === Kind.Utf16 ? 2 * h.count : SCALAR_BYTES;
      m = { values: 1, bytes, height: 0 };
      if (m.bytes > limits.maxDecodedBytes) tooLarge(`more than ${limits.maxDecodedBytes} bytes once references are expanded`);
    }
    measured.set(index, m);
    state[index] = DONE;
    return m;
  };
  measure(topObject, 0);

  // ---- build: within the limits now, so plain recursion is bounded
  const build = (index: number): PlistValue => {
    const h = header(index);
    const { start, count } = h;
    switch (h.kind) {
      case Kind.False:
        return false;
      case Kind.True:
        return true;
      case Kind.Int: {
        if (count <= 4) return readUnsigned(buf, start, count);
        const big = count === 8 ? buf.readBigInt64BE(start) : (buf.readBigInt64BE(start) << 64n) | buf.readBigUInt64BE(start + 8);
        return Number.isSafeInteger(Number(big)) ? Number(big) : big;
      }
      case Kind.Real: {
        const n = count === 4 ? buf.readFloatBE(start) : buf.readDoubleBE(start);
        if (Number.isNaN(n)) fail('a real is not a number');
        // as in XML (xml.ts): a value toXmlPlist cannot write back is refused here
        if (!Number.isFinite(n)) fail('a real is not a finite number');
        return new PlistReal(n);
      }
      case Kind.Date: {
        const date = new Date(EPOCH_2001_MS + buf.readDoubleBE(start) * 1000);
        if (Number.isNaN(date.getTime())) fail('a date is out of range');
        return date;
      }
      case Kind.Data:
        return new Uint8Array(buf.subarray(start, start + count));
      case Kind.Ascii:
        return buf.toString('latin1', start, start + count);
      case Kind.Utf16:
        return Buffer.from(buf.subarray(start, start + 2 * count))
          .swap16()
          .toString('utf16le');
      case Kind.Array: {
        const out: PlistValue[] = [];
        for (let i = 0; i < count; i++) out.push(build(refAt(h, i)));
        return out;
      }
      case Kind.Dict: {
        const out: PlistDict = {};
        for (let i = 0; i < count; i++) {
          const key = build(refAt(h, i)) as string;
          if (key === '__proto__') throw new PlistParseError('a dictionary key named __proto__ is not accepted');
          out[key] = build(refAt(h, count + i));
        }
        return out;
      }
    }
  };
  return build(topObject);
}

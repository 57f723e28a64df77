// Minimal ASN.1 DER/BER reader and DER writer over Buffers.
//
// Why not forge.asn1 here: verifying CMS needs the *exact* bytes of signed attributes and
// embedded certificates, and forge's parser keeps no offsets (re-encoding is not guaranteed to
// round-trip, e.g. BER indefinite lengths used by some profile signers). Writing with plain
// Buffers also keeps signing overhead small next to the RSA operation itself.

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export interface DerNode {
  /** The identifier octet (class | constructed | tag number for low tag numbers). */
  readonly tag: number;
  readonly tagClass: number; // 0 universal, 1 application, 2 context, 3 private
  readonly tagNumber: number;
  readonly constructed: boolean;
  readonly start: number;
  readonly contentStart: number;
  /** End of content (excluding a BER end-of-contents marker). */
  readonly contentEnd: number;
  readonly end: number;
  readonly buf: Buffer;
}

const MAX_DEPTH = 64;

function readNode(buf: Buffer, offset: number, limit: number, depth: number): DerNode {
  if (depth > MAX_DEPTH) throw new DerError('ASN.1 nesting too deep');
  let pos = offset;
  if (pos >= limit) throw new DerError(`truncated ASN.1: expected a tag at offset ${pos}`);
  const tag = buf[pos++]!;
  const tagClass = tag >> 6;
  const constructed = (tag & 0x20) !== 0;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let b: number;
    do {
      if (pos >= limit) throw new DerError('truncated ASN.1 tag');
      b = buf[pos++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (tagNumber > 0xffffff) throw new DerError('ASN.1 tag number too large');
    } while (b & 0x80);
  }
  if (pos >= limit) throw new DerError(`truncated ASN.1: expected a length at offset ${pos}`);
  const first = buf[pos++]!;
  if (first === 0x80) {
    // BER indefinite length: children until an end-of-contents (00 00) marker
    if (!constructed) throw new DerError('indefinite length on a primitive ASN.1 value');
    const contentStart = pos;
    let p = pos;
    for (;;) {
      if (p + 2 > limit) throw new DerError('truncated ASN.1: missing end-of-contents');
      if (buf[p] === 0 && buf[p + 1] === 0) break;
      p = readNode(buf, p, limit, depth + 1).end;
    }
    return { tag, tagClass, tagNumber, constructed, start: offset, contentStart, contentEnd: p, end: p + 2, buf };
  }
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n > 4) throw new DerError('ASN.1 length too large');
    if (pos + n > limit) throw new DerError('truncated ASN.1 length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
  }
  const contentStart = pos;
  const contentEnd = pos + length;
  if (contentEnd > limit) {
    throw new DerError(`truncated ASN.1: value at offset ${offset} needs ${length} bytes, ${limit - pos} left`);
  }
  return { tag, tagClass, tagNumber, constructed, start: offset, contentStart, contentEnd, end: contentEnd, buf };
}

/**
 * Parses exactly one value spanning the whole buffer. A plain Uint8Array (what plist data and
 * fetch give) is viewed as a Buffer first: readers call Buffer methods on the slices.
 */
export function parseDer(input: Buffer | Uint8Array): DerNode {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const node = readNode(buf, 0, buf.length, 0);
  if (node.end !== buf.length) throw new DerError(`${buf.length - node.end} trailing bytes after ASN.1 value`);
  return node;
}

export function children(node: DerNode): DerNode[] {
  if (!node.constructed) throw new DerError(`expected a constructed ASN.1 value at offset ${node.start}`);
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.contentEnd) {
    const child = readNode(node.buf, p, node.contentEnd, 1);
    out.push(child);
    p = child.end;
  }
  return out;
}

export function raw(node: DerNode): Buffer {
  return node.buf.subarray(node.start, node.end);
}

export function content(node: DerNode): Buffer {
  return node.buf.subarray(node.contentStart, node.contentEnd);
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) {
    throw new DerError(`expected ${what} (tag 0x${tag.toString(16)}), found tag 0x${node.tag.toString(16)}`);
  }
  return node;
}

export function readOid(node: DerNode): string {
  expectTag(node, TAG.OID, 'OBJECT IDENTIFIER');
  const bytes = content(node);
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const firstArc = arcs[0]!;
  const head = firstArc < 40 ? [0, firstArc] : firstArc < 80 ? [1, firstArc - 40] : [2, firstArc - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** OCTET STRING value, joining BER constructed segments. */
export function readOctetString(node: DerNode): Buffer {
  if (node.tagNumber !== TAG.OCTET_STRING && node.tagClass === 0) {
    throw new DerError(`expected OCTET STRING, found tag 0x${node.tag.toString(16)}`);
  }
  if (!node.constructed) return content(node);
  return Buffer.concat(children(node).map(readOctetString));
}

/** INTEGER content bytes, minimal two's complement as encoded. */
export function readIntegerBytes(node: DerNode): Buffer {
  return content(expectTag(node, TAG.INTEGER, 'INTEGER'));
}

export function readSmallInteger(node: DerNode): number {
  const bytes = readIntegerBytes(node);
  if (bytes.length > 4) throw new DerError('INTEGER too large');
  return bytes.length === 0 ? 0 : bytes.readIntBE(0, bytes.length);
}

export function readTime(node: DerNode): Date {
  const text = content(node).toString('latin1');
  let m: RegExpMatchArray | null;
  if (node.tag === TAG.UTC_TIME && (m = text.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/))) {
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (node.tag === TAG.GENERALIZED_TIME && (m = text.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/))) {
    const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms));
  }
  throw new DerError(`unreadable time value ${JSON.stringify(text)}`);
}

// ---------------------------------------------------------------------------------------------
// Writer

// One allocation per value: the header is written in front of the parts, not concatenated
// (a CMS signature nests a few dozen values; the copies showed up next to the RSA operation).
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  let lengthBytes = 0;
  if (length >= 0x80) for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes++;
  const out = Buffer.allocUnsafe(2 + lengthBytes + length);
  out[0] = tag;
  let pos = 1;
  if (lengthBytes === 0) {
    out[pos++] = length;
  } else {
    out[pos++] = 0x80 | lengthBytes;
    for (let i = lengthBytes - 1; i >= 0; i--) out[pos + i] = Math.floor(length / 256 ** (lengthBytes - 1 - i)) & 0xff;
    pos += lengthBytes;
  }
  for (const part of parts) pos += part.copy(out, pos);
  return out;
}

const oidCache = new Map<string, Buffer>();

function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const v of values) {
    const group: number[] = [v & 0x7f];
    for (let n = Math.floor(v / 128); n > 0; n = Math.floor(n / 128)) group.unshift((n & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export const der = {
  sequence: (...parts: Buffer[]) => tlv(TAG.SEQUENCE, ...parts),
  /** SET OF with members in DER canonical (sorted) order, as verifiers re-encode it that way. */
  setOf: (...parts: Buffer[]) => tlv(TAG.SET, ...[...parts].sort(Buffer.compare)),
  /** [n] EXPLICIT */
  explicit: (n: number, ...parts: Buffer[]) => tlv(0xa0 | n, ...parts),
  /** [n] IMPLICIT on a constructed value: replaces the SEQUENCE/SET tag. */
  implicitConstructed: (n: number, ...parts: Buffer[]) => tlv(0xa0 | n, ...parts),
  /** [n] IMPLICIT on a primitive value. */
  implicitPrimitive: (n: number, body: Buffer) => tlv(0x80 | n, body),
  null: () => Buffer.from([TAG.NULL, 0]),
  boolean: (value: boolean) => Buffer.from([TAG.BOOLEAN, 1, value ? 0xff : 0]),
  octetString: (value: Buffer) => tlv(TAG.OCTET_STRING, value),
  bitString: (value: Buffer) => tlv(TAG.BIT_STRING, Buffer.from([0]), value),
  utf8: (value: string) => tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8')),
  printable: (value: string) => tlv(TAG.PRINTABLE_STRING, Buffer.from(value, 'latin1')),
  ia5: (value: string) => tlv(TAG.IA5_STRING, Buffer.from(value, 'latin1')),
  /** Non-negative integer from big-endian unsigned magnitude bytes. */
  unsignedInteger(magnitude: Buffer): Buffer {
    let i = 0;
    while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
    let body = magnitude.subarray(i);
    if (body.length === 0) body = Buffer.from([0]);
    if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return tlv(TAG.INTEGER, body);
  },
  smallInteger(value: number): Buffer {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`bad small integer ${value}`);
    const bytes: number[] = [];
    for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    return der.unsignedInteger(Buffer.from(bytes));
  },
  oid(dotted: string): Buffer {
    // A few fixed OIDs are written for every signature; a copy of the cached encoding is cheaper.
    const cached = oidCache.get(dotted);
    if (cached) return Buffer.from(cached);
    const encoded = encodeOid(dotted);
    if (oidCache.size < 1000) oidCache.set(dotted, Buffer.from(encoded));
    return encoded;
  },
  /** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
  time(date: Date): Buffer {
    const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
    const year = date.getUTCFullYear();
    if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'latin1'));
    return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'latin1'));
  },
};

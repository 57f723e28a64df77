// Hostile property lists for the limit tests, built byte by byte from the bplist00 layout in
// Apple's CFBinaryPList.c (header "bplist00", objects, offset table, 32-byte trailer).

/** A bplist00 document from raw object encodings; `top` is the index of the root object. */
export function bplist(objects: Buffer[], top = 0, opts: { refSize?: number; objectCount?: number; tableOffset?: number } = {}): Buffer {
  const header = Buffer.from('bplist00', 'latin1');
  const offsets: number[] = [];
  let pos = header.length;
  for (const o of objects) {
    offsets.push(pos);
    pos += o.length;
  }
  const offsetSize = pos < 256 ? 1 : pos < 65536 ? 2 : 4;
  const table = Buffer.alloc(offsets.length * offsetSize);
  offsets.forEach((o, i) => table.writeUIntBE(o, i * offsetSize, offsetSize));
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = opts.refSize ?? 1;
  trailer.writeBigUInt64BE(BigInt(opts.objectCount ?? objects.length), 8);
  trailer.writeBigUInt64BE(BigInt(top), 16);
  trailer.writeBigUInt64BE(BigInt(opts.tableOffset ?? pos), 24);
  return Buffer.concat([header, ...objects, table, trailer]);
}

/** An array object (marker 0xA) of 1-byte references. */
export const arrayObject = (...refs: number[]) => Buffer.from([0xa0 | refs.length, ...refs]);
/** A dictionary object (marker 0xD) of 1-byte key and value references. */
export const dictObject = (keys: number[], values: number[]) => Buffer.from([0xd0 | keys.length, ...keys, ...values]);
/** A short ASCII string object (marker 0x5). */
export const asciiObject = (text: string) => Buffer.concat([Buffer.from([0x50 | text.length]), Buffer.from(text, 'latin1')]);

/**
 * Arrays that each reference the next one twice: `depth` arrays and one string leaf, about
 * 3·depth+50 bytes, which a reader that follows references decodes to 2^depth leaves.
 */
export function fanOutBplist(depth: number): Buffer {
  const objects: Buffer[] = [];
  for (let i = 0; i < depth; i++) objects.push(arrayObject(i + 1, i + 1));
  objects.push(asciiObject('x'));
  return bplist(objects);
}

/** The same fan-out wrapped in a check-in-looking dictionary, so a reader must descend into it. */
export function fanOutCheckinBplist(depth: number): Buffer {
  // 0: dict {MessageType: 1... } keys 1..3, values 4..6, fan-out from 7
  const keys = [asciiObject('MessageType'), asciiObject('UDID'), asciiObject('Payload')];
  const values = [asciiObject('Authenticate'), asciiObject('0000'), arrayObject(7, 7)];
  const objects: Buffer[] = [dictObject([1, 2, 3], [4, 5, 6]), ...keys, ...values];
  for (let i = 0; i < depth; i++) objects.push(arrayObject(8 + i, 8 + i));
  objects.push(asciiObject('x'));
  return bplist(objects);
}

/** `<array>` nested `depth` times inside a plist. */
export function deepXmlPlist(depth: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">${'<array>'.repeat(depth)}${'</array>'.repeat(depth)}</plist>`;
}

/** The classic billion laughs: ten entities each expanding to ten of the previous one. */
export function billionLaughsPlist(): string {
  const entities = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i < 10; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?>\n<!DOCTYPE plist [\n${entities.join('\n')}\n]>\n<plist version="1.0"><dict><key>UDID</key><string>&lol9;</string></dict></plist>`;
}

/** An external entity that a careless XML reader would fetch or read from disk. */
export function externalEntityPlist(): string {
  return `<?xml version="1.0"?>\n<!DOCTYPE plist [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<plist version="1.0"><dict><key>UDID</key><string>&xxe;</string></dict></plist>`;
}

// Hard limits of the plist codec (src/plist): the bounded bplist00 reader and the XML pre-scan.
// Hostile documents are refused in bounded time with our own words; every well-formed document
// (the real device messages, plistlib's binary output of every type) still reads the same.
// bplist00 layout: Apple's CFBinaryPList.c; Python's plistlib (Lib/plistlib.py, _BinaryPlistWriter)
// is the independent writer the reader is checked against.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_PLIST_DEPTH,
  MAX_PLIST_OBJECTS,
  PlistParseError,
  PlistReal,
  parsePlist,
  plistLimitsForBody,
  toXmlPlist,
  type PlistValue,
} from '../../../src/lib/plist/index.js';
import { DEVICE_BODY_LIMITS } from '../../../src/platform/http/device-limits.js';
import { DEFAULT_PLIST_LIMITS } from '../../../src/lib/plist/limits.js';
import { readXmlPlist } from '../../../src/lib/plist/xml.js';
import {
  arrayObject,
  asciiObject,
  billionLaughsPlist,
  bplist,
  deepXmlPlist,
  dictObject,
  externalEntityPlist,
  fanOutBplist,
} from '../../helpers/hostile-plists.js';

const FIXTURES = path.resolve(__dirname, '../../fixtures/device-messages');

function refusal(fn: () => unknown): PlistParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PlistParseError);
    const message = (err as Error).message;
    // our words only: no engine text, no dependency text
    expect(message).not.toMatch(/call stack|CVE|xmldom|RangeError|Invalid PLIST tag|\n\s+at /);
    expect(message.length).toBeLessThan(200);
    return err as PlistParseError;
  }
  throw new Error('expected a PlistParseError');
}

function timed<T>(fn: () => T): { ms: number; value: T | undefined } {
  const start = performance.now();
  let value: T | undefined;
  try {
    value = fn();
  } catch {
    value = undefined;
  }
  return { ms: performance.now() - start, value };
}

function leafCount(value: PlistValue): number {
  return Array.isArray(value) ? value.reduce<number>((n, v) => n + leafCount(v), 0) : 1;
}

describe('binary plists: the reference graph is measured before anything is built', () => {
  it('refuses the fan-out at depth 30 (2^30 leaves from ~150 bytes) in well under 50 ms, without growing the heap', () => {
    const body = fanOutBplist(30);
    expect(body.length).toBeLessThan(250);
    refusal(() => parsePlist(body)); // warm up
    const heapBefore = process.memoryUsage().heapUsed;
    const runs = Array.from({ length: 20 }, () => timed(() => parsePlist(body)).ms).sort((a, b) => a - b);
    expect(runs[runs.length - 1]).toBeLessThan(50);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
    expect(refusal(() => parsePlist(body)).message).toMatch(/more than 100000 values/);
  });

  it('still expands shared references honestly when the result is within the limits', () => {
    const value = parsePlist(fanOutBplist(10));
    expect(leafCount(value)).toBe(1024);
    // each reference is its own copy: changing one leaf's parent changes no other
    (value as PlistValue[][])[0]!.push('y');
    expect(leafCount(value)).toBe(1025);
  });

  it('refuses cycles: an array containing itself, and two arrays containing each other', () => {
    expect(refusal(() => parsePlist(bplist([arrayObject(0)]))).message).toMatch(/cyclic/);
    expect(refusal(() => parsePlist(bplist([arrayObject(1), arrayObject(0)]))).message).toMatch(/cyclic/);
    expect(refusal(() => parsePlist(bplist([dictObject([1], [0]), asciiObject('k')]))).message).toMatch(/cyclic/);
  });

  it.each([
    ['a reference past the last object', bplist([arrayObject(5), asciiObject('x')])],
    ['a top object past the last object', bplist([asciiObject('x')], 3)],
    ['an object count larger than the document', bplist([asciiObject('x')], 0, { objectCount: 1_000_000 })],
    ['an offset table outside the document', bplist([asciiObject('x')], 0, { tableOffset: 1 << 30 })],
    ['a reference size of zero', bplist([arrayObject(1), asciiObject('x')], 0, { refSize: 0 })],
    [
      'a string longer than the document',
      bplist([Buffer.from([0x5f, 0x13, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), asciiObject('x')]),
    ],
    ['an array longer than the document', bplist([Buffer.from([0xaf, 0x12, 0x7f, 0xff, 0xff, 0xff]), asciiObject('x')])],
    ['a dictionary key that is not a string', bplist([dictObject([1], [1]), arrayObject()])],
    ['a UID (keyed archives are not property lists)', bplist([Buffer.from([0x80, 0x01])])],
    ['a set', bplist([Buffer.from([0xc0])])],
    ['a null', bplist([Buffer.from([0x00])])],
    ['an unknown marker', bplist([Buffer.from([0xf0])])],
    ['only a header', Buffer.from('bplist00')],
    ['a truncated trailer', fanOutBplist(3).subarray(0, 40)],
    ['garbage after the magic', Buffer.concat([Buffer.from('bplist00'), Buffer.alloc(64, 0xff)])],
  ])('refuses %s', (_label, body) => {
    const { ms } = timed(() => parsePlist(body));
    refusal(() => parsePlist(body));
    expect(ms).toBeLessThan(50);
  });

  it('refuses a __proto__ key without touching any prototype', () => {
    const body = bplist([
      dictObject([1], [2]),
      asciiObject('__proto__'),
      dictObject([3], [4]),
      asciiObject('polluted'),
      Buffer.from([0x09]),
    ]);
    expect(refusal(() => parsePlist(body)).message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`nests containers up to ${MAX_PLIST_DEPTH} deep and no deeper`, () => {
    const nested = (depth: number) => bplist([...Array.from({ length: depth - 1 }, (_, i) => arrayObject(i + 1)), arrayObject()]);
    let value = parsePlist(nested(MAX_PLIST_DEPTH));
    let depth = 0;
    while (Array.isArray(value)) {
      depth++;
      value = value[0] as PlistValue;
    }
    expect(depth).toBe(MAX_PLIST_DEPTH);
    expect(refusal(() => parsePlist(nested(MAX_PLIST_DEPTH + 1))).message).toMatch(/deeper than 64/);
    // a depth reached through a shared (already measured) object counts too
    const shared = bplist([
      arrayObject(1, 2),
      arrayObject(2),
      ...Array.from({ length: MAX_PLIST_DEPTH - 1 }, (_, i) => arrayObject(i + 3)),
      arrayObject(),
    ]);
    expect(refusal(() => parsePlist(shared)).message).toMatch(/deeper than 64/);
  });

  it('counts decoded bytes after expansion: one string referenced many times', () => {
    const text = 'x'.repeat(1000);
    const long = Buffer.concat([Buffer.from([0x5f, 0x11, 0x03, 0xe8]), Buffer.from(text, 'latin1')]);
    const refs = Array.from({ length: 200 }, () => 1);
    const body = bplist([Buffer.concat([Buffer.from([0xaf, 0x10, refs.length]), Buffer.from(refs)]), long]);
    expect(body.length).toBeLessThan(2000);
    expect((parsePlist(body) as string[]).length).toBe(200);
    const small = { maxDepth: 64, maxObjects: 100_000, maxDecodedBytes: 100_000 };
    expect(refusal(() => parsePlist(body, small)).message).toMatch(/more than 100000 bytes/);
  });

  it("reads every type exactly as Python's plistlib writes it (ints of every width, UTF-16, reals, dates, data, long containers)", () => {
    const script = `
import plistlib, sys, datetime, base64
value = {
  'small': 7, 'byte': 200, 'short': 40000, 'int': 3000000000, 'negative': -5, 'min64': -2**63, 'max64': 2**63 - 1, 'u64': 2**64 - 1,
  'real': 0.5, 'wholeReal': 3.0, 'bool': True, 'no': False,
  'date': datetime.datetime(2021, 5, 6, 7, 8, 9), 'data': b'\\x00\\x01\\xfe\\xff' * 10,
  'ascii': 'plain', 'unicode': 'Grüße, 世界 \\U0001F600', 'long': 'y' * 300,
  'list': list(range(40)), 'nested': {'a': [{'b': [1, 2, {'c': 'd'}]}]}, 'empty': {}, 'none': [],
}
sys.stdout.write(base64.b64encode(plistlib.dumps(value, fmt=plistlib.FMT_BINARY)).decode())
`;
    const binary = Buffer.from(execFileSync('python3', ['-c', script], { encoding: 'utf8' }), 'base64');
    const value = parsePlist(binary) as Record<string, PlistValue>;
    expect(value).toEqual({
      small: 7,
      byte: 200,
      short: 40000,
      int: 3000000000,
      negative: -5,
      min64: -(2n ** 63n),
      max64: 2n ** 63n - 1n,
      u64: 2n ** 64n - 1n,
      real: new PlistReal(0.5),
      wholeReal: new PlistReal(3),
      bool: true,
      no: false,
      date: new Date(Date.UTC(2021, 4, 6, 7, 8, 9)),
      data: new Uint8Array(Buffer.from('0001feff'.repeat(10), 'hex')),
      ascii: 'plain',
      unicode: 'Grüße, 世界 \u{1F600}',
      long: 'y'.repeat(300),
      list: Array.from({ length: 40 }, (_, i) => i),
      nested: { a: [{ b: [1, 2, { c: 'd' }] }] },
      empty: {},
      none: [],
    });
    expect(value.wholeReal).toBeInstanceOf(PlistReal);
    // and our XML writer agrees with what was read
    expect(parsePlist(toXmlPlist(value))).toEqual(value);
  });
});

describe('XML plists: a linear pre-scan before the XML library', () => {
  it('refuses 10,000 levels of nesting in under 50 ms, and accepts 64', () => {
    const deep = deepXmlPlist(10_000);
    const { ms } = timed(() => parsePlist(deep));
    expect(ms).toBeLessThan(50);
    expect(refusal(() => parsePlist(deep)).message).toMatch(/deeper than 64/);
    expect(parsePlist(deepXmlPlist(MAX_PLIST_DEPTH))).toBeInstanceOf(Array);
    expect(refusal(() => parsePlist(deepXmlPlist(MAX_PLIST_DEPTH + 1))).message).toMatch(/deeper/);
  });

  it('refuses more values than the limit', () => {
    const many = `<plist version="1.0"><array>${'<true/>'.repeat(MAX_PLIST_OBJECTS + 1)}</array></plist>`;
    expect(refusal(() => parsePlist(many)).message).toMatch(/more than 100000 values/);
    const fewer = `<plist version="1.0"><array>${'<true/>'.repeat(1000)}</array></plist>`;
    expect((parsePlist(fewer) as unknown[]).length).toBe(1000);
  });

  it('refuses entity declarations (billion laughs, external entities) and undeclared entities; keeps the predefined ones', () => {
    for (const hostile of [billionLaughsPlist(), externalEntityPlist()]) {
      const { ms } = timed(() => parsePlist(hostile));
      expect(ms).toBeLessThan(50);
      expect(refusal(() => parsePlist(hostile)).message).toMatch(/entity/);
    }
    expect(refusal(() => parsePlist('<plist version="1.0"><string>&xxe;</string></plist>')).message).toMatch(/entity/);
    expect(
      refusal(() => parsePlist('<?xml version="1.0"?><!ENTITY a "b"><plist version="1.0"><string>x</string></plist>')).message,
    ).toMatch(/declarations/);
    expect(parsePlist('<plist version="1.0"><string>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</string></plist>')).toBe('<&>"\'AB');
  });

  it('refuses bytes that are not UTF-8 and a __proto__ key, in our words', () => {
    const latin1 = Buffer.concat([
      Buffer.from('<?xml version="1.0"?><plist version="1.0"><string>'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('</string></plist>'),
    ]);
    expect(refusal(() => parsePlist(latin1)).message).toMatch(/UTF-8/);
    const proto = '<plist version="1.0"><dict><key>__proto__</key><dict><key>polluted</key><true/></dict></dict></plist>';
    expect(refusal(() => parsePlist(proto)).message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reports malformed XML without the XML library's words", () => {
    for (const bad of [
      '<plist version="1.0"><dict><key>a</key>',
      '<?xml version="1.0"?><html></html>',
      '<plist><foo/></plist>',
      '<plist><dict><string>x</string></dict></plist>',
    ]) {
      expect(refusal(() => parsePlist(bad)).message).toMatch(/malformed XML plist/);
    }
  });

  it('scans in linear time: 2.8 MB with 48,000 entity references and 30,000 elements in well under a second', () => {
    const profiles = Array.from({ length: 6000 }, (_, i) => ({
      PayloadIdentifier: `com.example.profile.${i}`,
      PayloadDisplayName: `Profile & ${i} `.repeat(8),
      PayloadVersion: 1,
      IsManaged: true,
    }));
    const xml = toXmlPlist({ UDID: 'x', Status: 'Acknowledged', CommandUUID: 'c', ProfileList: profiles });
    expect(xml.length).toBeGreaterThan(2_000_000);
    readXmlPlist(xml, DEFAULT_PLIST_LIMITS);
    const { ms } = timed(() => readXmlPlist(xml, DEFAULT_PLIST_LIMITS));
    expect(ms).toBeLessThan(1000);
  });

  it('refuses a document larger than the decoded-size limit before reading it', () => {
    const limits = plistLimitsForBody(16 * 1024);
    const big = `<plist version="1.0"><string>${'z'.repeat(100_000)}</string></plist>`;
    expect(refusal(() => parsePlist(big, limits)).message).toMatch(/larger than/);
    expect((parsePlist(big) as string).length).toBe(100_000);
  });
});

describe('the real device messages stay well within the device limits', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? files(full) : /\.(xml|plist)$/.test(name) ? [full] : [];
    });
  const messages = files(FIXTURES);

  // Some fixtures carry redacted <data> that is not base64 (as in test/unit/mdm/fixtures.test.ts)
  const fixRedactedData = (text: string) =>
    text.replace(/<data>([^<]*)<\/data>/g, (whole, content: string) => {
      try {
        atob(content.replace(/\s+/g, ''));
        return whole;
      } catch {
        return `<data>${Buffer.from('redacted').toString('base64')}</data>`;
      }
    });

  it(`reads all ${messages.length} fixtures, as XML and as plistlib's binary form, identically, within the check-in limits`, () => {
    expect(messages.length).toBeGreaterThan(40);
    const limits = plistLimitsForBody(DEVICE_BODY_LIMITS.checkin);
    const texts = messages.map((file) => fixRedactedData(readFileSync(file, 'utf8')));
    const script = `
import plistlib, sys, base64, json
out = [base64.b64encode(plistlib.dumps(plistlib.loads(text.encode()), fmt=plistlib.FMT_BINARY, sort_keys=False)).decode() for text in json.load(sys.stdin)]
sys.stdout.write(json.dumps(out))
`;
    const binaries = (
      JSON.parse(
        execFileSync('python3', ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }),
      ) as string[]
    ).map((b) => Buffer.from(b, 'base64'));
    const asJson = (v: PlistValue) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;
    texts.forEach((text, i) => {
      const fromXml = parsePlist(Buffer.from(text), limits);
      const fromBinary = parsePlist(binaries[i]!, limits);
      // plistlib writes a whole <real> back as an integer: compare the JSON views
      expect(asJson(fromBinary), messages[i]).toEqual(asJson(fromXml));
    });
  });
});

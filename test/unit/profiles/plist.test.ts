import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { build as buildWithPackage, buildBinary, parse as parseWithPackage } from 'plist';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PlistParseError,
  PlistReal,
  PlistWriteError,
  detectPlistFormat,
  parsePlist,
  toXmlPlist,
  type PlistValue,
} from '../../../src/lib/plist/index.js';

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

const workDir = mkdtempSync(join(tmpdir(), 'mockiron-plist-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

// plistlib's view of a file, with types made explicit so integer/real/data/date are compared.
const PLISTLIB_DUMP = `
import plistlib, sys, json, base64, datetime
def tag(v):
    if isinstance(v, bool): return {"bool": v}
    if isinstance(v, int): return {"int": str(v)}
    if isinstance(v, float): return {"real": v}
    if isinstance(v, bytes): return {"data": base64.b64encode(v).decode()}
    if isinstance(v, datetime.datetime): return {"date": v.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if isinstance(v, str): return {"string": v}
    if isinstance(v, list): return [tag(x) for x in v]
    if isinstance(v, dict): return {"dict": [[k, tag(x)] for k, x in v.items()]}
    raise TypeError(type(v))
with open(sys.argv[1], "rb") as f:
    print(json.dumps(tag(plistlib.load(f))))
`;

function tagged(v: PlistValue): unknown {
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'bigint') return { int: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { int: String(v) } : { real: v };
  if (v instanceof PlistReal) return { real: v.value };
  if (v instanceof Uint8Array) return { data: Buffer.from(v).toString('base64') };
  if (v instanceof Date) return { date: v.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  if (typeof v === 'string') return { string: v };
  if (Array.isArray(v)) return v.map(tagged);
  return { dict: Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, tagged(x as PlistValue)]) };
}

function plistlibRead(xml: string): unknown {
  const file = join(workDir, `p-${Math.random().toString(36).slice(2)}.plist`);
  writeFileSync(file, xml);
  return JSON.parse(execFileSync('python3', ['-c', PLISTLIB_DUMP, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

const makeSample = (): PlistValue => ({
  Zeta: 'last key first',
  Alpha: 'a & b < c > d "quoted" \'single\'',
  Count: 42,
  Big: 9007199254740993n,
  Negative: -7,
  Ratio: 0.25,
  ForcedReal: new PlistReal(3600),
  Yes: true,
  No: false,
  When: new Date('2024-10-21T12:34:56.789Z'),
  Blob: new Uint8Array([0, 1, 2, 253, 254, 255]),
  Empty: [],
  EmptyDict: {},
  Text: 'line1\nline2\r\nline3\ttab — ünïcødé 🇨🇭',
  Nested: { List: ['x', 1, new PlistReal(1.5), { Deep: true }] },
});
const sample = makeSample();

describe('toXmlPlist', () => {
  it('writes Apple layout with tabs, DOCTYPE and keys in the given order', () => {
    const xml = toXmlPlist({ B: 1, A: 'x', C: [true, new PlistReal(2)] });
    expect(xml).toBe(
      `${HEADER}<dict>\n\t<key>B</key>\n\t<integer>1</integer>\n\t<key>A</key>\n\t<string>x</string>\n` +
        `\t<key>C</key>\n\t<array>\n\t\t<true/>\n\t\t<real>2.0</real>\n\t</array>\n</dict>\n</plist>\n`,
    );
  });

  it('escapes &, <, > in strings and keys and keeps CR as a character reference', () => {
    const xml = toXmlPlist({ 'a<&>b': 'x & y < z > w\r\n' });
    expect(xml).toContain('<key>a&lt;&amp;&gt;b</key>');
    expect(xml).toContain('<string>x &amp; y &lt; z &gt; w&#13;\n</string>');
  });

  it('keeps NEL, LINE and PARAGRAPH SEPARATOR through our parser and plistlib', () => {
    const value = { 'k\u0085': 'a\u0085b\u2028c\u2029d\r' };
    const xml = toXmlPlist(value);
    expect(xml).toContain('<string>a&#133;b&#8232;c&#8233;d&#13;</string>');
    expect(parsePlist(xml)).toEqual(value);
    expect(plistlibRead(xml)).toEqual(tagged(value));
  });

  it('every XML-representable BMP character survives our parser and plistlib', () => {
    const chars: string[] = [];
    for (let c = 0x09; c < 0x10000; c++) {
      if ((c > 0x0d && c < 0x20) || c === 0x0b || c === 0x0c || (c >= 0xd800 && c < 0xe000) || c >= 0xfffe) continue;
      chars.push(`a${String.fromCharCode(c)}b`);
    }
    chars.push('astral 🇨🇭 \u{1F47B}');
    const xml = toXmlPlist(chars);
    expect(parsePlist(xml)).toEqual(chars);
    expect(plistlibRead(xml)).toEqual(tagged(chars));
  });

  it('writes dates as ISO-8601 Z without fractions, data as base64, empty containers self-closed', () => {
    const xml = toXmlPlist({ d: new Date('2020-01-02T03:04:05.999Z'), b: Buffer.from('hi'), a: [], o: {} });
    expect(xml).toContain('<date>2020-01-02T03:04:05Z</date>');
    expect(xml).toContain('<data>aGk=</data>');
    expect(xml).toContain('<array/>');
    expect(xml).toContain('<dict/>');
  });

  it('tells integers from reals, and PlistReal forces <real>', () => {
    expect(toXmlPlist(5)).toContain('<integer>5</integer>');
    expect(toXmlPlist(5.5)).toContain('<real>5.5</real>');
    expect(toXmlPlist(new PlistReal(5))).toContain('<real>5.0</real>');
    expect(toXmlPlist(new PlistReal(-0))).toContain('<real>-0.0</real>');
    expect(toXmlPlist(12345678901234567890n)).toContain('<integer>12345678901234567890</integer>');
  });

  it('skips undefined dictionary values', () => {
    expect(toXmlPlist({ a: undefined, b: 1 })).not.toContain('<key>a</key>');
  });

  it('refuses characters XML cannot carry, naming the key path', () => {
    expect(() => toXmlPlist({ Outer: { Inner: 'bell\u0007' } })).toThrow(PlistWriteError);
    expect(() => toXmlPlist({ Outer: { Inner: 'bell\u0007' } })).toThrow('Outer.Inner: character U+0007');
    expect(() => toXmlPlist({ s: 'lone \uD800 surrogate' })).toThrow(PlistWriteError);
    expect(() => toXmlPlist({ n: Number.NaN })).toThrow('not finite');
    expect(() => toXmlPlist({ n: 2 ** 60 })).toThrow('use a bigint');
    expect(() => toXmlPlist({ n: null } as never)).toThrow('plists have no null');
  });

  it('is deterministic', () => {
    expect(toXmlPlist(sample)).toBe(toXmlPlist(makeSample()));
  });
});

describe('parsePlist', () => {
  it('round-trips through our writer and parser, keeping real vs integer', () => {
    const back = parsePlist(toXmlPlist(sample));
    expect(tagged(back)).toEqual(tagged(sample));
    expect((back as Record<string, unknown>).ForcedReal).toBeInstanceOf(PlistReal);
  });

  it('reads what the plist package writes, and the plist package reads what we write', () => {
    const fromPackage = buildWithPackage({ a: 'x & y', n: 3, list: [true, 'z'] });
    expect(parsePlist(fromPackage)).toEqual({ a: 'x & y', n: 3, list: [true, 'z'] });
    const ours = toXmlPlist({ a: 'x & y', n: 3, r: 0.5, list: [false] });
    expect(parseWithPackage(ours)).toEqual({ a: 'x & y', n: 3, r: 0.5, list: [false] });
  });

  it("round-trips through Python's plistlib with the same types and key order", () => {
    expect(plistlibRead(toXmlPlist(sample))).toEqual(tagged(sample));
  });

  it('reads binary plists (bplist00)', () => {
    const bytes = buildBinary({ Name: 'binary', Count: 7, On: true });
    expect(detectPlistFormat(bytes)).toBe('binary');
    expect(parsePlist(bytes)).toEqual({ Name: 'binary', Count: 7, On: true });
  });

  it('rejects non-plist input with a clear message', () => {
    expect(() => parsePlist('hello world')).toThrow(PlistParseError);
    expect(() => parsePlist('hello world')).toThrow('not a property list');
    expect(() => parsePlist(`${HEADER}<dict><key>a</key>`)).toThrow(/malformed XML plist/);
    expect(() => parsePlist('<?xml version="1.0"?><html></html>')).toThrow(/malformed XML plist/);
    expect(() => parsePlist(Buffer.from('bplist00garbage'))).toThrow(/malformed binary plist/);
  });

  it('property: any generated value survives write → parse and write → plistlib', () => {
    const key = fc.string({ unit: 'grapheme', maxLength: 8 }).filter((k) => k !== '__proto__');
    const text = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(s));
    const leaf = fc.oneof(
      text,
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }).map((d) => new PlistReal(d)),
      fc.uint8Array({ maxLength: 16 }),
      fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => new Date(s * 1000)),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
    })).node as fc.Arbitrary<PlistValue>;
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (value) => {
        const xml = toXmlPlist(value);
        expect(tagged(parsePlist(xml))).toEqual(tagged(value));
      }),
      { numRuns: 150 },
    );
    // plistlib is a process per run, so a smaller sample there.
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 5 }), (value) => {
        expect(plistlibRead(toXmlPlist(value))).toEqual(tagged(value));
      }),
      { numRuns: 15 },
    );
  });
});

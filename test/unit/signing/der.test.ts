import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  children,
  content,
  der,
  DerError,
  parseDer,
  readIntegerBytes,
  readOctetString,
  readOid,
  readTime,
} from '../../../src/lib/pki/der.js';
import { run } from './helpers.js';

describe('DER writer and reader', () => {
  it('OIDs round-trip', () => {
    const arc = fc.integer({ min: 0, max: 2 ** 40 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(arc, { maxLength: 8 }), (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        expect(readOid(parseDer(der.oid(dotted)))).toBe(dotted);
      }),
    );
  });

  it('lengths of every size class round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), (length) => {
        const value = Buffer.alloc(length, 7);
        expect(readOctetString(parseDer(der.octetString(value))).equals(value)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('length headers are minimal DER at every size boundary, parts written in order', () => {
    const header = (length: number) => der.octetString(Buffer.alloc(length, 7)).subarray(0, 5).toString('hex');
    expect(header(0)).toBe('0400');
    expect(header(127).slice(0, 4)).toBe('047f');
    expect(header(128).slice(0, 6)).toBe('048180');
    expect(header(255).slice(0, 6)).toBe('0481ff');
    expect(header(256).slice(0, 8)).toBe('04820100');
    expect(header(65_535).slice(0, 8)).toBe('0482ffff');
    expect(header(65_536)).toBe('0483010000');
    const value = der.sequence(Buffer.from([1, 2]), Buffer.alloc(0), Buffer.from([3]));
    expect(value.toString('hex')).toBe('3003010203');
  });

  it('an OID written twice is equal but not shared (a caller may change its copy)', () => {
    const first = der.oid('1.2.840.113549.1.9.4');
    first[2] = 0;
    const second = der.oid('1.2.840.113549.1.9.4');
    expect(readOid(parseDer(second))).toBe('1.2.840.113549.1.9.4');
    expect(second.equals(first)).toBe(false);
  });

  it('unsigned integers are minimal and positive', () => {
    expect(der.unsignedInteger(Buffer.from([0x00, 0x00, 0x7f])).toString('hex')).toBe('02017f');
    expect(der.unsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    expect(der.smallInteger(0).toString('hex')).toBe('020100');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        const encoded = readIntegerBytes(parseDer(der.unsignedInteger(Buffer.from(bytes))));
        expect(BigInt(`0x${Buffer.from(encoded).toString('hex')}`)).toBe(BigInt(`0x${Buffer.from(bytes).toString('hex')}`));
        expect(encoded[0]! & 0x80).toBe(0);
      }),
    );
  });

  it('times: UTCTime before 2050, GeneralizedTime after, both read back', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1950-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }), (date) => {
        const seconds = new Date(Math.floor(date.getTime() / 1000) * 1000);
        const encoded = der.time(seconds);
        expect(encoded[0]).toBe(seconds.getUTCFullYear() < 2050 ? 0x17 : 0x18);
        expect(readTime(parseDer(encoded)).getTime()).toBe(seconds.getTime());
      }),
    );
  });

  it('SET OF members are written in sorted order (DER), so verifiers re-encode identically', () => {
    const set = der.setOf(der.octetString(Buffer.from('b')), der.octetString(Buffer.from('a')));
    expect(children(parseDer(set)).map((c) => content(c).toString())).toEqual(['a', 'b']);
  });

  it('agrees with openssl asn1parse on a nested structure', () => {
    const structure = der.sequence(der.oid('1.2.840.113549.1.7.1'), der.explicit(0, der.octetString(Buffer.from('hi'))), der.null());
    const parsed = run('openssl', ['asn1parse', '-inform', 'DER'], { input: structure });
    expect(parsed.stdout).toContain(':pkcs7-data');
    expect(parsed.stdout).toMatch(/OCTET STRING\s+:hi/);
    expect(parsed.stdout).toContain('NULL');
  });

  it('reads BER indefinite lengths and constructed OCTET STRINGs', () => {
    // SEQUENCE (indefinite) { constructed OCTET STRING (indefinite) { "ab", "cd" } EOC } EOC
    const ber = Buffer.from('3080' + '2480' + '04026162' + '04026364' + '0000' + '0000', 'hex');
    const [octets] = children(parseDer(ber));
    expect(readOctetString(octets!).toString()).toBe('abcd');
  });

  it('rejects truncation, trailing bytes and absurd lengths', () => {
    const good = der.sequence(der.octetString(Buffer.from('hello')));
    for (let n = 0; n < good.length; n++) expect(() => parseDer(good.subarray(0, n))).toThrow(DerError);
    expect(() => parseDer(Buffer.concat([good, Buffer.from([0])]))).toThrow(/trailing/);
    expect(() => parseDer(Buffer.from('3085ffffffffff', 'hex'))).toThrow(DerError);
    expect(() => parseDer(Buffer.from('0480', 'hex'))).toThrow(DerError);
  });
});

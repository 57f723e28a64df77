import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PerAppDecodeError, decodePerAppPolicy, encodePerAppPolicy, serializePerAppPolicyXml } from '../../../src/lib/anyconnect/codec.js';
import { PerAppValidationError, normalizePerAppPolicy } from '../../../src/lib/anyconnect/policy.js';
import { ruleList } from './arbitraries.js';

const sample = normalizePerAppPolicy({
  rules: [
    { platform: 'iOS', appId: 'com.google.chrome.ios', friendlyName: 'Chrome' },
    { platform: 'iOS', appId: 'com.cisco.*', friendlyName: 'Cisco apps' },
    { platform: 'Android', appId: 'com.cisco.anyconnect.vpn', friendlyName: 'AnyConnect', minVersion: '4.0.0' },
  ],
});

function decodeError(blob: string): PerAppDecodeError {
  try {
    decodePerAppPolicy(blob);
  } catch (err) {
    if (err instanceof PerAppDecodeError) return err;
    throw err;
  }
  throw new Error('expected a PerAppDecodeError');
}

describe('PerApp blob encode/decode (mockiron mock format)', () => {
  it('serializes the documented mock XML (design note 5.1)', () => {
    expect(serializePerAppPolicyXml(sample)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><PerAppPolicy version="1"><Platform name="iOS"><App id="com.google.chrome.ios" friendlyName="Chrome"/><App id="com.cisco.*" friendlyName="Cisco apps"/></Platform><Platform name="Android"><App id="com.cisco.anyconnect.vpn" friendlyName="AnyConnect" minVersion="4.0.0"/></Platform></PerAppPolicy>',
    );
  });

  it('encodes with zlib at the default level (Base64 starts eJ) and round-trips', () => {
    const blob = encodePerAppPolicy(sample);
    expect(blob.startsWith('eJ')).toBe(true);
    expect(blob).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodePerAppPolicy(blob)).toMatchObject({ policy: sample, compression: 'zlib' });
  });

  it('decodes gzip and raw deflate variants and reports which it saw', () => {
    expect(decodePerAppPolicy(encodePerAppPolicy(sample, { compression: 'gzip' }))).toMatchObject({ policy: sample, compression: 'gzip' });
    expect(decodePerAppPolicy(encodePerAppPolicy(sample, { compression: 'raw' }))).toMatchObject({ policy: sample, compression: 'raw' });
    const xml = Buffer.from(serializePerAppPolicyXml(sample));
    expect(decodePerAppPolicy(deflateSync(xml, { level: 9 }).toString('base64')).compression).toBe('zlib');
    expect(decodePerAppPolicy(gzipSync(xml).toString('base64')).policy).toEqual(sample);
    expect(decodePerAppPolicy(deflateRawSync(xml, { level: 1 }).toString('base64')).policy).toEqual(sample);
  });

  it('tolerates whitespace and pasted line breaks', () => {
    const blob = encodePerAppPolicy(sample);
    const pasted = `  ${blob.match(/.{1,20}/g)!.join('\r\n  ')}\n`;
    expect(decodePerAppPolicy(pasted).policy).toEqual(sample);
  });

  it('rejects non-Base64 text with the offending character', () => {
    const err = decodeError('eJxz!!!');
    expect(err.stage).toBe('base64');
    expect(err.message).toMatch(/character '!' at position 5/);
    expect(decodeError('eJx-_abc').message).toMatch(/base64url/);
    expect(decodeError('').message).toMatch(/empty/);
    expect(decodeError('eJxzd').message).toMatch(/multiple of 4|truncated/);
  });

  it('rejects corrupt and truncated data as a compression error', () => {
    const blob = encodePerAppPolicy(sample);
    expect(decodeError(Buffer.from('hello world, not compressed').toString('base64')).stage).toBe('compression');
    const truncated = Buffer.from(blob, 'base64').subarray(0, 20).toString('base64');
    expect(decodeError(truncated).stage).toBe('compression');
  });

  it('rejects compressed data that is not the mock document', () => {
    const notPolicy = deflateSync(Buffer.from('{"rules":[]}')).toString('base64');
    expect(decodeError(notPolicy).stage).toBe('format');
    const wrongRoot = deflateSync(Buffer.from('<Policy version="1"/>')).toString('base64');
    expect(decodeError(wrongRoot).message).toMatch(/expected <PerAppPolicy>/);
    const unknownAttr = deflateSync(
      Buffer.from('<PerAppPolicy version="1"><Platform name="iOS"><App id="a.b" color="red"/></Platform></PerAppPolicy>'),
    ).toString('base64');
    expect(decodeError(unknownAttr).message).toMatch(/unknown attribute color/);
    expect(decodePerAppPolicy(unknownAttr, { strict: false }).policy.rules).toEqual([{ platform: 'iOS', appId: 'a.b' }]);
  });

  it('re-validates decoded rules (a blob cannot smuggle in a lone *)', () => {
    const bad = deflateSync(Buffer.from('<PerAppPolicy version="1"><Platform name="iOS"><App id="*"/></Platform></PerAppPolicy>')).toString(
      'base64',
    );
    const err = decodeError(bad);
    expect(err.stage).toBe('policy');
    expect(err.message).toMatch(/use '\*\.\*'/);
  });

  it('refuses to encode an invalid policy', () => {
    expect(() => encodePerAppPolicy({ rules: [{ platform: 'iOS', appId: 'com.*.x' }] })).toThrow(PerAppValidationError);
  });

  it('property: decode(encode(p)) is the normalized policy, for every compression', () => {
    fc.assert(
      fc.property(ruleList, fc.constantFrom('zlib', 'gzip', 'raw') as fc.Arbitrary<'zlib' | 'gzip' | 'raw'>, (rules, compression) => {
        const expected = normalizePerAppPolicy({ rules });
        const decoded = decodePerAppPolicy(encodePerAppPolicy({ rules }, { compression }));
        expect(decoded.policy).toEqual(expected);
        expect(decoded.compression).toBe(compression);
        // Encoding is deterministic, so a decoded policy re-encodes to the same blob.
        expect(encodePerAppPolicy(decoded.policy)).toBe(encodePerAppPolicy(expected));
      }),
      { numRuns: 200 },
    );
  });
});

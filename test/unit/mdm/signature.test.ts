import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MdmSignatureError, signMdmRequest, verifyMdmSignature } from '../../../src/lib/mdm-protocol/index.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';
import { deviceMessage } from './helpers.js';

function signatureError(fn: () => unknown): MdmSignatureError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MdmSignatureError) return err;
    throw new Error(`expected MdmSignatureError, got ${String(err)}`);
  }
  throw new Error('expected MdmSignatureError, nothing was thrown');
}

describe('Mdm-Signature', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let device: ReturnType<CertificateAuthority['issueKeyAndCertificate']>;
  const body = deviceMessage('nanomdm/TokenUpdate.1.plist');

  beforeAll(() => {
    ca = CertificateAuthority.create({ subject: { commonName: 'mockiron Device CA', organization: 'mockiron' } });
    otherCa = CertificateAuthority.create({ subject: { commonName: 'Someone Else CA' } });
    device = ca.issueKeyAndCertificate({ subject: { commonName: 'device-663b07bb' }, profile: 'device' });
  });

  it('round-trips: the verified signer is the device certificate', () => {
    const header = signMdmRequest(body, device);
    const signer = verifyMdmSignature(header, body, { trustAnchors: [ca.certificate] });
    expect(signer.certificatePem.trim()).toBe(device.pem.trim());
    expect(signer.fingerprintSha256).toBe(device.certificate.fingerprint256);
    expect(signer.serialNumber).toBe(device.serialNumber);
    expect(signer.subject).toContain('CN=device-663b07bb');
    expect(signer.issuer).toContain('CN=mockiron Device CA');
    expect(signer.signingTime).toBeInstanceOf(Date);
  });

  it('accepts PEM trust anchors and an EC device key', () => {
    const ecDevice = ca.issueKeyAndCertificate({ subject: { commonName: 'ec-device' }, profile: 'device', keyType: 'ec' });
    const header = signMdmRequest(body, ecDevice);
    expect(verifyMdmSignature(header, body, { trustAnchors: [ca.certificatePem] }).fingerprintSha256).toBe(
      ecDevice.certificate.fingerprint256,
    );
  });

  it('produces a detached signature (the body is not inside the header)', () => {
    const plain = signMdmRequest(Buffer.from('x'), device);
    const big = signMdmRequest(Buffer.alloc(10_000, 0x41), device);
    expect(Math.abs(big.length - plain.length)).toBeLessThan(16);
  });

  it('tolerates a line-wrapped header', () => {
    const wrapped = signMdmRequest(body, device).replace(/(.{64})/g, '$1\r\n');
    expect(verifyMdmSignature(wrapped, body, { trustAnchors: [ca.certificate] }).serialNumber).toBe(device.serialNumber);
  });

  it('rejects a tampered body with SIGNATURE_MISMATCH', () => {
    const header = signMdmRequest(body, device);
    const tampered = Buffer.from(body.toString('utf8').replace('663b07bb', '663b07bc'));
    const error = signatureError(() => verifyMdmSignature(header, tampered, { trustAnchors: [ca.certificate] }));
    expect(error.code).toBe('SIGNATURE_MISMATCH');
    expect(error.cmsCode).toBe('CONTENT_DIGEST_MISMATCH');
  });

  it('rejects a signature replayed onto another body', () => {
    const other = deviceMessage('nanomdm/TokenUpdate.2.plist');
    const error = signatureError(() => verifyMdmSignature(signMdmRequest(other, device), body, { trustAnchors: [ca.certificate] }));
    expect(error.code).toBe('SIGNATURE_MISMATCH');
  });

  it('rejects a device identity from another CA with UNTRUSTED', () => {
    const stranger = otherCa.issueKeyAndCertificate({ subject: { commonName: 'stranger' }, profile: 'device' });
    const error = signatureError(() => verifyMdmSignature(signMdmRequest(body, stranger), body, { trustAnchors: [ca.certificate] }));
    expect(error.code).toBe('UNTRUSTED');
    expect(error.cmsCode).toBe('UNTRUSTED_CHAIN');
    // …and our own device is untrusted by the other CA
    expect(signatureError(() => verifyMdmSignature(signMdmRequest(body, device), body, { trustAnchors: [otherCa.certificate] })).code).toBe(
      'UNTRUSTED',
    );
  });

  it('rejects everything when no trust anchors are configured', () => {
    expect(signatureError(() => verifyMdmSignature(signMdmRequest(body, device), body, { trustAnchors: [] })).code).toBe('UNTRUSTED');
  });

  it('rejects an expired device certificate with CERTIFICATE_NOT_VALID', () => {
    const header = signMdmRequest(body, device);
    const later = new Date(Date.now() + 2 * 365 * 24 * 3600 * 1000);
    const error = signatureError(() => verifyMdmSignature(header, body, { trustAnchors: [ca.certificate], at: later }));
    expect(error.code).toBe('CERTIFICATE_NOT_VALID');
    expect(error.cmsCode).toBe('SIGNER_EXPIRED');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['blank', '  '],
  ])('a %s header → MISSING_HEADER', (_label, header) => {
    expect(signatureError(() => verifyMdmSignature(header, body, { trustAnchors: [ca.certificate] })).code).toBe('MISSING_HEADER');
  });

  it.each([
    ['punctuation', 'not*base64!'],
    ['a bad length', 'abcde'],
    ['misplaced padding', 'ab=c'],
    ['URL-safe alphabet', 'ab-_'],
  ])('%s → NOT_BASE64', (_label, header) => {
    expect(signatureError(() => verifyMdmSignature(header, body, { trustAnchors: [ca.certificate] })).code).toBe('NOT_BASE64');
  });

  it.each([
    ['base64 of text', () => Buffer.from('hello, world').toString('base64')],
    ['a truncated signature', () => Buffer.from(signMdmRequest(body, device), 'base64').subarray(0, 200).toString('base64')],
    ['a certificate instead of CMS', () => device.der.toString('base64')],
  ])('%s → MALFORMED_CMS', (_label, makeHeader) => {
    const header = makeHeader();
    expect(signatureError(() => verifyMdmSignature(header, body, { trustAnchors: [ca.certificate] })).code).toBe('MALFORMED_CMS');
  });

  it('answers arbitrary base64 with an MdmSignatureError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        try {
          verifyMdmSignature(Buffer.from(bytes).toString('base64'), body, { trustAnchors: [ca.certificate] });
        } catch (err) {
          return err instanceof MdmSignatureError && err.code === 'MALFORMED_CMS';
        }
        return false;
      }),
      { numRuns: 200 },
    );
  });

  it('treats an unreadable trust anchor as a configuration error, not a device verdict', () => {
    expect(() => verifyMdmSignature(signMdmRequest(body, device), body, { trustAnchors: ['not a PEM'] })).toThrow(RangeError);
  });

  describe('judged by OpenSSL', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'mockiron-mdm-signature-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('`openssl cms -verify` accepts the header as a detached signature over the body', () => {
      writeFileSync(join(dir, 'sig.der'), Buffer.from(signMdmRequest(body, device), 'base64'));
      writeFileSync(join(dir, 'body.plist'), body);
      writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
      const run = spawnSync(
        'openssl',
        [
          'cms',
          '-verify',
          '-binary',
          '-inform',
          'DER',
          '-in',
          join(dir, 'sig.der'),
          '-content',
          join(dir, 'body.plist'),
          '-CAfile',
          join(dir, 'ca.pem'),
          '-purpose',
          'any',
          '-out',
          join(dir, 'out'),
        ],
        { encoding: 'utf8' },
      );
      expect(run.stderr).toContain('Verification successful');
      expect(run.status).toBe(0);
    });
  });
});

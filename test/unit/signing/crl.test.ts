import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../src/signing/identity.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-crl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function opensslCrl(ca: CertificateAuthority, crl: Buffer, name: string) {
  writeFileSync(path.join(dir, `${name}-ca.pem`), ca.certificate.toString());
  writeFileSync(path.join(dir, `${name}.crl`), crl);
  return spawnSync(
    'openssl',
    ['crl', '-inform', 'DER', '-in', path.join(dir, `${name}.crl`), '-CAfile', path.join(dir, `${name}-ca.pem`), '-noout', '-text'],
    { encoding: 'utf8' },
  );
}

describe('CertificateAuthority.issueCrl', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    it(`signs a v2 CRL that openssl verifies (${keyType}), with the CRL number, the revoked serials and their dates`, () => {
      const ca = CertificateAuthority.create({ keyType });
      const revokedAt = new Date('2026-11-20T10:00:00Z');
      const crl = ca.issueCrl({
        revoked: [
          { serialNumberHex: '0A1B2C3D4E5F', revokedAt },
          { serialNumberHex: 'ABC', revokedAt },
        ],
        crlNumber: 42,
        validityHours: 12,
      });
      const out = opensslCrl(ca, crl, keyType);
      expect(out.stderr).toMatch(/verify OK/);
      expect(out.stdout).toMatch(/CRL Number:\s*\n\s*42/);
      expect(out.stdout).toMatch(/Serial Number: 0A1B2C3D4E5F/);
      expect(out.stdout).toMatch(/Serial Number: 0ABC/);
      expect(out.stdout).toMatch(/Revocation Date: Nov 20 10:00:00 2026 GMT/);
      expect(out.stdout).toMatch(/Version 2/);
    });
  }

  it('leaves the list out when nothing is revoked, and refuses a CRL that would expire before it starts', () => {
    const ca = CertificateAuthority.create();
    const out = opensslCrl(ca, ca.issueCrl({ revoked: [], crlNumber: 1 }), 'empty');
    expect(out.stderr).toMatch(/verify OK/);
    expect(out.stdout).toMatch(/No Revoked Certificates/);
    expect(() => ca.issueCrl({ revoked: [], crlNumber: 2, validityHours: 0 })).toThrow(RangeError);
  });

  it('names the CRL in issued certificates when asked, and refuses a URL that is not http(s)', async () => {
    const ca = CertificateAuthority.create();
    const { createPublicKey, generateKeyPairSync } = await import('node:crypto');
    const publicKey = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const issued = ca.issueCertificate({
      subject: { commonName: 'device' },
      publicKey,
      profile: 'device',
      crlUrl: 'https://mdm.example.com/api/v2/scep/crl',
    });
    writeFileSync(path.join(dir, 'device.pem'), issued.pem);
    const ext = spawnSync('openssl', ['x509', '-in', path.join(dir, 'device.pem'), '-noout', '-ext', 'crlDistributionPoints'], {
      encoding: 'utf8',
    }).stdout;
    expect(ext).toContain('URI:https://mdm.example.com/api/v2/scep/crl');
    expect(() => ca.issueCertificate({ subject: { commonName: 'd' }, publicKey, profile: 'device', crlUrl: 'ftp://x/crl' })).toThrow(
      RangeError,
    );
  });
});

import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleSigningIdentity,
  CertificateAuthority,
  createSigningIdentity,
  IdentityError,
  identityFromPem,
} from '../../../src/signing/identity.js';
import { run, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
beforeAll(() => {
  temp = tempDir();
});
afterAll(() => temp.cleanup());

function writeTemp(name: string, text: string): string {
  const path = join(temp.dir, name);
  writeFileSync(path, text);
  return path;
}

/** `openssl x509 -text` of a certificate, for checking extensions with an independent parser. */
function opensslText(cert: X509Certificate): string {
  const result = run('openssl', ['x509', '-noout', '-text', '-in', writeTemp(`${cert.serialNumber}.pem`, cert.toString())]);
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

/** `openssl verify` with a purpose; returns whether OpenSSL accepts the chain. */
function opensslVerify(ca: X509Certificate, leaf: X509Certificate, purpose?: string, untrusted?: X509Certificate): boolean {
  const args = ['verify', '-CAfile', writeTemp('ca.pem', ca.toString())];
  if (purpose) args.push('-purpose', purpose);
  if (untrusted) args.push('-untrusted', writeTemp('untrusted.pem', untrusted.toString()));
  args.push(writeTemp('leaf.pem', leaf.toString()));
  return run('openssl', args).status === 0;
}

describe('createSigningIdentity', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    it(`${keyType}: CA and signer with the expected keys and extensions, accepted by openssl verify`, () => {
      const { ca, identity } = createSigningIdentity({ keyType });
      expect(identity.trustAnchor).toBe(ca.certificate);
      expect(identity.chain).toEqual([]);
      expect(identity.certificate.checkIssued(ca.certificate)).toBe(true);
      expect(identity.certificate.checkPrivateKey(identity.privateKey)).toBe(true);
      if (keyType === 'rsa') {
        expect(identity.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      } else {
        expect(identity.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      }

      const caText = opensslText(ca.certificate);
      expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
      expect(caText).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(caText).toContain('X509v3 Subject Key Identifier');
      expect(caText).toContain(keyType === 'rsa' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256');

      const signerText = opensslText(identity.certificate);
      expect(signerText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(signerText).toMatch(/Key Usage: critical\s+Digital Signature\n/);
      expect(signerText).toMatch(/Extended Key Usage:\s+E-mail Protection, Code Signing/);
      expect(signerText).toContain('X509v3 Authority Key Identifier');

      expect(opensslVerify(ca.certificate, identity.certificate, 'any')).toBe(true);
      // emailProtection also satisfies OpenSSL's default S/MIME signing purpose
      expect(opensslVerify(ca.certificate, identity.certificate, 'smimesign')).toBe(true);
    });
  }
});

describe('CertificateAuthority.issueCertificate', () => {
  let ca: CertificateAuthority;
  beforeAll(() => {
    ca = CertificateAuthority.create({ keyType: 'ec', subject: { commonName: 'Device CA', organization: 'mockiron', country: 'US' } });
  });

  it('device certificates: client-auth EKU, accepted for sslclient and not for sslserver', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issued = ca.issueCertificate({ subject: { commonName: 'device-0001' }, publicKey, profile: 'device' });
    expect(issued.pem).toBe(issued.certificate.toString());
    expect(new X509Certificate(issued.der).fingerprint256).toBe(issued.certificate.fingerprint256);
    const text = opensslText(issued.certificate);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(opensslVerify(ca.certificate, issued.certificate, 'sslclient')).toBe(true);
    expect(opensslVerify(ca.certificate, issued.certificate, 'sslserver')).toBe(false);
  });

  it('TLS server certificates: SAN with DNS and IP entries, server-auth EKU, host names check out', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = ca.issueCertificate({
      subject: { commonName: 'mdm.example.test' },
      publicKey,
      profile: 'tls-server',
      sans: ['mdm.example.test', '*.devices.example.test', '127.0.0.1', '::1'],
    });
    const text = opensslText(issued.certificate);
    expect(text).toContain('DNS:mdm.example.test, DNS:*.devices.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/); // no keyEncipherment for EC
    expect(opensslVerify(ca.certificate, issued.certificate, 'sslserver')).toBe(true);
    expect(issued.certificate.checkHost('mdm.example.test')).toBe('mdm.example.test');
    expect(issued.certificate.checkHost('a.devices.example.test')).toBe('*.devices.example.test');
    expect(issued.certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(issued.certificate.checkHost('other.example.test')).toBeUndefined();
    // Default validity stays under Apple's 398-day limit for TLS server certificates
    const days = (Date.parse(issued.certificate.validTo) - Date.parse(issued.certificate.validFrom)) / 86_400_000;
    expect(days).toBeLessThanOrEqual(398);
  });

  it('TLS server certificates default their SAN to the common name', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = ca.issueCertificate({ subject: { commonName: 'localhost' }, publicKey, profile: 'tls-server' });
    expect(issued.certificate.subjectAltName).toBe('DNS:localhost');
  });

  it('serial numbers are random, positive and unique', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const serials = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const issued = ca.issueCertificate({ subject: { commonName: `d${i}` }, publicKey, profile: 'device', validityDays: 1 });
      expect(issued.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      serials.add(issued.serialNumber);
    }
    expect(serials.size).toBe(50);
  });

  it('intermediate CAs issue signers that chain to the root', () => {
    const intermediate = ca.issueKeyAndCertificate({ keyType: 'rsa', profile: 'intermediate-ca', subject: { commonName: 'Issuing CA' } });
    expect(intermediate.certificate.ca).toBe(true);
    const issuing = new CertificateAuthority(intermediate.certificate, intermediate.privateKey);
    const signer = issuing.issueKeyAndCertificate({ keyType: 'ec', profile: 'signer', subject: { commonName: 'Signer' } });
    expect(opensslVerify(ca.certificate, signer.certificate, 'any', intermediate.certificate)).toBe(true);
  });

  it('honours explicit validity dates (for expired test certificates)', () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2021-01-01T00:00:00Z');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = ca.issueCertificate({ subject: { commonName: 'old' }, publicKey, profile: 'signer', notBefore, notAfter });
    expect(new Date(issued.certificate.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(issued.certificate.validTo).toISOString()).toBe(notAfter.toISOString());
  });

  it('refuses private keys where a public key belongs, and mismatched CA keys', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => ca.issueCertificate({ subject: { commonName: 'x' }, publicKey: privateKey, profile: 'device' })).toThrow(IdentityError);
    expect(() => new CertificateAuthority(ca.certificate, privateKey)).toThrow(/does not match/);
  });

  it('does not expose the CA private key through enumeration or JSON', () => {
    expect(JSON.stringify(ca)).not.toContain('PRIVATE');
    expect(
      Object.values(ca).some(
        (v) => typeof v === 'object' && v !== null && 'asymmetricKeyType' in v && (v as { type: string }).type === 'private',
      ),
    ).toBe(false);
  });
});

describe('assembleSigningIdentity / identityFromPem', () => {
  const root = CertificateAuthority.create({ keyType: 'ec', subject: { commonName: 'Root' } });
  const intermediate = root.issueKeyAndCertificate({ keyType: 'ec', profile: 'intermediate-ca', subject: { commonName: 'Intermediate' } });
  const signer = new CertificateAuthority(intermediate.certificate, intermediate.privateKey).issueKeyAndCertificate({
    keyType: 'rsa',
    profile: 'signer',
    subject: { commonName: 'Signer' },
  });
  const keyPem = signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('orders the chain from the signer up, whatever the input order; the top becomes the anchor', () => {
    const identity = identityFromPem({ keyPem, certPem: signer.pem, chainPem: root.certificatePem + intermediate.pem });
    expect(identity.chain.map((c) => c.subject)).toEqual(['CN=Intermediate']);
    expect(identity.trustAnchor.subject).toBe('CN=Root');
  });

  it('rejects a key that does not match the certificate', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => assembleSigningIdentity(other, signer.certificate, [intermediate.certificate, root.certificate])).toThrow(
      /does not match the certificate/,
    );
  });

  it('rejects a chain that does not link', () => {
    const stranger = CertificateAuthority.create({ keyType: 'ec', subject: { commonName: 'Stranger' } });
    expect(() => identityFromPem({ keyPem, certPem: signer.pem, chainPem: stranger.certificatePem })).toThrow(/does not link/);
    expect(() => identityFromPem({ keyPem, certPem: signer.pem, chainPem: root.certificatePem })).toThrow(/does not link/);
  });

  it('needs a chain unless the certificate is self-signed', () => {
    expect(() => identityFromPem({ keyPem, certPem: signer.pem })).toThrow(/not self-signed/);
    const selfSigned = CertificateAuthority.create({ keyType: 'rsa', subject: { commonName: 'Self' } });
    const selfKeyPem = selfSigned.exportPrivateKeyPem();
    const identity = identityFromPem({ keyPem: selfKeyPem, certPem: selfSigned.certificatePem });
    expect(identity.trustAnchor.fingerprint256).toBe(selfSigned.certificate.fingerprint256);
  });

  it('reports unreadable input clearly', () => {
    expect(() => identityFromPem({ keyPem: 'nonsense', certPem: signer.pem })).toThrow(/cannot read the private key/);
    expect(() => identityFromPem({ keyPem, certPem: 'nonsense' })).toThrow(/no PEM certificate/);
    expect(() => identityFromPem({ keyPem, certPem: signer.pem, chainPem: 'garbage' })).toThrow(/chain file contains no PEM/);
  });
});

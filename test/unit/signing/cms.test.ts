import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmsVerifyError, signCms, verifyCms, type CmsVerifyErrorCode } from '../../../src/lib/pki/cms.js';
import { der } from '../../../src/lib/pki/der.js';
import { CertificateAuthority, createSigningIdentity, type SigningIdentity } from '../../../src/signing/identity.js';
import { OID } from '../../../src/lib/pki/oids.js';
import { fixture, ISRG_ROOT_X1, opensslCmsVerify, run, samplePlist, tempDir } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

function verifyError(fn: () => unknown): CmsVerifyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CmsVerifyError) return err;
    throw new Error(`expected a CmsVerifyError, got ${String(err)}`);
  }
  throw new Error('expected verification to fail, but it succeeded');
}

function expectCode(fn: () => unknown, code: CmsVerifyErrorCode): CmsVerifyError {
  const err = verifyError(fn);
  expect(err.code, err.message).toBe(code);
  return err;
}

/** Flips one byte of the first occurrence of `needle` (which must occur in the buffer). */
function tamper(buffer: Buffer, needle: string): Buffer {
  const copy = Buffer.from(buffer);
  const at = copy.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

let temp: ReturnType<typeof tempDir>;
const identities: Record<'rsa' | 'ec', { ca: CertificateAuthority; identity: SigningIdentity }> = {} as never;

beforeAll(() => {
  temp = tempDir();
  identities.rsa = createSigningIdentity({ keyType: 'rsa' });
  identities.ec = createSigningIdentity({ keyType: 'ec' });
});
afterAll(() => temp.cleanup());

describe('signCms, judged by openssl cms -verify', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    it(`${keyType}: attached signature verifies and returns the exact content`, () => {
      const { ca, identity } = identities[keyType];
      const content = samplePlist(keyType);
      const signed = signCms(content, identity);
      const judged = opensslCmsVerify(temp.dir, signed, ca.certificatePem);
      expect(judged.ok, judged.stderr).toBe(true);
      expect(judged.content!.equals(content)).toBe(true);

      const ours = verifyCms(signed, { trustAnchors: [ca.certificate] });
      expect(ours.content.equals(content)).toBe(true);
      expect(ours.trusted).toBe(true);
      expect(ours.detached).toBe(false);
      expect(ours.signatureAlgorithm).toBe(keyType === 'rsa' ? 'rsa-pkcs1-sha256' : 'ecdsa-sha256');
      expect(ours.signer.fingerprintSha256).toBe(identity.certificate.fingerprint256);
      expect(ours.chain.map((c) => c.fingerprintSha256)).toEqual([identity.certificate.fingerprint256, ca.certificate.fingerprint256]);
    });

    it(`${keyType}: detached signature verifies with -content, and only with the right content`, () => {
      const { ca, identity } = identities[keyType];
      const body = Buffer.from('{"MessageType":"Authenticate","UDID":"0000"}');
      const signed = signCms(body, identity, { detached: true });
      expect(signed.includes(body)).toBe(false);

      const judged = opensslCmsVerify(temp.dir, signed, ca.certificatePem, { detachedContent: body });
      expect(judged.ok, judged.stderr).toBe(true);
      const judgedWrong = opensslCmsVerify(temp.dir, signed, ca.certificatePem, { detachedContent: Buffer.from('{}') });
      expect(judgedWrong.ok).toBe(false);

      const ours = verifyCms(signed, { trustAnchors: [ca.certificatePem], detachedContent: body });
      expect(ours.detached).toBe(true);
      expect(ours.content.equals(body)).toBe(true);
      expectCode(
        () => verifyCms(signed, { trustAnchors: [ca.certificatePem], detachedContent: Buffer.from('{}') }),
        'CONTENT_DIGEST_MISMATCH',
      );
      expectCode(() => verifyCms(signed, { trustAnchors: [ca.certificatePem] }), 'DETACHED_CONTENT_REQUIRED');
    });

    it(`${keyType}: sha384 and sha512 digests verify with openssl`, () => {
      const { ca, identity } = identities[keyType];
      for (const digest of ['sha384', 'sha512'] as const) {
        const signed = signCms(samplePlist(), identity, { digest });
        expect(opensslCmsVerify(temp.dir, signed, ca.certificatePem).ok).toBe(true);
        expect(verifyCms(signed, { trustAnchors: [ca.certificate] }).digestAlgorithm).toBe(digest);
      }
    });
  }

  it('embeds intermediates so openssl builds signer -> intermediate -> root from the root alone', () => {
    const root = CertificateAuthority.create({ keyType: 'ec', subject: { commonName: 'Test Root' } });
    const intermediate = root.issueKeyAndCertificate({
      keyType: 'rsa',
      profile: 'intermediate-ca',
      subject: { commonName: 'Test Intermediate' },
    });
    const issuing = new CertificateAuthority(intermediate.certificate, intermediate.privateKey);
    const signer = issuing.issueKeyAndCertificate({ keyType: 'rsa', profile: 'signer', subject: { commonName: 'Test Signer' } });
    const identity: SigningIdentity = {
      privateKey: signer.privateKey,
      certificate: signer.certificate,
      chain: [intermediate.certificate],
      trustAnchor: root.certificate,
    };
    const signed = signCms(samplePlist(), identity);
    expect(opensslCmsVerify(temp.dir, signed, root.certificatePem).ok).toBe(true);
    const ours = verifyCms(signed, { trustAnchors: [root.certificate] });
    expect(ours.chain.map((c) => c.subject)).toEqual(['CN=Test Signer', 'CN=Test Intermediate', 'CN=Test Root']);
    expect(ours.trustAnchor?.subject).toBe('CN=Test Root');
  });

  it('writes signingTime, contentType and messageDigest as signed attributes', () => {
    const signingTime = new Date('2030-01-02T03:04:05.678Z');
    const signed = signCms(samplePlist(), identities.ec.identity, { signingTime });
    const result = verifyCms(signed, { trustAnchors: [identities.ec.ca.certificate] });
    expect(result.signedAttributes).toBe(true);
    expect(result.signingTime?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    const printed = run('openssl', ['cms', '-cmsout', '-inform', 'DER', '-print', '-noout', '-in', writeTemp(signed)]);
    expect(printed.stdout).toContain('contentType');
    expect(printed.stdout).toContain('messageDigest');
    expect(printed.stdout).toContain('signingTime');
  });

  it('verifies a profile handed over as a plain Uint8Array (plist data, fetch bodies), times included', () => {
    const signingTime = new Date('2026-12-02T16:29:36Z');
    const signed = signCms(samplePlist(), identities.ec.identity, { signingTime });
    const copy = new Uint8Array(signed.length + 8).subarray(4, 4 + signed.length);
    copy.set(signed);
    const result = verifyCms(copy as Buffer, { trustAnchors: [identities.ec.ca.certificate] });
    expect(result.signingTime?.toISOString()).toBe('2026-12-02T16:29:36.000Z');
    expect(result.content.equals(samplePlist())).toBe(true);
  });
});

function writeTemp(bytes: Buffer): string {
  const path = join(temp.dir, `${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(path, bytes);
  return path;
}

describe('verifyCms on third-party profiles', () => {
  const profiles = ['adguard-default-https', 'cloudflare-default-https', 'quad9-default-tls'];
  // The Let's Encrypt signer was valid 2026-02-27 .. 2026-05-28
  const whileValid = new Date('2026-04-01T00:00:00Z');

  for (const name of profiles) {
    it(`encrypted-dns ${name}: ECDSA signature, chain to ISRG Root X1, content identical to the unsigned file`, () => {
      const result = verifyCms(fixture(`encrypted-dns/${name}.signed.mobileconfig`), { trustAnchors: [ISRG_ROOT_X1], at: whileValid });
      expect(result.signatureValid).toBe(true);
      expect(result.trusted).toBe(true);
      expect(result.signatureAlgorithm).toBe('ecdsa-sha256');
      expect(result.signer.subject).toBe('CN=encrypted-dns.brunch.io');
      expect(result.chain.map((c) => c.subject)).toEqual([
        'CN=encrypted-dns.brunch.io',
        "C=US, O=Let's Encrypt, CN=E8",
        'C=US, O=Internet Security Research Group, CN=ISRG Root X1',
      ]);
      expect(result.content.equals(fixture(`encrypted-dns/${name}.mobileconfig`))).toBe(true);
    });
  }

  it('encrypted-dns without anchors: signature reported valid, trust not established', () => {
    const result = verifyCms(fixture('encrypted-dns/quad9-default-tls.signed.mobileconfig'), { at: whileValid });
    expect(result.signatureValid).toBe(true);
    expect(result.trusted).toBe(false);
    expect(result.trustAnchor).toBeUndefined();
    // The chain is still built as far as the embedded certificates go
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=encrypted-dns.brunch.io', "C=US, O=Let's Encrypt, CN=E8"]);
  });

  it('encrypted-dns today: the signer has expired', () => {
    const err = expectCode(
      () =>
        verifyCms(fixture('encrypted-dns/quad9-default-tls.signed.mobileconfig'), {
          trustAnchors: [ISRG_ROOT_X1],
          at: new Date('2026-06-01'),
        }),
      'SIGNER_EXPIRED',
    );
    expect(err.message).toContain('expired on 2026-05-28');
  });

  it('encrypted-dns with a tampered payload: content digest mismatch', () => {
    const tampered = tamper(fixture('encrypted-dns/quad9-default-tls.signed.mobileconfig'), 'PayloadDisplayName');
    expectCode(() => verifyCms(tampered, { trustAnchors: [ISRG_ROOT_X1], at: whileValid }), 'CONTENT_DIGEST_MISMATCH');
  });

  it('encrypted-dns against a wrong anchor: untrusted chain', () => {
    const err = expectCode(
      () =>
        verifyCms(fixture('encrypted-dns/quad9-default-tls.signed.mobileconfig'), {
          trustAnchors: [identities.rsa.ca.certificate],
          at: whileValid,
        }),
      'UNTRUSTED_CHAIN',
    );
    expect(err.message).toContain('CN=E8');
  });

  it('mobileconfig npm signed-string.der: RSA with its self-signed certificate as anchor', () => {
    const cert = readFileSync(join(fixtureDir(), 'mobileconfig-npm/cert.pem'), 'utf8');
    const result = verifyCms(fixture('mobileconfig-npm/signed-string.der'), { trustAnchors: [cert], at: new Date('2020-01-01') });
    expect(result.trusted).toBe(true);
    expect(result.signatureAlgorithm).toBe('rsa-pkcs1-sha256');
    expect(result.content.toString('utf8')).toBe('Hello ŠŽ 👻');
    expect(result.chain).toHaveLength(1);
    expectCode(() => verifyCms(fixture('mobileconfig-npm/signed-string.der'), { trustAnchors: [cert] }), 'SIGNER_EXPIRED');
    expectCode(
      () => verifyCms(fixture('mobileconfig-npm/signed-string.der'), { trustAnchors: [cert], at: new Date('2013-08-01') }),
      'SIGNER_NOT_YET_VALID',
    );
    expectCode(
      () => verifyCms(tamper(fixture('mobileconfig-npm/signed-string.der'), 'Hello'), { trustAnchors: [cert], at: new Date('2020-01-01') }),
      'CONTENT_DIGEST_MISMATCH',
    );
    expectCode(
      () => verifyCms(fixture('mobileconfig-npm/signed-string.der'), { trustAnchors: [ISRG_ROOT_X1], at: new Date('2020-01-01') }),
      'UNTRUSTED_CHAIN',
    );
  });
});

function fixtureDir(): string {
  return new URL('../../fixtures/signed-profiles/', import.meta.url).pathname;
}

describe('verifyCms failure codes on our own signatures', () => {
  it('tampered content: CONTENT_DIGEST_MISMATCH, and openssl rejects it too', () => {
    const { ca, identity } = identities.rsa;
    const tampered = tamper(signCms(samplePlist('Tamper me'), identity), 'Tamper me');
    expectCode(() => verifyCms(tampered, { trustAnchors: [ca.certificate] }), 'CONTENT_DIGEST_MISMATCH');
    expect(opensslCmsVerify(temp.dir, tampered, ca.certificatePem).ok).toBe(false);
  });

  for (const keyType of ['rsa', 'ec'] as const) {
    it(`${keyType}: altered signed attributes or signature bytes: BAD_SIGNATURE`, () => {
      const { ca, identity } = identities[keyType];
      const signingTime = new Date('2031-05-06T07:08:09Z');
      const signed = signCms(samplePlist(), identity, { signingTime });
      // signingTime is covered by the signature but not by the content digest
      const alteredTime = tamper(signed, '310506070809Z');
      expectCode(() => verifyCms(alteredTime, { trustAnchors: [ca.certificate] }), 'BAD_SIGNATURE');
      expect(opensslCmsVerify(temp.dir, alteredTime, ca.certificatePem).ok).toBe(false);
      // The signature OCTET STRING is the last element of the structure
      const alteredSignature = Buffer.from(signed);
      alteredSignature[alteredSignature.length - 3]! ^= 0x10;
      expectCode(() => verifyCms(alteredSignature, { trustAnchors: [ca.certificate] }), 'BAD_SIGNATURE');
    });
  }

  it('wrong trust anchor: UNTRUSTED_CHAIN, and openssl rejects it too', () => {
    const signed = signCms(samplePlist(), identities.rsa.identity);
    expectCode(() => verifyCms(signed, { trustAnchors: [identities.ec.ca.certificate] }), 'UNTRUSTED_CHAIN');
    expect(opensslCmsVerify(temp.dir, signed, identities.ec.ca.certificatePem).ok).toBe(false);
  });

  it('a signer certificate whose validity ended: SIGNER_EXPIRED; openssl agrees', () => {
    const { ca } = identities.ec;
    const expired = ca.issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'signer',
      subject: { commonName: 'Expired Signer' },
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 30 * DAY),
    });
    const identity: SigningIdentity = { ...expired, chain: [], trustAnchor: ca.certificate };
    const signed = signCms(samplePlist(), identity);
    const err = expectCode(() => verifyCms(signed, { trustAnchors: [ca.certificate] }), 'SIGNER_EXPIRED');
    expect(err.message).toContain('CN=Expired Signer');
    const judged = opensslCmsVerify(temp.dir, signed, ca.certificatePem);
    expect(judged.ok).toBe(false);
    expect(judged.stderr).toMatch(/expired/i);
    // The message says when, so an operator can tell expiry from clock trouble
    expect(err.message).toMatch(/expired on \d{4}-\d\d-\d\d/);
  });

  it('a signer certificate not valid yet: SIGNER_NOT_YET_VALID', () => {
    const { ca } = identities.ec;
    const future = ca.issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'signer',
      subject: { commonName: 'Future Signer' },
      notBefore: new Date(Date.now() + 10 * DAY),
      validityDays: 30,
    });
    const signed = signCms(samplePlist(), { ...future, chain: [] });
    expectCode(() => verifyCms(signed, { trustAnchors: [ca.certificate] }), 'SIGNER_NOT_YET_VALID');
  });

  it('an expired intermediate: CHAIN_CERTIFICATE_EXPIRED', () => {
    const root = CertificateAuthority.create({ keyType: 'ec' });
    const intermediate = root.issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'intermediate-ca',
      subject: { commonName: 'Old Intermediate' },
      notBefore: new Date(Date.now() - 100 * DAY),
      notAfter: new Date(Date.now() - DAY),
    });
    const signer = new CertificateAuthority(intermediate.certificate, intermediate.privateKey).issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'signer',
      subject: { commonName: 'Signer' },
    });
    const signed = signCms(samplePlist(), { ...signer, chain: [intermediate.certificate] });
    expectCode(() => verifyCms(signed, { trustAnchors: [root.certificate] }), 'CHAIN_CERTIFICATE_EXPIRED');
  });

  it('truncated or garbage DER: MALFORMED', () => {
    const signed = signCms(samplePlist(), identities.ec.identity);
    for (const length of [0, 1, 10, signed.length >> 1, signed.length - 1]) {
      expectCode(() => verifyCms(signed.subarray(0, length)), 'MALFORMED');
    }
    expectCode(() => verifyCms(Buffer.from('<?xml version="1.0"?><plist/>')), 'MALFORMED');
    expectCode(() => verifyCms(Buffer.concat([signed, Buffer.from([0])])), 'MALFORMED');
  });

  it('ContentInfo that is not signedData: NOT_SIGNED_DATA', () => {
    const envelope = der.sequence(der.oid(OID.data), der.explicit(0, der.octetString(Buffer.from('x'))));
    expectCode(() => verifyCms(envelope), 'NOT_SIGNED_DATA');
  });

  it('SignedData with no SignerInfo: NO_SIGNERS', () => {
    const signedData = der.sequence(
      der.smallInteger(1),
      der.setOf(),
      der.sequence(der.oid(OID.data), der.explicit(0, der.octetString(Buffer.from('unsigned')))),
      der.setOf(),
    );
    expectCode(() => verifyCms(der.sequence(der.oid(OID.signedData), der.explicit(0, signedData))), 'NO_SIGNERS');
  });

  it('unknown signature algorithm: UNSUPPORTED_ALGORITHM', () => {
    const signed = signCms(samplePlist(), identities.ec.identity);
    const ecdsaSha256 = der.oid(OID.ecdsaWithSHA256);
    const at = signed.lastIndexOf(ecdsaSha256); // the SignerInfo's, after the certificates'
    const altered = Buffer.from(signed);
    altered[at + ecdsaSha256.length - 1] = 0x09; // 1.2.840.10045.4.3.9: unassigned
    expectCode(() => verifyCms(altered, { trustAnchors: [identities.ec.ca.certificate] }), 'UNSUPPORTED_ALGORITHM');
  });

  it('the signer certificate left out: SIGNER_CERTIFICATE_MISSING', () => {
    const { identity } = identities.ec;
    // openssl -nocerts leaves every certificate out of the structure
    const signerPath = writeTemp(Buffer.from(identity.certificate.toString()));
    const keyPath = writeTemp(Buffer.from(identity.privateKey.export({ type: 'pkcs8', format: 'pem' })));
    const contentPath = writeTemp(samplePlist());
    const out = join(temp.dir, 'nocerts.p7m');
    const made = run('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-nodetach',
      '-nocerts',
      '-outform',
      'DER',
      '-in',
      contentPath,
      '-signer',
      signerPath,
      '-inkey',
      keyPath,
      '-out',
      out,
    ]);
    expect(made.status, made.stderr).toBe(0);
    expectCode(() => verifyCms(readFileSync(out)), 'SIGNER_CERTIFICATE_MISSING');
  });

  it('supplied detached content that differs from embedded content is refused', () => {
    const signed = signCms(Buffer.from('embedded'), identities.ec.identity);
    expectCode(() => verifyCms(signed, { detachedContent: Buffer.from('other') }), 'CONTENT_DIGEST_MISMATCH');
    expect(verifyCms(signed, { detachedContent: Buffer.from('embedded') }).content.toString()).toBe('embedded');
  });

  it('any truncation or single-byte change either fails with a CmsVerifyError or yields the original content', () => {
    const { ca, identity } = identities.ec;
    const content = samplePlist('fuzz');
    const signed = signCms(content, identity);
    fc.assert(
      fc.property(fc.nat(signed.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (position, xor, truncate) => {
        const mutated = truncate ? signed.subarray(0, position) : Buffer.from(signed);
        if (!truncate) mutated[position]! ^= xor;
        try {
          const result = verifyCms(mutated, { trustAnchors: [ca.certificate] });
          expect(result.content.equals(content)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(CmsVerifyError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifyCms on OpenSSL-made signatures (algorithms and encodings we do not emit)', () => {
  let rsaCa: CertificateAuthority;
  let paths: Record<string, string>;

  beforeAll(() => {
    rsaCa = identities.rsa.ca;
    const rsa = identities.rsa.identity;
    const ec = identities.ec.identity;
    paths = {
      content: writeTemp(samplePlist('openssl')),
      rsaCert: writeTemp(Buffer.from(rsa.certificate.toString())),
      rsaKey: writeTemp(Buffer.from(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }))),
      ecCert: writeTemp(Buffer.from(ec.certificate.toString())),
      ecKey: writeTemp(Buffer.from(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }))),
    };
  });

  function opensslSign(keyType: 'rsa' | 'ec', extra: string[]): Buffer {
    const out = join(temp.dir, `openssl-${Math.random().toString(36).slice(2)}.p7m`);
    const args = ['cms', '-sign', '-binary', '-outform', 'DER', '-in', paths.content!, '-out', out];
    args.push('-signer', keyType === 'rsa' ? paths.rsaCert! : paths.ecCert!, '-inkey', keyType === 'rsa' ? paths.rsaKey! : paths.ecKey!);
    const made = run('openssl', [...args, ...extra]);
    expect(made.status, made.stderr).toBe(0);
    return readFileSync(out);
  }

  const cases: { name: string; keyType: 'rsa' | 'ec'; args: string[]; algorithm: string; signedAttributes: boolean }[] = [
    {
      name: 'RSA PKCS#1 v1.5 SHA-1',
      keyType: 'rsa',
      args: ['-nodetach', '-md', 'sha1'],
      algorithm: 'rsa-pkcs1-sha1',
      signedAttributes: true,
    },
    {
      name: 'RSA PKCS#1 v1.5 SHA-512',
      keyType: 'rsa',
      args: ['-nodetach', '-md', 'sha512'],
      algorithm: 'rsa-pkcs1-sha512',
      signedAttributes: true,
    },
    {
      name: 'RSA-PSS SHA-256',
      keyType: 'rsa',
      args: ['-nodetach', '-keyopt', 'rsa_padding_mode:pss'],
      algorithm: 'rsa-pss-sha256',
      signedAttributes: true,
    },
    {
      name: 'RSA-PSS SHA-384',
      keyType: 'rsa',
      args: ['-nodetach', '-md', 'sha384', '-keyopt', 'rsa_padding_mode:pss'],
      algorithm: 'rsa-pss-sha384',
      signedAttributes: true,
    },
    {
      name: 'RSA without signed attributes',
      keyType: 'rsa',
      args: ['-nodetach', '-noattr'],
      algorithm: 'rsa-pkcs1-sha256',
      signedAttributes: false,
    },
    { name: 'ECDSA SHA-1', keyType: 'ec', args: ['-nodetach', '-md', 'sha1'], algorithm: 'ecdsa-sha1', signedAttributes: true },
    { name: 'ECDSA SHA-384', keyType: 'ec', args: ['-nodetach', '-md', 'sha384'], algorithm: 'ecdsa-sha384', signedAttributes: true },
    { name: 'ECDSA SHA-512', keyType: 'ec', args: ['-nodetach', '-md', 'sha512'], algorithm: 'ecdsa-sha512', signedAttributes: true },
    {
      name: 'ECDSA without signed attributes',
      keyType: 'ec',
      args: ['-nodetach', '-noattr'],
      algorithm: 'ecdsa-sha256',
      signedAttributes: false,
    },
    {
      name: 'BER indefinite-length (streamed) RSA',
      keyType: 'rsa',
      args: ['-nodetach', '-stream'],
      algorithm: 'rsa-pkcs1-sha256',
      signedAttributes: true,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => {
      const signed = opensslSign(testCase.keyType, testCase.args);
      const anchor = testCase.keyType === 'rsa' ? rsaCa.certificate : identities.ec.ca.certificate;
      const result = verifyCms(signed, { trustAnchors: [anchor] });
      expect(result.signatureAlgorithm).toBe(testCase.algorithm);
      expect(result.signedAttributes).toBe(testCase.signedAttributes);
      expect(result.content.equals(samplePlist('openssl'))).toBe(true);
      // Tampering is caught; without signed attributes it surfaces as a bad signature
      const tampered = tamper(signed, 'openssl');
      expectCode(
        () => verifyCms(tampered, { trustAnchors: [anchor] }),
        testCase.signedAttributes ? 'CONTENT_DIGEST_MISMATCH' : 'BAD_SIGNATURE',
      );
    });
  }

  it('a detached openssl signature verifies with the content supplied', () => {
    const signed = opensslSign('ec', []); // detached is openssl's default
    const result = verifyCms(signed, { trustAnchors: [identities.ec.ca.certificate], detachedContent: samplePlist('openssl') });
    expect(result.detached).toBe(true);
  });

  it('accepts trust anchors as PEM strings and X509Certificate objects alike', () => {
    const signed = signCms(Buffer.from('x'), identities.rsa.identity);
    expect(verifyCms(signed, { trustAnchors: [rsaCa.certificatePem] }).trusted).toBe(true);
    expect(verifyCms(signed, { trustAnchors: [new X509Certificate(rsaCa.certificatePem)] }).trusted).toBe(true);
  });
});

// The one CMS SignedData and EnvelopedData codec (src/lib/pki) judged by OpenSSL: what we build,
// `openssl cms` and `openssl smime` accept; what they build (RSA, RSA-PSS, ECDSA, with and
// without signed attributes), we read and verify; real signed profiles read and verify too.
import { spawnSync } from 'node:child_process';
import { randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOctetString, readOid, readTime } from '../../../src/lib/pki/der.js';
import { buildEnvelopedData, openEnvelopedData } from '../../../src/lib/pki/enveloped-data.js';
import { OID } from '../../../src/lib/pki/oids.js';
import {
  buildSignedData,
  certsOnlySignedData,
  digestHash,
  findSignerCertificate,
  parseSignedData,
  readSignedAttributes,
  readSignerInfo,
  signatureScheme,
  SignedDataError,
  signedAttribute,
  verifySignerSignature,
  type SignedDataMessage,
} from '../../../src/lib/pki/signed-data.js';
import { derToPem } from '../../../src/lib/pki/x509.js';
import { der } from '../../../src/lib/pki/der.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';

const FIXTURES = new URL('../../fixtures/signed-profiles/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

let dir: string;
let ca: CertificateAuthority;
let rsaSigner: { privateKey: KeyObject; certificate: X509Certificate };
let ecSigner: { privateKey: KeyObject; certificate: X509Certificate };

const file = (name: string, data?: Buffer | string) => {
  const p = join(dir, name);
  if (data !== undefined) writeFileSync(p, data);
  return p;
};
const keyPem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

function openssl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(args: string[]): string {
  const result = openssl(args);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** Every signer of a parsed SignedData checked with the codec alone (no chain): the signing times. */
function verifyAll(message: SignedDataMessage, content = message.content!) {
  return message.signerInfoNodes.map((node) => {
    const signerInfo = readSignerInfo(node);
    const certificate = findSignerCertificate(signerInfo.sid, message.certificates);
    expect(certificate, 'signer certificate embedded').toBeDefined();
    const digest = digestHash(signerInfo.digestAlgorithm);
    const scheme = signatureScheme(signerInfo.signatureAlgorithm, digest);
    const { signingTime } = verifySignerSignature({
      signerInfo,
      digest,
      scheme,
      eContentType: message.eContentType,
      content,
      publicKey: certificate!.publicKey,
      readSigningTime: true,
    });
    return { scheme: scheme.name, signingTime, certificate: certificate!, signedAttributes: signerInfo.signedAttributes !== undefined };
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignedDataError) return err.code;
    throw err;
  }
  return undefined;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mockiron-pki-codec-'));
  ca = CertificateAuthority.create({ subject: { commonName: 'codec test CA', organization: 'mockiron' } });
  rsaSigner = ca.issueKeyAndCertificate({ subject: { commonName: 'rsa signer' }, profile: 'device' });
  ecSigner = ca.issueKeyAndCertificate({ subject: { commonName: 'ec signer' }, profile: 'device', keyType: 'ec' });
  file('ca.pem', derToPem(ca.certificate.raw));
  for (const [name, signer] of [
    ['rsa', rsaSigner],
    ['ec', ecSigner],
  ] as const) {
    file(`${name}.pem`, derToPem(signer.certificate.raw));
    file(`${name}.key`, keyPem(signer.privateKey));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildSignedData, judged by openssl cms -verify', () => {
  it.each(['rsa', 'ec'] as const)('%s: attached content verifies against the CA and comes out byte for byte', (kind) => {
    const signer = kind === 'rsa' ? rsaSigner : ecSigner;
    const content = randomBytes(3000);
    const signed = buildSignedData(content, { ...signer, chain: [ca.certificate] }, { digest: 'sha384' });
    const out = file(`${kind}.out`);
    ok([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      file(`${kind}.p7m`, signed),
      '-CAfile',
      file('ca.pem'),
      '-purpose',
      'any',
      '-out',
      out,
    ]);
    expect(readFileSync(out).equals(content)).toBe(true);
    // And openssl reads the digest we chose and the certificates we embedded
    const printed = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file(`${kind}.p7m`)]);
    expect(printed).toContain('sha384');
    expect(printed).toContain('codec test CA');
  });

  it('a detached signature verifies with the content supplied, and not with other content', () => {
    const content = Buffer.from('the body of an MDM request');
    const signed = buildSignedData(content, rsaSigner, { detached: true });
    expect(parseSignedData(signed).content).toBeUndefined();
    const args = [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      file('detached.p7s', signed),
      '-CAfile',
      file('ca.pem'),
      '-purpose',
      'any',
    ];
    expect(openssl([...args, '-content', file('detached.txt', content), '-out', file('detached.out')]).status).toBe(0);
    expect(openssl([...args, '-content', file('other.txt', 'another body'), '-out', file('other.out')]).status).not.toBe(0);
  });

  it('extra signed attributes (as SCEP adds) are signed and read back', () => {
    const nonce = randomBytes(16);
    const signed = buildSignedData(Buffer.from('x'), rsaSigner, {
      extraSignedAttributes: [signedAttribute(OID.scepSenderNonce, der.octetString(nonce))],
      signingTime: new Date('2026-01-02T03:04:05.678Z'),
    });
    ok([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      file('extra.p7m', signed),
      '-CAfile',
      file('ca.pem'),
      '-purpose',
      'any',
      '-out',
      file('x'),
    ]);
    const message = parseSignedData(signed);
    const signerInfo = readSignerInfo(message.signerInfoNodes[0]!);
    const attributes = readSignedAttributes(signerInfo.signedAttributes!);
    // DER sorts a SET OF by encoding, so only the members are compared
    expect(new Set(attributes.keys())).toEqual(new Set([OID.contentType, OID.signingTime, OID.messageDigest, OID.scepSenderNonce]));
    expect(readOctetString(attributes.get(OID.scepSenderNonce)![0]!).equals(nonce)).toBe(true);
    expect(readTime(attributes.get(OID.signingTime)![0]!).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(readOid(attributes.get(OID.contentType)![0]!)).toBe(OID.data);
    expect(verifyAll(message)[0]!.signingTime?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
  });

  it('openssl smime reads it too (PKCS#7 view of the same structure)', () => {
    const content = Buffer.from('smime content');
    const signed = buildSignedData(content, ecSigner);
    const out = file('smime.out');
    ok([
      'smime',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      file('smime.p7m', signed),
      '-CAfile',
      file('ca.pem'),
      '-purpose',
      'any',
      '-out',
      out,
    ]);
    expect(readFileSync(out).equals(content)).toBe(true);
  });

  it('a certificates-only SignedData lists its certificates in order for openssl pkcs7', () => {
    const certsOnly = certsOnlySignedData([ca.certificate.raw, rsaSigner.certificate.raw]);
    const printed = ok(['pkcs7', '-inform', 'DER', '-in', file('certs.p7b', certsOnly), '-print_certs', '-noout']);
    expect(printed.indexOf('CN = codec test CA')).toBeLessThan(printed.indexOf('CN = rsa signer'));
    const parsed = parseSignedData(certsOnly);
    expect(parsed.certificates.map((c) => c.raw.equals(ca.certificate.raw) || c.raw.equals(rsaSigner.certificate.raw))).toEqual([
      true,
      true,
    ]);
    expect(parsed.signerInfoNodes).toEqual([]);
    expect(() => certsOnlySignedData([])).toThrow(RangeError);
  });
});

describe('parse and verify what OpenSSL signs', () => {
  const content = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict/></plist>\n');

  // [name, command, options after -signer/-inkey (-keyopt applies to the signer before it), key, scheme, signed attributes]
  const cases: Array<[string, string[], string[], string, string, boolean]> = [
    ['cms, RSA, SHA-256', ['cms', '-sign', '-md', 'sha256'], [], 'rsa', 'rsa-pkcs1-sha256', true],
    ['cms, RSA, SHA-512, no signed attributes', ['cms', '-sign', '-md', 'sha512', '-noattr'], [], 'rsa', 'rsa-pkcs1-sha512', false],
    ['cms, RSA-PSS', ['cms', '-sign', '-md', 'sha256'], ['-keyopt', 'rsa_padding_mode:pss'], 'rsa', 'rsa-pss-sha256', true],
    ['cms, ECDSA, SHA-384', ['cms', '-sign', '-md', 'sha384'], [], 'ec', 'ecdsa-sha384', true],
    ['smime, RSA', ['smime', '-sign', '-md', 'sha256'], [], 'rsa', 'rsa-pkcs1-sha256', true],
    ['smime, ECDSA', ['smime', '-sign', '-md', 'sha256'], [], 'ec', 'ecdsa-sha256', true],
  ];

  it.each(cases)('%s', (name, command, signerOptions, key, scheme, signedAttributes) => {
    const input = file(`in-${key}.txt`, content);
    const out = file(`${name.replace(/\W+/g, '-')}.der`);
    ok([
      ...command,
      ...['-binary', '-nodetach', '-outform', 'DER', '-in', input, '-out', out],
      ...['-signer', file(`${key}.pem`), '-inkey', file(`${key}.key`), ...signerOptions],
    ]);
    const message = parseSignedData(readFileSync(out));
    expect(message.eContentType).toBe(OID.data);
    expect(message.content?.equals(content)).toBe(true);
    const [signer] = verifyAll(message);
    expect(signer).toMatchObject({ scheme, signedAttributes });
    expect(signer!.certificate.raw.equals((key === 'rsa' ? rsaSigner : ecSigner).certificate.raw)).toBe(true);
    if (signedAttributes) expect(Math.abs(signer!.signingTime!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('changed content fails: CONTENT_DIGEST_MISMATCH with signed attributes, BAD_SIGNATURE without', () => {
    for (const [flags, expected] of [
      [[], 'CONTENT_DIGEST_MISMATCH'],
      [['-noattr'], 'BAD_SIGNATURE'],
    ] as const) {
      const out = file('tamper.der');
      ok([
        'cms',
        '-sign',
        ...flags,
        '-binary',
        '-nodetach',
        '-outform',
        'DER',
        '-in',
        file('t.txt', content),
        '-out',
        out,
        '-signer',
        file('rsa.pem'),
        '-inkey',
        file('rsa.key'),
      ]);
      const message = parseSignedData(readFileSync(out));
      expect(codeOf(() => verifyAll(message, Buffer.from('something else')))).toBe(expected);
    }
  });

  it('a signature byte flipped is BAD_SIGNATURE; a non-SignedData is NOT_SIGNED_DATA; garbage is MALFORMED', () => {
    const signed = buildSignedData(content, rsaSigner);
    const flipped = Buffer.from(signed);
    flipped[flipped.length - 5]! ^= 0x01; // inside the signature, the last field
    expect(codeOf(() => verifyAll(parseSignedData(flipped)))).toBe('BAD_SIGNATURE');
    const enveloped = buildEnvelopedData(content, rsaSigner.certificate);
    expect(codeOf(() => parseSignedData(enveloped))).toBe('NOT_SIGNED_DATA');
    expect(codeOf(() => parseSignedData(signed.subarray(0, 100)))).toBe('MALFORMED');
  });
});

describe('real signed profiles (test/fixtures/signed-profiles)', () => {
  it.each(['adguard-default-https', 'cloudflare-default-https', 'quad9-default-tls'])(
    '%s: ECDSA by a Let’s Encrypt certificate, content equal to the unsigned twin',
    (name) => {
      const message = parseSignedData(fixture(`encrypted-dns/${name}.signed.mobileconfig`));
      expect(message.content?.equals(fixture(`encrypted-dns/${name}.mobileconfig`))).toBe(true);
      const [signer, ...others] = verifyAll(message);
      expect(others).toEqual([]);
      expect(signer!.scheme).toBe('ecdsa-sha256');
      expect(signer!.certificate.subject).toBe('CN=encrypted-dns.brunch.io');
      expect(message.certificates.map((c) => c.subject)).toEqual(['CN=encrypted-dns.brunch.io', "C=US\nO=Let's Encrypt\nCN=E8"]);
    },
  );

  it('the mobileconfig npm vector: RSA over a UTF-8 string, signed by O=Z4', () => {
    const message = parseSignedData(fixture('mobileconfig-npm/signed-string.der'));
    expect(message.content?.toString('utf8')).toBe('Hello ŠŽ 👻');
    const [signer] = verifyAll(message);
    expect(signer!.scheme).toBe('rsa-pkcs1-sha256');
    expect(
      signer!.certificate.raw.equals(
        Buffer.from(
          fixture('mobileconfig-npm/cert.pem')
            .toString()
            .replace(/-----[^-]+-----|\s/g, ''),
          'base64',
        ),
      ),
    ).toBe(true);
  });
});

describe('EnvelopedData, judged by openssl cms', () => {
  it.each(['aes128', 'aes256', 'des3'] as const)('%s: what we encrypt, openssl cms -decrypt opens', (encryption) => {
    const plaintext = randomBytes(777);
    const envelope = buildEnvelopedData(plaintext, rsaSigner.certificate, encryption);
    const out = file(`dec-${encryption}.bin`);
    ok([
      'cms',
      '-decrypt',
      '-binary',
      '-inform',
      'DER',
      '-in',
      file(`env-${encryption}.der`, envelope),
      '-recip',
      file('rsa.pem'),
      '-inkey',
      file('rsa.key'),
      '-out',
      out,
    ]);
    expect(readFileSync(out).equals(plaintext)).toBe(true);
  });

  it.each([
    ['PKCS#1 v1.5', [], 'rsaes-pkcs1-v1_5'],
    ['OAEP', ['-keyopt', 'rsa_padding_mode:oaep'], 'rsaes-oaep-sha1'],
    [
      'OAEP SHA-256',
      ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256', '-keyopt', 'rsa_mgf1_md:sha256'],
      'rsaes-oaep-sha256',
    ],
  ])('what openssl cms -encrypt makes (%s), we open', (_name, keyopts, keyEncryption) => {
    const plaintext = randomBytes(500);
    const out = file('enc.der');
    ok([
      'cms',
      '-encrypt',
      '-binary',
      '-aes-192-cbc',
      '-outform',
      'DER',
      '-in',
      file('plain.bin', plaintext),
      '-out',
      out,
      '-recip',
      file('rsa.pem'),
      ...keyopts,
    ]);
    const opened = openEnvelopedData(readFileSync(out), [{ certificate: rsaSigner.certificate, privateKey: rsaSigner.privateKey }]);
    expect(opened).toMatchObject({ encryption: 'aes192', keyEncryption, recipientIndex: 0 });
    expect(opened.content.equals(plaintext)).toBe(true);
  });

  it('refuses an envelope for someone else, naming the recipient', () => {
    const envelope = buildEnvelopedData(Buffer.from('secret'), rsaSigner.certificate);
    const other = ca.issueKeyAndCertificate({ subject: { commonName: 'other' }, profile: 'device' });
    expect(() => openEnvelopedData(envelope, [other])).toThrow(/encrypted to issuer O=mockiron, CN=codec test CA, serial/);
  });
});

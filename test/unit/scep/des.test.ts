// Single DES-CBC in the EnvelopedData codec and the SCEP message layer, judged by OpenSSL (its
// legacy provider, loaded only in these openssl calls: node-forge's DES is what the server runs).
// Sources: RFC 5652 §6.3 (content encryption with PKCS#7 padding), RFC 8894 §3.5.2 (GetCACaps:
// AES and DES3; single DES has no keyword), FIPS 46-3 (DES keys carry odd parity in the low bit
// of each byte), mozilla-services/pkcs7 encrypt.go (Go's default content encryption is DES-CBC,
// which micromdm/scep's NewCSRRequest sends).
import { createPublicKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_CONTENT_ENCRYPTIONS,
  buildCertRep,
  buildPkcsReq,
  DEFAULT_CONTENT_ENCRYPTIONS,
  parseCertRep,
  parsePkiMessage,
  ScepMessageError,
} from '../../../src/lib/scep/index.js';
import { buildEnvelopedData, EnvelopeError, openEnvelopedData } from '../../../src/lib/pki/enveloped-data.js';
import { certPem, createTestPki, keyPem, openssl, rsaKey, type OpenSsl, type TestPki } from './helpers.js';

const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

let pki: TestPki;
let ssl: OpenSsl;
beforeAll(() => {
  pki = createTestPki();
  ssl = openssl();
  ssl.write('ca.pem', certPem(pki.caCert));
  ssl.write('ca.key', keyPem(pki.caKey));
});
afterAll(() => ssl.cleanup());

const ok = (args: string[]) => ssl.ok(args);

/** `openssl cms -encrypt -des` of `plaintext` to our CA certificate. */
function opensslDesEnvelope(plaintext: Buffer): Buffer {
  ssl.write('plain.bin', plaintext);
  ok([
    'cms',
    '-encrypt',
    '-binary',
    '-des',
    ...LEGACY,
    '-in',
    ssl.path('plain.bin'),
    '-outform',
    'DER',
    '-out',
    ssl.path('env.der'),
    '-recip',
    ssl.path('ca.pem'),
  ]);
  return ssl.read('env.der');
}

/** The content key of an EnvelopedData to our CA, unwrapped by `openssl pkeyutl` (PKCS#1 v1.5). */
function contentKeyOf(envelope: Buffer): Buffer {
  ssl.write('key-env.der', envelope);
  const parsed = ok(['asn1parse', '-inform', 'DER', '-in', ssl.path('key-env.der')]);
  // The one 256-byte OCTET STRING is the encryptedKey (RSA-2048)
  const line = parsed.split('\n').find((l) => /hl=\s*(\d+)\s+l=\s*256\s+prim:\s+OCTET STRING/.test(l))!;
  const [, offset, headerLength] = /^\s*(\d+):d=\s*\d+\s+hl=\s*(\d+)/.exec(line)!;
  const start = Number(offset) + Number(headerLength);
  ssl.write('wrapped.bin', envelope.subarray(start, start + 256));
  ok(['pkeyutl', '-decrypt', '-inkey', ssl.path('ca.key'), '-in', ssl.path('wrapped.bin'), '-out', ssl.path('content-key.bin')]);
  return ssl.read('content-key.bin');
}

const oddParity = (key: Buffer) => [...key].every((byte) => byte.toString(2).split('1').length % 2 === 0);

describe('EnvelopedData with single DES-CBC', () => {
  it('opens what openssl cms -encrypt -des wrote, when DES is among the accepted algorithms (and by default)', () => {
    const plaintext = randomBytes(777);
    const envelope = opensslDesEnvelope(plaintext);
    const recipients = [{ certificate: pki.caCert, privateKey: pki.caKey }];
    const opened = openEnvelopedData(envelope, recipients, { accept: ['des'] });
    expect(opened.content.equals(plaintext)).toBe(true);
    expect(opened.encryption).toBe('des');
    expect(openEnvelopedData(envelope, recipients).content.equals(plaintext)).toBe(true);
    expect(ALL_CONTENT_ENCRYPTIONS).toContain('des');
  });

  it('refuses it before any key is used when not accepted, naming the algorithm', () => {
    const envelope = opensslDesEnvelope(randomBytes(64));
    // A recipient whose key cannot decrypt: the refusal comes first all the same
    const wrongKey = createTestPki('Another CA');
    let caught: unknown;
    try {
      openEnvelopedData(envelope, [{ privateKey: wrongKey.caKey }], { accept: DEFAULT_CONTENT_ENCRYPTIONS });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EnvelopeError);
    expect(caught).toMatchObject({ kind: 'unsupportedAlgorithm', refusedEncryption: 'des' });
    expect((caught as Error).message).toContain('des-cbc (1.3.14.3.2.7)');
    expect(DEFAULT_CONTENT_ENCRYPTIONS).not.toContain('des');
  });

  it.each(['des', 'des3'] as const)('writes %s that openssl cms -decrypt reads, with an odd-parity content key', (encryption) => {
    const plaintext = randomBytes(300);
    const envelope = buildEnvelopedData(plaintext, pki.caCert, encryption);
    ssl.write('ours.der', envelope);
    const printed = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', ssl.path('ours.der'), '-noout']);
    expect(printed).toContain(encryption === 'des' ? 'des-cbc (1.3.14.3.2.7)' : 'des-ede3-cbc (1.2.840.113549.3.7)');
    const providers = encryption === 'des' ? LEGACY : [];
    ok([
      'cms',
      '-decrypt',
      ...providers,
      '-inform',
      'DER',
      '-in',
      ssl.path('ours.der'),
      '-recip',
      ssl.path('ca.pem'),
      '-inkey',
      ssl.path('ca.key'),
      '-binary',
      '-out',
      ssl.path('ours.bin'),
    ]);
    expect(ssl.read('ours.bin').equals(plaintext)).toBe(true);
    const key = contentKeyOf(envelope);
    expect(key).toHaveLength(encryption === 'des' ? 8 : 24);
    expect(oddParity(key)).toBe(true);
  });

  it('without the legacy provider openssl cannot decrypt our DES: the server does not need it either', () => {
    ssl.write('ours-des.der', buildEnvelopedData(randomBytes(40), pki.caCert, 'des'));
    const result = ssl.run([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      ssl.path('ours-des.der'),
      '-recip',
      ssl.path('ca.pem'),
      '-inkey',
      ssl.path('ca.key'),
      '-binary',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/unsupported|DES-CBC/i);
  });
});

describe('SCEP messages with single DES', () => {
  it('parsePkiMessage: badAlg by default, with the algorithm recovered and the transaction answerable', () => {
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: rsaKey(),
      subject: { commonName: 'des device' },
      challengePassword: 'c',
      encryption: 'des',
    });
    let caught: unknown;
    try {
      parsePkiMessage(sent.der, { caCert: pki.caCert, caKey: pki.caKey });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScepMessageError);
    const error = caught as ScepMessageError;
    expect(error.failInfo).toBe('badAlg');
    expect(error.recovered.contentEncryption).toBe('des');
    expect(error.transactionID).toBe(sent.transactionID);
    expect(error.canAnswerWithCertRep).toBe(true);
  });

  it('parsePkiMessage accepts it when listed; the DES CertRep it mirrors is read by the client and by openssl', () => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: deviceKey,
      subject: { commonName: 'des device' },
      challengePassword: 'c',
      encryption: 'des',
    });
    const request = parsePkiMessage(sent.der, {
      caCert: pki.caCert,
      caKey: pki.caKey,
      contentEncryptions: [...DEFAULT_CONTENT_ENCRYPTIONS, 'des'],
    });
    expect(request.contentEncryption).toBe('des');
    const issued = pki.ca.issueCertificate({
      subject: { commonName: 'des device' },
      publicKey: createPublicKey(deviceKey),
      profile: 'device',
    });
    const certRep = buildCertRep({
      status: 'SUCCESS',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      issuedCertDer: issued.der,
      caCertDer: pki.caCert.raw,
      requesterCert: request.signerCertificate,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
      encryption: request.contentEncryption,
    });
    const reply = parseCertRep(certRep, { requesterKey: deviceKey, requesterCert: sent.signer.certificate, caCert: pki.caCert });
    expect(reply.contentEncryption).toBe('des');
    expect(reply.certificates[0]!.raw.equals(issued.der)).toBe(true);

    ssl.write('des-certrep.der', certRep);
    ssl.write('requester.pem', certPem(sent.signer.certificate));
    ssl.write('requester.key', keyPem(deviceKey));
    ok([
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      ssl.path('des-certrep.der'),
      '-noverify',
      '-binary',
      '-out',
      ssl.path('des-reply-env.der'),
    ]);
    ok([
      'cms',
      '-decrypt',
      ...LEGACY,
      '-inform',
      'DER',
      '-in',
      ssl.path('des-reply-env.der'),
      '-recip',
      ssl.path('requester.pem'),
      '-inkey',
      ssl.path('requester.key'),
      '-binary',
      '-out',
      ssl.path('des-certs.p7'),
    ]);
    expect(ok(['pkcs7', '-inform', 'DER', '-in', ssl.path('des-certs.p7'), '-print_certs', '-noout'])).toContain('subject=CN = des device');
  });
});

// OpenSSL as the independent judge: it must read what we write, and we must read what it writes.
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCertRep,
  buildCsr,
  buildPkcsReq,
  caCaps,
  caCertResponse,
  parseCsr,
  parsePkiMessage,
  type ContentEncryption,
} from '../../../src/lib/scep/index.js';
import { openEnvelopedData } from '../../../src/lib/pki/enveloped-data.js';
import { readCertsOnly } from '../../../src/lib/scep/signed-data.js';
import { certPem, createTestPki, keyPem, openssl, rsaKey, type OpenSsl, type TestPki } from './helpers.js';

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

describe('GetCACaps and GetCACert', () => {
  it('lists only what is implemented', () => {
    expect(caCaps().split('\n')).toEqual(['POSTPKIOperation', 'Renewal', 'SHA-256', 'SHA-512', 'AES', 'DES3', 'SCEPStandard', '']);
    expect(caCaps({ renewal: false, sha1: true })).not.toContain('Renewal');
    expect(caCaps({ sha1: true })).toContain('SHA-1\n');
    expect(caCaps()).not.toContain('GetNextCACert');
  });

  it('serves the bare CA certificate without an RA', () => {
    const response = caCertResponse(pki.caCert.raw);
    expect(response.contentType).toBe('application/x-x509-ca-cert');
    expect(new X509Certificate(response.body).raw.equals(pki.caCert.raw)).toBe(true);
  });

  it('serves a degenerate certs-only PKCS#7 with the RA, readable by openssl pkcs7', () => {
    const response = caCertResponse(pki.caCert.raw, [pki.raCert.raw]);
    expect(response.contentType).toBe('application/x-x509-ca-ra-cert');
    ssl.write('ca-ra.p7', response.body);
    const printed = ok(['pkcs7', '-inform', 'DER', '-in', ssl.path('ca-ra.p7'), '-print_certs', '-noout']);
    expect(printed).toContain('subject=O = mockiron, CN = mockiron SCEP CA');
    expect(printed).toContain('subject=O = mockiron, CN = mockiron SCEP CA RA');
    expect(readCertsOnly(response.body).map((c) => c.subject)).toEqual([
      'O=mockiron\nCN=mockiron SCEP CA',
      'O=mockiron\nCN=mockiron SCEP CA RA',
    ]);
  });
});

describe('CSRs', () => {
  it('openssl req verifies ours and shows the challenge and SANs', () => {
    const csr = buildCsr({
      privateKey: rsaKey(),
      subject: { commonName: 'csr device', organization: 'mockiron', country: 'NZ' },
      challengePassword: 'otp-123456',
      sans: ['csr.mockiron.test', 'admin@mockiron.test'],
    });
    ssl.write('csr.der', csr);
    const text = ok(['req', '-inform', 'DER', '-in', ssl.path('csr.der'), '-verify', '-noout', '-text']);
    expect(text).toMatch(/verify OK/);
    expect(text).toMatch(/challengePassword\s*:\s*otp-123456/);
    expect(text).toContain('DNS:csr.mockiron.test, email:admin@mockiron.test');
    expect(text).toContain('Subject: C = NZ, O = mockiron, CN = csr device');
  });

  it('openssl req verifies an EC CSR and a UTF8String challenge', () => {
    const ec = buildCsr({
      privateKey: createPrivateKey(ok(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'])),
      subject: { commonName: 'ec' },
      challengePassword: 'naïve',
    });
    ssl.write('ec.der', ec);
    expect(ok(['req', '-inform', 'DER', '-in', ssl.path('ec.der'), '-verify', '-noout'])).toMatch(/verify OK/);
    expect(parseCsr(ec)).toMatchObject({ publicKeyType: 'ec', signatureAlgorithm: 'ecdsa-sha384', challengePassword: 'naïve' });
  });

  it('reads CSRs openssl made: challenge (PrintableString, UTF8String), extensions, RSA and EC', () => {
    const config = [
      '[req]',
      'distinguished_name = dn',
      'attributes = attrs',
      'req_extensions = ext',
      'prompt = no',
      'string_mask = default', // PrintableString where it fits
      '[dn]',
      'CN = openssl device',
      'OU = fleet',
      '[attrs]',
      'challengePassword = from-openssl',
      '[ext]',
      'subjectAltName = DNS:a.example, IP:192.0.2.1, IP:2001:db8::1, URI:urn:uuid:1234',
      'keyUsage = critical, digitalSignature',
    ].join('\n');
    ssl.write('req.cnf', config);
    for (const algorithm of [
      ['-newkey', 'rsa:2048'],
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    ]) {
      ok([
        'req',
        '-new',
        ...algorithm,
        '-nodes',
        '-keyout',
        ssl.path('o.key'),
        '-config',
        ssl.path('req.cnf'),
        '-outform',
        'DER',
        '-out',
        ssl.path('o.der'),
      ]);
      const csr = parseCsr(ssl.read('o.der'));
      expect(csr.challengePassword).toBe('from-openssl');
      expect(csr.challengePasswordEncoding).toBe('printable');
      expect(csr.subject).toBe('CN=openssl device, OU=fleet'); // config order
      expect(csr.subjectFields).toEqual({ commonName: 'openssl device', organizationalUnit: 'fleet' });
      expect(csr.sans).toEqual(['a.example', '192.0.2.1', '2001:db8:0:0:0:0:0:1', 'urn:uuid:1234']);
      expect(csr.extensions.find((e) => e.oid === '2.5.29.15')?.critical).toBe(true);
    }
    ssl.write(
      'utf8.cnf',
      [
        '[req]',
        'distinguished_name = dn',
        'attributes = attrs',
        'prompt = no',
        'utf8 = yes',
        'string_mask = utf8only',
        '[dn]',
        'CN = utf8',
        '[attrs]',
        'challengePassword = pässwörd',
      ].join('\n'),
    );
    ok([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      ssl.path('u.key'),
      '-config',
      ssl.path('utf8.cnf'),
      '-outform',
      'DER',
      '-out',
      ssl.path('u.der'),
    ]);
    expect(parseCsr(ssl.read('u.der'))).toMatchObject({ challengePassword: 'pässwörd', challengePasswordEncoding: 'utf8' });
  });
});

describe('PKIOperation requests built by the client', () => {
  it.each<ContentEncryption>(['aes256', 'aes128', 'des3'])('openssl verifies the signature and decrypts the CSR (%s)', (encryption) => {
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: rsaKey(),
      subject: { commonName: 'judged' },
      challengePassword: 'pw',
      encryption,
    });
    ssl.write('req.p7', sent.der);
    ok(['cms', '-verify', '-inform', 'DER', '-in', ssl.path('req.p7'), '-noverify', '-binary', '-out', ssl.path('req-env.der')]);
    ok([
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      ssl.path('req-env.der'),
      '-recip',
      ssl.path('ca.pem'),
      '-inkey',
      ssl.path('ca.key'),
      '-binary',
      '-out',
      ssl.path('req-csr.der'),
    ]);
    expect(ssl.read('req-csr.der').equals(sent.csrDer!)).toBe(true);
    expect(ok(['req', '-inform', 'DER', '-in', ssl.path('req-csr.der'), '-verify', '-noout'])).toMatch(/verify OK/);
    const attributes = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', ssl.path('req.p7'), '-noout']);
    expect(attributes).toContain('2.16.840.1.113733.1.9.2');
    expect(attributes).toMatch(/PRINTABLESTRING:19/);
  });
});

describe('EnvelopedData made by openssl cms -encrypt', () => {
  it.each([
    ['-aes256', [], 'aes256', 'rsaes-pkcs1-v1_5'],
    ['-aes128', ['-keyopt', 'rsa_padding_mode:oaep'], 'aes128', 'rsaes-oaep-sha1'],
    ['-aes192', ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'], 'aes192', 'rsaes-oaep-sha256'],
    ['-des3', [], 'des3', 'rsaes-pkcs1-v1_5'],
  ])('decrypts %s %s', (cipher, keyopts, encryption, keyEncryption) => {
    const plaintext = randomBytes(1000);
    ssl.write('plain.bin', plaintext);
    ok([
      'cms',
      '-encrypt',
      '-binary',
      cipher,
      '-in',
      ssl.path('plain.bin'),
      '-outform',
      'DER',
      '-out',
      ssl.path('env.der'),
      '-recip',
      ssl.path('ca.pem'),
      ...keyopts,
    ]);
    const opened = openEnvelopedData(ssl.read('env.der'), [{ certificate: pki.caCert, privateKey: pki.caKey }]);
    expect(opened.content.equals(plaintext)).toBe(true);
    expect(opened.encryption).toBe(encryption);
    expect(opened.keyEncryption).toBe(keyEncryption);
  });

  it('decrypts when the recipient is named by subject key identifier', () => {
    ssl.write('plain.bin', 'ski');
    ok([
      'cms',
      '-encrypt',
      '-binary',
      '-aes256',
      '-keyid',
      '-in',
      ssl.path('plain.bin'),
      '-outform',
      'DER',
      '-out',
      ssl.path('env-ski.der'),
      '-recip',
      ssl.path('ca.pem'),
    ]);
    expect(openEnvelopedData(ssl.read('env-ski.der'), [{ certificate: pki.caCert, privateKey: pki.caKey }]).content.toString()).toBe('ski');
  });
});

describe('CertReps judged by openssl', () => {
  it.each<ContentEncryption>(['aes256', 'aes128', 'des3'])(
    'SUCCESS: signature verifies, envelope decrypts, certs print (%s)',
    (encryption) => {
      const deviceKey = rsaKey();
      const sent = buildPkcsReq({ caCert: pki.caCert, privateKey: deviceKey, subject: { commonName: 'openssl judged' }, encryption });
      const request = parsePkiMessage(sent.der, { caCert: pki.caCert, caKey: pki.caKey });
      const issued = pki.ca.issueCertificate({
        subject: { commonName: 'openssl judged' },
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
      ssl.write('certrep.der', certRep);
      ssl.write('requester.pem', certPem(sent.signer.certificate));
      ssl.write('requester.key', keyPem(deviceKey));
      // Outer signature, and its chain up to our CA
      ok(['cms', '-verify', '-inform', 'DER', '-in', ssl.path('certrep.der'), '-noverify', '-binary', '-out', ssl.path('env.der')]);
      ok([
        'cms',
        '-verify',
        '-inform',
        'DER',
        '-in',
        ssl.path('certrep.der'),
        '-CAfile',
        ssl.path('ca.pem'),
        '-purpose',
        'any',
        '-binary',
        '-out',
        '/dev/null',
      ]);
      ok([
        'cms',
        '-decrypt',
        '-inform',
        'DER',
        '-in',
        ssl.path('env.der'),
        '-recip',
        ssl.path('requester.pem'),
        '-inkey',
        ssl.path('requester.key'),
        '-binary',
        '-out',
        ssl.path('certs.p7'),
      ]);
      const printed = ok(['pkcs7', '-inform', 'DER', '-in', ssl.path('certs.p7'), '-print_certs', '-noout']);
      expect(printed).toMatch(/subject=CN = openssl judged[\s\S]*subject=O = mockiron, CN = mockiron SCEP CA/);
      const dump = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', ssl.path('certrep.der'), '-noout']);
      expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.2[\s\S]*?PRINTABLESTRING:3/); // messageType CertRep
      expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.3[\s\S]*?PRINTABLESTRING:0/); // pkiStatus SUCCESS
      expect(dump).toContain(`PRINTABLESTRING:${request.transactionID}`);
      expect(dump).not.toContain('2.16.840.1.113733.1.9.4'); // no failInfo on SUCCESS
    },
  );

  it('FAILURE: signature verifies over the empty content, attributes as RFC 8894 spells them', () => {
    const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const certRep = buildCertRep({
      status: 'FAILURE',
      failInfo: 'badCertId',
      transactionID: 'TXN-42',
      recipientNonce: nonce,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    ssl.write('failure.der', certRep);
    ok([
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      ssl.path('failure.der'),
      '-noverify',
      '-binary',
      '-out',
      ssl.path('failure-content.bin'),
    ]);
    expect(ssl.read('failure-content.bin')).toHaveLength(0);
    const dump = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', ssl.path('failure.der'), '-noout']);
    expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.3[\s\S]*?PRINTABLESTRING:2/); // pkiStatus FAILURE
    expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.4[\s\S]*?PRINTABLESTRING:4/); // failInfo badCertId
    expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.6[\s\S]*?OCTET STRING:[\s\S]*?00 11 22 33/); // recipientNonce
    expect(dump).toMatch(/2\.16\.840\.1\.113733\.1\.9\.5[\s\S]*?OCTET STRING:/); // senderNonce
  });
});

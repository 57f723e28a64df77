// Requests the server must refuse with the right failInfo, and FAILURE CertReps the client reads.
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildCertRep,
  buildCsr,
  buildPkcsReq,
  parseCertRep,
  parsePkiMessage,
  ScepMessageError,
  selfSignedCertificate,
  type FailInfo,
} from '../../../src/lib/scep/index.js';
import { buildEnvelopedData } from '../../../src/lib/pki/enveloped-data.js';
import { certsOnlySignedData, signScepMessage } from '../../../src/lib/scep/signed-data.js';
import { der } from '../../../src/lib/pki/der.js';
import { createTestPki, rsaKey, scepFixture, type TestPki } from './helpers.js';

let pki: TestPki;
let other: TestPki;
beforeAll(() => {
  pki = createTestPki();
  other = createTestPki('Somebody Else CA');
});

function parseError(der: Buffer, extra: { now?: Date } = {}): ScepMessageError {
  try {
    parsePkiMessage(der, { caCert: pki.caCert, caKey: pki.caKey, ...extra });
  } catch (err) {
    if (err instanceof ScepMessageError) return err;
    throw err;
  }
  throw new Error('expected the request to be rejected');
}

function validRequest(options: Partial<Parameters<typeof buildPkcsReq>[0]> = {}) {
  return buildPkcsReq({ caCert: pki.caCert, privateKey: rsaKey(), subject: { commonName: 'device' }, challengePassword: 'c', ...options });
}

/** Replaces the only occurrence of `from` in `bytes`. */
function replaceOnce(bytes: Buffer, from: Buffer, to: Buffer): Buffer {
  const at = bytes.indexOf(from);
  if (at < 0 || bytes.indexOf(from, at + 1) >= 0) throw new Error('pattern not found exactly once');
  return Buffer.concat([bytes.subarray(0, at), to, bytes.subarray(at + from.length)]);
}

describe('parsePkiMessage rejections', () => {
  it('badMessageCheck for a tampered signature, with the (unauthenticated) fields recovered', () => {
    const sent = validRequest();
    const tampered = Buffer.from(sent.der);
    tampered[tampered.length - 5]! ^= 0x01; // inside the signature value, the last field
    const err = parseError(tampered);
    expect(err.failInfo).toBe('badMessageCheck');
    expect(err.message).toMatch(/signature/);
    expect(err.transactionID).toBe(sent.transactionID);
    expect(err.senderNonce).toEqual(sent.senderNonce);
    expect(err.recovered.attributesAuthenticated).toBe(false);
    expect(err.canAnswerWithCertRep).toBe(true);
  });

  it('badMessageCheck for tampered content (messageDigest mismatch)', () => {
    const sent = validRequest();
    const envelope = buildEnvelopedData(sent.csrDer!, pki.caCert);
    const message = signScepMessage(
      envelope,
      { messageType: 'PKCSReq', transactionID: 'T1', senderNonce: Buffer.alloc(16, 1) },
      sent.signer,
    );
    const flipped = Buffer.from(message);
    const at = flipped.indexOf(envelope) + envelope.length - 3; // in the encrypted content
    flipped[at]! ^= 0xff;
    const err = parseError(flipped);
    expect(err.failInfo).toBe('badMessageCheck');
    expect(err.message).toMatch(/messageDigest/);
  });

  it('badMessageCheck for a message encrypted to a different CA, fields recovered and authenticated', () => {
    const sent = validRequest({ caCert: other.caCert });
    const err = parseError(sent.der);
    expect(err.failInfo).toBe('badMessageCheck');
    expect(err.message).toContain('CN=Somebody Else CA');
    expect(err.transactionID).toBe(sent.transactionID);
    expect(err.senderNonce).toEqual(sent.senderNonce);
    expect(err.recovered.messageType).toBe('PKCSReq');
    expect(err.recovered.attributesAuthenticated).toBe(true);
    expect(err.recovered.signerCertificate?.raw.equals(sent.signer.certificate.raw)).toBe(true);
  });

  it('badMessageCheck when the encrypted key does not unwrap with our key', () => {
    const key = rsaKey();
    const signer = { privateKey: key, certificate: selfSignedCertificate(key, { commonName: 'x' }) };
    const envelope = buildEnvelopedData(Buffer.from('anything'), pki.caCert);
    // Re-encrypt the key field to garbage of the same length: addressed to us, but undecryptable
    const corrupted = Buffer.from(envelope);
    const keyAt = corrupted.indexOf(Buffer.from([0x04, 0x82, 0x01, 0x00])) + 4;
    randomBytes(256).copy(corrupted, keyAt);
    const message = signScepMessage(corrupted, { messageType: 'PKCSReq', transactionID: 'T2', senderNonce: Buffer.alloc(16, 2) }, signer);
    const err = parseError(message);
    expect(err.failInfo).toBe('badMessageCheck');
    expect(err.message).toBe('the EnvelopedData does not decrypt with our key');
  });

  it('badAlg for an unsupported content cipher (AES-256-GCM in place of CBC)', () => {
    const sent = validRequest();
    const envelope = buildEnvelopedData(sent.csrDer!, pki.caCert, 'aes256');
    const gcm = replaceOnce(envelope, der.oid('2.16.840.1.101.3.4.1.42'), der.oid('2.16.840.1.101.3.4.1.46'));
    const message = signScepMessage(gcm, { messageType: 'PKCSReq', transactionID: 'T3', senderNonce: Buffer.alloc(16, 3) }, sent.signer);
    const err = parseError(message);
    expect(err.failInfo).toBe('badAlg');
    expect(err.message).toContain('2.16.840.1.101.3.4.1.46');
    expect(err.transactionID).toBe('T3');
  });

  it('badAlg for an unsupported digest algorithm (SHA3-256), fields still recovered', () => {
    const sent = validRequest();
    const sha256 = der.oid('2.16.840.1.101.3.4.2.1');
    const sha3 = der.oid('2.16.840.1.101.3.4.2.8');
    const patched = Buffer.from(sent.der);
    for (let at = patched.indexOf(sha256); at >= 0; at = patched.indexOf(sha256, at + 1)) sha3.copy(patched, at);
    const err = parseError(patched);
    expect(err.failInfo).toBe('badAlg');
    expect(err.transactionID).toBe(sent.transactionID);
  });

  it('badAlg for an EC requester key, which no CertRep could be encrypted to', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const subject = { commonName: 'ec device' };
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      csrDer: buildCsr({ privateKey, subject }),
      signer: { privateKey, certificate: selfSignedCertificate(privateKey, subject) },
    });
    const err = parseError(sent.der);
    expect(err.failInfo).toBe('badAlg');
    expect(err.recovered.attributesAuthenticated).toBe(true); // the ECDSA signature itself verified
  });

  it('badRequest for a CSR whose self-signature is broken', () => {
    const key = rsaKey();
    const csr = Buffer.from(buildCsr({ privateKey: key, subject: { commonName: 'forged' }, challengePassword: 'c' }));
    csr[csr.length - 1]! ^= 0x01;
    const sent = buildPkcsReq({ caCert: pki.caCert, csrDer: csr, privateKey: key, subject: { commonName: 'forged' } });
    const err = parseError(sent.der);
    expect(err.failInfo).toBe('badRequest');
    expect(err.message).toMatch(/self-signature does not verify/);
    expect(err.canAnswerWithCertRep).toBe(true);
  });

  it('badRequest for a PKCSReq whose envelope holds no PKCS#10', () => {
    const sent = validRequest();
    const envelope = buildEnvelopedData(Buffer.from('not a csr'), pki.caCert);
    const message = signScepMessage(
      envelope,
      { messageType: 'PKCSReq', transactionID: 'T4', senderNonce: Buffer.alloc(16, 4) },
      sent.signer,
    );
    expect(parseError(message).failInfo).toBe('badRequest');
  });

  it('badRequest for an unsupported messageType (GetCert)', () => {
    const sent = validRequest();
    const envelope = buildEnvelopedData(Buffer.from([0x30, 0x00]), pki.caCert);
    const message = signScepMessage(
      envelope,
      { messageType: 'GetCert', transactionID: 'T5', senderNonce: Buffer.alloc(16, 5) },
      sent.signer,
    );
    const err = parseError(message);
    expect(err.failInfo).toBe('badRequest');
    expect(err.recovered.messageType).toBe('GetCert');
  });

  it('badRequest, with nothing recovered, for garbage and truncated DER', () => {
    const sent = validRequest();
    for (const bytes of [
      Buffer.alloc(0),
      randomBytes(300),
      Buffer.from('-----BEGIN PKCS7-----'),
      sent.der.subarray(0, sent.der.length - 1),
      sent.der.subarray(0, 100),
      Buffer.concat([sent.der, Buffer.from([0])]),
    ]) {
      const err = parseError(bytes);
      expect(err.failInfo).toBe('badRequest');
      expect(err.message).toMatch(/^not a SCEP PKIMessage/);
      expect(err.canAnswerWithCertRep).toBe(false);
    }
  });

  it('badRequest for well-formed DER that is not a PKIMessage', () => {
    for (const bytes of [pki.caCert.raw, certsOnlySignedData([pki.caCert.raw])]) {
      expect(parseError(bytes).failInfo).toBe('badRequest');
    }
  });

  it('never throws anything but ScepMessageError on corrupted input', () => {
    const sent = validRequest();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sent.der.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const corrupted = Buffer.from(sent.der);
        corrupted[index]! ^= mask;
        try {
          parsePkiMessage(corrupted, { caCert: pki.caCert, caKey: pki.caKey });
        } catch (err) {
          return err instanceof ScepMessageError;
        }
        return true; // a byte nothing authenticates (e.g. the self-signed certificate's own signature)
      }),
      { numRuns: 150 },
    );
  });
});

describe('the real mdmclient PKIOperation (encrypted to another CA)', () => {
  it('is a clean badMessageCheck with its transaction fields recovered', () => {
    const err = parseError(scepFixture('mdmclient-PKIOperation.der'));
    expect(err.failInfo).toBe('badMessageCheck');
    expect(err.message).toContain('CN=contoso-VAGRANT-2016-CA');
    expect(err.transactionID).toBe('140BC832976B3D0300BE8F5C2E35CEDF66E73D7B');
    expect(err.senderNonce?.toString('hex')).toBe('fac5e2eda5d97d64');
    expect(err.recovered.messageType).toBe('PKCSReq');
    // Its SHA-512 signature verifies: the fields are the device's own
    expect(err.recovered.attributesAuthenticated).toBe(true);
    expect(err.recovered.signerCertificate?.subject).toBe('CN=MDM SCEP SIGNER\nC=AU');
  });

  it('can be answered with a CertRep FAILURE echoing its nonce', () => {
    const err = parseError(scepFixture('mdmclient-PKIOperation.der'));
    const certRep = buildCertRep({
      status: 'FAILURE',
      failInfo: err.failInfo,
      transactionID: err.transactionID!,
      recipientNonce: err.senderNonce!,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    const reply = parseCertRep(certRep, {
      requesterKey: rsaKey(),
      caCert: pki.caCert,
      expectedTransactionID: '140BC832976B3D0300BE8F5C2E35CEDF66E73D7B',
      expectedRecipientNonce: Buffer.from('fac5e2eda5d97d64', 'hex'),
    });
    expect(reply).toMatchObject({ status: 'FAILURE', failInfo: 'badMessageCheck' });
  });
});

describe('CertRep FAILURE and client-side checks', () => {
  const failInfos: FailInfo[] = ['badAlg', 'badMessageCheck', 'badRequest', 'badTime', 'badCertId'];

  it.each(failInfos)('round-trips failInfo %s', (failInfo) => {
    const key = rsaKey();
    const nonce = randomBytes(16);
    const certRep = buildCertRep({
      status: 'FAILURE',
      failInfo,
      failInfoText: `refused: ${failInfo}`,
      transactionID: 'TXN-FAIL',
      recipientNonce: nonce,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    const reply = parseCertRep(certRep, {
      requesterKey: key,
      caCert: pki.caCert,
      expectedTransactionID: 'TXN-FAIL',
      expectedRecipientNonce: nonce,
    });
    expect(reply).toMatchObject({
      status: 'FAILURE',
      failInfo,
      failInfoText: `refused: ${failInfo}`,
      transactionID: 'TXN-FAIL',
      certificates: [],
    });
    expect(reply.recipientNonce).toEqual(nonce);
  });

  it('refuses to build inconsistent CertReps', () => {
    const signer = { privateKey: pki.caKey, certificate: pki.caCert };
    const base = { transactionID: 't', recipientNonce: Buffer.alloc(16), signer };
    expect(() => buildCertRep({ ...base, transactionID: 'tx_with_underscore', status: 'PENDING' })).toThrow(/PrintableString/);
    expect(() => buildCertRep({ ...base, status: 'FAILURE' })).toThrow(/failInfo/);
    expect(() => buildCertRep({ ...base, status: 'PENDING', failInfo: 'badAlg' })).toThrow(/FAILURE/);
    expect(() => buildCertRep({ ...base, status: 'SUCCESS' })).toThrow(/issuedCertDer/);
  });

  function clientError(fn: () => unknown): ScepMessageError {
    try {
      fn();
    } catch (err) {
      if (err instanceof ScepMessageError) return err;
      throw err;
    }
    throw new Error('expected parseCertRep to fail');
  }

  it('rejects a CertRep not signed by our CA, for another transaction, or not echoing our nonce', () => {
    const nonce = randomBytes(16);
    const fromOther = buildCertRep({
      status: 'PENDING',
      transactionID: 'T',
      recipientNonce: nonce,
      signer: { privateKey: other.caKey, certificate: other.caCert },
    });
    expect(clientError(() => parseCertRep(fromOther, { requesterKey: rsaKey(), caCert: pki.caCert })).failInfo).toBe('badMessageCheck');

    const ours = buildCertRep({
      status: 'PENDING',
      transactionID: 'T',
      recipientNonce: nonce,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    expect(clientError(() => parseCertRep(ours, { requesterKey: rsaKey(), caCert: pki.caCert, expectedTransactionID: 'U' })).failInfo).toBe(
      'badCertId',
    );
    expect(
      clientError(() => parseCertRep(ours, { requesterKey: rsaKey(), caCert: pki.caCert, expectedRecipientNonce: randomBytes(16) }))
        .message,
    ).toMatch(/recipientNonce/);
    const tampered = Buffer.from(ours);
    tampered[tampered.length - 1]! ^= 1;
    expect(clientError(() => parseCertRep(tampered, { requesterKey: rsaKey(), caCert: pki.caCert })).failInfo).toBe('badMessageCheck');
  });

  it('cannot decrypt a SUCCESS meant for another requester', () => {
    const sent = validRequest();
    const request = parsePkiMessage(sent.der, { caCert: pki.caCert, caKey: pki.caKey });
    if (request.messageType === 'GetCertInitial') throw new Error('unexpected');
    const issued = pki.ca.issueCertificate({ subject: { commonName: 'device' }, publicKey: request.csr.publicKey, profile: 'device' });
    const certRep = buildCertRep({
      status: 'SUCCESS',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      issuedCertDer: issued.der,
      requesterCert: request.signerCertificate,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    const err = clientError(() => parseCertRep(certRep, { requesterKey: rsaKey(), caCert: pki.caCert }));
    expect(err.failInfo).toBe('badMessageCheck');
    // and the right key works
    const reply = parseCertRep(certRep, { requesterKey: sent.signer.privateKey, caCert: pki.caCert });
    expect(reply.certificates[0]!.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      createPublicKey(sent.signer.privateKey).export({ type: 'spki', format: 'der' }),
    );
  });
});

// Client → server → client: the test plays the CA's decision (check challenge, issue, answer).
import { createPublicKey, type X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildCertRep,
  buildPkcsReq,
  parseCertRep,
  parsePkiMessage,
  ScepMessageError,
  selfSignedCertificate,
  type CertificateRequestMessage,
  type ContentEncryption,
  type ScepRequest,
} from '../../../src/lib/scep/index.js';
import { createTestPki, rsaKey, type TestPki } from './helpers.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});

const CHALLENGE = 'S3cret-Challenge.42';

function parse(der: Buffer, extra: Partial<Parameters<typeof parsePkiMessage>[1]> = {}): ScepRequest {
  return parsePkiMessage(der, { caCert: pki.caCert, caKey: pki.caKey, ...extra });
}

function asCertificateRequest(request: ScepRequest): CertificateRequestMessage {
  if (request.messageType === 'GetCertInitial') throw new Error('expected a certificate request');
  return request;
}

function parseError(fn: () => unknown): ScepMessageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScepMessageError) return err;
    throw err;
  }
  throw new Error('expected a ScepMessageError');
}

/** The CA logic under test's control: challenge check, issue, CertRep. */
function answer(request: CertificateRequestMessage, expectedChallenge: string): Buffer {
  const signer = { privateKey: pki.caKey, certificate: pki.caCert };
  if (request.csr.challengePassword !== expectedChallenge && request.messageType === 'PKCSReq') {
    return buildCertRep({
      status: 'FAILURE',
      failInfo: 'badRequest',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      signer,
    });
  }
  const issued = pki.ca.issueCertificate({
    subject: { commonName: request.csr.subjectFields.commonName ?? 'unnamed', organization: request.csr.subjectFields.organization },
    publicKey: request.csr.publicKey,
    profile: 'device',
    sans: request.csr.sans,
  });
  return buildCertRep({
    status: 'SUCCESS',
    transactionID: request.transactionID,
    recipientNonce: request.senderNonce,
    issuedCertDer: issued.der,
    caCertDer: pki.caCert.raw,
    requesterCert: request.signerCertificate,
    signer,
    digest: request.digestAlgorithm,
    encryption: request.contentEncryption,
  });
}

describe('PKCSReq round trip', () => {
  it.each<ContentEncryption>(['aes256', 'aes128', 'aes192', 'des3'])('enrols with %s content encryption', (encryption) => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: deviceKey,
      subject: { commonName: 'iPhone 0001', organization: 'mockiron devices' },
      challengePassword: CHALLENGE,
      sans: ['device-0001.mockiron.test', '10.0.0.7'],
      encryption,
    });
    expect(sent.senderNonce).toHaveLength(16);
    expect(sent.transactionID).toMatch(/^[0-9A-F]{64}$/);

    const request = asCertificateRequest(parse(sent.der));
    expect(request.messageType).toBe('PKCSReq');
    expect(request.transactionID).toBe(sent.transactionID);
    expect(request.senderNonce.equals(sent.senderNonce)).toBe(true);
    expect(request.contentEncryption).toBe(encryption);
    expect(request.keyEncryption).toBe('rsaes-pkcs1-v1_5');
    expect(request.encryptedTo).toBe('ca');
    expect(request.digestAlgorithm).toBe('sha256');
    expect(request.signatureAlgorithm).toBe('rsa-pkcs1-sha256');
    expect(request.signerSelfSigned).toBe(true);
    expect(request.signerIssuedByCa).toBe(false);
    expect(request.signerKeyMatchesCsr).toBe(true);
    expect(request.signingTime).toBeInstanceOf(Date);
    expect(request.csr.challengePassword).toBe(CHALLENGE);
    expect(request.csr.challengePasswordEncoding).toBe('printable');
    expect(request.csr.subject).toBe('O=mockiron devices, CN=iPhone 0001');
    expect(request.csr.subjectFields).toEqual({ commonName: 'iPhone 0001', organization: 'mockiron devices' });
    expect(request.csr.sans).toEqual(['device-0001.mockiron.test', '10.0.0.7']);
    expect(request.csr.extensions.map((e) => e.oid)).toEqual(['2.5.29.17']);
    expect(request.csr.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      createPublicKey(deviceKey).export({ type: 'spki', format: 'der' }),
    );

    const certRep = answer(request, CHALLENGE);
    const reply = parseCertRep(certRep, {
      requesterKey: deviceKey,
      requesterCert: sent.signer.certificate,
      caCert: pki.caCert,
      expectedTransactionID: sent.transactionID,
      expectedRecipientNonce: sent.senderNonce,
    });
    expect(reply.status).toBe('SUCCESS');
    expect(reply.failInfo).toBeUndefined();
    expect(reply.transactionID).toBe(sent.transactionID);
    expect(reply.recipientNonce.equals(sent.senderNonce)).toBe(true);
    expect(reply.senderNonce).toHaveLength(16);
    expect(reply.senderNonce.equals(sent.senderNonce)).toBe(false);
    expect(reply.contentEncryption).toBe(encryption);
    expect(reply.signerCertificate.raw.equals(pki.caCert.raw)).toBe(true);
    const [issued, caCopy] = reply.certificates;
    expect(issued!.subject).toBe('O=mockiron devices\nCN=iPhone 0001');
    expect(issued!.checkPrivateKey(deviceKey)).toBe(true);
    expect(issued!.verify(pki.caCert.publicKey)).toBe(true);
    expect(issued!.subjectAltName).toBe('DNS:device-0001.mockiron.test, IP Address:10.0.0.7');
    expect(caCopy!.raw.equals(pki.caCert.raw)).toBe(true);
  });

  it('answers a wrong challenge with a FAILURE the client reads, nonces and transaction echoed', () => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: deviceKey,
      subject: { commonName: 'intruder' },
      challengePassword: 'guess',
    });
    const request = asCertificateRequest(parse(sent.der));
    const reply = parseCertRep(answer(request, CHALLENGE), {
      requesterKey: deviceKey,
      caCert: pki.caCert,
      expectedTransactionID: sent.transactionID,
      expectedRecipientNonce: sent.senderNonce,
    });
    expect(reply).toMatchObject({ status: 'FAILURE', failInfo: 'badRequest', transactionID: sent.transactionID, certificates: [] });
    expect(reply.recipientNonce.equals(sent.senderNonce)).toBe(true);
  });

  it('reads a UTF8String challengePassword as well as a PrintableString one', () => {
    const deviceKey = rsaKey();
    for (const [challenge, encoding] of [
      ['pässwörd-Ωmega', 'utf8'],
      ['plain ascii', 'utf8'],
      ['plain ascii', 'printable'],
    ] as const) {
      const sent = buildPkcsReq({
        caCert: pki.caCert,
        privateKey: deviceKey,
        subject: { commonName: 'utf8 device' },
        challengePassword: challenge,
        challengePasswordEncoding: encoding,
      });
      const request = asCertificateRequest(parse(sent.der));
      expect(request.csr.challengePassword).toBe(challenge);
      expect(request.csr.challengePasswordEncoding).toBe(encoding);
    }
  });

  it('reports a missing challenge as undefined', () => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({ caCert: pki.caCert, privateKey: deviceKey, subject: { commonName: 'no challenge' } });
    expect(asCertificateRequest(parse(sent.der)).csr.challengePassword).toBeUndefined();
  });

  it('mirrors the request digest (SHA-512) in the CertRep', () => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: deviceKey,
      subject: { commonName: 'sha512' },
      challengePassword: CHALLENGE,
      digest: 'sha512',
    });
    const request = asCertificateRequest(parse(sent.der));
    expect(request.digestAlgorithm).toBe('sha512');
    const reply = parseCertRep(answer(request, CHALLENGE), { requesterKey: deviceKey, caCert: pki.caCert });
    expect(reply.digestAlgorithm).toBe('sha512');
    expect(reply.status).toBe('SUCCESS');
  });

  it('works through an RA: the client encrypts to the RA, the RA signs the CertRep', () => {
    const deviceKey = rsaKey();
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      recipientCert: pki.raCert,
      privateKey: deviceKey,
      subject: { commonName: 'via RA' },
      challengePassword: CHALLENGE,
    });
    // Without the RA key the server cannot read it
    expect(parseError(() => parse(sent.der)).failInfo).toBe('badMessageCheck');
    const request = asCertificateRequest(parse(sent.der, { raCert: pki.raCert, raKey: pki.raKey }));
    expect(request.encryptedTo).toBe('ra');
    const issued = pki.ca.issueCertificate({ subject: { commonName: 'via RA' }, publicKey: request.csr.publicKey, profile: 'device' });
    const certRep = buildCertRep({
      status: 'SUCCESS',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      issuedCertDer: issued.der,
      requesterCert: request.signerCertificate,
      signer: { privateKey: pki.raKey, certificate: pki.raCert, chain: [pki.caCert] },
    });
    const reply = parseCertRep(certRep, { requesterKey: deviceKey, caCert: pki.caCert, raCert: pki.raCert });
    expect(reply.signerCertificate.raw.equals(pki.raCert.raw)).toBe(true);
    expect(reply.certificates.map((c) => c.serialNumber)).toEqual([issued.serialNumber]);
  });

  it('accepts a request encrypted to the CA even when an RA is configured', () => {
    const sent = buildPkcsReq({ caCert: pki.caCert, privateKey: rsaKey(), subject: { commonName: 'old client' } });
    expect(parse(sent.der, { raCert: pki.raCert, raKey: pki.raKey }).encryptedTo).toBe('ca');
  });

  it('uses a given transactionID and senderNonce', () => {
    const nonce = Buffer.alloc(16, 7);
    const sent = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: rsaKey(),
      subject: { commonName: 'x' },
      transactionID: 'txn-0001',
      senderNonce: nonce,
    });
    const request = parse(sent.der);
    expect(request.transactionID).toBe('txn-0001');
    expect(request.senderNonce).toEqual(nonce);
  });
});

describe('RenewalReq', () => {
  function enrol(): { key: ReturnType<typeof rsaKey>; cert: X509Certificate } {
    const key = rsaKey();
    const issued = pki.ca.issueCertificate({
      subject: { commonName: 'renewing device' },
      publicKey: createPublicKey(key),
      profile: 'device',
    });
    return { key, cert: issued.certificate };
  }

  it('is signed by the certificate being renewed and answered encrypted to it', () => {
    const old = enrol();
    const newKey = rsaKey();
    const sent = buildPkcsReq({
      messageType: 'RenewalReq',
      caCert: pki.caCert,
      privateKey: newKey,
      subject: { commonName: 'renewing device' },
      signer: { privateKey: old.key, certificate: old.cert },
      encryption: 'aes128',
    });
    const request = asCertificateRequest(parse(sent.der));
    expect(request.messageType).toBe('RenewalReq');
    expect(request.signerCertificate.serialNumber).toBe(old.cert.serialNumber);
    expect(request.signerIssuedByCa).toBe(true);
    expect(request.signerSelfSigned).toBe(false);
    expect(request.signerKeyMatchesCsr).toBe(false);

    const reply = parseCertRep(answer(request, 'not checked on renewal'), {
      requesterKey: old.key,
      requesterCert: old.cert,
      caCert: pki.caCert,
      expectedRecipientNonce: sent.senderNonce,
    });
    expect(reply.status).toBe('SUCCESS');
    expect(reply.contentEncryption).toBe('aes128');
    expect(reply.certificates[0]!.checkPrivateKey(newKey)).toBe(true);
    expect(reply.certificates[0]!.serialNumber).not.toBe(old.cert.serialNumber);
  });

  it('rejects a renewal signed by a certificate we did not issue (badCertId)', () => {
    const key = rsaKey();
    const sent = buildPkcsReq({ messageType: 'RenewalReq', caCert: pki.caCert, privateKey: key, subject: { commonName: 'stranger' } });
    const err = parseError(() => parse(sent.der));
    expect(err.failInfo).toBe('badCertId');
    expect(err.recovered.attributesAuthenticated).toBe(true);
    expect(err.transactionID).toBe(sent.transactionID);
    expect(err.recovered.signerCertificate?.subject).toBe('CN=stranger');
  });

  it('rejects a renewal signed by an expired certificate (badTime)', () => {
    const oldKey = rsaKey();
    const expired = pki.ca.issueCertificate({
      subject: { commonName: 'expired device' },
      publicKey: createPublicKey(oldKey),
      profile: 'device',
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const sent = buildPkcsReq({
      messageType: 'RenewalReq',
      caCert: pki.caCert,
      privateKey: rsaKey(),
      subject: { commonName: 'expired device' },
      signer: { privateKey: oldKey, certificate: expired.certificate },
    });
    expect(parseError(() => parse(sent.der)).failInfo).toBe('badTime');
    // Judged at `now`: back then it was fine
    expect(parse(sent.der, { now: new Date('2020-06-01T00:00:00Z') }).messageType).toBe('RenewalReq');
  });
});

describe('GetCertInitial (CertPoll)', () => {
  it('carries IssuerAndSubject; answered PENDING, then SUCCESS', () => {
    const deviceKey = rsaKey();
    const selfSigned = selfSignedCertificate(deviceKey, { commonName: 'slow device' });
    const signer = { privateKey: deviceKey, certificate: selfSigned };
    const first = buildPkcsReq({
      caCert: pki.caCert,
      privateKey: deviceKey,
      subject: { commonName: 'slow device' },
      signer,
      encryption: 'des3',
    });
    const initial = asCertificateRequest(parse(first.der));
    const pending = buildCertRep({
      status: 'PENDING',
      transactionID: initial.transactionID,
      recipientNonce: initial.senderNonce,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
    });
    expect(parseCertRep(pending, { requesterKey: deviceKey, caCert: pki.caCert, expectedRecipientNonce: first.senderNonce })).toMatchObject(
      {
        status: 'PENDING',
        transactionID: first.transactionID,
        certificates: [],
      },
    );

    const poll = buildPkcsReq({
      messageType: 'GetCertInitial',
      caCert: pki.caCert,
      subject: { commonName: 'slow device' },
      signer,
      transactionID: first.transactionID,
      encryption: 'des3',
    });
    expect(poll.senderNonce.equals(first.senderNonce)).toBe(false);
    const request = parse(poll.der);
    if (request.messageType !== 'GetCertInitial') throw new Error('expected GetCertInitial');
    expect(request.transactionID).toBe(first.transactionID);
    expect(request.issuer.text).toBe('O=mockiron, CN=mockiron SCEP CA');
    expect(request.subject.text).toBe('CN=slow device');
    expect(request.subject.fields).toEqual({ commonName: 'slow device' });
    expect(request.contentEncryption).toBe('des3');

    const issued = pki.ca.issueCertificate({ subject: { commonName: 'slow device' }, publicKey: initial.csr.publicKey, profile: 'device' });
    const success = buildCertRep({
      status: 'SUCCESS',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      issuedCertDer: issued.der,
      requesterCert: request.signerCertificate,
      signer: { privateKey: pki.caKey, certificate: pki.caCert },
      encryption: request.contentEncryption,
    });
    const reply = parseCertRep(success, {
      requesterKey: deviceKey,
      caCert: pki.caCert,
      expectedTransactionID: first.transactionID,
      expectedRecipientNonce: poll.senderNonce,
    });
    expect(reply.status).toBe('SUCCESS');
    expect(reply.certificates[0]!.serialNumber).toBe(issued.serialNumber);
  });

  it('takes the subject from a CSR too', () => {
    const deviceKey = rsaKey();
    const first = buildPkcsReq({ caCert: pki.caCert, privateKey: deviceKey, subject: { commonName: 'from csr', organization: 'O1' } });
    const poll = buildPkcsReq({ messageType: 'GetCertInitial', caCert: pki.caCert, csrDer: first.csrDer, signer: first.signer });
    const request = parse(poll.der);
    expect(request.messageType === 'GetCertInitial' && request.subject.text).toBe('O=O1, CN=from csr');
    expect(request.transactionID).toBe(first.transactionID); // both default to the key's hash
  });

  it('rejects a poll naming another CA as issuer (badCertId)', () => {
    const other = createTestPki('Another CA');
    const deviceKey = rsaKey();
    const poll = buildPkcsReq({
      messageType: 'GetCertInitial',
      caCert: other.caCert, // named as issuer...
      recipientCert: pki.caCert, // ...but sent to us
      privateKey: deviceKey,
      subject: { commonName: 'lost device' },
    });
    const err = parseError(() => parse(poll.der));
    expect(err.failInfo).toBe('badCertId');
    expect(err.canAnswerWithCertRep).toBe(true);
  });
});

describe('signingTime policy', () => {
  it('is only enforced with maxClockSkewMs (badTime)', () => {
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    const sent = buildPkcsReq({ caCert: pki.caCert, privateKey: rsaKey(), subject: { commonName: 'clock' }, signingTime: twoDaysAgo });
    expect(parse(sent.der).signingTime?.getTime()).toBe(Math.floor(twoDaysAgo.getTime() / 1000) * 1000);
    expect(parseError(() => parse(sent.der, { maxClockSkewMs: 3600_000 })).failInfo).toBe('badTime');
    expect(parse(sent.der, { maxClockSkewMs: 3 * 24 * 3600_000 }).messageType).toBe('PKCSReq');
  });
});

// SCEP content encryption as clients that are not mockiron's code send it, against the real app.
// OpenSSL plays the device: `openssl req` makes the key, the CSR (with the challenge) and the
// self-signed signer certificate; `openssl cms -encrypt -aes128/-aes192/-aes256/-des3/-des`
// envelopes the CSR to the RA certificate that GetCACert served (read with `openssl pkcs7`); on the
// way back `openssl cms -verify`, `cms -cmsout -print`, `cms -decrypt` and `openssl verify` read
// the CertRep. Only the outer SignedData carrying SCEP's attributes is ours: OpenSSL's command
// line cannot add signed attributes. Single DES exists only in OpenSSL's legacy provider, so the
// test's openssl calls load it for -des (`-provider legacy -provider default`); the server does not.
//
// Sources:
// - RFC 8894 §3.5.2: GetCACaps keywords (AES is AES128-CBC, DES3 triple DES-CBC, SCEPStandard);
//   clients prefer AES to 3DES when the CA lists it (CycloneCRYPTO's SCEP client cites the same
//   section for that choice). §3.3.2: the CertRep's pkcsPKIEnvelope is encrypted for the requester,
//   so it must use an algorithm the requester reads.
// - mozilla-services/pkcs7 encrypt.go: `var ContentEncryptionAlgorithm = EncryptionAlgorithmDESCBC`,
//   and micromdm/scep scep/scep.go NewCSRRequest enveloping the CSR with that package's Encrypt:
//   single DES whatever GetCACaps says, as the Go device simulator of issue #16 sends it.
// - certmonger src/scepgen-o.c: DES3 when GetCACaps lists it, else single DES.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, publicEncrypt, constants, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { der, tlv, TAG } from '../../src/lib/pki/der.js';
import { readCertificateFields } from '../../src/lib/pki/x509.js';
import { signScepMessage } from '../../src/lib/scep/signed-data.js';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

const LEGACY = ['-provider', 'legacy', '-provider', 'default'];
const CIPHER_FLAG = { aes128: '-aes128', aes192: '-aes192', aes256: '-aes256', des3: '-des3', des: '-des' } as const;
type Cipher = keyof typeof CIPHER_FLAG;
/** How `openssl cms -cmsout -print` names each contentEncryptionAlgorithm. */
const PRINTED_ALGORITHM: Record<Cipher, string> = {
  aes128: 'aes-128-cbc (2.16.840.1.101.3.4.1.2)',
  aes192: 'aes-192-cbc (2.16.840.1.101.3.4.1.22)',
  aes256: 'aes-256-cbc (2.16.840.1.101.3.4.1.42)',
  des3: 'des-ede3-cbc (1.2.840.113549.3.7)',
  des: 'des-cbc (1.3.14.3.2.7)',
};
const PKI_STATUS = '2.16.840.1.113733.1.9.3';
const FAIL_INFO = '2.16.840.1.113733.1.9.4';
const FAIL_INFO_CODE = { badAlg: 0, badMessageCheck: 1, badRequest: 2 } as const;

let tmp: string;
let fileCounter = 0;

function openssl(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const result = spawnSync('openssl', args, { input });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

function ok(args: string[], input?: Buffer): Buffer {
  const result = openssl(args, input);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

/** A new file in the temp directory holding `data`. */
function file(name: string, data: Buffer | string = ''): string {
  const p = path.join(tmp, `${++fileCounter}-${name}`);
  writeFileSync(p, data);
  return p;
}

/** A running app, with its log lines kept. */
interface Server {
  t: TestApp;
  logs: Array<Record<string, unknown>>;
  caPem: string;
  /** The RA certificate from GetCACert: what clients encrypt to. */
  raPem: string;
}

async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const logs: Array<Record<string, unknown>> = [];
  const logTo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const t = await startTestApp({ env, logTo });
  const caCert = await supertest(t.app).get('/scep?operation=GetCACert').buffer(true).parse(rawBody);
  expect(caCert.headers['content-type']).toBe('application/x-x509-ca-ra-cert');
  const pems = ok(['pkcs7', '-inform', 'DER', '-print_certs'], caCert.body as Buffer)
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
  const caPem = pems.find((pem) => new X509Certificate(pem).ca)!;
  const raPem = pems.find((pem) => !new X509Certificate(pem).ca)!;
  expect(new X509Certificate(caPem).raw.equals(t.services.signing.ca!.certificate.raw)).toBe(true);
  return { t, logs, caPem, raPem };
}

async function mintChallenge(server: Server): Promise<string> {
  const res = await server.t.admin.post('/api/v2/scep/challenges').send({ ttlMinutes: 10 });
  expect(res.status).toBe(201);
  return res.body.results.challenge as string;
}

/** What a device has before it sends: its key, its self-signed certificate, its CSR (OpenSSL's). */
interface Device {
  keyFile: string;
  certFile: string;
  csr: Buffer;
  commonName: string;
}

function newDevice(challenge: string): Device {
  const commonName = `cipher-device-${randomBytes(4).toString('hex')}`;
  const config = file(
    'req.cnf',
    [
      '[req]',
      'distinguished_name = dn',
      'attributes = attrs',
      'prompt = no',
      '[dn]',
      `CN = ${commonName}`,
      '[attrs]',
      `challengePassword = ${challenge}`,
    ].join('\n'),
  );
  const keyFile = file('device.key');
  const csrFile = file('device.csr');
  ok(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-config', config, '-outform', 'DER', '-out', csrFile]);
  const certFile = file('device.pem');
  ok(['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${commonName}`, '-days', '1', '-out', certFile]);
  return { keyFile, certFile, csr: readFileSync(csrFile), commonName };
}

/** `openssl cms -encrypt` of `content` to the RA certificate (legacy provider for single DES only). */
function opensslEnvelope(server: Server, cipher: Cipher, content: Buffer): Buffer {
  const recipient = file('ra.pem', server.raPem);
  return ok(
    ['cms', '-encrypt', '-binary', CIPHER_FLAG[cipher], ...(cipher === 'des' ? LEGACY : []), '-outform', 'DER', '-recip', recipient],
    content,
  );
}

/** The PKCSReq around an envelope: signed by the device's key and self-signed certificate. */
function pkcsReq(device: Device, envelope: Buffer): { der: Buffer; transactionID: string } {
  const transactionID = `TX${randomBytes(8).toString('hex').toUpperCase()}`;
  const signer = {
    privateKey: createPrivateKey(readFileSync(device.keyFile)),
    certificate: new X509Certificate(readFileSync(device.certFile)),
  };
  const message = signScepMessage(envelope, { messageType: 'PKCSReq', transactionID, senderNonce: randomBytes(16) }, signer);
  return { der: message, transactionID };
}

async function post(server: Server, message: Buffer) {
  return supertest(server.t.app)
    .post('/scep?operation=PKIOperation')
    .set('Content-Type', 'application/x-pki-message')
    .send(message)
    .buffer(true)
    .parse(rawBody);
}

/** Reads a CertRep the way the device would: signature (up to our CA), then its printed attributes. */
function readCertRep(server: Server, certRep: Buffer): { printed: string; envelope: Buffer } {
  const caFile = file('ca.pem', server.caPem);
  const certRepFile = file('certrep.der', certRep);
  const envelope = ok(['cms', '-verify', '-inform', 'DER', '-in', certRepFile, '-CAfile', caFile, '-purpose', 'any', '-binary']);
  const printed = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', certRepFile, '-noout']).toString();
  return { printed, envelope };
}

const pkiStatusOf = (printed: string) =>
  new RegExp(`${PKI_STATUS.replace(/\./g, '\\.')}[\\s\\S]*?PRINTABLESTRING:(\\d+)`).exec(printed)?.[1];
const failInfoOf = (printed: string) => new RegExp(`${FAIL_INFO.replace(/\./g, '\\.')}[\\s\\S]*?PRINTABLESTRING:(\\d+)`).exec(printed)?.[1];

/** The certificate a SUCCESS CertRep carries, decrypted by `openssl cms -decrypt` with the device key. */
function issuedCertificate(device: Device, cipher: Cipher, envelope: Buffer): { pem: string; printedEnvelope: string } {
  const envelopeFile = file('reply-envelope.der', envelope);
  const printedEnvelope = ok(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', envelopeFile, '-noout']).toString();
  const certsOnly = ok([
    'cms',
    '-decrypt',
    ...(cipher === 'des' ? LEGACY : []),
    '-inform',
    'DER',
    '-in',
    envelopeFile,
    '-recip',
    device.certFile,
    '-inkey',
    device.keyFile,
    '-binary',
  ]);
  const pem = ok(['pkcs7', '-inform', 'DER', '-print_certs'], certsOnly)
    .toString()
    .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0];
  return { pem, printedEnvelope };
}

/** `openssl verify` of an issued certificate against our CA, as a TLS client certificate. */
function verifyIssued(server: Server, pem: string): string {
  const result = openssl(['verify', '-CAfile', file('ca.pem', server.caPem), '-purpose', 'sslclient', file('issued.pem', pem)]);
  return result.stdout.toString() + result.stderr;
}

/** Sends a PKCSReq enveloped by OpenSSL with `cipher` and expects a certificate back, in the same cipher. */
async function enrollWith(server: Server, cipher: Cipher) {
  const device = newDevice(await mintChallenge(server));
  const request = pkcsReq(device, opensslEnvelope(server, cipher, device.csr));
  const res = await post(server, request.der);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-pki-message');
  const { printed, envelope } = readCertRep(server, res.body as Buffer);
  expect(pkiStatusOf(printed), printed).toBe('0');
  expect(printed).toContain(`PRINTABLESTRING:${request.transactionID}`);
  const issued = issuedCertificate(device, cipher, envelope);
  return { device, request, issued };
}

let plain: Server;
let allowingDes: Server;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mockiron-scep-ciphers-'));
  plain = await startServer();
  allowingDes = await startServer({ MOCKIRON_SCEP_ALLOW_DES: '1' });
});
afterAll(async () => {
  for (const server of [plain, allowingDes]) {
    if (!server) continue;
    await server.t.close();
    removeDir(server.t.dataDir);
  }
  removeDir(tmp);
});

describe('GetCACaps', () => {
  it('advertises AES, DES3 and SCEPStandard, with or without single DES allowed (RFC 8894 has no keyword for it)', async () => {
    for (const server of [plain, allowingDes]) {
      const caps = (await server.t.anon.get('/scep?operation=GetCACaps')).text.split('\n');
      expect(caps).toEqual(expect.arrayContaining(['AES', 'DES3', 'SCEPStandard', 'POSTPKIOperation', 'SHA-256']));
      expect(caps.some((cap) => /^DES$/i.test(cap))).toBe(false);
    }
  });
});

describe('PKCSReq enveloped by openssl cms -encrypt', () => {
  it.each<Cipher>(['aes128', 'aes192', 'aes256', 'des3'])(
    '%s: issued by default, the CertRep encrypted with the same cipher, the certificate verified by openssl',
    async (cipher) => {
      const { device, issued } = await enrollWith(plain, cipher);
      expect(issued.printedEnvelope).toContain(`algorithm: ${PRINTED_ALGORITHM[cipher]}`);
      expect(verifyIssued(plain, issued.pem)).toMatch(/: OK/);
      const certificate = new X509Certificate(issued.pem);
      expect(certificate.subject).toBe(`CN=${device.commonName}`);
      expect(certificate.checkPrivateKey(createPrivateKey(readFileSync(device.keyFile)))).toBe(true);
      const line = plain.logs.find(
        (l) => l.msg === 'SCEP certificate issued' && (l.scep as { subject: string }).subject === `CN=${device.commonName}`,
      );
      expect((line?.scep as { contentEncryption?: string })?.contentEncryption).toBe(PRINTED_ALGORITHM[cipher].split(' ')[0]);
    },
  );

  it('single DES by default: CertRep FAILURE badAlg, one log line naming the algorithm and the setting, the challenge left unspent', async () => {
    const challenge = await mintChallenge(plain);
    const device = newDevice(challenge);
    const certificatesBefore = await plain.t.services.db.deviceCertificate.count();
    const logsBefore = plain.logs.length;
    const request = pkcsReq(device, opensslEnvelope(plain, 'des', device.csr));
    const res = await post(plain, request.der);
    expect(res.status).toBe(200);
    const { printed } = readCertRep(plain, res.body as Buffer);
    expect(pkiStatusOf(printed)).toBe('2');
    expect(failInfoOf(printed)).toBe(String(FAIL_INFO_CODE.badAlg));
    expect(printed).toContain(`PRINTABLESTRING:${request.transactionID}`);
    expect(await plain.t.services.db.deviceCertificate.count()).toBe(certificatesBefore);

    const lines = plain.logs.slice(logsBefore).filter((l) => JSON.stringify(l).includes(request.transactionID));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(40); // warn
    expect(lines[0]!.msg).toContain('1.3.14.3.2.7');
    expect(lines[0]!.msg).toContain('des-cbc');
    expect(lines[0]!.msg).toContain('--scep-allow-des');
    expect(lines[0]!.msg).toContain('MOCKIRON_SCEP_ALLOW_DES');
    expect(lines[0]!.scep).toMatchObject({ transactionID: request.transactionID, failInfo: 'badAlg', oid: '1.3.14.3.2.7' });

    // Refused before the challenge was looked at: the same device, enveloping with 3DES, enrolls with it
    const retry = await post(plain, pkcsReq(device, opensslEnvelope(plain, 'des3', device.csr)).der);
    expect(pkiStatusOf(readCertRep(plain, retry.body as Buffer).printed)).toBe('0');
  });

  it('single DES with MOCKIRON_SCEP_ALLOW_DES=1: issued, and the CertRep is DES too (what such a client reads)', async () => {
    const { device, issued } = await enrollWith(allowingDes, 'des');
    expect(issued.printedEnvelope).toContain(`algorithm: ${PRINTED_ALGORITHM.des}`);
    expect(verifyIssued(allowingDes, issued.pem)).toMatch(/: OK/);
    expect(new X509Certificate(issued.pem).checkPrivateKey(createPrivateKey(readFileSync(device.keyFile)))).toBe(true);
  });

  it('with single DES allowed, the others still enroll and are answered in kind', async () => {
    for (const cipher of ['aes128', 'des3'] as const) {
      const { issued } = await enrollWith(allowingDes, cipher);
      expect(issued.printedEnvelope).toContain(`algorithm: ${PRINTED_ALGORITHM[cipher]}`);
      expect(verifyIssued(allowingDes, issued.pem)).toMatch(/: OK/);
    }
  });
});

describe('hostile single-DES envelopes: a FAILURE CertRep, never a 500', () => {
  /**
   * An EnvelopedData to the RA as `openssl cms` lays it out, with our choice of IV and ciphertext:
   * the content key is wrapped by `openssl pkeyutl` for the RA's public key, and the ciphertext
   * comes from `openssl enc -des-cbc`, so only the fields under test are unusual.
   */
  function envelopeWith(server: Server, fields: { iv: Buffer; ciphertext: Buffer; key: Buffer }): Buffer {
    const ra = new X509Certificate(server.raPem);
    const wrappedKey = publicEncrypt({ key: ra.publicKey, padding: constants.RSA_PKCS1_PADDING }, fields.key);
    const raFields = readCertificateFields(ra.raw);
    const recipientInfo = der.sequence(
      der.smallInteger(0),
      der.sequence(raFields.issuerName, tlv(TAG.INTEGER, raFields.serialNumber)),
      der.sequence(der.oid('1.2.840.113549.1.1.1'), der.null()),
      der.octetString(wrappedKey),
    );
    const encryptedContentInfo = der.sequence(
      der.oid('1.2.840.113549.1.7.1'),
      der.sequence(der.oid('1.3.14.3.2.7'), der.octetString(fields.iv)),
      der.implicitPrimitive(0, fields.ciphertext),
    );
    const envelopedData = der.sequence(der.smallInteger(0), der.setOf(recipientInfo), encryptedContentInfo);
    return der.sequence(der.oid('1.2.840.113549.1.7.3'), der.explicit(0, envelopedData));
  }

  /** `openssl enc -des-cbc` (legacy provider); `nopad` leaves the caller's last block as it is. */
  function desEncrypt(key: Buffer, iv: Buffer, plaintext: Buffer, nopad = false): Buffer {
    return ok(
      ['enc', '-des-cbc', ...LEGACY, '-K', key.toString('hex'), '-iv', iv.toString('hex'), ...(nopad ? ['-nopad'] : [])],
      plaintext,
    );
  }

  async function expectFailure(server: Server, envelope: Buffer, failInfo: keyof typeof FAIL_INFO_CODE) {
    const device = newDevice(await mintChallenge(server));
    const certificatesBefore = await server.t.services.db.deviceCertificate.count();
    const request = pkcsReq(device, envelope);
    const res = await post(server, request.der);
    expect(res.status).toBe(200);
    const { printed } = readCertRep(server, res.body as Buffer);
    expect(pkiStatusOf(printed)).toBe('2');
    expect(failInfoOf(printed)).toBe(String(FAIL_INFO_CODE[failInfo]));
    expect(printed).toContain(`PRINTABLESTRING:${request.transactionID}`);
    expect(await server.t.services.db.deviceCertificate.count()).toBe(certificatesBefore);
  }

  const key = Buffer.from('0123456789abcdef', 'hex');
  const iv = Buffer.from('fedcba9876543210', 'hex');

  it('the well-formed control envelope is accepted (so the failures below are the fields under test)', async () => {
    const device = newDevice(await mintChallenge(allowingDes));
    const envelope = envelopeWith(allowingDes, { iv, key, ciphertext: desEncrypt(key, iv, device.csr) });
    const res = await post(allowingDes, pkcsReq(device, envelope).der);
    expect(pkiStatusOf(readCertRep(allowingDes, res.body as Buffer).printed)).toBe('0');
  });

  it('a truncated ciphertext (not whole 8-byte blocks): badMessageCheck', async () => {
    const ciphertext = desEncrypt(key, iv, Buffer.alloc(100, 0x41));
    await expectFailure(
      allowingDes,
      envelopeWith(allowingDes, { iv, key, ciphertext: ciphertext.subarray(0, ciphertext.length - 3) }),
      'badMessageCheck',
    );
  });

  it('an empty ciphertext: badMessageCheck', async () => {
    await expectFailure(allowingDes, envelopeWith(allowingDes, { iv, key, ciphertext: Buffer.alloc(0) }), 'badMessageCheck');
  });

  it('wrong padding (last byte 0x09: more than a block; 0x00; 0x02 after a byte that is not 0x02): badMessageCheck', async () => {
    for (const lastByte of [0x09, 0x00, 0x02]) {
      const plaintext = Buffer.concat([Buffer.alloc(15, 0x41), Buffer.from([lastByte])]);
      const ciphertext = desEncrypt(key, iv, plaintext, true);
      expect(ciphertext).toHaveLength(16);
      await expectFailure(allowingDes, envelopeWith(allowingDes, { iv, key, ciphertext }), 'badMessageCheck');
    }
  });

  it('a 3-byte IV: badRequest', async () => {
    const ciphertext = desEncrypt(key, iv, Buffer.alloc(32, 0x41));
    await expectFailure(allowingDes, envelopeWith(allowingDes, { iv: iv.subarray(0, 3), key, ciphertext }), 'badRequest');
  });

  it('a content key of the wrong length: badMessageCheck, like any key that does not decrypt', async () => {
    const ciphertext = desEncrypt(key, iv, Buffer.alloc(32, 0x41));
    await expectFailure(allowingDes, envelopeWith(allowingDes, { iv, key: Buffer.concat([key, key]), ciphertext }), 'badMessageCheck');
  });

  it('with single DES off, the same hostile envelopes are refused for the algorithm first: badAlg', async () => {
    const ciphertext = desEncrypt(key, iv, Buffer.alloc(32, 0x41));
    await expectFailure(plain, envelopeWith(plain, { iv: iv.subarray(0, 3), key, ciphertext: ciphertext.subarray(0, 5) }), 'badAlg');
  });
});

// CMS EnvelopedData (RFC 5652 §6) with RSA key transport: the one codec (SCEP's pkcsPKIEnvelope uses it).
//
// Why not forge.pkcs7: its RSA is pure JS (slow), and node:crypto covers every cipher. Node 20
// refuses RSA_PKCS1_PADDING in privateDecrypt (CVE-2023-46809, the Marvin attack), yet
// PKCS#1 v1.5 is what every SCEP client uses; so the RSA operation runs without padding here and
// the padding is checked below, answering a bad one with a random key (RFC 3218 §2.3.2) so that
// callers see one failure whatever went wrong.
//
// Single DES-CBC is not in Node's default OpenSSL provider (only in the legacy one, which a
// process would have to load for everything): node-forge's DES, in pure JS, runs it instead. It
// is decrypted only when the caller lists it among the accepted algorithms.

import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
  type X509Certificate,
} from 'node:crypto';
import {
  children,
  content,
  der,
  DerError,
  expectTag,
  parseDer,
  raw,
  readIntegerBytes,
  readOctetString,
  readOid,
  readSmallInteger,
  tlv,
  TAG,
  type DerNode,
} from './der.js';
import forge from 'node-forge';
import { ownReason } from './errors.js';
import { readName } from './names.js';
import { DIGEST_OID_TO_HASH, OID, type HashName } from './oids.js';
import { readCertificateFields } from './x509.js';

export type ContentEncryption = 'aes128' | 'aes192' | 'aes256' | 'des3' | 'des';

export interface ContentEncryptionSpec {
  readonly oid: string;
  /** OpenSSL's name for the cipher (node:crypto's, except single DES, which node-forge runs). */
  readonly cipher: string;
  readonly keyLength: number;
  /** The IV is one block: the block size too. */
  readonly ivLength: number;
}

export const CONTENT_ENCRYPTION: Readonly<Record<ContentEncryption, ContentEncryptionSpec>> = {
  aes128: { oid: OID.aes128Cbc, cipher: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  aes192: { oid: OID.aes192Cbc, cipher: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  aes256: { oid: OID.aes256Cbc, cipher: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  des3: { oid: OID.desEde3Cbc, cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  des: { oid: OID.desCbc, cipher: 'des-cbc', keyLength: 8, ivLength: 8 },
};

/** Every algorithm this codec can decrypt; callers narrow it (SCEP leaves single DES out unless a setting allows it). */
export const ALL_CONTENT_ENCRYPTIONS: readonly ContentEncryption[] = Object.keys(CONTENT_ENCRYPTION) as ContentEncryption[];

export function contentEncryptionForOid(oid: string): ContentEncryption | undefined {
  return ALL_CONTENT_ENCRYPTIONS.find((name) => CONTENT_ENCRYPTION[name].oid === oid);
}

const binary = (bytes: Buffer) => forge.util.createBuffer(bytes.toString('binary'));

/** A fresh content key; DES keys get odd parity (FIPS 46-3), which some implementations check. */
function newContentKey(encryption: ContentEncryption): Buffer {
  const key = randomBytes(CONTENT_ENCRYPTION[encryption].keyLength);
  if (encryption === 'des' || encryption === 'des3') {
    for (let i = 0; i < key.length; i++) {
      const high = key[i]! & 0xfe;
      let ones = 0;
      for (let bit = high; bit; bit >>= 1) ones += bit & 1;
      key[i] = high | (ones % 2 === 0 ? 1 : 0);
    }
  }
  return key;
}

/** CBC with PKCS#7 padding (RFC 5652 §6.3). */
function encryptContent(encryption: ContentEncryption, key: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  const spec = CONTENT_ENCRYPTION[encryption];
  if (encryption !== 'des') {
    const cipher = createCipheriv(spec.cipher, key, iv);
    return Buffer.concat([cipher.update(plaintext), cipher.final()]);
  }
  const cipher = forge.cipher.createCipher('DES-CBC', binary(key));
  cipher.start({ iv: binary(iv) });
  cipher.update(binary(plaintext));
  cipher.finish();
  return Buffer.from(cipher.output.getBytes(), 'binary');
}

/** The plaintext, or undefined when the ciphertext is not whole blocks or its padding is wrong. */
function decryptContent(encryption: ContentEncryption, key: Buffer, iv: Buffer, ciphertext: Buffer): Buffer | undefined {
  const spec = CONTENT_ENCRYPTION[encryption];
  if (ciphertext.length === 0 || ciphertext.length % spec.ivLength !== 0) return undefined;
  try {
    if (encryption !== 'des') {
      const decipher = createDecipheriv(spec.cipher, key, iv);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    }
    const decipher = forge.cipher.createDecipher('DES-CBC', binary(key));
    decipher.start({ iv: binary(iv) });
    decipher.update(binary(ciphertext));
    // forge checks the padding as RFC 5652 §6.3 spells it: 1 to 8 bytes, each holding the count
    return decipher.finish() ? Buffer.from(decipher.output.getBytes(), 'binary') : undefined;
  } catch {
    return undefined;
  }
}

export type KeyEncryption = 'rsaes-pkcs1-v1_5' | `rsaes-oaep-${HashName}`;

export type EnvelopeErrorKind = 'malformed' | 'unsupportedAlgorithm' | 'notForUs' | 'decryptionFailed';

export class EnvelopeError extends Error {
  constructor(
    readonly kind: EnvelopeErrorKind,
    message: string,
    /** A content encryption this codec knows but the caller did not accept (e.g. single DES). */
    readonly refusedEncryption?: ContentEncryption,
  ) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

/** DER ContentInfo(EnvelopedData) of `plaintext` for one RSA recipient, identified by issuer and serial. */
export function buildEnvelopedData(plaintext: Buffer, recipient: X509Certificate, encryption: ContentEncryption = 'aes256'): Buffer {
  const spec = CONTENT_ENCRYPTION[encryption];
  if (recipient.publicKey.asymmetricKeyType !== 'rsa') {
    throw new RangeError(`cannot encrypt to a ${recipient.publicKey.asymmetricKeyType ?? 'unknown'} key: SCEP key transport needs RSA`);
  }
  const key = newContentKey(encryption);
  const iv = randomBytes(spec.ivLength);
  const ciphertext = encryptContent(encryption, key, iv, plaintext);
  const encryptedKey = publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_PADDING }, key);
  const fields = readCertificateFields(recipient.raw);
  const recipientInfo = der.sequence(
    der.smallInteger(0), // version 0: issuerAndSerialNumber
    der.sequence(fields.issuerName, tlv(TAG.INTEGER, fields.serialNumber)),
    der.sequence(der.oid(OID.rsaEncryption), der.null()),
    der.octetString(encryptedKey),
  );
  const encryptedContentInfo = der.sequence(
    der.oid(OID.data),
    der.sequence(der.oid(spec.oid), der.octetString(iv)),
    der.implicitPrimitive(0, ciphertext),
  );
  const envelopedData = der.sequence(der.smallInteger(0), der.setOf(recipientInfo), encryptedContentInfo);
  return der.sequence(der.oid(OID.envelopedData), der.explicit(0, envelopedData));
}

export interface EnvelopeRecipient {
  /** Without a certificate the key is tried on the first key-transport recipient, whoever it names. */
  certificate?: X509Certificate;
  privateKey: KeyObject;
}

export interface OpenedEnvelope {
  content: Buffer;
  encryption: ContentEncryption;
  keyEncryption: KeyEncryption;
  /** Which of the given recipients the message was for. */
  recipientIndex: number;
}

function sameSerial(a: Buffer, b: Buffer): boolean {
  const strip = (x: Buffer) => (x.length > 1 && x[0] === 0 ? x.subarray(1) : x);
  return strip(a).equals(strip(b));
}

/** Describes a RecipientIdentifier for error messages ("issuer CN=X, serial 01AB"). */
function describeRecipient(rid: DerNode): string {
  try {
    if (rid.tag === TAG.SEQUENCE) {
      const [issuer, serial] = children(rid);
      return `issuer ${readName(issuer!).text}, serial ${readIntegerBytes(serial!).toString('hex').toUpperCase()}`;
    }
    if (rid.tag === 0x80) return `subject key identifier ${content(rid).toString('hex')}`;
  } catch {
    // fall through: an unreadable identifier is described generically
  }
  return 'an unreadable recipient identifier';
}

function recipientMatches(rid: DerNode, certificate: X509Certificate): boolean {
  const fields = readCertificateFields(certificate.raw);
  if (rid.tag === TAG.SEQUENCE) {
    const [issuer, serial] = children(rid);
    return raw(issuer!).equals(fields.issuerName) && sameSerial(readIntegerBytes(serial!), fields.serialNumber);
  }
  if (rid.tag === 0x80) return fields.subjectKeyIdentifier !== undefined && content(rid).equals(fields.subjectKeyIdentifier);
  return false;
}

interface KeyTransport {
  kind: KeyEncryption;
  oaepHash?: HashName;
}

function keyTransport(algorithm: DerNode): KeyTransport {
  const [oidNode, parameters] = children(expectTag(algorithm, TAG.SEQUENCE, 'keyEncryptionAlgorithm'));
  const oid = readOid(oidNode!);
  if (oid === OID.rsaEncryption) return { kind: 'rsaes-pkcs1-v1_5' };
  if (oid === OID.rsaesOaep) {
    // RSAES-OAEP-params (RFC 4055): SHA-1 and MGF1-SHA-1 by default, empty label
    let hash: HashName = 'sha1';
    let mgfHash: HashName = 'sha1';
    for (const field of parameters?.tag === TAG.SEQUENCE ? children(parameters) : []) {
      const [inner] = children(field);
      const algorithmOf = (node: DerNode | undefined) => children(expectTag(node, TAG.SEQUENCE, 'AlgorithmIdentifier'));
      if (field.tag === 0xa0) {
        const found = DIGEST_OID_TO_HASH[readOid(algorithmOf(inner)[0]!)];
        if (!found) throw new EnvelopeError('unsupportedAlgorithm', 'unsupported RSAES-OAEP hash');
        hash = found;
      } else if (field.tag === 0xa1) {
        const [mgfOid, mgfParams] = algorithmOf(inner);
        const found = mgfParams && DIGEST_OID_TO_HASH[readOid(algorithmOf(mgfParams)[0]!)];
        if (readOid(mgfOid!) !== OID.mgf1 || !found) {
          throw new EnvelopeError('unsupportedAlgorithm', 'unsupported RSAES-OAEP mask generation');
        }
        mgfHash = found;
      } else if (field.tag === 0xa2) {
        throw new EnvelopeError('unsupportedAlgorithm', 'RSAES-OAEP with a label is not supported');
      }
    }
    // node:crypto uses the OAEP hash for MGF1 as well
    if (hash !== mgfHash) throw new EnvelopeError('unsupportedAlgorithm', `RSAES-OAEP with ${hash} and MGF1-${mgfHash} is not supported`);
    return { kind: `rsaes-oaep-${hash}`, oaepHash: hash };
  }
  throw new EnvelopeError('unsupportedAlgorithm', `unsupported key encryption algorithm ${oid}`);
}

/**
 * EME-PKCS1-v1_5 decoding of `block` (00 02 PS 00 M, PS at least 8 non-zero bytes) expecting an
 * M of `expectedLength`; returns undefined when malformed. Scans the whole block either way so
 * the work done does not depend on where the padding is wrong.
 */
function pkcs1v15Unpad(block: Buffer, expectedLength: number): Buffer | undefined {
  let separator = 0;
  let bad = (block[0]! !== 0 ? 1 : 0) | (block[1]! !== 2 ? 1 : 0);
  for (let i = 2; i < block.length; i++) {
    const isZero = block[i] === 0 ? 1 : 0;
    const firstZero = isZero & (separator === 0 ? 1 : 0);
    separator = firstZero ? i : separator;
  }
  bad |= separator < 10 ? 1 : 0; // no separator, or fewer than 8 padding bytes
  bad |= block.length - separator - 1 !== expectedLength ? 1 : 0;
  return bad ? undefined : block.subarray(separator + 1);
}

interface UnwrappedKey {
  key: Buffer;
  /** The real key could not be recovered; `key` is random so the failure surfaces later, uniformly. */
  failed: boolean;
}

function unwrapKey(encryptedKey: Buffer, privateKey: KeyObject, transport: KeyTransport, keyLength: number): UnwrappedKey {
  if (privateKey.asymmetricKeyType !== 'rsa') {
    const keyType = privateKey.asymmetricKeyType ?? 'unknown';
    throw new EnvelopeError('unsupportedAlgorithm', `our recipient key is ${keyType}; RSA key transport needs RSA`);
  }
  const random = () => ({ key: randomBytes(keyLength), failed: true });
  try {
    if (transport.oaepHash) {
      const key = privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: transport.oaepHash },
        encryptedKey,
      );
      return key.length === keyLength ? { key, failed: false } : random();
    }
    const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey);
    const key = pkcs1v15Unpad(block, keyLength);
    return key ? { key, failed: false } : random();
  } catch {
    return random(); // e.g. ciphertext longer than the modulus
  }
}

export interface OpenEnvelopeOptions {
  /** Content encryptions to decrypt; others are refused (unsupportedAlgorithm) before any key is used. Default: all. */
  accept?: readonly ContentEncryption[];
}

/**
 * Decrypts a DER ContentInfo(EnvelopedData) for the first of `recipients` it names. Errors:
 * malformed structure, unsupported or unaccepted algorithms, not addressed to any recipient, or
 * undecryptable (wrong key, corrupted key or content: deliberately indistinguishable).
 */
export function openEnvelopedData(
  envelope: Buffer,
  recipients: readonly EnvelopeRecipient[],
  options: OpenEnvelopeOptions = {},
): OpenedEnvelope {
  let recipientInfos: DerNode[];
  let contentAlgorithm: DerNode;
  let encryptedContentNode: DerNode | undefined;
  try {
    const contentInfo = children(expectTag(parseDer(envelope), TAG.SEQUENCE, 'ContentInfo'));
    const contentType = readOid(contentInfo[0]!);
    if (contentType !== OID.envelopedData) throw new DerError(`content type is ${contentType}, not envelopedData`);
    const [envelopedData] = children(expectTag(contentInfo[1], 0xa0, 'ContentInfo content'));
    const fields = children(expectTag(envelopedData, TAG.SEQUENCE, 'EnvelopedData'));
    readSmallInteger(fields[0]!);
    let i = 1;
    if (fields[i]?.tag === 0xa0) i++; // originatorInfo
    recipientInfos = children(expectTag(fields[i++], TAG.SET, 'recipientInfos'));
    const encryptedContentInfo = children(expectTag(fields[i], TAG.SEQUENCE, 'EncryptedContentInfo'));
    contentAlgorithm = expectTag(encryptedContentInfo[1], TAG.SEQUENCE, 'contentEncryptionAlgorithm');
    encryptedContentNode = encryptedContentInfo[2];
  } catch (err) {
    if (err instanceof EnvelopeError) throw err;
    throw new EnvelopeError('malformed', `malformed EnvelopedData: ${ownReason(err)}`);
  }

  const [algorithmOid, ivNode] = children(contentAlgorithm);
  const oid = readOid(algorithmOid!);
  const encryption = contentEncryptionForOid(oid);
  if (!encryption) throw new EnvelopeError('unsupportedAlgorithm', `unsupported content encryption algorithm ${oid}`);
  const spec = CONTENT_ENCRYPTION[encryption];
  if (options.accept && !options.accept.includes(encryption)) {
    throw new EnvelopeError('unsupportedAlgorithm', `content encryption ${spec.cipher} (${oid}) is not accepted here`, encryption);
  }
  if (!ivNode || ivNode.tag !== TAG.OCTET_STRING || content(ivNode).length !== spec.ivLength) {
    throw new EnvelopeError('malformed', `${spec.cipher} needs a ${spec.ivLength}-byte IV parameter`);
  }
  if (!encryptedContentNode || encryptedContentNode.tagClass !== 2 || encryptedContentNode.tagNumber !== 0) {
    throw new EnvelopeError('malformed', 'the EnvelopedData carries no encrypted content');
  }

  const described: string[] = [];
  for (const info of recipientInfos) {
    if (info.tag !== TAG.SEQUENCE) {
      described.push('a non key-transport recipient');
      continue; // kari/kekri/pwri: not used by SCEP
    }
    let rid: DerNode;
    let algorithm: DerNode;
    let encryptedKey: Buffer;
    try {
      const parts = children(info);
      rid = parts[1]!;
      algorithm = parts[2]!;
      encryptedKey = readOctetString(expectTag(parts[3], TAG.OCTET_STRING, 'encryptedKey'));
    } catch (err) {
      throw new EnvelopeError('malformed', `malformed KeyTransRecipientInfo: ${ownReason(err)}`);
    }
    const recipientIndex = recipients.findIndex((r) => !r.certificate || recipientMatches(rid, r.certificate));
    if (recipientIndex < 0) {
      described.push(describeRecipient(rid));
      continue;
    }
    const transport = keyTransport(algorithm);
    const unwrapped = unwrapKey(encryptedKey, recipients[recipientIndex]!.privateKey, transport, spec.keyLength);
    let ciphertext: Buffer;
    try {
      ciphertext = readOctetString(encryptedContentNode);
    } catch (err) {
      throw new EnvelopeError('malformed', `unreadable encrypted content: ${ownReason(err)}`);
    }
    const plaintext = decryptContent(encryption, unwrapped.key, content(ivNode), ciphertext);
    if (unwrapped.failed || !plaintext) throw new EnvelopeError('decryptionFailed', 'the EnvelopedData does not decrypt with our key');
    return { content: plaintext, encryption, keyEncryption: transport.kind, recipientIndex };
  }
  throw new EnvelopeError(
    'notForUs',
    `the EnvelopedData is encrypted to ${described.join('; ') || 'no recipient'}, not to our certificate`,
  );
}

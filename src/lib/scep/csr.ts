// PKCS#10 certification requests (RFC 2986): built and verified with node:crypto, walked with
// src/lib/pki/der.ts so the signature is checked over the exact encoded CertificationRequestInfo.
// Unlike forge's parser this accepts EC keys as well as RSA.

import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import {
  children,
  content,
  der,
  DerError,
  expectTag,
  parseDer,
  raw,
  readOctetString,
  readOid,
  readSmallInteger,
  TAG,
  type DerNode,
} from '../pki/der.js';
import { ECDSA_SIGNATURE_OIDS, OID, RSA_PKCS1_SIGNATURE_OIDS, type HashName } from '../pki/oids.js';
import { certificateSignatureAlgorithm, encodeName, subjectAltNameExtension, type SubjectName } from '../pki/x509.js';
import { isPrintableString, SCEP_OID } from './constants.js';
import { readAnyString, readName, type NameAttribute, type SubjectFields } from '../pki/names.js';
import { ownReason } from './errors.js';

export interface BuildCsrOptions {
  privateKey: KeyObject;
  subject: SubjectName;
  challengePassword?: string;
  /**
   * PKCS#9 allows either; devices send PrintableString when the text fits it. Default: 'auto'
   * (PrintableString when possible, else UTF8String).
   */
  challengePasswordEncoding?: 'auto' | 'printable' | 'utf8';
  /** DNS names, IP addresses, URIs ("://") or e-mail addresses ("@"), requested as subjectAltName. */
  sans?: string[];
}

/** DER PKCS#10 signed with node:crypto (SHA-256 for RSA and P-256; larger curves get larger hashes). */
export function buildCsr(options: BuildCsrOptions): Buffer {
  const publicKey = createPublicKey(options.privateKey);
  const attributes: Buffer[] = [];
  if (options.challengePassword !== undefined) {
    const encoding = options.challengePasswordEncoding ?? 'auto';
    const printable = encoding === 'printable' || (encoding === 'auto' && isPrintableString(options.challengePassword));
    if (printable && !isPrintableString(options.challengePassword)) {
      throw new RangeError('the challenge password has characters a PrintableString cannot hold');
    }
    const value = printable ? der.printable(options.challengePassword) : der.utf8(options.challengePassword);
    attributes.push(der.sequence(der.oid(SCEP_OID.challengePassword), der.setOf(value)));
  }
  if (options.sans?.length) {
    const extensions = der.sequence(subjectAltNameExtension(options.sans));
    attributes.push(der.sequence(der.oid(SCEP_OID.extensionRequest), der.setOf(extensions)));
  }
  const info = der.sequence(
    der.smallInteger(0),
    encodeName(options.subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    der.implicitConstructed(0, ...[...attributes].sort(Buffer.compare)),
  );
  const { hash, algorithmIdentifier } = certificateSignatureAlgorithm(options.privateKey);
  return der.sequence(info, algorithmIdentifier, der.bitString(sign(hash, info, options.privateKey)));
}

export interface CsrExtension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface ParsedCsr {
  der: Buffer;
  subject: string;
  subjectName: Buffer;
  subjectAttributes: NameAttribute[];
  /** CN/O/OU/C as requested, ready for ca.issueCertificate's SubjectName (commonName may be absent). */
  subjectFields: SubjectFields;
  publicKey: KeyObject;
  publicKeyType: string;
  /** e.g. "rsa-pkcs1-sha256", "ecdsa-sha256". */
  signatureAlgorithm: string;
  challengePassword?: string;
  /** The ASN.1 type the challenge came in, for diagnostics. */
  challengePasswordEncoding?: 'printable' | 'utf8' | 'other';
  /** Extensions from the extensionRequest (or Microsoft's equivalent) attribute. */
  extensions: CsrExtension[];
  /** subjectAltName entries as strings accepted by ca.issueCertificate({ sans }). Other name forms are left out. */
  sans: string[];
}

/** Thrown for a CSR that is malformed or whose signature does not verify. */
export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

function signatureHash(oid: string): { hash: HashName; name: string } {
  const rsa = RSA_PKCS1_SIGNATURE_OIDS[oid];
  if (rsa) return { hash: rsa, name: `rsa-pkcs1-${rsa}` };
  const ec = ECDSA_SIGNATURE_OIDS[oid];
  if (ec) return { hash: ec, name: `ecdsa-${ec}` };
  throw new CsrError(`unsupported CSR signature algorithm ${oid}`);
}

function ipText(bytes: Buffer): string | undefined {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    const text = groups.join(':');
    return isIPv6(text) ? text : undefined;
  }
  return undefined;
}

function readSans(extnValue: Buffer): string[] {
  const out: string[] = [];
  for (const name of children(expectTag(parseDer(extnValue), TAG.SEQUENCE, 'GeneralNames'))) {
    const bytes = content(name);
    if (name.tag === 0x81 || name.tag === 0x82 || name.tag === 0x86) out.push(bytes.toString('latin1'));
    else if (name.tag === 0x87) {
      const ip = ipText(bytes);
      if (ip !== undefined && (isIPv4(ip) || isIPv6(ip))) out.push(ip);
    }
  }
  return out;
}

function readExtensions(node: DerNode): CsrExtension[] {
  return children(expectTag(node, TAG.SEQUENCE, 'Extensions')).map((ext) => {
    const parts = children(expectTag(ext, TAG.SEQUENCE, 'Extension'));
    const critical = parts.length === 3 && content(expectTag(parts[1], TAG.BOOLEAN, 'critical'))[0] !== 0;
    const value = readOctetString(expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue'));
    return { oid: readOid(parts[0]!), critical, value };
  });
}

/** Parses a DER PKCS#10 and verifies its self-signature; throws CsrError otherwise. */
export function parseCsr(csrDer: Buffer): ParsedCsr {
  let info: DerNode;
  let algorithmNode: DerNode;
  let signatureNode: DerNode;
  try {
    [info, algorithmNode, signatureNode] = children(expectTag(parseDer(csrDer), TAG.SEQUENCE, 'CertificationRequest')) as [
      DerNode,
      DerNode,
      DerNode,
    ];
    expectTag(info, TAG.SEQUENCE, 'CertificationRequestInfo');
    expectTag(signatureNode, TAG.BIT_STRING, 'signature');
  } catch (err) {
    throw new CsrError(`malformed PKCS#10: ${ownReason(err)}`);
  }
  let parsed: Omit<ParsedCsr, 'signatureAlgorithm'>;
  let scheme: { hash: HashName; name: string };
  try {
    const [version, subjectNode, spkiNode, attributesNode] = children(info);
    if (readSmallInteger(expectTag(version, TAG.INTEGER, 'version')) !== 0) throw new DerError('PKCS#10 version is not 0');
    const subject = readName(expectTag(subjectNode, TAG.SEQUENCE, 'subject'));
    const publicKey = createPublicKey({ key: raw(expectTag(spkiNode, TAG.SEQUENCE, 'subjectPKInfo')), format: 'der', type: 'spki' });
    let challengePassword: string | undefined;
    let challengePasswordEncoding: ParsedCsr['challengePasswordEncoding'];
    const extensions: CsrExtension[] = [];
    for (const attribute of attributesNode ? children(expectTag(attributesNode, 0xa0, 'attributes')) : []) {
      const [type, values] = children(expectTag(attribute, TAG.SEQUENCE, 'Attribute'));
      const oid = readOid(type!);
      const first = children(expectTag(values, TAG.SET, 'attribute values'))[0];
      if (!first) throw new DerError(`attribute ${oid} has no value`);
      if (oid === SCEP_OID.challengePassword) {
        challengePassword = readAnyString(first);
        challengePasswordEncoding = first.tag === TAG.PRINTABLE_STRING ? 'printable' : first.tag === TAG.UTF8_STRING ? 'utf8' : 'other';
      } else if (oid === SCEP_OID.extensionRequest || oid === SCEP_OID.msExtensionRequest) {
        extensions.push(...readExtensions(first));
      }
    }
    const sanExtension = extensions.find((e) => e.oid === OID.subjectAltName);
    scheme = signatureHash(readOid(children(expectTag(algorithmNode, TAG.SEQUENCE, 'signatureAlgorithm'))[0]!));
    parsed = {
      der: csrDer,
      subject: subject.text,
      subjectName: subject.der,
      subjectAttributes: subject.attributes,
      subjectFields: subject.fields,
      publicKey,
      publicKeyType: publicKey.asymmetricKeyType ?? 'unknown',
      challengePassword,
      challengePasswordEncoding,
      extensions,
      sans: sanExtension ? readSans(sanExtension.value) : [],
    };
  } catch (err) {
    if (err instanceof CsrError) throw err;
    throw new CsrError(`malformed PKCS#10: ${ownReason(err)}`);
  }
  const signatureBits = content(signatureNode);
  let ok = false;
  try {
    ok = signatureBits[0] === 0 && verify(scheme.hash, raw(info), { key: parsed.publicKey, dsaEncoding: 'der' }, signatureBits.subarray(1));
  } catch {
    ok = false; // e.g. key type not fitting the algorithm, malformed ECDSA signature
  }
  if (!ok) throw new CsrError(`the PKCS#10 ${scheme.name} self-signature does not verify`);
  return { ...parsed, signatureAlgorithm: scheme.name };
}

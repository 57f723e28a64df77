// X.509 certificate building and field extraction.
//
// Certificates are assembled as DER by hand and signed with node:crypto, because forge can
// neither create EC certificates nor sign quickly. node:crypto's X509Certificate is used for
// everything it can read; this module only reads the raw fields it cannot expose (issuer and
// subject Name bytes, serial bytes, key identifiers), which CMS needs byte-exact.

import { createHash, randomBytes, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { children, content, der, expectTag, parseDer, raw, readOctetString, readOid, readTime, TAG, type DerNode } from './der.js';
import { ECDSA_SIGNATURE_OID_FOR_HASH, OID, RSA_SIGNATURE_OID_FOR_HASH, type HashName } from './oids.js';

export interface SubjectName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  /** Two-letter country code. */
  country?: string;
}

/**
 * A subject given as attributes in order (one per RDN), for templated identity subjects; the
 * fields of SubjectName are then not encoded (commonName stays for display).
 */
export interface AttributeSubjectName extends SubjectName {
  attributes?: readonly SubjectAttribute[];
}

/** Attribute types an identity subject template may use (RFC 4514 short names, plus E for emailAddress). */
export const SUBJECT_ATTRIBUTE_TYPES = ['CN', 'O', 'OU', 'C', 'L', 'ST', 'E', 'emailAddress', 'UID', 'DC'] as const;
export type SubjectAttributeType = (typeof SUBJECT_ATTRIBUTE_TYPES)[number];

export interface SubjectAttribute {
  type: SubjectAttributeType;
  value: string;
}

/** The OID of each subject attribute type. */
export const SUBJECT_ATTRIBUTE_OIDS: Readonly<Record<SubjectAttributeType, string>> = {
  CN: OID.commonName,
  O: OID.organizationName,
  OU: OID.organizationalUnitName,
  C: OID.countryName,
  L: OID.localityName,
  ST: OID.stateOrProvinceName,
  E: OID.emailAddress,
  emailAddress: OID.emailAddress,
  UID: OID.userId,
  DC: OID.domainComponent,
};

// RFC 5280 upper bounds (ub-common-name 64, ub-organization-name 64, ...); e-mail 255 (PKCS#9)
const SUBJECT_ATTRIBUTE_MAX: Readonly<Record<SubjectAttributeType, number>> = {
  CN: 64,
  O: 64,
  OU: 64,
  C: 2,
  L: 128,
  ST: 128,
  E: 255,
  emailAddress: 255,
  UID: 256,
  DC: 63,
};

/** Why a subject attribute value cannot be encoded, or undefined when it can. */
export function subjectAttributeProblem(attribute: SubjectAttribute): string | undefined {
  const { type, value } = attribute;
  if (value.length === 0) return `${type} is empty`;
  if (type === 'C' && !/^[A-Z]{2}$/.test(value)) return `C must be two capital letters, got ${value}`;
  if (value.length > SUBJECT_ATTRIBUTE_MAX[type]) return `${type} is longer than ${SUBJECT_ATTRIBUTE_MAX[type]} characters`;
  // IA5String types: ASCII only
  if ((type === 'E' || type === 'emailAddress' || type === 'DC') && !/^[\x20-\x7e]+$/.test(value)) return `${type} must be ASCII`;
  return undefined;
}

function encodeAttributes(attributes: readonly SubjectAttribute[]): Buffer {
  if (attributes.length === 0) throw new RangeError('a subject needs at least one attribute');
  return der.sequence(
    ...attributes.map((a) => {
      const problem = subjectAttributeProblem(a);
      if (problem) throw new RangeError(problem);
      let value: Buffer;
      if (a.type === 'C') value = der.printable(a.value);
      else if (a.type === 'E' || a.type === 'emailAddress' || a.type === 'DC') value = der.ia5(a.value);
      else value = der.utf8(a.value);
      return der.setOf(der.sequence(der.oid(SUBJECT_ATTRIBUTE_OIDS[a.type]), value));
    }),
  );
}

export interface CertificateFields {
  serialNumber: Buffer;
  issuerName: Buffer;
  subjectName: Buffer;
  subjectPublicKeyInfo: Buffer;
  subjectKeyIdentifier?: Buffer;
  notBefore: Date;
  notAfter: Date;
}

/** Reads the fields of a DER certificate that node's X509Certificate does not expose as bytes. */
export function readCertificateFields(certificateDer: Buffer): CertificateFields {
  const [tbs] = children(expectTag(parseDer(certificateDer), TAG.SEQUENCE, 'Certificate'));
  const fields = children(expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
  const serial = expectTag(fields[i++], TAG.INTEGER, 'serialNumber');
  i++; // signature AlgorithmIdentifier
  const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer');
  const [notBefore, notAfter] = children(expectTag(fields[i++], TAG.SEQUENCE, 'validity')).map(readTime);
  const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  let subjectKeyIdentifier: Buffer | undefined;
  const extensionsWrapper = fields.slice(i).find((f) => f.tag === 0xa3);
  if (extensionsWrapper) {
    const [list] = children(extensionsWrapper);
    for (const ext of children(expectTag(list, TAG.SEQUENCE, 'Extensions'))) {
      const parts = children(ext);
      if (readOid(parts[0]!) === OID.subjectKeyIdentifier) {
        const value = readOctetString(parts[parts.length - 1]!);
        subjectKeyIdentifier = readOctetString(parseDer(value));
      }
    }
  }
  return {
    serialNumber: content(serial),
    issuerName: raw(issuer),
    subjectName: raw(subject),
    subjectPublicKeyInfo: raw(spki),
    subjectKeyIdentifier,
    notBefore: notBefore!,
    notAfter: notAfter!,
  };
}

/** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const bitString: DerNode = expectTag(children(parseDer(spki))[1], TAG.BIT_STRING, 'subjectPublicKey');
  return createHash('sha1').update(content(bitString).subarray(1)).digest();
}

export function encodeName(name: AttributeSubjectName): Buffer {
  if (name.attributes) return encodeAttributes(name.attributes);
  const rdn = (oid: string, value: Buffer) => der.setOf(der.sequence(der.oid(oid), value));
  const rdns: Buffer[] = [];
  if (name.country !== undefined) {
    if (!/^[A-Z]{2}$/.test(name.country)) throw new RangeError(`country must be two capital letters, got ${name.country}`);
    rdns.push(rdn(OID.countryName, der.printable(name.country)));
  }
  if (name.organization !== undefined) rdns.push(rdn(OID.organizationName, der.utf8(name.organization)));
  if (name.organizationalUnit !== undefined) rdns.push(rdn(OID.organizationalUnitName, der.utf8(name.organizationalUnit)));
  if (!name.commonName) throw new RangeError('commonName must not be empty');
  rdns.push(rdn(OID.commonName, der.utf8(name.commonName)));
  return der.sequence(...rdns);
}

/** 16 random bytes, positive and without a leading zero byte so it encodes as exactly 16 bytes. */
export function randomSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

export interface SignatureChoice {
  hash: HashName;
  algorithmIdentifier: Buffer;
}

/** The signature algorithm a key signs certificates with: SHA-256 for RSA and P-256, matched to larger curves. */
export function certificateSignatureAlgorithm(signingKey: KeyObject): SignatureChoice {
  if (signingKey.asymmetricKeyType === 'rsa') {
    return { hash: 'sha256', algorithmIdentifier: der.sequence(der.oid(RSA_SIGNATURE_OID_FOR_HASH.sha256), der.null()) };
  }
  if (signingKey.asymmetricKeyType === 'ec') {
    const curve = signingKey.asymmetricKeyDetails?.namedCurve;
    const hash: HashName = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
    return { hash, algorithmIdentifier: der.sequence(der.oid(ECDSA_SIGNATURE_OID_FOR_HASH[hash])) };
  }
  throw new RangeError(`unsupported signing key type ${signingKey.asymmetricKeyType ?? 'unknown'}`);
}

// ---------------------------------------------------------------------------------------------
// Extensions

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

export function basicConstraintsExtension(ca: boolean, pathLength?: number): Buffer {
  const parts = ca ? [der.boolean(true), ...(pathLength === undefined ? [] : [der.smallInteger(pathLength)])] : [];
  return extension(OID.basicConstraints, true, der.sequence(...parts));
}

export const KEY_USAGE_BIT = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BIT;

export function keyUsageExtension(usages: KeyUsage[]): Buffer {
  const bytes = [0, 0];
  for (const usage of usages) {
    const bit = KEY_USAGE_BIT[usage];
    bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  // DER: no trailing zero bytes, and the unused-bits count covers trailing zero bits
  while (bytes.length > 1 && bytes[bytes.length - 1] === 0) bytes.pop();
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && last !== 0 && !(last & (1 << unused))) unused++;
  const bitString = Buffer.concat([Buffer.from([TAG.BIT_STRING, bytes.length + 1, unused]), Buffer.from(bytes)]);
  return extension(OID.keyUsage, true, bitString);
}

export function extKeyUsageExtension(purposeOids: string[]): Buffer {
  return extension(OID.extKeyUsage, false, der.sequence(...purposeOids.map((oid) => der.oid(oid))));
}

export function subjectKeyIdentifierExtension(publicKey: KeyObject): Buffer {
  return extension(OID.subjectKeyIdentifier, false, der.octetString(keyIdentifier(publicKey)));
}

export function authorityKeyIdentifierExtension(issuerKeyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicitPrimitive(0, issuerKeyId)));
}

function ipAddressBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6, possibly with :: and an embedded IPv4 tail
  let text = ip;
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** SubjectAltName from host names, IP addresses, URIs (contain "://") and e-mail addresses (contain "@"). */
export function subjectAltNameExtension(names: string[]): Buffer {
  const generalNames = names.map((name) => {
    if (isIPv4(name) || isIPv6(name)) return der.implicitPrimitive(7, ipAddressBytes(name));
    if (name.includes('://')) return der.implicitPrimitive(6, Buffer.from(name, 'latin1'));
    if (name.includes('@')) return der.implicitPrimitive(1, Buffer.from(name, 'latin1'));
    if (!/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(name)) throw new RangeError(`not a valid DNS name: ${name}`);
    return der.implicitPrimitive(2, Buffer.from(name, 'latin1'));
  });
  return extension(OID.subjectAltName, false, der.sequence(...generalNames));
}

/** The SAN types an identity setting may template (Apple's SCEP SubjectAltName keys). */
export const SAN_TYPES = ['rfc822Name', 'dNSName', 'uniformResourceIdentifier', 'ntPrincipalName'] as const;
export type SanType = (typeof SAN_TYPES)[number];

export interface TypedSubjectAltName {
  type: SanType;
  value: string;
}

/** Microsoft's user principal name (an otherName): what Windows and many VPN head-ends map to an account. */
export const UPN_OID = '1.3.6.1.4.1.311.20.2.3';

/** Why a SAN value cannot be encoded as its type, or undefined when it can. */
export function subjectAltNameProblem(san: TypedSubjectAltName): string | undefined {
  const { type, value } = san;
  if (value.length === 0 || value.length > 255) return `${type} must be 1 to 255 characters`;
  switch (type) {
    case 'rfc822Name':
      return /^[\x21-\x7e]+@[\x21-\x7e]+$/.test(value) ? undefined : `rfc822Name is not an e-mail address: ${value}`;
    case 'dNSName':
      return /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(value) ? undefined : `dNSName is not a DNS name: ${value}`;
    case 'uniformResourceIdentifier':
      return /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(value) ? undefined : `uniformResourceIdentifier is not a URI: ${value}`;
    case 'ntPrincipalName':
      return /^[^\s@]+@[^\s@]+$/.test(value) ? undefined : `ntPrincipalName is not user@domain: ${value}`;
  }
}

/** SubjectAltName from typed names (RFC 5280 GeneralName; the UPN as otherName with a UTF8String). */
export function typedSubjectAltNameExtension(names: readonly TypedSubjectAltName[]): Buffer {
  const generalNames = names.map((san) => {
    const problem = subjectAltNameProblem(san);
    if (problem) throw new RangeError(problem);
    switch (san.type) {
      case 'rfc822Name':
        return der.implicitPrimitive(1, Buffer.from(san.value, 'latin1'));
      case 'dNSName':
        return der.implicitPrimitive(2, Buffer.from(san.value, 'latin1'));
      case 'uniformResourceIdentifier':
        return der.implicitPrimitive(6, Buffer.from(san.value, 'latin1'));
      case 'ntPrincipalName':
        // otherName ::= [0] { type-id OID, value [0] EXPLICIT UTF8String }
        return der.implicitConstructed(0, der.oid(UPN_OID), der.explicit(0, der.utf8(san.value)));
    }
  });
  return extension(OID.subjectAltName, false, der.sequence(...generalNames));
}

/** Extended key usages an identity setting may ask for, by name. */
export const EXTENDED_KEY_USAGE_OIDS = {
  clientAuth: OID.clientAuth,
  serverAuth: '1.3.6.1.5.5.7.3.1',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  ipsecIke: '1.3.6.1.5.5.7.3.17',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGE_OIDS;

/** CRLDistributionPoints with one URI (RFC 5280 §4.2.1.13): where relying parties fetch the CRL. */
export function crlDistributionPointsExtension(url: string): Buffer {
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(url)) throw new RangeError(`not an http(s) URL for a CRL: ${url}`);
  const fullName = der.explicit(0, der.implicitPrimitive(6, Buffer.from(url, 'latin1')));
  return extension(OID.cRLDistributionPoints, false, der.sequence(der.sequence(der.explicit(0, fullName))));
}

// ---------------------------------------------------------------------------------------------
// Building

export interface CertificateSpec {
  serialNumber: Buffer;
  issuerName: Buffer;
  subjectName: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
  /** The issuer's private key (the subject's own key for self-signed certificates). */
  signingKey: KeyObject;
}

export function buildCertificate(spec: CertificateSpec): Buffer {
  if (!(spec.notAfter > spec.notBefore)) throw new RangeError('notAfter must be later than notBefore');
  const { hash, algorithmIdentifier } = certificateSignatureAlgorithm(spec.signingKey);
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(spec.serialNumber),
    algorithmIdentifier,
    spec.issuerName,
    der.sequence(der.time(spec.notBefore), der.time(spec.notAfter)),
    spec.subjectName,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...spec.extensions)),
  );
  const signature = sign(hash, tbs, spec.signingKey); // ECDSA signatures come out DER-encoded
  return der.sequence(tbs, algorithmIdentifier, der.bitString(signature));
}

export interface CrlSpec {
  issuerName: Buffer;
  /** The issuer's key identifier (its SubjectKeyIdentifier), for the AuthorityKeyIdentifier extension. */
  issuerKeyId: Buffer;
  signingKey: KeyObject;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Increases with every CRL the issuer publishes (RFC 5280 §5.2.3). */
  crlNumber: number;
  revoked: Array<{ serialNumber: Buffer; revokedAt: Date }>;
}

/** An X.509 v2 CRL (RFC 5280 §5.), DER. */
export function buildCrl(spec: CrlSpec): Buffer {
  if (!(spec.nextUpdate > spec.thisUpdate)) throw new RangeError('nextUpdate must be later than thisUpdate');
  const { hash, algorithmIdentifier } = certificateSignatureAlgorithm(spec.signingKey);
  const revoked = spec.revoked.map((r) => der.sequence(der.unsignedInteger(r.serialNumber), der.time(r.revokedAt)));
  const tbs = der.sequence(
    der.smallInteger(1), // v2
    algorithmIdentifier,
    spec.issuerName,
    der.time(spec.thisUpdate),
    der.time(spec.nextUpdate),
    // An empty list is left out rather than encoded empty (RFC 5280)
    ...(revoked.length ? [der.sequence(...revoked)] : []),
    der.explicit(
      0,
      der.sequence(extension(OID.cRLNumber, false, der.smallInteger(spec.crlNumber)), authorityKeyIdentifierExtension(spec.issuerKeyId)),
    ),
  );
  return der.sequence(tbs, algorithmIdentifier, der.bitString(sign(hash, tbs, spec.signingKey)));
}

export function derToPem(derBytes: Buffer, label = 'CERTIFICATE'): string {
  const lines = derBytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Splits a PEM bundle into its CERTIFICATE blocks (other blocks are ignored). */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((b) => `${b}\n`) ?? [];
}

/**
 * Whether OpenSSL-based clients (certmonger's PKCS7_verify, smime_sign purpose) accept CMS
 * signed by this certificate: a keyUsage, if present, must allow digitalSignature, and an
 * extendedKeyUsage, if present, must allow emailProtection.
 */
export function canSignCms(certificate: X509Certificate): boolean {
  const eku = certificate.keyUsage; // node reports the extendedKeyUsage OIDs here
  if (eku && !eku.includes(OID.emailProtection) && !eku.includes(OID.anyExtendedKeyUsage)) return false;
  const tbs = children(parseDer(certificate.raw))[0]!;
  const extensions = children(tbs).find((node) => node.tag === 0xa3);
  if (!extensions) return true;
  for (const extension of children(expectTag(children(extensions)[0], TAG.SEQUENCE, 'Extensions'))) {
    const parts = children(extension);
    if (readOid(parts[0]!) !== OID.keyUsage) continue;
    const bits = content(parseDer(readOctetString(parts[parts.length - 1]!)));
    return bits.length > 1 && (bits[1]! & 0x80) !== 0; // bit 0: digitalSignature
  }
  return true;
}

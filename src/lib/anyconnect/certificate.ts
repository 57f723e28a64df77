/**
 * AnyConnect client certificates as the head-end sees them: reading one, the fields DAP and
 * `username-from-certificate` use, and the checks an ASA makes before it accepts one for a tunnel
 * group with `authentication certificate` (validity period, a trustpoint's CA signature, the
 * clientAuth extended key usage, the trustpoint's CRL).
 *
 * DAP attribute names follow the ASA's endpoint certificate table as HostScan reports it,
 * `endpoint.certificate.user["0"].subject_cn`, `.issuer_cn`, `.subject_fulldn`, `.serial`,
 * `.time_valid_from`… (Cisco tech note 224470 "Configure LUA Script for DAP"; a real HostScan
 * answer is replayed by public CSD wrappers). The SAN entries (`subject_san_email`, `_upn`,
 * `_dns`) are mockiron's names: Cisco offers SAN matching in DAP but publishes no Lua name for it.
 */
import { X509Certificate, createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import { DerError, TAG, children, content, expectTag, parseDer, raw, readOid, readTime } from '../pki/der.js';
import { ECDSA_SIGNATURE_OIDS, OID, RSA_PKCS1_SIGNATURE_OIDS } from '../pki/oids.js';
import type { CertificateNameField, RevocationCheck, UsernameFromCertificate } from './types.js';

/** A single certificate in PEM is a few kilobytes; anything much larger is not one. */
export const MAX_CLIENT_CERTIFICATE_PEM = 16384;

/** Why the head-end refuses a session; stable machine-readable codes. */
export const AUTHENTICATION_REFUSALS = [
  'missing',
  'expired',
  'not-yet-valid',
  'untrusted-issuer',
  'wrong-eku',
  'revoked',
  'revocation-unavailable',
  'aaa-failed',
] as const;
export type AuthenticationRefusalCode = (typeof AUTHENTICATION_REFUSALS)[number];

export interface AuthenticationRefusal {
  code: AuthenticationRefusalCode;
  message: string;
}

export class ClientCertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientCertificateError';
  }
}

export interface NameAttribute {
  /** Short name as the ASA writes it (CN, OU, EA, UID…); the OID when there is none. */
  field: string;
  value: string;
}

/** The facts of a client certificate the head-end uses. */
export interface ClientCertificateFacts {
  subject: NameAttribute[];
  issuer: NameAttribute[];
  subjectDn: string;
  issuerDn: string;
  /** Upper-case hex without leading zeros. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sha1: string;
  san: { email: string[]; upn: string[]; dns: string[] };
  /** Extended key usage OIDs; null when the certificate has no EKU extension (any purpose). */
  extendedKeyUsage: string[] | null;
  x509: X509Certificate;
}

const NAME_FIELDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'SER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'SP',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.41': 'N',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'I',
  '2.5.4.44': 'GENQ',
  '2.5.4.46': 'DNQ',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'EA',
};

function decodeString(node: ReturnType<typeof parseDer>): string {
  const bytes = content(node);
  if (node.tag === 0x1e) {
    // BMPString: UTF-16 big-endian
    const swapped = Buffer.alloc(bytes.length - (bytes.length % 2));
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      swapped[i] = bytes[i + 1]!;
      swapped[i + 1] = bytes[i]!;
    }
    return swapped.toString('utf16le');
  }
  return node.tag === 0x14 ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** A DER Name as (field, value) pairs in certificate order. */
export function readName(nameDer: Buffer): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of children(expectTag(parseDer(nameDer), TAG.SEQUENCE, 'Name'))) {
    for (const atv of children(expectTag(rdn, TAG.SET, 'RelativeDistinguishedName'))) {
      const [type, value] = children(expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      const oid = readOid(expectTag(type, TAG.OID, 'attribute type'));
      if (!value) throw new DerError('attribute without a value');
      out.push({ field: NAME_FIELDS[oid] ?? oid, value: decodeString(value) });
    }
  }
  return out;
}

/** `CN=jdoe,OU=Sales,O=Example` in certificate order (commas in values escaped). */
export function formatName(attributes: NameAttribute[]): string {
  return attributes.map((a) => `${a.field}=${a.value.replace(/([,+\\])/g, '\\$1')}`).join(',');
}

function normalizeSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

/** Node prints subjectAltName as `email:a@b, othername:UPN:c@d, DNS:x`; values with commas are quoted. */
function readSan(text: string | undefined): ClientCertificateFacts['san'] {
  const san = { email: [] as string[], upn: [] as string[], dns: [] as string[] };
  if (!text) return san;
  for (const part of text.split(/, (?=[A-Za-z ]+:)/)) {
    const unquote = (v: string) => (v.startsWith('"') && v.endsWith('"') ? (JSON.parse(v) as string) : v);
    if (part.startsWith('email:')) san.email.push(unquote(part.slice(6)));
    else if (part.startsWith('DNS:')) san.dns.push(unquote(part.slice(4)));
    else if (part.startsWith('othername:UPN:')) san.upn.push(unquote(part.slice(14)));
  }
  return san;
}

/** Reads exactly one PEM certificate; the message says what is wrong with anything else. */
export function readClientCertificate(pem: string): ClientCertificateFacts {
  if (pem.length > MAX_CLIENT_CERTIFICATE_PEM) {
    throw new ClientCertificateError(`is ${pem.length} characters; a client certificate in PEM is at most ${MAX_CLIENT_CERTIFICATE_PEM}`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) {
    throw new ClientCertificateError(
      blocks.length === 0
        ? 'is not a PEM certificate (expected -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'
        : `holds ${blocks.length} certificates; send only the client certificate`,
    );
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(blocks[0]!);
  } catch {
    throw new ClientCertificateError('is not a readable X.509 certificate');
  }
  let subject: NameAttribute[];
  let issuer: NameAttribute[];
  try {
    const [tbs] = children(expectTag(parseDer(x509.raw), TAG.SEQUENCE, 'Certificate'));
    const fields = children(expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
    const i = fields[0]?.tag === 0xa0 ? 1 : 0;
    issuer = readName(raw(expectTag(fields[i + 2], TAG.SEQUENCE, 'issuer')));
    subject = readName(raw(expectTag(fields[i + 4], TAG.SEQUENCE, 'subject')));
  } catch (err) {
    if (err instanceof DerError) throw new ClientCertificateError(`has an unreadable name: ${err.message}`);
    throw err;
  }
  return {
    subject,
    issuer,
    subjectDn: formatName(subject),
    issuerDn: formatName(issuer),
    serialNumber: normalizeSerial(x509.serialNumber),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    sha1: createHash('sha1').update(x509.raw).digest('hex'),
    san: readSan(x509.subjectAltName),
    extendedKeyUsage: x509.keyUsage ?? null,
    x509,
  };
}

function firstOf(attributes: NameAttribute[], field: string): string | undefined {
  return attributes.find((a) => a.field === field)?.value;
}

/** Which certificate field a `username-from-certificate` name reads (E is EA; ST is SP; UPN is the SAN's UPN). */
export function certificateField(facts: ClientCertificateFacts, field: CertificateNameField): string | undefined {
  switch (field) {
    case 'UPN':
      return facts.san.upn[0];
    case 'E':
    case 'EA':
      return firstOf(facts.subject, 'EA');
    case 'ST':
      return firstOf(facts.subject, 'SP');
    default:
      return firstOf(facts.subject, field);
  }
}

/** The ASA's default when username-from-certificate is not configured: CN, OU as the secondary field. */
export const DEFAULT_USERNAME_FROM_CERTIFICATE: UsernameFromCertificate = { primary: 'CN', secondary: 'OU' };

/**
 * The username an ASA takes from the certificate. `use-entire-name`: the whole subject DN.
 * Otherwise the primary field; the secondary field when the certificate has no primary one
 * (mockiron's reading of "an additional attribute to use with the primary"; see docs).
 */
export function usernameFromCertificate(
  facts: ClientCertificateFacts,
  setting: UsernameFromCertificate | null,
): { username: string | null; from: string } {
  const s = setting ?? DEFAULT_USERNAME_FROM_CERTIFICATE;
  if (s === 'use-entire-name') return { username: facts.subjectDn || null, from: 'the entire subject DN' };
  const primary = certificateField(facts, s.primary);
  if (primary) return { username: primary, from: `the certificate's ${s.primary}` };
  const secondary = s.secondary ? certificateField(facts, s.secondary) : undefined;
  if (secondary) return { username: secondary, from: `the certificate's ${s.secondary} (it has no ${s.primary})` };
  return { username: null, from: `the certificate has no ${s.primary}${s.secondary ? ` or ${s.secondary}` : ''}` };
}

export const CERTIFICATE_DAP_PREFIX = 'endpoint.certificate.user["0"].';

/** The certificate's fields as DAP endpoint attributes (the first value of a repeated field). */
export function certificateDapAttributes(facts: ClientCertificateFacts): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out[`${CERTIFICATE_DAP_PREFIX}${name}`] = value;
  };
  put('subject_fulldn', facts.subjectDn);
  for (const [name, field] of [
    ['cn', 'CN'],
    ['e', 'EA'],
    ['ou', 'OU'],
    ['o', 'O'],
    ['c', 'C'],
    ['l', 'L'],
    ['st', 'SP'],
    ['uid', 'UID'],
  ] as const) {
    put(`subject_${name}`, firstOf(facts.subject, field));
  }
  put('issuer_fulldn', facts.issuerDn);
  for (const [name, field] of [
    ['cn', 'CN'],
    ['ou', 'OU'],
    ['o', 'O'],
    ['c', 'C'],
  ] as const) {
    put(`issuer_${name}`, firstOf(facts.issuer, field));
  }
  put('subject_san_email', facts.san.email[0]);
  put('subject_san_upn', facts.san.upn[0]);
  put('subject_san_dns', facts.san.dns[0]);
  // HostScan's forms: colon-separated lower-case serial, validity as Unix seconds
  put('serial', (facts.serialNumber.length % 2 ? `0${facts.serialNumber}` : facts.serialNumber).toLowerCase().match(/../g)!.join(':'));
  put('time_valid_from', String(Math.floor(facts.notBefore.getTime() / 1000)));
  put('time_valid_to', String(Math.floor(facts.notAfter.getTime() / 1000)));
  put('sha1_hash', facts.sha1);
  return out;
}

// ---- CRLs -----------------------------------------------------------------------------------

export interface ParsedCrl {
  issuerName: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Revoked serial numbers (upper-case hex, no leading zeros) → revocation date. */
  revoked: Map<string, Date>;
  tbs: Buffer;
  signatureOid: string;
  signature: Buffer;
}

/** RFC 5280 §5.1 CertificateList, read with the DER codec. Throws DerError for anything else. */
export function parseCrl(derBytes: Buffer): ParsedCrl {
  const [tbsNode, algorithm, signatureNode] = children(expectTag(parseDer(derBytes), TAG.SEQUENCE, 'CertificateList'));
  const tbsSequence = expectTag(tbsNode, TAG.SEQUENCE, 'TBSCertList');
  const tbsFields = children(tbsSequence);
  let i = tbsFields[0]?.tag === TAG.INTEGER ? 1 : 0; // optional version
  i++; // signature AlgorithmIdentifier (repeated outside)
  const issuer = expectTag(tbsFields[i++], TAG.SEQUENCE, 'issuer');
  const thisUpdate = readTime(tbsFields[i++]!);
  let nextUpdate: Date | null = null;
  const next = tbsFields[i];
  if (next && (next.tag === TAG.UTC_TIME || next.tag === TAG.GENERALIZED_TIME)) {
    nextUpdate = readTime(next);
    i++;
  }
  const revoked = new Map<string, Date>();
  const list = tbsFields[i];
  if (list && list.tag === TAG.SEQUENCE) {
    for (const entry of children(list)) {
      const [serial, date] = children(expectTag(entry, TAG.SEQUENCE, 'revokedCertificate'));
      if (!date) throw new DerError('revokedCertificate without a revocationDate');
      revoked.set(normalizeSerial(content(expectTag(serial, TAG.INTEGER, 'userCertificate')).toString('hex')), readTime(date));
    }
  }
  const [algOid] = children(expectTag(algorithm, TAG.SEQUENCE, 'signatureAlgorithm'));
  const bits = content(expectTag(signatureNode, TAG.BIT_STRING, 'signatureValue'));
  return {
    issuerName: raw(issuer),
    thisUpdate,
    nextUpdate,
    revoked,
    tbs: raw(tbsSequence),
    signatureOid: readOid(expectTag(algOid, TAG.OID, 'signature algorithm')),
    signature: bits.subarray(1), // the unused-bits octet
  };
}

/** Whether the CRL's signature verifies with the CA's key (RSA PKCS#1 v1.5, ECDSA or Ed25519). */
export function crlSignatureValid(crl: ParsedCrl, caKey: KeyObject): boolean {
  try {
    const rsaHash = RSA_PKCS1_SIGNATURE_OIDS[crl.signatureOid];
    if (rsaHash) return verifySignature(rsaHash, crl.tbs, caKey, crl.signature);
    const ecHash = ECDSA_SIGNATURE_OIDS[crl.signatureOid];
    if (ecHash) return verifySignature(ecHash, crl.tbs, { key: caKey, dsaEncoding: 'der' }, crl.signature);
    if (crl.signatureOid === '1.3.101.112') return verifySignature(null, crl.tbs, caKey, crl.signature);
  } catch {
    return false;
  }
  return false;
}

// ---- validation -----------------------------------------------------------------------------

/** A trustpoint ready to validate against: its CA certificate and, when it has one, its CRL (DER). */
export interface TrustAnchor {
  trustpoint: string;
  /** null: the CA certificate is not available (e.g. mockiron holds no CA key). */
  caCertificatePem: string | null;
  revocationCheck: RevocationCheck;
  crl: Buffer | null;
  /** Why the CRL could not be had, when crl is null. */
  crlUnavailable?: string;
}

export interface CertificateValidation {
  ok: boolean;
  refusal: AuthenticationRefusal | null;
  /** What was checked, in order, each with its outcome. */
  checks: string[];
  trustpoint: string | null;
}

function refuse(
  code: AuthenticationRefusalCode,
  message: string,
  checks: string[],
  trustpoint: string | null = null,
): CertificateValidation {
  checks.push(`refused (${code}): ${message}`);
  return { ok: false, refusal: { code, message }, checks, trustpoint };
}

/**
 * The ASA's checks of a client certificate, in its order: validity period, a trustpoint whose CA
 * signed it (X509Certificate.checkIssued + verify), the clientAuth extended key usage (a
 * certificate without the EKU extension may be used for any purpose, RFC 5280 §4.2.1.12), then
 * revocation per the trustpoint's `revocation-check` (its CRL's signature checked first).
 */
export function validateClientCertificate(facts: ClientCertificateFacts, anchors: TrustAnchor[], now: Date): CertificateValidation {
  const checks: string[] = [];
  const label = `certificate '${facts.subjectDn}' (serial ${facts.serialNumber}, issuer '${facts.issuerDn}')`;
  checks.push(`client certificate: ${label}`);
  if (now < facts.notBefore) {
    return refuse('not-yet-valid', `the certificate is not valid before ${facts.notBefore.toISOString()}`, checks);
  }
  if (now > facts.notAfter) {
    return refuse('expired', `the certificate expired at ${facts.notAfter.toISOString()}`, checks);
  }
  checks.push(`validity: ${facts.notBefore.toISOString()} to ${facts.notAfter.toISOString()} covers now: ok`);

  let anchor: TrustAnchor | null = null;
  let caCertificate: X509Certificate | null = null;
  const tried: string[] = [];
  for (const a of anchors) {
    if (a.caCertificatePem === null) {
      tried.push(`${a.trustpoint} (no CA certificate available)`);
      continue;
    }
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(a.caCertificatePem);
    } catch {
      tried.push(`${a.trustpoint} (its CA certificate is unreadable)`);
      continue;
    }
    if (facts.x509.checkIssued(ca) && facts.x509.verify(ca.publicKey)) {
      anchor = a;
      caCertificate = ca;
      break;
    }
    tried.push(`${a.trustpoint} ('${ca.subject.replace(/\n/g, ',')}')`);
  }
  if (!anchor || !caCertificate) {
    return refuse(
      'untrusted-issuer',
      `no trustpoint's CA issued the certificate (its issuer is '${facts.issuerDn}'; tried ${tried.join(', ') || 'no trustpoint'})`,
      checks,
    );
  }
  checks.push(`issuer: signed by the CA of trustpoint ${anchor.trustpoint}: ok`);

  const eku = facts.extendedKeyUsage;
  if (eku === null) {
    checks.push('extended key usage: none (any purpose): ok');
  } else if (eku.includes(OID.clientAuth) || eku.includes(OID.anyExtendedKeyUsage)) {
    checks.push('extended key usage: clientAuth: ok');
  } else {
    return refuse(
      'wrong-eku',
      `the certificate's extended key usage (${eku.join(', ')}) does not include clientAuth (1.3.6.1.5.5.7.3.2)`,
      checks,
      anchor.trustpoint,
    );
  }

  if (anchor.revocationCheck === 'none') {
    checks.push(`revocation: trustpoint ${anchor.trustpoint} has revocation-check none: not checked`);
    return { ok: true, refusal: null, checks, trustpoint: anchor.trustpoint };
  }
  const fallback = anchor.revocationCheck === 'crl none';
  const unavailable = (why: string): CertificateValidation => {
    if (fallback) {
      checks.push(`revocation: ${why}; revocation-check crl none falls back to no check: ok`);
      return { ok: true, refusal: null, checks, trustpoint: anchor.trustpoint };
    }
    return refuse(
      'revocation-unavailable',
      `${why}, and trustpoint ${anchor.trustpoint} has revocation-check crl (no fallback)`,
      checks,
      anchor.trustpoint,
    );
  };
  if (anchor.crl === null)
    return unavailable(`no CRL for trustpoint ${anchor.trustpoint}${anchor.crlUnavailable ? ` (${anchor.crlUnavailable})` : ''}`);
  let crl: ParsedCrl;
  try {
    crl = parseCrl(anchor.crl);
  } catch (err) {
    if (err instanceof DerError) return unavailable(`the CRL of trustpoint ${anchor.trustpoint} is unreadable (${err.message})`);
    throw err;
  }
  const caSubject = Buffer.from(caCertificate.raw);
  const caName = readCaSubjectName(caSubject);
  if (!crl.issuerName.equals(caName)) return unavailable(`the CRL of trustpoint ${anchor.trustpoint} was issued by another CA`);
  if (!crlSignatureValid(crl, caCertificate.publicKey))
    return unavailable(`the CRL's signature does not verify with the CA of trustpoint ${anchor.trustpoint}`);
  if (crl.nextUpdate && crl.nextUpdate < now)
    return unavailable(`the CRL of trustpoint ${anchor.trustpoint} is out of date (nextUpdate ${crl.nextUpdate.toISOString()})`);
  const revokedAt = crl.revoked.get(facts.serialNumber);
  if (revokedAt) {
    return refuse(
      'revoked',
      `the CRL of trustpoint ${anchor.trustpoint} lists serial ${facts.serialNumber} as revoked at ${revokedAt.toISOString()}`,
      checks,
      anchor.trustpoint,
    );
  }
  checks.push(
    `revocation: the CRL of trustpoint ${anchor.trustpoint} (signature verified, ${crl.revoked.size} revoked) does not list it: ok`,
  );
  return { ok: true, refusal: null, checks, trustpoint: anchor.trustpoint };
}

function readCaSubjectName(caDer: Buffer): Buffer {
  const [tbs] = children(expectTag(parseDer(caDer), TAG.SEQUENCE, 'Certificate'));
  const fields = children(expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const i = fields[0]?.tag === 0xa0 ? 1 : 0;
  return raw(expectTag(fields[i + 4], TAG.SEQUENCE, 'subject'));
}

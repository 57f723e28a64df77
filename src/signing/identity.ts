// Signing identities and the certificate authority that issues them. Pure: no file I/O.

import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  buildCertificate,
  buildCrl,
  crlDistributionPointsExtension,
  derToPem,
  encodeName,
  extKeyUsageExtension,
  keyIdentifier,
  keyUsageExtension,
  randomSerialNumber,
  readCertificateFields,
  splitPemCertificates,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
  typedSubjectAltNameExtension,
  type AttributeSubjectName,
  type KeyUsage,
  type SubjectName,
  type TypedSubjectAltName,
} from '../lib/pki/x509.js';
import { OID } from '../lib/pki/oids.js';

export type { SubjectName } from '../lib/pki/x509.js';

export type KeyType = 'rsa' | 'ec';

/** What signs profiles: a private key, its certificate, and the certificates up to a trust anchor. */
export interface SigningIdentity {
  readonly privateKey: KeyObject;
  readonly certificate: X509Certificate;
  /** Intermediate certificates between the signer and the trust anchor, nearest first. */
  readonly chain: readonly X509Certificate[];
  /** The root that relying parties must trust (for a self-signed signer, the signer itself). */
  readonly trustAnchor: X509Certificate;
}

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** Certificates issued too close to "now" fail on clients whose clocks lag a little. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export function generateKeyPair(keyType: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  return keyType === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export type CertificateProfile = 'signer' | 'device' | 'tls-server' | 'intermediate-ca' | 'identity';

export interface IssueCertificateOptions {
  subject: AttributeSubjectName;
  publicKey: KeyObject;
  profile: CertificateProfile;
  /** Defaults: signer 730, device 365, tls-server 397 (Apple's limit is 398), intermediate-ca 1825. */
  validityDays?: number;
  /** Overrides for tests and backdating; notBefore defaults to five minutes ago. */
  notBefore?: Date;
  notAfter?: Date;
  /** DNS names, IP addresses, URIs or e-mail addresses. tls-server defaults to the common name. */
  sans?: string[];
  /** Where this CA's CRL is published: added as the CRL distribution point. */
  crlUrl?: string;
  /** identity profile: what a certificate enrollment setting asks for (key usage, EKU OIDs, typed SANs). */
  identity?: { keyUsages: KeyUsage[]; extendedKeyUsageOids: string[]; subjectAltNames: TypedSubjectAltName[] };
}

export interface IssuedCertificate {
  readonly certificate: X509Certificate;
  readonly der: Buffer;
  readonly pem: string;
  /** Upper-case hex, as X509Certificate.serialNumber reports it. */
  readonly serialNumber: string;
}

const DEFAULT_VALIDITY_DAYS: Record<CertificateProfile, number> = {
  signer: 730,
  device: 365,
  'tls-server': 397,
  'intermediate-ca': 1825,
  identity: 365,
};

function profileExtensions(profile: CertificateProfile, options: IssueCertificateOptions): Buffer[] {
  const rsa = options.publicKey.asymmetricKeyType === 'rsa';
  // RSA key transport TLS suites need keyEncipherment; EC keys must not claim it
  const signing: KeyUsage[] = rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  switch (profile) {
    case 'signer':
      // emailProtection makes OpenSSL's default smimesign purpose accept it; codeSigning documents intent
      return [
        basicConstraintsExtension(false),
        keyUsageExtension(['digitalSignature']),
        extKeyUsageExtension([OID.emailProtection, OID.codeSigning]),
        ...(options.sans?.length ? [subjectAltNameExtension(options.sans)] : []),
      ];
    case 'device':
      return [
        basicConstraintsExtension(false),
        keyUsageExtension(signing),
        extKeyUsageExtension([OID.clientAuth]),
        ...(options.sans?.length ? [subjectAltNameExtension(options.sans)] : []),
      ];
    case 'tls-server':
      // Clients ignore the CN for host matching; the SAN is what counts
      return [
        basicConstraintsExtension(false),
        keyUsageExtension(signing),
        extKeyUsageExtension([OID.serverAuth]),
        subjectAltNameExtension(options.sans?.length ? options.sans : [options.subject.commonName]),
      ];
    case 'intermediate-ca':
      return [basicConstraintsExtension(true, 0), keyUsageExtension(['keyCertSign', 'cRLSign', 'digitalSignature'])];
    case 'identity': {
      // A per-device identity from a certificate enrollment setting: its key usage, EKU and SANs, not the CSR's
      const identity = options.identity ?? { keyUsages: signing, extendedKeyUsageOids: [OID.clientAuth], subjectAltNames: [] };
      return [
        basicConstraintsExtension(false),
        keyUsageExtension(identity.keyUsages.length ? identity.keyUsages : signing),
        ...(identity.extendedKeyUsageOids.length ? [extKeyUsageExtension(identity.extendedKeyUsageOids)] : []),
        ...(identity.subjectAltNames.length ? [typedSubjectAltNameExtension(identity.subjectAltNames)] : []),
      ];
    }
  }
}

/**
 * A CA whose private key is held here. Issues signer, device, TLS server and intermediate CA
 * certificates with random 128-bit serial numbers.
 */
export class CertificateAuthority {
  // An ES private field so the key never shows up in console.log / JSON output of the CA
  readonly #privateKey: KeyObject;
  readonly certificate: X509Certificate;
  readonly #subjectName: Buffer;
  readonly #keyId: Buffer;

  constructor(certificate: X509Certificate, privateKey: KeyObject) {
    if (!certificate.checkPrivateKey(privateKey)) {
      throw new IdentityError('the CA private key does not match the CA certificate');
    }
    if (!certificate.ca) throw new IdentityError(`${certificate.subject} is not a CA certificate (basicConstraints CA:FALSE)`);
    this.certificate = certificate;
    this.#privateKey = privateKey;
    const fields = readCertificateFields(certificate.raw);
    this.#subjectName = fields.subjectName;
    this.#keyId = fields.subjectKeyIdentifier ?? keyIdentifier(certificate.publicKey);
  }

  static fromPem(certificatePem: string, privateKeyPem: string): CertificateAuthority {
    return new CertificateAuthority(new X509Certificate(certificatePem), createPrivateKey(privateKeyPem));
  }

  /** A new self-signed root. */
  static create(options: { subject?: SubjectName; keyType?: KeyType; validityDays?: number } = {}): CertificateAuthority {
    const { privateKey, publicKey } = generateKeyPair(options.keyType ?? 'rsa');
    const subjectName = encodeName(options.subject ?? { commonName: 'mockiron Signing CA', organization: 'mockiron' });
    const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
    const derBytes = buildCertificate({
      serialNumber: randomSerialNumber(),
      issuerName: subjectName,
      subjectName,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (options.validityDays ?? 3650) * DAY_MS),
      publicKey,
      signingKey: privateKey,
      extensions: [
        basicConstraintsExtension(true),
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        subjectKeyIdentifierExtension(publicKey),
      ],
    });
    return new CertificateAuthority(new X509Certificate(derBytes), privateKey);
  }

  get certificatePem(): string {
    return this.certificate.toString();
  }

  /** PKCS#8 PEM of the CA key, for the identity store. Keep it out of logs. */
  /** A CRL listing these revoked certificates, signed by this CA. */
  issueCrl(options: {
    revoked: Array<{ serialNumberHex: string; revokedAt: Date }>;
    crlNumber: number;
    thisUpdate?: Date;
    validityHours?: number;
  }): Buffer {
    const thisUpdate = options.thisUpdate ?? new Date();
    return buildCrl({
      issuerName: this.#subjectName,
      issuerKeyId: this.#keyId,
      signingKey: this.#privateKey,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + (options.validityHours ?? 24) * 3_600_000),
      crlNumber: options.crlNumber,
      revoked: options.revoked.map((r) => ({
        serialNumber: Buffer.from(r.serialNumberHex.length % 2 ? `0${r.serialNumberHex}` : r.serialNumberHex, 'hex'),
        revokedAt: r.revokedAt,
      })),
    });
  }

  exportPrivateKeyPem(): string {
    return this.#privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  issueCertificate(options: IssueCertificateOptions): IssuedCertificate {
    const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
    const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS[options.profile];
    const notAfter = options.notAfter ?? new Date(notBefore.getTime() + validityDays * DAY_MS);
    if (options.publicKey.type !== 'public') {
      throw new IdentityError('issueCertificate needs a public key (use createPublicKey(privateKey))');
    }
    const derBytes = buildCertificate({
      serialNumber: randomSerialNumber(),
      issuerName: this.#subjectName,
      subjectName: encodeName(options.subject),
      notBefore,
      notAfter,
      publicKey: options.publicKey,
      signingKey: this.#privateKey,
      extensions: [
        ...profileExtensions(options.profile, options),
        subjectKeyIdentifierExtension(options.publicKey),
        authorityKeyIdentifierExtension(this.#keyId),
        ...(options.crlUrl ? [crlDistributionPointsExtension(options.crlUrl)] : []),
      ],
    });
    const certificate = new X509Certificate(derBytes);
    return { certificate, der: derBytes, pem: derToPem(derBytes), serialNumber: certificate.serialNumber };
  }

  /** A new key pair plus a certificate for it: the common case for signers and test identities. */
  issueKeyAndCertificate(
    options: Omit<IssueCertificateOptions, 'publicKey'> & { keyType?: KeyType },
  ): IssuedCertificate & { privateKey: KeyObject } {
    const { privateKey, publicKey } = generateKeyPair(options.keyType ?? 'rsa');
    return { ...this.issueCertificate({ ...options, publicKey }), privateKey };
  }
}

export interface CreatedSigningIdentity {
  ca: CertificateAuthority;
  identity: SigningIdentity;
}

/** A fresh CA and a profile signer it issued, both of the given key type. */
export function createSigningIdentity(options: { keyType?: KeyType; organization?: string } = {}): CreatedSigningIdentity {
  const keyType = options.keyType ?? 'rsa';
  const organization = options.organization ?? 'mockiron';
  const ca = CertificateAuthority.create({ keyType, subject: { commonName: `${organization} Signing CA`, organization } });
  const signer = ca.issueKeyAndCertificate({
    keyType,
    profile: 'signer',
    subject: { commonName: `${organization} Profile Signer`, organization },
  });
  return {
    ca,
    identity: { privateKey: signer.privateKey, certificate: signer.certificate, chain: [], trustAnchor: ca.certificate },
  };
}

function isSelfIssued(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/**
 * Checks that the key belongs to the certificate, then orders the chain certificates from the
 * signer upwards (input order does not matter). Every chain certificate must be used; the top one
 * becomes the trust anchor. Without chain certificates the signer must be self-signed.
 */
export function assembleSigningIdentity(
  privateKey: KeyObject,
  certificate: X509Certificate,
  chainCertificates: readonly X509Certificate[],
): SigningIdentity {
  if (privateKey.type !== 'private') throw new IdentityError('the key is not a private key');
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new IdentityError(`the private key does not match the certificate ${certificate.subject}`);
  }
  const pool = chainCertificates.filter((c) => c.fingerprint256 !== certificate.fingerprint256);
  const ordered: X509Certificate[] = [];
  let current = certificate;
  while (pool.length > 0) {
    const index = pool.findIndex((candidate) => issuedBy(current, candidate));
    if (index < 0) {
      throw new IdentityError(
        `the chain does not link: no chain certificate issued ${current.subject.replace(/\n/g, ', ')} ` +
          `(unused: ${pool.map((c) => c.subject.replace(/\n/g, ', ')).join('; ')})`,
      );
    }
    current = pool.splice(index, 1)[0]!;
    ordered.push(current);
  }
  if (ordered.length === 0) {
    if (!isSelfIssued(certificate)) {
      throw new IdentityError('no chain given and the certificate is not self-signed; pass its issuing CA certificates');
    }
    return { privateKey, certificate, chain: [], trustAnchor: certificate };
  }
  const trustAnchor = ordered.pop()!;
  return { privateKey, certificate, chain: ordered, trustAnchor };
}

export interface PemIdentitySource {
  keyPem: string;
  certPem: string;
  chainPem?: string;
  /** For encrypted PEM keys. */
  passphrase?: string;
}

export function identityFromPem(source: PemIdentitySource): SigningIdentity {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: source.keyPem, format: 'pem', passphrase: source.passphrase });
  } catch (err) {
    throw new IdentityError(`cannot read the private key: ${(err as Error).message}`);
  }
  const certs = splitPemCertificates(source.certPem);
  if (certs.length === 0) throw new IdentityError('the certificate file contains no PEM certificate');
  let parsed: X509Certificate[];
  try {
    parsed = [...certs, ...splitPemCertificates(source.chainPem ?? '')].map((pem) => new X509Certificate(pem));
  } catch (err) {
    throw new IdentityError(`cannot read a certificate: ${(err as Error).message}`);
  }
  if (source.chainPem !== undefined && source.chainPem.trim() !== '' && splitPemCertificates(source.chainPem).length === 0) {
    throw new IdentityError('the chain file contains no PEM certificate');
  }
  // A certificate file holding a whole bundle is common: the first is the signer
  return assembleSigningIdentity(privateKey, parsed[0]!, parsed.slice(1));
}

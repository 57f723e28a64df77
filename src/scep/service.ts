// Our CA as a SCEP (RFC 8894) server for device identities. The message layer (src/lib/scep) is
// pure; this decides: a PKCSReq is authorized by a one-time challenge password (stored only as a
// SHA-256 hash), a RenewalReq by a certificate we issued, and a GetCertInitial is answered from
// the certificates recorded here. Refusals are CertRep FAILUREs, not HTTP errors: that is what
// SCEP clients understand.
import { createHash, createPrivateKey, randomInt, X509Certificate, type KeyObject } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/store.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { ApiError } from '../platform/http/errors.js';
import type { Logger } from '../platform/logger.js';
import { children, content, expectTag, parseDer, readOctetString, readOid, TAG } from '../lib/pki/der.js';
import type { CertificateAuthority, SubjectName } from '../signing/identity.js';
import { OID } from '../lib/pki/oids.js';
import type { SigningService } from '../signing/service.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  buildCertificate,
  encodeName,
  keyIdentifier,
  keyUsageExtension,
  readCertificateFields,
  subjectKeyIdentifierExtension,
} from '../lib/pki/x509.js';
import {
  buildCertRep,
  caCaps,
  caCertResponse,
  parsePkiMessage,
  ScepMessageError,
  type CertificateRequestMessage,
  type CertPollMessage,
  type FailInfo,
  type PkiStatus,
  type ScepHttpBody,
  type ScepRequest,
} from '../lib/scep/index.js';
import { scepStore } from './store.js';

export type ChallengePurpose = 'enrollment' | 'admin';
export type CertificateSource = 'scep' | 'pkcs12';

/** Device certificates issued over SCEP. */
export const DEVICE_CERTIFICATE_VALIDITY_DAYS = 365;
export const DEFAULT_CHALLENGE_TTL_MINUTES = 60;
export const MAX_CHALLENGE_TTL_MINUTES = 7 * 24 * 60;

// Letters and digits only: URL-safe, and a PrintableString, which is how devices put the
// challengePassword into their CSR (base64url's '_' would force a UTF8String on some clients).
const CHALLENGE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const CHALLENGE_LENGTH = 32;

export function hashChallenge(challenge: string): string {
  return createHash('sha256').update(challenge, 'utf8').digest('hex');
}

/** Lower-case hex SHA-256 of the DER certificate, no separators: the form stored in DeviceCertificate. */
export function certificateFingerprint(certificate: X509Certificate | Buffer): string {
  const der = Buffer.isBuffer(certificate) ? certificate : certificate.raw;
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts "AB:CD:..." (X509Certificate.fingerprint256) as well as plain hex. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[:\s]/g, '').toLowerCase();
}

export interface MintChallengeInput {
  purpose: ChallengePurpose;
  deviceRef?: number | null;
  ttlMinutes?: number;
  /** Admin username, or e.g. "enrollment". */
  createdBy: string;
}

export interface MintedChallenge {
  /** The only copy of the challenge: hand it to the device, never store or log it. */
  challenge: string;
  expiresAt: Date;
  id: number;
}

export interface RecordCertificateInput {
  certificate: X509Certificate;
  deviceRef?: number | null;
  source: CertificateSource;
  /** SCEP transactionID, so GetCertInitial can find the certificate again. */
  transactionId?: string | null;
}

export interface CertificateOwner {
  deviceRef: number | null;
  revoked: boolean;
  notAfter: Date;
}

/** What a PKIOperation comes to: a CertRep to send (200), or a body no CertRep can answer (400). */
export type PkiOperationOutcome =
  | { kind: 'certRep'; body: Buffer; status: PkiStatus; failInfo?: FailInfo; transactionID: string }
  | { kind: 'unanswerable'; message: string };

/** The CA key is not here (imported identity) or cannot do SCEP: every /scep operation is 503. */
export class ScepUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScepUnavailableError';
  }
}

interface Authority {
  ca: CertificateAuthority;
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** Set when the CA certificate itself may not sign CMS (see scepRaCertificate). */
  ra?: X509Certificate;
}

/**
 * Whether OpenSSL-based clients (certmonger's PKCS7_verify, smime_sign purpose) accept CMS
 * signed by this certificate: a keyUsage, if present, must allow digitalSignature, and an
 * extendedKeyUsage, if present, must allow emailProtection.
 */
export function canSignCms(certificate: X509Certificate): boolean {
  const eku = certificate.keyUsage; // node reports the extendedKeyUsage OIDs here
  if (eku && !eku.includes(OID.emailProtection) && !eku.includes('2.5.29.37.0')) return false;
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

/**
 * Our generated CA's keyUsage is keyCertSign/cRLSign only, so OpenSSL clients reject CertReps it
 * signs ("unsuitable certificate purpose"). SCEP's answer is an RA certificate (RFC 8894 §2.1):
 * this one certifies the CA's own key for digitalSignature and keyEncipherment, so requests
 * encrypted to it still open with the CA key. It is derived only from the CA (fixed serial,
 * the CA's validity, deterministic RSA PKCS#1 v1.5 signature), so it is the same certificate
 * after every restart and clients that cached it keep working.
 */
export function scepRaCertificate(caCertificate: X509Certificate, caKey: KeyObject): X509Certificate {
  const ca = readCertificateFields(caCertificate.raw);
  const serialNumber = createHash('sha256').update('mockiron SCEP RA').update(caCertificate.raw).digest().subarray(0, 16);
  serialNumber[0] = (serialNumber[0]! & 0x7f) | 0x40; // positive, exactly 16 bytes
  const publicKey = caCertificate.publicKey;
  const organization = /^O=(.+)$/m.exec(caCertificate.subject)?.[1];
  return new X509Certificate(
    buildCertificate({
      serialNumber,
      issuerName: ca.subjectName,
      subjectName: encodeName({ commonName: 'mockiron SCEP RA', ...(organization ? { organization } : {}) }),
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
      publicKey,
      signingKey: caKey,
      extensions: [
        basicConstraintsExtension(false),
        keyUsageExtension(['digitalSignature', 'keyEncipherment']),
        subjectKeyIdentifierExtension(publicKey),
        authorityKeyIdentifierExtension(ca.subjectKeyIdentifier ?? keyIdentifier(publicKey)),
      ],
    }),
  );
}

/** A refusal decided here (not by the codec): becomes a CertRep FAILURE. */
class Refusal {
  constructor(
    readonly failInfo: FailInfo,
    readonly reason: string,
  ) {}
}

const signerOf = (authority: Authority) => ({ privateKey: authority.privateKey, certificate: authority.ra ?? authority.certificate });

type Decision = { issued: X509Certificate; serialNumber: string; deviceRef: number | null } | Refusal;

export function certificateView(row: {
  id: number;
  serialNumber: string;
  fingerprintSha256: string;
  subject: string;
  deviceRef: number | null;
  device?: { uuid: string } | null;
  source: string;
  transactionId: string | null;
  notBefore: Date;
  notAfter: Date;
  revoked: boolean;
  revokedAt: Date | null;
  createdAt: Date;
}) {
  return {
    id: row.id,
    serialNumber: row.serialNumber,
    fingerprintSha256: row.fingerprintSha256,
    subject: row.subject,
    deviceRef: row.deviceRef,
    deviceUuid: row.device?.uuid ?? null,
    source: row.source,
    transactionId: row.transactionId,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    revoked: row.revoked,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export class ScepService {
  #authority: Authority | undefined;

  constructor(
    readonly db: Db,
    readonly signing: SigningService,
    readonly publicUrl: string,
    readonly logger: Logger,
  ) {}

  /** The SCEP URL devices are given. */
  get url(): string {
    return `${this.publicUrl.replace(/\/+$/, '')}/scep`;
  }

  /** Why SCEP cannot run here, or undefined when it can. */
  unavailableReason(): string | undefined {
    const ca = this.signing.ca;
    if (!ca) {
      return 'SCEP is unavailable: this server signs with an imported identity and does not hold its CA key, so it cannot issue device certificates';
    }
    if (ca.certificate.publicKey.asymmetricKeyType !== 'rsa') {
      return 'SCEP is unavailable: the CA key is not RSA, and SCEP encrypts requests to the CA by RSA key transport';
    }
    return undefined;
  }

  get available(): boolean {
    return this.unavailableReason() === undefined;
  }

  private authority(): Authority {
    const reason = this.unavailableReason();
    if (reason) throw new ScepUnavailableError(reason);
    const ca = this.signing.ca!;
    if (this.#authority?.ca !== ca) {
      const privateKey = createPrivateKey(ca.exportPrivateKeyPem());
      const ra = canSignCms(ca.certificate) ? undefined : scepRaCertificate(ca.certificate, privateKey);
      this.#authority = { ca, certificate: ca.certificate, privateKey, ...(ra ? { ra } : {}) };
    }
    return this.#authority;
  }

  // -------------------------------------------------------------------------------------------
  // SCEP operations

  getCaCaps(): string {
    this.authority();
    return caCaps();
  }

  /** The CA certificate, with the RA certificate when there is one (a certs-only PKCS#7 then). */
  getCaCert(): ScepHttpBody {
    const authority = this.authority();
    return caCertResponse(authority.certificate.raw, authority.ra ? [authority.ra.raw] : []);
  }

  /** The certificate that signs CertReps: the RA when there is one, else the CA. */
  get signerCertificate(): X509Certificate {
    const authority = this.authority();
    return authority.ra ?? authority.certificate;
  }

  /** Answers one PKIOperation request (the DER PKIMessage). */
  async pkiOperation(messageDer: Buffer): Promise<PkiOperationOutcome> {
    const authority = this.authority();
    let request: ScepRequest;
    try {
      request = parsePkiMessage(messageDer, {
        caCert: authority.certificate,
        caKey: authority.privateKey,
        ...(authority.ra ? { raCert: authority.ra, raKey: authority.privateKey } : {}),
      });
    } catch (err) {
      if (!(err instanceof ScepMessageError)) throw err;
      if (!err.canAnswerWithCertRep) {
        this.logger.warn({ scep: { failInfo: err.failInfo, reason: err.message } }, 'SCEP request unreadable');
        return { kind: 'unanswerable', message: `not a SCEP PKIMessage this CA can answer: ${err.message}` };
      }
      const transactionID = err.transactionID!;
      this.logRefusal(err.recovered.messageType, transactionID, err.failInfo, err.message);
      return this.failure(authority, transactionID, err.senderNonce!, err.failInfo, err.message);
    }

    let decision: Decision;
    try {
      if (request.messageType === 'GetCertInitial') decision = await this.decidePoll(request);
      else if (request.messageType === 'RenewalReq') decision = await this.decideRenewal(authority, request);
      else decision = await this.decideEnrollment(authority, request);
    } catch (err) {
      // Issuance can reject what the codec let through (e.g. a SAN that is not a valid name)
      if (err instanceof RangeError) decision = new Refusal('badRequest', err.message);
      else throw err;
    }

    if (decision instanceof Refusal) {
      this.logRefusal(request.messageType, request.transactionID, decision.failInfo, decision.reason);
      return this.failure(authority, request.transactionID, request.senderNonce, decision.failInfo, decision.reason, request);
    }
    this.logger.info(
      {
        scep: {
          messageType: request.messageType,
          transactionID: request.transactionID,
          serialNumber: decision.serialNumber,
          subject: decision.issued.subject.replace(/\n/g, ', '),
          deviceRef: decision.deviceRef,
        },
      },
      request.messageType === 'GetCertInitial' ? 'SCEP certificate re-sent' : 'SCEP certificate issued',
    );
    const body = buildCertRep({
      status: 'SUCCESS',
      transactionID: request.transactionID,
      recipientNonce: request.senderNonce,
      issuedCertDer: decision.issued.raw,
      caCertDer: authority.certificate.raw,
      requesterCert: request.signerCertificate,
      signer: signerOf(authority),
      // Mirror the requester's algorithms: it told us what it can read
      digest: request.digestAlgorithm,
      encryption: request.contentEncryption,
    });
    return { kind: 'certRep', body, status: 'SUCCESS', transactionID: request.transactionID };
  }

  private failure(
    authority: Authority,
    transactionID: string,
    recipientNonce: Buffer,
    failInfo: FailInfo,
    reason: string,
    request?: ScepRequest,
  ): PkiOperationOutcome {
    const body = buildCertRep({
      status: 'FAILURE',
      failInfo,
      failInfoText: reason.slice(0, 200),
      transactionID,
      recipientNonce,
      signer: signerOf(authority),
      ...(request ? { digest: request.digestAlgorithm } : {}),
    });
    return { kind: 'certRep', body, status: 'FAILURE', failInfo, transactionID };
  }

  private logRefusal(messageType: unknown, transactionID: string, failInfo: FailInfo, reason: string): void {
    this.logger.warn({ scep: { messageType, transactionID, failInfo, reason } }, 'SCEP request refused');
  }

  /** PKCSReq: the challenge password is the authorization, spent in the transaction that records the certificate. */
  private async decideEnrollment(authority: Authority, request: CertificateRequestMessage): Promise<Decision> {
    const challenge = request.csr.challengePassword;
    if (!challenge) return new Refusal('badRequest', 'the request carries no challengePassword');
    const now = new Date();
    return this.db.$transaction(async (tx): Promise<Decision> => {
      const row = await scepStore.findChallengeByHash(tx, hashChallenge(challenge));
      if (!row) return new Refusal('badRequest', 'unknown challenge password');
      if (row.usedAt) return new Refusal('badRequest', 'the challenge password was already used');
      if (row.expiresAt <= now) return new Refusal('badRequest', 'the challenge password has expired');
      let device: { id: number; uuid: string } | null = null;
      if (row.deviceRef !== null) {
        device = await scepStore.findDeviceById(tx, row.deviceRef);
        if (!device) return new Refusal('badRequest', 'the device this challenge was minted for no longer exists');
      }
      // Conditional update: of two concurrent requests with one challenge, exactly one gets here
      if ((await scepStore.consumeChallenge(tx, row.id, now)) !== 1) {
        return new Refusal('badRequest', 'the challenge password was already used');
      }
      return this.issueAndRecord(tx, authority, request, device, 'certificate.issue', { purpose: row.purpose });
    });
  }

  /** RenewalReq: signed by a certificate we issued (the codec checked the signature and validity), not revoked. */
  private async decideRenewal(authority: Authority, request: CertificateRequestMessage): Promise<Decision> {
    return this.db.$transaction(async (tx): Promise<Decision> => {
      const previous = await scepStore.findCertificateByFingerprint(tx, certificateFingerprint(request.signerCertificate));
      if (!previous) return new Refusal('badCertId', 'the certificate being renewed is not one this server recorded');
      if (previous.revoked) return new Refusal('badCertId', 'the certificate being renewed has been revoked');
      const device = previous.deviceRef === null ? null : await scepStore.findDeviceById(tx, previous.deviceRef);
      return this.issueAndRecord(tx, authority, request, device, 'certificate.renew', { renewedSerialNumber: previous.serialNumber });
    });
  }

  /** GetCertInitial (CertPoll): we never leave requests pending, so this re-sends an issued certificate. */
  private async decidePoll(request: CertPollMessage): Promise<Decision> {
    const row = await scepStore.latestCertificateForTransaction(this.db, request.transactionID);
    if (!row) return new Refusal('badCertId', `no certificate was issued for transaction ${request.transactionID}`);
    if (row.revoked) return new Refusal('badCertId', `the certificate issued for transaction ${request.transactionID} has been revoked`);
    return { issued: new X509Certificate(row.certificatePem), serialNumber: row.serialNumber, deviceRef: row.deviceRef };
  }

  /** Issues for the request, records the certificate and audits it, in the caller's transaction. */
  private async issueAndRecord(
    tx: DbTx,
    authority: Authority,
    request: CertificateRequestMessage,
    device: { id: number; uuid: string } | null,
    action: 'certificate.issue' | 'certificate.renew',
    details: Record<string, unknown>,
  ): Promise<Decision> {
    const issued = this.issue(authority, request, device?.uuid);
    await this.recordCertificate(tx, {
      certificate: issued.certificate,
      deviceRef: device?.id ?? null,
      source: 'scep',
      transactionId: request.transactionID,
    });
    await recordAudit(tx, {
      actor: 'scep',
      action,
      objectType: 'deviceCertificate',
      objectId: issued.serialNumber,
      details: {
        subject: issued.certificate.subject.replace(/\n/g, ', '),
        deviceUuid: device?.uuid ?? null,
        transactionId: request.transactionID,
        ...details,
      },
    });
    return { issued: issued.certificate, serialNumber: issued.serialNumber, deviceRef: device?.id ?? null };
  }

  private issue(authority: Authority, request: CertificateRequestMessage, deviceUuid: string | undefined) {
    const requested = request.csr.subjectFields;
    const country = requested.country?.toUpperCase();
    const subject: SubjectName = {
      // A CSR without a CN still gets a useful name
      commonName: requested.commonName || deviceUuid || `scep-${request.transactionID.slice(0, 32)}`,
      ...(requested.organization ? { organization: requested.organization } : {}),
      ...(requested.organizationalUnit ? { organizationalUnit: requested.organizationalUnit } : {}),
      ...(country && /^[A-Z]{2}$/.test(country) ? { country } : {}),
    };
    return authority.ca.issueCertificate({
      subject,
      publicKey: request.csr.publicKey,
      profile: 'device',
      validityDays: DEVICE_CERTIFICATE_VALIDITY_DAYS,
      ...(request.csr.sans.length ? { sans: request.csr.sans } : {}),
      crlUrl: `${this.publicUrl}/api/v2/scep/crl`,
    });
  }

  // -------------------------------------------------------------------------------------------
  // For enrollment and the MDM protocol

  /** A one-time challenge password; only its hash is stored. Pass the caller's transaction (or db). */
  async mintChallenge(tx: DbTx, input: MintChallengeInput): Promise<MintedChallenge> {
    const ttlMinutes = input.ttlMinutes ?? DEFAULT_CHALLENGE_TTL_MINUTES;
    if (!Number.isInteger(ttlMinutes) || ttlMinutes < 1 || ttlMinutes > MAX_CHALLENGE_TTL_MINUTES) {
      throw new RangeError(`ttlMinutes must be an integer from 1 to ${MAX_CHALLENGE_TTL_MINUTES}`);
    }
    let challenge = '';
    for (let i = 0; i < CHALLENGE_LENGTH; i++) challenge += CHALLENGE_ALPHABET[randomInt(CHALLENGE_ALPHABET.length)];
    const expiresAt = new Date(Date.now() + ttlMinutes * 60_000);
    const row = await scepStore.createChallenge(tx, {
      challengeHash: hashChallenge(challenge),
      purpose: input.purpose,
      deviceRef: input.deviceRef ?? null,
      expiresAt,
      createdBy: input.createdBy,
    });
    return { challenge, expiresAt, id: row.id };
  }

  /** Records a certificate issued to a device (SCEP here; PKCS#12 identities by enrollment). */
  recordCertificate(tx: DbTx, input: RecordCertificateInput) {
    const { certificate } = input;
    return scepStore.createCertificate(tx, {
      serialNumber: certificate.serialNumber.toUpperCase(),
      fingerprintSha256: certificateFingerprint(certificate),
      subject: certificate.subject.replace(/\n/g, ', '),
      deviceRef: input.deviceRef ?? null,
      source: input.source,
      transactionId: input.transactionId ?? null,
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
      certificatePem: certificate.toString(),
    });
  }

  /**
   * Moves whenever an issued certificate is bound to a device or revoked (counted when written;
   * the connection is serialized, so no reader sees the write before its commit). Caches of
   * deviceForCertificate answers are valid while it stays put.
   */
  certificateGeneration = 0;

  /** The number of the last CRL issued by this process (CRL numbers must grow). */
  private lastCrlNumber = 0;

  /** Who a client certificate belongs to, by its SHA-256 fingerprint (hex, colons allowed); null if not ours. */
  async deviceForCertificate(fingerprintSha256: string): Promise<CertificateOwner | null> {
    const row = await scepStore.findCertificateByFingerprint(this.db, normalizeFingerprint(fingerprintSha256));
    return row ? { deviceRef: row.deviceRef, revoked: row.revoked, notAfter: row.notAfter } : null;
  }

  /**
   * Ties a certificate issued without a device (admin-minted challenge) to the device that
   * authenticated with it. Only an unbound certificate is bound: false when it is unknown or
   * already belongs to a device (possibly this one).
   */
  async bindCertificate(fingerprintSha256: string, deviceRef: number, tx: DbTx = this.db): Promise<boolean> {
    const fingerprint = normalizeFingerprint(fingerprintSha256);
    const bound = (await scepStore.bindUnboundCertificate(tx, fingerprint, deviceRef)) === 1;
    if (bound) this.certificateGeneration++;
    if (bound) this.logger.info({ scep: { fingerprintSha256: fingerprint, deviceRef } }, 'device certificate bound to its device');
    return bound;
  }

  /** Revokes every unrevoked certificate of a device (e.g. on retire/unenroll), in the caller's transaction. */
  async revokeDeviceCertificates(tx: DbTx, deviceRef: number, reason: string): Promise<{ revoked: string[] }> {
    const active = await scepStore.activeCertificatesOfDevice(tx, deviceRef);
    if (active.length === 0) return { revoked: [] };
    await scepStore.revokeCertificates(
      tx,
      active.map((c) => c.id),
      new Date(),
    );
    this.certificateGeneration++;
    const serialNumbers = active.map((c) => c.serialNumber);
    await recordAudit(tx, {
      actor: 'system',
      action: 'certificate.revoke',
      objectType: 'device',
      objectId: deviceRef,
      details: { reason, serialNumbers },
    });
    this.logger.info({ scep: { deviceRef, serialNumbers, reason } }, 'device certificates revoked');
    return { revoked: serialNumbers };
  }

  // -------------------------------------------------------------------------------------------
  // Admin API

  /** POST /api/v2/scep/challenges: the challenge is in this answer and nowhere else. */
  async createChallenge(actor: Actor, input: { ttlMinutes?: number; deviceUuid?: string }) {
    requireWrite(actor);
    const reason = this.unavailableReason();
    if (reason) throw ApiError.conflict('com.mobileiron.vsp.messages.scep.unavailable', reason);
    const minted = await this.db.$transaction(async (tx) => {
      let deviceRef: number | null = null;
      if (input.deviceUuid !== undefined) {
        const device = await scepStore.findDeviceByUuid(tx, input.deviceUuid);
        if (!device) throw ApiError.notFound('Device', input.deviceUuid);
        deviceRef = device.id;
      }
      const out = await this.mintChallenge(tx, { purpose: 'admin', deviceRef, ttlMinutes: input.ttlMinutes, createdBy: actor.username });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'scepChallenge',
        objectId: out.id,
        details: { purpose: 'admin', deviceUuid: input.deviceUuid ?? null, expiresAt: out.expiresAt.toISOString() },
      });
      return out;
    });
    return { challenge: minted.challenge, expiresAt: minted.expiresAt.toISOString(), url: this.url };
  }

  /**
   * The CA's certificate revocation list: every revoked device certificate, valid for a day.
   * Public, like the CA certificate: a VPN head-end or any relying party fetches it. CRL numbers
   * count seconds since 2025 and never repeat within a process.
   */
  async crl(): Promise<Buffer> {
    const authority = this.authority();
    const revoked = await scepStore.revokedCertificates(this.db);
    this.lastCrlNumber = Math.max(this.lastCrlNumber + 1, Math.floor((Date.now() - Date.UTC(2025, 0, 1)) / 1000));
    return authority.ca.issueCrl({
      revoked: revoked.map((r) => ({ serialNumberHex: r.serialNumber, revokedAt: r.revokedAt ?? r.createdAt })),
      crlNumber: this.lastCrlNumber,
    });
  }

  async listCertificates(
    actor: Actor,
    filter: { deviceUuid?: string; revoked?: boolean },
    page: { limit: number; offset: number },
    sortField: string,
    order: 'asc' | 'desc',
  ) {
    requireRead(actor);
    const where = {
      ...(filter.deviceUuid !== undefined ? { device: { uuid: filter.deviceUuid } } : {}),
      ...(filter.revoked !== undefined ? { revoked: filter.revoked } : {}),
    };
    const [rows, total] = await Promise.all([
      scepStore.listCertificates(this.db, where, page, { [sortField]: order }),
      scepStore.countCertificates(this.db, where),
    ]);
    return { total, results: rows.map(certificateView) };
  }

  async revokeCertificate(actor: Actor, serialNumber: string) {
    requireWrite(actor);
    const serial = serialNumber.toUpperCase();
    const { row, changed } = await this.db.$transaction(async (tx) => {
      const existing = await scepStore.findCertificateBySerial(tx, serial);
      if (!existing) throw ApiError.notFound('Device certificate', serial);
      // Revoking twice is a no-op: revokedAt keeps the first time
      if (existing.revoked) return { row: existing, changed: false };
      await scepStore.revokeCertificates(tx, [existing.id], new Date());
      this.certificateGeneration++;
      await recordAudit(tx, {
        actor: actor.username,
        action: 'certificate.revoke',
        objectType: 'deviceCertificate',
        objectId: serial,
        details: { deviceRef: existing.deviceRef },
      });
      return { row: (await scepStore.findCertificateBySerial(tx, serial))!, changed: true };
    });
    if (changed) this.logger.info({ scep: { serialNumber: serial, actor: actor.username } }, 'device certificate revoked');
    const device = row.deviceRef === null ? null : await scepStore.findDeviceById(this.db, row.deviceRef);
    return certificateView({ ...row, device });
  }
}

// Our CA as a SCEP (RFC 8894) server for device identities. The message layer (src/lib/scep) is
// pure; this decides: a PKCSReq is authorized by a one-time challenge password (stored only as a
// SHA-256 hash), a RenewalReq by a certificate we issued, and a GetCertInitial is answered from
// the certificates recorded in the registry (src/certificates). Refusals are CertRep FAILUREs, not HTTP errors: that is what
// SCEP clients understand.
import { createHash, createPrivateKey, randomInt, X509Certificate, type KeyObject } from 'node:crypto';
import { requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import type { CertificateAuthority, SubjectName } from '../signing/index.js';
import type { SigningService } from '../signing/index.js';
import { canSignCms } from '../lib/pki/x509.js';
import {
  buildCertRep,
  caCaps,
  caCertResponse,
  CONTENT_ENCRYPTION,
  DEFAULT_CONTENT_ENCRYPTIONS,
  parsePkiMessage,
  scepRaCertificate,
  ScepMessageError,
  type CertificateRequestMessage,
  type CertPollMessage,
  type FailInfo,
  type PkiStatus,
  type ScepHttpBody,
  type ScepRequest,
} from '../lib/scep/index.js';
import { certificateFingerprint, ScepUnavailableError, scepUnavailableReason, type CertificateRegistry } from '../certificates/index.js';
import { scepStore } from './store.js';

export { ScepUnavailableError } from '../certificates/index.js';

export type ChallengePurpose = 'enrollment' | 'admin' | 'identity';

/**
 * Issues the certificate of an identity challenge (purpose 'identity': a VPN identity from a
 * certificate enrollment setting) per its setting, and records it, in the caller's transaction.
 * A port: the cert-enrollments capability implements it and the app wires it in.
 */
export interface IdentityIssuer {
  issueForChallenge(
    tx: DbTx,
    identityRef: number,
    publicKey: KeyObject,
    transactionId: string,
  ): Promise<{ certificate: X509Certificate; serialNumber: string } | { refusal: string }>;
}

/** Thrown inside a transaction to roll it back (the challenge stays unspent) and refuse. */
class RolledBackRefusal extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.reason);
  }
}

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

/** What a PKIOperation comes to: a CertRep to send (200), or a body no CertRep can answer (400). */
export type PkiOperationOutcome =
  | { kind: 'certRep'; body: Buffer; status: PkiStatus; failInfo?: FailInfo; transactionID: string }
  | { kind: 'unanswerable'; message: string };

interface Authority {
  ca: CertificateAuthority;
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** Set when the CA certificate itself may not sign CMS (see scepRaCertificate). */
  ra?: X509Certificate;
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

export interface ScepServiceOptions {
  /** Accept single DES-CBC in PKIOperation requests (`--scep-allow-des`); off, such a request is refused with badAlg. */
  allowDes?: boolean;
}

/** How an operator turns single DES on: named in the refusal logged when it is off. */
export const ALLOW_DES_SETTING = '--scep-allow-des / MOCKIRON_SCEP_ALLOW_DES=1';

export class ScepService {
  #authority: Authority | undefined;

  /** Wired by the app: issues for identity challenges (without it, they are refused). */
  identityIssuer: IdentityIssuer | undefined;

  constructor(
    readonly db: Db,
    readonly signing: SigningService,
    readonly certificates: CertificateRegistry,
    readonly publicUrl: string,
    readonly logger: Logger,
    readonly options: ScepServiceOptions = {},
  ) {}

  private get contentEncryptions() {
    return this.options.allowDes ? [...DEFAULT_CONTENT_ENCRYPTIONS, 'des' as const] : DEFAULT_CONTENT_ENCRYPTIONS;
  }

  /** The SCEP URL devices are given. */
  get url(): string {
    return `${this.publicUrl.replace(/\/+$/, '')}/scep`;
  }

  /** Why SCEP cannot run here, or undefined when it can. */
  unavailableReason(): string | undefined {
    return scepUnavailableReason(this.signing.ca);
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
        contentEncryptions: this.contentEncryptions,
      });
    } catch (err) {
      if (!(err instanceof ScepMessageError)) throw err;
      if (!err.canAnswerWithCertRep) {
        this.logger.warn({ scep: { failInfo: err.failInfo, reason: err.message } }, 'SCEP request unreadable');
        return { kind: 'unanswerable', message: `not a SCEP PKIMessage this CA can answer: ${err.message}` };
      }
      const transactionID = err.transactionID!;
      if (err.recovered.contentEncryption === 'des') {
        // The one refusal an operator can lift: the line says with what
        const { cipher, oid } = CONTENT_ENCRYPTION.des;
        this.logger.warn(
          { scep: { messageType: err.recovered.messageType, transactionID, failInfo: err.failInfo, contentEncryption: cipher, oid } },
          `SCEP request refused: single DES-CBC (${cipher}, ${oid}) is not accepted; ${ALLOW_DES_SETTING} accepts it`,
        );
        const text = 'single DES-CBC is not accepted: use AES or DES3 (GetCACaps)';
        return this.failure(authority, transactionID, err.senderNonce!, err.failInfo, text);
      }
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
          // The CertRep mirrors it: what the client can read
          contentEncryption: CONTENT_ENCRYPTION[request.contentEncryption].cipher,
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
    try {
      return await this.db.$transaction(async (tx): Promise<Decision> => this.decideWithChallenge(tx, authority, request, challenge, now));
    } catch (err) {
      if (err instanceof RolledBackRefusal) return err.refusal;
      throw err;
    }
  }

  private async decideWithChallenge(
    tx: DbTx,
    authority: Authority,
    request: CertificateRequestMessage,
    challenge: string,
    now: Date,
  ): Promise<Decision> {
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
    if (row.purpose === 'identity') return this.issueIdentity(tx, request, device, row.identityRef);
    return this.issueAndRecord(tx, authority, request, device, 'certificate.issue', { purpose: row.purpose });
  }

  /** An identity challenge: the certificate is the setting's (subject, SANs, validity, EKU), not the CSR's. */
  private async issueIdentity(
    tx: DbTx,
    request: CertificateRequestMessage,
    device: { id: number; uuid: string } | null,
    identityRef: number | null,
  ): Promise<Decision> {
    if (!this.identityIssuer || identityRef === null) {
      throw new RolledBackRefusal(new Refusal('badRequest', 'identity certificates are not issued by this server'));
    }
    const issued = await this.identityIssuer.issueForChallenge(tx, identityRef, request.csr.publicKey, request.transactionID);
    // Refused before issuing: roll back, so the challenge is not spent on a request we could not serve
    if ('refusal' in issued) throw new RolledBackRefusal(new Refusal('badRequest', issued.refusal));
    await recordAudit(tx, {
      actor: 'scep',
      action: 'certificate.issue',
      objectType: 'deviceCertificate',
      objectId: issued.serialNumber,
      details: {
        subject: issued.certificate.subject.replace(/\n/g, ', '),
        deviceUuid: device?.uuid ?? null,
        transactionId: request.transactionID,
        purpose: 'identity',
      },
    });
    return { issued: issued.certificate, serialNumber: issued.serialNumber, deviceRef: device?.id ?? null };
  }

  /** RenewalReq: signed by a certificate we issued (the codec checked the signature and validity), not revoked. */
  private async decideRenewal(authority: Authority, request: CertificateRequestMessage): Promise<Decision> {
    return this.db.$transaction(async (tx): Promise<Decision> => {
      const previous = await this.certificates.findByFingerprint(tx, certificateFingerprint(request.signerCertificate));
      if (!previous) return new Refusal('badCertId', 'the certificate being renewed is not one this server recorded');
      if (previous.revoked) return new Refusal('badCertId', 'the certificate being renewed has been revoked');
      // An identity renews by its setting's next generation (a new profile), never into an MDM certificate
      if (previous.purpose !== 'mdm') return new Refusal('badCertId', 'identity certificates are renewed by the server, not by RenewalReq');
      const device = previous.deviceRef === null ? null : await scepStore.findDeviceById(tx, previous.deviceRef);
      return this.issueAndRecord(tx, authority, request, device, 'certificate.renew', { renewedSerialNumber: previous.serialNumber });
    });
  }

  /** GetCertInitial (CertPoll): we never leave requests pending, so this re-sends an issued certificate. */
  private async decidePoll(request: CertPollMessage): Promise<Decision> {
    const row = await this.certificates.latestForTransaction(this.db, request.transactionID);
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
    await this.certificates.recordCertificate(tx, {
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

  // -------------------------------------------------------------------------------------------
  // Admin API

  /** POST /api/v2/scep/challenges: the challenge is in this answer and nowhere else. */
  async createChallenge(actor: Actor, input: { ttlMinutes?: number; deviceUuid?: string }) {
    requireWrite(actor);
    const reason = this.unavailableReason();
    if (reason) throw new DomainError('scep.challengeUnavailable', reason);
    const minted = await this.db.$transaction(async (tx) => {
      let deviceRef: number | null = null;
      if (input.deviceUuid !== undefined) {
        const device = await scepStore.findDeviceByUuid(tx, input.deviceUuid);
        if (!device) throw DomainError.notFound('Device', input.deviceUuid);
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
}

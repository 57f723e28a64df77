// The device-certificate registry: every certificate our CA issued to a device (by SCEP or in a
// PKCS#12), who owns it, binding and revocation, and the CRL. SCEP records what it issues here,
// enrollment records PKCS#12 identities, and MDM maps a request's signer certificate to a device.
import type { X509Certificate } from 'node:crypto';
import { recordAudit } from '../audit/index.js';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import type { CertificateAuthority } from '../signing/index.js';
import type { SigningService } from '../signing/index.js';
import { certificateFingerprint, normalizeFingerprint } from './fingerprints.js';
import { certificateStore } from './store.js';

export type CertificateSource = 'scep' | 'pkcs12' | 'local';

/** mdm authenticates the device on /mdm; identity is a VPN identity from a certificate enrollment setting. */
export type CertificatePurpose = 'mdm' | 'identity';

export interface RecordCertificateInput {
  certificate: X509Certificate;
  deviceRef?: number | null;
  source: CertificateSource;
  /** Default 'mdm'. */
  purpose?: CertificatePurpose;
  /** identity: the certificate enrollment setting it was issued for. */
  enrollmentRef?: number | null;
  /** identity: the subject alternative names it carries, as issued. */
  subjectAltNames?: ReadonlyArray<{ type: string; value: string }>;
  /** SCEP transactionID, so GetCertInitial can find the certificate again. */
  transactionId?: string | null;
}

export interface CertificateOwner {
  deviceRef: number | null;
  revoked: boolean;
  notAfter: Date;
}

/** The CA key is not here (imported identity) or cannot do SCEP: every /scep operation and the CRL are 503. */
export class ScepUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScepUnavailableError';
  }
}

/** Why our CA cannot issue device certificates (SCEP) or sign the CRL here, or undefined when it can. */
export function scepUnavailableReason(ca: CertificateAuthority | undefined): string | undefined {
  if (!ca) {
    return 'SCEP is unavailable: this server signs with an imported identity and does not hold its CA key, so it cannot issue device certificates';
  }
  if (ca.certificate.publicKey.asymmetricKeyType !== 'rsa') {
    return 'SCEP is unavailable: the CA key is not RSA, and SCEP encrypts requests to the CA by RSA key transport';
  }
  return undefined;
}

export function certificateView(row: {
  id: number;
  serialNumber: string;
  fingerprintSha256: string;
  subject: string;
  deviceRef: number | null;
  device?: { uuid: string } | null;
  source: string;
  purpose?: string;
  enrollmentRef?: number | null;
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
    purpose: row.purpose ?? 'mdm',
    enrollmentRef: row.enrollmentRef ?? null,
    transactionId: row.transactionId,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    revoked: row.revoked,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export class CertificateRegistry {
  #generation = 0;

  /** The number of the last CRL issued by this process (CRL numbers must grow). */
  #lastCrlNumber = 0;

  constructor(
    readonly db: Db,
    readonly signing: SigningService,
    readonly logger: Logger,
  ) {}

  /**
   * Moves whenever an issued certificate is bound to a device or revoked (counted when written;
   * the connection is serialized, so no reader sees the write before its commit). Caches of
   * deviceForCertificate answers are valid while it stays put.
   */
  get certificateGeneration(): number {
    return this.#generation;
  }

  /** Records a certificate issued to a device (SCEP, or a PKCS#12 identity by enrollment), in the caller's transaction. */
  recordCertificate(tx: DbTx, input: RecordCertificateInput) {
    const { certificate } = input;
    return certificateStore.createCertificate(tx, {
      serialNumber: certificate.serialNumber.toUpperCase(),
      fingerprintSha256: certificateFingerprint(certificate),
      subject: certificate.subject.replace(/\n/g, ', '),
      deviceRef: input.deviceRef ?? null,
      source: input.source,
      purpose: input.purpose ?? 'mdm',
      enrollmentRef: input.enrollmentRef ?? null,
      subjectAltNames: JSON.stringify(input.subjectAltNames ?? []),
      transactionId: input.transactionId ?? null,
      notBefore: new Date(certificate.validFrom),
      notAfter: new Date(certificate.validTo),
      certificatePem: certificate.toString(),
    });
  }

  /** Whether a device still holds an unrevoked, unexpired certificate to authenticate its polls with. */
  async hasUsableIdentity(tx: DbTx, deviceRef: number): Promise<boolean> {
    return (await certificateStore.countUsableOfDevice(tx, deviceRef, new Date())) > 0;
  }

  /** Who a client certificate belongs to, by its SHA-256 fingerprint (hex, colons allowed); null if not ours. */
  async deviceForCertificate(fingerprintSha256: string): Promise<CertificateOwner | null> {
    const row = await certificateStore.findCertificateByFingerprint(this.db, normalizeFingerprint(fingerprintSha256));
    // A VPN identity certificate is ours but no MDM credential: to /mdm it is unknown
    if (!row || row.purpose !== 'mdm') return null;
    return { deviceRef: row.deviceRef, revoked: row.revoked, notAfter: row.notAfter };
  }

  /** A device's identity certificates (VPN), newest first, with their PEM. */
  identityCertificatesOfDevice(tx: DbTx, deviceRef: number) {
    return certificateStore.identityCertificatesOfDevice(tx, deviceRef);
  }

  /** The recorded certificate with this serial number (upper-case hex), or null. */
  findBySerial(tx: DbTx, serialNumber: string) {
    return certificateStore.findCertificateBySerial(tx, serialNumber.toUpperCase());
  }

  /** The recorded certificate with this fingerprint (any form), or null. */
  findByFingerprint(tx: DbTx, fingerprintSha256: string) {
    return certificateStore.findCertificateByFingerprint(tx, normalizeFingerprint(fingerprintSha256));
  }

  /** The newest certificate issued over SCEP for a transaction, or null. */
  latestForTransaction(tx: DbTx, transactionId: string) {
    return certificateStore.latestCertificateForTransaction(tx, transactionId);
  }

  /**
   * Ties a certificate issued without a device (admin-minted challenge) to the device that
   * authenticated with it. Only an unbound certificate is bound: false when it is unknown or
   * already belongs to a device (possibly this one).
   */
  async bindCertificate(fingerprintSha256: string, deviceRef: number, tx: DbTx = this.db): Promise<boolean> {
    const fingerprint = normalizeFingerprint(fingerprintSha256);
    const bound = (await certificateStore.bindUnboundCertificate(tx, fingerprint, deviceRef)) === 1;
    if (bound) this.#generation++;
    if (bound) this.logger.info({ scep: { fingerprintSha256: fingerprint, deviceRef } }, 'device certificate bound to its device');
    return bound;
  }

  /** Revokes every unrevoked certificate of a device (e.g. on retire/unenroll), in the caller's transaction. */
  async revokeDeviceCertificates(tx: DbTx, deviceRef: number, reason: string): Promise<{ revoked: string[] }> {
    const active = await certificateStore.activeCertificatesOfDevice(tx, deviceRef);
    if (active.length === 0) return { revoked: [] };
    await certificateStore.revokeCertificates(
      tx,
      active.map((c) => c.id),
      new Date(),
    );
    this.#generation++;
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

  /**
   * The CA's certificate revocation list: every revoked device certificate, valid for a day.
   * Public, like the CA certificate: a VPN head-end or any relying party fetches it. CRL numbers
   * count seconds since 2025 and never repeat within a process.
   */
  async crl(): Promise<Buffer> {
    const ca = this.signing.ca;
    const reason = scepUnavailableReason(ca);
    if (reason) throw new ScepUnavailableError(reason);
    const revoked = await certificateStore.revokedCertificates(this.db);
    this.#lastCrlNumber = Math.max(this.#lastCrlNumber + 1, Math.floor((Date.now() - Date.UTC(2025, 0, 1)) / 1000));
    return ca!.issueCrl({
      revoked: revoked.map((r) => ({ serialNumberHex: r.serialNumber, revokedAt: r.revokedAt ?? r.createdAt })),
      crlNumber: this.#lastCrlNumber,
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
      certificateStore.listCertificates(this.db, where, page, { [sortField]: order }),
      certificateStore.countCertificates(this.db, where),
    ]);
    return { total, results: rows.map(certificateView) };
  }

  async revokeCertificate(actor: Actor, serialNumber: string) {
    requireWrite(actor);
    const serial = serialNumber.toUpperCase();
    const { row, changed } = await this.db.$transaction(async (tx) => {
      const existing = await certificateStore.findCertificateViewBySerial(tx, serial);
      if (!existing) throw DomainError.notFound('Device certificate', serial);
      // Revoking twice is a no-op: revokedAt keeps the first time
      if (existing.revoked) return { row: existing, changed: false };
      await certificateStore.revokeCertificates(tx, [existing.id], new Date());
      this.#generation++;
      await recordAudit(tx, {
        actor: actor.username,
        action: 'certificate.revoke',
        objectType: 'deviceCertificate',
        objectId: serial,
        details: { deviceRef: existing.deviceRef },
      });
      return { row: (await certificateStore.findCertificateViewBySerial(tx, serial))!, changed: true };
    });
    if (changed) this.logger.info({ scep: { serialNumber: serial, actor: actor.username } }, 'device certificate revoked');
    return certificateView(row);
  }
}

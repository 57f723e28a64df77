// The MDM push certificate: what APNs authenticates mockiron with, and whose topic (the subject's
// UID, com.apple.mgmt.External.<uuid>) devices listen on. One at most; its private key is sealed
// at rest (src/platform/secrets/box.ts) and never returned or logged.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import type { SecretBox } from '../platform/secrets/box.js';
import { readPkcs12 } from '../signing/index.js';
import { splitPemCertificates } from '../lib/pki/x509.js';

/** The column the sealed key is bound to (associated data: it cannot be moved elsewhere and open). */
const KEY_CONTEXT = 'PushCertificate.keySealed';
/** Apple's renewal reminder comes a month ahead; so does ours. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export const pushCertificateStore = {
  get: (tx: DbTx) => tx.pushCertificate.findUnique({ where: { id: 1 } }),
  put: (tx: DbTx, data: { certificatePem: string; keySealed: string; topic: string; subject: string; notAfter: Date }) =>
    tx.pushCertificate.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: { ...data, uploadedAt: new Date() } }),
  remove: (tx: DbTx) => tx.pushCertificate.deleteMany({}),
  deadTokens: (tx: DbTx) => tx.deadPushToken.findMany({ select: { token: true } }),
  markDead: (tx: DbTx, data: { token: string; deviceRef: number; reason: string }) =>
    tx.deadPushToken.upsert({ where: { token: data.token }, create: data, update: { reason: data.reason, at: new Date() } }),
};

export type PushCertificateUpload =
  { certificate: string; privateKey: string; force?: boolean } | { pkcs12: string; passphrase: string; force?: boolean };

/** What APNs needs to open a connection, in memory only. */
export interface PushIdentity {
  topic: string;
  certificatePem: string;
  key: KeyObject;
  notAfter: Date;
}

export interface PushCertificateView {
  topic: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  uploadedAt: string;
  expiresInDays: number;
  warnings: string[];
}

/** Which topic enrolled devices listen on: the one port this service needs of the devices. */
export interface DeviceTopics {
  /** Topics of devices that completed an MDM enrollment (a push token), with how many each. */
  enrolledTopics(): Promise<Map<string, number>>;
}

const invalid = (message: string, details: Record<string, unknown> = {}) => new DomainError('apns.certificateInvalid', message, details);

/** The APNs topic of an MDM push certificate: its subject's UID. */
export function topicOf(certificate: X509Certificate): string | null {
  for (const line of certificate.subject.split('\n')) {
    const [name, ...rest] = line.split('=');
    if (name === 'UID' || name === '0.9.2342.19200300.100.1.1') return rest.join('=');
  }
  return null;
}

function expiryWarnings(notAfter: Date, now: Date): string[] {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (days < 0)
    return [`the push certificate expired on ${notAfter.toISOString()}: APNs refuses it; renew it at Apple's Push Certificates Portal`];
  if (days < EXPIRY_WARNING_DAYS)
    return [
      `the push certificate expires in ${days} days (${notAfter.toISOString()}): renew it at Apple's Push Certificates Portal with the same Apple ID`,
    ];
  return [];
}

export class PushCertificateService {
  private identity: PushIdentity | null | undefined;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly devices: DeviceTopics,
    private readonly logger: Logger,
    /** The topic enrollment profiles carry while no push certificate is configured. */
    private readonly defaultTopic: string,
  ) {}

  /** Loads the stored certificate (at start) and warns when it expires soon. */
  async load(): Promise<PushIdentity | null> {
    const row = await pushCertificateStore.get(this.db);
    this.identity = row
      ? {
          topic: row.topic,
          certificatePem: row.certificatePem,
          key: createPrivateKey(this.secrets.open(row.keySealed, KEY_CONTEXT)),
          notAfter: row.notAfter,
        }
      : null;
    if (row) for (const warning of expiryWarnings(row.notAfter, new Date())) this.logger.warn({ topic: row.topic }, warning);
    return this.identity;
  }

  /** The configured identity (null: none, pushes are recorded only). */
  current(): PushIdentity | null {
    return this.identity ?? null;
  }

  /** The Topic enrollment profiles carry: the push certificate's, else the default. */
  topic(): string {
    return this.identity?.topic ?? this.defaultTopic;
  }

  async get(actor: Actor): Promise<PushCertificateView | null> {
    requireRead(actor);
    const row = await pushCertificateStore.get(this.db);
    return row && view(row.certificatePem, row.uploadedAt);
  }

  async upload(actor: Actor, input: PushCertificateUpload): Promise<PushCertificateView> {
    requireWrite(actor);
    const { certificate, key } = parseUpload(input);
    const topic = topicOf(certificate);
    if (!topic)
      throw invalid('the certificate has no UID in its subject: it is not an MDM push certificate (Apple puts the APNs topic there)');
    if (!topic.startsWith('com.apple.mgmt.'))
      throw invalid(`the certificate's topic ${topic} is not an MDM push topic (com.apple.mgmt.…)`, { topic });
    const notAfter = new Date(certificate.validTo);
    if (notAfter.getTime() < Date.now())
      throw invalid(`the certificate expired on ${notAfter.toISOString()}`, { notAfter: notAfter.toISOString() });
    // Devices listen on the Topic of the enrollment profile they installed; pushes under any
    // other topic never reach them. Refused unless the admin says they will be re-enrolled.
    const enrolled = await this.devices.enrolledTopics();
    const others = [...enrolled].filter(([t]) => t !== topic);
    if (others.length && !input.force) {
      const count = others.reduce((n, [, c]) => n + c, 0);
      throw new DomainError(
        'apns.topicMismatch',
        `the push certificate's topic ${topic} does not match the Topic ${others.map(([t]) => t).join(', ')} of the enrollment profile ${count} enrolled device(s) installed: they would never receive its pushes. Re-enroll them after the upload (and pass force=true), or upload the certificate with their topic`,
        { topic, enrolledTopics: Object.fromEntries(others) },
      );
    }
    const certificatePem = certificate.toString();
    const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const row = await this.db.$transaction(async (tx) => {
      const saved = await pushCertificateStore.put(tx, {
        certificatePem,
        keySealed: this.secrets.seal(keyPem, KEY_CONTEXT),
        topic,
        subject: certificate.subject.replace(/\n/g, ', '),
        notAfter,
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'apns.certificate.upload',
        objectType: 'PushCertificate',
        objectId: 1,
        details: { topic, notAfter: notAfter.toISOString(), fingerprint: certificate.fingerprint256 },
      });
      return saved;
    });
    this.identity = { topic, certificatePem, key, notAfter };
    this.logger.info({ topic, notAfter: notAfter.toISOString() }, 'push certificate uploaded: pushes go to APNs');
    return view(row.certificatePem, row.uploadedAt);
  }

  async remove(actor: Actor): Promise<boolean> {
    requireWrite(actor);
    const { count } = await this.db.$transaction(async (tx) => {
      const removed = await pushCertificateStore.remove(tx);
      if (removed.count)
        await recordAudit(tx, { actor: actor.username, action: 'apns.certificate.delete', objectType: 'PushCertificate', objectId: 1 });
      return removed;
    });
    this.identity = null;
    if (count) this.logger.info('push certificate removed: pushes are recorded only');
    return count > 0;
  }
}

function view(certificatePem: string, uploadedAt: Date): PushCertificateView {
  const certificate = new X509Certificate(certificatePem);
  const notAfter = new Date(certificate.validTo);
  const now = new Date();
  return {
    topic: topicOf(certificate) ?? '',
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    uploadedAt: uploadedAt.toISOString(),
    expiresInDays: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
    warnings: expiryWarnings(notAfter, now),
  };
}

function parseUpload(input: PushCertificateUpload): { certificate: X509Certificate; key: KeyObject } {
  let certificates: X509Certificate[];
  let key: KeyObject;
  if ('pkcs12' in input) {
    try {
      ({ privateKey: key, certificates } = readPkcs12(Buffer.from(input.pkcs12, 'base64'), input.passphrase));
    } catch (err) {
      throw invalid((err as Error).message);
    }
  } else {
    try {
      certificates = splitPemCertificates(input.certificate).map((pem) => new X509Certificate(pem));
      if (!certificates.length) throw new Error('no certificate');
    } catch {
      throw invalid('the certificate is not a PEM X.509 certificate', { field: 'certificate' });
    }
    try {
      key = createPrivateKey(input.privateKey);
    } catch {
      throw invalid('the private key is not a PEM private key (an encrypted key must be decrypted first)', { field: 'privateKey' });
    }
  }
  if (key.type !== 'private') throw invalid('the private key is not a private key', { field: 'privateKey' });
  const certificate = certificates.find((c) => c.checkPrivateKey(key));
  if (!certificate) throw invalid('no certificate matches the private key');
  return { certificate, key };
}

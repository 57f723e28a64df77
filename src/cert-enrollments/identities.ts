// Device identities: per (device, certificate enrollment setting) what the device's VPN profile
// carries now. Stable bytes: the profile is compared by content hash, so an identity payload is
// the same on every build until its generation moves —
//   SCEP: the challenge is derived (HMAC of device, setting and generation under a key from the
//         secret box), registered hashed so /scep accepts it once, and the certificate is issued
//         per the setting (the templates as filled for this generation), not per the CSR;
//   LOCAL: key and certificate are made at the first build and kept as a sealed PKCS#12.
// A generation ends when its certificate nears expiry (renewal window) or is revoked; the next
// build then carries a new challenge or PKCS#12, so the reconciler installs the profile again.
import { createHmac, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { recordAudit } from '../audit/index.js';
import { requireRead, system, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import type { SecretBox } from '../platform/secrets/box.js';
import { scepUnavailableReason, type CertificateRegistry } from '../certificates/index.js';
import { buildPkcs12 } from '../enrollment/index.js';
import { hashChallenge } from '../scep/index.js';
import type { SigningService } from '../signing/index.js';
import type { PlistDict } from '../lib/plist/index.js';
import {
  buildPkcs12IdentityPayload,
  buildScepIdentityPayload,
  commonNameOf,
  fillIdentityTemplates,
  identityPayloadIdentity,
  type FilledIdentity,
} from '../lib/profiles/identity.js';
import type { DeviceVariables } from '../lib/profiles/variables.js';
import { EXTENDED_KEY_USAGE_OIDS, type KeyUsage } from '../lib/pki/x509.js';
import { enrollmentSpec, type EnrollmentSpec } from './service.js';
import { enrollmentStore } from './store.js';

const DAY_MS = 86_400_000;
const PKCS12_CONTEXT = 'DeviceIdentity.pkcs12';
const PKCS12_PASSWORD_CONTEXT = 'DeviceIdentity.pkcs12Password';
// Letters and digits: a PrintableString in the CSR, like the SCEP capability's own challenges
const CHALLENGE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** An identity challenge is valid until used or rotated; the row still needs an expiry. */
const IDENTITY_CHALLENGE_LIFETIME_DAYS = 3650;

export type IdentityCertificateStatus = 'valid' | 'expired' | 'revoked' | 'superseded';

/** What the AnyConnect head-end model reads of a device's identities (newest first). */
export interface IdentityCertificateRecord {
  certificatePem: string;
  serialNumber: string;
  revoked: boolean;
  settingName: string;
}

/** The identity payload for one setting in one device's profile. */
export interface IdentityPayload {
  settingId: number;
  payloadUuid: string;
  payload: PlistDict;
}

export interface IssuedIdentity {
  certificate: X509Certificate;
  serialNumber: string;
}

function keyUsagesOf(setting: EnrollmentSpec): KeyUsage[] {
  const usages: KeyUsage[] = [];
  if (setting.keyUsage.includes('signing')) usages.push('digitalSignature');
  if (setting.keyUsage.includes('encryption')) usages.push('keyEncipherment');
  return usages;
}

export class DeviceIdentityService {
  /** The clock renewal reads; tests move it. */
  now: () => Date = () => new Date();
  #version = 0;

  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
    private readonly signing: SigningService,
    private readonly certificates: CertificateRegistry,
    private readonly namespace: string,
    private readonly publicUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Moves whenever some device's identity payload may change (a new generation, a changed setting): profile caches key on it. */
  get version(): number {
    return this.#version;
  }

  /** A certificate enrollment setting changed: payloads built from it are stale. */
  settingsChanged(): void {
    this.#version++;
  }

  private challengeFor(deviceUuid: string, settingId: number, generation: number): string {
    const mac = createHmac('sha256', this.secrets.derivedKey('identity-scep-challenge'))
      .update(`identity/${deviceUuid.toLowerCase()}/${settingId}/${generation}`, 'utf8')
      .digest();
    let out = '';
    for (const byte of mac) out += CHALLENGE_ALPHABET[byte % CHALLENGE_ALPHABET.length];
    return out;
  }

  private crlUrl(): string {
    return `${this.publicUrl.replace(/\/+$/, '')}/api/v2/scep/crl`;
  }

  /** Whether an identity's current certificate calls for the next generation: revoked, or within the renewal window. */
  private async renewalDue(tx: DbTx, certificateSerial: string | null, renewalWindowDays: number): Promise<boolean> {
    if (!certificateSerial) return false;
    const cert = await this.certificates.findBySerial(tx, certificateSerial);
    if (!cert) return true;
    return cert.revoked || cert.notAfter.getTime() - renewalWindowDays * DAY_MS <= this.now().getTime();
  }

  private async rotate(tx: DbTx, identity: { id: number; generation: number }, why: string): Promise<boolean> {
    if ((await enrollmentStore.rotateIdentity(tx, identity.id, identity.generation)) !== 1) return false;
    await enrollmentStore.dropUnusedIdentityChallenges(tx, identity.id);
    this.#version++;
    this.logger.info({ identity: { id: identity.id, generation: identity.generation + 1, why } }, 'device identity renewed');
    return true;
  }

  /**
   * The identity payloads a device's profile carries for these settings, one per setting, made
   * (and remembered) on first use. Throws profile.certificateAuth when one cannot be built.
   */
  async payloadsFor(
    device: { id: number; uuid: string },
    variables: DeviceVariables,
    settingIds: number[],
    profileIdentifier: string,
  ): Promise<Map<number, IdentityPayload>> {
    const out = new Map<number, IdentityPayload>();
    for (const settingId of [...new Set(settingIds)].sort((a, b) => a - b)) {
      out.set(settingId, await this.payloadFor(device, variables, settingId, profileIdentifier));
    }
    return out;
  }

  private async payloadFor(
    device: { id: number; uuid: string },
    variables: DeviceVariables,
    settingId: number,
    profileIdentifier: string,
  ): Promise<IdentityPayload> {
    const row = await enrollmentStore.findById(this.db, settingId);
    if (!row) throw new DomainError('profile.certificateAuth', `certificate enrollment setting ${settingId} no longer exists`);
    const setting = enrollmentSpec(row);
    const unavailable = scepUnavailableReason(this.signing.ca);
    if (unavailable) throw new DomainError('profile.certificateAuth', `identity certificates for ${setting.name}: ${unavailable}`);
    const filled = fillIdentityTemplates(setting, variables);
    // Reads first: most builds find everything in place and write nothing
    const existing = await enrollmentStore.identity(this.db, device.id, settingId);
    const settled = existing && !(await this.renewalDue(this.db, existing.certificateSerial, setting.renewalWindowDays));
    const identity = settled
      ? existing
      : await this.db.$transaction(async (tx) => {
          let current = await enrollmentStore.createIdentity(tx, device.id, settingId);
          // A revoked identity is useless, and one inside its renewal window is due: the next generation
          if (await this.renewalDue(tx, current.certificateSerial, setting.renewalWindowDays)) {
            await this.rotate(tx, current, 'certificate revoked or within the renewal window');
            current = (await enrollmentStore.identity(tx, device.id, settingId))!;
          }
          return current;
        });
    const ids = identityPayloadIdentity(this.namespace, profileIdentifier, settingId);
    const common = { namespace: this.namespace, profileIdentifier, settingId, settingName: setting.name };

    if (setting.method === 'SCEP') {
      const challenge = this.challengeFor(device.uuid, settingId, identity.generation);
      const filledJson = JSON.stringify(filled);
      const hash = hashChallenge(challenge);
      const registered = (await enrollmentStore.challengeFor(this.db, hash)) !== null;
      const filledCurrent = identity.certificateSerial !== null || identity.filled === filledJson;
      if (!registered || !filledCurrent)
        await this.db.$transaction(async (tx) => {
          if (!(await enrollmentStore.challengeFor(tx, hash))) {
            await enrollmentStore.createIdentityChallenge(tx, {
              challengeHash: hash,
              deviceRef: device.id,
              identityRef: identity.id,
              expiresAt: new Date(Date.now() + IDENTITY_CHALLENGE_LIFETIME_DAYS * DAY_MS),
            });
          }
          // SCEP issues what this generation's profile asks for, whatever the CSR says
          if (identity.certificateSerial === null && identity.filled !== filledJson) {
            await enrollmentStore.setIdentityFilled(tx, identity.id, identity.generation, filledJson);
          }
        });
      const payload = buildScepIdentityPayload({
        ...common,
        url: `${this.publicUrl.replace(/\/+$/, '')}/scep`,
        challenge,
        keySize: setting.keySize,
        keyUsage: setting.keyUsage,
        filled,
      });
      return { settingId, payloadUuid: ids.uuid, payload };
    }

    // LOCAL: the PKCS#12 made at the generation's first build, unchanged until renewal
    let sealed = identity.pkcs12 && identity.pkcs12Password ? { pkcs12: identity.pkcs12, password: identity.pkcs12Password } : undefined;
    if (!sealed) sealed = await this.makePkcs12(device, identity, setting, filled);
    const payload = buildPkcs12IdentityPayload({
      ...common,
      pkcs12: Buffer.from(this.secrets.open(sealed.pkcs12, PKCS12_CONTEXT), 'base64'),
      password: this.secrets.open(sealed.password, PKCS12_PASSWORD_CONTEXT),
    });
    return { settingId, payloadUuid: ids.uuid, payload };
  }

  private issue(setting: EnrollmentSpec, filled: FilledIdentity, publicKey: KeyObject) {
    const ca = this.signing.ca;
    if (!ca) throw new DomainError('profile.certificateAuth', scepUnavailableReason(ca) ?? 'no CA');
    return ca.issueCertificate({
      subject: { commonName: commonNameOf(filled.subject) ?? '', attributes: filled.subject },
      publicKey,
      profile: 'identity',
      notBefore: new Date(this.now().getTime() - 5 * 60_000),
      validityDays: setting.validityDays,
      identity: {
        keyUsages: keyUsagesOf(setting),
        extendedKeyUsageOids: setting.extendedKeyUsage.map((name) => EXTENDED_KEY_USAGE_OIDS[name]),
        subjectAltNames: filled.subjectAltNames,
      },
      crlUrl: this.crlUrl(),
    });
  }

  private async makePkcs12(
    device: { id: number; uuid: string },
    identity: { id: number; generation: number },
    setting: EnrollmentSpec,
    filled: FilledIdentity,
  ): Promise<{ pkcs12: string; password: string }> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: setting.keySize });
    const issued = this.issue(setting, filled, publicKey);
    const password = randomBytes(18).toString('base64url');
    const der = await buildPkcs12({
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certificatePems: [issued.pem, this.signing.ca!.certificatePem],
      password,
      friendlyName: `${setting.name} (${device.uuid})`,
    });
    const sealed = {
      pkcs12: this.secrets.seal(der.toString('base64'), PKCS12_CONTEXT),
      password: this.secrets.seal(password, PKCS12_PASSWORD_CONTEXT),
    };
    return this.db.$transaction(async (tx) => {
      const stored = await enrollmentStore.setIdentityPkcs12(tx, identity.id, identity.generation, {
        pkcs12: sealed.pkcs12,
        pkcs12Password: sealed.password,
        certificateSerial: issued.serialNumber,
        filled: JSON.stringify(filled),
      });
      if (stored.count !== 1) {
        // Another build of the same generation got there first: carry its PKCS#12
        const winner = await enrollmentStore.identity(tx, device.id, setting.id);
        if (winner?.pkcs12 && winner.pkcs12Password) return { pkcs12: winner.pkcs12, password: winner.pkcs12Password };
        throw new DomainError('profile.certificateAuth', `the identity of ${setting.name} changed while it was being made; build again`);
      }
      await this.certificates.recordCertificate(tx, {
        certificate: issued.certificate,
        deviceRef: device.id,
        source: 'local',
        purpose: 'identity',
        enrollmentRef: setting.id,
        subjectAltNames: filled.subjectAltNames,
      });
      await recordAudit(tx, {
        actor: 'identity',
        action: 'certificate.issue',
        objectType: 'deviceCertificate',
        objectId: issued.serialNumber,
        details: { deviceUuid: device.uuid, setting: setting.name, generation: identity.generation, method: 'LOCAL' },
      });
      return sealed;
    });
  }

  /**
   * For SCEP (port): issues the certificate an identity challenge was registered for, per its
   * setting and the templates as filled into the profile, and records it — in the caller's
   * transaction, which has already spent the challenge.
   */
  async issueForChallenge(
    tx: DbTx,
    identityRef: number,
    publicKey: KeyObject,
    transactionId: string,
  ): Promise<IssuedIdentity | { refusal: string }> {
    const identity = await enrollmentStore.identityById(tx, identityRef);
    if (!identity) return { refusal: 'the device identity this challenge was registered for no longer exists' };
    if (publicKey.asymmetricKeyType !== 'rsa' || (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      return { refusal: 'identity certificates need an RSA key of at least 2048 bits' };
    }
    const setting = enrollmentSpec(identity.enrollment);
    const device = await enrollmentStore.findDeviceById(tx, identity.deviceRef);
    if (!device) return { refusal: 'the device this challenge was registered for no longer exists' };
    const filled = JSON.parse(identity.filled) as FilledIdentity;
    if (!Array.isArray(filled.subject)) return { refusal: 'this identity has no subject recorded' };
    const issued = this.issue(setting, filled, publicKey);
    await this.certificates.recordCertificate(tx, {
      certificate: issued.certificate,
      deviceRef: device.id,
      source: 'scep',
      purpose: 'identity',
      enrollmentRef: setting.id,
      subjectAltNames: filled.subjectAltNames,
      transactionId,
    });
    await enrollmentStore.setIdentityCertificate(tx, identity.id, identity.generation, issued.serialNumber);
    return { certificate: issued.certificate, serialNumber: issued.serialNumber };
  }

  /**
   * Renewal sweep: every identity whose current certificate is revoked or within its setting's
   * renewal window starts its next generation (once: an identity whose new certificate is not
   * issued yet has none to judge). Returns the devices whose profile changed.
   */
  async sweep(): Promise<number[]> {
    const candidates = await enrollmentStore.identitiesWithCertificate(this.db);
    const devices = new Set<number>();
    for (const c of candidates) {
      await this.db.$transaction(async (tx) => {
        if (!(await this.renewalDue(tx, c.certificateSerial, c.enrollment.renewalWindowDays))) return;
        if (await this.rotate(tx, c, 'renewal sweep')) devices.add(c.deviceRef);
      });
    }
    return [...devices];
  }

  /** The AnyConnect head-end model's port: a device's identity certificates, newest first. */
  async identityCertificates(deviceUuid: string): Promise<IdentityCertificateRecord[]> {
    const device = await enrollmentStore.findDeviceByUuid(this.db, deviceUuid);
    if (!device) return [];
    const [rows, identities] = await Promise.all([
      this.certificates.identityCertificatesOfDevice(this.db, device.id),
      enrollmentStore.identitiesOfDevice(this.db, device.id),
    ]);
    const names = new Map(identities.map((i) => [i.enrollmentRef, i.enrollment.name]));
    return rows.map((r) => ({
      certificatePem: r.certificatePem,
      serialNumber: r.serialNumber,
      revoked: r.revoked,
      settingName: (r.enrollmentRef !== null ? names.get(r.enrollmentRef) : undefined) ?? '',
    }));
  }

  /**
   * What GET /devices/{uuid}/details adds: the device's identity certificates, newest first, one
   * "serial subject (setting, status, notBefore..notAfter)" each; the full records are at
   * GET /devices/{uuid}/certificates.
   */
  async detailsFor(device: { uuid: string }): Promise<Record<string, string | null>> {
    const certificates = await this.listForDevice(system, device.uuid);
    return {
      'identity.certificate_count': String(certificates.length),
      'identity.certificates': certificates.length
        ? certificates
            .map((c) => `${c.serialNumber} ${c.subject} (${c.settingName ?? 'no setting'}, ${c.status}, ${c.notBefore}..${c.notAfter})`)
            .join('; ')
        : null,
    };
  }

  /** GET /api/v2/devices/{uuid}/certificates: the device's identity certificates with their status. */
  async listForDevice(actor: Actor, deviceUuid: string) {
    requireRead(actor);
    const device = await enrollmentStore.findDeviceByUuid(this.db, deviceUuid);
    if (!device) throw DomainError.notFound('Device', deviceUuid);
    const [rows, identities] = await Promise.all([
      this.certificates.identityCertificatesOfDevice(this.db, device.id),
      enrollmentStore.identitiesOfDevice(this.db, device.id),
    ]);
    const byEnrollment = new Map(identities.map((i) => [i.enrollmentRef, i]));
    const now = this.now().getTime();
    return rows.map((r) => {
      const identity = r.enrollmentRef !== null ? byEnrollment.get(r.enrollmentRef) : undefined;
      let status: IdentityCertificateStatus;
      if (r.revoked) status = 'revoked';
      else if (r.notAfter.getTime() <= now) status = 'expired';
      else if (identity?.certificateSerial !== r.serialNumber) status = 'superseded';
      else status = 'valid';
      return {
        serialNumber: r.serialNumber,
        subject: r.subject,
        subjectAltNames: JSON.parse(r.subjectAltNames) as Array<{ type: string; value: string }>,
        issuer: new X509Certificate(r.certificatePem).issuer.replace(/\n/g, ', '),
        notBefore: r.notBefore.toISOString(),
        notAfter: r.notAfter.toISOString(),
        status,
        revokedAt: r.revokedAt?.toISOString() ?? null,
        source: r.source,
        settingId: r.enrollmentRef,
        settingName: identity?.enrollment.name ?? null,
        generation: identity && identity.certificateSerial === r.serialNumber ? identity.generation : null,
      };
    });
  }
}

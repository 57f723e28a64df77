// Over-the-air enrollment: an admin invitation → the device fetches a signed Profile Service
// profile → it posts its CMS-signed attributes → it gets a signed MDM enrollment profile (our
// CA, a device identity by SCEP or PKCS#12, com.apple.mdm).
// Two shorter paths give the same enrollment profile (docs/enrollment.md):
// - direct: an invitation's token (or an admin) fetches it at once; no device has spoken yet, so
//   the invitation's device record is made (or reused) without a UDID, and Authenticate gives it one;
// - MachineInfo (automated-enrollment style): the device POSTs its CMS-signed MachineInfo; a
//   pre-registered serial number binds to its record, an unknown device enrolls only when the
//   server allows it (--enroll-unknown-devices).
import { createHash, createHmac, generateKeyPair as generateKeyPairAsync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { deviceStore } from '../devices/index.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import { toXmlPlist } from '../lib/plist/index.js';
import type { ScepService } from '../scep/index.js';
import type { CertificateRegistry } from '../certificates/index.js';
import { CmsVerifyError, verifyCms } from '../lib/pki/cms.js';
import type { SigningService } from '../signing/index.js';
import { userStore } from '../users/index.js';
import { isVersionLike } from '../lib/versions/compare.js';
import { buildEnrollmentProfile, buildProfileServicePayload, scepSubject, type DeviceIdentityInput } from '../lib/enrollment/payloads.js';
import type { MachineInfo } from '../lib/enrollment/machine-info.js';
import { parseDeviceAttributes, parseMachineInfo } from './device-attributes.js';
import { invitationStore, invitationTokenHash } from './store.js';
import { buildPkcs12 } from './pkcs12.js';
import { MdmProtocolError } from '../lib/mdm-protocol/errors.js';

export const mdmTopic = 'com.apple.mgmt.External.mockiron';
export const enrollmentProfileIdentifier = (deviceUuid: string) => `com.mockiron.mdm.${deviceUuid.toLowerCase()}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What Core's v1 register call carries that mockiron keeps (the rest is accepted and echoed). */
export interface V1Registration {
  userId: string;
  isEmployeeOwned?: boolean;
  userFirstName?: string;
  userLastName?: string;
  userEmailAddress?: string;
}

export class EnrollmentService {
  constructor(
    private readonly db: Db,
    private readonly signing: SigningService,
    private readonly scep: ScepService,
    private readonly certificates: CertificateRegistry,
    private readonly namespace: string,
    private readonly publicUrl: string,
    private readonly logger: Logger,
    // topic: the MDM push certificate's, once one is uploaded (APNs wakes devices only on it)
    private readonly settings: { enrollUnknownDevices: boolean; topic?: () => string } = { enrollUnknownDevices: false },
  ) {}

  /**
   * The one-time challenge of an invitation, derived from its token with a key only this
   * server holds: nothing secret is stored (the database keeps only its hash), yet phase 1
   * can put the same challenge into the Profile Service profile.
   */
  private challengeFor(token: string): string {
    this.challengeKey ??= createHash('sha256')
      .update('mockiron enrollment challenge key\0')
      .update(this.signing.identity.privateKey.export({ type: 'pkcs8', format: 'der' }))
      .digest();
    return createHmac('sha256', this.challengeKey).update(token).digest('base64url').slice(0, 32);
  }

  private challengeKey: Buffer | undefined;

  async createInvitation(
    actor: Actor,
    input: { userId: string; deviceUuid?: string; expiresInMinutes?: number; identity?: 'scep' | 'pkcs12' },
  ) {
    requireWrite(actor);
    const token = randomBytes(18).toString('base64url');
    const challenge = this.challengeFor(token);
    const expiresAt = new Date(Date.now() + (input.expiresInMinutes ?? 60 * 24) * 60_000);
    const inv = await this.db.$transaction(async (tx) => {
      const user = await userStore.findByUserId(tx, input.userId);
      if (!user) throw DomainError.validation('userId', `no user ${input.userId}; create it with POST /api/v2/users first`);
      let deviceRef: number | null = null;
      if (input.deviceUuid) {
        const d = await deviceStore.findByUuid(tx, input.deviceUuid);
        if (!d) throw DomainError.validation('deviceUuid', `no device ${input.deviceUuid}`);
        if (d.platform !== 'iOS') throw DomainError.validation('deviceUuid', 'only iOS devices enroll over the air');
        deviceRef = d.id;
      }
      const created = await invitationStore.create(tx, {
        tokenHash: invitationTokenHash(token),
        challengeHash: sha256(challenge),
        userRef: user.id,
        deviceRef,
        identityKind: input.identity ?? 'scep',
        expiresAt,
        createdBy: actor.username,
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'enrollment',
        objectId: created.id,
        details: { userId: input.userId, deviceUuid: input.deviceUuid, expiresAt: expiresAt.toISOString() },
      });
      return created;
    });
    // The only time the token (and the URL carrying it) is told: only its hash is stored.
    return { ...this.invitationView(inv), url: this.enrollUrl(token), token, challenge };
  }

  /**
   * Core v1 registration (PUT /api/v1/dm/register): the user (created locally when unknown, as
   * Core creates a local user from the names given), a device record waiting for enrollment,
   * and an invitation bound to it, in one transaction. What Core does beyond that (LDAP import,
   * SMS or email to the user) cannot be done here; the answer says what was done.
   */
  async registerV1(actor: Actor, input: V1Registration) {
    requireWrite(actor);
    const token = randomBytes(18).toString('base64url');
    const challenge = this.challengeFor(token);
    const expiresAt = new Date(Date.now() + 60 * 24 * 60_000);
    const { inv, device, userCreated } = await this.db.$transaction(async (tx) => {
      let user = await userStore.findByUserId(tx, input.userId);
      const userCreated = !user;
      if (!user) {
        const displayName = [input.userFirstName, input.userLastName].filter(Boolean).join(' ') || null;
        user = await userStore.create(tx, { userId: input.userId, email: input.userEmailAddress ?? null, displayName });
        await recordAudit(tx, {
          actor: actor.username,
          action: 'create',
          objectType: 'user',
          objectId: input.userId,
          details: { via: 'v1 register' },
        });
      }
      const device = await deviceStore.create(tx, {
        uuid: randomUUID(),
        platform: 'iOS',
        manufacturer: 'Apple',
        owner: input.isEmployeeOwned ? 'EMPLOYEE' : 'COMPANY',
        userRef: user.id,
      });
      const inv = await invitationStore.create(tx, {
        tokenHash: invitationTokenHash(token),
        challengeHash: sha256(challenge),
        userRef: user.id,
        deviceRef: device.id,
        identityKind: 'scep',
        expiresAt,
        createdBy: actor.username,
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'register',
        objectType: 'device',
        objectId: device.uuid,
        details: { ...input, invitationId: inv.id },
      });
      return { inv, device, userCreated };
    });
    return {
      deviceUuid: device.uuid,
      userCreated,
      invitationId: inv.id,
      url: this.enrollUrl(token),
      challenge,
      expiresAt: expiresAt.toISOString(),
    };
  }

  private enrollUrl(token: string): string {
    return `${this.publicUrl}/ota/enroll?token=${token}`;
  }

  /** An invitation as listed: never its token, challenge or URL (they are as good as the challenge for enrolling). */
  invitationView(inv: NonNullable<Awaited<ReturnType<typeof invitationStore.findByToken>>>) {
    return {
      id: inv.id,
      userId: inv.user?.userId ?? null,
      deviceUuid: inv.device?.uuid ?? null,
      identity: inv.identityKind,
      expiresAt: inv.expiresAt.toISOString(),
      usedAt: inv.usedAt?.toISOString() ?? null,
      createdBy: inv.createdBy,
    };
  }

  async list(actor: Actor, page: { limit: number; offset: number }) {
    requireRead(actor);
    const [rows, total] = await Promise.all([invitationStore.list(this.db, page), invitationStore.count(this.db)]);
    return { total, results: rows.map((r) => this.invitationView(r)) };
  }

  /** OTA phase 1: the signed Profile Service profile for a valid, unused invitation. */
  async profileService(token: string): Promise<Buffer> {
    const inv = await invitationStore.findByToken(this.db, token);
    if (!inv || inv.usedAt || inv.expiresAt < new Date()) {
      throw inv
        ? new DomainError('enrollment.invitationSpent', 'this enrollment invitation has been used or has expired')
        : new DomainError('enrollment.invitationUnknown', 'unknown enrollment invitation');
    }
    const challenge = this.challengeFor(token);
    const payload = buildProfileServicePayload({
      namespace: this.namespace,
      payload: {
        identifier: `com.mockiron.ota.${inv.id}`,
        displayName: 'mockiron enrollment',
        description: 'Enroll this device in mockiron',
        organization: 'mockiron',
      },
      url: `${this.publicUrl}/ota/profile`,
      challenge,
    });
    return this.signing.signOnce(Buffer.from(toXmlPlist(payload)));
  }

  /** OTA phase 2: verify the device's signed attributes, consume the challenge, enroll. */
  async completeOta(body: Buffer): Promise<{ profile: Buffer; deviceUuid: string }> {
    let content: Buffer;
    try {
      // iOS signs with an Apple-issued device certificate we cannot chain; the signature must
      // still be valid over exactly these bytes.
      // Verified before the plist inside is parsed; the plist is then read within the OTA limits.
      content = verifyCms(body, {}).content;
    } catch (err) {
      if (err instanceof CmsVerifyError) {
        // The code is ours; the message may quote OpenSSL, so it goes to the log only
        this.logger.warn({ code: err.code, reason: err.message }, 'OTA phase 2: device attributes not validly signed');
        throw new DomainError('enrollment.attributesUnsigned', `the device attributes are not a valid CMS signature (${err.code})`);
      }
      throw err;
    }
    let attrs;
    try {
      attrs = parseDeviceAttributes(content, { requireChallenge: true });
    } catch (err) {
      // MdmProtocolError (our words); anything else is not repeated. Cut short: it may quote the device.
      const reason = err instanceof MdmProtocolError ? err.message.slice(0, 200) : 'not a readable property list';
      throw new DomainError('enrollment.attributesInvalid', `bad device attributes: ${reason}`);
    }
    const challengeHash = sha256(attrs.challenge!);
    // A server-made identity needs an RSA key: generated before the transaction (on libuv's
    // thread pool), so neither the event loop nor the database waits for it.
    const invited = await invitationStore.findByChallengeHash(this.db, challengeHash);
    const keyPair = invited?.identityKind === 'pkcs12' && !invited.usedAt ? await generateRsaKeyPair() : undefined;
    const result = await this.db.$transaction(async (tx) => {
      const inv = await invitationStore.findByChallengeHash(tx, challengeHash);
      if (!inv) throw new DomainError('enrollment.challengeRefused', 'unknown enrollment challenge');
      if (inv.usedAt) throw new DomainError('enrollment.challengeRefused', 'this enrollment challenge has already been used');
      if (inv.expiresAt < new Date()) throw new DomainError('enrollment.challengeRefused', 'this enrollment challenge has expired');
      const device = await this.upsertDevice(tx, inv.deviceRef, inv.userRef, attrs);
      const claimed = await invitationStore.markUsed(tx, inv.id, device.id);
      if (claimed.count !== 1) throw new DomainError('enrollment.challengeRefused', 'this enrollment challenge has already been used');
      const identity = await this.identityFor(tx, inv.identityKind, device, 'ota', keyPair);
      await recordAudit(tx, {
        actor: `device:${attrs.udid}`,
        action: 'enroll.ota',
        objectType: 'device',
        objectId: device.uuid,
        details: { invitation: inv.id, identity: inv.identityKind },
      });
      return { device, identity };
    });
    const identity = typeof result.identity === 'function' ? await result.identity() : result.identity;
    this.logger.info({ deviceUuid: result.device.uuid, udid: attrs.udid }, 'device completed OTA enrollment');
    // Carries a one-time SCEP challenge or a PKCS#12 password: signed once, never cached.
    const xml = this.enrollmentProfileXml(enrollmentProfileIdentifier(result.device.uuid), identity);
    return { profile: this.signing.signOnce(xml), deviceUuid: result.device.uuid };
  }

  /** The MDM enrollment profile (CA, identity, com.apple.mdm) as XML: what every enrollment path hands out. */
  private enrollmentProfileXml(identifier: string, identity: DeviceIdentityInput): Buffer {
    const plist = buildEnrollmentProfile({
      namespace: this.namespace,
      profile: {
        identifier,
        displayName: 'mockiron MDM',
        description: 'Device management by mockiron',
        organization: 'mockiron',
      },
      caCertificateDer: this.signing.caDer(),
      identity,
      mdm: {
        serverUrl: `${this.publicUrl}/mdm/connect`,
        checkInUrl: `${this.publicUrl}/mdm/checkin`,
        topic: this.settings.topic?.() ?? mdmTopic,
        signMessage: true,
        checkOutWhenRemoved: true,
      },
    });
    return Buffer.from(toXmlPlist(plist));
  }

  /**
   * A direct enrollment profile: the enrollment profile of an invitation without the Profile
   * Service round trip, for a device or tool that starts from the profile itself. Spends the
   * invitation, as OTA phase 2 does; `find` is its token (GET /mdm/enroll) or, for an admin, its
   * id. No device has spoken yet, so the invitation's device record is made here when it names
   * none (VERIFICATION_PENDING, the invitation's user, no UDID yet): the profile is named after
   * that record, as every enrollment profile is (RETIRE's RemoveProfile names it), and the SCEP
   * challenge is bound to it. Authenticate then tells the record its UDID; when the record
   * already has one, Authenticate from another UDID is refused.
   */
  async directProfile(
    find: { token: string } | { id: number; actor: Actor },
    options: { signed: boolean },
  ): Promise<{ profile: Buffer; invitationId: number; deviceUuid: string }> {
    if ('actor' in find) requireWrite(find.actor);
    const lookup = (tx: DbTx) => ('token' in find ? invitationStore.findByToken(tx, find.token) : invitationStore.findById(tx, find.id));
    const refuse = (inv: Awaited<ReturnType<typeof lookup>>) => {
      if (!inv) {
        throw 'token' in find
          ? new DomainError('enrollment.invitationUnknown', 'unknown enrollment invitation')
          : DomainError.notFound('Enrollment', String(find.id));
      }
      if (inv.usedAt || inv.expiresAt < new Date())
        throw new DomainError('enrollment.invitationSpent', 'this enrollment invitation has been used or has expired');
      return inv;
    };
    const first = refuse(await lookup(this.db));
    const keyPair = first.identityKind === 'pkcs12' ? await generateRsaKeyPair() : undefined;
    const result = await this.db.$transaction(async (tx) => {
      const inv = refuse(await lookup(tx));
      const device = inv.device
        ? await deviceStore.awaitEnrollment(tx, inv.device.id, inv.userRef)
        : await deviceStore.create(tx, {
            uuid: randomUUID(),
            platform: 'iOS',
            manufacturer: 'Apple',
            owner: 'COMPANY',
            status: 'VERIFICATION_PENDING',
            userRef: inv.userRef,
          });
      const claimed = await invitationStore.markUsed(tx, inv.id, device.id);
      if (claimed.count !== 1)
        throw new DomainError('enrollment.invitationSpent', 'this enrollment invitation has been used or has expired');
      const identity = await this.identityFor(tx, inv.identityKind, device, 'direct', keyPair);
      await recordAudit(tx, {
        actor: 'actor' in find ? find.actor.username : 'invitation-token',
        action: 'enroll.direct',
        objectType: 'enrollment',
        objectId: inv.id,
        details: { identity: inv.identityKind, deviceUuid: device.uuid, created: !inv.device, signed: options.signed },
      });
      return { inv, device, identity };
    });
    const identity = typeof result.identity === 'function' ? await result.identity() : result.identity;
    const xml = this.enrollmentProfileXml(enrollmentProfileIdentifier(result.device.uuid), identity);
    this.logger.info(
      { invitation: result.inv.id, deviceUuid: result.device.uuid, signed: options.signed },
      'direct enrollment profile handed out',
    );
    // Carries a one-time SCEP challenge or a PKCS#12 password: signed once, never cached.
    return {
      profile: options.signed ? this.signing.signOnce(xml) : xml,
      invitationId: result.inv.id,
      deviceUuid: result.device.uuid,
    };
  }

  /**
   * Automated-enrollment style: the device's CMS-signed MachineInfo in, its enrollment profile
   * out. The signature must be valid over exactly these bytes (Apple signs with the device
   * identity, which chains to Apple's device CA, not ours: the chain is not checked), so
   * MachineInfo is a claim, not a proof: a pre-registered serial number (or a known UDID) is
   * what admits a device, and any other only with --enroll-unknown-devices.
   */
  async enrollWithMachineInfo(body: Buffer, options: { signed: boolean }): Promise<{ profile: Buffer; deviceUuid: string }> {
    let content: Buffer;
    try {
      content = verifyCms(body, {}).content;
    } catch (err) {
      if (err instanceof CmsVerifyError) {
        this.logger.warn({ code: err.code, reason: err.message }, 'MachineInfo enrollment: MachineInfo not validly signed');
        throw new DomainError('enrollment.attributesUnsigned', `MachineInfo is not a valid CMS signature (${err.code})`);
      }
      throw err;
    }
    let info;
    try {
      info = parseMachineInfo(content);
    } catch (err) {
      const reason = err instanceof MdmProtocolError ? err.message.slice(0, 200) : 'not a readable property list';
      throw new DomainError('enrollment.attributesInvalid', `bad MachineInfo: ${reason}`);
    }
    const result = await this.db.$transaction(async (tx) => {
      const { target, known } = await this.machineInfoTarget(tx, info);
      const fields = {
        udid: info.udid,
        serialNumber: info.serial,
        model: info.product,
        ...(info.osVersion && isVersionLike(info.osVersion) ? { osVersion: info.osVersion } : {}),
        ...(info.imei ? { imei: info.imei } : {}),
      };
      const device = target
        ? await deviceStore.beginEnrollment(tx, target, fields, null)
        : await deviceStore.create(tx, { uuid: randomUUID(), platform: 'iOS', manufacturer: 'Apple', owner: 'COMPANY', ...fields });
      const identity = await this.identityFor(tx, 'scep', device, 'machine-info');
      await recordAudit(tx, {
        actor: `device:${info.udid}`,
        action: 'enroll.machineinfo',
        objectType: 'device',
        objectId: device.uuid,
        details: { serialNumber: info.serial, known, signed: options.signed },
      });
      return { device, identity: identity as DeviceIdentityInput };
    });
    const xml = this.enrollmentProfileXml(enrollmentProfileIdentifier(result.device.uuid), result.identity);
    this.logger.info({ deviceUuid: result.device.uuid, udid: info.udid, serialNumber: info.serial }, 'device enrolled with MachineInfo');
    return { profile: options.signed ? this.signing.signOnce(xml) : xml, deviceUuid: result.device.uuid };
  }

  /** The device record MachineInfo enrolls: the one with its UDID, else the one pre-registered with its serial number. */
  private async machineInfoTarget(tx: DbTx, info: MachineInfo): Promise<{ target: number | null; known: boolean }> {
    const byUdid = await deviceStore.findByUdid(tx, info.udid);
    const bySerial = await deviceStore.page(tx, { serialNumber: info.serial }, { limit: 2, offset: 0 }, { column: 'id' }, 'asc');
    if (byUdid) {
      const other = bySerial.find((d) => d.id !== byUdid.id);
      if (other && byUdid.serialNumber !== info.serial) {
        throw new DomainError(
          'enrollment.udidTaken',
          `serial number ${info.serial} is registered to another device record than UDID ${info.udid}`,
        );
      }
      return { target: byUdid.id, known: true };
    }
    if (bySerial.length > 1) {
      throw new DomainError('enrollment.serialAmbiguous', `more than one device record has serial number ${info.serial}`);
    }
    const registered = bySerial[0];
    if (registered) {
      if (registered.udid && registered.udid.toLowerCase() !== info.udid.toLowerCase()) {
        throw new DomainError('enrollment.serialAmbiguous', `the device record of serial number ${info.serial} has another UDID`);
      }
      return { target: registered.id, known: true };
    }
    if (!this.settings.enrollUnknownDevices) {
      this.logger.warn(
        { serialNumber: info.serial, udid: info.udid, setting: '--enroll-unknown-devices / MOCKIRON_ENROLL_UNKNOWN_DEVICES' },
        'MachineInfo enrollment refused: no device record has this serial number or UDID',
      );
      throw new DomainError(
        'enrollment.deviceUnknown',
        `no device is registered with serial number ${info.serial}; register it first (POST /api/v2/devices) or start the server with --enroll-unknown-devices`,
      );
    }
    return { target: null, known: false };
  }

  private async upsertDevice(tx: DbTx, deviceRef: number | null, userRef: number | null, attrs: ReturnType<typeof parseDeviceAttributes>) {
    const fields = {
      udid: attrs.udid,
      ...(attrs.serial ? { serialNumber: attrs.serial } : {}),
      ...(attrs.product ? { model: attrs.product } : {}),
      // iOS sends its build (e.g. 13E238) as VERSION; only a dotted version is an OS version.
      // Authenticate brings the OSVersion proper.
      ...(attrs.version && isVersionLike(attrs.version) ? { osVersion: attrs.version } : {}),
      ...(attrs.imei ? { imei: attrs.imei } : {}),
      ...(attrs.deviceName ? { deviceName: attrs.deviceName } : {}),
    };
    const byUdid = await deviceStore.findByUdid(tx, attrs.udid);
    const target = deviceRef ?? byUdid?.id ?? null;
    if (byUdid && deviceRef && byUdid.id !== deviceRef) {
      throw new DomainError('enrollment.udidTaken', `a different device record already has UDID ${attrs.udid}`);
    }
    if (target) {
      return deviceStore.beginEnrollment(tx, target, fields, userRef);
    }
    return deviceStore.create(tx, {
      uuid: randomUUID(),
      platform: 'iOS',
      manufacturer: 'Apple',
      owner: 'COMPANY',
      userRef,
      ...fields,
    });
  }

  /** The device identity of a device record: a SCEP challenge bound to it, or a PKCS#12 issued to it. */
  private async identityFor(
    tx: DbTx,
    kind: string,
    device: { id: number; uuid: string },
    via: 'ota' | 'direct' | 'machine-info',
    keyPair?: RsaKeyPair,
  ): Promise<DeviceIdentityInput | (() => Promise<DeviceIdentityInput>)> {
    const commonName = `mockiron device ${device.uuid}`;
    const subject = scepSubject([
      ['O', 'mockiron'],
      ['CN', commonName],
    ]);
    if (kind === 'pkcs12') return this.pkcs12Identity(tx, device, commonName, keyPair ?? (await generateRsaKeyPair()));
    const { challenge } = await this.scep.mintChallenge(tx, {
      purpose: 'enrollment',
      deviceRef: device.id,
      ttlMinutes: 60,
      createdBy: via,
    });
    return { kind: 'scep', url: `${this.publicUrl}/scep`, name: 'mockiron', subject, challenge, keysize: 2048, keyUsage: 5 };
  }

  /**
   * For tools that cannot do SCEP: a certificate issued and recorded in the transaction, and
   * what finishes the identity after it commits (the PKCS#12 is built in a worker thread).
   */
  private async pkcs12Identity(
    tx: DbTx,
    device: { id: number },
    commonName: string,
    { privateKey, publicKey }: RsaKeyPair,
  ): Promise<() => Promise<DeviceIdentityInput>> {
    const ca = this.signing.ca;
    if (!ca)
      throw new DomainError(
        'enrollment.caUnavailable',
        'device identities need the mockiron CA key, which is not held here (imported signing identity)',
      );
    const issued = ca.issueCertificate({
      subject: { commonName, organization: 'mockiron' },
      publicKey,
      profile: 'device',
      validityDays: 365,
      crlUrl: `${this.publicUrl}/api/v2/scep/crl`,
    });
    await this.certificates.recordCertificate(tx, { certificate: issued.certificate, deviceRef: device.id, source: 'pkcs12' });
    const password = randomBytes(12).toString('base64url');
    return async () => ({
      kind: 'pkcs12',
      pkcs12: await buildPkcs12({
        keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        certificatePems: [issued.pem, ca.certificatePem],
        password,
        friendlyName: 'mockiron device identity',
      }),
      password,
      fileName: 'identity.p12',
    });
  }
}

type RsaKeyPair = { privateKey: KeyObject; publicKey: KeyObject };
const generateRsaKeyPair = (): Promise<RsaKeyPair> => promisify(generateKeyPairAsync)('rsa', { modulusLength: 2048 });

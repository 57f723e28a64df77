// The check-in endpoint (NanoMDM's CheckinAndCommandService, check-in half): Authenticate,
// TokenUpdate, CheckOut, and the messages we know but do not implement. Dispatch on the message
// kind goes through a table. The answer is a domain outcome (src/mdm/outcomes.ts).
import { randomUUID } from 'node:crypto';
import type { DeviceRow } from '../devices/index.js';
import { decodeCheckin, MdmProtocolError, type CheckinMessage } from '../lib/mdm-protocol/index.js';
import { plistLimitsForBody } from '../lib/plist/index.js';
import type { Db } from '../platform/db/client.js';
import { DEVICE_BODY_LIMITS } from '../platform/http/device-limits.js';
import type { Logger } from '../platform/logger.js';
import { DeviceAuthError, type DeviceAuthenticator, type RequestHeaders } from './device-auth.js';
import { accepted, echo, rejected, type DeviceOutcome } from './outcomes.js';
import type { AuthenticatedDevice, DeviceCertificates, DeviceRecords } from './ports.js';
import type { Reconciler } from './reconciler.js';
import type { Retirement } from './retirement.js';

/** Plist limits of the endpoint: decoded size in proportion to its body limit. */
const CHECKIN_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.checkin);

/** The device's full row; a device deleted since it authenticated is an authentication failure. */
export async function deviceRowOf(db: Db, devices: Pick<DeviceRecords, 'findById'>, device: AuthenticatedDevice): Promise<DeviceRow> {
  const row = await devices.findById(db, device.id);
  if (!row) throw new DeviceAuthError('the device of this certificate no longer exists');
  return row;
}

export class Checkin {
  constructor(
    private readonly db: Db,
    private readonly auth: DeviceAuthenticator,
    private readonly devices: Pick<
      DeviceRecords,
      'findById' | 'findByUdid' | 'createEnrolling' | 'assignUdid' | 'recordAuthenticate' | 'recordTokenUpdate'
    >,
    private readonly certificates: Pick<DeviceCertificates, 'bindCertificate'>,
    private readonly reconciler: Pick<Reconciler, 'forget' | 'reconcile'>,
    private readonly retirement: Pick<Retirement, 'retire'>,
    /** Seals an UnlockToken (base64) for storage: it clears the device's passcode. */
    private readonly sealUnlockToken: (base64: string) => string,
    private readonly logger: Logger,
  ) {}

  // Every device request goes: signature (or forwarded certificate) and certificate record
  // first, over the raw bytes; only then is the body decoded, within the endpoint's plist
  // limits; then the UDID it names must be the certificate's device. An unauthenticated body is
  // never parsed, so its cost is one CMS verification whatever it holds.
  async handle(headers: RequestHeaders, body: Buffer): Promise<DeviceOutcome> {
    const identity = await this.auth.orRefuse(() => this.auth.identify(headers, body));
    if ('refused' in identity) return identity.refused;
    const deviceUuid = identity.device?.uuid;
    let message: CheckinMessage;
    try {
      message = decodeCheckin(body, CHECKIN_PLIST_LIMITS);
    } catch (err) {
      if (err instanceof MdmProtocolError) return { ...rejected(`malformed check-in: ${echo(err.message)}`), deviceUuid };
      throw err;
    }
    const udid = 'udid' in message ? (message.udid as string) : '';
    const device = await this.auth.orRefuse(() => this.auth.match(identity, udid, message.kind === 'Authenticate'), udid);
    if (device && 'refused' in device) return device.refused;
    const handler = this.handlers[message.kind] as (m: CheckinMessage, d: DeviceRow | null, fp: string) => Promise<DeviceOutcome>;
    const row = await this.auth.orRefuse(() => (device ? deviceRowOf(this.db, this.devices, device) : null), udid);
    if (row && 'refused' in row) return row.refused;
    // Unsupported types come from Apple's list; an unknown one is the device's own text, never logged.
    const kind = message.kind === 'Unsupported' ? message.messageType : message.kind;
    return { deviceUuid: row?.uuid, message: kind, ...(await handler(message, row, identity.fingerprint)) };
  }

  private readonly handlers: {
    [K in CheckinMessage['kind']]: (
      m: Extract<CheckinMessage, { kind: K }>,
      device: DeviceRow | null,
      fingerprint: string,
    ) => Promise<DeviceOutcome>;
  } = {
    Authenticate: async (m, device, fingerprint) => {
      const bound = device
        ? device.udid
          ? device
          : await this.assignUdid(device, m.udid)
        : await this.bindCertificate(m.udid, fingerprint);
      if ('kind' in bound) return bound;
      const row = bound;
      // A new enrollment: tokens and what we knew the device held are gone.
      await this.devices.recordAuthenticate(
        this.db,
        row.id,
        {
          serialNumber: m.serialNumber,
          model: m.productName,
          osVersion: m.osVersion,
          deviceName: m.deviceName,
          imei: m.imei,
          topic: m.topic,
        },
        new Date(),
      );
      this.reconciler.forget(row.id);
      return { ...accepted(), deviceUuid: row.uuid };
    },
    TokenUpdate: async (m, device) => {
      const row = device!;
      await this.db.$transaction(async (tx) => {
        await this.devices.recordTokenUpdate(
          tx,
          row.id,
          {
            pushToken: Buffer.from(m.token).toString('hex'),
            pushMagic: m.pushMagic,
            // Clears the passcode of the device: encrypted at rest like other secrets
            ...(m.unlockToken ? { unlockToken: this.sealUnlockToken(Buffer.from(m.unlockToken).toString('base64')) } : {}),
            topic: m.topic,
            enrolledAt: row.enrolledAt ?? new Date(),
          },
          new Date(),
        );
      });
      this.logger.info({ deviceUuid: row.uuid }, 'device is ACTIVE (TokenUpdate)');
      await this.reconciler.reconcile(row.id);
      return accepted();
    },
    CheckOut: async (_m, device) => {
      await this.db.$transaction((tx) => this.retirement.retire(tx, device!, 'CheckOut: the device removed its MDM profile'));
      return accepted();
    },
    // Known messages we do not implement: answered with an empty 200, as servers without
    // bootstrap tokens or declarative management do, so the device carries on.
    Unsupported: async (m, device) => {
      this.logger.info({ deviceUuid: device?.uuid, messageType: m.messageType }, 'unsupported check-in message');
      return accepted();
    },
    Unknown: async (m, device) => {
      this.logger.warn({ deviceUuid: device?.uuid, messageType: m.messageType }, 'unknown check-in message type');
      return rejected(`unknown MessageType ${echo(m.messageType, 64)}`);
    },
  };

  /**
   * A certificate bound to a record whose device had not spoken (a direct enrollment profile, a
   * record registered without UDID): Authenticate tells the record its UDID. A record whose
   * enrollment ended (RETIRED, WIPED) gives the UDID up; one still enrolled or enrolling keeps
   * it, and this Authenticate is refused: two records cannot be the same device.
   */
  private async assignUdid(device: DeviceRow, udid: string): Promise<DeviceRow | DeviceOutcome> {
    const refusal = await this.db.$transaction(async (tx) => {
      const holder = await this.devices.findByUdid(tx, udid);
      if (holder && holder.id !== device.id && holder.status !== 'RETIRED' && holder.status !== 'WIPED') return holder;
      await this.devices.assignUdid(tx, device.id, udid, holder && holder.id !== device.id ? holder.id : null);
      return null;
    });
    if (refusal) {
      this.logger.warn(
        { deviceUuid: device.uuid, udid: echo(udid, 64), heldBy: refusal.uuid, heldByStatus: refusal.status },
        'Authenticate refused: another device record holds this UDID',
      );
      return {
        kind: 'refused',
        reason: `UDID ${echo(udid, 64)} belongs to another device record (${refusal.uuid}, ${refusal.status}); retire it first`,
      };
    }
    // The certificate's cached device had no UDID: what it may claim is read again.
    this.auth.devicesChanged([device.id]);
    return { ...device, udid };
  }

  /** A certificate issued without a device (admin-minted SCEP challenge): bind it on Authenticate. */
  private async bindCertificate(udid: string, fingerprint: string): Promise<DeviceRow> {
    const existing = await this.devices.findByUdid(this.db, udid);
    const device = existing ?? (await this.devices.createEnrolling(this.db, { uuid: randomUUID(), udid }));
    await this.certificates.bindCertificate(fingerprint, device.id);
    return device;
  }
}

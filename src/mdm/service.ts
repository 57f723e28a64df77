// Apple's MDM protocol on the server side: check-ins, the command queue and its delivery,
// device authentication by Mdm-Signature, results, and reconciliation of each device with its
// policy. Dispatch on MessageType and RequestType goes through tables, not if-chains.
import { randomUUID, X509Certificate } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/store.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db, DbTx } from '../platform/db/client.js';
import type { DeviceRow } from '../devices/fields.js';
import { yieldToEventLoop } from '../lib/slices.js';
import { deviceStore } from '../devices/store.js';
import { enrollmentProfileIdentifier } from '../enrollment/service.js';
import { DomainError } from '../platform/errors/index.js';
import { ApiError } from '../platform/http/errors.js';
import type { Logger } from '../platform/logger.js';
import { DEVICE_BODY_LIMITS } from '../platform/http/device-limits.js';
import { PlistWriteError, plistLimitsForBody, toXmlPlist, type PlistDict } from '../lib/plist/index.js';
import type { PolicyService } from '../policy/service.js';
import { vpnProfileIdentifier, type DeviceProfileService } from '../profiles/service.js';
import type { ScepService } from '../scep/service.js';
import { SEALED_PREFIX, type SecretBox } from '../platform/secrets/box.js';
import type { SigningService } from '../signing/service.js';
import {
  applicationAttributesSetting,
  clearPasscodeCommand,
  decodeCheckin,
  IdlePollDecoder,
  deviceInformationCommand,
  deviceLockCommand,
  encodeCommand,
  eraseDeviceCommand,
  installApplicationCommand,
  installProfileCommand,
  MdmProtocolError,
  MdmSignatureError,
  parseResultPayload,
  rawCommand,
  removeApplicationCommand,
  removeProfileCommand,
  settingsCommand,
  verifyMdmSignature,
  type CheckinMessage,
  type MdmCommand,
  type CommandResult,
  type ResultPayload,
} from '../lib/mdm-protocol/index.js';
import type { PushProvider } from './push.js';
import { applyAcknowledged, planReconcile, type KnownState, type PlannedCommand, type SlotCommand } from './reconcile.js';
import { CommandQueue } from './queue.js';
import { commandStore, pushStore } from './store.js';

/** An answer to a device: HTTP status and (plist) body. */
export interface DeviceReply {
  status: number;
  body?: Buffer | string;
  contentType?: string;
  /** The device the request came from, once it is known (authenticated); for the access log. */
  deviceUuid?: string;
}

/** The message is what the device reads (our words only); `detail` is for the server's log. */
export class DeviceAuthError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Plist limits per device endpoint: decoded size in proportion to the endpoint's body limit. */
const CHECKIN_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.checkin);
const CONNECT_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.connect);

/** Device-supplied text echoed in an answer is cut short: a reply never grows with the request. */
function echo(text: string, max = 160): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Where a device's UnlockToken is sealed (see SecretBox). */
export const UNLOCK_TOKEN_CONTEXT = 'Device.unlockToken';

function commandReply(cmd: { body: string } | null): DeviceReply {
  return cmd ? { status: 200, body: cmd.body, contentType: 'application/xml; charset=utf-8' } : { status: 200, body: '' };
}

/** What authentication tells about a device; the rest of its row is read when needed. */
export interface AuthenticatedDevice {
  id: number;
  uuid: string;
  udid: string | null;
}

/** Who signed a request, known before its body is read: the certificate and its device (null while unbound). */
export interface DeviceIdentity {
  fingerprint: string;
  device: AuthenticatedDevice | null;
}

function knownState(device: { mdmState: string }): KnownState {
  try {
    return JSON.parse(device.mdmState) as KnownState;
  } catch {
    return {};
  }
}

export class MdmService {
  /** Per device: the policy change count it was last reconciled at. */
  private reconciledAt = new Map<number, number>();
  /** Devices whose own record or manual labels changed since their last reconciliation. */
  private dirty = new Set<number>();
  private lastSeenWrite = new Map<number, number>();
  private backgroundTimer: NodeJS.Timeout | undefined;
  private backgroundRunning = false;
  private backgroundSeen = -1;
  /** Certificate fingerprint → its device, with the certificate generation and device stamp it was read at. */
  private readonly authenticated = new Map<
    string,
    { device: AuthenticatedDevice; notAfter: Date; certificateGeneration: number; deviceStamp: number | undefined }
  >();
  /** Device id → a stamp that moves when the device changes through the admin API (deleted, user or labels changed, …). */
  private readonly deviceStamps = new Map<number, number>();
  private deviceStampCounter = 0;
  private readonly queue: CommandQueue;
  private readonly results = new IdlePollDecoder();

  constructor(
    private readonly db: Db,
    private readonly scep: ScepService,
    private readonly profiles: DeviceProfileService,
    private readonly policy: PolicyService,
    private readonly signing: SigningService,
    private readonly push: PushProvider,
    private readonly changes: ChangeCounter,
    private readonly logger: Logger,
    private readonly secrets: SecretBox,
    private readonly options: { clientCertHeader?: string } = {},
  ) {
    this.queue = new CommandQueue(db);
  }

  // ---------------------------------------------------------------- device authentication

  /**
   * Who is talking, decided before the body is parsed: the device whose enrolled identity signed
   * these exact bytes (Mdm-Signature, a detached CMS), or a proxy-forwarded client certificate,
   * and the certificate's record (issued here, not revoked, not expired). The certificate →
   * device answer is cached per certificate while no certificate was bound or revoked and the
   * device did not change (see the stamps).
   */
  async identify(headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<DeviceIdentity> {
    let fingerprint: string;
    const forwarded = this.options.clientCertHeader ? headers[this.options.clientCertHeader.toLowerCase()] : undefined;
    if (typeof forwarded === 'string' && forwarded) {
      fingerprint = this.forwardedCertificateFingerprint(forwarded);
    } else {
      try {
        const header = headers['mdm-signature'];
        const signer = verifyMdmSignature(typeof header === 'string' ? header : undefined, body, {
          trustAnchors: [this.signing.trustAnchor],
        });
        fingerprint = signer.fingerprintSha256;
      } catch (err) {
        // The code is ours; the message may quote a dependency (OpenSSL), so it goes to the log only
        if (err instanceof MdmSignatureError) throw new DeviceAuthError(`Mdm-Signature rejected (${err.code})`, err.message);
        throw err;
      }
    }
    const certificateGeneration = this.scep.certificateGeneration;
    const cached = this.authenticated.get(fingerprint);
    if (
      cached &&
      cached.certificateGeneration === certificateGeneration &&
      cached.deviceStamp === this.deviceStamps.get(cached.device.id) &&
      cached.notAfter.getTime() >= Date.now()
    ) {
      return { fingerprint, device: cached.device };
    }
    this.authenticated.delete(fingerprint);
    const cert = await this.scep.deviceForCertificate(fingerprint);
    if (!cert) throw new DeviceAuthError('the signing certificate was not issued to any device by this server');
    if (cert.revoked) throw new DeviceAuthError('the device certificate has been revoked (device retired or wiped)');
    if (cert.notAfter < new Date()) throw new DeviceAuthError('the device certificate has expired');
    if (cert.deviceRef == null) return { fingerprint, device: null };
    const deviceStamp = this.deviceStamps.get(cert.deviceRef);
    const row = await this.db.device.findUnique({ where: { id: cert.deviceRef }, select: { id: true, uuid: true, udid: true } });
    if (!row) throw new DeviceAuthError('the device of this certificate no longer exists');
    if (this.authenticated.size >= 100_000) this.authenticated.delete(this.authenticated.keys().next().value!);
    this.authenticated.set(fingerprint, { device: row, notAfter: cert.notAfter, certificateGeneration, deviceStamp });
    return { fingerprint, device: row };
  }

  /** The second half, once the body is decoded: the UDID it names must be the certificate's device. */
  private matchDevice(identity: DeviceIdentity, udid: string, allowUnbound: boolean): AuthenticatedDevice | null {
    const { device } = identity;
    if (!device) {
      if (allowUnbound) return null;
      throw new DeviceAuthError('the certificate is not bound to a device yet: send Authenticate first');
    }
    if (device.udid && device.udid.toLowerCase() !== udid.toLowerCase()) {
      throw new DeviceAuthError('the UDID in the message does not match the device this certificate was issued to');
    }
    return device;
  }

  /** The device's full row; a device deleted since it authenticated is an authentication failure. */
  private async deviceRow(device: AuthenticatedDevice): Promise<DeviceRow> {
    const row = await this.db.device.findUnique({ where: { id: device.id }, include: { user: true } });
    if (!row) throw new DeviceAuthError('the device of this certificate no longer exists');
    return row;
  }

  private forwardedCertificateFingerprint(value: string): string {
    try {
      const text = decodeURIComponent(value);
      const cert = text.includes('BEGIN CERTIFICATE') ? new X509Certificate(text) : new X509Certificate(Buffer.from(text, 'base64'));
      if (!cert.checkIssued(this.signing.trustAnchor) || !cert.verify(this.signing.trustAnchor.publicKey))
        throw new Error('not issued by the mockiron CA');
      return cert.fingerprint256;
    } catch (err) {
      throw new DeviceAuthError('forwarded client certificate rejected', (err as Error).message);
    }
  }

  // ---------------------------------------------------------------- check-in

  private readonly checkinHandlers: {
    [K in CheckinMessage['kind']]: (
      m: Extract<CheckinMessage, { kind: K }>,
      device: DeviceRow | null,
      fingerprint: string,
    ) => Promise<DeviceReply>;
  } = {
    Authenticate: async (m, device, fingerprint) => {
      const row = device ?? (await this.bindCertificate(m.udid, fingerprint));
      await deviceStore.update(this.db, row.id, {
        ...(m.serialNumber ? { serialNumber: m.serialNumber } : {}),
        ...(m.productName ? { model: m.productName } : {}),
        ...(m.osVersion ? { osVersion: m.osVersion } : {}),
        ...(m.deviceName ? { deviceName: m.deviceName } : {}),
        ...(m.imei ? { imei: m.imei } : {}),
        topic: m.topic,
        // A new enrollment: tokens and what we knew the device held are gone.
        pushToken: null,
        pushMagic: null,
        unlockToken: null,
        mdmState: '{}',
        lastConnectedAt: new Date(),
      });
      this.reconciledAt.delete(row.id);
      return { status: 200, body: '', contentType: 'application/xml', deviceUuid: row.uuid };
    },
    TokenUpdate: async (m, device) => {
      const row = device!;
      await this.db.$transaction(async (tx) => {
        await deviceStore.update(tx, row.id, {
          pushToken: Buffer.from(m.token).toString('hex'),
          pushMagic: m.pushMagic,
          // Clears the passcode of the device: encrypted at rest like other secrets
          ...(m.unlockToken ? { unlockToken: this.secrets.seal(Buffer.from(m.unlockToken).toString('base64'), UNLOCK_TOKEN_CONTEXT) } : {}),
          topic: m.topic,
          status: 'ACTIVE',
          enrolledAt: row.enrolledAt ?? new Date(),
          lastConnectedAt: new Date(),
        });
      });
      this.logger.info({ deviceUuid: row.uuid }, 'device is ACTIVE (TokenUpdate)');
      await this.reconcile(row.id);
      return { status: 200, body: '', contentType: 'application/xml' };
    },
    CheckOut: async (_m, device) => {
      await this.db.$transaction((tx) => this.finishRetirement(tx, device!, 'CheckOut: the device removed its MDM profile'));
      return { status: 200, body: '', contentType: 'application/xml' };
    },
    // Known messages we do not implement: answered with an empty 200, as servers without
    // bootstrap tokens or declarative management do, so the device carries on.
    Unsupported: async (m, device) => {
      this.logger.info({ deviceUuid: device?.uuid, messageType: m.messageType }, 'unsupported check-in message');
      return { status: 200, body: '', contentType: 'application/xml' };
    },
    Unknown: async (m, device) => {
      this.logger.warn({ deviceUuid: device?.uuid, messageType: m.messageType }, 'unknown check-in message type');
      return { status: 400, body: `unknown MessageType ${echo(m.messageType, 64)}` };
    },
  };

  // Every device request goes: signature (or forwarded certificate) and certificate record
  // first, over the raw bytes; only then is the body decoded, within the endpoint's plist
  // limits; then the UDID it names must be the certificate's device. An unauthenticated body is
  // never parsed, so its cost is one CMS verification whatever it holds.

  async checkin(headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<DeviceReply> {
    const identity = await this.orReply(() => this.identify(headers, body));
    if ('reply' in identity) return identity.reply;
    const deviceUuid = identity.device?.uuid;
    let message: CheckinMessage;
    try {
      message = decodeCheckin(body, CHECKIN_PLIST_LIMITS);
    } catch (err) {
      if (err instanceof MdmProtocolError) return { status: 400, body: `malformed check-in: ${echo(err.message)}`, deviceUuid };
      throw err;
    }
    const udid = 'udid' in message ? (message.udid as string) : '';
    const device = await this.orReply(async () => this.matchDevice(identity, udid, message.kind === 'Authenticate'), udid);
    if (device && 'reply' in device) return device.reply;
    const handler = this.checkinHandlers[message.kind] as (m: CheckinMessage, d: DeviceRow | null, fp: string) => Promise<DeviceReply>;
    const row = await this.orReply(() => (device ? this.deviceRow(device) : Promise.resolve(null)), udid);
    if (row && 'reply' in row) return row.reply;
    return { deviceUuid: row?.uuid, ...(await handler(message, row, identity.fingerprint)) };
  }

  private async orReply<T>(step: () => Promise<T>, udid?: string): Promise<T | { reply: DeviceReply }> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof DeviceAuthError) {
        // A 401 makes a real device remove its MDM profile: say clearly why (in our words).
        this.logger.warn(
          { ...(udid ? { udid: echo(udid, 64) } : {}), reason: err.message, detail: err.detail },
          'device authentication failed: answering 401',
        );
        return { reply: { status: 401, body: err.message } satisfies DeviceReply };
      }
      throw err;
    }
  }

  /** A certificate issued without a device (admin-minted SCEP challenge): bind it on Authenticate. */
  private async bindCertificate(udid: string, fingerprint: string): Promise<DeviceRow> {
    const existing = await deviceStore.findByUdid(this.db, udid);
    const device =
      existing ??
      (await deviceStore.create(this.db, { uuid: randomUUID(), platform: 'iOS', udid, manufacturer: 'Apple', owner: 'COMPANY' }));
    await this.scep.bindCertificate(fingerprint, device.id);
    return device;
  }

  // ---------------------------------------------------------------- command delivery

  async connect(headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<DeviceReply> {
    const identity = await this.orReply(() => this.identify(headers, body));
    if ('reply' in identity) return identity.reply;
    let result: CommandResult;
    try {
      // Idle polls are remembered per certificate: only an authenticated device fills the cache
      result = this.results.decode(identity.fingerprint, body, CONNECT_PLIST_LIMITS);
    } catch (err) {
      if (err instanceof MdmProtocolError)
        return { status: 400, body: `malformed command result: ${echo(err.message)}`, deviceUuid: identity.device?.uuid };
      throw err;
    }
    // allowUnbound false: a device or a DeviceAuthError, never null
    const matched = await this.orReply(async () => this.matchDevice(identity, result.udid, false)!, result.udid);
    if ('reply' in matched) return matched.reply;
    const device = matched;
    const deviceUuid = device.uuid;
    if (result.status === 'Idle') {
      await this.touch(this.db, device);
      if (this.needsReconcile(device.id)) await this.reconcile(device.id);
      return { ...commandReply(await this.queue.next(device.id, { requeue: true })), deviceUuid };
    }
    const row = await this.orReply(() => this.deviceRow(device), result.udid);
    if ('reply' in row) return row.reply;
    await this.queue.ready();
    // The answer, what it teaches about the device, and the next command: one transaction, so
    // a crash can never leave a command acknowledged without its effect (which would make
    // reconciliation send it again), and one commit instead of several.
    const outcome = await this.db.$transaction(async (tx) => {
      await this.touch(tx, device);
      const refused = await this.recordResult(tx, row, result);
      if (refused) return { refused };
      return { next: await this.queue.nextIn(tx, device.id, { requeue: false }) };
    });
    return { ...('refused' in outcome ? outcome.refused! : commandReply(outcome.next)), deviceUuid };
  }

  private async touch(tx: DbTx, device: AuthenticatedDevice) {
    // lastConnectedAt at most every 30 s per device, so polling does not churn the database
    const now = Date.now();
    if (now - (this.lastSeenWrite.get(device.id) ?? 0) < 30_000) return;
    this.lastSeenWrite.set(device.id, now);
    await deviceStore.update(tx, device.id, { lastConnectedAt: new Date(now) });
  }

  /** Stores a device's answer; returns a reply only when the answer cannot be accepted. */
  private async recordResult(tx: DbTx, device: DeviceRow, result: CommandResult): Promise<DeviceReply | null> {
    const cmd = await commandStore.findByUuid(tx, device.id, result.commandUuid!);
    if (!cmd) {
      this.logger.warn({ deviceUuid: device.uuid, commandUuid: result.commandUuid }, 'result for an unknown CommandUUID');
      return { status: 400, body: `unknown CommandUUID ${echo(result.commandUuid!, 64)}` };
    }
    if (cmd.status === 'Canceled' || cmd.status === 'Acknowledged') {
      // a late or repeated answer: accepted, changes nothing
      return null;
    }
    // An answer can be big (InstalledApplicationList or CertificateList of a real iPad: up to the
    // 2 MiB /mdm/connect accepts). Decoding it, writing it out again and storing it each take
    // tens of ms at that size: other requests run in between, not after all of them.
    await yieldToEventLoop();
    let rawXml: string;
    try {
      rawXml = toXmlPlist(result.raw);
    } catch (err) {
      // A value the readers take but XML cannot carry (a control character in a string, as a
      // binary plist may hold): the answer is refused, where storing it used to fail with a 500
      if (err instanceof PlistWriteError) return { status: 400, body: `malformed command result: ${echo(err.message)}` };
      throw err;
    }
    if (rawXml.length > 256 * 1024) await yieldToEventLoop();
    await commandStore.complete(tx, cmd.id, {
      status: result.status,
      result: rawXml,
      errorChain: result.errorChain.length ? JSON.stringify(result.errorChain) : null,
    });
    if (rawXml.length > 256 * 1024) await yieldToEventLoop();
    if (result.status === 'Acknowledged') {
      await this.afterAcknowledged(tx, device, cmd, result);
    } else if (result.status === 'Error' || result.status === 'CommandFormatError') {
      this.logger.info(
        { deviceUuid: device.uuid, requestType: cmd.requestType, errors: result.errorChain },
        'device reported a command error',
      );
    }
    return null;
  }

  private async afterAcknowledged(
    tx: DbTx,
    device: DeviceRow,
    cmd: { requestType: string; purpose: string | null; body: string },
    result: CommandResult,
  ) {
    if (cmd.purpose) {
      const fresh = await deviceStore.findByUuid(tx, device.uuid);
      const identifier = cmd.requestType === 'InstallProfile' ? vpnProfileIdentifier(fresh!.uuid) : undefined;
      await deviceStore.update(tx, device.id, { mdmState: JSON.stringify(applyAcknowledged(knownState(fresh!), cmd.purpose, identifier)) });
    }
    let payload: ResultPayload | undefined;
    try {
      payload = parseResultPayload(result, cmd.requestType);
    } catch (err) {
      if (!(err instanceof MdmProtocolError)) throw err;
      // The status is recorded and the raw answer kept; only its payload could not be read.
      this.logger.warn({ deviceUuid: device.uuid, requestType: cmd.requestType, reason: err.message }, 'unreadable result payload');
    }
    if (payload) await this.resultHandlers[payload.requestType]?.(tx, device, payload as never);
    if (cmd.requestType === 'EraseDevice') await this.finishWipe(tx, device);
    if (cmd.requestType === 'RemoveProfile' && cmd.purpose === null && cmd.body.includes(enrollmentProfileIdentifier(device.uuid))) {
      await this.finishRetirement(tx, device, 'the MDM enrollment profile was removed');
    }
  }

  /** What each kind of result teaches us about the device. */
  private readonly resultHandlers: {
    [K in ResultPayload['requestType']]?: (
      tx: DbTx,
      device: DeviceRow,
      payload: Extract<ResultPayload, { requestType: K }>,
    ) => Promise<void>;
  } = {
    DeviceInformation: async (tx, device, { data }) => {
      this.dirty.add(device.id);
      await deviceStore.update(tx, device.id, {
        ...(data.osVersion ? { osVersion: data.osVersion } : {}),
        ...(data.productName ? { model: data.productName } : {}),
        ...(data.deviceName ? { deviceName: data.deviceName } : {}),
        ...(data.serialNumber ? { serialNumber: data.serialNumber } : {}),
        ...(data.imei ? { imei: data.imei } : {}),
      });
    },
    ProfileList: async (tx, device, { data }) => {
      // A VPN profile we believe installed but the device does not list: forget it, so it is reinstalled.
      const fresh = (await deviceStore.findByUuid(tx, device.uuid))!;
      const known = knownState(fresh);
      const listed = new Set(data.profiles.map((p) => p.identifier));
      if (known.vpnProfile && !listed.has(known.vpnProfile.identifier)) {
        await deviceStore.update(tx, device.id, { mdmState: JSON.stringify({ ...known, vpnProfile: null }) });
      }
    },
  };

  // ---------------------------------------------------------------- reconciliation

  /** Enqueues exactly what brings the device in line with its policy. Returns how many commands. */
  async reconcile(deviceId: number): Promise<number> {
    const changesAtStart = this.changes.shared;
    this.dirty.delete(deviceId);
    const device = await this.db.device.findUnique({ where: { id: deviceId }, include: { user: true } });
    if (!device || device.status !== 'ACTIVE') return 0;
    const policy = await this.policy.resolve(this.db, device);
    let profile = null;
    try {
      profile = this.profiles.build(policy);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // the profile service's refusal (e.g. certificate authentication)
      this.logger.warn({ deviceUuid: device.uuid, reason: err.message }, 'cannot build the VPN profile for this device');
    }
    const desired = {
      vpnProfile: profile ? { identifier: profile.identifier, hash: profile.hash } : null,
      apps: policy.apps.map((a) => ({ bundleId: a.bundleId, iTunesStoreId: a.iTunesStoreId, vpnUuid: a.vpnUuid })),
    };
    const count = await this.db.$transaction(async (tx) => {
      const commands = (await commandStore.withPurpose(tx, deviceId)) as SlotCommand[];
      const plan = planReconcile(knownState(device), desired, commands);
      if (plan.cancel.length) await commandStore.cancel(tx, deviceId, plan.cancel);
      for (const p of plan.enqueue) {
        const command = this.buildPlanned(p, profile?.xml);
        await this.queue.create(tx, {
          commandUuid: command.CommandUUID,
          deviceRef: deviceId,
          requestType: command.Command.RequestType,
          body: encodeCommand(command).toString('utf8'),
          origin: 'reconcile',
          purpose: p.purpose,
        });
      }
      return plan.enqueue.length;
    });
    this.reconciledAt.set(deviceId, changesAtStart);
    if (count) this.logger.info({ deviceUuid: device.uuid, commands: count }, 'reconciled device with its policy');
    return count;
  }

  private buildPlanned(p: PlannedCommand, profileXml: Buffer | undefined) {
    switch (p.kind) {
      case 'install-profile':
        return installProfileCommand({ profile: this.signing.sign(profileXml!) });
      case 'remove-profile':
        return removeProfileCommand({ identifier: p.identifier });
      case 'install-app':
        return installApplicationCommand({
          ...(p.iTunesStoreId ? { iTunesStoreId: Number(p.iTunesStoreId) } : { identifier: p.bundleId }),
          managementFlags: 1,
          ...(p.vpnUuid ? { vpnUuid: p.vpnUuid } : {}),
        });
      case 'bind-app':
        return settingsCommand({
          settings: [applicationAttributesSetting({ identifier: p.bundleId, attributes: p.vpnUuid ? { VPNUUID: p.vpnUuid } : {} })],
        });
      case 'remove-app':
        return removeApplicationCommand({ identifier: p.bundleId });
    }
  }

  /** Seals UnlockTokens stored in clear by versions before encryption at rest (once, at start). */
  async sealLegacyUnlockTokens(): Promise<number> {
    return this.db.$transaction(async (tx) => {
      // Only rows still in clear come back: a start with nothing to do reads nothing
      const legacy = await tx.device.findMany({
        where: { unlockToken: { not: null }, NOT: { unlockToken: { startsWith: SEALED_PREFIX } } },
        select: { id: true, unlockToken: true },
      });
      for (const r of legacy) await deviceStore.update(tx, r.id, { unlockToken: this.secrets.seal(r.unlockToken!, UNLOCK_TOKEN_CONTEXT) });
      return legacy.length;
    });
  }

  /** Background: when policy tables change, reconcile every ACTIVE device and push those with new commands. */
  start(): void {
    this.backgroundTimer = setInterval(() => void this.backgroundPass(), 500);
    this.backgroundTimer.unref();
  }

  stop(): void {
    if (this.backgroundTimer) clearInterval(this.backgroundTimer);
    this.backgroundTimer = undefined;
  }

  /** A device's policy may have moved: a shared change since its last reconciliation, or its own. */
  private needsReconcile(deviceId: number): boolean {
    return this.dirty.has(deviceId) || this.reconciledAt.get(deviceId) !== this.changes.shared;
  }

  /** Called when devices' own records or manual labels changed (by admins or by results). */
  markDirty(deviceIds: number[]): void {
    for (const id of deviceIds) {
      this.dirty.add(id);
      this.deviceStamps.set(id, ++this.deviceStampCounter);
    }
  }

  private async backgroundPass(): Promise<void> {
    if (this.backgroundRunning) return;
    if (this.changes.shared === this.backgroundSeen && this.dirty.size === 0) return;
    this.backgroundRunning = true;
    try {
      if (this.changes.shared !== this.backgroundSeen) {
        this.backgroundSeen = this.changes.shared;
        await this.reconcileAll();
      } else {
        await this.reconcileDevices([...this.dirty]);
      }
    } catch (err) {
      this.logger.error({ err }, 'background reconciliation failed');
    } finally {
      this.backgroundRunning = false;
    }
  }

  async reconcileAll(): Promise<number> {
    return this.reconcileDevices();
  }

  /** Reconciles the given (default: every) ACTIVE device and pushes those with new commands. */
  private async reconcileDevices(ids?: number[]): Promise<number> {
    const active = await this.db.device.findMany({
      where: { status: 'ACTIVE', ...(ids ? { id: { in: ids } } : {}) },
      select: { id: true, pushToken: true, pushMagic: true, topic: true },
    });
    if (ids) for (const id of ids) if (!active.some((d) => d.id === id)) this.dirty.delete(id);
    let total = 0;
    for (const d of active) {
      const n = await this.reconcile(d.id);
      total += n;
      if (n) await this.push.push(d, 'policy changed');
    }
    return total;
  }

  // ---------------------------------------------------------------- retire and wipe

  private async finishRetirement(tx: DbTx, device: DeviceRow, why: string) {
    await deviceStore.update(tx, device.id, { status: 'RETIRED', pushToken: null, pushMagic: null, mdmState: '{}' });
    await commandStore.cancelAllPending(tx, device.id);
    await this.scep.revokeDeviceCertificates(tx, device.id, why);
    this.logger.info({ deviceUuid: device.uuid, why }, 'device retired');
  }

  private async finishWipe(tx: DbTx, device: DeviceRow) {
    await deviceStore.update(tx, device.id, { status: 'WIPED', pushToken: null, pushMagic: null, mdmState: '{}' });
    await commandStore.cancelAllPending(tx, device.id);
    await this.scep.revokeDeviceCertificates(tx, device.id, 'device wiped');
    this.logger.info({ deviceUuid: device.uuid }, 'device wiped');
  }

  // ---------------------------------------------------------------- admin: queue and actions

  /** MDM facts for a device's details: enrollment, push and queue state (never tokens). */
  async detailsFor(device: DeviceRow): Promise<Record<string, string | null>> {
    const [lastPush, pushes, pending] = await Promise.all([
      pushStore.latest(this.db, device.id),
      pushStore.count(this.db, device.id),
      commandStore.count(this.db, device.id, 'Queued'),
    ]);
    return {
      'mdm.enrolled_at': device.enrolledAt?.toISOString() ?? null,
      'mdm.topic': device.topic,
      'mdm.push_token_present': String(Boolean(device.pushToken)),
      'mdm.push_count': String(pushes),
      'mdm.last_push_at': lastPush?.at.toISOString() ?? null,
      'mdm.last_push_reason': lastPush?.reason ?? null,
      'mdm.last_push_outcome': lastPush ? `${lastPush.outcome} (${lastPush.provider})` : null,
      'mdm.queued_commands': String(pending),
    };
  }

  async pushes(actor: Actor, uuid: string, page: { limit: number; offset: number }) {
    requireRead(actor);
    const device = await deviceStore.findByUuid(this.db, uuid);
    if (!device) throw ApiError.notFound('Device', uuid);
    const [rows, total] = await Promise.all([pushStore.list(this.db, device.id, page), pushStore.count(this.db, device.id)]);
    return { total, results: rows.map((r) => ({ at: r.at.toISOString(), reason: r.reason, provider: r.provider, outcome: r.outcome })) };
  }

  async listCommands(actor: Actor, uuid: string, page: { limit: number; offset: number }, status?: string) {
    requireRead(actor);
    const device = await deviceStore.findByUuid(this.db, uuid);
    if (!device) throw ApiError.notFound('Device', uuid);
    // The admin view is current: bring the queue in line first.
    if (device.status === 'ACTIVE' && this.needsReconcile(device.id)) await this.reconcile(device.id);
    const [rows, total] = await Promise.all([
      commandStore.list(this.db, device.id, page, status),
      commandStore.count(this.db, device.id, status),
    ]);
    return { total, results: rows.map(commandView) };
  }

  async enqueueRaw(actor: Actor, uuid: string, requestType: string, fields: PlistDict) {
    requireWrite(actor);
    let built;
    try {
      built = rawCommand(requestType, fields);
    } catch (err) {
      throw ApiError.badRequest('com.mockiron.messages.mdm.command', (err as Error).message, {
        field: (err as { field?: string }).field ?? 'RequestType',
      });
    }
    const row = await this.db.$transaction(async (tx) => {
      const device = await deviceStore.findByUuid(tx, uuid);
      if (!device) throw ApiError.notFound('Device', uuid);
      const created = await this.queue.create(tx, {
        commandUuid: built.command.CommandUUID,
        deviceRef: device.id,
        requestType,
        body: encodeCommand(built.command).toString('utf8'),
        origin: 'admin',
        purpose: null,
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'command.enqueue',
        objectType: 'device',
        objectId: uuid,
        details: { requestType, commandUuid: created.commandUuid },
      });
      return created;
    });
    return { ...commandView(row), warnings: built.warnings };
  }

  async cancel(actor: Actor, uuid: string, commandUuid: string) {
    requireWrite(actor);
    return this.db.$transaction(async (tx) => {
      const device = await deviceStore.findByUuid(tx, uuid);
      if (!device) throw ApiError.notFound('Device', uuid);
      const cmd = await commandStore.findByUuid(tx, device.id, commandUuid);
      if (!cmd) throw ApiError.notFound('Command', commandUuid);
      if (cmd.status !== 'Queued' && cmd.status !== 'NotNow') {
        throw ApiError.conflict(
          'com.mockiron.messages.mdm.notQueued',
          `Command ${commandUuid} is ${cmd.status}; only queued commands can be cancelled`,
        );
      }
      await commandStore.cancel(tx, device.id, [commandUuid]);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'command.cancel',
        objectType: 'device',
        objectId: uuid,
        details: { commandUuid },
      });
      return { commandUuid, status: 'Canceled' };
    });
  }

  /**
   * MobileIron-style device actions, per device. What happens to each device (commands queued,
   * retired at once, or refused with a reason) is decided by one rule, `actionPlan`, from where
   * the device stands; it is applied and audited in one transaction, whatever the outcome, and the
   * device is pushed once its commands are committed.
   */
  async action(actor: Actor, action: DeviceAction, uuids: string[], options: ActionOptions = {}): Promise<ActionResult[]> {
    requireWrite(actor);
    checkActionOptions(action, options);
    const results: ActionResult[] = [];
    for (const uuid of [...new Set(uuids)]) {
      // Up to 1,000 devices a request: other requests and timers run between two devices
      // (awaiting the database alone resolves promises, which never lets I/O in).
      await yieldToEventLoop();
      const { device, plan } = await this.db.$transaction(async (tx) => {
        const device = await deviceStore.findByUuid(tx, uuid);
        const plan = device
          ? this.actionPlan(action, device, await this.reachOf(tx, device), options)
          : refuse('NOT_FOUND', `Device ${uuid} not found`);
        if (device) await this.applyPlan(tx, device, plan);
        await recordAudit(tx, {
          actor: actor.username,
          action: `device.${action.toLowerCase()}`,
          objectType: 'device',
          objectId: uuid,
          details: {
            outcome: plan.kind === 'refuse' ? 'FAILED' : 'SUCCESS',
            ...(plan.kind === 'refuse' ? { reason: plan.reason, message: plan.message } : {}),
            ...(device ? { deviceStatus: device.status } : {}),
            ...(plan.kind === 'retire-now' ? { newStatus: 'RETIRED' } : {}),
            ...(plan.kind === 'send'
              ? { commands: plan.commands.map((c) => c.Command.RequestType), commandUuids: plan.commands.map((c) => c.CommandUUID) }
              : {}),
            ...(options.note !== undefined ? { note: options.note } : {}),
          },
        });
        return { device, plan };
      });
      if (plan.kind === 'refuse') {
        results.push({ deviceUuid: uuid, status: 'FAILED', reason: plan.reason, message: plan.message });
      } else if (plan.kind === 'retire-now') {
        results.push({ deviceUuid: uuid, status: 'SUCCESS', message: plan.message, commandUuids: [] });
      } else {
        const pushed = await this.push.push(device!, action.toLowerCase());
        results.push({
          deviceUuid: uuid,
          status: 'SUCCESS',
          message: `${plan.message}; push ${pushed.outcome}`,
          commandUuids: plan.commands.map((c) => c.CommandUUID),
        });
      }
    }
    return results;
  }

  private async applyPlan(tx: DbTx, device: DeviceRow, plan: ActionPlan): Promise<void> {
    if (plan.kind === 'send') {
      if (plan.cancelPending) await commandStore.cancelAllPending(tx, device.id);
      for (const c of plan.commands) {
        await this.queue.create(tx, {
          commandUuid: c.CommandUUID,
          deviceRef: device.id,
          requestType: c.Command.RequestType,
          body: encodeCommand(c).toString('utf8'),
          origin: 'action',
          purpose: null,
        });
      }
    } else if (plan.kind === 'retire-now') {
      await this.finishRetirement(tx, device, 'retired by an admin (the device could not receive commands)');
    }
  }

  /**
   * Whether commands can reach a device: it completed an MDM enrollment (TokenUpdate gave its push
   * token; a new Authenticate clears it), still holds a valid identity to authenticate its polls
   * with, and is not RETIRED or WIPED. The other statuses an admin may set (LOST, BLOCKED, …)
   * leave an enrolled device reachable, as in Core, where a lost device is locked or wiped.
   */
  private async reachOf(tx: DbTx, device: DeviceRow): Promise<Reach> {
    if (device.status === 'RETIRED' || device.status === 'WIPED') return device.status;
    if (!device.pushToken) return 'NOT_ENROLLED';
    const identities = await tx.deviceCertificate.count({ where: { deviceRef: device.id, revoked: false, notAfter: { gt: new Date() } } });
    return identities > 0 ? 'REACHABLE' : 'NO_IDENTITY';
  }

  /** The one rule: what an action does to a device, from where the device stands. */
  private actionPlan(action: DeviceAction, device: DeviceRow, reach: Reach, o: ActionOptions): ActionPlan {
    if (reach !== 'REACHABLE') {
      // Retiring is the one action that makes sense for a device commands cannot reach: it
      // becomes RETIRED at once (identity revoked, anything queued canceled), which closes a
      // registration that never enrolled. Every other action is refused for that device.
      if (action === 'RETIRE' && reach !== 'RETIRED') return { kind: 'retire-now', message: `retired at once: ${unreachable[reach]}` };
      return refuse(reach, action === 'RETIRE' ? 'the device is already RETIRED' : unreachable[reach]);
    }
    return this.commandPlans[action](device, o);
  }

  /** What each action sends to a device commands can reach. */
  private readonly commandPlans: Record<DeviceAction, (device: DeviceRow, o: ActionOptions) => ActionPlan> = {
    WAKEUP: () => send('wakeup push sent', []),
    LOCK: (_d, o) => send('DeviceLock queued', [deviceLockCommand({ ...(o.message ? { message: o.message } : {}) })]),
    UNLOCK_DEVICE_ONLY: (d) =>
      d.unlockToken
        ? send('ClearPasscode queued', [
            clearPasscodeCommand({ unlockToken: Buffer.from(this.secrets.open(d.unlockToken, UNLOCK_TOKEN_CONTEXT), 'base64') }),
          ])
        : refuse('NO_UNLOCK_TOKEN', 'the device never sent an UnlockToken, so its passcode cannot be cleared'),
    SEND_MESSAGE: (_d, o) =>
      send('message shown on the lock screen (DeviceLock with Message)', [deviceLockCommand({ message: o.message! })]),
    UPDATE_DEVICE_INFO: () => send('DeviceInformation queued', [deviceInformationCommand({})]),
    WIPE: (_d, o) => send('EraseDevice queued', [eraseDeviceCommand({ ...(o.pin ? { pin: o.pin } : {}) })]),
    RETIRE: (d) => {
      // Remove what we installed, then the MDM profile itself; the device answers with CheckOut.
      const known = knownState(d);
      const commands = [
        ...(known.vpnProfile ? [removeProfileCommand({ identifier: known.vpnProfile.identifier })] : []),
        removeProfileCommand({ identifier: enrollmentProfileIdentifier(d.uuid) }),
      ];
      return { ...send('retire queued (profiles removed, then the MDM profile)', commands), cancelPending: true };
    },
  };
}

export interface ActionOptions {
  note?: string;
  message?: string;
  pin?: string;
}

export interface ActionResult {
  deviceUuid: string;
  status: 'SUCCESS' | 'FAILED';
  /** Why a device was refused, for clients to act on without parsing the message. */
  reason?: RefusalReason;
  message: string;
  commandUuids?: string[];
}

/** Why an action was refused for a device (the `reason` of its per-device result). */
export const refusalReasons = ['NOT_FOUND', 'NOT_ENROLLED', 'NO_IDENTITY', 'RETIRED', 'WIPED', 'NO_UNLOCK_TOKEN'] as const;
export type RefusalReason = (typeof refusalReasons)[number];
type Reach = 'REACHABLE' | Extract<RefusalReason, 'NOT_ENROLLED' | 'NO_IDENTITY' | 'RETIRED' | 'WIPED'>;

type ActionPlan =
  | { kind: 'send'; message: string; commands: MdmCommand[]; cancelPending?: boolean }
  | { kind: 'retire-now'; message: string }
  | { kind: 'refuse'; reason: RefusalReason; message: string };

const send = (message: string, commands: MdmCommand[]): ActionPlan => ({ kind: 'send', message, commands });
const refuse = (reason: RefusalReason, message: string): ActionPlan => ({ kind: 'refuse', reason, message });

const unreachable: Record<Exclude<Reach, 'REACHABLE'>, string> = {
  NOT_ENROLLED:
    'the device is not enrolled in MDM (no push token: it never finished enrolling, or began a new enrollment), so it cannot receive commands',
  NO_IDENTITY: "the device's MDM identity certificate is revoked or expired, so it cannot receive commands",
  RETIRED: 'the device is RETIRED, so it cannot receive commands',
  WIPED: 'the device is WIPED, so it cannot receive commands',
};

/** The options each action takes: any other is refused rather than silently dropped. */
const actionOptionNames: Record<DeviceAction, ReadonlyArray<'message' | 'pin'>> = {
  WAKEUP: [],
  LOCK: ['message'],
  UNLOCK_DEVICE_ONLY: [],
  SEND_MESSAGE: ['message'],
  UPDATE_DEVICE_INFO: [],
  WIPE: ['pin'],
  RETIRE: [],
};

function checkActionOptions(action: DeviceAction, o: ActionOptions): void {
  for (const name of ['message', 'pin'] as const) {
    if (o[name] !== undefined && !actionOptionNames[action].includes(name))
      throw ApiError.validation(name, `${action} does not take a ${name}`);
  }
  if (action === 'SEND_MESSAGE' && !o.message?.trim()) throw ApiError.validation('message', 'SEND_MESSAGE needs a message');
}

export const deviceActions = ['WAKEUP', 'LOCK', 'UNLOCK_DEVICE_ONLY', 'SEND_MESSAGE', 'UPDATE_DEVICE_INFO', 'WIPE', 'RETIRE'] as const;
export type DeviceAction = (typeof deviceActions)[number];

export function commandView(c: {
  commandUuid: string;
  requestType: string;
  status: string;
  origin: string;
  purpose: string | null;
  queuedAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
  attempts: number;
  errorChain: string | null;
  result: string | null;
}) {
  return {
    commandUuid: c.commandUuid,
    requestType: c.requestType,
    status: c.status,
    origin: c.origin,
    purpose: c.purpose,
    queuedAt: c.queuedAt.toISOString(),
    sentAt: c.sentAt?.toISOString() ?? null,
    completedAt: c.completedAt?.toISOString() ?? null,
    attempts: c.attempts,
    errorChain: c.errorChain ? (JSON.parse(c.errorChain) as unknown) : null,
    result: c.result,
  };
}

// Apple's MDM protocol on the server side, assembled from small parts (in the manner of
// NanoMDM's service layer): device authentication (device-auth.ts), check-in (checkin.ts),
// command results and delivery (results.ts), reconciliation with its timer (reconciler.ts),
// admin actions and queue views (actions.ts), leaving MDM (retirement.ts). Each part gets only
// the ports it uses (ports.ts; Prisma implementations in store.ts). This facade is what routes
// and the app see; device answers are domain outcomes that routes.ts turns into HTTP.
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db } from '../platform/db/client.js';
import type { Logger } from '../platform/logger.js';
import type { PolicyService } from '../policy/index.js';
import type { DeviceProfileService } from '../profiles/index.js';
import { SEALED_PREFIX, type SecretBox } from '../platform/secrets/box.js';
import type { SigningService } from '../signing/index.js';
import { MdmActions } from './actions.js';
import { Checkin } from './checkin.js';
import { DeviceAuthenticator } from './device-auth.js';
import type { AuditTrail, CommandRecords, DeviceCertificates, DeviceRecords, IdentityCheck, PushRecords } from './ports.js';
import type { PushProvider } from './push.js';
import { CommandQueue } from './queue.js';
import { Reconciler } from './reconciler.js';
import { CommandResults } from './results.js';
import { Retirement } from './retirement.js';
import { commandStore, prismaAuditTrail, prismaDeviceRecords, pushStore } from './store.js';

/** Where a device's UnlockToken is sealed (see SecretBox). */
export const UNLOCK_TOKEN_CONTEXT = 'Device.unlockToken';

export interface MdmDeps {
  db: Db;
  /** Device identity certificates: the certificates capability's registry. */
  certificates: DeviceCertificates & IdentityCheck;
  profiles: Pick<DeviceProfileService, 'build'>;
  policy: Pick<PolicyService, 'resolveById'>;
  signing: Pick<SigningService, 'trustAnchor' | 'sign'>;
  push: PushProvider;
  changes: ChangeCounter;
  logger: Logger;
  secrets: SecretBox;
  /** Header a TLS-terminating proxy forwards the client certificate in, if any. */
  clientCertHeader?: string;
  /** InstallProfile carries the profile's plain XML rather than its CMS signature (`--install-profile-unsigned`). */
  installProfileUnsigned?: boolean;
  /** Storage; Prisma by default. */
  stores?: Partial<{
    devices: DeviceRecords;
    commands: CommandRecords;
    pushes: PushRecords;
    audit: AuditTrail;
  }>;
}

export class MdmService {
  readonly auth: DeviceAuthenticator;
  readonly queue: CommandQueue;
  readonly reconciler: Reconciler;
  readonly checkins: Checkin;
  readonly results: CommandResults;
  readonly actions: MdmActions;
  private readonly devices: DeviceRecords;

  constructor(private readonly deps: MdmDeps) {
    const { db, logger, secrets } = deps;
    const devices = (this.devices = deps.stores?.devices ?? prismaDeviceRecords);
    const commands = deps.stores?.commands ?? commandStore;
    this.queue = new CommandQueue(db, commands);
    this.auth = new DeviceAuthenticator(db, devices, deps.certificates, deps.signing, logger, { clientCertHeader: deps.clientCertHeader });
    this.reconciler = new Reconciler(
      db,
      devices,
      commands,
      this.queue,
      deps.policy,
      deps.profiles,
      deps.signing,
      deps.push,
      deps.changes,
      logger,
      { unsignedProfiles: deps.installProfileUnsigned ?? false },
    );
    const retirement = new Retirement(devices, commands, deps.certificates, logger);
    this.checkins = new Checkin(
      db,
      this.auth,
      devices,
      deps.certificates,
      this.reconciler,
      retirement,
      (token) => secrets.seal(token, UNLOCK_TOKEN_CONTEXT),
      logger,
    );
    this.results = new CommandResults(db, this.auth, devices, commands, this.queue, this.reconciler, retirement, logger);
    this.actions = new MdmActions(
      db,
      devices,
      commands,
      deps.stores?.pushes ?? pushStore,
      this.queue,
      deps.certificates,
      this.reconciler,
      retirement,
      deps.push,
      (sealed) => secrets.open(sealed, UNLOCK_TOKEN_CONTEXT),
      deps.stores?.audit ?? prismaAuditTrail,
    );
  }

  // ---- the device protocol

  checkin(...args: Parameters<Checkin['handle']>) {
    return this.checkins.handle(...args);
  }

  connect(...args: Parameters<CommandResults['handle']>) {
    return this.results.handle(...args);
  }

  // ---- admin

  detailsFor(...args: Parameters<MdmActions['detailsFor']>) {
    return this.actions.detailsFor(...args);
  }

  pushes(...args: Parameters<MdmActions['listPushes']>) {
    return this.actions.listPushes(...args);
  }

  listCommands(...args: Parameters<MdmActions['listCommands']>) {
    return this.actions.listCommands(...args);
  }

  enqueueRaw(...args: Parameters<MdmActions['enqueueRaw']>) {
    return this.actions.enqueueRaw(...args);
  }

  cancel(...args: Parameters<MdmActions['cancel']>) {
    return this.actions.cancel(...args);
  }

  action(...args: Parameters<MdmActions['action']>) {
    return this.actions.action(...args);
  }

  // ---- reconciliation

  reconcile(deviceId: number) {
    return this.reconciler.reconcile(deviceId);
  }

  reconcileAll() {
    return this.reconciler.reconcileAll();
  }

  start(): void {
    this.reconciler.start();
  }

  stop(): void {
    this.reconciler.stop();
    this.deps.push.stop?.();
  }

  /** Devices' own records, manual labels or user changed: reconcile them, and read their certificates' answers again. */
  markDirty(deviceIds: number[]): void {
    this.reconciler.markDirty(deviceIds);
    this.auth.devicesChanged(deviceIds);
  }

  /** Seals UnlockTokens stored in clear by versions before encryption at rest (once, at start). */
  async sealLegacyUnlockTokens(): Promise<number> {
    return this.deps.db.$transaction(async (tx) => {
      // Only rows still in clear come back: a start with nothing to do reads nothing
      const legacy = await this.devices.unsealedUnlockTokens(tx, SEALED_PREFIX);
      for (const r of legacy) await this.devices.setUnlockToken(tx, r.id, this.deps.secrets.seal(r.unlockToken, UNLOCK_TOKEN_CONTEXT));
      return legacy.length;
    });
  }
}

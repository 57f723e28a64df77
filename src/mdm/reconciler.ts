// Reconciliation of each ACTIVE device with its policy: the plan is pure (src/lib/mdm-reconcile);
// this part reads what it needs, enqueues the plan's commands and remembers, per device, the
// shared-change count it was reconciled at and whether its own record changed since (dirty). A
// background timer reconciles every ACTIVE device when shared tables change, and the dirty ones
// otherwise, and pushes those that got new commands.
import {
  applicationAttributesSetting,
  encodeCommand,
  installApplicationCommand,
  installProfileCommand,
  removeApplicationCommand,
  removeProfileCommand,
  settingsCommand,
} from '../lib/mdm-protocol/index.js';
import { parseKnownState, planReconcile, type PlannedCommand, type SlotCommand } from '../lib/mdm-reconcile/index.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import type { PolicyService } from '../policy/index.js';
import type { DeviceProfileService } from '../profiles/index.js';
import type { CommandRecords, DeviceRecords } from './ports.js';
import type { PushProvider } from './push.js';
import type { CommandQueue } from './queue.js';

export class Reconciler {
  /** Per device: the shared change count it was last reconciled at. */
  private readonly reconciledAt = new Map<number, number>();
  /** Devices whose own record or manual labels changed since their last reconciliation. */
  private readonly dirty = new Set<number>();
  private backgroundTimer: NodeJS.Timeout | undefined;
  private backgroundRunning = false;
  private backgroundSeen = -1;
  private renewalTimer: NodeJS.Timeout | undefined;
  private renewalRunning = false;

  /**
   * Identity renewal (set by the app): the sweep starts the next generation of identities due
   * for renewal and names their devices, which are then reconciled (a new profile) and pushed.
   */
  renewal: { sweep(): Promise<number[]>; intervalMs: number } | undefined;

  constructor(
    private readonly db: Db,
    private readonly devices: Pick<DeviceRecords, 'findById' | 'activePushTargets'>,
    private readonly commands: Pick<CommandRecords, 'withPurpose' | 'cancel'>,
    private readonly queue: Pick<CommandQueue, 'create'>,
    private readonly policy: Pick<PolicyService, 'resolveById'>,
    private readonly profiles: {
      build(policy: Awaited<ReturnType<PolicyService['resolve']>>): Promise<Awaited<ReturnType<DeviceProfileService['build']>>>;
    },
    private readonly signer: { sign(content: Buffer): Buffer },
    private readonly push: PushProvider,
    private readonly changes: Pick<ChangeCounter, 'shared'>,
    private readonly logger: Logger,
    /**
     * Unsigned: InstallProfile carries the profile's XML as is. iOS installs both; some device
     * simulators read only plain profiles. The plan compares profiles by the hash of that XML,
     * so a device reconciled in one mode is up to date in the other.
     */
    private readonly delivery: { unsignedProfiles: boolean } = { unsignedProfiles: false },
  ) {}

  /** A device's policy may have moved: a shared change since its last reconciliation, or its own. */
  needsReconcile(deviceId: number): boolean {
    return this.dirty.has(deviceId) || this.reconciledAt.get(deviceId) !== this.changes.shared;
  }

  /** Devices' own records or manual labels changed (by admins or by results). */
  markDirty(deviceIds: number[]): void {
    for (const id of deviceIds) this.dirty.add(id);
  }

  /** The device began a new enrollment: whatever it was reconciled at no longer holds. */
  forget(deviceId: number): void {
    this.reconciledAt.delete(deviceId);
  }

  /** Enqueues exactly what brings the device in line with its policy. Returns how many commands. */
  async reconcile(deviceId: number): Promise<number> {
    const changesAtStart = this.changes.shared;
    this.dirty.delete(deviceId);
    // The device, its user and its manual labels in one read, and its policy from them.
    const policy = await this.policy.resolveById(deviceId);
    if (!policy || policy.device.status !== 'ACTIVE') return 0;
    const device = policy.device;
    let profile = null;
    try {
      profile = await this.profiles.build(policy);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      this.logger.warn({ deviceUuid: device.uuid, reason: err.message }, 'cannot build the VPN profile for this device');
    }
    const desired = {
      vpnProfile: profile ? { identifier: profile.identifier, hash: profile.hash } : null,
      apps: policy.apps.map((a) => ({ bundleId: a.bundleId, iTunesStoreId: a.iTunesStoreId, vpnUuid: a.vpnUuid })),
    };
    const count = await this.db.$transaction(async (tx) => {
      const commands = (await this.commands.withPurpose(tx, deviceId)) as SlotCommand[];
      // What the device holds, read with its commands: an acknowledgement committed since the read
      // above (while the profile was built) moved both, and planning on the older state would install twice
      const known = (await this.devices.findById(tx, deviceId))?.mdmState ?? device.mdmState;
      const plan = planReconcile(parseKnownState(known), desired, commands);
      if (plan.cancel.length) await this.commands.cancel(tx, deviceId, plan.cancel);
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
        return installProfileCommand({ profile: this.delivery.unsignedProfiles ? profileXml! : this.signer.sign(profileXml!) });
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

  /** Background: when policy tables change, reconcile every ACTIVE device and push those with new commands. */
  start(): void {
    this.backgroundTimer = setInterval(() => void this.backgroundPass(), 500);
    this.backgroundTimer.unref();
    if (this.renewal) {
      // One sweep at start (identities may have come due while the server was down), then periodically
      void this.renewalPass();
      this.renewalTimer = setInterval(() => void this.renewalPass(), this.renewal.intervalMs);
      this.renewalTimer.unref();
    }
  }

  stop(): void {
    if (this.backgroundTimer) clearInterval(this.backgroundTimer);
    this.backgroundTimer = undefined;
    if (this.renewalTimer) clearInterval(this.renewalTimer);
    this.renewalTimer = undefined;
  }

  /** Runs the renewal sweep and marks the devices it renewed dirty (the background pass reconciles and pushes them). */
  async renewalPass(): Promise<number[]> {
    if (!this.renewal || this.renewalRunning) return [];
    this.renewalRunning = true;
    try {
      const renewed = await this.renewal.sweep();
      this.markDirty(renewed);
      if (renewed.length)
        this.logger.info({ devices: renewed.length }, 'identity certificates due for renewal: devices marked for reconciliation');
      return renewed;
    } catch (err) {
      this.logger.error({ err }, 'identity renewal sweep failed');
      return [];
    } finally {
      this.renewalRunning = false;
    }
  }

  /** Every ACTIVE device is reconciled at the next background pass (e.g. a certificate enrollment setting changed). */
  markAllStale(): void {
    this.backgroundSeen = -1;
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
    const active = await this.devices.activePushTargets(this.db, ids);
    if (ids) for (const id of ids) if (!active.some((d) => d.id === id)) this.dirty.delete(id);
    let total = 0;
    for (const d of active) {
      const n = await this.reconcile(d.id);
      total += n;
      if (n) await this.push.push(d, 'policy changed');
    }
    return total;
  }
}

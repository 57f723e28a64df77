// Per-device policy: the labels a device is in, the VPN configurations and apps that reach
// it through them, and the per-app VPN each app is bound to (rules in rules.ts).
import { requireRead, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import type { DeviceRow } from '../devices/index.js';
import { deviceFacts, deviceStore } from '../devices/index.js';
import { DomainError } from '../platform/errors/index.js';
import { labelPredicate, labelStore } from '../labels/index.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import { vpnSpec, type VpnRow } from '../vpn/index.js';
import { computePolicy, type DevicePolicy } from '../lib/policy/rules.js';
import { policyStore } from './store.js';

export interface ResolvedPolicy extends DevicePolicy {
  device: DeviceRow;
  labels: Array<{ id: number; name: string; isStatic: boolean; isSystem: boolean }>;
  /** Full VPN rows reaching the device (secrets included: for building profiles only). */
  vpnRows: VpnRow[];
}

/** The tables every device's policy reads, as of one value of the shared change counter. */
interface SharedPolicyTables {
  at: number;
  labels: Awaited<ReturnType<typeof labelStore.all>>;
  vpnRows: Awaited<ReturnType<typeof policyStore.allVpnConfigs>>;
  appRows: Awaited<ReturnType<typeof policyStore.allApps>>;
}

export class PolicyService {
  private shared: SharedPolicyTables | undefined;

  constructor(
    private readonly db: Db,
    private readonly changes: Pick<ChangeCounter, 'shared'>,
  ) {}

  /**
   * Labels, VPN configurations and apps with their assignments: read once per shared change, not
   * once per device (a fleet's first profiles would otherwise cost four queries each). The count
   * is taken before reading, so a write committed meanwhile makes the next call read again.
   */
  private async sharedTables(tx: DbTx): Promise<SharedPolicyTables> {
    const at = this.changes.shared;
    if (this.shared?.at === at) return this.shared;
    const [labels, vpnRows, appRows] = await Promise.all([labelStore.all(tx), policyStore.allVpnConfigs(tx), policyStore.allApps(tx)]);
    const tables = { at, labels, vpnRows, appRows };
    // Inside a transaction the rows may include its uncommitted writes: use them, keep nothing.
    if (tx === this.db) this.shared = tables;
    return tables;
  }

  /** The policy of a device, given the manual labels it is in (read with it: deviceStore.withManualLabels). */
  async resolve(tx: DbTx, device: DeviceRow, manualIds: readonly number[]): Promise<ResolvedPolicy> {
    const tables = await this.sharedTables(tx);
    const manual = new Set(manualIds);
    const facts = deviceFacts(device);
    const labels = tables.labels.filter((l) => (l.isStatic ? manual.has(l.id) : labelPredicate(l)!(facts)));
    const labelIds = labels.map((l) => l.id);
    const inLabels = new Set(labelIds);
    const onDeviceLabels = (assigned: { labelId: number }[]) => assigned.some((a) => inLabels.has(a.labelId));
    const vpnRows = tables.vpnRows.filter((v) => onDeviceLabels(v.labels));
    const appRows = tables.appRows.filter((a) => onDeviceLabels(a.labels));
    const policy = computePolicy({
      platform: device.platform,
      deviceLabelIds: labelIds,
      vpnConfigs: vpnRows.map((v) => ({
        id: v.id,
        name: v.name,
        vpnUuid: v.vpnUuid,
        perApp: v.perApp,
        labelIds: v.labels.map((l) => l.labelId),
      })),
      apps: appRows.map((a) => ({
        id: a.id,
        name: a.name,
        bundleId: a.bundleId,
        platform: a.platform,
        iTunesStoreId: a.iTunesStoreId,
        perAppVpnConfigId: a.perAppVpnConfigId,
        labelIds: a.labels.map((l) => l.labelId),
      })),
    });
    return {
      ...policy,
      device,
      labels: labels.map((l) => ({ id: l.id, name: l.name, isStatic: l.isStatic, isSystem: l.isSystem })),
      vpnRows,
    };
  }

  /** The policy of the device with this id, or null if there is none (the MDM reconciler's read). */
  async resolveById(id: number): Promise<ResolvedPolicy | null> {
    const found = await deviceStore.withManualLabels(this.db, { id });
    return found ? this.resolve(this.db, found.device, found.manualLabelIds) : null;
  }

  async forDevice(actor: Actor, uuid: string): Promise<ResolvedPolicy> {
    requireRead(actor);
    const found = await deviceStore.withManualLabels(this.db, { uuid });
    if (!found) throw DomainError.notFound('Device', uuid);
    return this.resolve(this.db, found.device, found.manualLabelIds);
  }

  /** The API shape of a policy: no secrets, no rows. */
  static view(p: ResolvedPolicy) {
    return {
      deviceUuid: p.device.uuid,
      labels: p.labels,
      vpnConfigurations: p.vpnConfigurations.map((v) => {
        const row = p.vpnRows.find((r) => r.id === v.id)!;
        return { ...v, connectionType: vpnSpec(row).connectionType, server: row.server };
      }),
      apps: p.apps,
      warnings: p.warnings,
    };
  }
}

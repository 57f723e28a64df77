// Per-device policy: the labels a device is in, the VPN configurations and apps that reach
// it through them, and the per-app VPN each app is bound to (rules in rules.ts).
import { requireRead, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import type { DeviceRow } from '../devices/index.js';
import { deviceStore } from '../devices/index.js';
import { DomainError } from '../platform/errors/index.js';
import type { LabelService } from '../labels/index.js';
import { vpnSpec, type VpnRow } from '../vpn/index.js';
import { computePolicy, type DevicePolicy } from '../lib/policy/rules.js';
import { policyStore } from './store.js';

export interface ResolvedPolicy extends DevicePolicy {
  device: DeviceRow;
  labels: Array<{ id: number; name: string; isStatic: boolean; isSystem: boolean }>;
  /** Full VPN rows reaching the device (secrets included: for building profiles only). */
  vpnRows: VpnRow[];
}

export class PolicyService {
  constructor(
    private readonly db: Db,
    private readonly labels: LabelService,
  ) {}

  async resolve(tx: DbTx, device: DeviceRow): Promise<ResolvedPolicy> {
    const labels = await this.labels.labelsOfDevice(tx, device);
    const labelIds = labels.map((l) => l.id);
    const [vpnRows, appRows] = await Promise.all([policyStore.vpnConfigsOnLabels(tx, labelIds), policyStore.appsOnLabels(tx, labelIds)]);
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

  async forDevice(actor: Actor, uuid: string): Promise<ResolvedPolicy> {
    requireRead(actor);
    const device = await deviceStore.findByUuid(this.db, uuid);
    if (!device) throw DomainError.notFound('Device', uuid);
    return this.resolve(this.db, device);
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

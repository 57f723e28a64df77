// Who gets which VPN, and which app tunnels through which per-app VPN (pure).
//
// - A device's labels = its manual labels + the filter labels it matches + system labels.
// - VPN configurations reaching a device = those applied to any of its labels; apps likewise.
// - An app is bound to a per-app VPN when the app and that VPN configuration share a label the
//   device has (the seed's rule), or when the app's explicit perAppVpnConfigId names a per-app
//   VPN configuration that reaches the device. Several candidates: the explicit one first, then
//   the lowest id, and a warning. Device-wide (perApp false) configurations never bind apps.

export interface PolicyVpn {
  id: number;
  name: string;
  vpnUuid: string;
  perApp: boolean;
  labelIds: number[];
}

export interface PolicyApp {
  id: number;
  name: string;
  bundleId: string;
  platform: string;
  iTunesStoreId: string | null;
  perAppVpnConfigId: number | null;
  labelIds: number[];
}

export interface PolicyInput {
  platform: string;
  deviceLabelIds: number[];
  vpnConfigs: PolicyVpn[];
  apps: PolicyApp[];
}

export interface AppBinding {
  id: number;
  name: string;
  bundleId: string;
  iTunesStoreId: string | null;
  vpnUuid: string | null;
  vpnConfigurationId: number | null;
  /** Why the app is (or is not) bound, in words. */
  reason: string;
}

export interface DevicePolicy {
  vpnConfigurations: Array<{ id: number; name: string; vpnUuid: string; perApp: boolean }>;
  apps: AppBinding[];
  warnings: string[];
}

export function computePolicy(input: PolicyInput): DevicePolicy {
  const deviceLabels = new Set(input.deviceLabelIds);
  const onDevice = (labelIds: number[]) => labelIds.filter((l) => deviceLabels.has(l));
  const warnings: string[] = [];

  const vpns = input.vpnConfigs.filter((v) => onDevice(v.labelIds).length > 0).sort((a, b) => a.id - b.id);
  const vpnById = new Map(vpns.map((v) => [v.id, v]));
  const apps = input.apps.filter((a) => a.platform === input.platform && onDevice(a.labelIds).length > 0).sort((a, b) => a.id - b.id);

  const bindings: AppBinding[] = apps.map((app) => {
    const appLabels = new Set(onDevice(app.labelIds));
    const viaLabel = vpns.filter((v) => v.perApp && v.labelIds.some((l) => appLabels.has(l)));
    const candidates: Array<{ vpn: PolicyVpn; how: string }> = [];

    if (app.perAppVpnConfigId != null) {
      const explicit = vpnById.get(app.perAppVpnConfigId);
      if (!explicit) {
        warnings.push(
          `${app.name} (${app.bundleId}) names VPN configuration ${app.perAppVpnConfigId} explicitly, but it does not reach this device`,
        );
      } else if (!explicit.perApp) {
        warnings.push(
          `${app.name} (${app.bundleId}) names ${explicit.name} explicitly, but it is a device-wide VPN (perApp false), which cannot bind apps`,
        );
      } else {
        candidates.push({ vpn: explicit, how: `explicit per-app VPN setting names ${explicit.name}` });
      }
    }
    for (const v of viaLabel) {
      if (candidates.some((c) => c.vpn.id === v.id)) continue;
      const shared = v.labelIds.filter((l) => appLabels.has(l));
      candidates.push({ vpn: v, how: `shares label${shared.length > 1 ? 's' : ''} ${shared.join(', ')} with ${v.name}` });
    }

    const chosen = candidates[0];
    if (candidates.length > 1) {
      warnings.push(
        `${app.name} (${app.bundleId}) could use ${candidates.map((c) => c.vpn.name).join(', ')}; chose ${chosen!.vpn.name} (${
          app.perAppVpnConfigId === chosen!.vpn.id ? 'explicit setting' : 'lowest id'
        })`,
      );
    }
    return {
      id: app.id,
      name: app.name,
      bundleId: app.bundleId,
      iTunesStoreId: app.iTunesStoreId,
      vpnUuid: chosen?.vpn.vpnUuid ?? null,
      vpnConfigurationId: chosen?.vpn.id ?? null,
      reason: chosen ? chosen.how : 'no per-app VPN configuration shares a label with this app on this device',
    };
  });

  return {
    vpnConfigurations: vpns.map(({ id, name, vpnUuid, perApp }) => ({ id, name, vpnUuid, perApp })),
    apps: bindings,
    warnings,
  };
}

import { describe, expect, it } from 'vitest';
import { computePolicy, type PolicyApp, type PolicyVpn } from '../../../src/lib/policy/rules.js';

const vpn = (id: number, labelIds: number[], perApp = true): PolicyVpn => ({
  id,
  name: `vpn${id}`,
  vpnUuid: `UUID-${id}`,
  perApp,
  labelIds,
});
const app = (id: number, bundleId: string, labelIds: number[], perAppVpnConfigId: number | null = null, platform = 'iOS'): PolicyApp => ({
  id,
  name: bundleId,
  bundleId,
  platform,
  iTunesStoreId: null,
  perAppVpnConfigId,
  labelIds,
});

describe('computePolicy', () => {
  it('binds apps that share a label with a per-app VPN on the device (the seed rule)', () => {
    const p = computePolicy({
      platform: 'iOS',
      deviceLabelIds: [4],
      vpnConfigs: [vpn(1, [4])],
      apps: [app(1, 'com.google.chrome.ios', [4]), app(2, 'com.microsoft.rdc.ios', [4]), app(3, 'com.other.rdp', [9])],
    });
    expect(p.vpnConfigurations.map((v) => v.id)).toEqual([1]);
    expect(p.apps.map((a) => [a.bundleId, a.vpnUuid])).toEqual([
      ['com.google.chrome.ios', 'UUID-1'],
      ['com.microsoft.rdc.ios', 'UUID-1'],
    ]);
    expect(p.warnings).toEqual([]);
  });

  it('leaves an app reaching the device through another label unbound (vpnUuid null)', () => {
    const p = computePolicy({ platform: 'iOS', deviceLabelIds: [4, 5], vpnConfigs: [vpn(1, [4])], apps: [app(1, 'com.a.b', [5])] });
    expect(p.apps[0]).toMatchObject({ vpnUuid: null, vpnConfigurationId: null });
  });

  it('does not count a shared label the device lacks', () => {
    const p = computePolicy({ platform: 'iOS', deviceLabelIds: [5], vpnConfigs: [vpn(1, [4, 5])], apps: [app(1, 'com.a.b', [4, 5])] });
    expect(p.apps[0]!.vpnUuid).toBe('UUID-1'); // shares 5, which the device has
    const q = computePolicy({ platform: 'iOS', deviceLabelIds: [5, 6], vpnConfigs: [vpn(1, [4, 6])], apps: [app(1, 'com.a.b', [4, 5])] });
    expect(q.apps[0]!.vpnUuid).toBeNull(); // they share only 4, which the device lacks
  });

  it('honours an explicit per-app VPN that reaches the device, ahead of label sharing', () => {
    const p = computePolicy({
      platform: 'iOS',
      deviceLabelIds: [4, 5],
      vpnConfigs: [vpn(1, [4]), vpn(2, [5])],
      apps: [app(1, 'com.a.b', [4], 2)],
    });
    expect(p.apps[0]).toMatchObject({ vpnUuid: 'UUID-2', vpnConfigurationId: 2 });
    expect(p.warnings).toEqual([expect.stringMatching(/could use vpn2, vpn1; chose vpn2 \(explicit setting\)/)]);
  });

  it('chooses the lowest id among several shared-label VPNs, with a warning', () => {
    const p = computePolicy({
      platform: 'iOS',
      deviceLabelIds: [4],
      vpnConfigs: [vpn(7, [4]), vpn(3, [4])],
      apps: [app(1, 'com.a.b', [4])],
    });
    expect(p.apps[0]!.vpnConfigurationId).toBe(3);
    expect(p.warnings[0]).toMatch(/chose vpn3 \(lowest id\)/);
  });

  it('warns about explicit settings that cannot apply, and never binds device-wide VPNs', () => {
    const p = computePolicy({
      platform: 'iOS',
      deviceLabelIds: [4],
      vpnConfigs: [vpn(1, [4], false)],
      apps: [app(1, 'com.a.b', [4], 1), app(2, 'com.c.d', [4], 99)],
    });
    expect(p.apps.map((a) => a.vpnUuid)).toEqual([null, null]);
    expect(p.warnings).toEqual([expect.stringMatching(/com\.a\.b.*device-wide/), expect.stringMatching(/com\.c\.d.*99.*does not reach/)]);
    expect(p.vpnConfigurations).toEqual([{ id: 1, name: 'vpn1', vpnUuid: 'UUID-1', perApp: false }]);
  });

  it('ignores apps of another platform', () => {
    const p = computePolicy({
      platform: 'iOS',
      deviceLabelIds: [4],
      vpnConfigs: [vpn(1, [4])],
      apps: [app(1, 'com.a.b', [4], null, 'Android')],
    });
    expect(p.apps).toEqual([]);
  });
});

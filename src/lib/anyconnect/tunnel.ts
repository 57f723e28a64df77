/**
 * Does an app's traffic go through the AnyConnect tunnel? (design note 3 and 5.5)
 *
 * iOS (MDM required): iOS hands an app's traffic to the app-layer VPN only when the MDM bound the
 * managed app to it (Attributes.VPNUUID). AnyConnect then filters that set with the ASA's PerApp
 * policy. So: tunneled = bound by MDM AND (policy permits the app). The ASA policy can narrow the
 * MDM's set but never add to it; with the seed guide's `*.*` policy the MDM alone decides.
 * When the head-end sends no perapp attribute (full-tunnel mode) AnyConnect stops filtering, but
 * iOS still routes only bound apps into an app-layer VPN, so on iOS full mode means "every bound
 * app" — never "every app" (design note 3.1, marked unverified there).
 *
 * Android (MDM optional): the ASA policy alone decides; no perapp attribute means full tunnel.
 * A terminated session tunnels nothing.
 */
import { type PermitDecision, isAppPermitted, parsePlatform } from './policy.js';
import { type SelectedDapRecord, type SessionContext, type SessionResolution, type TunnelMode, resolveSession } from './resolve.js';
import type { AppUnderTest, HeadEndConfig, MdmBinding, PerAppRule, Platform, Session } from './types.js';

const ANYCONNECT_PLATFORM: Record<Platform, string> = { iOS: 'apple-ios', Android: 'android' };

export interface DeviceFacts {
  platform: Platform | string;
  osVersion: string;
  model: string;
  clientVersion?: string;
  deviceUniqueId?: string;
}

/** The ACIDex endpoint attributes AnyConnect reports for a device (X-AnyConnect-Identifier-* headers). */
export function endpointFromDevice(device: DeviceFacts): Record<string, string> {
  const platform = parsePlatform(device.platform);
  if (!platform) throw new Error(`platform must be 'iOS' or 'Android', got '${device.platform}'`);
  const out: Record<string, string> = {
    'endpoint.anyconnect.platform': ANYCONNECT_PLATFORM[platform],
    'endpoint.anyconnect.platformversion': device.osVersion,
    'endpoint.anyconnect.devicetype': device.model,
  };
  if (device.clientVersion !== undefined) out['endpoint.anyconnect.clientversion'] = device.clientVersion;
  if (device.deviceUniqueId !== undefined) out['endpoint.anyconnect.deviceuniqueid'] = device.deviceUniqueId;
  return out;
}

export interface TunnelDecisionInput {
  config: HeadEndConfig;
  session: Session;
  app: AppUnderTest;
  platform: Platform;
  /** iOS: how the MDM bound the app; absent means not bound. Ignored on Android. */
  mdmBinding?: MdmBinding;
  /** mockiron's CA and CRL and the time, for tunnel groups with certificate authentication. */
  context?: SessionContext;
}

export interface TunnelDecision {
  tunneled: boolean;
  mode: TunnelMode;
  platform: Platform;
  app: AppUnderTest;
  terminated: boolean;
  /** The PerApp policy in force (null in full-tunnel mode). */
  policy: string | null;
  /** The rule that permitted the app, or the closest rule that failed a check. */
  rule: PerAppRule | null;
  /** The PerApp policy check (null when no policy was applied). */
  permit: PermitDecision | null;
  mdm: { required: boolean; bound: boolean; binding: MdmBinding | null };
  dap: SelectedDapRecord[];
  resolution: SessionResolution;
  /** The explanation chain, session first, verdict last. */
  reasons: string[];
}

function mdmBindingReason(appId: string, binding: MdmBinding | undefined): { bound: boolean; reason: string } {
  if (!binding)
    return {
      bound: false,
      reason: `iOS: the MDM has not bound '${appId}' to the per-app VPN (no VPNUUID), so iOS never hands its traffic to AnyConnect`,
    };
  if (!binding.managed) {
    return { bound: false, reason: `iOS: '${appId}' is not an MDM-managed app; iOS applies a per-app VPN (VPNUUID) only to managed apps` };
  }
  if (binding.vpnUuid === null) {
    return {
      bound: false,
      reason: `iOS: '${appId}' is MDM-managed but not bound to the per-app VPN (no VPNUUID), so iOS never hands its traffic to AnyConnect`,
    };
  }
  const name = binding.vpnConfigName ? ` '${binding.vpnConfigName}'` : '';
  return { bound: true, reason: `iOS: the MDM bound the managed app '${appId}' to the per-app VPN${name} (VPNUUID ${binding.vpnUuid})` };
}

export function decideTunnel(input: TunnelDecisionInput): TunnelDecision {
  const { config, app, platform } = input;
  const expected = ANYCONNECT_PLATFORM[platform];
  const reported = input.session.endpoint['endpoint.anyconnect.platform'] ?? input.session.endpoint['platform'];
  // The client always reports its platform; fill it in when a script left it out.
  const session: Session =
    reported === undefined
      ? { ...input.session, endpoint: { ...input.session.endpoint, 'endpoint.anyconnect.platform': expected } }
      : input.session;
  const resolution = resolveSession(config, session, input.context);
  const reasons = [...resolution.reasons];
  if (reported !== undefined && reported !== expected) {
    reasons.unshift(
      `note: the session reports endpoint.anyconnect.platform '${reported}' but the app runs on ${platform} ('${expected}'); DAP used the reported value`,
    );
  }
  const binding = input.mdmBinding ?? null;
  const base = {
    mode: resolution.mode,
    platform,
    app,
    terminated: resolution.terminated,
    dap: resolution.selectedDapRecords,
    resolution,
    reasons,
  };
  const verdict = (tunneled: boolean, why: string): string =>
    `${tunneled ? 'TUNNELED' : 'NOT TUNNELED'}: '${app.appId}' on ${platform} — ${why}`;

  if (resolution.terminated) {
    reasons.push(
      verdict(
        false,
        resolution.refusal
          ? `the head-end refused the connection (${resolution.refusal.code}): ${resolution.refusal.message}`
          : 'the session is terminated, so no app tunnels',
      ),
    );
    return {
      ...base,
      tunneled: false,
      policy: resolution.perappPolicy,
      rule: null,
      permit: null,
      mdm: { required: platform === 'iOS', bound: false, binding },
    };
  }

  const permit =
    resolution.mode === 'perApp' && resolution.perappRules
      ? isAppPermitted(
          { version: 1, rules: resolution.perappRules },
          { platform, appId: app.appId, appVersion: app.version, certificateId: app.certificateId },
        )
      : null;
  if (permit)
    reasons.push(
      `PerApp policy '${resolution.perappPolicy}' ${permit.permitted ? 'permits' : 'does not permit'} '${app.appId}' on ${platform}: ${permit.reason}`,
    );
  const common = { policy: resolution.mode === 'perApp' ? resolution.perappPolicy : null, rule: permit?.rule ?? null, permit };

  if (platform === 'iOS') {
    const mdm = mdmBindingReason(app.appId, input.mdmBinding);
    reasons.push(mdm.reason);
    const mdmState = { required: true, bound: mdm.bound, binding };
    if (resolution.mode === 'full') {
      reasons.push('full-tunnel mode: AnyConnect does not filter by app, but iOS routes only MDM-bound apps into an app-layer VPN');
      reasons.push(
        verdict(mdm.bound, mdm.bound ? 'bound by the MDM, and no perapp policy narrows it' : 'the MDM did not bind it to the per-app VPN'),
      );
      return { ...base, ...common, tunneled: mdm.bound, mdm: mdmState };
    }
    const tunneled = mdm.bound && permit!.permitted;
    const why = !mdm.bound
      ? `the MDM did not bind it to the per-app VPN${permit!.permitted ? ` (the ASA policy '${resolution.perappPolicy}' would have permitted it, but cannot add apps the MDM did not bind)` : ', and the ASA policy does not permit it either'}`
      : permit!.permitted
        ? `bound by the MDM and permitted by the ASA policy '${resolution.perappPolicy}'`
        : `bound by the MDM, but the ASA policy '${resolution.perappPolicy}' does not permit it, so AnyConnect drops its packets`;
    reasons.push(verdict(tunneled, why));
    return { ...base, ...common, tunneled, mdm: mdmState };
  }

  const mdmState = { required: false, bound: false, binding };
  if (binding) reasons.push('Android: an MDM binding was given but is not needed; the ASA PerApp policy alone decides');
  if (resolution.mode === 'full') {
    reasons.push(verdict(true, 'no perapp attribute, so AnyConnect tunnels every app (full tunnel)'));
    return { ...base, ...common, tunneled: true, mdm: mdmState };
  }
  reasons.push(
    verdict(
      permit!.permitted,
      permit!.permitted
        ? `permitted by the ASA policy '${resolution.perappPolicy}'`
        : `not permitted by the ASA policy '${resolution.perappPolicy}'`,
    ),
  );
  return { ...base, ...common, tunneled: permit!.permitted, mdm: mdmState };
}

/**
 * Which perapp value does a session get? Attribute precedence (seed guide, design note 4.1):
 * DAP > user attributes > the user's group policy > the tunnel group's default-group-policy >
 * system default (DfltGrpPolicy). The first layer whose setting is not unset decides; `'none'`
 * decides too ("no perapp": full tunnel) and so overrides a policy at a lower layer.
 *
 * Several selected DAP records with different perapp values (Cisco documents no rule; design
 * note 5.7 step 4): the winning record in priority order that sets perapp decides. Improvement
 * (mock): among records tied at that same priority, a named policy beats 'none', mirroring the
 * ASA's "most restrictive wins" rule for equal-priority ACL conflicts; remaining ties go by
 * name. Every overridden record is named in the reasons.
 */
import { type MockironPki, type SessionAuthentication, authenticateSession, trustAnchors } from './authentication.js';
import type { AuthenticationRefusal } from './certificate.js';
import { encodePerAppPolicy } from './codec.js';
import { type DapEvaluation, selectDapRecords } from './dap.js';
import { DEFAULT_GROUP_POLICY, describeSetting } from './headend.js';
import type { HeadEndConfig, PerAppRule, PerAppSetting, Session } from './types.js';

export type PerAppSource = 'dap' | 'user' | 'group-policy' | 'tunnel-group-default' | 'default';
export type TunnelMode = 'perApp' | 'full';

export interface SelectedDapRecord {
  name: string;
  priority: number;
  action: DapEvaluation['action'];
  perapp: PerAppSetting;
  why: string[];
}

/** One precedence layer as it was consulted. */
export interface LayerTrace {
  layer: PerAppSource;
  /** Where the value came from: the DAP record or group policy name, 'session', 'system'. */
  from: string | null;
  setting: PerAppSetting;
  note?: string;
}

export interface SessionResolution {
  terminated: boolean;
  /** Why the head-end refused the connection before DAP (certificate or AAA); null when it did not. */
  refusal: AuthenticationRefusal | null;
  /** The tunnel group's authentication step (null when the tunnel group is unknown). */
  authentication: SessionAuthentication | null;
  quarantined: boolean;
  /** Terminated because the config is broken (unknown tunnel group or PerApp policy), not by a DAP action. */
  failedClosed: boolean;
  tunnelGroup: string;
  /** The group policy AAA assigned to the user, if any. */
  userGroupPolicy: string | null;
  /** Winners first (ASA: highest priority number first; FTD: lowest first). */
  selectedDapRecords: SelectedDapRecord[];
  /** Records whose criteria did not hold, with why. */
  notSelectedDapRecords: Array<{ name: string; why: string[] }>;
  perappPolicy: string | null;
  /** The resolved policy's rules (null unless mode is perApp and the policy exists). */
  perappRules: PerAppRule[] | null;
  /** The Base64 value the head-end would send as `<custom-attr><perapp>` (null when none is sent). */
  perappBlob: string | null;
  source: PerAppSource;
  /** The DAP record / group policy that supplied the winning setting. */
  sourceName: string | null;
  mode: TunnelMode;
  layers: LayerTrace[];
  reasons: string[];
}

/** Accepts `platform` / `platformVersion` as shorthand for `endpoint.anyconnect.platform` / `...platformversion`. */
export function normalizeEndpointAttributes(endpoint: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(endpoint)) {
    out[key.startsWith('endpoint.') ? key : `endpoint.anyconnect.${key.toLowerCase()}`] = value;
  }
  return out;
}

function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

/** The user's group policy from AAA: `aaa.cisco.grouppolicy`, else RADIUS Class 25 (`OU=Name;` form accepted). */
export function userGroupPolicyFromAaa(aaa: Record<string, string | string[]>): string | null {
  const direct = firstValue(aaa['aaa.cisco.grouppolicy']);
  if (direct) return direct;
  const cls = firstValue(aaa['aaa.cisco.class']);
  if (!cls) return null;
  return cls.replace(/^OU=/i, '').replace(/;$/, '').trim() || null;
}

function sameSetting(a: PerAppSetting, b: PerAppSetting): boolean {
  if (a === null || b === null || a === 'none' || b === 'none') return a === b;
  return a.policy === b.policy;
}

/** The DAP layer's perapp value among selected records (see the module comment). */
function dapLayerSetting(
  selected: DapEvaluation[],
  order: HeadEndConfig['dapOrder'],
  reasons: string[],
): { setting: PerAppSetting; from: string | null } {
  const defining = selected.filter((r) => r.perapp !== null);
  if (defining.length === 0) {
    reasons.push('DAP layer: no selected record sets perapp, so lower layers decide');
    return { setting: null, from: null };
  }
  const top = defining[0]!;
  const tied = defining.filter((r) => r.priority === top.priority);
  let winner = top;
  if (tied.some((r) => r.perapp === 'none') && tied.some((r) => r.perapp !== 'none')) {
    winner = tied.find((r) => r.perapp !== 'none')!;
    reasons.push(
      `DAP records ${tied.map((r) => `'${r.name}'`).join(', ')} share priority ${top.priority} and disagree on perapp; the named policy wins over 'none' (most restrictive, mockiron rule)`,
    );
  }
  for (const r of defining) {
    if (r !== winner && !sameSetting(r.perapp, winner.perapp)) {
      reasons.push(
        `DAP record '${r.name}' sets perapp ${describeSetting(r.perapp)} but '${winner.name}' wins (priority ${winner.priority} vs ${r.priority}, ${order === 'asa' ? 'ASA: higher number wins' : 'FTD: lower number wins'}${r.priority === winner.priority ? ', tie broken as above or by name' : ''}); ignored`,
      );
    }
  }
  return { setting: winner.perapp, from: winner.name };
}

/** What certificate validation needs besides the config: mockiron's CA and CRL, and the time. */
export interface SessionContext {
  pki?: MockironPki;
  now?: Date;
}

export function resolveSession(config: HeadEndConfig, session: Session, context: SessionContext = {}): SessionResolution {
  const reasons: string[] = [];
  const base = {
    terminated: false,
    refusal: null as AuthenticationRefusal | null,
    authentication: null as SessionAuthentication | null,
    quarantined: false,
    failedClosed: false,
    tunnelGroup: session.tunnelGroup,
    userGroupPolicy: null as string | null,
    selectedDapRecords: [] as SelectedDapRecord[],
    notSelectedDapRecords: [] as Array<{ name: string; why: string[] }>,
    perappPolicy: null as string | null,
    perappRules: null as PerAppRule[] | null,
    perappBlob: null as string | null,
    layers: [] as LayerTrace[],
    reasons,
  };

  const tunnelGroup = config.tunnelGroups.find((t) => t.name === session.tunnelGroup);
  if (!tunnelGroup) {
    reasons.push(`tunnel group '${session.tunnelGroup}' is not configured on the head-end: connection refused (fail closed)`);
    return { ...base, terminated: true, failedClosed: true, source: 'default', sourceName: null, mode: 'full' };
  }
  const authentication = authenticateSession(tunnelGroup, session, trustAnchors(config, context.pki), context.now ?? new Date());
  base.authentication = authentication;
  reasons.push(...authentication.checks);
  if (authentication.refusal) {
    return { ...base, terminated: true, refusal: authentication.refusal, source: 'default', sourceName: null, mode: 'full' };
  }
  const groupPolicies = new Map(config.groupPolicies.map((g) => [g.name, g]));
  const userGroupPolicy = userGroupPolicyFromAaa(session.aaa);
  base.userGroupPolicy = userGroupPolicy;
  reasons.push(`connection profile (tunnel group) '${tunnelGroup.name}' with default-group-policy '${tunnelGroup.defaultGroupPolicy}'`);
  reasons.push(userGroupPolicy ? `AAA assigned the user group policy '${userGroupPolicy}'` : 'AAA assigned no group policy to the user');

  // The ASA exposes the connection profile and effective group policy to DAP as AAA attributes.
  // With certificate authentication the username is the certificate's (username-from-certificate).
  const aaa: Record<string, string | string[]> = {
    'aaa.cisco.tunnelgroup': tunnelGroup.name,
    'aaa.cisco.grouppolicy': userGroupPolicy ?? tunnelGroup.defaultGroupPolicy,
    ...session.aaa,
    ...(authentication.usernameSource === 'certificate' && authentication.username
      ? { 'aaa.cisco.username': authentication.username }
      : {}),
  };
  const endpoint = { ...normalizeEndpointAttributes(session.endpoint), ...authentication.certificateAttributes };
  const dap = selectDapRecords(config, aaa, endpoint);
  base.selectedDapRecords = dap.selected.map(({ name, priority, action, perapp, why }) => ({ name, priority, action, perapp, why }));
  base.notSelectedDapRecords = dap.evaluated.filter((e) => !e.selected).map(({ name, why }) => ({ name, why }));
  const orderText = config.dapOrder === 'asa' ? 'ASA order: higher priority number wins' : 'FTD order: lower priority number wins';
  reasons.push(`DAP selected ${dap.selected.map((r) => `'${r.name}' (priority ${r.priority}, ${r.action})`).join(', ')} [${orderText}]`);
  for (const r of dap.selected) reasons.push(`DAP '${r.name}' selected: ${r.why.join('; ')}`);
  for (const r of base.notSelectedDapRecords) reasons.push(`DAP '${r.name}' not selected: ${r.why.join('; ')}`);

  const terminator = dap.selected.find((r) => r.action === 'terminate');
  if (terminator) {
    reasons.push(`DAP '${terminator.name}' has action terminate: the session is terminated and no attributes are sent`);
    return { ...base, terminated: true, source: 'dap', sourceName: terminator.name, mode: 'full' };
  }
  const quarantiner = dap.selected.find((r) => r.action === 'quarantine');
  if (quarantiner) {
    base.quarantined = true;
    reasons.push(`DAP '${quarantiner.name}' has action quarantine: the session continues, flagged as quarantined`);
  }

  const dapLayer = dapLayerSetting(dap.selected, config.dapOrder, reasons);
  const layers: LayerTrace[] = [{ layer: 'dap', from: dapLayer.from, setting: dapLayer.setting }];
  layers.push({ layer: 'user', from: 'session', setting: session.userPerapp ?? null });
  if (userGroupPolicy) {
    const gp = groupPolicies.get(userGroupPolicy);
    layers.push(
      gp
        ? { layer: 'group-policy', from: gp.name, setting: gp.perapp }
        : {
            layer: 'group-policy',
            from: userGroupPolicy,
            setting: null,
            note: `group policy '${userGroupPolicy}' from AAA is not configured; skipped`,
          },
    );
  }
  const tgPolicy = groupPolicies.get(tunnelGroup.defaultGroupPolicy);
  layers.push({ layer: 'tunnel-group-default', from: tunnelGroup.defaultGroupPolicy, setting: tgPolicy?.perapp ?? null });
  const dflt = groupPolicies.get(DEFAULT_GROUP_POLICY);
  layers.push({ layer: 'default', from: dflt ? DEFAULT_GROUP_POLICY : 'system', setting: dflt?.perapp ?? null });
  base.layers = layers;

  const winner = layers.find((l) => l.setting !== null);
  for (const l of layers) {
    if (l.note) reasons.push(l.note);
    if (l === winner) break;
    if (l.layer !== 'dap') reasons.push(`${layerLabel(l)}: perapp unset, falls through`);
  }
  if (!winner) {
    reasons.push('no layer sets perapp: the head-end sends no perapp attribute, so the client runs in full-tunnel mode');
    return { ...base, source: 'default', sourceName: null, mode: 'full' };
  }
  const setting = winner.setting!;
  if (setting === 'none') {
    reasons.push(
      `${layerLabel(winner)} sets perapp 'none', overriding any lower layer: no perapp attribute is sent, so the client runs in full-tunnel mode`,
    );
    return { ...base, source: winner.layer, sourceName: winner.from, mode: 'full' };
  }
  base.perappPolicy = setting.policy;
  const policy = config.perappPolicies.find((p) => p.name === setting.policy);
  if (!policy) {
    reasons.push(
      `${layerLabel(winner)} sets perapp policy '${setting.policy}', which is not defined on the head-end: session terminated (fail closed)`,
    );
    return { ...base, terminated: true, failedClosed: true, source: winner.layer, sourceName: winner.from, mode: 'perApp' };
  }
  base.perappRules = policy.rules;
  base.perappBlob = encodePerAppPolicy({ version: 1, rules: policy.rules });
  reasons.push(
    `${layerLabel(winner)} sets perapp policy '${setting.policy}' (${policy.rules.length} rule(s)): the head-end sends it as the perapp custom attribute, so the client runs in per-app mode`,
  );
  return { ...base, source: winner.layer, sourceName: winner.from, mode: 'perApp' };
}

function layerLabel(l: LayerTrace): string {
  switch (l.layer) {
    case 'dap':
      return `DAP record '${l.from}'`;
    case 'user':
      return 'user attributes from AAA';
    case 'group-policy':
      return `the user's group policy '${l.from}'`;
    case 'tunnel-group-default':
      return `the tunnel group's default group policy '${l.from}'`;
    case 'default':
      return l.from === DEFAULT_GROUP_POLICY ? `system default group policy ${DEFAULT_GROUP_POLICY}` : 'the system default';
  }
}

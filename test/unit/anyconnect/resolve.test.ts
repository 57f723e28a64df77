import { describe, expect, it } from 'vitest';
import { evaluateCriterion, renderDapLua } from '../../../src/lib/anyconnect/dap.js';
import {
  HeadEndConfigError,
  loadHeadEndConfig,
  normalizeHeadEndConfig,
  validateHeadEndConfig,
} from '../../../src/lib/anyconnect/headend.js';
import { decodePerAppPolicy, encodePerAppPolicy } from '../../../src/lib/anyconnect/codec.js';
import { resolveSession, userGroupPolicyFromAaa } from '../../../src/lib/anyconnect/resolve.js';
import type { DapRecord, HeadEndConfig, Session } from '../../../src/lib/anyconnect/types.js';

const policies = [
  {
    name: 'AllowAll',
    rules: [
      { platform: 'iOS', appId: '*.*' },
      { platform: 'Android', appId: '*.*' },
    ],
  },
  {
    name: 'CorpOnly',
    rules: [
      { platform: 'iOS', appId: 'com.corp.*' },
      { platform: 'Android', appId: 'com.corp.*' },
    ],
  },
  { name: 'GpPolicy', rules: [{ platform: 'iOS', appId: 'com.gp.app' }] },
];

/** The design note 5.8 DAP vector: an iOS record (priority 10, AllowAll) plus an empty-criteria record (priority 5, CorpOnly). */
function designConfig(
  overrides: Partial<Record<keyof HeadEndConfig, unknown>> = {},
  extraRecords: Array<Partial<DapRecord>> = [],
): HeadEndConfig {
  return normalizeHeadEndConfig({
    perappPolicies: policies,
    groupPolicies: [{ name: 'GP_corp', perapp: { policy: 'GpPolicy' } }],
    tunnelGroups: [{ name: 'corp', defaultGroupPolicy: 'GP_corp' }],
    dapRecords: [
      {
        name: 'iOS_Devices',
        priority: 10,
        endpointCriteria: [
          { attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' },
          { attribute: 'endpoint.anyconnect.platformversion', operator: 'GE', value: '9.3.1' },
        ],
        perapp: { policy: 'AllowAll' },
      },
      { name: 'Everyone', priority: 5, perapp: { policy: 'CorpOnly' } },
      ...extraRecords,
    ],
    ...overrides,
  });
}

const ios = (version = '9.3.1'): Session => ({
  tunnelGroup: 'corp',
  aaa: {},
  endpoint: { 'endpoint.anyconnect.platform': 'apple-ios', 'endpoint.anyconnect.platformversion': version },
});
const android: Session = {
  tunnelGroup: 'corp',
  aaa: {},
  endpoint: { 'endpoint.anyconnect.platform': 'android', 'endpoint.anyconnect.platformversion': '14' },
};

describe('DAP criteria', () => {
  it('compares version attributes numerically and strings exactly', () => {
    const c = (operator: 'EQ' | 'GE' | 'LT', value: string) => ({ attribute: 'endpoint.anyconnect.platformversion', operator, value });
    expect(evaluateCriterion(c('GE', '9.3.1'), '9.10').ok).toBe(true);
    expect(evaluateCriterion(c('LT', '9.3.1'), '9.3').ok).toBe(true);
    expect(evaluateCriterion(c('EQ', '9.3.1'), '9.3.1.0').ok).toBe(true);
    expect(evaluateCriterion({ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' }, 'Apple-iOS').ok).toBe(
      false,
    );
  });

  it('treats a missing attribute as false whatever the operator', () => {
    const r = evaluateCriterion({ attribute: 'aaa.ldap.memberOf', operator: 'NE', value: 'Guests' }, undefined);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/has no aaa\.ldap\.memberOf/);
  });

  it('multi-valued attributes: EQ if any value equals, NE only if none does', () => {
    const eq = { attribute: 'aaa.ldap.memberOf', operator: 'EQ' as const, value: 'Staff' };
    const ne = { ...eq, operator: 'NE' as const };
    expect(evaluateCriterion(eq, ['Guests', 'Staff']).ok).toBe(true);
    expect(evaluateCriterion(ne, ['Guests', 'Staff']).ok).toBe(false);
    expect(evaluateCriterion(ne, ['Guests']).ok).toBe(true);
  });

  it('renders display-only Lua EVAL expressions', () => {
    const record = designConfig().dapRecords[0]!;
    expect(renderDapLua(record)).toBe(
      'EVAL(endpoint.anyconnect.platform,"EQ","apple-ios","string") and EVAL(endpoint.anyconnect.platformversion,"GE","9.3.1","version")',
    );
  });
});

describe('resolveSession: DAP selection and priority (design note 5.8)', () => {
  it('ASA order: on iOS 9.3.1 both records are selected and AllowAll (priority 10) wins', () => {
    const r = resolveSession(designConfig(), ios());
    expect(r.selectedDapRecords.map((d) => d.name)).toEqual(['iOS_Devices', 'Everyone']);
    expect(r).toMatchObject({ perappPolicy: 'AllowAll', source: 'dap', sourceName: 'iOS_Devices', mode: 'perApp', terminated: false });
    expect(r.reasons.join('\n')).toMatch(/DAP record 'Everyone' sets perapp policy 'CorpOnly' but 'iOS_Devices' wins/);
    expect(decodePerAppPolicy(r.perappBlob!).policy.rules).toEqual(r.perappRules);
  });

  it('FTD order: the lower number wins, so CorpOnly', () => {
    const r = resolveSession(designConfig({ dapOrder: 'ftd' }), ios());
    expect(r.selectedDapRecords.map((d) => d.name)).toEqual(['Everyone', 'iOS_Devices']);
    expect(r).toMatchObject({ perappPolicy: 'CorpOnly', sourceName: 'Everyone' });
  });

  it('Android: only the empty-criteria record matches, so CorpOnly; the reasons say why iOS_Devices did not match', () => {
    const r = resolveSession(designConfig(), android);
    expect(r.selectedDapRecords.map((d) => d.name)).toEqual(['Everyone']);
    expect(r.perappPolicy).toBe('CorpOnly');
    expect(r.notSelectedDapRecords[0]!.why.join(' ')).toMatch(
      /endpoint\.anyconnect\.platform = 'apple-ios': false \(session has 'android'\)/,
    );
  });

  it('iOS below 9.3.1 does not match the iOS record', () => {
    expect(resolveSession(designConfig(), ios('9.3')).perappPolicy).toBe('CorpOnly');
  });

  it('no match → DfltAccessPolicy; without perapp it falls through to the group policy', () => {
    const config = designConfig({
      dapRecords: [
        {
          name: 'OnlyMac',
          endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'mac-intel' }],
          perapp: 'none',
        },
      ],
    });
    const r = resolveSession(config, ios());
    expect(r.selectedDapRecords.map((d) => d.name)).toEqual(['DfltAccessPolicy']);
    expect(r).toMatchObject({ perappPolicy: 'GpPolicy', source: 'tunnel-group-default', sourceName: 'GP_corp', mode: 'perApp' });
  });

  it('a configured DfltAccessPolicy with perapp applies when nothing else matches', () => {
    const config = designConfig({ dapRecords: [{ name: 'DfltAccessPolicy', perapp: { policy: 'CorpOnly' } }] });
    expect(resolveSession(config, ios())).toMatchObject({ perappPolicy: 'CorpOnly', source: 'dap', sourceName: 'DfltAccessPolicy' });
  });

  it('any selected record with action terminate terminates the session', () => {
    const r = resolveSession(designConfig({}, [{ name: 'Block', priority: 1, action: 'terminate' }]), ios());
    expect(r.terminated).toBe(true);
    expect(r.failedClosed).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/'Block' has action terminate/);
  });

  it('quarantine continues but flags the session', () => {
    const r = resolveSession(designConfig({}, [{ name: 'Quarantine', priority: 1, action: 'quarantine' }]), ios());
    expect(r).toMatchObject({ terminated: false, quarantined: true, perappPolicy: 'AllowAll' });
  });

  it('AAA modes ANY / ALL / NONE', () => {
    const aaaCriteria = [
      { attribute: 'aaa.ldap.memberOf', operator: 'EQ', value: 'VPN-Users' },
      { attribute: 'aaa.cisco.username', operator: 'EQ', value: 'alice' },
    ];
    const config = (aaaMode: string) =>
      designConfig({ dapRecords: [{ name: 'Ldap', aaaMode, aaaCriteria, perapp: { policy: 'CorpOnly' } }] });
    const session: Session = { ...ios(), aaa: { 'aaa.ldap.memberOf': ['Staff', 'VPN-Users'], 'aaa.cisco.username': 'bob' } };
    expect(resolveSession(config('ANY'), session).selectedDapRecords[0]!.name).toBe('Ldap');
    expect(resolveSession(config('ALL'), session).selectedDapRecords[0]!.name).toBe('DfltAccessPolicy');
    expect(resolveSession(config('NONE'), session).selectedDapRecords[0]!.name).toBe('DfltAccessPolicy');
    expect(resolveSession(config('NONE'), { ...ios(), aaa: { 'aaa.cisco.username': 'carol' } }).selectedDapRecords[0]!.name).toBe('Ldap');
  });

  it('exposes the tunnel group and group policy to DAP as aaa.cisco.* attributes', () => {
    const config = designConfig({
      dapRecords: [
        {
          name: 'ByTg',
          aaaCriteria: [{ attribute: 'aaa.cisco.tunnelgroup', operator: 'EQ', value: 'corp' }],
          perapp: { policy: 'CorpOnly' },
        },
      ],
    });
    expect(resolveSession(config, ios()).sourceName).toBe('ByTg');
  });
});

describe('resolveSession: precedence DAP > user > group policy > tunnel-group default > default', () => {
  const layered = (dapPerapp: unknown) =>
    normalizeHeadEndConfig({
      perappPolicies: policies,
      groupPolicies: [
        { name: 'GP_user', perapp: { policy: 'GpPolicy' } },
        { name: 'GP_default', perapp: { policy: 'CorpOnly' } },
        { name: 'GP_unset', perapp: null },
      ],
      tunnelGroups: [{ name: 'corp', defaultGroupPolicy: 'GP_default' }],
      dapRecords: [
        {
          name: 'AllIos',
          endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' }],
          perapp: dapPerapp,
        },
      ],
    });

  it('DAP "none" overrides a group-policy perapp → full tunnel', () => {
    const r = resolveSession(layered('none'), { ...ios(), aaa: { 'aaa.cisco.grouppolicy': 'GP_user' } });
    expect(r).toMatchObject({ perappPolicy: null, mode: 'full', source: 'dap', sourceName: 'AllIos', perappBlob: null });
    expect(r.reasons.at(-1)).toMatch(/sets perapp 'none', overriding any lower layer/);
  });

  it('DAP unset falls through to the user attribute, then the user group policy', () => {
    expect(
      resolveSession(layered(null), { ...ios(), userPerapp: { policy: 'AllowAll' }, aaa: { 'aaa.cisco.grouppolicy': 'GP_user' } }),
    ).toMatchObject({
      perappPolicy: 'AllowAll',
      source: 'user',
    });
    expect(resolveSession(layered(null), { ...ios(), aaa: { 'aaa.cisco.grouppolicy': 'GP_user' } })).toMatchObject({
      perappPolicy: 'GpPolicy',
      source: 'group-policy',
      sourceName: 'GP_user',
    });
  });

  it('RADIUS class (OU=Name;) names the user group policy too', () => {
    expect(userGroupPolicyFromAaa({ 'aaa.cisco.class': 'OU=GP_user;' })).toBe('GP_user');
    expect(resolveSession(layered(null), { ...ios(), aaa: { 'aaa.cisco.class': 'OU=GP_user;' } }).sourceName).toBe('GP_user');
  });

  it('user group policy unset → tunnel-group default group policy', () => {
    const r = resolveSession(layered(null), { ...ios(), aaa: { 'aaa.cisco.grouppolicy': 'GP_unset' } });
    expect(r).toMatchObject({ perappPolicy: 'CorpOnly', source: 'tunnel-group-default', sourceName: 'GP_default' });
    expect(r.reasons.join('\n')).toMatch(/the user's group policy 'GP_unset': perapp unset, falls through/);
  });

  it('user "none" overrides group policies', () => {
    expect(resolveSession(layered(null), { ...ios(), userPerapp: 'none' })).toMatchObject({ mode: 'full', source: 'user' });
  });

  it('nothing set anywhere → default, full tunnel; DfltGrpPolicy supplies the default when configured', () => {
    const bare = normalizeHeadEndConfig({ perappPolicies: policies, tunnelGroups: [{ name: 'corp' }] });
    expect(resolveSession(bare, ios())).toMatchObject({ source: 'default', mode: 'full', perappPolicy: null });
    const withDflt = normalizeHeadEndConfig({
      perappPolicies: policies,
      groupPolicies: [{ name: 'DfltGrpPolicy', perapp: { policy: 'CorpOnly' } }],
      tunnelGroups: [{ name: 'corp', defaultGroupPolicy: 'GP_x' }],
    });
    // GP_x is not defined (validation reports it); the tunnel-group layer is unset and DfltGrpPolicy decides.
    expect(resolveSession(withDflt, ios())).toMatchObject({ source: 'default', sourceName: 'DfltGrpPolicy', perappPolicy: 'CorpOnly' });
  });

  it('at equal DAP priority a named policy beats "none" (most restrictive), and the conflict is explained', () => {
    const config = normalizeHeadEndConfig({
      perappPolicies: policies,
      tunnelGroups: [{ name: 'corp' }],
      dapRecords: [
        { name: 'A_none', priority: 7, perapp: 'none' },
        { name: 'B_policy', priority: 7, perapp: { policy: 'CorpOnly' } },
      ],
    });
    const r = resolveSession(config, ios());
    expect(r).toMatchObject({ perappPolicy: 'CorpOnly', sourceName: 'B_policy' });
    expect(r.reasons.join('\n')).toMatch(/share priority 7 and disagree/);
  });
});

describe('fail closed on broken configuration', () => {
  it('an unknown PerApp policy name terminates the session with the reason', () => {
    const config = normalizeHeadEndConfig({
      tunnelGroups: [{ name: 'corp', defaultGroupPolicy: 'GP' }],
      groupPolicies: [{ name: 'GP', perapp: { policy: 'Missing' } }],
    });
    expect(validateHeadEndConfig(config)).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: 'groupPolicies[0].perapp',
        message: expect.stringMatching(/'Missing', which is not defined/),
      }),
    ]);
    const r = resolveSession(config, ios());
    expect(r).toMatchObject({ terminated: true, failedClosed: true, perappPolicy: 'Missing', source: 'tunnel-group-default' });
    expect(r.reasons.at(-1)).toMatch(/not defined on the head-end: session terminated \(fail closed\)/);
  });

  it('an unknown tunnel group refuses the connection', () => {
    const r = resolveSession(designConfig(), { ...ios(), tunnelGroup: 'nope' });
    expect(r).toMatchObject({ terminated: true, failedClosed: true });
    expect(r.reasons[0]).toMatch(/tunnel group 'nope' is not configured/);
  });
});

describe('head-end config validation', () => {
  it('reports dangling references, duplicates and likely mistakes', () => {
    const { issues } = loadHeadEndConfig({
      perappPolicies: [{ name: 'P', rules: [] }],
      groupPolicies: [
        { name: 'G', perapp: { policy: 'P' } },
        { name: 'G', perapp: null },
      ],
      tunnelGroups: [{ name: 'T', defaultGroupPolicy: 'Nope' }],
      dapRecords: [
        {
          name: 'D',
          perapp: { policy: 'Q' },
          endpointCriteria: [
            { attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'ios' },
            { attribute: 'endpoint.anyconnect.devicetype', operator: 'GT', value: 'iPad' },
          ],
          aaaCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'x' }],
        },
      ],
    });
    const text = issues.map((i) => `${i.severity} ${i.path}: ${i.message}`).join('\n');
    expect(text).toMatch(/error groupPolicies\[1\]\.name: group policy 'G' is defined twice/);
    expect(text).toMatch(/error tunnelGroups\[0\]\.defaultGroupPolicy: .*'Nope', which is not defined/);
    expect(text).toMatch(/error dapRecords\[0\]\.perapp: DAP record 'D' references PerApp policy 'Q'/);
    expect(text).toMatch(/warning dapRecords\[0\]\.endpointCriteria\[0\]: AnyConnect never reports platform 'ios'/);
    expect(text).toMatch(/error dapRecords\[0\]\.endpointCriteria\[1\]: operator GT orders values/);
    expect(text).toMatch(/error dapRecords\[0\]\.aaaCriteria\[0\]: aaaCriteria may only use aaa\.\* attributes/);
  });

  it('DfltGrpPolicy always exists, so a tunnel group may use it without defining it', () => {
    expect(loadHeadEndConfig({ tunnelGroups: [{ name: 'T' }] }).issues).toEqual([]);
  });

  it('shape errors name the path', () => {
    try {
      normalizeHeadEndConfig({ dapRecords: [{ name: 'has space', priority: -1, perapp: 'off' }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HeadEndConfigError);
      const paths = (err as HeadEndConfigError).issues.map((i) => i.path.join('.'));
      expect(paths).toEqual(expect.arrayContaining(['dapRecords.0.name', 'dapRecords.0.priority', 'dapRecords.0.perapp']));
    }
  });

  it('accepts a policy given as a blob and rejects a corrupt one with its path', () => {
    const blob = encodePerAppPolicy({ rules: [{ platform: 'iOS', appId: 'com.corp.*' }] });
    const blobConfig = normalizeHeadEndConfig({ perappPolicies: [{ name: 'P', blob }] }).perappPolicies;
    expect(blobConfig).toEqual([{ name: 'P', rules: [{ platform: 'iOS', appId: 'com.corp.*' }] }]);
    expect(() => normalizeHeadEndConfig({ perappPolicies: [{ name: 'P', blob: 'eJzz' }] })).toThrow(/perappPolicies\[0\]\.blob/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASA_MAX_LINE_LENGTH,
  AsaCliParseError,
  chunkCustomDataLines,
  parseAsaCli,
  parseAsaCliWithReport,
  renderAsaCli,
} from '../../../src/lib/anyconnect/asa-cli.js';
import { encodePerAppPolicy } from '../../../src/lib/anyconnect/codec.js';
import { normalizeHeadEndConfig } from '../../../src/lib/anyconnect/headend.js';
import type { PerAppRule } from '../../../src/lib/anyconnect/types.js';
import { headEndInput } from './arbitraries.js';

// Many distinct app IDs compress poorly, so the blob is long enough to need several lines.
const manyRules: PerAppRule[] = Array.from({ length: 120 }, (_, i) => ({
  platform: i % 2 ? 'Android' : 'iOS',
  appId: `com.vendor${(i * 7919) % 1000}.app${i.toString(36)}x${((i * 104729) % 9973).toString(16)}`,
}));

const config = normalizeHeadEndConfig({
  perappPolicies: [
    { name: 'iOS_Wildcard_Policy', rules: [{ platform: 'iOS', appId: '*.*' }] },
    { name: 'Big', rules: manyRules },
  ],
  groupPolicies: [
    { name: 'GP_perapp', perapp: { policy: 'Big' } },
    { name: 'GP_none', perapp: 'none' },
    { name: 'GP_unset', perapp: null },
  ],
  tunnelGroups: [{ name: 'vpndemo', defaultGroupPolicy: 'GP_perapp' }],
  dapRecords: [
    {
      name: 'DAP_iOS',
      description: 'iOS 9.3.1',
      priority: 10,
      aaaCriteria: [{ attribute: 'aaa.ldap.memberOf', operator: 'EQ', value: 'CN=VPN Users,OU=Groups,DC=example,DC=com' }],
      endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' }],
      perapp: { policy: 'iOS_Wildcard_Policy' },
    },
    { name: 'DAP_block', priority: 99, action: 'terminate', aaaMode: 'NONE' },
  ],
});

describe('420-character chunking', () => {
  it('a 1,000-character value becomes 3 same-name lines that join back', () => {
    const value = 'A'.repeat(1000);
    const lines = chunkCustomDataLines('AllowAll', value);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(ASA_MAX_LINE_LENGTH);
      expect(line.startsWith('anyconnect-custom-data perapp AllowAll ')).toBe(true);
    }
    expect(lines.map((l) => l.split(' ')[3]).join('')).toBe(value);
    expect(lines[0]!.length).toBe(ASA_MAX_LINE_LENGTH);
  });

  it('a real multi-line policy blob renders within the limit and parses back to the same rules', () => {
    const blob = encodePerAppPolicy({ rules: manyRules });
    expect(blob.length).toBeGreaterThan(1000);
    const text = renderAsaCli(config);
    const dataLines = text.split('\n').filter((l) => l.startsWith('anyconnect-custom-data perapp Big '));
    expect(dataLines.length).toBeGreaterThanOrEqual(3);
    expect(dataLines.every((l) => l.length <= ASA_MAX_LINE_LENGTH)).toBe(true);
    expect(dataLines.map((l) => l.split(' ')[3]).join('')).toBe(blob);
    expect(parseAsaCli(text).perappPolicies.find((p) => p.name === 'Big')!.rules).toEqual(config.perappPolicies[1]!.rules);
  });
});

describe('renderAsaCli', () => {
  const text = renderAsaCli(config);

  it('renders the known ASA shapes', () => {
    expect(text).toContain('webvpn\n anyconnect-custom-attr perapp description Per-App Allow\n');
    expect(text).toContain('group-policy GP_perapp attributes\n anyconnect-custom perapp value Big\n');
    expect(text).toContain('group-policy GP_none attributes\n anyconnect-custom perapp none\n');
    expect(text).toContain('group-policy GP_unset internal\n!\n');
    expect(text).toContain('tunnel-group vpndemo general-attributes\n default-group-policy GP_perapp\n');
    expect(text).toContain(
      'dynamic-access-policy-record DAP_iOS\n description "iOS 9.3.1"\n priority 10\n action continue\n anyconnect-custom perapp value iOS_Wildcard_Policy\n',
    );
  });

  it('keeps DAP criteria as mockiron directives (a real ASA keeps them in dap.xml) plus a display-only Lua line', () => {
    expect(text).toContain('! mockiron dap-criteria DAP_iOS aaa aaa.ldap.memberOf EQ "CN=VPN Users,OU=Groups,DC=example,DC=com"\n');
    expect(text).toContain('! mockiron dap-criteria DAP_iOS endpoint endpoint.anyconnect.platform EQ "apple-ios"\n');
    expect(text).toMatch(/! dap\.xml selection criteria of DAP_iOS, display only: EVAL\(aaa\.ldap\.memberOf,"EQ",/);
  });

  it('round trip: parse(render(c)) equals c and render is stable', () => {
    expect(parseAsaCli(text)).toEqual(config);
    expect(renderAsaCli(parseAsaCli(text))).toBe(text);
  });

  it('reads back a DAP description holding U+2028 (found by the property below)', () => {
    const normalized = normalizeHeadEndConfig({
      perappPolicies: [],
      dapRecords: [
        {
          name: 'd',
          description: '#\u2028#',
          priority: 0,
          action: 'continue',
          aaaMode: 'ANY',
          perapp: { policy: '_' },
          aaaCriteria: [],
          endpointCriteria: [],
        },
      ],
    } as never);
    expect(parseAsaCli(renderAsaCli(normalized))).toEqual(normalized);
  });

  it('property: render → parse → render is stable for generated configs', () => {
    fc.assert(
      fc.property(headEndInput, (input) => {
        const normalized = normalizeHeadEndConfig(input);
        const rendered = renderAsaCli(normalized);
        const parsed = parseAsaCli(rendered);
        expect(parsed).toEqual(normalized);
        expect(renderAsaCli(parsed)).toBe(rendered);
      }),
      { numRuns: 150 },
    );
  });
});

describe('renderAsaCli with many DAP criteria', () => {
  it('wraps the display-only criteria comment too: no line over 420 characters, and it still parses back', () => {
    const many = normalizeHeadEndConfig({
      perappPolicies: [{ name: 'P', rules: [{ platform: 'iOS', appId: '*.*' }] }],
      dapRecords: [
        {
          name: 'DAP_many',
          priority: 1,
          action: 'continue',
          aaaMode: 'ANY',
          perapp: { policy: 'P' },
          aaaCriteria: Array.from({ length: 30 }, (_, i) => ({
            attribute: 'aaa.ldap.memberOf',
            operator: 'EQ',
            value: `CN=Group number ${i},OU=Groups,DC=example,DC=com`,
          })),
          endpointCriteria: [],
        },
      ],
    });
    const rendered = renderAsaCli(many);
    for (const line of rendered.split('\n')) expect(line.length).toBeLessThanOrEqual(ASA_MAX_LINE_LENGTH);
    expect(rendered.split('\n').filter((l) => l.startsWith('! dap.xml') || l.startsWith('! ')).length).toBeGreaterThan(2);
    expect(renderAsaCli(parseAsaCli(rendered))).toBe(rendered);
  });
});

describe('parseAsaCli', () => {
  function parseError(text: string): AsaCliParseError {
    try {
      parseAsaCli(text);
    } catch (err) {
      if (err instanceof AsaCliParseError) return err;
      throw err;
    }
    throw new Error('expected AsaCliParseError');
  }

  it('joins same-name data lines in order, and ignores unrelated config', () => {
    const blob = encodePerAppPolicy({ rules: [{ platform: 'iOS', appId: 'com.google.chrome.ios' }] });
    const report = parseAsaCliWithReport(
      [
        'hostname asa1',
        'interface GigabitEthernet0/0',
        ' nameif outside',
        'webvpn',
        ' enable outside',
        ' anyconnect-custom-attr perapp description Per-App Allow',
        ' anyconnect-custom-attr dynamic-split-exclude-domains description FQDN split tunneling exclude',
        `anyconnect-custom-data perapp Chrome ${blob.slice(0, 10)}`,
        'anyconnect-custom-data dynamic-split-exclude-domains default_group_policy_exclude webex.com,netflix.com,',
        `anyconnect-custom-data perapp Chrome ${blob.slice(10)}`,
        'group-policy GP internal',
        'group-policy GP attributes',
        ' vpn-tunnel-protocol ssl-client',
        ' anyconnect-custom perapp value Chrome',
        ' anyconnect-custom dynamic-split-exclude-domains value default_group_policy_exclude',
      ].join('\r\n'),
    );
    expect(report.config.perappPolicies).toEqual([{ name: 'Chrome', rules: [{ platform: 'iOS', appId: 'com.google.chrome.ios' }] }]);
    expect(report.config.groupPolicies).toEqual([{ name: 'GP', perapp: { policy: 'Chrome' } }]);
    expect(report.config.dapOrder).toBe('asa');
    expect(report.ignoredLines.map((l) => l.line)).toEqual([1, 2, 3, 5, 7, 9, 13, 15]);
  });

  it.each([
    ['group-policy GP attributes\n anyconnect-custom perapp valu X', 2, /expected 'anyconnect-custom perapp value NAME'/],
    ['dynamic-access-policy-record D\n priority high', 2, /priority must be a whole number/],
    ['dynamic-access-policy-record D\n action deny', 2, /action must be one of continue, terminate, quarantine/],
    ['!\n! mockiron dap-criteria Ghost aaa-mode ANY', 2, /comes before 'dynamic-access-policy-record Ghost'/],
    [
      'dynamic-access-policy-record D\n! mockiron dap-criteria D endpoint endpoint.anyconnect.platform IS "x"',
      2,
      /operator must be one of/,
    ],
    ['! mockiron dap-order sideways', 1, /dap-order asa\|ftd/],
    [' priority 3', 1, /outside any configuration block/],
    ['webvpn\n!\nanyconnect-custom-data perapp P not-base64!', 3, /perapp policy 'P'.*not Base64/],
    [`anyconnect-custom-data perapp P ${'A'.repeat(400)}`, 1, /the ASA limit is 420/],
    ['anyconnect-custom-data perapp P eJ x', 1, /without spaces/],
    ['group-policy bad!name internal', 1, /not a valid name/],
  ])('reports the line: %j', (text, line, message) => {
    const err = parseError(text);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(new RegExp(`^line ${line}: `));
    expect(err.message).toMatch(message);
  });

  it('reads dap-order ftd back', () => {
    expect(parseAsaCli('! mockiron dap-order ftd\n').dapOrder).toBe('ftd');
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC_NAMESPACE, SpecError, parseProfileSpec, specToBuildInput } from '../../../src/lib/profiles/index.js';

const GOOD = `profile:
  identifier: com.example.vpn
  displayName: Demo
vpnConfigurations:
  - name: vpndemo-external
    connectionType: ANYCONNECT
    server: asa.example.com
    safariDomains: [intranet.example.com]
    vpnUuid: 3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10
apps:
  - bundleId: com.google.chrome.ios
    vpnConfiguration: vpndemo-external
`;

function issuesOf(text: string): string[] {
  try {
    parseProfileSpec(text, 'spec.yaml');
  } catch (err) {
    if (err instanceof SpecError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a SpecError');
}

describe('parseProfileSpec', () => {
  it('fills defaults and maps to builder input', () => {
    const spec = parseProfileSpec(GOOD, 'spec.yaml');
    expect(spec.namespace).toBe(DEFAULT_SPEC_NAMESPACE);
    const input = specToBuildInput(spec);
    expect(input.vpnConfigs[0]).toMatchObject({
      perApp: true,
      onDemandMatchAppEnabled: true,
      userAuthentication: 'PASSWORD',
      associatedDomains: [],
      customData: {},
    });
    expect(spec.apps).toEqual([{ bundleId: 'com.google.chrome.ios', vpnConfiguration: 'vpndemo-external' }]);
  });

  it('accepts JSON too', () => {
    const json = JSON.stringify({
      profile: { identifier: 'com.example.vpn', displayName: 'Demo' },
      vpnConfigurations: [{ name: 'a', connectionType: 'IKEV2', server: '10.0.0.1', vpnUuid: '3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10' }],
    });
    expect(parseProfileSpec(json, 'spec.json').vpnConfigurations[0]!.server).toBe('10.0.0.1');
  });

  it('names file, line, column and key path for unknown keys, wrong types, bad domains and UUIDs', () => {
    const bad = GOOD.replace('    server: asa.example.com\n', '    server: asa.example.com\n    perApp: "yes"\n    sever: typo\n')
      .replace('[intranet.example.com]', '[intranet.example.com, "bad domain!"]')
      .replace('vpnUuid: 3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10', 'vpnUuid: not-a-uuid');
    expect(issuesOf(bad)).toEqual([
      'spec.yaml:8:13: vpnConfigurations[0].perApp: Invalid input: expected boolean, received string',
      'spec.yaml:9:5: vpnConfigurations[0].sever: unknown key',
      'spec.yaml:10:43: vpnConfigurations[0].safariDomains[1]: must be a domain name such as intranet.example.com (optionally *.example.com)',
      'spec.yaml:11:14: vpnConfigurations[0].vpnUuid: vpnUuid must be a UUID (8-4-4-4-12 hex digits)',
    ]);
  });

  it('reports missing required fields at the enclosing object', () => {
    expect(issuesOf(GOOD.replace('    server: asa.example.com\n', ''))).toEqual([
      'spec.yaml:5:5: vpnConfigurations[0].server: is required (string)',
    ]);
  });

  it('cross-field rules: CUSTOM_SSL needs a provider, apps must name a configuration, certificates need a payload UUID', () => {
    const bad = GOOD.replace('connectionType: ANYCONNECT', 'connectionType: CUSTOM_SSL\n    userAuthentication: CERTIFICATE').replace(
      'vpnConfiguration: vpndemo-external',
      'vpnConfiguration: nope',
    );
    expect(issuesOf(bad)).toEqual([
      'spec.yaml:5:5: vpnConfigurations[0].providerBundleId: is required when connectionType is CUSTOM_SSL',
      'spec.yaml:7:25: vpnConfigurations[0].userAuthentication: CERTIFICATE needs certificatePayloadUuid at the top of the spec',
      'spec.yaml:13:23: apps[0].vpnConfiguration: names no VPN configuration in this spec ("nope")',
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with positions', () => {
    expect(issuesOf('profile: [unclosed\n')[0]).toMatch(/^spec\.yaml:\d+:\d+: not valid YAML\/JSON: /);
    expect(issuesOf('profile: {}\nprofile: {}\n')[0]).toMatch(/^spec\.yaml:2:1: not valid YAML\/JSON: Map keys must be unique/);
  });
});

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { normalizeHeadEndConfig, validateHeadEndConfig } from '../../../src/lib/anyconnect/headend.js';
import { decideTunnel, endpointFromDevice } from '../../../src/lib/anyconnect/tunnel.js';
import type { MdmBinding, Session } from '../../../src/lib/anyconnect/types.js';

describe('endpointFromDevice', () => {
  it('maps iOS and Android devices to ACIDex endpoint attributes', () => {
    expect(endpointFromDevice({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1' })).toEqual({
      'endpoint.anyconnect.platform': 'apple-ios',
      'endpoint.anyconnect.platformversion': '9.3.1',
      'endpoint.anyconnect.devicetype': 'iPad4,1',
    });
    expect(endpointFromDevice({ platform: 'Android', osVersion: '14', model: 'Pixel 8', clientVersion: '5.1.2' })).toEqual({
      'endpoint.anyconnect.platform': 'android',
      'endpoint.anyconnect.platformversion': '14',
      'endpoint.anyconnect.devicetype': 'Pixel 8',
      'endpoint.anyconnect.clientversion': '5.1.2',
    });
    expect(() => endpointFromDevice({ platform: 'Windows', osVersion: '11', model: 'PC' })).toThrow(/iOS' or 'Android/);
  });
});

// The seed guide's setup, replayed with the pure functions: examples/seed-vpndemo/headend.yaml.
describe('seed demo: MobileIron binds Chrome and Microsoft RDP; the ASA sends iOS_Wildcard_Policy via DAP', () => {
  const config = normalizeHeadEndConfig(
    parseYaml(readFileSync(new URL('../../../examples/seed-vpndemo/headend.yaml', import.meta.url), 'utf8')),
  );
  const ipad: Session = {
    tunnelGroup: 'vpndemo',
    aaa: { 'aaa.cisco.username': 'vpndemo-user' },
    endpoint: {
      ...endpointFromDevice({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1' }),
      'endpoint.anyconnect.clientversion': '4.0.05038',
    },
  };
  const bound: MdmBinding = {
    managed: true,
    vpnUuid: '8C3A52C6-2C4E-4D0B-9E0A-6B5D1F0F7A11',
    vpnConfigName: 'vpndemo-external PerApp VPN',
  };

  it('the example config is clean', () => {
    expect(validateHeadEndConfig(config)).toEqual([]);
  });

  it.each(['com.google.chrome.ios', 'com.microsoft.rdc.ios'])('%s tunnels', (appId) => {
    const d = decideTunnel({ config, session: ipad, app: { appId }, platform: 'iOS', mdmBinding: bound });
    expect(d).toMatchObject({ tunneled: true, mode: 'perApp', policy: 'iOS_Wildcard_Policy', terminated: false });
    expect(d.rule).toMatchObject({ appId: '*.*' });
    expect(d.dap.map((r) => r.name)).toEqual(['DAP_iOS_PerApp']);
    expect(d.reasons.at(-1)).toMatch(/^TUNNELED: .* bound by the MDM and permitted by the ASA policy 'iOS_Wildcard_Policy'/);
  });

  it('a third-party RDP app that MobileIron did not bind does not tunnel, and the reasons say why', () => {
    const d = decideTunnel({ config, session: ipad, app: { appId: 'com.p5sys.jumpdesktop' }, platform: 'iOS' });
    expect(d.tunneled).toBe(false);
    expect(d.permit?.permitted).toBe(true); // the wildcard would allow it: the MDM is the only arbiter
    expect(d.mdm).toMatchObject({ required: true, bound: false });
    const text = d.reasons.join('\n');
    expect(text).toMatch(/DAP 'DAP_iOS_PerApp' selected: .*endpoint\.anyconnect\.platform = 'apple-ios': true/);
    expect(text).toMatch(/the MDM has not bound 'com\.p5sys\.jumpdesktop' to the per-app VPN/);
    expect(d.reasons.at(-1)).toMatch(/^NOT TUNNELED: .*would have permitted it, but cannot add apps the MDM did not bind/);
  });

  it('an unmanaged app with a VPNUUID still does not tunnel (iOS binds managed apps only)', () => {
    const d = decideTunnel({
      config,
      session: ipad,
      app: { appId: 'com.p5sys.jumpdesktop' },
      platform: 'iOS',
      mdmBinding: { ...bound, managed: false },
    });
    expect(d.tunneled).toBe(false);
    expect(d.reasons.join('\n')).toMatch(/not an MDM-managed app/);
  });

  it('on iOS 9.3 the DAP record does not match: no perapp is sent, full mode, bound apps still tunnel', () => {
    const older = { ...ipad, endpoint: { ...ipad.endpoint, 'endpoint.anyconnect.platformversion': '9.3' } };
    const chrome = decideTunnel({ config, session: older, app: { appId: 'com.google.chrome.ios' }, platform: 'iOS', mdmBinding: bound });
    expect(chrome).toMatchObject({ tunneled: true, mode: 'full', policy: null, permit: null });
    expect(chrome.dap.map((r) => r.name)).toEqual(['DfltAccessPolicy']);
    const jump = decideTunnel({ config, session: older, app: { appId: 'com.p5sys.jumpdesktop' }, platform: 'iOS' });
    expect(jump).toMatchObject({ tunneled: false, mode: 'full' });
  });
});

describe('decideTunnel: iOS narrowing and Android', () => {
  const config = normalizeHeadEndConfig({
    perappPolicies: [
      {
        name: 'Corp',
        rules: [
          { platform: 'iOS', appId: 'com.google.chrome.ios' },
          { platform: 'Android', appId: 'com.cisco.*', minVersion: '4.0' },
        ],
      },
    ],
    groupPolicies: [
      { name: 'GP', perapp: { policy: 'Corp' } },
      { name: 'GP_full', perapp: 'none' },
    ],
    tunnelGroups: [
      { name: 'corp', defaultGroupPolicy: 'GP' },
      { name: 'full', defaultGroupPolicy: 'GP_full' },
    ],
    dapRecords: [
      { name: 'Blocked', aaaCriteria: [{ attribute: 'aaa.cisco.username', operator: 'EQ', value: 'mallory' }], action: 'terminate' },
    ],
  });
  const bound: MdmBinding = { managed: true, vpnUuid: 'U-1' };
  const iosSession: Session = { tunnelGroup: 'corp', aaa: {}, endpoint: { platform: 'apple-ios', platformversion: '17.4' } };
  const androidSession: Session = { tunnelGroup: 'corp', aaa: {}, endpoint: { 'endpoint.anyconnect.platform': 'android' } };

  it('iOS: an MDM-bound app that the ASA policy does not permit is dropped by AnyConnect', () => {
    const d = decideTunnel({ config, session: iosSession, app: { appId: 'com.microsoft.rdc.ios' }, platform: 'iOS', mdmBinding: bound });
    expect(d).toMatchObject({ tunneled: false, mode: 'perApp', policy: 'Corp' });
    expect(d.reasons.at(-1)).toMatch(/bound by the MDM, but the ASA policy 'Corp' does not permit it/);
  });

  it('Android: the ASA policy alone decides (no MDM needed), with version checks', () => {
    expect(
      decideTunnel({ config, session: androidSession, app: { appId: 'com.cisco.webex', version: '4.2' }, platform: 'Android' }).tunneled,
    ).toBe(true);
    const old = decideTunnel({ config, session: androidSession, app: { appId: 'com.cisco.webex', version: '3.9.9' }, platform: 'Android' });
    expect(old.tunneled).toBe(false);
    expect(old.reasons.join('\n')).toMatch(/below the rule's minVersion 4\.0/);
    expect(decideTunnel({ config, session: androidSession, app: { appId: 'com.android.chrome' }, platform: 'Android' }).tunneled).toBe(
      false,
    );
  });

  it('Android in full-tunnel mode tunnels every app; iOS full mode only bound apps', () => {
    const full: Session = { ...androidSession, tunnelGroup: 'full' };
    expect(decideTunnel({ config, session: full, app: { appId: 'com.android.chrome' }, platform: 'Android' })).toMatchObject({
      tunneled: true,
      mode: 'full',
    });
    const iosFull: Session = { ...iosSession, tunnelGroup: 'full' };
    expect(decideTunnel({ config, session: iosFull, app: { appId: 'any.app' }, platform: 'iOS' }).tunneled).toBe(false);
    expect(decideTunnel({ config, session: iosFull, app: { appId: 'any.app' }, platform: 'iOS', mdmBinding: bound }).tunneled).toBe(true);
  });

  it('a terminated session never tunnels, even a bound and permitted app', () => {
    const d = decideTunnel({
      config,
      session: { ...iosSession, aaa: { 'aaa.cisco.username': 'mallory' } },
      app: { appId: 'com.google.chrome.ios' },
      platform: 'iOS',
      mdmBinding: bound,
    });
    expect(d).toMatchObject({ tunneled: false, terminated: true });
    expect(d.reasons.at(-1)).toMatch(/the session is terminated/);
  });

  it('fills in the platform when the session omits it, and notes a mismatch', () => {
    const noPlatform: Session = { tunnelGroup: 'corp', aaa: {}, endpoint: {} };
    expect(
      decideTunnel({ config, session: noPlatform, app: { appId: 'com.google.chrome.ios' }, platform: 'iOS', mdmBinding: bound }).tunneled,
    ).toBe(true);
    const mismatch = decideTunnel({
      config,
      session: androidSession,
      app: { appId: 'com.google.chrome.ios' },
      platform: 'iOS',
      mdmBinding: bound,
    });
    expect(mismatch.reasons[0]).toMatch(/reports endpoint\.anyconnect\.platform 'android' but the app runs on iOS/);
  });

  it('the decision is plain JSON', () => {
    const d = decideTunnel({ config, session: iosSession, app: { appId: 'com.google.chrome.ios' }, platform: 'iOS', mdmBinding: bound });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});

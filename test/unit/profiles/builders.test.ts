import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isPlistDict, parsePlist, type PlistDict } from '../../../src/lib/plist/index.js';
import {
  ProfileBuildError,
  buildVpnPayload,
  buildVpnProfile,
  hasErrors,
  lintProfile,
  substituteVariables,
  toXml,
  uuidV5,
  type VpnConfigSpec,
} from '../../../src/lib/profiles/index.js';
import { loadProfileSchemas } from '../../../src/profiles/index.js';

const NAMESPACE = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
const CERT_UUID = 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE';
const ctx = { profileIdentifier: 'com.example.p', namespace: NAMESPACE };

function config(overrides: Partial<VpnConfigSpec> = {}): VpnConfigSpec {
  return {
    id: 1,
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    providerBundleId: null,
    server: 'asa.example.com',
    group: null,
    perApp: true,
    onDemandMatchAppEnabled: true,
    safariDomains: ['intranet.example.com'],
    associatedDomains: [],
    excludedDomains: [],
    smbDomains: [],
    mailDomains: [],
    calendarDomains: [],
    contactsDomains: [],
    userAuthentication: 'PASSWORD',
    username: '$USERID$',
    password: null,
    providerType: null,
    customData: {},
    vpnUuid: '3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10',
    ...overrides,
  };
}

describe('uuidV5', () => {
  it('matches RFC 9562 / Python uuid.uuid5', () => {
    // DNS namespace + "www.example.com" is the classic published vector.
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    const py = execFileSync('python3', ['-c', `import uuid;print(uuid.uuid5(uuid.UUID('${NAMESPACE}'), 'mockiron/ü'))`], {
      encoding: 'utf8',
    }).trim();
    expect(uuidV5(NAMESPACE, 'mockiron/ü')).toBe(py);
  });
  it('rejects a non-UUID namespace', () => {
    expect(() => uuidV5('nope', 'x')).toThrow('namespace is not a UUID');
  });
  it('answers the same for a repeated name, and distinct names in distinct namespaces stay apart', () => {
    const first = uuidV5(NAMESPACE, 'mockiron/payload/a');
    expect(uuidV5(NAMESPACE, 'mockiron/payload/a')).toBe(first);
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'mockiron/payload/a')).not.toBe(first);
    expect(uuidV5(NAMESPACE, 'mockiron/payload/b')).not.toBe(first);
    // A namespace that failed once fails again (nothing about it is remembered).
    expect(() => uuidV5('nope', 'x')).toThrow('namespace is not a UUID');
    expect(() => uuidV5('nope', 'x')).toThrow('namespace is not a UUID');
  });
});

describe('substituteVariables', () => {
  const vars = { userId: 'jdoe', email: 'jdoe@example.com', displayName: 'J Doe', deviceUuid: 'D-1', serialNumber: 'SN1', udid: 'U1' };
  it('replaces known variables and leaves unknown or valueless ones untouched', () => {
    expect(substituteVariables('$USERID$ <$EMAIL$> $DISPLAYNAME$ $DEVICE_UUID$ $SERIAL_NUMBER$ $UDID$', vars)).toBe(
      'jdoe <jdoe@example.com> J Doe D-1 SN1 U1',
    );
    expect(substituteVariables('$FOO$ $USERID$', { email: 'x' })).toBe('$FOO$ $USERID$');
    expect(substituteVariables('cost $5 $USERID$$', { userId: 'a$&b' })).toBe('cost $5 a$&b$');
  });
});

describe('buildVpnPayload per connection type', () => {
  it('ANYCONNECT per-app: VPN + com.cisco.anyconnect, VPN dictionary, VendorConfig group, domains', () => {
    const p = buildVpnPayload(
      config({ group: 'vpndemo', password: 's3cret', providerType: 'packet-tunnel', customData: { Extra: 'x' }, associatedDomains: ['a.example.com'] }),
      ctx,
    );
    expect(p).toEqual({
      AssociatedDomains: ['a.example.com'],
      OnDemandMatchAppEnabled: true,
      PayloadDisplayName: 'VPN (vpndemo-external)',
      PayloadIdentifier: 'com.example.p.vpn.3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10',
      PayloadType: 'com.apple.vpn.managed.applayer',
      PayloadUUID: uuidV5(NAMESPACE, 'mockiron/payload/com.example.p/com.apple.vpn.managed.applayer/3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10').toUpperCase(),
      PayloadVersion: 1,
      SafariDomains: ['intranet.example.com'],
      UserDefinedName: 'vpndemo-external',
      VPN: { AuthName: '$USERID$', AuthPassword: 's3cret', AuthenticationMethod: 'Password', ProviderType: 'packet-tunnel', RemoteAddress: 'asa.example.com' },
      VPNSubType: 'com.cisco.anyconnect',
      VPNType: 'VPN',
      VPNUUID: '3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10',
      VendorConfig: { Extra: 'x', Group: 'vpndemo' },
    });
    expect(Object.keys(p)).toEqual([...Object.keys(p)].sort());
  });

  it('OnDemandMatchAppEnabled is a boolean even when false', () => {
    expect(buildVpnPayload(config({ onDemandMatchAppEnabled: false }), ctx).OnDemandMatchAppEnabled).toBe(false);
  });

  it('ANYCONNECT_LEGACY uses the applevpn plugin subtype and drops ProviderType', () => {
    const p = buildVpnPayload(config({ connectionType: 'ANYCONNECT_LEGACY', providerType: 'app-proxy' }), ctx);
    expect(p.VPNType).toBe('VPN');
    expect(p.VPNSubType).toBe('com.cisco.anyconnect.applevpn.plugin');
    expect((p.VPN as PlistDict).ProviderType).toBeUndefined();
  });

  it('CUSTOM_SSL uses the provider bundle id as VPNSubType and needs one', () => {
    const p = buildVpnPayload(config({ connectionType: 'CUSTOM_SSL', providerBundleId: 'com.example.vpn', providerType: 'app-proxy' }), ctx);
    expect(p.VPNSubType).toBe('com.example.vpn');
    expect((p.VPN as PlistDict).ProviderType).toBe('app-proxy');
    expect(() => buildVpnPayload(config({ connectionType: 'CUSTOM_SSL' }), ctx)).toThrow(ProfileBuildError);
  });

  it('certificate authentication references the certificate payload and needs its UUID', () => {
    const p = buildVpnPayload(config({ userAuthentication: 'CERTIFICATE', password: 'ignored?' }), { ...ctx, certificatePayloadUuid: CERT_UUID });
    expect(p.VPN).toMatchObject({ AuthenticationMethod: 'Certificate', PayloadCertificateUUID: CERT_UUID });
    expect(() => buildVpnPayload(config({ userAuthentication: 'CERTIFICATE' }), ctx)).toThrow(/no certificate payload UUID/);
  });

  it('IKEV2 with password: EAP-only (None + ExtendedAuthEnabled), identifiers from customData or defaults', () => {
    const p = buildVpnPayload(config({ connectionType: 'IKEV2', password: 'pw' }), ctx);
    expect(p.VPNType).toBe('IKEv2');
    expect(p.VPNSubType).toBeUndefined();
    expect(p.IKEv2).toEqual({
      AuthName: '$USERID$',
      AuthPassword: 'pw',
      AuthenticationMethod: 'None',
      ExtendedAuthEnabled: 1,
      LocalIdentifier: '$USERID$',
      RemoteAddress: 'asa.example.com',
      RemoteIdentifier: 'asa.example.com',
    });
    const withIds = buildVpnPayload(
      config({ connectionType: 'IKEV2', username: null, customData: { LocalIdentifier: 'me', RemoteIdentifier: 'them', SharedSecret: 'psk' } }),
      ctx,
    );
    expect(withIds.IKEv2).toEqual({
      AuthenticationMethod: 'SharedSecret',
      LocalIdentifier: 'me',
      RemoteAddress: 'asa.example.com',
      RemoteIdentifier: 'them',
      SharedSecret: 'psk',
    });
    const cert = buildVpnPayload(config({ connectionType: 'IKEV2', userAuthentication: 'CERTIFICATE' }), { ...ctx, certificatePayloadUuid: CERT_UUID });
    expect(cert.IKEv2).toMatchObject({ AuthenticationMethod: 'Certificate', PayloadCertificateUUID: CERT_UUID });
    expect((cert.IKEv2 as PlistDict).ExtendedAuthEnabled).toBeUndefined();
  });

  it('IPSEC: group as KeyID LocalIdentifier, shared secret as data, XAuth credentials', () => {
    const p = buildVpnPayload(
      config({ connectionType: 'IPSEC', perApp: false, group: 'grp', password: 'pw', customData: { SharedSecret: 'psk' } }),
      ctx,
    );
    expect(p.VPNType).toBe('IPSec');
    expect(p.PayloadType).toBe('com.apple.vpn.managed');
    const ipsec = p.IPSec as PlistDict;
    expect(ipsec).toMatchObject({
      AuthenticationMethod: 'SharedSecret',
      LocalIdentifier: 'grp',
      LocalIdentifierType: 'KeyID',
      RemoteAddress: 'asa.example.com',
      XAuthEnabled: 1,
      XAuthName: '$USERID$',
      XAuthPassword: 'pw',
    });
    expect(Buffer.from(ipsec.SharedSecret as Uint8Array).toString()).toBe('psk');
  });

  it('L2TP: PPP dictionary for the account, IPSec dictionary for the machine secret', () => {
    const p = buildVpnPayload(config({ connectionType: 'L2TP', password: 'pw', customData: { SharedSecret: 'psk' } }), ctx);
    expect(p.VPNType).toBe('L2TP');
    expect(p.PPP).toEqual({ AuthName: '$USERID$', AuthPassword: 'pw', CommRemoteAddress: 'asa.example.com' });
    expect((p.IPSec as PlistDict).AuthenticationMethod).toBe('SharedSecret');
  });

  it('device-wide (perApp false) is com.apple.vpn.managed without VPNUUID or per-app keys', () => {
    const p = buildVpnPayload(config({ perApp: false, mailDomains: ['mail.example.com'] }), ctx);
    expect(p.PayloadType).toBe('com.apple.vpn.managed');
    for (const k of ['VPNUUID', 'OnDemandMatchAppEnabled', 'SafariDomains', 'MailDomains']) expect(p[k]).toBeUndefined();
  });

  it('substitutes device variables when given', () => {
    const p = buildVpnPayload(config({ username: '$USERID$@corp', customData: { Tag: '$SERIAL_NUMBER$' } }), {
      ...ctx,
      variables: { userId: 'jdoe', serialNumber: 'SN9' },
    });
    expect((p.VPN as PlistDict).AuthName).toBe('jdoe@corp');
    expect((p.VendorConfig as PlistDict).Tag).toBe('SN9');
  });
});

describe('buildVpnProfile', () => {
  const input = {
    profile: { identifier: 'com.example.vpn', displayName: 'VPN', description: 'd', organization: 'Example', removalDisallowed: true },
    vpnConfigs: [config(), config({ name: 'second', connectionType: 'IKEV2', vpnUuid: '0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f' })],
    namespace: NAMESPACE,
  };

  it('wraps payloads in a Configuration envelope with stable UUIDv5 identity', () => {
    const profile = buildVpnProfile(input);
    expect(profile).toMatchObject({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.vpn',
      PayloadDisplayName: 'VPN',
      PayloadDescription: 'd',
      PayloadOrganization: 'Example',
      PayloadRemovalDisallowed: true,
      PayloadUUID: uuidV5(NAMESPACE, 'mockiron/profile/com.example.vpn').toUpperCase(),
    });
    const content = profile.PayloadContent as PlistDict[];
    expect(content.map((p) => p.VPNUUID)).toEqual(input.vpnConfigs.map((c) => c.vpnUuid));
    expect(new Set(content.map((p) => p.PayloadUUID)).size).toBe(2);
  });

  it('is byte-identical for the same input and changes identity with the namespace', () => {
    expect(toXml(buildVpnProfile(input))).toBe(toXml(buildVpnProfile(structuredClone(input))));
    const other = buildVpnProfile({ ...input, namespace: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' });
    expect(other.PayloadUUID).not.toBe(buildVpnProfile(input).PayloadUUID);
    // custom data order does not leak into the bytes
    const a = toXml(buildVpnProfile({ ...input, vpnConfigs: [config({ customData: { A: '1', B: '2' } })] }));
    const b = toXml(buildVpnProfile({ ...input, vpnConfigs: [config({ customData: { B: '2', A: '1' } })] }));
    expect(a).toBe(b);
  });

  it('carries extra payloads, so a certificate payload can satisfy PayloadCertificateUUID', () => {
    const certPayload: PlistDict = {
      PayloadType: 'com.apple.security.pkcs12',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.vpn.identity',
      PayloadUUID: CERT_UUID,
      PayloadContent: Buffer.from('not really a p12'),
    };
    const profile = buildVpnProfile({
      ...input,
      vpnConfigs: [config({ userAuthentication: 'CERTIFICATE' })],
      certificatePayloadUuid: CERT_UUID,
      extraPayloads: [certPayload],
    });
    const findings = lintProfile(parsePlist(toXml(profile)), loadProfileSchemas());
    expect(findings.filter((f) => f.message.includes('names no payload'))).toEqual([]);
    expect(hasErrors(findings)).toBe(false);
  });

  it('rejects duplicate vpnUuids and a bad namespace', () => {
    expect(() => buildVpnProfile({ ...input, vpnConfigs: [config(), config({ name: 'b' })] })).toThrow(/share vpnUuid/);
    expect(() => buildVpnProfile({ ...input, namespace: 'x' })).toThrow(/namespace is not a UUID/);
  });

  it('every connection type, per-app and device-wide, lints without errors', () => {
    const schemas = loadProfileSchemas();
    for (const connectionType of ['ANYCONNECT', 'ANYCONNECT_LEGACY', 'IKEV2', 'IPSEC', 'L2TP', 'CUSTOM_SSL'] as const) {
      for (const perApp of [true, false]) {
        const profile = buildVpnProfile({
          ...input,
          vpnConfigs: [config({ connectionType, perApp, providerBundleId: 'com.example.vpn', password: 'pw', customData: { SharedSecret: 's' } })],
        });
        const findings = lintProfile(parsePlist(toXml(profile)), schemas);
        expect({ connectionType, perApp, findings }).toEqual({ connectionType, perApp, findings: [] });
        expect(isPlistDict(profile)).toBe(true);
      }
    }
  });
});

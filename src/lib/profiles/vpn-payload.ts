import type { PlistDict, PlistValue } from '../plist/index.js';
import { ProfileBuildError } from './errors.js';
import { uuidV5 } from './uuid.js';
import { substituteVariables, type DeviceVariables } from './variables.js';

// Pure builders for Apple's VPN payloads from a MobileIron-style VPN configuration.
// Per-app configurations become com.apple.vpn.managed.applayer; device-wide ones
// com.apple.vpn.managed. Keys are sorted so that the output never depends on the order
// in which a database or a spec file happened to list custom data.

/** Mirrors the REST API's VPN configuration, so database rows can be passed straight in. */
export interface VpnConfigSpec {
  id?: number;
  name: string;
  description?: string;
  connectionType: 'ANYCONNECT' | 'ANYCONNECT_LEGACY' | 'IKEV2' | 'IPSEC' | 'L2TP' | 'CUSTOM_SSL';
  providerBundleId?: string | null;
  server: string;
  group?: string | null;
  perApp: boolean;
  onDemandMatchAppEnabled: boolean;
  safariDomains: string[];
  associatedDomains: string[];
  excludedDomains: string[];
  smbDomains: string[];
  mailDomains: string[];
  calendarDomains: string[];
  contactsDomains: string[];
  userAuthentication: VpnUserAuthentication;
  /**
   * PayloadUUID of the identity payload (SCEP or PKCS#12) in the same profile that this
   * configuration authenticates with; wins over the context's profile-wide one.
   */
  certificatePayloadUuid?: string | null;
  username?: string | null;
  password?: string | null;
  providerType?: 'packet-tunnel' | 'app-proxy' | null;
  customData: Record<string, string>;
  vpnUuid: string;
}

export type VpnConnectionType = VpnConfigSpec['connectionType'];

/** MobileIron Core's user authentication choices: Password, Certificate, Password + Certificate. */
export const VPN_USER_AUTHENTICATIONS = ['PASSWORD', 'CERTIFICATE', 'PASSWORD_AND_CERTIFICATE'] as const;
export type VpnUserAuthentication = (typeof VPN_USER_AUTHENTICATIONS)[number];

/** Whether a configuration authenticates with a certificate (alone or with a password). */
export function usesCertificate(config: Pick<VpnConfigSpec, 'userAuthentication'>): boolean {
  return config.userAuthentication === 'CERTIFICATE' || config.userAuthentication === 'PASSWORD_AND_CERTIFICATE';
}

export const VPN_CONNECTION_TYPES: readonly VpnConnectionType[] = [
  'ANYCONNECT',
  'ANYCONNECT_LEGACY',
  'IKEV2',
  'IPSEC',
  'L2TP',
  'CUSTOM_SSL',
];

export const APPLAYER_PAYLOAD_TYPE = 'com.apple.vpn.managed.applayer';
export const DEVICE_VPN_PAYLOAD_TYPE = 'com.apple.vpn.managed';

/** VPNSubType values of Cisco's two iOS clients (NetworkExtension app and the legacy VPN plugin). */
export const ANYCONNECT_SUBTYPE = 'com.cisco.anyconnect';
export const ANYCONNECT_LEGACY_SUBTYPE = 'com.cisco.anyconnect.applevpn.plugin';

/**
 * customData keys that IKEv2, IPSec and L2TP read (those types have no VendorConfig).
 * Other customData keys only reach the profile for VPNType "VPN" (in VendorConfig).
 */
export const PROTOCOL_CUSTOM_DATA_KEYS = ['LocalIdentifier', 'RemoteIdentifier', 'SharedSecret'] as const;

export interface VpnPayloadContext {
  /** The enclosing profile's PayloadIdentifier; payload identifiers hang below it. */
  profileIdentifier: string;
  /** Per-installation UUID namespace for PayloadUUIDs. */
  namespace: string;
  /** PayloadUUID of a certificate payload in the same profile, for configurations that name none of their own. */
  certificatePayloadUuid?: string;
  /** When given, MobileIron variables in username, password and custom data are substituted. */
  variables?: DeviceVariables;
}

export function vpnPayloadType(config: Pick<VpnConfigSpec, 'perApp'>): string {
  return config.perApp ? APPLAYER_PAYLOAD_TYPE : DEVICE_VPN_PAYLOAD_TYPE;
}

/** Recursively sorts dictionary keys (arrays keep their order). */
export function sortPlistKeys<T extends PlistValue>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortPlistKeys(v)) as T;
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const dict = value as PlistDict;
    const out: PlistDict = {};
    for (const key of Object.keys(dict).sort()) {
      const v = dict[key];
      if (v !== undefined) out[key] = sortPlistKeys(v);
    }
    return out as T;
  }
  return value;
}

function nonEmpty(text: string | null | undefined): text is string {
  return typeof text === 'string' && text.length > 0;
}

function listOrUndefined(list: string[]): string[] | undefined {
  return list.length > 0 ? [...list] : undefined;
}

function requireCertificate(config: VpnConfigSpec, ctx: VpnPayloadContext): string | undefined {
  if (!usesCertificate(config)) return undefined;
  const uuid = nonEmpty(config.certificatePayloadUuid) ? config.certificatePayloadUuid : ctx.certificatePayloadUuid;
  if (!nonEmpty(uuid)) {
    throw new ProfileBuildError(
      `VPN configuration "${config.name}" uses certificate authentication but no certificate payload UUID was given`,
    );
  }
  return uuid;
}

/** The type-specific part: VPNType, VPNSubType and the matching settings dictionaries. */
function connectionKeys(config: VpnConfigSpec, ctx: VpnPayloadContext): PlistDict {
  const sub = (text: string | null | undefined): string | undefined =>
    nonEmpty(text) ? (ctx.variables ? substituteVariables(text, ctx.variables) : text) : undefined;
  const username = sub(config.username);
  const password = sub(config.password);
  const certificateUuid = requireCertificate(config, ctx);
  // Password + Certificate: the certificate authenticates the device, the account the user
  const alsoPassword = config.userAuthentication === 'PASSWORD_AND_CERTIFICATE';
  const custom = (key: (typeof PROTOCOL_CUSTOM_DATA_KEYS)[number]): string | undefined => sub(config.customData[key]);
  const sharedSecret = custom('SharedSecret');

  switch (config.connectionType) {
    case 'ANYCONNECT':
    case 'ANYCONNECT_LEGACY':
    case 'CUSTOM_SSL': {
      let subType: string;
      if (config.connectionType === 'ANYCONNECT') subType = ANYCONNECT_SUBTYPE;
      else if (config.connectionType === 'ANYCONNECT_LEGACY') subType = ANYCONNECT_LEGACY_SUBTYPE;
      else if (nonEmpty(config.providerBundleId)) subType = config.providerBundleId;
      else throw new ProfileBuildError(`VPN configuration "${config.name}" is CUSTOM_SSL but has no providerBundleId`);

      const vendorConfig: PlistDict = {};
      for (const [key, value] of Object.entries(config.customData)) vendorConfig[key] = sub(value) ?? value;
      // The group is a first-class field in MobileIron's UI; it wins over a same-named custom key.
      if (nonEmpty(config.group)) vendorConfig.Group = config.group;

      return {
        VPNType: 'VPN',
        VPNSubType: subType,
        VPN: {
          // RemoteAddress, AuthName and AuthPassword are missing from Apple's schema for this
          // dictionary but every real AnyConnect/SSL profile carries them; see lint's whitelist.
          RemoteAddress: config.server,
          AuthName: username,
          AuthPassword: password,
          AuthenticationMethod: certificateUuid ? 'Certificate' : 'Password',
          PayloadCertificateUUID: certificateUuid,
          // The legacy plugin predates NetworkExtension providers, so a provider type means nothing to it.
          ProviderType: config.connectionType === 'ANYCONNECT_LEGACY' ? undefined : (config.providerType ?? undefined),
        },
        VendorConfig: Object.keys(vendorConfig).length > 0 ? vendorConfig : undefined,
      };
    }
    case 'IKEV2': {
      const ikev2: PlistDict = {
        RemoteAddress: config.server,
        RemoteIdentifier: custom('RemoteIdentifier') ?? config.server,
        LocalIdentifier: custom('LocalIdentifier') ?? username ?? config.name,
      };
      if (certificateUuid) {
        ikev2.AuthenticationMethod = 'Certificate';
        ikev2.PayloadCertificateUUID = certificateUuid;
      } else if (sharedSecret) {
        ikev2.AuthenticationMethod = 'SharedSecret';
        ikev2.SharedSecret = sharedSecret;
      } else {
        // Username/password over IKEv2 is EAP-only: method None plus ExtendedAuthEnabled.
        ikev2.AuthenticationMethod = 'None';
      }
      if ((!certificateUuid || alsoPassword) && (username || password)) {
        ikev2.ExtendedAuthEnabled = 1;
        ikev2.AuthName = username;
        ikev2.AuthPassword = password;
      }
      return { VPNType: 'IKEv2', IKEv2: ikev2 };
    }
    case 'IPSEC': {
      const ipsec: PlistDict = { RemoteAddress: config.server };
      if (certificateUuid) {
        ipsec.AuthenticationMethod = 'Certificate';
        ipsec.PayloadCertificateUUID = certificateUuid;
      } else {
        ipsec.AuthenticationMethod = 'SharedSecret';
        // Cisco IPSec names the group in LocalIdentifier, typed KeyID.
        if (nonEmpty(config.group)) {
          ipsec.LocalIdentifier = config.group;
          ipsec.LocalIdentifierType = 'KeyID';
        }
        if (sharedSecret) ipsec.SharedSecret = Buffer.from(sharedSecret, 'utf8');
      }
      if (username || password) {
        ipsec.XAuthEnabled = 1;
        ipsec.XAuthName = username;
        ipsec.XAuthPassword = password;
      }
      return { VPNType: 'IPSec', IPSec: ipsec };
    }
    case 'L2TP': {
      const ipsec: PlistDict = certificateUuid
        ? { AuthenticationMethod: 'Certificate', PayloadCertificateUUID: certificateUuid }
        : {
            AuthenticationMethod: 'SharedSecret',
            SharedSecret: sharedSecret ? Buffer.from(sharedSecret, 'utf8') : undefined,
          };
      return {
        VPNType: 'L2TP',
        PPP: { CommRemoteAddress: config.server, AuthName: username, AuthPassword: password },
        IPSec: ipsec,
      };
    }
    default: {
      const unknown: never = config.connectionType;
      throw new ProfileBuildError(`unknown connection type ${String(unknown)}`);
    }
  }
}

/** Stable payload identity: same profile, type and VPN UUID → same PayloadIdentifier and PayloadUUID. */
export function vpnPayloadIdentity(
  config: Pick<VpnConfigSpec, 'perApp' | 'vpnUuid'>,
  ctx: Pick<VpnPayloadContext, 'profileIdentifier' | 'namespace'>,
): { identifier: string; uuid: string } {
  const type = vpnPayloadType(config);
  const vpnKey = config.vpnUuid.toLowerCase();
  return {
    identifier: `${ctx.profileIdentifier}.vpn.${vpnKey}`,
    uuid: uuidV5(ctx.namespace, `mockiron/payload/${ctx.profileIdentifier}/${type}/${vpnKey}`).toUpperCase(),
  };
}

/** One VPN payload dictionary (applayer when perApp, device-wide otherwise). */
export function buildVpnPayload(config: VpnConfigSpec, ctx: VpnPayloadContext): PlistDict {
  if (!nonEmpty(config.vpnUuid)) throw new ProfileBuildError(`VPN configuration "${config.name}" has no vpnUuid`);
  if (!nonEmpty(config.server)) throw new ProfileBuildError(`VPN configuration "${config.name}" has no server`);
  const identity = vpnPayloadIdentity(config, ctx);
  const payload: PlistDict = {
    PayloadType: vpnPayloadType(config),
    PayloadVersion: 1,
    PayloadIdentifier: identity.identifier,
    PayloadUUID: identity.uuid,
    PayloadDisplayName: `VPN (${config.name})`,
    PayloadDescription: nonEmpty(config.description) ? config.description : undefined,
    UserDefinedName: config.name,
    ...connectionKeys(config, ctx),
  };
  if (config.perApp) {
    Object.assign(payload, {
      VPNUUID: config.vpnUuid,
      OnDemandMatchAppEnabled: config.onDemandMatchAppEnabled,
      SafariDomains: listOrUndefined(config.safariDomains),
      AssociatedDomains: listOrUndefined(config.associatedDomains),
      ExcludedDomains: listOrUndefined(config.excludedDomains),
      SMBDomains: listOrUndefined(config.smbDomains),
      MailDomains: listOrUndefined(config.mailDomains),
      CalendarDomains: listOrUndefined(config.calendarDomains),
      ContactsDomains: listOrUndefined(config.contactsDomains),
    });
  }
  // Device-wide VPN has no app or domain routing, so those fields are not carried over.
  return sortPlistKeys(payload);
}

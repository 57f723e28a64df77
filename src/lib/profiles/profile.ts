import { toXmlPlist, type PlistDict } from '../plist/index.js';
import { ProfileBuildError } from './errors.js';
import { isUuid, uuidV5 } from './uuid.js';
import type { DeviceVariables } from './variables.js';
import { buildVpnPayload, type VpnConfigSpec } from './vpn-payload.js';

// The configuration profile envelope and the one call the server makes per device:
// buildVpnProfile(...) → plist object → toXml(...) → (signing, elsewhere) → device.

export interface ProfileMetadata {
  /** Reverse-DNS PayloadIdentifier; devices replace a profile with the same identifier. */
  identifier: string;
  displayName: string;
  description?: string;
  organization?: string;
  /** Honoured by iOS only on supervised devices. */
  removalDisallowed?: boolean;
}

export interface ConfigurationProfileInput {
  profile: ProfileMetadata;
  namespace: string;
  payloads: PlistDict[];
}

export interface BuildVpnProfileInput {
  profile: ProfileMetadata;
  vpnConfigs: VpnConfigSpec[];
  /** Per-installation UUID namespace; all PayloadUUIDs are UUIDv5 names in it. */
  namespace: string;
  /** PayloadUUID of the identity certificate payload for certificate-authenticated configs. */
  certificatePayloadUuid?: string;
  /** Per-device values for $USERID$ and friends; without it variables are left in place. */
  variables?: DeviceVariables;
  /** Further payloads to carry (e.g. the SCEP or PKCS#12 payload certificatePayloadUuid names). */
  extraPayloads?: PlistDict[];
}

export function profileUuid(namespace: string, identifier: string): string {
  return uuidV5(namespace, `mockiron/profile/${identifier}`).toUpperCase();
}

export function buildConfigurationProfile(input: ConfigurationProfileInput): PlistDict {
  const { profile, namespace, payloads } = input;
  if (!isUuid(namespace)) throw new ProfileBuildError(`namespace is not a UUID: ${namespace}`);
  if (profile.identifier.trim() === '') throw new ProfileBuildError('profile identifier is empty');
  // Alphabetical, like Apple's own tools, and therefore stable.
  return {
    PayloadContent: payloads,
    PayloadDescription: profile.description,
    PayloadDisplayName: profile.displayName,
    PayloadIdentifier: profile.identifier,
    PayloadOrganization: profile.organization,
    PayloadRemovalDisallowed: profile.removalDisallowed,
    PayloadType: 'Configuration',
    PayloadUUID: profileUuid(namespace, profile.identifier),
    PayloadVersion: 1,
  };
}

export function buildVpnProfile(input: BuildVpnProfileInput): PlistDict {
  const seen = new Map<string, string>();
  for (const config of input.vpnConfigs) {
    const key = config.vpnUuid.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) {
      throw new ProfileBuildError(`VPN configurations "${other}" and "${config.name}" share vpnUuid ${config.vpnUuid}`);
    }
    seen.set(key, config.name);
  }
  const ctx = {
    profileIdentifier: input.profile.identifier,
    namespace: input.namespace,
    certificatePayloadUuid: input.certificatePayloadUuid,
    variables: input.variables,
  };
  const payloads = input.vpnConfigs.map((config) => buildVpnPayload(config, ctx));
  return buildConfigurationProfile({
    profile: input.profile,
    namespace: input.namespace,
    payloads: [...payloads, ...(input.extraPayloads ?? [])],
  });
}

/** The profile as an XML plist document (what a .mobileconfig holds before signing). */
export function toXml(profile: PlistDict): string {
  return toXmlPlist(profile);
}

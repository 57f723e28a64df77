// Public surface of the profiles module for the server and CLI. Everything here is pure except
// loadProfileSchemas (reads the vendored YAML once).
export { ProfileBuildError } from './errors.js';
export {
  buildConfigurationProfile,
  buildVpnProfile,
  profileUuid,
  toXml,
  type BuildVpnProfileInput,
  type ConfigurationProfileInput,
  type ProfileMetadata,
} from './profile.js';
export {
  ANYCONNECT_LEGACY_SUBTYPE,
  ANYCONNECT_SUBTYPE,
  APPLAYER_PAYLOAD_TYPE,
  DEVICE_VPN_PAYLOAD_TYPE,
  PROTOCOL_CUSTOM_DATA_KEYS,
  VPN_CONNECTION_TYPES,
  buildVpnPayload,
  vpnPayloadIdentity,
  vpnPayloadType,
  type VpnConfigSpec,
  type VpnConnectionType,
  type VpnPayloadContext,
} from './vpn-payload.js';
export { KNOWN_VARIABLES, substituteVariables, type DeviceVariables } from './variables.js';
export { isUuid, uuidV5 } from './uuid.js';
export { hasErrors, lintProfile, type LintFinding, type LintOptions, type LintSeverity } from './lint.js';
export { indexProfileSchemas, type PayloadSchema, type ProfileSchemaSet, type SchemaKey } from './schema.js';
export { loadProfileSchemas, VENDORED_PROFILE_SCHEMA_DIR } from './schema-loader.js';
export { ProfileReadError, readProfileBytes, type ReadProfile } from './read-profile.js';
export { SignedContentError, extractSignedContent, type SignedContent } from './signed-content.js';
export {
  DEFAULT_SPEC_NAMESPACE,
  SpecError,
  parseProfileSpec,
  profileSpecSchema,
  specToBuildInput,
  type ProfileSpec,
  type SpecIssue,
} from './spec.js';

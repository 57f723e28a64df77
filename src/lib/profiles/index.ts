// Configuration profiles, pure: VPN payload and profile builders, variable substitution,
// name-based payload UUIDs, lint against Apple's schemas (handed in by the caller) and the QA
// spec file's parser. Reading files is the profiles capability's part (src/profiles).
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
  VPN_USER_AUTHENTICATIONS,
  buildVpnPayload,
  usesCertificate,
  vpnPayloadIdentity,
  vpnPayloadType,
  type VpnConfigSpec,
  type VpnConnectionType,
  type VpnPayloadContext,
  type VpnUserAuthentication,
} from './vpn-payload.js';
export { KNOWN_VARIABLES, substituteVariables, type DeviceVariables } from './variables.js';
export { isUuid, uuidV5 } from './uuid.js';
export { hasErrors, lintProfile, type LintFinding, type LintOptions, type LintSeverity } from './lint.js';
export { indexProfileSchemas, type PayloadSchema, type ProfileSchemaSet, type SchemaKey } from './schema.js';
export {
  DEFAULT_SPEC_NAMESPACE,
  SpecError,
  parseProfileSpec,
  profileSpecSchema,
  specToBuildInput,
  type ProfileSpec,
  type SpecIssue,
} from './spec.js';
export {
  IDENTITY_METHODS,
  IdentityTemplateError,
  KEY_USAGE_BITS,
  buildPkcs12IdentityPayload,
  buildScepIdentityPayload,
  commonNameOf,
  fillIdentityTemplates,
  identityPayloadIdentity,
  keyUsageBitmask,
  parseSubjectTemplate,
  templateVariables,
  validateIdentityTemplates,
  type FilledIdentity,
  type IdentityKeyUsage,
  type IdentityMethod,
  type IdentityTemplates,
  type TemplateIssue,
} from './identity.js';

// Public API of the AnyConnect per-app VPN model (pure functions over JSON-able data).
export * from './types.js';
export { ALL_APPS, matchAppId, validateAppIdPattern } from './appid.js';
export {
  type AppQuery,
  type PermitDecision,
  PerAppValidationError,
  checkPerAppPolicy,
  isAppPermitted,
  normalizeCertificateId,
  normalizePerAppPolicy,
  parsePlatform,
} from './policy.js';
export {
  type DecodedPerAppPolicy,
  type EncodeOptions,
  PerAppDecodeError,
  decodePerAppPolicy,
  encodePerAppPolicy,
  serializePerAppPolicyXml,
} from './codec.js';
export {
  ANYCONNECT_PLATFORMS,
  DEFAULT_DAP_RECORD,
  DEFAULT_GROUP_POLICY,
  HeadEndConfigError,
  loadHeadEndConfig,
  normalizeHeadEndConfig,
  MAX_TRUSTPOINTS,
  perappSettingSchema,
  trustpointCaProblem,
  trustpointSchema,
  tunnelAuthenticationSchema,
  usernameFromCertificateSchema,
  validateHeadEndConfig,
} from './headend.js';
export { type CriterionResult, type DapEvaluation, evaluateCriterion, renderDapLua, selectDapRecords } from './dap.js';
export {
  AUTHENTICATION_REFUSALS,
  type AuthenticationRefusal,
  type AuthenticationRefusalCode,
  CERTIFICATE_DAP_PREFIX,
  ClientCertificateError,
  type ClientCertificateFacts,
  MAX_CLIENT_CERTIFICATE_PEM,
  type TrustAnchor,
  certificateDapAttributes,
  parseCrl,
  readClientCertificate,
  usernameFromCertificate,
  validateClientCertificate,
} from './certificate.js';
export { IMPLICIT_TRUSTPOINT, type MockironPki, type SessionAuthentication, authenticateSession, trustAnchors } from './authentication.js';
export {
  type LayerTrace,
  type SessionContext,
  type PerAppSource,
  type SelectedDapRecord,
  type SessionResolution,
  type TunnelMode,
  normalizeEndpointAttributes,
  resolveSession,
} from './resolve.js';
export { type DeviceFacts, type TunnelDecision, type TunnelDecisionInput, decideTunnel, endpointFromDevice } from './tunnel.js';
export {
  ASA_MAX_LINE_LENGTH,
  AsaCliParseError,
  type AsaParseReport,
  chunkCustomDataLines,
  parseAsaCli,
  parseAsaCliWithReport,
  renderAsaCli,
} from './asa-cli.js';

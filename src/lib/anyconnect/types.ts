// Plain, JSON-able data shapes for the AnyConnect per-app VPN model. Everything here can be
// sent by scripts, stored in a database column as JSON, and returned from REST routes as is.
// See ../shared/design/anyconnect-perapp.md for which parts are Cisco fact and which are ours.

export const PLATFORMS = ['iOS', 'Android'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** One allow rule of a PerApp policy (what Cisco's Application Selector calls an app rule). */
export interface PerAppRule {
  platform: Platform;
  /** Reverse-DNS app ID; `*` only as the last character; `*.*` means every app. */
  appId: string;
  friendlyName?: string;
  /** Android only: the lowest app version allowed (dotted numbers). */
  minVersion?: string;
  /** Android only: signing-certificate ID, uppercase hex (40 or 64 digits; mock format). */
  certificateId?: string;
}

/** A PerApp policy. Rules are an allow-list: an app is permitted if any rule of its platform passes. */
export interface PerAppPolicy {
  version: 1;
  rules: PerAppRule[];
}

export const COMPRESSIONS = ['zlib', 'gzip', 'raw'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * The perapp attribute of one configuration layer (group policy, DAP record, user):
 * `{policy: NAME}` binds a named policy, `'none'` explicitly means "no perapp" (full tunnel) and
 * stops inheritance, `null` is unset and lets lower layers decide.
 */
export type PerAppSetting = { policy: string } | 'none' | null;

export const CRITERION_OPERATORS = ['EQ', 'NE', 'LT', 'LE', 'GT', 'GE'] as const;
export type CriterionOperator = (typeof CRITERION_OPERATORS)[number];

/** A DAP selection criterion, e.g. `{attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios'}`. */
export interface Criterion {
  attribute: string;
  operator: CriterionOperator;
  value: string;
}

export const AAA_MODES = ['ANY', 'ALL', 'NONE'] as const;
export type AaaMode = (typeof AAA_MODES)[number];

export const DAP_ACTIONS = ['continue', 'terminate', 'quarantine'] as const;
export type DapAction = (typeof DAP_ACTIONS)[number];

export interface DapRecord {
  name: string;
  description?: string;
  /** 0..2147483647; which end wins depends on HeadEndConfig.dapOrder. */
  priority: number;
  action: DapAction;
  aaaMode: AaaMode;
  aaaCriteria: Criterion[];
  endpointCriteria: Criterion[];
  perapp: PerAppSetting;
}

export interface GroupPolicy {
  name: string;
  perapp: PerAppSetting;
}

/** ASA `tunnel-group NAME webvpn-attributes` / `authentication ...`: `aaa certificate` requires both. */
export const TUNNEL_AUTHENTICATIONS = ['aaa', 'certificate', 'aaa certificate'] as const;
export type TunnelAuthentication = (typeof TUNNEL_AUTHENTICATIONS)[number];

/**
 * Distinguished-name fields `username-from-certificate` may name (the ASA's list, as Cisco's FTD
 * API enumerates them: C, CN, DNQ, EA, GENQ, GN, I, L, N, O, OU, SER, SN, SP, T, UID, UPN).
 * `E` is accepted as a synonym of `EA` (the e-mail address).
 */
export const CERTIFICATE_NAME_FIELDS = [
  'CN',
  'E',
  'EA',
  'UPN',
  'OU',
  'O',
  'C',
  'L',
  'SP',
  'ST',
  'UID',
  'SER',
  'SN',
  'GN',
  'T',
  'I',
  'N',
  'DNQ',
  'GENQ',
] as const;
export type CertificateNameField = (typeof CERTIFICATE_NAME_FIELDS)[number];

/** `username-from-certificate PRIMARY [SECONDARY]` or `username-from-certificate use-entire-name`. */
export type UsernameFromCertificate = { primary: CertificateNameField; secondary?: CertificateNameField } | 'use-entire-name';

export interface TunnelGroup {
  name: string;
  /** ASA default when not configured: DfltGrpPolicy. */
  defaultGroupPolicy: string;
  /** ASA default: aaa. */
  authentication: TunnelAuthentication;
  /** null: the ASA default (CN, with OU as the secondary field). */
  usernameFromCertificate: UsernameFromCertificate | null;
}

/** `crypto ca trustpoint NAME` / `revocation-check ...`: `crl none` falls back to no check when the CRL cannot be had. */
export const REVOCATION_CHECKS = ['crl', 'crl none', 'none'] as const;
export type RevocationCheck = (typeof REVOCATION_CHECKS)[number];

/** A CA the head-end trusts for AnyConnect client certificates (`crypto ca trustpoint` with its CA certificate). */
export interface Trustpoint {
  name: string;
  /** PEM of the CA certificate; null means mockiron's own CA (what GET /api/v2/scep/ca serves), whose CRL mockiron publishes. */
  caCertificate: string | null;
  revocationCheck: RevocationCheck;
}

/** A named PerApp policy as the head-end holds it (`anyconnect-custom-data perapp NAME ...`). */
export interface NamedPerAppPolicy {
  name: string;
  rules: PerAppRule[];
}

/** 'asa': the higher priority number wins; 'ftd' (FTD/cdFMC): the lower number wins. */
export type DapOrder = 'asa' | 'ftd';

/** The head-end (ASA) side of the per-app VPN configuration, normalized. */
export interface HeadEndConfig {
  dapOrder: DapOrder;
  /** Description of the `perapp` custom attribute type under `webvpn`. */
  perappAttrDescription: string;
  perappPolicies: NamedPerAppPolicy[];
  groupPolicies: GroupPolicy[];
  tunnelGroups: TunnelGroup[];
  dapRecords: DapRecord[];
  /** Empty: mockiron's CA is trusted implicitly (trustpoint MOCKIRON_CA, revocation-check crl). */
  trustpoints: Trustpoint[];
}

/** A problem found in a configuration. Errors make the config unusable as intended; warnings are likely mistakes. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  /** Dotted/indexed path into the config, e.g. `dapRecords[1].perapp`. */
  path: string;
  message: string;
}

/** What the head-end knows about a connecting session. Attribute keys are full DAP names (`aaa.ldap.memberOf`, `endpoint.anyconnect.platform`). */
export interface Session {
  tunnelGroup: string;
  aaa: Record<string, string | string[]>;
  endpoint: Record<string, string>;
  /** perapp pushed as a user attribute by AAA (rare; usually unset). */
  userPerapp?: PerAppSetting;
  /** The client certificate the session presents (PEM), if any. */
  clientCertificatePem?: string;
  /** Whether AAA (the password step) succeeded; mockiron checks no passwords, so it defaults to true. */
  aaaAuthenticated?: boolean;
}

/** How the MDM bound an iOS app to a per-app VPN (iOS `Attributes.VPNUUID` on a managed app). */
export interface MdmBinding {
  managed: boolean;
  vpnUuid: string | null;
  vpnConfigName?: string;
}

export interface AppUnderTest {
  appId: string;
  version?: string;
  certificateId?: string;
}

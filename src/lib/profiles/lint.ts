import { PlistReal, isPlistDict, plistTypeOf, type PlistDict, type PlistValue } from '../plist/index.js';
import { compareVersions } from '../versions/compare.js';
import type { OsSupport, PayloadSchema, ProfileSchemaSet, SchemaKey, SupportedOS } from './schema.js';

// Validates a configuration profile (ours or anyone's) against Apple's schemas for iOS.
// Pure: the schema set comes in as an argument (src/profiles/schema-loader.ts reads Apple's YAML).

export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintFinding {
  severity: LintSeverity;
  /** Where in the profile, e.g. `PayloadContent[0].VPN.RemoteAddress`; '' for the whole profile. */
  path: string;
  message: string;
}

export interface LintOptions {
  /** Target iOS version, e.g. '9.3': keys introduced later are reported. Default: the newest. */
  iosVersion?: string;
}

const APPLAYER = 'com.apple.vpn.managed.applayer';
const DEVICE_VPN = 'com.apple.vpn.managed';

// Known gap in Apple's schema: the VPN dictionary (VPNType "VPN", i.e. NetworkExtension and
// Cisco AnyConnect providers) lacks RemoteAddress, AuthName and AuthPassword, yet those are
// the keys real AnyConnect/SSL profiles (and Apple Configurator) use for server and account.
const VPN_DICTIONARY_GAP_KEYS: SchemaKey[] = [
  { key: 'RemoteAddress', type: '<string>', presence: 'optional', content: 'Server address (schema gap, whitelisted).' },
  { key: 'AuthName', type: '<string>', presence: 'optional', content: 'Account name (schema gap, whitelisted).' },
  { key: 'AuthPassword', type: '<string>', presence: 'optional', content: 'Account password (schema gap, whitelisted).' },
];

// VendorConfig is by definition vendor-defined (AnyConnect reads e.g. Group and custom keys);
// the schema lists a few well-known keys, which are still type-checked, but others are fine.
const OPEN_DICTIONARY_KEYS = new Set(['VendorConfig']);

/** Payloads that put an identity (certificate with its private key) into the keychain, which PayloadCertificateUUID may name. */
const IDENTITY_PAYLOAD_TYPES = new Set([
  'com.apple.security.scep',
  'com.apple.security.pkcs12',
  'com.apple.security.acme',
]);

const ANY_KEY: SchemaKey = { key: 'ANY', type: '<any>', presence: 'optional' };

function withKeysPatched(keys: SchemaKey[]): SchemaKey[] {
  return keys.map((k) => {
    if (k.key === 'VPN' && k.subkeys) {
      const names = new Set(k.subkeys.map((s) => s.key));
      return { ...k, subkeys: [...k.subkeys, ...VPN_DICTIONARY_GAP_KEYS.filter((g) => !names.has(g.key))] };
    }
    if (OPEN_DICTIONARY_KEYS.has(k.key)) return { ...k, subkeys: [...(k.subkeys ?? []), ANY_KEY] };
    return k;
  });
}

/** Keys a payload of this type may carry: common keys, then the type's own (overriding by name). */
function payloadKeys(schemas: ProfileSchemaSet, payloadType: string): SchemaKey[] | undefined {
  const own = schemas.payloads.get(payloadType);
  if (!own) return undefined;
  const merged = new Map<string, SchemaKey>();
  for (const k of schemas.common.payloadkeys) merged.set(k.key, k);
  // The applayer schema only lists its additions: "the fields in this payload are the same as
  // the VPN payload, with the addition of the fields shown below".
  if (payloadType === APPLAYER) {
    for (const k of schemas.payloads.get(DEVICE_VPN)?.payloadkeys ?? []) merged.set(k.key, k);
  }
  for (const k of own.payloadkeys) merged.set(k.key, k);
  return withKeysPatched([...merged.values()]);
}

function firstDeprecationSentence(content: string | undefined): string | undefined {
  if (!content) return undefined;
  return content
    .split(/\n|(?<=\.)\s+/)
    .map((s) => s.trim())
    .find((s) => /deprecated/i.test(s) && /use /i.test(s));
}

const FORMAT_TYPES: Record<string, string> = { '<hostname>': 'string', '<url>': 'string' };

function expectedType(schemaType: string | undefined): string | undefined {
  if (!schemaType || schemaType === '<any>') return undefined;
  return FORMAT_TYPES[schemaType] ?? schemaType.replace(/^<|>$/g, '');
}

function describe(value: PlistValue): string {
  const type = plistTypeOf(value);
  if (type === 'boolean') return `<${String(value)}/>`;
  if (type === 'integer' || type === 'real' || type === 'string') {
    const text = value instanceof PlistReal ? String(value.value) : String(value);
    return `<${type}>${text.length > 40 ? `${text.slice(0, 40)}…` : text}</${type}>`;
  }
  return `<${type === 'dictionary' ? 'dict' : type}>`;
}

function scalarOf(value: PlistValue): unknown {
  return value instanceof PlistReal ? value.value : typeof value === 'bigint' ? Number(value) : value;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

class Linter {
  readonly findings: LintFinding[] = [];

  constructor(
    private readonly schemas: ProfileSchemaSet,
    private readonly options: LintOptions,
  ) {}

  report(severity: LintSeverity, path: string, message: string): void {
    this.findings.push({ severity, path, message });
  }

  /** Version findings for an explicit iOS entry (inherited entries were reported on the parent). */
  checkIos(ios: OsSupport | undefined, path: string, what: string): void {
    if (!ios) return;
    const target = this.options.iosVersion;
    if (ios.introduced === 'n/a') {
      this.report('warning', path, `${what} is not available on iOS`);
      return;
    }
    if (ios.introduced && target && compareVersions(ios.introduced, target) > 0) {
      this.report('warning', path, `${what} was introduced in iOS ${ios.introduced}; target is iOS ${target}`);
    }
    if (ios.removed && (!target || compareVersions(target, ios.removed) >= 0)) {
      this.report('warning', path, `${what} was removed in iOS ${ios.removed}`);
    } else if (ios.deprecated && (!target || compareVersions(target, ios.deprecated) >= 0)) {
      this.report('warning', path, `${what} is deprecated since iOS ${ios.deprecated}`);
    }
  }

  checkKeyVersions(schemaKey: SchemaKey, path: string): void {
    const ios = schemaKey.supportedOS?.iOS;
    const before = this.findings.length;
    this.checkIos(ios, path, schemaKey.key);
    // Let the schema's own advice ("use the 'VPNUUID' property of ... instead") ride along.
    const advice = firstDeprecationSentence(schemaKey.content);
    const added = this.findings.slice(before).find((f) => /deprecated/.test(f.message));
    if (advice && added) added.message += ` (${advice})`;
  }

  value(value: PlistValue, schemaKey: SchemaKey, path: string): void {
    const expected = expectedType(schemaKey.type);
    const actual = plistTypeOf(value);
    if (expected && expected !== actual) {
      if (expected === 'real' && actual === 'integer') {
        this.report('info', path, `${schemaKey.key} is typed <real> in Apple's schema but written as ${describe(value)}`);
      } else {
        let hint = '';
        if (expected === 'integer' && actual === 'boolean') {
          hint = `; ${schemaKey.key} is an integer (write <integer>${value === true ? 1 : 0}</integer>), not a boolean`;
        } else if (expected === 'boolean' && actual === 'integer') {
          hint = `; ${schemaKey.key} is a boolean (write <${Number(scalarOf(value)) ? 'true' : 'false'}/>), not an integer`;
        } else if (expected === 'integer' && actual === 'real') {
          hint = `; ${schemaKey.key} must be an <integer>, not a <real>`;
        }
        this.report('error', path, `expected <${expected}> but found ${describe(value)}${hint}`);
        return;
      }
    }

    if (schemaKey.rangelist && !Array.isArray(value) && !isPlistDict(value)) {
      const v = scalarOf(value);
      if (!schemaKey.rangelist.some((allowed) => allowed === v || String(allowed) === String(v))) {
        const allowed = schemaKey.rangelist.map((a) => JSON.stringify(a)).join(', ');
        this.report('error', path, `${JSON.stringify(v)} is not an allowed value for ${schemaKey.key} (allowed: ${allowed})`);
      }
    }
    if (schemaKey.range && (actual === 'integer' || actual === 'real')) {
      const n = Number(scalarOf(value));
      const { min, max } = schemaKey.range;
      if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
        this.report('error', path, `${n} is out of range for ${schemaKey.key} (${min ?? '-∞'}…${max ?? '∞'})`);
      }
    }
    if (schemaKey.format && typeof value === 'string' && !new RegExp(schemaKey.format).test(value)) {
      this.report('warning', path, `${JSON.stringify(value)} does not match the format ${schemaKey.format}`);
    }

    if (isPlistDict(value) && schemaKey.subkeys) {
      this.dict(value, schemaKey.subkeys, path);
    } else if (Array.isArray(value) && schemaKey.subkeys && schemaKey.subkeys.length > 0) {
      const item = schemaKey.subkeys[0]!;
      const { min, max } = item.repetition ?? {};
      if ((min !== undefined && value.length < min) || (max !== undefined && value.length > max)) {
        this.report('warning', path, `${schemaKey.key} has ${value.length} entries; Apple's schema allows ${min ?? 0}…${max ?? '∞'}`);
      }
      value.forEach((element, i) => this.value(element, item, `${path}[${i}]`));
    }
  }

  dict(dict: PlistDict, keys: SchemaKey[], path: string, skipKeys: ReadonlySet<string> = new Set()): void {
    const byName = new Map(keys.map((k) => [k.key, k]));
    const anyKey = byName.get('ANY');
    for (const k of keys) {
      if (k.key !== 'ANY' && k.presence === 'required' && dict[k.key] === undefined) {
        this.report('error', join(path, k.key), `missing required key ${k.key}`);
      }
    }
    for (const [name, v] of Object.entries(dict)) {
      if (v === undefined || skipKeys.has(name)) continue;
      const childPath = join(path, name);
      const schemaKey = byName.get(name);
      if (schemaKey) {
        this.checkKeyVersions(schemaKey, childPath);
        this.value(v, schemaKey, childPath);
      } else if (anyKey) {
        this.value(v, anyKey, childPath);
      } else {
        this.report('warning', childPath, `unknown key ${name} (not in Apple's schema)`);
      }
    }
  }

  payload(payload: PlistValue, path: string): void {
    if (!isPlistDict(payload)) {
      this.report('error', path, `a payload must be a dictionary, found ${describe(payload)}`);
      return;
    }
    const type = payload.PayloadType;
    const keys = typeof type === 'string' ? payloadKeys(this.schemas, type) : undefined;
    if (typeof type === 'string' && !keys) {
      this.report('warning', join(path, 'PayloadType'), `unknown payload type ${type}; only the common payload keys were checked`);
    }
    if (keys) this.checkIos(this.schemas.payloads.get(type as string)?.payload.supportedOS?.iOS, path, `payload type ${String(type)}`);
    const common = new Set(this.schemas.common.payloadkeys.map((k) => k.key));
    const skip = keys ? new Set<string>() : new Set(Object.keys(payload).filter((k) => !common.has(k)));
    this.dict(payload, keys ?? this.schemas.common.payloadkeys, path, skip);
    if (type === APPLAYER || type === DEVICE_VPN) this.vpnRules(payload, path, type);
  }

  vpnRules(payload: PlistDict, path: string, type: string): void {
    const vpnType = payload.VPNType;
    const vpnUuidPath = join(path, 'VPNUUID');
    if (type === APPLAYER && payload.VPNUUID === undefined) {
      // The schema marks VPNUUID required, so dict() has already said it is missing; say why it matters.
      const missing = this.findings.find((f) => f.path === vpnUuidPath && f.severity === 'error');
      if (missing) missing.message += '; without it no app can be routed through this per-app VPN';
      else this.report('error', vpnUuidPath, 'per-app VPN payload has no VPNUUID, so no app can be routed through it');
    }
    if ((vpnType === 'VPN' || vpnType === 'TransparentProxy') && payload.VPNSubType === undefined) {
      this.report('error', join(path, 'VPNSubType'), `VPNSubType is required when VPNType is ${vpnType}`);
    }
    if (vpnType === 'IKEv2' && typeof payload.VPNSubType === 'string' && payload.VPNSubType !== '') {
      this.report('warning', join(path, 'VPNSubType'), 'VPNSubType is reserved for IKEv2 and must be empty when present');
    }
    const dictionaryFor: Record<string, string> = { VPN: 'VPN', IKEv2: 'IKEv2', IPSec: 'IPSec', L2TP: 'PPP', AlwaysOn: 'AlwaysOn' };
    const needed = typeof vpnType === 'string' ? dictionaryFor[vpnType] : undefined;
    if (needed && !isPlistDict(payload[needed])) {
      this.report(
        vpnType === 'VPN' ? 'warning' : 'error',
        join(path, needed),
        `VPNType ${String(vpnType)} needs a ${needed} dictionary${vpnType === 'VPN' ? ' (it carries the server address)' : ''}`,
      );
    }
    for (const name of ['VPN', 'IPSec', 'IKEv2']) {
      const d = payload[name];
      if (isPlistDict(d) && d.AuthenticationMethod === 'Certificate' && d.PayloadCertificateUUID === undefined) {
        this.report('error', join(path, `${name}.PayloadCertificateUUID`), 'certificate authentication needs PayloadCertificateUUID');
      }
    }
  }

  profile(profile: PlistValue): void {
    if (!isPlistDict(profile)) {
      this.report('error', '', `a configuration profile is a dictionary, found ${describe(profile)}`);
      return;
    }
    this.dict(profile, this.schemas.topLevel.payloadkeys, '', new Set(['PayloadContent']));
    const content = profile.PayloadContent;
    if (content !== undefined && !Array.isArray(content)) {
      this.report('error', 'PayloadContent', `expected <array> but found ${describe(content)}`);
    } else if (Array.isArray(content)) {
      content.forEach((p, i) => this.payload(p, `PayloadContent[${i}]`));
      this.crossPayloadRules(profile, content);
    }
  }

  crossPayloadRules(profile: PlistDict, content: PlistValue[]): void {
    const entries: Array<{ dict: PlistDict; path: string }> = [{ dict: profile, path: '' }];
    content.forEach((p, i) => {
      if (isPlistDict(p)) entries.push({ dict: p, path: `PayloadContent[${i}]` });
    });
    for (const key of ['PayloadUUID', 'PayloadIdentifier', 'VPNUUID']) {
      const firstSeen = new Map<string, string>();
      for (const { dict, path } of entries) {
        const v = dict[key];
        if (typeof v !== 'string') continue;
        // UUIDs compare case-insensitively; identifiers are case-sensitive strings.
        const norm = key === 'PayloadIdentifier' ? v : v.toUpperCase();
        const other = firstSeen.get(norm);
        if (other !== undefined) {
          this.report('error', join(path, key), `duplicate ${key} ${v} (also at ${join(other, key)})`);
        } else {
          firstSeen.set(norm, path);
        }
      }
    }
    const payloadTypes = new Map(
      entries
        .slice(1)
        .flatMap(({ dict }) => (typeof dict.PayloadUUID === 'string' ? [[dict.PayloadUUID.toUpperCase(), dict.PayloadType] as const] : [])),
    );
    const visit = (value: PlistValue | undefined, path: string): void => {
      if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
      else if (isPlistDict(value)) {
        for (const [k, v] of Object.entries(value)) {
          const childPath = join(path, k);
          if (k === 'PayloadCertificateUUID' && typeof v === 'string') {
            // iOS looks the identity up in the same profile. A dangling UUID is a warning (a QA spec may
            // name an identity delivered with it later); naming a payload that holds no identity is an error.
            const named = payloadTypes.get(v.toUpperCase());
            if (!payloadTypes.has(v.toUpperCase())) {
              this.report('warning', childPath, `PayloadCertificateUUID ${v} names no payload in this profile`);
            } else if (typeof named !== 'string' || !IDENTITY_PAYLOAD_TYPES.has(named)) {
              this.report('error', childPath, `PayloadCertificateUUID ${v} names a ${String(named)} payload, not a certificate identity`);
            }
          } else visit(v, childPath);
        }
      }
    };
    content.forEach((p, i) => visit(p, `PayloadContent[${i}]`));
  }
}

/** Lints a parsed profile. Findings come in document order; errors mean iOS would likely refuse or misread it. */
export function lintProfile(profile: PlistValue, schemas: ProfileSchemaSet, options: LintOptions = {}): LintFinding[] {
  const linter = new Linter(schemas, options);
  linter.profile(profile);
  return linter.findings;
}

export function hasErrors(findings: readonly LintFinding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

export type { PayloadSchema, SupportedOS };

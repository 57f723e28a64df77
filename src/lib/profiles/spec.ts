import { LineCounter, isMap, isScalar, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import type { BuildVpnProfileInput } from './profile.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { uuidV5 } from './uuid.js';
import { VPN_CONNECTION_TYPES, VPN_USER_AUTHENTICATIONS, usesCertificate, type VpnConfigSpec } from './vpn-payload.js';

// The QA spec file (YAML or JSON — JSON is parsed as YAML so both get line numbers): profile
// metadata, VPN configurations in the REST API's shape, and the apps that use them.
// Pure: takes text and a file name for messages, returns a validated spec or throws SpecError.

/** Used when a spec names no namespace. Fixed so example builds are reproducible anywhere. */
export const DEFAULT_SPEC_NAMESPACE = '6f2e5f0c-5a3b-4c1e-9d3a-7b1f2c4d5e6f';

/**
 * The namespace of derived vpnUuids: UUIDv5 of the DNS name `vpnuuid.mockiron.invalid` in RFC 9562's
 * DNS namespace (6ba7b810-9dad-11d1-80b4-00c04fd430c8), so anyone can recompute it (Python:
 * `uuid.uuid5(uuid.NAMESPACE_DNS, 'vpnuuid.mockiron.invalid')`).
 */
export const VPN_UUID_NAMESPACE = 'cbc5ce48-fdd7-5f79-8f9e-c9faab1572e8';

/**
 * The VPNUUID of a configuration whose spec gives none: UUIDv5 of `<profile identifier>/<configuration
 * name>` in VPN_UUID_NAMESPACE, upper case. It does not depend on the spec's PayloadUUID namespace,
 * so --namespace never moves an app's binding. (A reverse-DNS identifier holds no '/', so the name is unambiguous.)
 */
export function derivedVpnUuid(profileIdentifier: string, configurationName: string): string {
  return uuidV5(VPN_UUID_NAMESPACE, `${profileIdentifier}/${configurationName}`).toUpperCase();
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}\\.?$`);
const SERVER = new RegExp(`^(?:(?:${LABEL}\\.)*${LABEL}|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?(?:/\\S*)?$`);
const REVERSE_DNS = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

const uuid = (what: string) => z.string().regex(UUID, `${what} must be a UUID (8-4-4-4-12 hex digits)`);
const domainList = z
  .array(z.string().regex(DOMAIN, 'must be a domain name such as intranet.example.com (optionally *.example.com)'))
  .default([]);
const nonEmpty = z.string().trim().min(1, 'must not be empty');

const vpnConfigurationSchema = z
  .strictObject({
    id: z.number().int().optional(),
    name: nonEmpty,
    description: z.string().optional(),
    connectionType: z.enum(VPN_CONNECTION_TYPES as [VpnConfigSpec['connectionType'], ...VpnConfigSpec['connectionType'][]]),
    providerBundleId: z.string().regex(REVERSE_DNS, 'must be a bundle identifier such as com.example.vpn').nullish(),
    server: z.string().regex(SERVER, 'must be a host name or IP address, optionally with :port and /path'),
    group: z.string().nullish(),
    perApp: z.boolean().default(true),
    onDemandMatchAppEnabled: z.boolean().default(true),
    safariDomains: domainList,
    associatedDomains: domainList,
    excludedDomains: domainList,
    smbDomains: domainList,
    mailDomains: domainList,
    calendarDomains: domainList,
    contactsDomains: domainList,
    userAuthentication: z.enum(VPN_USER_AUTHENTICATIONS).default('PASSWORD'),
    username: z.string().nullish(),
    password: z.string().nullish(),
    providerType: z.enum(['packet-tunnel', 'app-proxy']).nullish(),
    customData: z.record(z.string(), z.string()).default({}),
    /** Derived from the profile identifier and the name when absent (derivedVpnUuid). */
    vpnUuid: uuid('vpnUuid').optional(),
  })
  .superRefine((c, ctx) => {
    if (c.connectionType === 'CUSTOM_SSL' && !c.providerBundleId) {
      ctx.addIssue({ code: 'custom', path: ['providerBundleId'], message: 'is required when connectionType is CUSTOM_SSL' });
    }
  });

const appSchema = z.strictObject({
  bundleId: z.string().regex(REVERSE_DNS, 'must be a bundle identifier such as com.google.chrome.ios'),
  name: z.string().optional(),
  /** Name of the VPN configuration this app's traffic uses (its VPNUUID mapping). */
  vpnConfiguration: z.string(),
});

export const profileSpecSchema = z
  .strictObject({
    namespace: uuid('namespace').default(DEFAULT_SPEC_NAMESPACE),
    profile: z.strictObject({
      identifier: z.string().regex(REVERSE_DNS, 'must be a reverse-DNS identifier such as com.example.vpn'),
      displayName: nonEmpty,
      description: z.string().optional(),
      organization: z.string().optional(),
      removalDisallowed: z.boolean().optional(),
    }),
    certificatePayloadUuid: uuid('certificatePayloadUuid').optional(),
    vpnConfigurations: z.array(vpnConfigurationSchema).min(1, 'must list at least one VPN configuration'),
    apps: z.array(appSchema).default([]),
    /** A test matrix: one profile per connection type × authentication, linted for each iOS version (matrix.ts). */
    matrix: z
      .strictObject({
        connectionType: z
          .array(z.enum(VPN_CONNECTION_TYPES as [VpnConfigSpec['connectionType'], ...VpnConfigSpec['connectionType'][]]))
          .min(1)
          .max(VPN_CONNECTION_TYPES.length)
          .optional(),
        userAuthentication: z.array(z.enum(VPN_USER_AUTHENTICATIONS)).min(1).max(3).optional(),
        ios: z
          .array(z.string().regex(/^\d{1,2}(?:\.\d{1,2}){0,2}$/, 'must be an iOS version such as 9.3 or 17.4'))
          .min(1)
          .max(20)
          .default([]),
      })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    const names = new Map<string, number>();
    const uuids = new Map<string, number>();
    spec.vpnConfigurations.forEach((c, i) => {
      if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['vpnConfigurations', i, 'name'], message: `duplicate name "${c.name}"` });
      names.set(c.name, i);
      const vpnUuid = c.vpnUuid ?? derivedVpnUuid(spec.profile.identifier, c.name);
      const u = vpnUuid.toLowerCase();
      if (uuids.has(u)) ctx.addIssue({ code: 'custom', path: ['vpnConfigurations', i, 'vpnUuid'], message: `duplicate vpnUuid ${vpnUuid}` });
      uuids.set(u, i);
      if (usesCertificate(c) && !spec.certificatePayloadUuid) {
        ctx.addIssue({
          code: 'custom',
          path: ['vpnConfigurations', i, 'userAuthentication'],
          message: `${c.userAuthentication} needs certificatePayloadUuid at the top of the spec`,
        });
      }
    });
    spec.apps.forEach((a, i) => {
      if (!names.has(a.vpnConfiguration)) {
        ctx.addIssue({
          code: 'custom',
          path: ['apps', i, 'vpnConfiguration'],
          message: `names no VPN configuration in this spec ("${a.vpnConfiguration}")`,
        });
      }
    });
  })
  .transform((spec) => ({
    ...spec,
    vpnConfigurations: spec.vpnConfigurations.map((c) => ({ ...c, vpnUuid: c.vpnUuid ?? derivedVpnUuid(spec.profile.identifier, c.name) })),
  }));

export type ProfileSpec = z.output<typeof profileSpecSchema>;

export interface SpecIssue {
  /** Key path such as `vpnConfigurations[0].server`; '' for the document. */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly issues: SpecIssue[],
  ) {
    super(issues.map((i) => formatIssue(file, i)).join('\n'));
    this.name = 'SpecError';
  }
}

export function formatIssue(file: string, issue: SpecIssue): string {
  const where = issue.line !== undefined ? `${file}:${issue.line}:${issue.column ?? 1}` : file;
  return `${where}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** Parses and validates spec text. `file` only names the source in messages. */
export function parseProfileSpec(text: string, file: string): ProfileSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): Pick<SpecIssue, 'line' | 'column'> => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // JSON first in JSON's own words: as YAML, `{"a": 1,}` is an error about flow collections
  if (/\.json$/i.test(file)) {
    try {
      JSON.parse(text);
    } catch {
      const found = findJsonSyntaxError(text) ?? { offset: 0, message: 'not valid JSON' };
      const before = text.slice(0, found.offset);
      const line = before.split('\n').length;
      const column = found.offset - (before.lastIndexOf('\n') + 1) + 1;
      throw new SpecError(file, [{ path: '', line, column, message: `JSON syntax error: ${found.message}` }]);
    }
  }
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => ({ path: '', ...at(e.pos[0]), message: `not valid YAML/JSON: ${e.message.split('\n')[0]}` })),
    );
  }
  const data: unknown = doc.toJS();
  const result = profileSpecSchema.safeParse(data);
  if (result.success) return result.data;

  const issues = result.error.issues.map((issue): SpecIssue => {
    const path = issue.path as PropertyKey[];
    let node = doc.getIn(path as unknown[], true) as YamlNode | undefined;
    let keyPath = path;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      const parent = path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === keys[0]);
        if (pair && isScalar(pair.key)) node = pair.key;
      }
      keyPath = [...path, keys[0] ?? ''];
      message = `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''}`;
    } else if (issue.code === 'invalid_type' && !doc.hasIn(path as unknown[])) {
      message = `is required (${issue.expected})`;
    }
    // A missing key has no position: point at the enclosing object, the closest thing that exists.
    for (let n = path.length - 1; n >= 0 && node === undefined; n--) node = doc.getIn(path.slice(0, n) as unknown[], true) as YamlNode | undefined;
    if (node === undefined && doc.contents) node = doc.contents as YamlNode;
    return { path: formatPath(keyPath), ...at(node?.range?.[0]), message };
  });
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  throw new SpecError(file, issues);
}

/** The builder input a spec describes. */
export function specToBuildInput(spec: ProfileSpec): BuildVpnProfileInput {
  return {
    profile: spec.profile,
    namespace: spec.namespace,
    certificatePayloadUuid: spec.certificatePayloadUuid,
    vpnConfigs: spec.vpnConfigurations.map((c) => ({ ...c }) as VpnConfigSpec),
  };
}

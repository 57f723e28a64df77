// The head-end (ASA) configuration model: input schema, normalization and cross-reference checks.
import { z } from 'zod';
import { PerAppDecodeError, decodePerAppPolicy } from './codec.js';
import { type PathIssue, formatPath, zodIssues } from './issues.js';
import { checkPerAppPolicy } from './policy.js';
import { X509Certificate } from 'node:crypto';
import { MAX_CLIENT_CERTIFICATE_PEM } from './certificate.js';
import {
  AAA_MODES,
  CERTIFICATE_NAME_FIELDS,
  CRITERION_OPERATORS,
  REVOCATION_CHECKS,
  TUNNEL_AUTHENTICATIONS,
  type CertificateNameField,
  type UsernameFromCertificate,
  type ConfigIssue,
  type Criterion,
  DAP_ACTIONS,
  type HeadEndConfig,
  type NamedPerAppPolicy,
  type PerAppSetting,
} from './types.js';

/** ASA object names: no spaces, so they survive the CLI unquoted. The 64 limit is a mock choice. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_DAP_PRIORITY = 2147483647;
/** Always exists on an ASA; a tunnel group without default-group-policy uses it. */
export const DEFAULT_GROUP_POLICY = 'DfltGrpPolicy';
/** Always the last DAP record; selected only when no other record matches. */
export const DEFAULT_DAP_RECORD = 'DfltAccessPolicy';
export const DEFAULT_PERAPP_DESCRIPTION = 'Per-App Allow';

/** DAP attributes compared as dotted versions (EVAL type "version"); all others compare as case-sensitive strings. */
export const VERSION_ATTRIBUTES: ReadonlySet<string> = new Set([
  'endpoint.anyconnect.platformversion',
  'endpoint.anyconnect.clientversion',
]);
/** Values AnyConnect sends in endpoint.anyconnect.platform (openconnect's --os list). */
export const ANYCONNECT_PLATFORMS = ['apple-ios', 'android', 'win', 'mac-intel', 'linux', 'linux-64'] as const;

export function isVersionAttribute(attribute: string): boolean {
  return VERSION_ATTRIBUTES.has(attribute);
}

const nameSchema = (what: string) =>
  z.string({ error: `${what} must be a string` }).regex(NAME_PATTERN, {
    error: `${what} must be 1-64 characters of letters, digits, '_', '.' or '-' (no spaces)`,
  });

export const perappSettingSchema = z.union([z.null(), z.literal('none'), z.strictObject({ policy: nameSchema('perapp.policy') })], {
  error: `perapp must be {policy: NAME}, "none" or null (unset)`,
});

/**
 * DAP attribute names: dotted words, with Lua-style indexes for tables such as
 * `endpoint.certificate.user["0"].subject_cn`.
 */
export const DAP_ATTRIBUTE_PATTERN = /^(aaa|endpoint)\.[A-Za-z0-9_.-]+(?:\["[A-Za-z0-9_.-]{1,64}"\][A-Za-z0-9_.-]*)*$/;

const criterionSchema = z.strictObject({
  attribute: z.string().max(200, { error: 'attribute must be at most 200 characters' }).regex(DAP_ATTRIBUTE_PATTERN, {
    error:
      "attribute must be a DAP attribute name such as 'endpoint.anyconnect.platform', 'aaa.ldap.memberOf' or 'endpoint.certificate.user[\"0\"].subject_cn'",
  }),
  operator: z.enum(CRITERION_OPERATORS, { error: `operator must be one of ${CRITERION_OPERATORS.join(', ')}` }),
  value: z
    .string({ error: 'value must be a string; quote it in YAML ("9.3" would otherwise become a number)' })
    .refine((v) => !/[\r\n]/.test(v), { error: 'value must be a single line' }),
});

const noQuotes = (what: string) =>
  z.string().refine((v) => !/["\r\n]/.test(v), { error: `${what} must be one line without double quotes` });

const dapRecordSchema = z.strictObject({
  name: nameSchema('DAP record name'),
  description: noQuotes('description').optional(),
  priority: z
    .number({ error: 'priority must be a number' })
    .int({ error: 'priority must be an integer' })
    .min(0, { error: 'priority must be at least 0' })
    .max(MAX_DAP_PRIORITY, { error: `priority must be at most ${MAX_DAP_PRIORITY}` })
    .default(0),
  action: z.enum(DAP_ACTIONS, { error: `action must be one of ${DAP_ACTIONS.join(', ')}` }).default('continue'),
  aaaMode: z.enum(AAA_MODES, { error: `aaaMode must be one of ${AAA_MODES.join(', ')}` }).default('ANY'),
  aaaCriteria: z.array(criterionSchema).default([]),
  endpointCriteria: z.array(criterionSchema).default([]),
  perapp: perappSettingSchema.default(null),
});

const policyEntrySchema = z.strictObject({
  name: nameSchema('policy name'),
  rules: z.array(z.unknown()).optional(),
  /** A blob made by `mockiron perapp encode`, instead of rules. */
  blob: z.string().optional(),
});

const nameFieldSchema = z.enum(CERTIFICATE_NAME_FIELDS, {
  error: `a certificate field must be one of ${CERTIFICATE_NAME_FIELDS.join(', ')}`,
});

/** `use-entire-name`, `{primary, secondary?}`, or the ASA's own spelling as one string: `CN` or `CN OU`. */
export const usernameFromCertificateSchema = z.union(
  [
    z.null(),
    z.literal('use-entire-name'),
    z.strictObject({ primary: nameFieldSchema, secondary: nameFieldSchema.optional() }),
    z
      .string()
      .max(20)
      .regex(new RegExp(`^(${CERTIFICATE_NAME_FIELDS.join('|')})( (${CERTIFICATE_NAME_FIELDS.join('|')}))?$`))
      .transform((text): UsernameFromCertificate => {
        const [primary, secondary] = text.split(' ') as [CertificateNameField, CertificateNameField?];
        return secondary ? { primary, secondary } : { primary };
      }),
  ],
  {
    error: `usernameFromCertificate must be "use-entire-name", {primary: FIELD, secondary?: FIELD}, "FIELD" or "FIELD FIELD" (fields: ${CERTIFICATE_NAME_FIELDS.join(', ')}), or null for the ASA default (CN, then OU)`,
  },
);

export const tunnelAuthenticationSchema = z.enum(TUNNEL_AUTHENTICATIONS, {
  error: `authentication must be one of ${TUNNEL_AUTHENTICATIONS.map((a) => `'${a}'`).join(', ')}`,
});

export const MAX_TRUSTPOINTS = 16;

export const trustpointSchema = z.strictObject({
  name: nameSchema('trustpoint name'),
  caCertificate: z
    .string()
    .max(MAX_CLIENT_CERTIFICATE_PEM, { error: `caCertificate must be at most ${MAX_CLIENT_CERTIFICATE_PEM} characters of PEM` })
    .nullable()
    .default(null)
    .describe("PEM of the CA certificate; null = mockiron's own CA"),
  revocationCheck: z
    .enum(REVOCATION_CHECKS, { error: `revocationCheck must be one of ${REVOCATION_CHECKS.map((r) => `'${r}'`).join(', ')}` })
    .default('crl'),
});

const headEndInputSchema = z.strictObject({
  dapOrder: z.enum(['asa', 'ftd'], { error: "dapOrder must be 'asa' (higher priority number wins) or 'ftd' (lower wins)" }).default('asa'),
  perappAttrDescription: noQuotes('perappAttrDescription').default(DEFAULT_PERAPP_DESCRIPTION),
  perappPolicies: z.array(policyEntrySchema).default([]),
  groupPolicies: z.array(z.strictObject({ name: nameSchema('group policy name'), perapp: perappSettingSchema.default(null) })).default([]),
  tunnelGroups: z
    .array(
      z.strictObject({
        name: nameSchema('tunnel group name'),
        defaultGroupPolicy: nameSchema('defaultGroupPolicy').default(DEFAULT_GROUP_POLICY),
        authentication: tunnelAuthenticationSchema.default('aaa'),
        usernameFromCertificate: usernameFromCertificateSchema.default(null),
      }),
    )
    .default([]),
  dapRecords: z.array(dapRecordSchema).default([]),
  trustpoints: z
    .array(trustpointSchema)
    .max(MAX_TRUSTPOINTS, { error: `at most ${MAX_TRUSTPOINTS} trustpoints` })
    .default([]),
});

export class HeadEndConfigError extends Error {
  constructor(readonly issues: PathIssue[]) {
    super(`invalid head-end config:\n${issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n')}`);
    this.name = 'HeadEndConfigError';
  }
}

/**
 * Turns input (YAML/JSON data) into a normalized HeadEndConfig, filling defaults and decoding
 * policies given as blobs. Throws HeadEndConfigError for shape errors. Cross-references are
 * checked separately by validateHeadEndConfig, because a config with a dangling reference is
 * still meaningful: the resolver fails closed on it.
 */
export function normalizeHeadEndConfig(input: unknown): HeadEndConfig {
  const parsed = headEndInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new HeadEndConfigError(zodIssues(parsed.error));
  const data = parsed.data;
  const issues: PathIssue[] = [];
  const perappPolicies: NamedPerAppPolicy[] = [];
  data.perappPolicies.forEach((entry, i) => {
    const path = ['perappPolicies', i];
    if ((entry.rules === undefined) === (entry.blob === undefined)) {
      issues.push({ path, message: `policy '${entry.name}' needs exactly one of 'rules' or 'blob'` });
      return;
    }
    if (entry.blob !== undefined) {
      try {
        perappPolicies.push({ name: entry.name, rules: decodePerAppPolicy(entry.blob).policy.rules });
      } catch (err) {
        if (!(err instanceof PerAppDecodeError)) throw err;
        issues.push({ path: [...path, 'blob'], message: `policy '${entry.name}': ${err.message}` });
      }
      return;
    }
    const checked = checkPerAppPolicy({ rules: entry.rules });
    if (checked.ok) perappPolicies.push({ name: entry.name, rules: checked.policy.rules });
    else
      issues.push(
        ...checked.issues.map((issue) => ({ path: [...path, ...issue.path], message: `policy '${entry.name}': ${issue.message}` })),
      );
  });
  if (issues.length > 0) throw new HeadEndConfigError(issues);
  return {
    dapOrder: data.dapOrder,
    perappAttrDescription: data.perappAttrDescription.trim(),
    perappPolicies,
    groupPolicies: data.groupPolicies.map((g) => ({ name: g.name, perapp: g.perapp })),
    tunnelGroups: data.tunnelGroups.map((t) => ({
      name: t.name,
      defaultGroupPolicy: t.defaultGroupPolicy,
      authentication: t.authentication,
      usernameFromCertificate: t.usernameFromCertificate,
    })),
    trustpoints: data.trustpoints.map((tp) => ({
      name: tp.name,
      caCertificate: tp.caCertificate === null ? null : tp.caCertificate.trim() + '\n',
      revocationCheck: tp.revocationCheck,
    })),
    dapRecords: data.dapRecords.map((r) => ({
      name: r.name,
      ...(r.description !== undefined && r.description.trim() !== '' ? { description: r.description.trim() } : {}),
      priority: r.priority,
      action: r.action,
      aaaMode: r.aaaMode,
      aaaCriteria: r.aaaCriteria,
      endpointCriteria: r.endpointCriteria,
      perapp: r.perapp,
    })),
  };
}

function checkCriterion(c: Criterion, kind: 'aaa' | 'endpoint', path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!c.attribute.startsWith(`${kind}.`)) {
    issues.push({ severity: 'error', path, message: `${kind}Criteria may only use ${kind}.* attributes, got '${c.attribute}'` });
  }
  if (!['EQ', 'NE'].includes(c.operator) && !isVersionAttribute(c.attribute)) {
    issues.push({
      severity: 'error',
      path,
      message: `operator ${c.operator} orders values, which only makes sense for version attributes (${[...VERSION_ATTRIBUTES].join(', ')}); '${c.attribute}' is compared as a string, use EQ or NE`,
    });
  }
  if (isVersionAttribute(c.attribute) && !/^\d+(\.\d+)*$/.test(c.value.trim())) {
    issues.push({
      severity: 'warning',
      path,
      message: `'${c.value}' is not a dotted version number; it will compare oddly against '${c.attribute}'`,
    });
  }
  if (c.attribute === 'endpoint.anyconnect.platform' && !(ANYCONNECT_PLATFORMS as readonly string[]).includes(c.value)) {
    issues.push({
      severity: 'warning',
      path,
      message: `AnyConnect never reports platform '${c.value}' (it sends one of ${ANYCONNECT_PLATFORMS.join(', ')}), so this criterion cannot match as EQ`,
    });
  }
  return issues;
}

/** Cross-reference and plausibility checks. Errors: duplicates, unknown references. Warnings: likely mistakes. */
export function validateHeadEndConfig(config: HeadEndConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const duplicates = (items: Array<{ name: string }>, key: string, what: string): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.name))
        issues.push({ severity: 'error', path: `${key}[${i}].name`, message: `${what} '${item.name}' is defined twice` });
      seen.add(item.name);
    });
  };
  duplicates(config.perappPolicies, 'perappPolicies', 'PerApp policy');
  duplicates(config.groupPolicies, 'groupPolicies', 'group policy');
  duplicates(config.tunnelGroups, 'tunnelGroups', 'tunnel group');
  duplicates(config.dapRecords, 'dapRecords', 'DAP record');
  duplicates(config.trustpoints, 'trustpoints', 'trustpoint');
  config.trustpoints.forEach((tp, i) => {
    const problem = trustpointCaProblem(tp.caCertificate);
    if (problem)
      issues.push({ severity: 'error', path: `trustpoints[${i}].caCertificate`, message: `trustpoint '${tp.name}': ${problem}` });
  });

  const policyNames = new Set(config.perappPolicies.map((p) => p.name));
  const groupPolicyNames = new Set([DEFAULT_GROUP_POLICY, ...config.groupPolicies.map((g) => g.name)]);
  const checkSetting = (setting: PerAppSetting, path: string, owner: string): void => {
    if (setting !== null && setting !== 'none' && !policyNames.has(setting.policy)) {
      issues.push({
        severity: 'error',
        path,
        message: `${owner} references PerApp policy '${setting.policy}', which is not defined (sessions that resolve to it are terminated)`,
      });
    }
  };
  config.groupPolicies.forEach((g, i) => checkSetting(g.perapp, `groupPolicies[${i}].perapp`, `group policy '${g.name}'`));
  config.tunnelGroups.forEach((t, i) => {
    if (t.authentication === 'aaa' && t.usernameFromCertificate !== null) {
      issues.push({
        severity: 'warning',
        path: `tunnelGroups[${i}].usernameFromCertificate`,
        message: `tunnel group '${t.name}' authenticates with aaa only, so no certificate gives it a username`,
      });
    }
    if (!groupPolicyNames.has(t.defaultGroupPolicy)) {
      issues.push({
        severity: 'error',
        path: `tunnelGroups[${i}].defaultGroupPolicy`,
        message: `tunnel group '${t.name}' uses group policy '${t.defaultGroupPolicy}', which is not defined`,
      });
    }
  });
  config.dapRecords.forEach((r, i) => {
    checkSetting(r.perapp, `dapRecords[${i}].perapp`, `DAP record '${r.name}'`);
    r.aaaCriteria.forEach((c, j) => issues.push(...checkCriterion(c, 'aaa', `dapRecords[${i}].aaaCriteria[${j}]`)));
    r.endpointCriteria.forEach((c, j) => issues.push(...checkCriterion(c, 'endpoint', `dapRecords[${i}].endpointCriteria[${j}]`)));
    if (r.name === DEFAULT_DAP_RECORD && (r.aaaCriteria.length > 0 || r.endpointCriteria.length > 0)) {
      issues.push({
        severity: 'warning',
        path: `dapRecords[${i}]`,
        message: `${DEFAULT_DAP_RECORD} has no selection criteria on an ASA; the criteria given are ignored`,
      });
    }
  });
  return issues;
}

/** What is wrong with a trustpoint's CA certificate (null: nothing; a null certificate is mockiron's CA). */
export function trustpointCaProblem(pem: string | null): string | null {
  if (pem === null) return null;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) return 'caCertificate must be exactly one PEM certificate';
  try {
    const ca = new X509Certificate(blocks[0]!);
    return ca.ca ? null : `'${ca.subject.replace(/\n/g, ',')}' is not a CA certificate (basicConstraints CA:FALSE or missing)`;
  } catch {
    return 'caCertificate is not a readable X.509 certificate';
  }
}

/** normalize + validate in one call. */
export function loadHeadEndConfig(input: unknown): { config: HeadEndConfig; issues: ConfigIssue[] } {
  const config = normalizeHeadEndConfig(input);
  return { config, issues: validateHeadEndConfig(config) };
}

export function describeSetting(setting: PerAppSetting): string {
  if (setting === null) return 'unset';
  if (setting === 'none') return "'none'";
  return `policy '${setting.policy}'`;
}

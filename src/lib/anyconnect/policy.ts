// PerApp policy validation, normalization and the allow-list check (design note 5.3 and 5.5).
import { z } from 'zod';
import { compareVersions } from '../versions/compare.js';
import { matchAppId, patternSpecificity, validateAppIdPattern } from './appid.js';
import { type IssuePath, type PathIssue, describeType, formatPath, zodIssues } from './issues.js';
import { PLATFORMS, type PerAppPolicy, type PerAppRule, type Platform } from './types.js';

const MIN_VERSION = /^\d+(\.\d+){0,3}$/;
const CERTIFICATE_ID = /^([0-9A-F]{40}|[0-9A-F]{64})$/;
const MAX_FRIENDLY_NAME = 256;
// Control characters cannot survive the XML serialisation, and make no sense in a label.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export class PerAppValidationError extends Error {
  constructor(readonly issues: PathIssue[]) {
    super(`invalid PerApp policy:\n${issues.map((i) => `  - ${formatPath(i.path)}: ${i.message}`).join('\n')}`);
    this.name = 'PerAppValidationError';
  }
}

/** Accepts 'iOS', 'ios', 'Android', 'ANDROID', ...; returns undefined for anything else. */
export function parsePlatform(text: string): Platform | undefined {
  return PLATFORMS.find((p) => p.toLowerCase() === text.trim().toLowerCase());
}

/** Strips the colons people paste from fingerprint displays and uppercases. */
export function normalizeCertificateId(text: string): string {
  return text.trim().replace(/:/g, '').toUpperCase();
}

const ruleInputSchema = z.strictObject({
  platform: z.string({ error: "platform is required ('iOS' or 'Android')" }),
  appId: z.string({ error: 'appId is required and must be a string' }),
  friendlyName: z.string().optional(),
  // Checked by hand below, so that an unquoted YAML number gets a hint instead of a type error.
  minVersion: z.unknown().optional(),
  certificateId: z.string().optional(),
});

const policyObjectSchema = z.strictObject({
  version: z.literal(1, { error: 'version must be 1 (the only mock format version)' }).optional(),
  rules: z.array(z.unknown(), { error: 'rules must be a list' }),
});

/**
 * Validates a policy given as `{version?: 1, rules: [...]}` or as a bare rules list. Returns every
 * problem found; each message names the rule index and, when known, the rule's platform and appId.
 */
export function checkPerAppPolicy(input: unknown): { ok: true; policy: PerAppPolicy } | { ok: false; issues: PathIssue[] } {
  let rawRules: unknown[];
  if (Array.isArray(input)) {
    rawRules = input;
  } else {
    const top = policyObjectSchema.safeParse(input);
    if (!top.success) {
      if (input === null || typeof input !== 'object') {
        return {
          ok: false,
          issues: [{ path: [], message: `a PerApp policy must be a mapping with 'rules' or a list of rules, got ${describeType(input)}` }],
        };
      }
      return { ok: false, issues: zodIssues(top.error) };
    }
    rawRules = top.data.rules;
  }

  const issues: PathIssue[] = [];
  const rules: PerAppRule[] = [];
  const seen = new Map<string, number>();
  rawRules.forEach((raw, index) => {
    const path: IssuePath = ['rules', index];
    const parsed = ruleInputSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, path));
      return;
    }
    const r = parsed.data;
    const label = (msg: string): string => `${msg} (rule: ${r.platform} '${r.appId}')`;
    const ruleIssues: PathIssue[] = [];
    const platform = parsePlatform(r.platform);
    if (!platform) ruleIssues.push({ path: [...path, 'platform'], message: `platform must be 'iOS' or 'Android', got '${r.platform}'` });
    const appIdCheck = validateAppIdPattern(r.appId);
    if (!appIdCheck.ok) ruleIssues.push({ path: [...path, 'appId'], message: label(appIdCheck.message) });

    const rule: PerAppRule = { platform: platform ?? 'iOS', appId: appIdCheck.ok ? appIdCheck.appId : r.appId };
    if (r.friendlyName !== undefined) {
      const name = r.friendlyName.trim();
      if (CONTROL_CHARS.test(name) || name.length > MAX_FRIENDLY_NAME) {
        ruleIssues.push({
          path: [...path, 'friendlyName'],
          message: label(`friendlyName must be at most ${MAX_FRIENDLY_NAME} characters without control characters`),
        });
      } else if (name !== '') {
        rule.friendlyName = name;
      }
    }
    if (r.minVersion !== undefined) {
      if (typeof r.minVersion !== 'string') {
        ruleIssues.push({
          path: [...path, 'minVersion'],
          message: label(`minVersion must be a string; quote it (YAML reads 4.10 as the number 4.1), got ${describeType(r.minVersion)}`),
        });
      } else if (!MIN_VERSION.test(r.minVersion.trim())) {
        ruleIssues.push({
          path: [...path, 'minVersion'],
          message: label(`minVersion '${r.minVersion}' must be 1 to 4 dot-separated numbers, e.g. '4.0.1'`),
        });
      } else {
        rule.minVersion = r.minVersion.trim();
      }
      if (platform === 'iOS')
        ruleIssues.push({ path: [...path, 'minVersion'], message: label('minVersion is Android-only; iOS rules carry only the app ID') });
    }
    if (r.certificateId !== undefined) {
      const id = normalizeCertificateId(r.certificateId);
      if (!CERTIFICATE_ID.test(id)) {
        ruleIssues.push({
          path: [...path, 'certificateId'],
          message: label('certificateId must be 40 or 64 hex digits (SHA-1 or SHA-256 of the signing certificate; colons allowed)'),
        });
      } else {
        rule.certificateId = id;
      }
      if (platform === 'iOS')
        ruleIssues.push({
          path: [...path, 'certificateId'],
          message: label('certificateId is Android-only; iOS rules carry only the app ID'),
        });
    }
    if (ruleIssues.length === 0 && platform) {
      const key = `${platform}\u0000${rule.appId}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ruleIssues.push({
          path: [...path, 'appId'],
          message: label(`duplicates rules[${first}]; each (platform, appId) pair may appear once`),
        });
      } else {
        seen.set(key, index);
      }
    }
    issues.push(...ruleIssues);
    if (ruleIssues.length === 0) rules.push(rule);
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, policy: { version: 1, rules: canonicalRuleOrder(rules) } };
}

/** Validates and normalizes; throws PerAppValidationError listing every bad rule. */
export function normalizePerAppPolicy(input: unknown): PerAppPolicy {
  const result = checkPerAppPolicy(input);
  if (!result.ok) throw new PerAppValidationError(result.issues);
  return result.policy;
}

/** iOS rules first, then Android, input order kept within a platform: the order the mock blob stores them in. */
export function canonicalRuleOrder(rules: PerAppRule[]): PerAppRule[] {
  return PLATFORMS.flatMap((p) => rules.filter((r) => r.platform === p));
}

export interface AppQuery {
  platform: Platform;
  appId: string;
  appVersion?: string;
  certificateId?: string;
}

export interface PermitDecision {
  permitted: boolean;
  /** The rule that permitted the app, or the most specific rule that matched the ID but failed a check. */
  rule?: PerAppRule;
  ruleIndex?: number;
  reason: string;
}

function describeRule(rule: PerAppRule, index: number): string {
  return `rule #${index} (${rule.platform} '${rule.appId}'${rule.friendlyName ? ` "${rule.friendlyName}"` : ''})`;
}

/** The Android-only extra checks of a rule whose ID already matched; returns why it fails, or null. */
function extraCheckFailure(rule: PerAppRule, query: AppQuery): string | null {
  if (rule.minVersion !== undefined) {
    if (query.appVersion === undefined || query.appVersion.trim() === '') {
      return `the app version is unknown but the rule requires minVersion ${rule.minVersion}`;
    }
    if (compareVersions(query.appVersion, rule.minVersion) < 0) {
      return `app version ${query.appVersion} is below the rule's minVersion ${rule.minVersion}`;
    }
  }
  if (rule.certificateId !== undefined) {
    if (query.certificateId === undefined || query.certificateId.trim() === '') {
      return `the app's signing certificate ID is unknown but the rule requires ${rule.certificateId}`;
    }
    const appCert = normalizeCertificateId(query.certificateId);
    if (appCert !== rule.certificateId) {
      return `the app's signing certificate ID ${appCert} differs from the rule's ${rule.certificateId}`;
    }
  }
  return null;
}

/**
 * Is this app allowed through the tunnel by the PerApp policy? Only rules of the app's platform
 * count; an app is permitted when any matching rule passes its checks. Rules are tried most
 * specific first so that the reported rule is the one a reader would expect.
 */
export function isAppPermitted(policy: PerAppPolicy, query: AppQuery): PermitDecision {
  const appId = query.appId.trim();
  const q = { ...query, appId };
  const indexed = policy.rules.map((rule, index) => ({ rule, index }));
  const samePlatform = indexed.filter(({ rule }) => rule.platform === q.platform);
  const matching = samePlatform
    .filter(({ rule }) => matchAppId(rule.appId, appId))
    .sort((a, b) => patternSpecificity(b.rule.appId) - patternSpecificity(a.rule.appId));

  for (const { rule, index } of matching) {
    if (extraCheckFailure(rule, q) === null) {
      const extras = [
        rule.minVersion !== undefined ? `version ${q.appVersion} >= minVersion ${rule.minVersion}` : '',
        rule.certificateId !== undefined ? 'signing certificate ID matches' : '',
      ].filter(Boolean);
      const how =
        rule.appId === appId
          ? 'names it exactly'
          : rule.appId === '*.*'
            ? "is the '*.*' wildcard (all apps)"
            : `covers it with the prefix wildcard`;
      return {
        permitted: true,
        rule,
        ruleIndex: index,
        reason: `${describeRule(rule, index)} ${how}${extras.length ? `; ${extras.join('; ')}` : ''}`,
      };
    }
  }
  if (matching.length > 0) {
    const { rule, index } = matching[0]!;
    return {
      permitted: false,
      rule,
      ruleIndex: index,
      reason: `${describeRule(rule, index)} matches '${appId}' but ${extraCheckFailure(rule, q)}${matching.length > 1 ? ` (${matching.length - 1} other matching rule(s) fail too)` : ''}`,
    };
  }
  const otherPlatform = indexed.find(({ rule }) => rule.platform !== q.platform && matchAppId(rule.appId, appId));
  const crossNote = otherPlatform
    ? `; ${describeRule(otherPlatform.rule, otherPlatform.index)} would match the ID, but rules never cross platforms`
    : '';
  if (samePlatform.length === 0) {
    return { permitted: false, reason: `the policy has no ${q.platform} rules, so no ${q.platform} app is permitted${crossNote}` };
  }
  const list = samePlatform.map(({ rule }) => `'${rule.appId}'`).join(', ');
  return { permitted: false, reason: `no ${q.platform} rule matches '${appId}' (${q.platform} rules: ${list})${crossNote}` };
}

// Identity certificates for certificate-authenticated VPN, pure: a certificate enrollment
// setting's subject and SAN templates (MobileIron variables such as $USERID$), their validation,
// filling them for one device, and the identity payload (com.apple.security.scep or
// com.apple.security.pkcs12) a VPN payload's PayloadCertificateUUID names.
import { buildPkcs12Payload, buildScepPayload, enrollmentPayloadUuid } from '../enrollment/payloads.js';
import type { PlistDict } from '../plist/index.js';
import {
  SAN_TYPES,
  SUBJECT_ATTRIBUTE_OIDS,
  SUBJECT_ATTRIBUTE_TYPES,
  subjectAltNameProblem,
  subjectAttributeProblem,
  type SanType,
  type SubjectAttribute,
  type SubjectAttributeType,
  type TypedSubjectAltName,
} from '../pki/x509.js';
import { KNOWN_VARIABLES, substituteVariables, type DeviceVariables } from './variables.js';

export { SAN_TYPES, SUBJECT_ATTRIBUTE_TYPES, type SanType, type SubjectAttribute, type TypedSubjectAltName };

export const IDENTITY_METHODS = ['SCEP', 'LOCAL'] as const;
export type IdentityMethod = (typeof IDENTITY_METHODS)[number];

/** Apple's SCEP Key Usage bitmask: 1 signing, 4 encryption. */
export const KEY_USAGE_BITS = { signing: 1, encryption: 4 } as const;
export type IdentityKeyUsage = keyof typeof KEY_USAGE_BITS;

export interface IdentityTemplates {
  /** e.g. `CN=$USERID$,OU=Sales,O=Example` */
  subject: string;
  subjectAltNames: ReadonlyArray<{ type: SanType; value: string }>;
}

export interface TemplateIssue {
  /** Which field: `subject` or `subjectAltNames[i].value`. */
  field: string;
  message: string;
}

export class IdentityTemplateError extends Error {
  constructor(
    readonly issues: TemplateIssue[],
  ) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.name = 'IdentityTemplateError';
  }
}

const TYPE_BY_UPPER = new Map<string, SubjectAttributeType>(SUBJECT_ATTRIBUTE_TYPES.map((t) => [t.toUpperCase(), t]));

/**
 * Splits a subject template into attributes, in order. A backslash escapes the next character
 * (`O=Example\, Inc.`); types are matched in any case. Values are still templates.
 */
export function parseSubjectTemplate(text: string): SubjectAttribute[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
    } else if (c === ',') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  const attributes: SubjectAttribute[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new IdentityTemplateError([{ field: 'subject', message: `"${part.trim()}" is not TYPE=value` }]);
    const name = part.slice(0, eq).trim();
    const type = TYPE_BY_UPPER.get(name.toUpperCase());
    if (!type) {
      throw new IdentityTemplateError([
        { field: 'subject', message: `unknown attribute type ${name} (known: ${SUBJECT_ATTRIBUTE_TYPES.join(', ')})` },
      ]);
    }
    const value = part.slice(eq + 1).trim();
    if (value === '') throw new IdentityTemplateError([{ field: 'subject', message: `${type} has no value` }]);
    attributes.push({ type, value });
  }
  return attributes;
}

/** The $NAME$ variables a template uses. */
export function templateVariables(text: string): string[] {
  return [...text.matchAll(/\$([A-Za-z_]+)\$/g)].map((m) => m[1]!);
}

const hasVariable = (text: string) => /\$[A-Za-z_]+\$/.test(text);

/** Every problem of a setting's templates (empty when they are usable): syntax, attribute types, unknown variables, literal values that cannot be encoded. */
export function validateIdentityTemplates(templates: IdentityTemplates): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const checkVariables = (field: string, text: string) => {
    for (const name of templateVariables(text)) {
      if (!KNOWN_VARIABLES.includes(name)) {
        issues.push({ field, message: `unknown variable $${name}$ (known: ${KNOWN_VARIABLES.map((v) => `$${v}$`).join(', ')})` });
      }
    }
  };
  try {
    for (const attribute of parseSubjectTemplate(templates.subject)) {
      checkVariables('subject', attribute.value);
      // A literal value must encode as is; a templated one is checked when filled
      const problem = hasVariable(attribute.value) ? undefined : subjectAttributeProblem(attribute);
      if (problem) issues.push({ field: 'subject', message: problem });
    }
  } catch (err) {
    if (!(err instanceof IdentityTemplateError)) throw err;
    issues.push(...err.issues);
  }
  const seen = new Set<SanType>();
  templates.subjectAltNames.forEach((san, i) => {
    const field = `subjectAltNames[${i}].value`;
    // Apple's SCEP SubjectAltName dictionary holds one string per type
    if (seen.has(san.type)) issues.push({ field: `subjectAltNames[${i}].type`, message: `${san.type} appears twice (one per type)` });
    seen.add(san.type);
    checkVariables(field, san.value);
    const problem = hasVariable(san.value) ? undefined : subjectAltNameProblem(san);
    if (problem) issues.push({ field, message: problem });
  });
  return issues;
}

export interface FilledIdentity {
  /** In DER order (the template's order reversed). */
  subject: SubjectAttribute[];
  subjectAltNames: TypedSubjectAltName[];
}

/**
 * The templates filled for one device. An attribute or SAN whose variable has no value for this
 * device (a device without a user has no $EMAIL$), or whose filled value cannot be encoded, is
 * left out rather than carried as literal text; a subject left empty becomes CN=<device UUID>.
 */
export function fillIdentityTemplates(templates: IdentityTemplates, variables: DeviceVariables): FilledIdentity {
  const fill = (text: string) => {
    const out = substituteVariables(text, variables);
    return hasVariable(out) ? undefined : out;
  };
  const subject: SubjectAttribute[] = [];
  for (const attribute of parseSubjectTemplate(templates.subject)) {
    const value = fill(attribute.value);
    if (value === undefined) continue;
    const filled = { type: attribute.type, value };
    if (!subjectAttributeProblem(filled)) subject.push(filled);
  }
  if (subject.length === 0) subject.push({ type: 'CN', value: variables.deviceUuid ?? 'device' });
  // The template is an RFC 4514 string (most specific first, like Core's and LDAP's); a Name in DER
  // and Apple's SCEP Subject list the RDNs the other way round (C, O, OU, CN)
  subject.reverse();
  const subjectAltNames: TypedSubjectAltName[] = [];
  for (const san of templates.subjectAltNames) {
    const value = fill(san.value);
    if (value === undefined) continue;
    const filled = { type: san.type, value };
    if (!subjectAltNameProblem(filled)) subjectAltNames.push(filled);
  }
  return { subject, subjectAltNames };
}

/** The common name of a filled subject (the first CN), for display. */
export function commonNameOf(subject: readonly SubjectAttribute[]): string | undefined {
  return subject.find((a) => a.type === 'CN')?.value;
}

// Apple's SCEP Subject accepts C, L, ST, O, OU and CN by name; other types as dotted OIDs.
const APPLE_SUBJECT_SHORT_NAMES = new Set<SubjectAttributeType>(['C', 'L', 'ST', 'O', 'OU', 'CN']);

/** A filled subject in Apple's SCEP Subject form: one RDN per attribute, [[["O","x"]],[["CN","y"]]]. */
export function scepSubjectOf(subject: readonly SubjectAttribute[]): [string, string][][] {
  return subject.map((a) => [[APPLE_SUBJECT_SHORT_NAMES.has(a.type) ? a.type : SUBJECT_ATTRIBUTE_OIDS[a.type], a.value]]);
}

/** Apple's SCEP SubjectAltName dictionary for filled SANs. */
export function scepSubjectAltNameOf(sans: readonly TypedSubjectAltName[]): Partial<Record<SanType, string>> {
  const out: Partial<Record<SanType, string>> = {};
  for (const san of sans) out[san.type] ??= san.value;
  return out;
}

export function keyUsageBitmask(usages: readonly IdentityKeyUsage[]): number {
  return usages.reduce((mask, u) => mask | KEY_USAGE_BITS[u], 0);
}

/** PayloadIdentifier and PayloadUUID of a setting's identity payload in a profile: stable per profile and setting. */
export function identityPayloadIdentity(namespace: string, profileIdentifier: string, settingId: number): { identifier: string; uuid: string } {
  const identifier = `${profileIdentifier}.identity.${settingId}`;
  return { identifier, uuid: enrollmentPayloadUuid(namespace, identifier) };
}

interface IdentityPayloadCommon {
  namespace: string;
  profileIdentifier: string;
  settingId: number;
  settingName: string;
}

export interface ScepIdentityPayloadInput extends IdentityPayloadCommon {
  url: string;
  /** SCEP CA-IDENT. */
  caName?: string;
  challenge: string;
  keySize: 1024 | 2048 | 4096;
  keyUsage: readonly IdentityKeyUsage[];
  filled: FilledIdentity;
}

export function buildScepIdentityPayload(input: ScepIdentityPayloadInput): PlistDict {
  const { identifier } = identityPayloadIdentity(input.namespace, input.profileIdentifier, input.settingId);
  return buildScepPayload({
    namespace: input.namespace,
    payload: { identifier, displayName: `Identity (${input.settingName})`, description: 'VPN identity certificate, enrolled over SCEP' },
    url: input.url,
    ...(input.caName ? { name: input.caName } : {}),
    subject: scepSubjectOf(input.filled.subject),
    challenge: input.challenge,
    keysize: input.keySize,
    keyUsage: keyUsageBitmask(input.keyUsage),
    subjectAltName: scepSubjectAltNameOf(input.filled.subjectAltNames),
  });
}

export interface Pkcs12IdentityPayloadInput extends IdentityPayloadCommon {
  pkcs12: Uint8Array;
  password: string;
}

export function buildPkcs12IdentityPayload(input: Pkcs12IdentityPayloadInput): PlistDict {
  const { identifier } = identityPayloadIdentity(input.namespace, input.profileIdentifier, input.settingId);
  return buildPkcs12Payload({
    namespace: input.namespace,
    payload: { identifier, displayName: `Identity (${input.settingName})`, description: 'VPN identity certificate and key' },
    pkcs12: input.pkcs12,
    password: input.password,
    fileName: `identity-${input.settingId}.p12`,
  });
}

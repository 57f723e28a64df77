// The typed field registry: which names a criteria expression may use, what type each has,
// and where the value lives on a DeviceFacts object.

/** What the evaluator sees of a device. The lead builds these from database rows. */
export interface DeviceFacts {
  id: number;
  uuid: string;
  platform: string;
  osVersion: string | null;
  model: string | null;
  manufacturer: string | null;
  serialNumber: string | null;
  imei: string | null;
  owner: string;
  status: string;
  compliant: boolean;
  quarantined: boolean;
  registrationDate: Date;
  lastConnectedAt: Date | null;
  deviceName: string | null;
  udid: string | null;
  userId: string | null;
  email: string | null;
  displayName: string | null;
  custom: Record<string, string>;
}

export type FieldType = 'string' | 'number' | 'boolean' | 'enum' | 'version' | 'date';

export const PLATFORMS = ['iOS', 'Android'] as const;
export const OWNERSHIP_TYPES = ['COMPANY', 'EMPLOYEE'] as const;
export const DEVICE_STATUSES = ['VERIFICATION_PENDING', 'ACTIVE', 'RETIRED', 'WIPED', 'LOST', 'BLOCKED'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface FieldDefinition {
  /** Canonical spelling, as reported in errors, formatted text and search_fields. */
  name: string;
  type: FieldType;
  description: string;
  /** Allowed values of an enum field, in canonical spelling. */
  values?: readonly string[];
  /**
   * JavaScript expression reading the raw value from a DeviceFacts object named `f`. The
   * compiler splices it into generated code, so it must only ever come from this file.
   */
  source: string;
}

const BUILT_IN_FIELDS: readonly FieldDefinition[] = [
  { name: 'common.id', type: 'number', description: 'Device id', source: 'f.id' },
  { name: 'common.uuid', type: 'string', description: 'Device UUID', source: 'f.uuid' },
  {
    name: 'common.platform',
    type: 'enum',
    description: 'Platform',
    values: PLATFORMS,
    source: 'f.platform',
  },
  {
    name: 'common.os_version',
    type: 'version',
    description: 'OS version, compared segment by segment (9.10 > 9.9)',
    source: 'f.osVersion',
  },
  { name: 'common.model', type: 'string', description: 'Model', source: 'f.model' },
  { name: 'common.manufacturer', type: 'string', description: 'Manufacturer', source: 'f.manufacturer' },
  { name: 'common.SerialNumber', type: 'string', description: 'Serial number', source: 'f.serialNumber' },
  { name: 'common.imei', type: 'string', description: 'IMEI', source: 'f.imei' },
  {
    name: 'common.owner',
    type: 'enum',
    description: 'Ownership',
    values: OWNERSHIP_TYPES,
    source: 'f.owner',
  },
  {
    name: 'common.status',
    type: 'enum',
    description: 'Registration status',
    values: DEVICE_STATUSES,
    source: 'f.status',
  },
  { name: 'common.compliant', type: 'boolean', description: 'Compliant with policies', source: 'f.compliant' },
  { name: 'common.quarantined', type: 'boolean', description: 'Quarantined', source: 'f.quarantined' },
  {
    name: 'common.retired',
    type: 'boolean',
    description: 'Retired (status is RETIRED)',
    source: "(f.status === 'RETIRED')",
  },
  {
    name: 'common.registration_date',
    type: 'date',
    description: 'Registration date',
    source: 'f.registrationDate',
  },
  {
    name: 'common.last_connected_at',
    type: 'date',
    description: 'Last check-in time',
    source: 'f.lastConnectedAt',
  },
  { name: 'ios.DeviceName', type: 'string', description: 'Device name set by the user', source: 'f.deviceName' },
  { name: 'ios.iPhone UDID', type: 'string', description: 'UDID', source: 'f.udid' },
  { name: 'user.user_id', type: 'string', description: 'User id', source: 'f.userId' },
  { name: 'user.email_address', type: 'string', description: 'User email address', source: 'f.email' },
  { name: 'user.display_name', type: 'string', description: 'User display name', source: 'f.displayName' },
];

export const CUSTOM_DEVICE_PREFIX = 'custom.device.';
export const CUSTOM_ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const BUILT_IN_BY_LOWER_NAME = new Map(BUILT_IN_FIELDS.map((field) => [field.name.toLowerCase(), field]));

export type ResolvedField =
  { kind: 'builtin'; definition: FieldDefinition } | { kind: 'custom'; definition: FieldDefinition; attribute: string };

export type FieldLookup =
  ResolvedField | { kind: 'unknown'; suggestion: string | undefined } | { kind: 'bad-custom-name'; attribute: string };

/** Resolves a field name case-insensitively; custom attribute names keep the case they were written in. */
export function lookupField(name: string): FieldLookup {
  const lower = name.toLowerCase();
  const builtin = BUILT_IN_BY_LOWER_NAME.get(lower);
  if (builtin) return { kind: 'builtin', definition: builtin };
  if (lower.startsWith(CUSTOM_DEVICE_PREFIX)) {
    const attribute = name.slice(CUSTOM_DEVICE_PREFIX.length);
    if (!CUSTOM_ATTRIBUTE_NAME.test(attribute)) return { kind: 'bad-custom-name', attribute };
    return { kind: 'custom', definition: customFieldDefinition(attribute), attribute };
  }
  return { kind: 'unknown', suggestion: suggestFieldName(name) };
}

function customFieldDefinition(attribute: string): FieldDefinition {
  return {
    name: CUSTOM_DEVICE_PREFIX + attribute,
    type: 'string',
    description: `Custom device attribute ${attribute}`,
    // The compiler replaces this: the attribute name is passed as a constant, never spliced.
    source: 'f.custom',
  };
}

/** The closest registry name by edit distance, if it is close enough to be a plausible typo. */
export function suggestFieldName(input: string): string | undefined {
  const wanted = input.toLowerCase();
  // Allow about one edit per three characters, so short inputs do not match everything.
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const field of BUILT_IN_FIELDS) {
    const full = field.name.toLowerCase();
    // Also compare against the part after the namespace, so "platform" finds "common.platform".
    const local = full.slice(full.indexOf('.') + 1);
    const distance = Math.min(editDistance(wanted, full), editDistance(wanted, local));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = field.name;
    }
  }
  if (bestDistance <= limit) return best;
  // A truncated name ("user.email", "serial") is worth suggesting even when far in edits.
  if (wanted.length < 3) return undefined;
  return BUILT_IN_FIELDS.find((field) => {
    const full = field.name.toLowerCase();
    return full.startsWith(wanted) || full.slice(full.indexOf('.') + 1).startsWith(wanted);
  })?.name;
}

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps as one each. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus transpositions, so "modle" is 1 from "model".
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row[j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

export interface SearchField {
  name: string;
  type: FieldType;
  description: string;
  values?: string[];
}

/**
 * Fields for GET /api/v2/devices/search_fields. Custom attributes are free-form, so callers
 * pass the attribute names they know about (e.g. those present in the database).
 */
export function searchFields(options: { customAttributeNames?: Iterable<string> } = {}): SearchField[] {
  const fields: SearchField[] = BUILT_IN_FIELDS.map((field) => ({
    name: field.name,
    type: field.type,
    description: field.description,
    ...(field.values ? { values: [...field.values] } : {}),
  }));
  const custom = [...new Set(options.customAttributeNames ?? [])].filter((attribute) => CUSTOM_ATTRIBUTE_NAME.test(attribute)).sort();
  for (const attribute of custom) {
    fields.push({ name: CUSTOM_DEVICE_PREFIX + attribute, type: 'string', description: `Custom device attribute ${attribute}` });
  }
  return fields;
}

/** All built-in field definitions, in registry order. */
export function builtInFields(): readonly FieldDefinition[] {
  return BUILT_IN_FIELDS;
}

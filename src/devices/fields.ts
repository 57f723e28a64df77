// The MobileIron view of a device: flat objects keyed by Core's field names
// (common.uuid, ios.DeviceName, user.user_id...), and the facts the criteria language reads.
// Both come from the one catalogue in src/lib/criteria/fields.ts.
import {
  builtInFields,
  CUSTOM_ATTRIBUTE_NAME,
  CUSTOM_DEVICE_PREFIX,
  fieldReader,
  lookupField,
  sortableFields,
  type DeviceFacts,
  type FieldReader,
  type FieldSort,
} from '../lib/criteria/index.js';
import type { Prisma } from '../platform/db/client.js';

export type DeviceRow = Prisma.DeviceGetPayload<{ include: { user: true } }>;

/**
 * Names that would reach Object.prototype when used as a key of a plain object (a lookup of
 * `constructor` finds a function, an assignment to `__proto__` swaps the prototype): never
 * accepted from a client as a custom attribute or field name.
 */
export const reservedKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The stored custom.device.* values, in an object without a prototype (no inherited keys). */
export function customAttributes(row: { customAttributes: string }): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  try {
    const parsed = JSON.parse(row.customAttributes) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    }
  } catch {
    // an unreadable value reads as no attributes
  }
  return out;
}

export type ReportedValue = string | number | boolean;
/** What a device's MDM answers reported (the reportedInfo column), one section per request type. */
export interface ReportedInfo {
  DeviceInformation: Record<string, ReportedValue>;
  SecurityInfo: Record<string, ReportedValue>;
}

/** The reportedInfo column, read into objects without a prototype; unreadable parts read as nothing reported. */
export function reportedInfo(row: { reportedInfo: string }): ReportedInfo {
  const out: ReportedInfo = { DeviceInformation: Object.create(null), SecurityInfo: Object.create(null) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.reportedInfo);
  } catch {
    return out;
  }
  if (!parsed || typeof parsed !== 'object') return out;
  for (const section of ['DeviceInformation', 'SecurityInfo'] as const) {
    const values = (parsed as Record<string, unknown>)[section];
    if (!values || typeof values !== 'object' || Array.isArray(values)) continue;
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[section][k] = v;
    }
  }
  return out;
}

/** A custom attribute name a client may set or ask for. */
export function isCustomAttributeName(name: string): boolean {
  return CUSTOM_ATTRIBUTE_NAME.test(name) && !reservedKeys.has(name);
}

export function deviceFacts(row: DeviceRow): DeviceFacts {
  const reported = reportedInfo(row);
  return {
    id: row.id,
    uuid: row.uuid,
    adminDeviceSpaceId: row.adminDeviceSpaceId,
    platform: row.platform,
    osVersion: row.osVersion,
    model: row.model,
    manufacturer: row.manufacturer,
    serialNumber: row.serialNumber,
    imei: row.imei,
    owner: row.owner,
    status: row.status,
    compliant: row.compliant,
    quarantined: row.quarantined,
    registrationDate: row.registeredAt,
    lastConnectedAt: row.lastConnectedAt,
    deviceName: row.deviceName,
    udid: row.udid,
    wifiMac: row.wifiMac,
    ipAddress: row.ipAddress,
    phoneNumber: row.phoneNumber,
    mdmEnrolled: row.pushToken != null,
    userId: row.user?.userId ?? null,
    email: row.user?.email ?? null,
    displayName: row.user?.displayName ?? null,
    custom: customAttributes(row),
    info: reported.DeviceInformation,
    security: reported.SecurityInfo,
  };
}

const noCustom: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);
const nothingReported: Readonly<Record<string, ReportedValue>> = Object.freeze(Object.create(null) as Record<string, ReportedValue>);

/** A stored date: ISO-8601 as Prisma writes it, or SQLite's CURRENT_TIMESTAMP form (UTC, no zone). */
function storedDate(value: unknown): Date {
  if (typeof value === 'number') return new Date(value);
  const text = String(value);
  return new Date(text.length === 19 && text[10] === ' ' ? `${text.replace(' ', 'T')}Z` : text);
}

/**
 * A device's facts from the directory's columns (factColumns in src/devices/store.ts, by
 * position), built straight from the values JSON.parse produced: no row object in between.
 * Devices without custom attributes or reported answers (most) share one frozen empty object.
 */
export function factsFromColumns(c: unknown[]): DeviceFacts {
  const custom = c[24] === '{}' ? noCustom : customAttributes({ customAttributes: String(c[24]) });
  const reported = c[25] === '{}' ? null : reportedInfo({ reportedInfo: String(c[25]) });
  return {
    id: c[0] as number,
    uuid: c[1] as string,
    adminDeviceSpaceId: c[2] as number,
    platform: c[3] as string,
    osVersion: c[4] as string | null,
    model: c[5] as string | null,
    manufacturer: c[6] as string | null,
    serialNumber: c[7] as string | null,
    imei: c[8] as string | null,
    owner: c[9] as string,
    status: c[10] as string,
    compliant: c[11] === 1 || c[11] === true,
    quarantined: c[12] === 1 || c[12] === true,
    registrationDate: storedDate(c[13]),
    lastConnectedAt: c[14] == null ? null : storedDate(c[14]),
    deviceName: c[15] as string | null,
    udid: c[16] as string | null,
    wifiMac: c[17] as string | null,
    ipAddress: c[18] as string | null,
    phoneNumber: c[19] as string | null,
    mdmEnrolled: c[20] === 1,
    userId: c[21] as string | null,
    email: c[22] as string | null,
    displayName: c[23] as string | null,
    custom,
    info: reported ? reported.DeviceInformation : nothingReported,
    security: reported ? reported.SecurityInfo : nothingReported,
  };
}

const allReaders: readonly FieldReader[] = builtInFields().map((definition) => fieldReader(definition));

/**
 * What a device answers without fields=: the fields registration fills or that are derived, and
 * those with a column; not the dozens a device reports (or never does) — ask for those by name,
 * or read them all in details. Core itself answers only the fields= asked for.
 */
const summaryReaders = allReaders.filter((r) => r.definition.sort !== undefined || ['registration', 'derived'].includes(r.definition.fill));

/** A value as Core answers it (see answerValue in src/lib/criteria/fields.ts): dates as ISO-8601 text, unknown as null. */
const answer = (value: unknown): unknown =>
  value === undefined || value === null
    ? null
    : value instanceof Date
      ? Number.isNaN(value.getTime())
        ? null
        : value.toISOString()
      : value;
/** A reason list as Core answers it: an array. */
const answerList = (value: unknown): unknown =>
  value === undefined || value === null ? null : typeof value === 'string' && value !== '' ? value.split(',') : [];

/**
 * One function building the object of these fields from facts: a single object literal over the
 * catalogue's source expressions (trusted: src/lib/criteria/fields.ts, as the criteria compiler
 * splices them), so a page of results costs a few allocations, not a call per field.
 */
function compileFields(readers: readonly FieldReader[]): (facts: DeviceFacts) => Record<string, unknown> {
  const body = readers.map(({ definition: d }) => `${JSON.stringify(d.name)}: ${d.list ? 'l' : 'v'}(${d.source})`).join(',\n');
  const factory = new Function('v', 'l', `"use strict"; return function fields(f) { return {\n${body}\n}; };`) as (
    v: typeof answer,
    l: typeof answerList,
  ) => (facts: DeviceFacts) => Record<string, unknown>;
  return factory(answer, answerList);
}

const allFields = compileFields(allReaders);
const summaryFields = compileFields(summaryReaders);

/** Every catalogue field of a device, in catalogue order, then its custom.device.* attributes. */
export function deviceFields(row: DeviceRow): Record<string, unknown> {
  return fieldsFrom(allFields, deviceFacts(row));
}

/** deviceFields from facts already built (the device directory keeps them). */
export function fieldsOf(facts: DeviceFacts): Record<string, unknown> {
  return fieldsFrom(allFields, facts);
}

/** A device's summary fields (see summaryReaders) and its custom.device.* attributes. */
export function deviceSummary(row: DeviceRow): Record<string, unknown> {
  return summaryOf(deviceFacts(row));
}

/** deviceSummary from facts already built (the device directory keeps them). */
export function summaryOf(facts: DeviceFacts): Record<string, unknown> {
  return fieldsFrom(summaryFields, facts);
}

function fieldsFrom(build: (facts: DeviceFacts) => Record<string, unknown>, facts: DeviceFacts): Record<string, unknown> {
  const fields = build(facts);
  for (const k in facts.custom) if (Object.hasOwn(facts.custom, k)) fields[`${CUSTOM_DEVICE_PREFIX}${k}`] = facts.custom[k];
  return fields;
}

/** One requested fields= name: the key it is answered under (as the client wrote it) and how to read it. */
type ProjectedField = { key: string; read: (facts: DeviceFacts) => unknown };

export interface Projection {
  fields: ProjectedField[];
  /** Names asked for that are not in the catalogue, with the closest catalogue name. */
  unknown: Array<{ name: string; suggestion: string | undefined }>;
}

/**
 * Resolves a fields= list: names trimmed (clients send newlines), duplicates answered once,
 * catalogue names and aliases case-insensitively, custom.device.<name> as written. Each is
 * answered under the spelling the client asked for, since clients index results by it.
 */
export function resolveProjection(names: readonly string[]): Projection {
  const fields: ProjectedField[] = [];
  const unknown: Projection['unknown'] = [];
  const seen = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name === '' || seen.has(name)) continue;
    seen.add(name);
    const lookup = reservedKeys.has(name) ? ({ kind: 'unknown', suggestion: undefined } as const) : lookupField(name);
    if (lookup.kind === 'builtin') {
      const reader = fieldReader(lookup.definition);
      fields.push({ key: name, read: reader.read });
    } else if (lookup.kind === 'custom' && isCustomAttributeName(lookup.attribute)) {
      const attribute = lookup.attribute;
      fields.push({ key: name, read: (facts) => (Object.hasOwn(facts.custom, attribute) ? facts.custom[attribute] : null) });
    } else {
      unknown.push({ name, suggestion: lookup.kind === 'unknown' ? lookup.suggestion : undefined });
    }
  }
  return { fields, unknown };
}

/** The requested fields of a device, every one present (null when unknown), in request order. */
export function project(projection: Projection, facts: DeviceFacts): Record<string, unknown> {
  // No prototype: a requested key can never reach Object.prototype.
  const out = Object.create(null) as Record<string, unknown>;
  for (const field of projection.fields) out[field.key] = field.read(facts) ?? null;
  return out;
}

export const defaultListFields = [
  'common.uuid',
  'common.platform',
  'common.os_version',
  'common.model',
  'common.SerialNumber',
  'common.status',
  'common.owner',
  'ios.DeviceName',
  'ios.iPhone UDID',
  'user.user_id',
] as const;

/** Sortable fields (those with a column) and how each sorts. */
export const sortColumns: ReadonlyMap<string, FieldSort> = sortableFields();

/** A sort key: numbers (ids, instants, booleans as 0/1) compare as numbers, text by code point; null sorts lowest. */
export type SortKey = number | string | null;

/** Each sortable column's key, read from a device's facts: typed values, as the column holds them. */
const sortKeyOfColumn: Record<string, (f: DeviceFacts) => SortKey> = {
  id: (f) => f.id,
  uuid: (f) => f.uuid,
  adminDeviceSpaceId: (f) => f.adminDeviceSpaceId,
  platform: (f) => f.platform,
  osVersionKey: (f) => versionSortKey(f.osVersion),
  model: (f) => f.model,
  manufacturer: (f) => f.manufacturer,
  serialNumber: (f) => f.serialNumber,
  imei: (f) => f.imei,
  owner: (f) => f.owner,
  status: (f) => f.status,
  registeredAt: (f) => f.registrationDate.getTime(),
  lastConnectedAt: (f) => f.lastConnectedAt?.getTime() ?? null,
  compliant: (f) => (f.compliant ? 1 : 0),
  quarantined: (f) => (f.quarantined ? 1 : 0),
  wifiMac: (f) => f.wifiMac,
  ipAddress: (f) => f.ipAddress,
  phoneNumber: (f) => f.phoneNumber,
  deviceName: (f) => f.deviceName,
  udid: (f) => f.udid,
};
const sortKeyOfUserColumn: Record<string, (f: DeviceFacts) => SortKey> = {
  userId: (f) => f.userId,
  email: (f) => f.email,
  displayName: (f) => f.displayName,
};

/** How a sortable field's key is read from facts (every FieldSort of the catalogue has one: test/api/device-directory.test.ts sorts by each). */
export function sortKeyReader(sort: FieldSort): (facts: DeviceFacts) => SortKey {
  const reader = 'column' in sort ? sortKeyOfColumn[sort.column] : sortKeyOfUserColumn[sort.userColumn];
  if (!reader) throw new Error(`no sort key for ${JSON.stringify(sort)}`);
  return reader;
}

/**
 * Orders two keys as SQLite orders the column: null lowest, numbers by value, text by code point
 * (SQLite's BINARY collation compares UTF-8 bytes, which is code point order; JavaScript's `<`
 * compares UTF-16 units, which differs once surrogate pairs meet U+E000..U+FFFF).
 */
export function compareSortKeys(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  return typeof a === 'number' ? -1 : 1; // SQLite: numbers before text
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800..DFFF) stand for code points above FFFF: move them past E000..FFFF.
    const cx = x >= 0xd800 && x < 0xe000 ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const cy = y >= 0xd800 && y < 0xe000 ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return cx < cy ? -1 : 1;
  }
  return a.length - b.length;
}

/** The text key under which a version sorts as versions do: numeric segments zero-padded (9.10 → 000009.000010). */
export function versionSortKey(version: string | null | undefined): string | null {
  if (!version) return null;
  return version
    .trim()
    .split(/[.\-_ ]+/)
    .filter((s) => s.length > 0)
    .slice(0, 8)
    .map((s) => (/^\d{1,12}$/.test(s) ? s.padStart(12, '0') : `~${s.toLowerCase().slice(0, 32)}`))
    .join('.');
}

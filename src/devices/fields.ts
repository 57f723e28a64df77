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

const allReaders: readonly FieldReader[] = builtInFields().map((definition) => fieldReader(definition));

/**
 * What a device answers without fields=: the fields registration fills or that are derived, and
 * those with a column; not the dozens a device reports (or never does) — ask for those by name,
 * or read them all in details. Core itself answers only the fields= asked for.
 */
const summaryReaders = allReaders.filter((r) => r.definition.sort !== undefined || ['registration', 'derived'].includes(r.definition.fill));

/** Every catalogue field of a device, in catalogue order, then its custom.device.* attributes. */
export function deviceFields(row: DeviceRow): Record<string, unknown> {
  return fieldsFrom(allReaders, deviceFacts(row));
}

/** A device's summary fields (see summaryReaders) and its custom.device.* attributes. */
export function deviceSummary(row: DeviceRow): Record<string, unknown> {
  return summaryOf(deviceFacts(row));
}

/** deviceSummary from facts already built (the device directory keeps them). */
export function summaryOf(facts: DeviceFacts): Record<string, unknown> {
  return fieldsFrom(summaryReaders, facts);
}

function fieldsFrom(readers: readonly FieldReader[], facts: DeviceFacts): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const reader of readers) fields[reader.definition.name] = reader.read(facts);
  for (const [k, v] of Object.entries(facts.custom)) fields[`${CUSTOM_DEVICE_PREFIX}${k}`] = v;
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

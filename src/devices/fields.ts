// The MobileIron view of a device: flat objects keyed by Core's field names
// (common.uuid, ios.DeviceName, user.user_id...), and the facts the criteria language reads.
import { CUSTOM_ATTRIBUTE_NAME, CUSTOM_DEVICE_PREFIX, type DeviceFacts } from '../lib/criteria/fields.js';
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

/** A custom attribute name a client may set or ask for. */
export function isCustomAttributeName(name: string): boolean {
  return CUSTOM_ATTRIBUTE_NAME.test(name) && !reservedKeys.has(name);
}

export function deviceFacts(row: DeviceRow): DeviceFacts {
  return {
    id: row.id,
    uuid: row.uuid,
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
    userId: row.user?.userId ?? null,
    email: row.user?.email ?? null,
    displayName: row.user?.displayName ?? null,
    custom: customAttributes(row),
  };
}

/** Every Core-named field of a device, in a stable order. */
export function deviceFields(row: DeviceRow): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    'common.id': row.id,
    'common.uuid': row.uuid,
    'common.platform': row.platform,
    'common.os_version': row.osVersion,
    'common.model': row.model,
    'common.manufacturer': row.manufacturer,
    'common.SerialNumber': row.serialNumber,
    'common.imei': row.imei,
    'common.owner': row.owner,
    'common.status': row.status,
    'common.compliant': row.compliant,
    'common.quarantined': row.quarantined,
    'common.retired': row.status === 'RETIRED',
    'common.registration_date': row.registeredAt.toISOString(),
    'common.last_connected_at': row.lastConnectedAt?.toISOString() ?? null,
    'common.device_admin_space_id': row.adminDeviceSpaceId,
    'ios.DeviceName': row.deviceName,
    'ios.iPhone UDID': row.udid,
    'user.user_id': row.user?.userId ?? null,
    'user.email_address': row.user?.email ?? null,
    'user.display_name': row.user?.displayName ?? null,
  };
  for (const [k, v] of Object.entries(customAttributes(row))) fields[`custom.device.${k}`] = v;
  return fields;
}

/** The built-in names deviceFields returns, for checking a fields= projection. */
export const builtInFieldNames: ReadonlySet<string> = new Set([
  'common.id',
  'common.uuid',
  'common.platform',
  'common.os_version',
  'common.model',
  'common.manufacturer',
  'common.SerialNumber',
  'common.imei',
  'common.owner',
  'common.status',
  'common.compliant',
  'common.quarantined',
  'common.retired',
  'common.registration_date',
  'common.last_connected_at',
  'common.device_admin_space_id',
  'ios.DeviceName',
  'ios.iPhone UDID',
  'user.user_id',
  'user.email_address',
  'user.display_name',
]);

/** A name fields= may ask for: a built-in field or custom.device.<name>. */
export function isProjectableField(name: string): boolean {
  if (builtInFieldNames.has(name)) return true;
  return name.startsWith(CUSTOM_DEVICE_PREFIX) && isCustomAttributeName(name.slice(CUSTOM_DEVICE_PREFIX.length));
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

/** Sortable fields and the column behind each. */
export const sortColumns: Record<string, string> = {
  'common.id': 'id',
  'common.uuid': 'uuid',
  'common.platform': 'platform',
  'common.os_version': 'osVersion',
  'common.model': 'model',
  'common.SerialNumber': 'serialNumber',
  'common.status': 'status',
  'common.owner': 'owner',
  'common.registration_date': 'registeredAt',
  'common.last_connected_at': 'lastConnectedAt',
  'ios.DeviceName': 'deviceName',
};

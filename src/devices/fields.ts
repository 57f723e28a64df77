// The MobileIron view of a device: flat objects keyed by Core's field names
// (common.uuid, ios.DeviceName, user.user_id...), and the facts the criteria language reads.
import type { DeviceFacts } from '../criteria/fields.js';
import type { Prisma } from '../db/client.js';

export type DeviceRow = Prisma.DeviceGetPayload<{ include: { user: true } }>;

export function customAttributes(row: { customAttributes: string }): Record<string, string> {
  try {
    const parsed = JSON.parse(row.customAttributes) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
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

export const defaultListFields = [
  'common.uuid', 'common.platform', 'common.os_version', 'common.model', 'common.SerialNumber',
  'common.status', 'common.owner', 'ios.DeviceName', 'ios.iPhone UDID', 'user.user_id',
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

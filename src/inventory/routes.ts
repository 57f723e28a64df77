import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import type { RouteTable } from '../platform/http/route.js';
import { intId, text } from '../platform/http/validators.js';
import { WIFI_MAC, type AppSelector, type InventoryService } from './service.js';

/** Core's maximum of devices per devices/appinventory call (mathiasringhof/mobileiron batches by it). */
export const MAX_DEVICES_PER_CALL = 25;

const uuid = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** A comma-separated list (or the parameter repeated), each item checked, at most 25 of them. */
function csvList(what: string, item: RegExp, example: string) {
  return z
    .union([text(4096), z.array(text(4096)).max(MAX_DEVICES_PER_CALL)])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(
      z
        .array(z.string().regex(item, `each ${what} must be ${example}`))
        .max(MAX_DEVICES_PER_CALL, `at most ${MAX_DEVICES_PER_CALL} ${what}s per call`),
    );
}

const app = z.object({
  inventoryId: z.number().int().describe('This app at this version, as one device reported it: the inventoryId= of appinventory/devices'),
  name: z.string(),
  appId: z.string().nullable().describe('Bundle id'),
  version: z.string().nullable().describe('The short (marketing) version when reported, else the bundle version'),
  shortVersion: z.string().nullable(),
  longVersion: z.string().nullable().describe("Apple's Version (CFBundleVersion)"),
  bundleSize: z.number().nullable().describe('Bytes'),
  managed: z.boolean().nullable().describe('Installed by this server; null when not known'),
  platform: z.string(),
});

export function registerInventoryRoutes(t: RouteTable, inventory: InventoryService): void {
  const tag = 'App inventory';
  t.add({
    method: 'get',
    path: '/devices/appinventory',
    tag,
    summary:
      "Apps installed on devices (their last InstalledApplicationList answer): one entry per device asked for, in the order asked; an unknown device's entry has found: false and no apps",
    query: z
      .object({
        adminDeviceSpaceId: spaceId,
        deviceUuids: csvList('device uuid', uuid, 'a UUID').optional().describe('Comma-separated, at most 25'),
        wifimacs: csvList('Wi-Fi MAC address', WIFI_MAC, 'a MAC address such as a4:b1:c2:d3:e4:f5')
          .optional()
          .describe('Comma-separated, at most 25: the devices whose common.wifi_mac_address is one of these'),
      })
      .refine((q) => (q.deviceUuids?.length ?? 0) + (q.wifimacs?.length ?? 0) > 0, {
        path: ['deviceUuids'],
        message: 'name at least one device: deviceUuids= or wifimacs=',
      })
      .refine((q) => (q.deviceUuids?.length ?? 0) + (q.wifimacs?.length ?? 0) <= MAX_DEVICES_PER_CALL, {
        path: ['deviceUuids'],
        message: `at most ${MAX_DEVICES_PER_CALL} devices per call (deviceUuids and wifimacs together)`,
      }),
    results: z.array(
      z.object({
        deviceUuid: z.string().nullable().describe('Null only for a Wi-Fi MAC address that found no device'),
        wifiMacAddress: z.string().optional().describe('The address asked for, when the device was asked for by it'),
        found: z.boolean(),
        platform: z.string().nullable(),
        inventoryReportedAt: z.string().nullable().describe('When the device last reported apps; null if it never did'),
        appInventory: z.array(app),
      }),
    ),
    handler: async ({ actor, query }) => ({
      results: await inventory.ofDevices(actor, { deviceUuids: query.deviceUuids ?? [], wifiMacs: query.wifimacs ?? [] }),
    }),
  });
  t.add({
    method: 'get',
    path: '/appinventory/devices',
    tag,
    errors: [404],
    summary:
      'Devices that have an app: by inventoryId (the same app at the same version), or by appName (case-insensitive) or appId (bundle id), optionally on one platformType',
    query: listQuery(['deviceUuid'])
      .extend({
        inventoryId: intId.optional(),
        appName: text(255).trim().min(1, 'must not be empty').optional(),
        appId: text(255).trim().min(1, 'must not be empty').optional(),
        platformType: text(16).optional().describe('I, iOS, IPHONE, IPAD (iOS); A, ANDROID (Android); any case'),
      })
      .refine((q) => [q.inventoryId, q.appName, q.appId].filter((v) => v !== undefined).length === 1, {
        path: ['inventoryId'],
        message: 'name the app by exactly one of inventoryId, appName, appId',
      }),
    results: z.array(app.extend({ deviceUuid: z.string(), reportedAt: z.string() })),
    handler: async ({ actor, query }) => {
      const { platformType } = query;
      const selector: AppSelector =
        query.inventoryId !== undefined
          ? { inventoryId: query.inventoryId }
          : query.appId !== undefined
            ? { appId: query.appId, platformType }
            : { appName: query.appName!, platformType };
      const devices = await inventory.devicesWith(actor, selector);
      if (query.sortField === 'deviceUuid') devices.sort((a, b) => a.deviceUuid.localeCompare(b.deviceUuid));
      if (query.sortOrder === 'DESC') devices.reverse();
      return listEnvelope(devices.slice(query.offset, query.offset + query.limit), devices.length, query);
    },
  });
}

// Device app inventory (Core's v2 "App Inventory"): what each device last reported installed in
// its InstalledApplicationList answer, per device (devices/appinventory) and per app
// (appinventory/devices). MDM stores the answers through its AppInventoryRecords port, which
// deviceAppStore implements; this service only reads.
import { yieldToEventLoop } from '../lib/slices.js';
import { requireRead, type Actor } from '../platform/auth/actor.js';
import type { Db } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import { deviceAppStore, type DeviceAppRow } from './store.js';

/** A device as the inventory names it. */
export interface InventoryDevice {
  id: number;
  uuid: string;
  platform: string;
}

/**
 * What the inventory needs of devices (the devices capability provides it, wired in
 * src/app/services.ts): the devices themselves, and its criteria search for lookups by Wi-Fi MAC.
 */
export interface InventoryDevices {
  /** The devices with these uuids (lower case); unknown ones are left out. */
  byUuids(uuids: string[]): Promise<InventoryDevice[]>;
  /** Every device, current as of the call. */
  all(): Promise<InventoryDevice[]>;
  /** The uuids of the devices a criteria query (Core's query language) matches, as `actor` may list them. */
  search(actor: Actor, query: string): Promise<string[]>;
}

export interface InventoryApp {
  inventoryId: number;
  name: string;
  /** Bundle id (iOS) or package name; null when the device did not say. */
  appId: string | null;
  /** What a person reads: the short (marketing) version when reported, else the bundle version. */
  version: string | null;
  shortVersion: string | null;
  /** Apple's Version (CFBundleVersion), as reported. */
  longVersion: string | null;
  bundleSize: number | null;
  managed: boolean | null;
  platform: string;
}

export interface DeviceInventory {
  deviceUuid: string | null;
  /** Only when the device was asked for by Wi-Fi MAC address. */
  wifiMacAddress?: string;
  found: boolean;
  platform: string | null;
  /** When the device last reported apps; null when it never did (or reported none). */
  inventoryReportedAt: string | null;
  appInventory: InventoryApp[];
}

export interface DeviceWithApp extends InventoryApp {
  deviceUuid: string;
  reportedAt: string;
}

/** The platforms a platformType may name, as Core clients write them (Reporting DB codes, app store names). */
const platformNames: Record<string, string> = {
  I: 'iOS',
  IOS: 'iOS',
  IPHONE: 'iOS',
  IPAD: 'iOS',
  A: 'Android',
  ANDROID: 'Android',
};

export function platformOfType(platformType: string): string {
  const platform = platformNames[platformType.trim().toUpperCase()];
  if (!platform) throw DomainError.validation('platformType', `must be one of ${Object.keys(platformNames).join(', ')} (any case)`);
  return platform;
}

/** A Wi-Fi MAC address: six hex pairs, separated by ':' or '-' or not at all. */
export const WIFI_MAC = /^[0-9A-Fa-f]{2}(?:([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4})$/;

function appView(row: DeviceAppRow, platform: string): InventoryApp {
  return {
    inventoryId: row.id,
    name: row.name,
    appId: row.identifier,
    version: row.shortVersion ?? row.version,
    shortVersion: row.shortVersion,
    longVersion: row.version,
    bundleSize: row.bundleSize,
    managed: row.managed,
    platform,
  };
}

export type AppSelector = { inventoryId: number } | { appName: string; platformType?: string } | { appId: string; platformType?: string };

export class InventoryService {
  constructor(
    private readonly db: Db,
    private readonly devices: InventoryDevices,
  ) {}

  /**
   * One entry per device asked for, in the order asked: first the uuids, then the devices each
   * Wi-Fi MAC address finds (an entry with found: false when it finds none, as for an unknown uuid).
   */
  async ofDevices(actor: Actor, ask: { deviceUuids: string[]; wifiMacs: string[] }): Promise<DeviceInventory[]> {
    requireRead(actor);
    const asked: Array<{ uuid: string | null; wifiMacAddress?: string }> = ask.deviceUuids.map((uuid) => ({ uuid }));
    for (const mac of ask.wifiMacs) {
      // Validated here too: the address goes into a criteria string literal.
      if (!WIFI_MAC.test(mac)) throw DomainError.validation('wifimacs', `${mac.slice(0, 32)} is not a Wi-Fi MAC address`);
      const uuids = await this.devices.search(actor, `common.wifi_mac_address = "${mac}"`);
      if (uuids.length === 0) asked.push({ uuid: null, wifiMacAddress: mac });
      for (const uuid of uuids) asked.push({ uuid, wifiMacAddress: mac });
    }
    const uuids = [...new Set(asked.flatMap(({ uuid }) => (uuid === null ? [] : [uuid.toLowerCase()])))];
    const byUuid = new Map((await this.devices.byUuids(uuids)).map((d) => [d.uuid.toLowerCase(), d]));
    const wanted = asked.map((a) => ({ ...a, device: a.uuid === null ? undefined : byUuid.get(a.uuid.toLowerCase()) }));
    // Device by device, letting other requests run in between: 25 iPads hold ~100,000 apps.
    const appsOf = new Map<number, DeviceAppRow[]>();
    for (const device of byUuid.values()) {
      await yieldToEventLoop();
      appsOf.set(device.id, await deviceAppStore.ofDevices(this.db, [device.id]));
    }
    return wanted.map(({ device, uuid, wifiMacAddress }) => {
      const apps = device ? (appsOf.get(device.id) ?? []) : [];
      const latest = apps.reduce<Date | null>((at, a) => (at === null || a.reportedAt > at ? a.reportedAt : at), null);
      return {
        deviceUuid: device?.uuid ?? uuid,
        ...(wifiMacAddress !== undefined ? { wifiMacAddress } : {}),
        found: device !== undefined,
        platform: device?.platform ?? null,
        inventoryReportedAt: latest?.toISOString() ?? null,
        appInventory: apps.map((a) => appView(a, device!.platform)),
      };
    });
  }

  /**
   * The devices holding an app: one inventory entry (every device with the same app at the same
   * version), a bundle id, or a name (case-insensitive), optionally on one platform.
   */
  async devicesWith(actor: Actor, app: AppSelector): Promise<DeviceWithApp[]> {
    requireRead(actor);
    const byId = new Map((await this.devices.all()).map((d) => [d.id, d]));
    let rows: DeviceAppRow[];
    let platform: string | undefined;
    if ('inventoryId' in app) {
      const entry = await deviceAppStore.findById(this.db, app.inventoryId);
      if (!entry) throw DomainError.notFound('App inventory entry', app.inventoryId);
      platform = byId.get(entry.deviceRef)?.platform;
      const at = { version: entry.version, shortVersion: entry.shortVersion };
      rows = await deviceAppStore.rowsOf(this.db, entry.identifier !== null ? { identifier: entry.identifier } : { name: entry.name }, at);
    } else {
      if (app.platformType !== undefined) platform = platformOfType(app.platformType);
      rows = await deviceAppStore.rowsOf(this.db, 'appId' in app ? { identifier: app.appId } : { name: app.appName });
    }
    return rows.flatMap((row) => {
      const device = byId.get(row.deviceRef);
      if (!device || (platform !== undefined && device.platform !== platform)) return [];
      return [{ deviceUuid: device.uuid, ...appView(row, device.platform), reportedAt: row.reportedAt.toISOString() }];
    });
  }
}

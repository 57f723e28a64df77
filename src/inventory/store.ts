// The one module that reads and writes the DeviceApp table (test/architecture/table-owners.test.ts):
// each device's installed apps, as its last InstalledApplicationList answer listed them.
import { slices, yieldToEventLoop } from '../lib/slices.js';
import type { DbTx, Prisma } from '../platform/db/client.js';

/** An app as a device reported it (the shape of MDM's ReportedApp port type). */
export interface ReportedApp {
  identifier: string | null;
  name: string | null;
  version: string | null;
  shortVersion: string | null;
  bundleSize: number | null;
  managed: boolean | null;
}

export interface DeviceAppRow {
  id: number;
  deviceRef: number;
  name: string;
  identifier: string | null;
  version: string | null;
  shortVersion: string | null;
  bundleSize: number | null;
  managed: boolean | null;
  reportedAt: Date;
}

/** What a device may put in a text field is bounded by its 2 MiB answer only: stored values are capped. */
const MAX_TEXT = 512;
/**
 * Rows per statement, with a yield to the event loop before each: a real iPad's answer lists a
 * few thousand apps, too many to write without letting other requests run in between.
 */
const SLICE = 100;

const capped = (s: string | null) => (s === null ? null : s.slice(0, MAX_TEXT));

/** Same app at the same version: its row (and id) is kept from one answer to the next. */
const appKey = (a: { identifier: string | null; name: string; version: string | null; shortVersion: string | null }) =>
  JSON.stringify([a.identifier, a.name, a.version, a.shortVersion]);

const keyFields = { name: true, identifier: true, version: true, shortVersion: true } as const;

const select = {
  id: true,
  deviceRef: true,
  name: true,
  identifier: true,
  version: true,
  shortVersion: true,
  bundleSize: true,
  managed: true,
  reportedAt: true,
} as const;

type Selected = {
  id: number;
  deviceRef: number;
  name: string;
  identifier: string | null;
  version: string | null;
  shortVersion: string | null;
  bundleSize: bigint | null;
  managed: boolean | null;
  reportedAt: Date;
};

const toRow = (r: Selected): DeviceAppRow => ({ ...r, bundleSize: r.bundleSize === null ? null : Number(r.bundleSize) });

const byDeviceThenName = [{ deviceRef: 'asc' as const }, { nameKey: 'asc' as const }, { id: 'asc' as const }];

export const deviceAppStore = {
  /**
   * Makes `apps` the device's inventory: rows of apps no longer listed go, new ones come, and an
   * app listed again at the same version keeps its row (its id is the inventoryId clients hold).
   */
  async replace(tx: DbTx, deviceRef: number, apps: ReportedApp[], at: Date): Promise<void> {
    const existing = await tx.deviceApp.findMany({
      where: { deviceRef },
      select: { id: true, bundleSize: true, managed: true, ...keyFields },
    });
    const kept = new Map(existing.map((r) => [appKey(r), r]));
    const seen = new Set<string>();
    const fresh: Prisma.DeviceAppCreateManyInput[] = [];
    const keptIds: number[] = [];
    let updates = 0;
    for (const app of apps) {
      const name = capped(app.name) ?? '';
      const row = {
        name,
        identifier: capped(app.identifier),
        version: capped(app.version),
        shortVersion: capped(app.shortVersion),
      };
      const key = appKey(row);
      // A bundle listed twice (macOS can) is one inventory entry.
      if (seen.has(key)) continue;
      seen.add(key);
      const bundleSize = app.bundleSize === null ? null : BigInt(Math.trunc(app.bundleSize));
      const before = kept.get(key);
      if (before) {
        keptIds.push(before.id);
        // Most answers repeat the last one: only what changed is written, one row at a time.
        if (before.bundleSize !== bundleSize || before.managed !== app.managed) {
          if (++updates % SLICE === 0) await yieldToEventLoop();
          await tx.deviceApp.update({ where: { id: before.id }, data: { bundleSize, managed: app.managed } });
        }
      } else {
        fresh.push({ ...row, nameKey: name.toLowerCase(), deviceRef, bundleSize, managed: app.managed, reportedAt: at });
      }
    }
    const keptSet = new Set(keptIds);
    const gone = existing.filter((r) => !keptSet.has(r.id)).map((r) => r.id);
    for (const ids of slices(gone, SLICE)) {
      await yieldToEventLoop();
      await tx.deviceApp.deleteMany({ where: { id: { in: ids } } });
    }
    for (const ids of slices(keptIds, SLICE)) {
      await yieldToEventLoop();
      await tx.deviceApp.updateMany({ where: { id: { in: ids } }, data: { reportedAt: at } });
    }
    for (const rows of slices(fresh, SLICE)) {
      await yieldToEventLoop();
      await tx.deviceApp.createMany({ data: rows });
    }
  },

  /** The inventories of these devices, each by name. */
  async ofDevices(tx: DbTx, deviceRefs: number[]): Promise<DeviceAppRow[]> {
    if (deviceRefs.length === 0) return [];
    const rows = await tx.deviceApp.findMany({ where: { deviceRef: { in: deviceRefs } }, select, orderBy: byDeviceThenName });
    return rows.map(toRow);
  },

  async findById(tx: DbTx, id: number): Promise<DeviceAppRow | null> {
    const row = await tx.deviceApp.findUnique({ where: { id }, select });
    return row && toRow(row);
  },

  /** Every row of an app, by bundle id or by name (case-insensitive), optionally at one version. */
  async rowsOf(
    tx: DbTx,
    app: { identifier: string } | { name: string },
    at?: { version: string | null; shortVersion: string | null },
  ): Promise<DeviceAppRow[]> {
    const rows = await tx.deviceApp.findMany({
      where: {
        ...('identifier' in app ? { identifier: app.identifier } : { nameKey: app.name.toLowerCase() }),
        ...(at ? { version: at.version, shortVersion: at.shortVersion } : {}),
      },
      select,
      orderBy: byDeviceThenName,
    });
    return rows.map(toRow);
  },
};

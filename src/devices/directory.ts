// An in-memory snapshot of every device (row + criteria facts), refreshed incrementally on
// each read: filter-label membership and searches then cost one pass of a compiled predicate
// instead of loading every row from SQLite.
//
// Refresh = rows whose updatedAt is at or after (watermark - margin), plus devices of users
// changed in that window, plus a count check. The margin covers transactions that commit a
// little after a concurrent read advanced the watermark. Deleted devices are dropped through
// forget(); the count check catches anything else and falls back to a full reload.
import type { DeviceFacts } from '../lib/criteria/index.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db } from '../platform/db/client.js';
import { deviceFacts, type DeviceRow } from './fields.js';
import { slices, yieldToEventLoop } from '../lib/slices.js';
import { deviceStore, type DevicePageFilter } from './store.js';

export interface DeviceEntry {
  row: DeviceRow;
  facts: DeviceFacts;
}

const marginMs = 2_000;
/** Rows read per query: a few tens of milliseconds of work between two yields. */
const pageSize = 500;

export class DeviceDirectory {
  private entries = new Map<number, DeviceEntry>();
  /** The entries ordered by id; rebuilt only when devices appear or disappear. */
  private ordered: DeviceEntry[] | null = null;
  private loaded = false;
  private watermark = 0;
  private refreshing: Promise<void> | undefined;
  /** The write counter at the last refresh: unchanged means nothing to re-read. */
  private seenChanges = -1;

  constructor(
    private readonly db: Db,
    private readonly changes: ChangeCounter,
  ) {}

  /** Every device, current as of this call, ordered by id. */
  async all(): Promise<DeviceEntry[]> {
    await this.refresh();
    this.ordered ??= [...this.entries.values()].sort((a, b) => a.row.id - b.row.id);
    return this.ordered;
  }

  /**
   * Counts a write the counting client did not see (raw SQL). Call it inside the transaction:
   * the transaction counts once more at its end, so the next read refreshes after the commit.
   */
  noteWrite(): void {
    this.changes.bump();
  }

  /** Drop a deleted device now rather than at the next count check. */
  forget(deviceId: number): void {
    if (this.entries.delete(deviceId)) this.ordered = null;
  }

  private refresh(): Promise<void> {
    // Concurrent readers share one refresh.
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const changesAtStart = this.changes.value;
    if (this.loaded && changesAtStart === this.seenChanges) return;
    await this.readChanges();
    this.seenChanges = changesAtStart;
  }

  private async readChanges(): Promise<void> {
    const started = Date.now();
    if (!this.loaded) {
      await this.reload(started);
      return;
    }
    const since = new Date(this.watermark - marginMs);
    const changedUsers = await this.db.user.findMany({ where: { updatedAt: { gte: since } }, select: { id: true } });
    await this.readPages({ updatedSince: since }, (row) => this.put(row));
    for (const userRefs of slices(
      changedUsers.map((u) => u.id),
      pageSize,
    ))
      await this.readPages({ userRefs }, (row) => this.put(row));
    const count = await deviceStore.count(this.db);
    if (count !== this.entries.size) {
      await this.reload(started);
      return;
    }
    this.watermark = started;
  }

  private async reload(started: number): Promise<void> {
    const entries = new Map<number, DeviceEntry>();
    await this.readPages({ all: true }, (row) => entries.set(row.id, { row, facts: deviceFacts(row) }));
    this.entries = entries;
    this.ordered = null;
    this.loaded = true;
    this.watermark = started;
  }

  /**
   * Reads matching devices a page at a time in id order, yielding to the event loop between
   * pages, so that reading 10,000 devices never holds the event loop for long.
   */
  private async readPages(filter: DevicePageFilter, each: (row: DeviceRow) => void): Promise<void> {
    let after = 0;
    for (;;) {
      const page = await deviceStore.readPage(this.db, filter, after, pageSize);
      for (const row of page) each(row);
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.id;
      await yieldToEventLoop();
    }
  }

  private put(row: DeviceRow): void {
    const existing = this.entries.get(row.id);
    if (existing) {
      // Updated in place, so the ordered list stays valid.
      existing.row = row;
      existing.facts = deviceFacts(row);
      return;
    }
    this.entries.set(row.id, { row, facts: deviceFacts(row) });
    this.ordered = null;
  }
}

// An in-memory copy of every device's criteria facts: filter-label membership, device listing,
// search and counts answer from it instead of reading rows from SQLite per request.
//
// Loading: one query per 5,000 devices that SQLite answers as one JSON text (the fact columns
// only, src/devices/store.ts factRows); facts are built from the parsed values directly.
//
// Keeping current, on each read:
// - every Device write goes through src/devices/store.ts, which notes the device id after the
//   write ran (deviceWrites). A read re-reads the ids noted since its last position, through the
//   one serialized connection: a noted write inside a transaction holds that connection until
//   its commit, so the re-read sees the committed row (or the old one after a rollback).
// - a user's changes (name, email) show in their devices' facts: users updated since the last
//   read (minus a margin for transactions that commit late) have their devices re-read.
// - writes that bypass the store (another process, raw SQL in a test) are caught by a sweep at
//   most every few seconds: rows updated since the last sweep, and a count check.
// When more devices changed than a re-read is worth (a bulk import), everything is reloaded.
//
// Readers that keep derived state (a filter label's members, a sort order) ask which devices
// changed since the version they were built at (changedSince) and update just those: one
// device's change costs one predicate evaluation per filter label, not a pass over every device.
import type { DeviceFacts } from '../lib/criteria/index.js';
import { yieldToEventLoop } from '../lib/slices.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db } from '../platform/db/client.js';
import { compareSortKeys, factsFromColumns, sortKeyReader, type SortKey } from './fields.js';
import { deviceStore, deviceWrites, type FactsFilter } from './store.js';
import type { FieldSort } from '../lib/criteria/index.js';

/** One device in the directory: its facts, replaced whenever the device is re-read. */
export interface DeviceEntry {
  facts: DeviceFacts;
}

/** Users updated this long before the last read are looked at again (transactions commit after their writes). */
const marginMs = 2_000;
/** Devices per load query: a few milliseconds of work between two yields to the event loop. */
const loadChunk = 2_000;
/** Ids per re-read query (under SQLite's bound-parameter limit). */
const rereadChunk = 500;
/** The sweep for writes that bypassed the store runs at most this often. */
const sweepEveryMs = 5_000;
/** Changed ids kept for readers catching up; older readers rebuild. */
const changeLogLimit = 50_000;

export interface MemberIndex {
  /** Ids of the devices the predicate matches, current as of the read that returned it. */
  readonly members: ReadonlySet<number>;
}

interface PredicateIndex {
  predicate: (facts: DeviceFacts) => boolean;
  members: Set<number>;
  version: number;
}

interface SortOrder {
  key: (facts: DeviceFacts) => SortKey;
  /** Entries in order: key ascending (null lowest), ties by id. */
  entries: DeviceEntry[];
  keys: Map<number, SortKey>;
  version: number;
}

export class DeviceDirectory {
  private entries = new Map<number, DeviceEntry>();
  /** The entries ordered by id; null after a device disappeared or arrived out of order. */
  private ordered: DeviceEntry[] | null = [];
  private loaded = false;
  private refreshing: Promise<void> | undefined;
  /** A bulk write happened whose ids were not noted: the next refresh reloads. */
  private reloadDue = false;
  /** Position in deviceWrites up to which noted writes are read. */
  private position = 0;
  /** The write counter at the last refresh: unchanged (and nothing noted) means nothing to read. */
  private seenChanges = -1;
  /** When the last refresh started: users updated after it (minus the margin) are re-read. */
  private watermark = 0;
  private lastSweep = 0;
  /** Moves whenever an entry changes, appears or disappears. */
  private version = 0;
  /** Ids changed at each version (a full reload clears it: readers older than `logStart` rebuild). */
  private changeLog: Array<{ version: number; ids: number[] }> = [];
  private logStart = 0;
  private loggedIds = 0;
  private readonly indexes = new Map<string, PredicateIndex>();
  private readonly orders = new Map<string, SortOrder>();
  /** How many full loads ran (tests and the bench read it). */
  loads = 0;

  private readonly sweepEveryMs: number;

  constructor(
    private readonly db: Db,
    private readonly changes: ChangeCounter,
    options: { sweepEveryMs?: number } = {},
  ) {
    this.sweepEveryMs = options.sweepEveryMs ?? sweepEveryMs;
  }

  /** Every device's entry, current as of this call, ordered by id. */
  async all(): Promise<readonly DeviceEntry[]> {
    await this.refresh();
    return this.byId();
  }

  /** Every device's entry in the order of a sortable field: ascending with null first, ties by id; descending reversed, ties still by id. */
  async sorted(sort: FieldSort, order: 'asc' | 'desc'): Promise<readonly DeviceEntry[]> {
    await this.refresh();
    if ('column' in sort && sort.column === 'id') return order === 'asc' ? this.byId() : this.byIdDescending();
    const name = `${'column' in sort ? sort.column : `user.${sort.userColumn}`}:${order}`;
    let cached = this.orders.get(name);
    if (!cached || !this.stillSorted(cached)) {
      cached = this.sortAll(sortKeyReader(sort), order);
      if (this.orders.size >= 32) this.orders.delete(this.orders.keys().next().value!);
      this.orders.set(name, cached);
    }
    return cached.entries;
  }

  /**
   * The devices a predicate matches, kept per `key` (a filter label's criteria) and brought up to
   * date by re-evaluating only the devices changed since the last call.
   */
  async matching(key: string, predicate: (facts: DeviceFacts) => boolean): Promise<MemberIndex> {
    await this.refresh();
    let index = this.indexes.get(key);
    const changed = index ? this.changedSince(index.version) : null;
    if (!index || !changed) {
      const members = new Set<number>();
      for (const e of this.byId()) if (predicate(e.facts)) members.add(e.facts.id);
      index = { predicate, members, version: this.version };
      if (this.indexes.size >= 256) this.indexes.delete(this.indexes.keys().next().value!);
      this.indexes.set(key, index);
      return index;
    }
    for (const id of changed) {
      const entry = this.entries.get(id);
      if (entry && index.predicate(entry.facts)) index.members.add(id);
      else index.members.delete(id);
    }
    index.version = this.version;
    // Most recently used last: eviction takes the least recently used.
    this.indexes.delete(key);
    this.indexes.set(key, index);
    return index;
  }

  /** Counts a write the store did not note (raw SQL elsewhere): the next read refreshes. */
  noteWrite(): void {
    this.changes.bump();
  }

  /** Many devices written without their ids noted (a bulk import): the next read reloads everything, once. */
  noteBulkWrite(): void {
    this.reloadDue = true;
    this.changes.bump();
  }

  /** Drop a deleted device now (its noted write would drop it at the next read anyway). */
  forget(deviceId: number): void {
    if (this.entries.delete(deviceId)) this.changed([deviceId], true);
  }

  /** Ids changed since `version`, each once; null when the log no longer reaches back that far. */
  changedSince(version: number): Iterable<number> | null {
    if (version === this.version) return [];
    if (version < this.logStart) return null;
    const ids = new Set<number>();
    for (const batch of this.changeLog) if (batch.version > version) for (const id of batch.ids) ids.add(id);
    return ids;
  }

  private byId(): DeviceEntry[] {
    if (!this.ordered) {
      this.ordered = [...this.entries.values()];
      this.ordered.sort((a, b) => a.facts.id - b.facts.id);
    }
    return this.ordered;
  }

  private descending: { version: number; entries: DeviceEntry[] } | null = null;

  private byIdDescending(): DeviceEntry[] {
    if (this.descending?.version !== this.version) this.descending = { version: this.version, entries: [...this.byId()].reverse() };
    return this.descending.entries;
  }

  private sortAll(key: (facts: DeviceFacts) => SortKey, order: 'asc' | 'desc'): SortOrder {
    const keys = new Map<number, SortKey>();
    // Text without surrogates or U+E000..U+FFFF orders the same by UTF-16 unit as by code point:
    // then the engine's own comparison will do (most keys: serials, names, versions).
    let native = true;
    const keyed = this.byId().map((entry) => {
      const k = key(entry.facts);
      keys.set(entry.facts.id, k);
      if (native && typeof k === 'string' && /[\ud800-\uffff]/.test(k)) native = false;
      return { entry, k };
    });
    const sign = order === 'asc' ? 1 : -1;
    const compare = native ? compareNative : compareSortKeys;
    keyed.sort((a, b) => compare(a.k, b.k) * sign || a.entry.facts.id - b.entry.facts.id);
    return { key, entries: keyed.map((x) => x.entry), keys, version: this.version };
  }

  /** A cached order is still right when no device changed its key, appeared or disappeared since. */
  private stillSorted(order: SortOrder): boolean {
    const changed = this.changedSince(order.version);
    if (!changed) return false;
    for (const id of changed) {
      const entry = this.entries.get(id);
      if (!entry || !order.keys.has(id) || order.keys.get(id) !== order.key(entry.facts)) return false;
    }
    order.version = this.version;
    return true;
  }

  private changed(ids: number[], removedOrAdded: boolean): void {
    if (ids.length === 0) return;
    this.version++;
    this.changeLog.push({ version: this.version, ids });
    this.loggedIds += ids.length;
    while (this.loggedIds > changeLogLimit && this.changeLog.length > 1) {
      const dropped = this.changeLog.shift()!;
      this.loggedIds -= dropped.ids.length;
      this.logStart = dropped.version;
    }
    if (removedOrAdded) this.ordered = null;
  }

  private queued: Promise<void> | undefined;

  private refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = undefined;
      });
      return this.refreshing;
    }
    // The refresh under way started before this read, so it may miss a write noted since: this
    // read waits for the next one (shared by every read arriving meanwhile).
    this.queued ??= this.refreshing
      .catch(() => undefined) // that refresh's own readers get its error; this one tries afresh
      .then(() => {
        this.queued = undefined;
        return this.refresh();
      });
    return this.queued;
  }

  private async doRefresh(): Promise<void> {
    const changesAtStart = this.changes.value;
    const noted = deviceWrites.since(this.position);
    if (this.loaded && changesAtStart === this.seenChanges && noted?.length === 0 && !this.reloadDue) return;
    const started = Date.now();
    const positionAtStart = deviceWrites.position;
    if (!this.loaded || this.reloadDue || !noted || noted.length > Math.max(rereadChunk * 10, this.entries.size / 4)) {
      await this.reload();
    } else {
      const ids = new Set(noted);
      const users = await this.db.user.findMany({
        where: { updatedAt: { gte: new Date(this.watermark - marginMs) } },
        select: { id: true },
      });
      const sweep = started - this.lastSweep >= this.sweepEveryMs;
      if (sweep) for (const id of await deviceStore.idsUpdatedSince(this.db, new Date(this.lastSweep - marginMs))) ids.add(id);
      await this.reread(
        [...ids],
        users.map((u) => u.id),
      );
      if (sweep) {
        this.lastSweep = started;
        if ((await deviceStore.fingerprint(this.db)).count !== this.entries.size) await this.reload();
      }
    }
    this.position = positionAtStart;
    this.seenChanges = changesAtStart;
    this.watermark = started;
  }

  /** Reads every device afresh. Readers rebuild what they derived (the change log starts over). */
  private async reload(): Promise<void> {
    const started = Date.now();
    // Cleared before reading: a bulk write noted while this reload runs makes the next one reload again.
    this.reloadDue = false;
    const entries = new Map<number, DeviceEntry>();
    for (let after = 0; ;) {
      const rows = await deviceStore.factRows(this.db, { afterId: after, limit: loadChunk });
      for (const columns of rows) {
        const facts = factsFromColumns(columns);
        entries.set(facts.id, { facts });
        after = facts.id;
      }
      if (rows.length < loadChunk) break;
      await yieldToEventLoop();
    }
    this.entries = entries;
    this.ordered = null;
    this.version++;
    this.changeLog = [];
    this.loggedIds = 0;
    this.logStart = this.version;
    this.loaded = true;
    this.lastSweep = started;
    this.loads++;
  }

  /** Re-reads these devices and the devices of these users; a device no longer there leaves. */
  private async reread(ids: number[], userRefs: number[]): Promise<void> {
    const present = new Set<number>();
    const changed = new Set<number>();
    let arrived = false;
    const read = async (filter: FactsFilter) => {
      for (const columns of await deviceStore.factRows(this.db, filter)) {
        const facts = factsFromColumns(columns);
        present.add(facts.id);
        const entry = this.entries.get(facts.id);
        if (entry) {
          // Unchanged (re-read by a sweep, or a write that changed no fact): readers keep what they derived.
          if (!sameFacts(entry.facts, facts)) {
            entry.facts = facts;
            changed.add(facts.id);
          }
          continue;
        }
        const added = { facts };
        this.entries.set(facts.id, added);
        changed.add(facts.id);
        // Ids only grow (AUTOINCREMENT): a new device normally goes at the end of the id order.
        const last = this.ordered?.at(-1);
        if (this.ordered && (!last || last.facts.id < facts.id)) this.ordered.push(added);
        else arrived = true;
      }
    };
    for (let i = 0; i < ids.length; i += rereadChunk) await read({ ids: ids.slice(i, i + rereadChunk) });
    for (let i = 0; i < userRefs.length; i += rereadChunk) await read({ userRefs: userRefs.slice(i, i + rereadChunk) });
    const gone = ids.filter((id) => !present.has(id) && this.entries.delete(id));
    this.changed([...changed, ...gone], arrived || gone.length > 0);
  }
}

/** compareSortKeys for keys known to order alike by UTF-16 unit and by code point. */
function compareNative(a: SortKey, b: SortKey): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === typeof b) return a < b ? -1 : 1;
  return typeof a === 'number' ? -1 : 1;
}

/** Two facts of one device alike in every value criteria, listings and sorting read. */
function sameFacts(a: DeviceFacts, b: DeviceFacts): boolean {
  for (const k of Object.keys(a) as Array<keyof DeviceFacts>) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (x instanceof Date && y instanceof Date) {
      if (x.getTime() !== y.getTime()) return false;
    } else if (typeof x === 'object' && typeof y === 'object' && x !== null && y !== null) {
      if (JSON.stringify(x) !== JSON.stringify(y)) return false;
    } else return false;
  }
  return true;
}

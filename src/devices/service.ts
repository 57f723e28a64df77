// Devices: registration (single; the CSV bulk import is bulk.ts), listing and search, details, attributes.
import { randomUUID } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx, Prisma } from '../platform/db/client.js';
import { noEvents, type EventPublisher } from '../platform/events.js';
import { searchFields } from '../lib/criteria/index.js';
import { DomainError } from '../platform/errors/index.js';
import { userStore } from '../users/index.js';
import type { UserDevices } from '../users/index.js';
import { compileOrThrow, queryMaxLength } from './criteria.js';
import type { DeviceDirectory } from './directory.js';
import {
  customAttributes,
  deviceFields,
  summaryOf,
  deviceSummary,
  project,
  reservedKeys,
  resolveProjection,
  sortColumns,
  type DeviceRow,
  type Projection,
} from './fields.js';
import type { DeviceFacts } from '../lib/criteria/index.js';
import { deviceStore } from './store.js';

export interface DeviceInput {
  platform: 'iOS' | 'Android';
  osVersion?: string | null;
  model?: string | null;
  manufacturer?: string | null;
  deviceName?: string | null;
  serialNumber?: string | null;
  udid?: string | null;
  imei?: string | null;
  wifiMac?: string | null;
  ipAddress?: string | null;
  phoneNumber?: string | null;
  owner?: 'COMPANY' | 'EMPLOYEE';
  userId?: string | null;
}

export interface DeviceAttributesInput {
  osVersion?: string | null;
  model?: string | null;
  manufacturer?: string | null;
  deviceName?: string | null;
  serialNumber?: string | null;
  imei?: string | null;
  wifiMac?: string | null;
  ipAddress?: string | null;
  phoneNumber?: string | null;
  owner?: 'COMPANY' | 'EMPLOYEE';
  status?: string;
  compliant?: boolean;
  quarantined?: boolean;
  userId?: string | null;
  /** custom.device.* values; null deletes one. */
  custom?: Record<string, string | null>;
}

export interface DeviceListQuery {
  labelId?: number;
  query?: string;
  /** fields= names as sent; unknown ones are reported back (see `list`). */
  fields?: string[];
  page: { limit: number; offset: number };
  sortField?: string;
  order: 'asc' | 'desc';
}

/** Adds name/value pairs to a device's details (e.g. MDM enrollment and push state). */
export type DetailSource = (device: DeviceRow) => Promise<Record<string, string | null>>;

/** A label as devices see it: listing by label, a device's labels, labels a CSV row names. */
export interface DeviceLabel {
  id: number;
  name: string;
  /** The lower-cased name labels are unique by. */
  nameKey: string;
  isStatic: boolean;
  isSystem: boolean;
  criteria: string | null;
}

/**
 * What devices need of labels. Labels are computed from device facts, so the labels capability
 * depends on devices, not the reverse: it implements this port (wired in src/app/services.ts).
 */
export interface DeviceLabels {
  findById(tx: DbTx, id: number): Promise<DeviceLabel | null>;
  /** Labels by name key (lower-cased name), for the bulk import. */
  findByNameKeys(tx: DbTx, nameKeys: string[]): Promise<DeviceLabel[]>;
  /** Ids of the devices in a label: stored (manual) or matching its criteria now (filter, system). */
  memberIds(tx: DbTx, label: DeviceLabel): Promise<ReadonlySet<number>>;
  /** Labels a device is in: manual, matching filter, system. */
  labelsOfDevice(tx: DbTx, device: DeviceRow): Promise<DeviceLabel[]>;
  /** The same labels as GET /devices/{uuid}/labels answers them (shaped by the labels capability, in Core's names). */
  deviceLabelViews(tx: DbTx, device: DeviceRow): Promise<DeviceLabelView[]>;
}

/** A label as a device's label list answers it: Core's label object, its id a string (as Core clients compare it). */
export interface DeviceLabelView {
  id: string;
  name: string;
  isStatic: boolean;
  isSystem: boolean;
  [field: string]: unknown;
}

/** A user's devices, as the users capability asks for them (its UserDevices port). */
export const devicesOfUsers: UserDevices = {
  count: (tx, userRef) => deviceStore.count(tx, { userRef }),
  ids: (tx, userRef) => deviceStore.idsOfUser(tx, userRef),
};

export class DeviceService {
  detailSources: DetailSource[] = [];

  constructor(
    private readonly db: Db,
    private readonly directory: DeviceDirectory,
    private readonly labels: DeviceLabels,
    /** Told after any committed device change that can alter policy ('devices.changed'). */
    private readonly events: EventPublisher = noEvents,
  ) {}

  private changed(ids: number[]): void {
    this.events.publish('devices.changed', { deviceIds: ids });
  }

  async register(actor: Actor, input: DeviceInput) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const d = await createDevice(tx, input);
      await recordAudit(tx, { actor: actor.username, action: 'create', objectType: 'device', objectId: d.uuid, details: { ...input } });
      return d;
    });
    this.changed([row.id]);
    return deviceSummary(row);
  }

  /**
   * A page of devices, answered from the device directory: the facts criteria read, in the order
   * of sortField (typed: versions as versions, dates as instants, numbers as numbers; null lowest,
   * ties by id), filtered by label and query. `fields` projects each result onto the names asked
   * for (every known one present, null when unknown); names not in the catalogue come back in
   * `unknownFields` for the edge to warn about. None known, or a reserved name, is refused.
   */
  async list(actor: Actor, q: DeviceListQuery) {
    requireRead(actor);
    const projection = q.fields && q.fields.length > 0 ? checkedProjection(q.fields) : null;
    return this.page(q, projection, (facts) => (projection ? project(projection, facts) : cachedSummary(facts)));
  }

  /**
   * The same page as `list`, each result as JSON text: a summary's text is written once per
   * facts object and kept with it, so a listing costs a slice and a join rather than the
   * serialization of 50 objects (which was the largest per-request cost).
   */
  async listText(actor: Actor, q: DeviceListQuery) {
    requireRead(actor);
    const projection = q.fields && q.fields.length > 0 ? checkedProjection(q.fields) : null;
    return this.page(q, projection, (facts) => (projection ? JSON.stringify(project(projection, facts)) : cachedSummaryText(facts)));
  }

  private async page<T>(q: DeviceListQuery, projection: ReturnType<typeof checkedProjection> | null, output: (facts: DeviceFacts) => T) {
    const predicate = q.query !== undefined && q.query.trim() !== '' ? compileOrThrow(q.query, 'query', queryMaxLength, true) : null;
    const label = q.labelId !== undefined ? await this.labels.findById(this.db, q.labelId) : null;
    if (q.labelId !== undefined && !label) throw DomainError.notFound('Label', q.labelId);
    const unknownFields = projection?.unknown ?? [];
    const members = label ? await this.labels.memberIds(this.db, label) : null;
    const sort = (q.sortField ? sortColumns.get(q.sortField) : undefined) ?? { column: 'id' };
    const entries = await this.directory.sorted(sort, q.order);
    const { offset, limit } = q.page;
    if (!members && !predicate) {
      return { total: entries.length, results: entries.slice(offset, offset + limit).map((e) => output(e.facts)), unknownFields };
    }
    const page: DeviceFacts[] = [];
    let total = 0;
    for (const { facts } of entries) {
      if (members && !members.has(facts.id)) continue;
      if (predicate && !predicate(facts)) continue;
      if (total >= offset && page.length < limit) page.push(facts);
      total++;
    }
    return { total, results: page.map(output), unknownFields };
  }

  async count(actor: Actor, q: { labelId?: number; query?: string }) {
    const { total } = await this.list(actor, { labelId: q.labelId, query: q.query, page: { limit: 0, offset: 0 }, order: 'asc' });
    return total;
  }

  /** The criteria fields, plus every custom.device.* name some device has. */
  async searchFields(actor: Actor) {
    requireRead(actor);
    // From the in-memory directory: reading every device's attributes through Prisma would
    // hold the event loop for about 0.2 ms a device.
    const names = new Set<string>();
    for (const { facts } of await this.directory.all()) for (const k of Object.keys(facts.custom)) names.add(k);
    return searchFields({ customAttributeNames: [...names].sort() });
  }

  async get(actor: Actor, uuid: string): Promise<DeviceRow> {
    requireRead(actor);
    const d = await deviceStore.findByUuid(this.db, uuid);
    if (!d) throw DomainError.notFound('Device', uuid);
    return d;
  }

  async details(actor: Actor, uuid: string) {
    const d = await this.get(actor, uuid);
    const extra = await Promise.all(this.detailSources.map((source) => source(d)));
    // The whole catalogue (as search_fields lists it), then what other capabilities add.
    return Object.entries(Object.assign(deviceFields(d), ...extra)).map(([name, value]) => ({
      name,
      value: value == null ? null : Array.isArray(value) ? value.join(',') : String(value),
    }));
  }

  async labelsOf(actor: Actor, uuid: string) {
    const d = await this.get(actor, uuid);
    return this.labels.deviceLabelViews(this.db, d);
  }

  async setAttributes(actor: Actor, uuid: string, input: DeviceAttributesInput) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const d = await deviceStore.findByUuid(tx, uuid);
      if (!d) throw DomainError.notFound('Device', uuid);
      const { custom, userId, ...fields } = input;
      const data: Prisma.DeviceUncheckedUpdateInput = { ...fields };
      // The serial rule (see assertSerialFree) holds whenever a device ends up not retired.
      const serialAfter = fields.serialNumber !== undefined ? fields.serialNumber : d.serialNumber;
      const statusAfter = fields.status ?? d.status;
      if (serialAfter && statusAfter !== 'RETIRED' && (serialKey(serialAfter) !== serialKey(d.serialNumber) || d.status === 'RETIRED')) {
        await assertSerialFree(tx, serialAfter, d.id);
      }
      if (userId !== undefined) data.userRef = userId === null ? null : await resolveUser(tx, userId);
      if (custom) {
        const merged = customAttributes(d);
        for (const [k, v] of Object.entries(custom)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        if (Object.keys(merged).length > 200) throw DomainError.validation('custom', 'at most 200 custom attributes per device');
        data.customAttributes = JSON.stringify(merged);
      }
      const u = await deviceStore.update(tx, d.id, data);
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'device', objectId: uuid, details: { ...input } });
      return u;
    });
    this.changed([row.id]);
    return deviceSummary(row);
  }

  async remove(actor: Actor, uuid: string) {
    requireWrite(actor);
    const id = await this.db.$transaction(async (tx) => {
      const d = await deviceStore.findByUuid(tx, uuid);
      if (!d) throw DomainError.notFound('Device', uuid);
      // Label memberships cascade with the device.
      await deviceStore.remove(tx, d.id);
      await recordAudit(tx, { actor: actor.username, action: 'delete', objectType: 'device', objectId: uuid });
      return d.id;
    });
    this.directory.forget(id);
    this.changed([id]);
  }
}

async function resolveUser(tx: DbTx, userId: string): Promise<number> {
  const u = await userStore.findByUserId(tx, userId);
  if (!u) throw DomainError.validation('userId', `no user ${userId}; create it with POST /api/v2/users first`);
  return u.id;
}

async function createDevice(tx: DbTx, input: DeviceInput): Promise<DeviceRow> {
  if (input.udid && (await deviceStore.findByUdid(tx, input.udid))) {
    throw new DomainError('device.duplicate', `udid: a device with UDID ${input.udid} is already registered`, { field: 'udid' });
  }
  if (input.serialNumber) await assertSerialFree(tx, input.serialNumber);
  const userRef = input.userId ? await resolveUser(tx, input.userId) : null;
  return deviceStore.create(tx, newDeviceData(input, randomUUID(), userRef));
}

function newDeviceData(input: DeviceInput, uuid: string, userRef: number | null): Prisma.DeviceUncheckedCreateInput {
  return {
    uuid,
    platform: input.platform,
    osVersion: input.osVersion ?? null,
    model: input.model ?? null,
    manufacturer: input.manufacturer ?? (input.platform === 'iOS' ? 'Apple' : null),
    deviceName: input.deviceName ?? null,
    serialNumber: input.serialNumber ?? null,
    udid: input.udid ?? null,
    imei: input.imei ?? null,
    wifiMac: input.wifiMac ?? null,
    ipAddress: input.ipAddress ?? null,
    phoneNumber: input.phoneNumber ?? null,
    owner: input.owner ?? 'COMPANY',
    userRef,
  };
}

/**
 * Core's rule: a serial number identifies one device. A second device with the serial of a
 * device that is not RETIRED is refused (409); a retired device's serial may be registered
 * again (the same hardware re-enrolled). Compared without regard to case: serials are
 * case-insensitive identifiers (Apple prints them upper-case, tools often lower-case them).
 */
async function assertSerialFree(tx: DbTx, serialNumber: string, exceptDeviceId?: number): Promise<void> {
  const holders = await deviceStore.activeSerialHolders(tx, [serialKey(serialNumber)!]);
  const holder = holders.find((h) => h.id !== exceptDeviceId);
  if (holder) {
    throw new DomainError(
      'device.duplicate',
      `serialNumber: device ${holder.uuid} (${holder.status}) already has serial number ${holder.serialNumber}; retire it first`,
      { field: 'serialNumber' },
    );
  }
}

/** The comparison key of a serial number (see assertSerialFree), or undefined for none. */
function serialKey(serialNumber: string | null | undefined): string | undefined {
  return serialNumber ? serialNumber.toUpperCase() : undefined;
}

/**
 * Resolves fields=: a reserved name (__proto__...) or a list with no known name is refused,
 * naming the first unknown one and the closest catalogue name; otherwise unknown names are
 * answered as warnings (the Axonius adapter sends two misspelt names on every call, and Core
 * evidently answers it).
 */
function checkedProjection(names: string[]): Projection {
  const projection = resolveProjection(names);
  // __proto__, constructor, prototype: alone or as a custom attribute's name
  const reserved = projection.unknown.find((u) => reservedKeys.has(u.name) || reservedKeys.has(u.name.slice(u.name.lastIndexOf('.') + 1)));
  const refused = reserved ?? (projection.fields.length === 0 ? projection.unknown[0] : undefined);
  if (refused) {
    const hint = refused.suggestion ? `; did you mean ${refused.suggestion}?` : '';
    throw new DomainError(
      'criteria.unknownField',
      `fields: unknown field ${JSON.stringify(refused.name)}${hint} (see GET /api/v2/devices/search_fields)`,
      {
        field: 'fields',
      },
    );
  }
  return projection;
}

/**
 * A device's summary, built once per facts object: the directory replaces a device's facts when
 * it changes, so an entry here lives exactly as long as what it was built from. Frozen: every
 * listing that shows the device shares it.
 */
const summaries = new WeakMap<DeviceFacts, Record<string, unknown>>();
function cachedSummary(facts: DeviceFacts): Record<string, unknown> {
  let summary = summaries.get(facts);
  if (!summary) {
    summary = Object.freeze(summaryOf(facts));
    summaries.set(facts, summary);
  }
  return summary;
}

/** The summary's JSON text, likewise kept as long as the facts object it was written from. */
const summaryTexts = new WeakMap<DeviceFacts, string>();
function cachedSummaryText(facts: DeviceFacts): string {
  let text = summaryTexts.get(facts);
  if (text === undefined) {
    text = JSON.stringify(cachedSummary(facts));
    summaryTexts.set(facts, text);
  }
  return text;
}

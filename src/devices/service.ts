// Devices: registration (single and CSV bulk), listing and search, details, attributes.
import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { requireRead, requireWrite, type Actor } from '../auth/actor.js';
import { recordAudit } from '../audit/store.js';
import type { Db, DbTx, Prisma } from '../db/client.js';
import { searchFields } from '../criteria/index.js';
import { ApiError, type ErrorMessage } from '../http/errors.js';
import { compileOrThrow, queryMaxLength } from '../labels/membership.js';
import type { LabelService } from '../labels/service.js';
import { labelStore } from '../labels/store.js';
import { userStore } from '../users/store.js';
import { customAttributes, deviceFields, sortColumns, type DeviceRow } from './fields.js';
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
  fields?: string[];
  page: { limit: number; offset: number };
  sortField?: string;
  order: 'asc' | 'desc';
}

/** Called after any device change that can alter policy (the MDM issue reconciles here). */
export type DeviceChangeListener = (deviceIds: number[]) => Promise<void> | void;

/** Adds name/value pairs to a device's details (e.g. MDM enrollment and push state). */
export type DetailSource = (device: DeviceRow) => Promise<Record<string, string | null>>;

export class DeviceService {
  listeners: DeviceChangeListener[] = [];
  detailSources: DetailSource[] = [];

  constructor(
    private readonly db: Db,
    private readonly labels: LabelService,
  ) {}

  private async changed(ids: number[]) {
    for (const l of this.listeners) await l(ids);
  }

  async register(actor: Actor, input: DeviceInput) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const d = await createDevice(tx, input);
      await recordAudit(tx, { actor: actor.username, action: 'create', objectType: 'device', objectId: d.uuid, details: { ...input } });
      return d;
    });
    await this.changed([row.id]);
    return deviceFields(row);
  }

  /** CSV bulk registration: all rows or none, errors numbered by CSV line. */
  async registerCsv(actor: Actor, csv: string, validateRow: (row: Record<string, string>) => { ok: true; value: DeviceInput & { labels: string[] } } | { ok: false; field: string; message: string }) {
    requireWrite(actor);
    let records: Record<string, string>[];
    try {
      records = parseCsv(csv, { columns: (h: string[]) => h.map((c) => c.trim()), skip_empty_lines: true, trim: true, bom: true, max_record_size: 64 * 1024 });
    } catch (err) {
      throw ApiError.badRequest('com.mobileiron.vsp.messages.csv', `CSV could not be parsed: ${(err as Error).message}`);
    }
    if (records.length === 0) throw ApiError.badRequest('com.mobileiron.vsp.messages.csv', 'CSV has no data rows');
    if (records.length > 10_000) throw ApiError.badRequest('com.mobileiron.vsp.messages.csv', 'CSV has more than 10000 rows; split it');
    const allowed = new Set(['userId', 'platform', 'ownership', 'serialNumber', 'udid', 'imei', 'model', 'osVersion', 'deviceName', 'labels']);
    const unknown = Object.keys(records[0]!).filter((c) => !allowed.has(c));
    if (unknown.length) throw ApiError.badRequest('com.mobileiron.vsp.messages.csv', `Unknown CSV column(s): ${unknown.join(', ')}; expected ${[...allowed].join(',')}`);

    const errors: ErrorMessage[] = [];
    const rows: Array<DeviceInput & { labels: string[]; line: number }> = [];
    records.forEach((rec, i) => {
      const line = i + 2; // line 1 is the header
      const v = validateRow(rec);
      if (v.ok) rows.push({ ...v.value, line });
      else errors.push({ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.csv.row', localizedMessage: `row ${line}: ${v.field}: ${v.message}`, row: line, field: v.field });
    });
    const seenUdids = new Map<string, number>();
    for (const r of rows) {
      if (!r.udid) continue;
      const key = r.udid.toLowerCase();
      if (seenUdids.has(key)) errors.push({ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.csv.row', localizedMessage: `row ${r.line}: udid: duplicates row ${seenUdids.get(key)}`, row: r.line, field: 'udid' });
      else seenUdids.set(key, r.line);
    }
    if (errors.length) throw csvErrors(errors);

    const created = await this.db.$transaction(async (tx) => {
      const rowErrors: ErrorMessage[] = [];
      const out: DeviceRow[] = [];
      for (const r of rows) {
        try {
          const d = await createDevice(tx, r);
          for (const name of r.labels) {
            const label = await labelStore.findByName(tx, name);
            if (!label) throw ApiError.validation('labels', `no label named ${name}`);
            if (!label.isStatic) throw ApiError.validation('labels', `${label.name} is a filter label and cannot be applied by hand`);
            await labelStore.addMembers(tx, label.id, [d.id]);
          }
          out.push(d);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          rowErrors.push({ type: 'Error', messageKey: 'com.mobileiron.vsp.messages.csv.row', localizedMessage: `row ${r.line}: ${err.message}`, row: r.line, field: err.extra.field });
        }
      }
      // Throwing rolls the whole transaction back: all rows or none.
      if (rowErrors.length) throw csvErrors(rowErrors);
      await recordAudit(tx, { actor: actor.username, action: 'bulk.create', objectType: 'device', details: { count: out.length, uuids: out.map((d) => d.uuid) } });
      return out;
    });
    await this.changed(created.map((d) => d.id));
    return created.map(deviceFields);
  }

  async list(actor: Actor, q: DeviceListQuery) {
    requireRead(actor);
    const predicate = q.query !== undefined && q.query.trim() !== '' ? compileOrThrow(q.query, 'query', queryMaxLength) : null;
    const label = q.labelId !== undefined ? await labelStore.findById(this.db, q.labelId) : null;
    if (q.labelId !== undefined && !label) throw ApiError.notFound('Label', q.labelId);
    const project = (row: DeviceRow) => projectFields(deviceFields(row), q.fields);

    const column = q.sortField ? sortColumns[q.sortField] : 'id';
    if (!predicate && (!label || label.isStatic)) {
      // Plain listing or a manual label: page in the database.
      const where: Prisma.DeviceWhereInput = label ? { labels: { some: { labelId: label.id } } } : {};
      const [rows, total] = await Promise.all([
        deviceStore.page(this.db, where, q.page, { [column!]: q.order }),
        deviceStore.count(this.db, where),
      ]);
      return { total, results: rows.map(project) };
    }
    // Criteria involved: evaluate over the in-memory directory, then sort and page.
    let entries = await this.labels.directory.all();
    if (label) {
      const members = await this.labels.memberIds(this.db, label, entries);
      entries = entries.filter((e) => members.has(e.row.id));
    }
    if (predicate) entries = entries.filter((e) => predicate(e.facts));
    const rows = entries.map((e) => e.row).sort(compareBy(column!, q.order));
    return { total: rows.length, results: rows.slice(q.page.offset, q.page.offset + q.page.limit).map(project) };
  }

  async count(actor: Actor, q: { labelId?: number; query?: string }) {
    const { total } = await this.list(actor, { ...q, page: { limit: 1, offset: 0 }, order: 'asc' });
    return total;
  }

  /** The criteria fields, plus every custom.device.* name some device has. */
  async searchFields(actor: Actor) {
    requireRead(actor);
    const names = new Set<string>();
    for (const row of await deviceStore.customAttributeRows(this.db)) for (const k of Object.keys(customAttributes(row))) names.add(k);
    return searchFields({ customAttributeNames: [...names].sort() });
  }

  async get(actor: Actor, uuid: string): Promise<DeviceRow> {
    requireRead(actor);
    const d = await deviceStore.findByUuid(this.db, uuid);
    if (!d) throw ApiError.notFound('Device', uuid);
    return d;
  }

  async details(actor: Actor, uuid: string) {
    const d = await this.get(actor, uuid);
    const extra = await Promise.all(this.detailSources.map((source) => source(d)));
    return Object.entries(Object.assign(deviceFields(d), ...extra)).map(([name, value]) => ({ name, value: value == null ? null : String(value) }));
  }

  async labelsOf(actor: Actor, uuid: string) {
    const d = await this.get(actor, uuid);
    return (await this.labels.labelsOfDevice(this.db, d)).map((l) => ({ id: l.id, name: l.name, isStatic: l.isStatic, isSystem: l.isSystem }));
  }

  async setAttributes(actor: Actor, uuid: string, input: DeviceAttributesInput) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const d = await deviceStore.findByUuid(tx, uuid);
      if (!d) throw ApiError.notFound('Device', uuid);
      const { custom, userId, ...fields } = input;
      const data: Prisma.DeviceUncheckedUpdateInput = { ...fields };
      if (userId !== undefined) data.userRef = userId === null ? null : await resolveUser(tx, userId);
      if (custom) {
        const merged = customAttributes(d);
        for (const [k, v] of Object.entries(custom)) {
          if (v === null) delete merged[k];
          else merged[k] = v;
        }
        if (Object.keys(merged).length > 200) throw ApiError.validation('custom', 'at most 200 custom attributes per device');
        data.customAttributes = JSON.stringify(merged);
      }
      const u = await deviceStore.update(tx, d.id, data);
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'device', objectId: uuid, details: { ...input } });
      return u;
    });
    await this.changed([row.id]);
    return deviceFields(row);
  }

  async remove(actor: Actor, uuid: string) {
    requireWrite(actor);
    const id = await this.db.$transaction(async (tx) => {
      const d = await deviceStore.findByUuid(tx, uuid);
      if (!d) throw ApiError.notFound('Device', uuid);
      // Label memberships cascade with the device.
      await deviceStore.remove(tx, d.id);
      await recordAudit(tx, { actor: actor.username, action: 'delete', objectType: 'device', objectId: uuid });
      return d.id;
    });
    this.labels.directory.forget(id);
    await this.changed([id]);
  }
}

async function resolveUser(tx: DbTx, userId: string): Promise<number> {
  const u = await userStore.findByUserId(tx, userId);
  if (!u) throw ApiError.validation('userId', `no user ${userId}; create it with POST /api/v2/users first`);
  return u.id;
}

async function createDevice(tx: DbTx, input: DeviceInput): Promise<DeviceRow> {
  if (input.udid && (await deviceStore.findByUdid(tx, input.udid))) {
    throw new ApiError(409, 'com.mobileiron.vsp.messages.device.duplicate', `udid: a device with UDID ${input.udid} is already registered`, { field: 'udid' });
  }
  const userRef = input.userId ? await resolveUser(tx, input.userId) : null;
  return deviceStore.create(tx, {
    uuid: randomUUID(),
    platform: input.platform,
    osVersion: input.osVersion ?? null,
    model: input.model ?? null,
    manufacturer: input.manufacturer ?? (input.platform === 'iOS' ? 'Apple' : null),
    deviceName: input.deviceName ?? null,
    serialNumber: input.serialNumber ?? null,
    udid: input.udid ?? null,
    imei: input.imei ?? null,
    owner: input.owner ?? 'COMPANY',
    userRef,
  });
}

function csvErrors(errors: ErrorMessage[]): ApiError {
  const [first, ...rest] = errors;
  return new ApiError(400, first!.messageKey, first!.localizedMessage, { row: first!.row, field: first!.field, errorCount: errors.length }, rest);
}

function projectFields(all: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields || fields.length === 0) return all;
  return Object.fromEntries(fields.map((f) => [f, all[f] ?? null]));
}

function compareBy(column: string, order: 'asc' | 'desc') {
  const dir = order === 'asc' ? 1 : -1;
  return (a: DeviceRow, b: DeviceRow) => {
    const x = (a as unknown as Record<string, unknown>)[column];
    const y = (b as unknown as Record<string, unknown>)[column];
    if (x === y) return (a.id - b.id) * dir;
    if (x == null) return 1;
    if (y == null) return -1;
    return (x < y ? -1 : 1) * dir;
  };
}

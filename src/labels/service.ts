// Manual labels (membership stored), filter labels (membership = criteria match, evaluated on
// read) and the system labels every installation has.
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { DeviceFacts } from '../lib/criteria/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { noEvents, type EventPublisher } from '../platform/events.js';
import type { DeviceDirectory } from '../devices/index.js';
import { deviceFacts, type DeviceRow } from '../devices/index.js';
import type { DeviceLabels } from '../devices/index.js';
import { slices, yieldToEventLoop } from '../lib/slices.js';
import { deviceStore } from '../devices/index.js';
import { DomainError } from '../platform/errors/index.js';
import { compileOrThrow } from '../devices/index.js';
import { globalSpace } from '../device-spaces/index.js';
import { labelPredicate, membershipKey, type LabelLike } from './membership.js';
import { labelStore } from './store.js';

type LabelRow = NonNullable<Awaited<ReturnType<typeof labelStore.findById>>>;

export const systemLabels = [
  { name: 'All-Smartphones', description: 'All devices', criteria: '' },
  { name: 'iOS', description: 'All iOS devices', criteria: 'common.platform = "iOS"' },
  { name: 'Android', description: 'All Android devices', criteria: 'common.platform = "Android"' },
] as const;

/**
 * A label in Core's names (label_summary, GET /labels/{id}): `isStatic`, and `staticLabel` as
 * Core answers a create; the space fields of the one space; `rowType` SYSTEM or ADMIN. `isSystem`
 * is ours.
 */
export function labelView(l: LabelRow, deviceCount?: number) {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    isStatic: l.isStatic,
    staticLabel: l.isStatic,
    criteria: l.isStatic ? null : (l.criteria ?? ''),
    ...(deviceCount === undefined ? {} : { deviceCount }),
    deviceSpaceId: globalSpace.id,
    deviceSpaceName: globalSpace.name,
    deviceSpacePath: globalSpace.path,
    rowType: l.isSystem ? ('SYSTEM' as const) : ('ADMIN' as const),
    isSystem: l.isSystem,
  };
}

/** A label as GET /devices/{uuid}/labels answers it: the id as a string, as Core answers there. */
export function deviceLabelView(l: LabelRow) {
  const { deviceSpaceId: _space, deviceSpaceName: _name, deviceSpacePath: _path, ...view } = labelView(l);
  return { ...view, id: String(l.id) };
}

/** Fields a GET answers that a PUT may send back but not change (deviceCount is ignored: it moves as devices come and go). */
export interface LabelReadOnly {
  id?: number;
  /** The kind, under any of Core's three names, each compared on its own. */
  static?: boolean;
  isStatic?: boolean;
  staticLabel?: boolean;
  isSystem?: boolean;
  rowType?: string;
  deviceSpaceId?: number;
  deviceSpaceName?: string;
  deviceSpacePath?: string;
}

export type LabelSortField = 'id' | 'name' | 'description' | 'isStatic' | 'deviceCount' | 'rowType';

export interface LabelInput {
  name: string;
  description?: string;
  /** Manual (true) or filter (false); when not said, a label with criteria is a filter label. */
  static?: boolean;
  criteria?: string | null;
}

export interface LabelUpdate {
  name?: string;
  description?: string;
  criteria?: string | null;
  /** Read-only fields sent back from a GET: accepted when unchanged. */
  readOnly?: LabelReadOnly;
}

/** One device's outcome of applying or removing a manual label, in Core's record shape. */
export interface ApplyRecord {
  label: string;
  device: { uuid: string; status: 'SUCCESS' | 'FAILED'; message: string; failureCode: string | null };
}

export interface ApplyResult {
  /** Every named device was handled. */
  successful: boolean;
  records: ApplyRecord[];
}

export class LabelService implements DeviceLabels {
  constructor(
    private readonly db: Db,
    readonly directory: DeviceDirectory,
    /** Told which devices' manual labels changed, after the change is committed. */
    private readonly events: EventPublisher = noEvents,
  ) {}

  async seedSystemLabels(): Promise<void> {
    for (const s of systemLabels) {
      if (!(await labelStore.findByName(this.db, s.name))) {
        await labelStore.create(this.db, {
          name: s.name,
          description: s.description,
          isStatic: false,
          isSystem: true,
          criteria: s.criteria,
        });
      }
    }
  }

  findById(tx: DbTx, id: number): Promise<LabelRow | null> {
    return labelStore.findById(tx, id);
  }

  findByNameKeys(tx: DbTx, nameKeys: string[]): Promise<LabelRow[]> {
    return labelStore.findManyByNameKey(tx, nameKeys);
  }

  /**
   * Ids of the devices in a label. Manual: the stored memberships. Filter and system: the
   * directory's member set for the criteria, kept up to date device by device (a device's change
   * costs one evaluation of the criteria, not a pass over every device).
   */
  async memberIds(tx: DbTx, label: LabelLike): Promise<ReadonlySet<number>> {
    const predicate = labelPredicate(label);
    if (!predicate) return new Set(await labelStore.manualMemberIds(tx, label.id));
    return (await this.directory.matching(membershipKey(label), predicate)).members;
  }

  /** Labels a device is in: its manual labels, the filter labels it matches, system labels. */
  async labelsOfDevice(tx: DbTx, device: DeviceRow): Promise<LabelRow[]> {
    const manual = new Set(await deviceStore.manualLabelIds(tx, device.id));
    const facts = deviceFacts(device);
    return (await labelStore.all(tx)).filter((l) => (l.isStatic ? manual.has(l.id) : labelPredicate(l)!(facts)));
  }

  /** The labels a device is in, as GET /devices/{uuid}/labels answers them. */
  async deviceLabelViews(tx: DbTx, device: DeviceRow) {
    return (await this.labelsOfDevice(tx, device)).map(deviceLabelView);
  }

  async summary(actor: Actor, sort: { field: LabelSortField; order: 'asc' | 'desc' } = { field: 'id', order: 'asc' }) {
    requireRead(actor);
    const [labels, manualCounts] = await Promise.all([labelStore.all(this.db), labelStore.manualCounts(this.db)]);
    const views: Array<ReturnType<typeof labelView>> = [];
    for (const l of labels) {
      const p = labelPredicate(l);
      views.push(labelView(l, p ? (await this.directory.matching(membershipKey(l), p)).members.size : (manualCounts.get(l.id) ?? 0)));
    }
    const sign = sort.order === 'desc' ? -1 : 1;
    const key = (v: (typeof views)[number]) => {
      const k = v[sort.field];
      return typeof k === 'string' ? k.toLowerCase() : Number(k);
    };
    // Ties keep id order, so pages of a sorted list do not overlap.
    return views.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return (ka < kb ? -sign : ka > kb ? sign : 0) || a.id - b.id;
    });
  }

  async get(actor: Actor, id: number) {
    requireRead(actor);
    const l = await labelStore.findById(this.db, id);
    if (!l) throw DomainError.notFound('Label', id);
    const members = await this.memberIds(this.db, l);
    return labelView(l, members.size);
  }

  async create(actor: Actor, input: LabelInput) {
    requireWrite(actor);
    const isStatic = input.static ?? input.criteria == null;
    const criteria = isStatic ? null : (input.criteria ?? '');
    if (isStatic && input.criteria) {
      throw DomainError.validation('criteria', 'a manual (static) label has no criteria; use "static": false for a filter label');
    }
    if (!isStatic) {
      if (input.criteria == null) throw DomainError.validation('criteria', 'a filter label needs criteria');
      compileOrThrow(criteria!);
    }
    const created = await this.db.$transaction(async (tx) => {
      await assertNameFree(tx, input.name);
      const l = await labelStore.create(tx, { name: input.name, description: input.description ?? '', isStatic, criteria });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'label',
        objectId: l.id,
        details: { name: l.name, isStatic: l.isStatic, criteria },
      });
      return l;
    });
    return labelView(created, created.isStatic ? 0 : (await this.memberIds(this.db, created)).size);
  }

  /**
   * Changes name, description or criteria. A label as a GET answered it may be sent back: its
   * read-only fields must be unchanged (400 naming the first that is not), and a PUT that changes
   * nothing writes nothing (a system label too), so it neither bumps the policy tables nor audits.
   */
  async update(actor: Actor, id: number, input: LabelUpdate) {
    requireWrite(actor);
    const updated = await this.db.$transaction(async (tx) => {
      const l = await labelStore.findById(tx, id);
      if (!l) throw DomainError.notFound('Label', id);
      assertReadOnlyUnchanged(l, input.readOnly ?? {});
      const currentCriteria = l.isStatic ? null : (l.criteria ?? '');
      const changes: { name?: string; description?: string; criteria?: string } = {};
      if (input.name !== undefined && input.name !== l.name) changes.name = input.name;
      if (input.description !== undefined && input.description !== l.description) changes.description = input.description;
      // A manual label's criteria are null ("" too); a filter label's null criteria are "" (every device).
      const sentCriteria = input.criteria === undefined ? undefined : l.isStatic ? input.criteria || null : (input.criteria ?? '');
      if (sentCriteria !== undefined && sentCriteria !== currentCriteria) {
        if (l.isStatic) throw DomainError.validation('criteria', `${l.name} is a manual label; manual labels have no criteria`);
        changes.criteria = sentCriteria!;
      }
      if (Object.keys(changes).length === 0) return l;
      if (l.isSystem) throw new DomainError('label.system', `${l.name} is a system label and cannot be changed`);
      if (changes.criteria !== undefined) compileOrThrow(changes.criteria);
      if (changes.name !== undefined && changes.name.toLowerCase() !== l.nameKey) await assertNameFree(tx, changes.name);
      const u = await labelStore.update(tx, id, changes);
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'label', objectId: id, details: { ...changes } });
      return u;
    });
    return labelView(updated, (await this.memberIds(this.db, updated)).size);
  }

  async remove(actor: Actor, labelIds: number[], reason: string | undefined) {
    requireWrite(actor);
    return this.db.$transaction(async (tx) => {
      const labels = await labelStore.findManyById(tx, labelIds);
      const found = new Set(labels.map((l) => l.id));
      const missing = labelIds.filter((id) => !found.has(id));
      if (missing.length) throw DomainError.notFound('Label', missing.join(', '));
      const system = labels.filter((l) => l.isSystem);
      if (system.length) {
        throw new DomainError('label.system', `System label(s) cannot be deleted: ${system.map((l) => l.name).join(', ')}`);
      }
      // Assignments (devices, VPN configurations, apps) cascade explicitly with the label.
      const results = [];
      for (const l of labels) {
        const detached = await labelStore.assignmentCounts(tx, l.id);
        results.push({ id: l.id, name: l.name, detached });
      }
      await labelStore.removeMany(tx, labelIds);
      for (const r of results) {
        await recordAudit(tx, {
          actor: actor.username,
          action: 'delete',
          objectType: 'label',
          objectId: r.id,
          details: { name: r.name, reason, detached: r.detached },
        });
      }
      return results;
    });
  }

  /** MobileIron applies manual labels by name; the answer has a record per device named. */
  async apply(actor: Actor, labelName: string, deviceUuids: string[], op: 'add' | 'remove'): Promise<ApplyResult> {
    requireWrite(actor);
    const { records, ids } = await this.db.$transaction(async (tx) => {
      const label = await labelStore.findByName(tx, labelName);
      if (!label) throw DomainError.notFound('Label', labelName);
      if (!label.isStatic) {
        throw new DomainError(
          'label.notManual',
          `${label.name} is a filter label: its members are the devices matching its criteria (${label.criteria || 'all devices'}); it cannot be applied to devices by hand`,
        );
      }
      const devices = [];
      for (const some of slices([...new Set(deviceUuids)], 250)) {
        devices.push(...(await deviceStore.idsByUuid(tx, some)));
        await yieldToEventLoop();
      }
      const byUuid = new Map(devices.map((d) => [d.uuid, d]));
      const ids = devices.map((d) => d.id);
      if (op === 'add') {
        await labelStore.addMembers(tx, label.id, ids);
        this.directory.noteWrite();
      } else {
        await labelStore.removeMembers(tx, label.id, ids);
      }
      await recordAudit(tx, {
        actor: actor.username,
        action: op === 'add' ? 'label.add' : 'label.remove',
        objectType: 'label',
        objectId: label.id,
        details: { name: label.name, deviceUuids: devices.map((d) => d.uuid) },
      });
      const records: ApplyRecord[] = deviceUuids.map((uuid) => ({
        label: label.name,
        device: byUuid.has(uuid)
          ? {
              uuid,
              status: 'SUCCESS' as const,
              message: op === 'add' ? `Label ${label.name} applied` : `Label ${label.name} removed`,
              failureCode: null,
            }
          : { uuid, status: 'FAILED' as const, message: `Device ${uuid} not found`, failureCode: 'DEVICE_NOT_FOUND' },
      }));
      return { records, ids };
    });
    this.events.publish('labels.membershipChanged', { deviceIds: ids });
    return { successful: records.every((r) => r.device.status === 'SUCCESS'), records };
  }

  /** Try criteria before saving: the match count and the first matching devices. */
  async preview(actor: Actor, criteria: string, limit: number) {
    requireRead(actor);
    const predicate = compileOrThrow(criteria);
    const devices: DeviceFacts[] = [];
    let totalCount = 0;
    for (const { facts } of await this.directory.all()) {
      if (!predicate(facts)) continue;
      if (devices.length < limit) devices.push(facts);
      totalCount++;
    }
    return { criteria, totalCount, devices };
  }
}

/** A read-only field sent back must be what a GET answers now; the first that is not is named. */
function assertReadOnlyUnchanged(l: LabelRow, sent: LabelReadOnly) {
  const current = { ...labelView(l), static: l.isStatic };
  const fields = [
    'id',
    'static',
    'isStatic',
    'staticLabel',
    'isSystem',
    'rowType',
    'deviceSpaceId',
    'deviceSpaceName',
    'deviceSpacePath',
  ] as const;
  for (const field of fields) {
    const value = sent[field];
    if (value !== undefined && value !== current[field]) {
      throw DomainError.validation(
        field,
        `${field} is read-only: it is ${JSON.stringify(current[field])} for label ${l.name}, not ${JSON.stringify(value)}`,
      );
    }
  }
}

async function assertNameFree(tx: DbTx, name: string) {
  const existing = await labelStore.findByName(tx, name);
  if (existing)
    throw new DomainError('label.duplicate', `A label named ${existing.name} already exists (label names are case-insensitive)`);
}

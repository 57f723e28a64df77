// The AnyConnect head-end (ASA side) as stored resources: PerApp policies, group policies, tunnel
// groups, DAP records and settings, plus the read-only tools over them (blob, ASA CLI, session
// resolution, tunnel simulation). The decisions themselves are the pure model in src/lib/anyconnect;
// this layer adds storage, authorization, referential rules, transactions and the audit trail.
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/store.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { ApiError, type ErrorMessage } from '../platform/http/errors.js';
import type { PolicyService, ResolvedPolicy } from '../policy/service.js';
import { DEFAULT_PERAPP_DESCRIPTION } from '../lib/anyconnect/headend.js';
import {
  AsaCliParseError,
  type AppUnderTest,
  type Compression,
  type ConfigIssue,
  DEFAULT_GROUP_POLICY,
  type DapAction,
  type DapOrder,
  type DapRecord,
  type HeadEndConfig,
  type MdmBinding,
  PerAppDecodeError,
  type PerAppRule,
  type PerAppSetting,
  type Platform,
  type Session,
  type SessionResolution,
  type TunnelDecision,
  chunkCustomDataLines,
  checkPerAppPolicy,
  decideTunnel,
  decodePerAppPolicy,
  encodePerAppPolicy,
  endpointFromDevice,
  normalizeEndpointAttributes,
  parseAsaCliWithReport,
  parsePlatform,
  renderAsaCli,
  resolveSession,
  validateHeadEndConfig,
} from '../lib/anyconnect/index.js';
import { anyconnectStore as store, type DapRecordRow, type GroupPolicyRow, type PerAppPolicyRow, type TunnelGroupRow } from './store.js';

const VALIDATION_KEY = 'com.mobileiron.vsp.messages.validation';
const DUPLICATE_KEY = 'com.mobileiron.vsp.messages.anyconnect.duplicate';
const IN_USE_KEY = 'com.mobileiron.vsp.messages.anyconnect.inUse';
/** VPN configuration types whose per-app traffic reaches AnyConnect (and so the ASA's PerApp policy). */
const ANYCONNECT_TYPES: ReadonlySet<string> = new Set(['ANYCONNECT', 'ANYCONNECT_LEGACY']);

// ---- inputs ---------------------------------------------------------------------------------

export interface PerAppPolicyInput {
  name: string;
  description?: string;
  /** Validated by the pure checker (it gives the rule index and a fix hint). */
  rules: unknown[];
}
export interface GroupPolicyInput {
  name: string;
  perapp?: PerAppSetting;
}
export interface TunnelGroupInput {
  name: string;
  defaultGroupPolicy?: string;
}
export interface DapRecordInput {
  name: string;
  description?: string;
  priority?: number;
  action?: DapAction;
  aaaMode?: DapRecord['aaaMode'];
  aaaCriteria?: DapRecord['aaaCriteria'];
  endpointCriteria?: DapRecord['endpointCriteria'];
  perapp?: PerAppSetting;
}
export interface SettingsInput {
  dapOrder?: DapOrder;
  perappAttrDescription?: string;
}
export interface SessionInput {
  tunnelGroup?: string;
  aaa?: Record<string, string | string[]>;
  endpoint?: Record<string, string>;
  userPerapp?: PerAppSetting;
  /** Derive the endpoint attributes from this device's MobileIron record. */
  deviceUuid?: string;
}
export interface SimulateInput extends SessionInput {
  platform?: Platform;
  mdmBinding?: MdmBinding;
  app: AppUnderTest;
}

// ---- column codecs --------------------------------------------------------------------------

function parseJsonColumn<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** NULL = unset. An unreadable value becomes a reference to a policy that cannot exist, so the resolver fails closed on it. */
function readSetting(text: string | null): PerAppSetting {
  if (text === null) return null;
  if (text === 'none') return 'none';
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null) return null;
    if (value === 'none') return 'none';
    if (value && typeof value === 'object' && typeof (value as { policy?: unknown }).policy === 'string')
      return { policy: (value as { policy: string }).policy };
  } catch {
    // fall through
  }
  return { policy: `(unreadable stored value ${text})` };
}

function writeSetting(setting: PerAppSetting): string | null {
  return setting === null ? null : JSON.stringify(setting);
}

function namesPolicy(setting: PerAppSetting, name: string): boolean {
  return setting !== null && setting !== 'none' && setting.policy === name;
}

function toDapRecord(row: DapRecordRow): DapRecord {
  return {
    name: row.name,
    ...(row.description.trim() !== '' ? { description: row.description } : {}),
    priority: row.priority,
    action: row.action as DapAction,
    aaaMode: row.aaaMode as DapRecord['aaaMode'],
    aaaCriteria: parseJsonColumn(row.aaaCriteria, []),
    endpointCriteria: parseJsonColumn(row.endpointCriteria, []),
    perapp: readSetting(row.perapp),
  };
}

// ---- views ----------------------------------------------------------------------------------

const stamps = (row: { createdAt: Date; updatedAt: Date }) => ({
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export interface PerAppPolicyUsage {
  groupPolicies: string[];
  dapRecords: string[];
}

function perappPolicyView(row: PerAppPolicyRow, usedBy: PerAppPolicyUsage) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    rules: parseJsonColumn<PerAppRule[]>(row.rules, []),
    usedBy,
    ...stamps(row),
  };
}

function groupPolicyView(row: GroupPolicyRow, usedBy: { tunnelGroups: string[] }) {
  return { id: row.id, name: row.name, perapp: readSetting(row.perapp), usedBy, ...stamps(row) };
}

function tunnelGroupView(row: TunnelGroupRow) {
  return { id: row.id, name: row.name, defaultGroupPolicy: row.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY, ...stamps(row) };
}

function dapRecordView(row: DapRecordRow) {
  const record = toDapRecord(row);
  return {
    id: row.id,
    ...record,
    description: row.description,
    /** Likely mistakes (e.g. a platform AnyConnect never reports); the record is stored anyway. */
    warnings: dapRecordIssues(record)
      .filter((i) => i.severity === 'warning')
      .map((i) => `${issueField(i.path)}: ${i.message}`),
    ...stamps(row),
  };
}

// ---- validation helpers ---------------------------------------------------------------------

/** One 400 carrying every problem: the first as the main message, the rest as further messages, each with its field. */
function validationError(issues: Array<{ field: string; message: string }>): ApiError {
  const [first, ...rest] = issues;
  const more: ErrorMessage[] = rest.map((i) => ({
    type: 'Error',
    messageKey: VALIDATION_KEY,
    localizedMessage: `${i.field}: ${i.message}`,
    field: i.field,
  }));
  return new ApiError(400, VALIDATION_KEY, `${first!.field}: ${first!.message}`, { field: first!.field }, more);
}

/** `dapRecords[0].endpointCriteria[1]` → `endpointCriteria.1` (the request body's own field path). */
function issueField(path: string): string {
  return path.replace(/^dapRecords\[0\]\.?/, '').replace(/\[(\d+)\]/g, '.$1') || 'name';
}

/** Criteria checks of the pure validator, for one record on its own (references are checked against the database instead). */
function dapRecordIssues(record: DapRecord): ConfigIssue[] {
  const config: HeadEndConfig = {
    dapOrder: 'asa',
    perappAttrDescription: '',
    perappPolicies: [],
    groupPolicies: [],
    tunnelGroups: [],
    dapRecords: [record],
  };
  return validateHeadEndConfig(config).filter((i) => !i.path.endsWith('.perapp'));
}

function checkRules(rules: unknown[]): PerAppRule[] {
  const result = checkPerAppPolicy({ rules });
  if (!result.ok) throw validationError(result.issues.map((i) => ({ field: i.path.join('.') || 'rules', message: i.message })));
  return result.policy.rules;
}

function decodeError(err: PerAppDecodeError): ApiError {
  return ApiError.badRequest('com.mobileiron.vsp.messages.anyconnect.perappDecode', `blob (${err.stage} stage): ${err.message}`, {
    field: 'blob',
    stage: err.stage,
  });
}

async function assertPolicyExists(tx: DbTx, setting: PerAppSetting | undefined, field: string): Promise<void> {
  if (setting === undefined || setting === null || setting === 'none') return;
  if (!(await store.perappPolicies.findByName(tx, setting.policy))) {
    throw ApiError.validation(field, `PerApp policy '${setting.policy}' does not exist; create it first or use "none" / null`);
  }
}

async function assertGroupPolicyExists(tx: DbTx, name: string | undefined, field: string): Promise<void> {
  if (name === undefined || name === DEFAULT_GROUP_POLICY) return;
  if (!(await store.groupPolicies.findByName(tx, name))) {
    throw ApiError.validation(
      field,
      `group policy '${name}' does not exist; create it first or use ${DEFAULT_GROUP_POLICY} (always present on an ASA)`,
    );
  }
}

function duplicate(what: string, name: string): ApiError {
  return ApiError.conflict(DUPLICATE_KEY, `A ${what} named ${name} already exists`);
}

// ---- references -----------------------------------------------------------------------------

/** Who names each PerApp policy. Tables are small (a head-end's worth), so this reads them whole. */
async function perappPolicyUsage(tx: DbTx): Promise<(name: string) => PerAppPolicyUsage> {
  const [gps, daps] = [await store.groupPolicies.all(tx), await store.dapRecords.all(tx)];
  return (name) => ({
    groupPolicies: gps.filter((g) => namesPolicy(readSetting(g.perapp), name)).map((g) => g.name),
    dapRecords: daps.filter((d) => namesPolicy(readSetting(d.perapp), name)).map((d) => d.name),
  });
}

async function groupPolicyUsage(tx: DbTx): Promise<(name: string) => { tunnelGroups: string[] }> {
  const tgs = await store.tunnelGroups.all(tx);
  return (name) => ({ tunnelGroups: tgs.filter((t) => (t.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY) === name).map((t) => t.name) });
}

function listNames(names: string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

// ---- the service ----------------------------------------------------------------------------

type Page = { limit: number; offset: number };
type SortOrder = 'asc' | 'desc';

export class AnyconnectService {
  constructor(
    readonly db: Db,
    readonly policy: PolicyService,
  ) {}

  /** The whole head-end as the pure model's HeadEndConfig. Consistency is not assumed: the resolver fails closed on dangling names. */
  async loadConfig(tx: DbTx): Promise<HeadEndConfig> {
    const settings = await this.readSettings(tx);
    const [policies, gps, tgs, daps] = [
      await store.perappPolicies.all(tx),
      await store.groupPolicies.all(tx),
      await store.tunnelGroups.all(tx),
      await store.dapRecords.all(tx),
    ];
    return {
      ...settings,
      perappPolicies: policies.map((p) => ({ name: p.name, rules: parseJsonColumn<PerAppRule[]>(p.rules, []) })),
      groupPolicies: gps.map((g) => ({ name: g.name, perapp: readSetting(g.perapp) })),
      tunnelGroups: tgs.map((t) => ({ name: t.name, defaultGroupPolicy: t.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY })),
      dapRecords: daps.map(toDapRecord),
    };
  }

  private async readSettings(tx: DbTx): Promise<{ dapOrder: DapOrder; perappAttrDescription: string }> {
    const row = await store.settings.get(tx);
    return {
      dapOrder: row?.dapOrder === 'ftd' ? 'ftd' : 'asa',
      perappAttrDescription: row?.perappAttrDescription ?? DEFAULT_PERAPP_DESCRIPTION,
    };
  }

  // -- PerApp policies --

  async listPerappPolicies(actor: Actor, page: Page, sortField: string, order: SortOrder) {
    requireRead(actor);
    const [rows, total, usage] = [
      await store.perappPolicies.list(this.db, page, { [sortField]: order }),
      await store.perappPolicies.count(this.db),
      await perappPolicyUsage(this.db),
    ];
    return { total, results: rows.map((r) => perappPolicyView(r, usage(r.name))) };
  }

  async getPerappPolicy(actor: Actor, id: number) {
    requireRead(actor);
    const row = await store.perappPolicies.findById(this.db, id);
    if (!row) throw ApiError.notFound('PerApp policy', id);
    return perappPolicyView(row, (await perappPolicyUsage(this.db))(row.name));
  }

  async createPerappPolicy(actor: Actor, input: PerAppPolicyInput) {
    requireWrite(actor);
    const rules = checkRules(input.rules);
    const row = await this.db.$transaction(async (tx) => {
      if (await store.perappPolicies.findByName(tx, input.name)) throw duplicate('PerApp policy', input.name);
      const created = await store.perappPolicies.create(tx, {
        name: input.name,
        description: input.description ?? '',
        rules: JSON.stringify(rules),
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'perappPolicy',
        objectId: created.id,
        details: { name: input.name, rules },
      });
      return created;
    });
    return perappPolicyView(row, { groupPolicies: [], dapRecords: [] });
  }

  /** A rename carries the group policies and DAP records that name the policy along, in the same transaction. */
  async updatePerappPolicy(actor: Actor, id: number, input: Partial<PerAppPolicyInput>) {
    requireWrite(actor);
    const rules = input.rules === undefined ? undefined : checkRules(input.rules);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await store.perappPolicies.findById(tx, id);
      if (!existing) throw ApiError.notFound('PerApp policy', id);
      const renamed: PerAppPolicyUsage = { groupPolicies: [], dapRecords: [] };
      if (input.name !== undefined && input.name !== existing.name) {
        if (await store.perappPolicies.findByName(tx, input.name)) throw duplicate('PerApp policy', input.name);
        const usage = (await perappPolicyUsage(tx))(existing.name);
        const to = writeSetting({ policy: input.name });
        for (const name of usage.groupPolicies) {
          const gp = (await store.groupPolicies.findByName(tx, name))!;
          await store.groupPolicies.update(tx, gp.id, { perapp: to });
        }
        for (const name of usage.dapRecords) {
          const dap = (await store.dapRecords.findByName(tx, name))!;
          await store.dapRecords.update(tx, dap.id, { perapp: to });
        }
        Object.assign(renamed, usage);
      }
      const updated = await store.perappPolicies.update(tx, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(rules !== undefined ? { rules: JSON.stringify(rules) } : {}),
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'perappPolicy',
        objectId: id,
        details: {
          ...input,
          ...(rules ? { rules } : {}),
          ...(renamed.groupPolicies.length + renamed.dapRecords.length > 0 ? { referencesRenamed: renamed } : {}),
        },
      });
      return updated;
    });
    return perappPolicyView(row, (await perappPolicyUsage(this.db))(row.name));
  }

  async removePerappPolicy(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await store.perappPolicies.findById(tx, id);
      if (!existing) throw ApiError.notFound('PerApp policy', id);
      const usage = (await perappPolicyUsage(tx))(existing.name);
      if (usage.groupPolicies.length + usage.dapRecords.length > 0) {
        const who = [
          usage.groupPolicies.length ? `group policies ${listNames(usage.groupPolicies)}` : '',
          usage.dapRecords.length ? `DAP records ${listNames(usage.dapRecords)}` : '',
        ]
          .filter(Boolean)
          .join(' and ');
        throw ApiError.conflict(IN_USE_KEY, `PerApp policy ${existing.name} is used by ${who}; change their perapp first`);
      }
      await store.perappPolicies.remove(tx, id);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'perappPolicy',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  /** The Base64 value the head-end stores, and the `anyconnect-custom-data` lines that carry it. */
  async perappPolicyBlob(actor: Actor, id: number, compression: Compression) {
    requireRead(actor);
    const row = await store.perappPolicies.findById(this.db, id);
    if (!row) throw ApiError.notFound('PerApp policy', id);
    const blob = encodePerAppPolicy({ version: 1, rules: parseJsonColumn<PerAppRule[]>(row.rules, []) }, { compression });
    return { name: row.name, blob, compression, length: blob.length, asaLines: chunkCustomDataLines(row.name, blob) };
  }

  decodePerappBlob(actor: Actor, blob: string, strict: boolean) {
    requireRead(actor);
    try {
      const decoded = decodePerAppPolicy(blob, { strict });
      return { rules: decoded.policy.rules, compression: decoded.compression, xml: decoded.xml };
    } catch (err) {
      if (err instanceof PerAppDecodeError) throw decodeError(err);
      throw err;
    }
  }

  // -- group policies --

  async listGroupPolicies(actor: Actor, page: Page, sortField: string, order: SortOrder) {
    requireRead(actor);
    const [rows, total, usage] = [
      await store.groupPolicies.list(this.db, page, { [sortField]: order }),
      await store.groupPolicies.count(this.db),
      await groupPolicyUsage(this.db),
    ];
    return { total, results: rows.map((r) => groupPolicyView(r, usage(r.name))) };
  }

  async getGroupPolicy(actor: Actor, id: number) {
    requireRead(actor);
    const row = await store.groupPolicies.findById(this.db, id);
    if (!row) throw ApiError.notFound('Group policy', id);
    return groupPolicyView(row, (await groupPolicyUsage(this.db))(row.name));
  }

  async createGroupPolicy(actor: Actor, input: GroupPolicyInput) {
    requireWrite(actor);
    const perapp = input.perapp ?? null;
    const row = await this.db.$transaction(async (tx) => {
      if (await store.groupPolicies.findByName(tx, input.name)) throw duplicate('group policy', input.name);
      await assertPolicyExists(tx, perapp, 'perapp');
      const created = await store.groupPolicies.create(tx, { name: input.name, perapp: writeSetting(perapp) });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'groupPolicy',
        objectId: created.id,
        details: { name: input.name, perapp },
      });
      return created;
    });
    return groupPolicyView(row, (await groupPolicyUsage(this.db))(row.name));
  }

  /**
   * A rename carries tunnel groups that use the policy as their default along. Not for
   * DfltGrpPolicy: a tunnel group naming it keeps the ASA's built-in one.
   */
  async updateGroupPolicy(actor: Actor, id: number, input: Partial<GroupPolicyInput>) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await store.groupPolicies.findById(tx, id);
      if (!existing) throw ApiError.notFound('Group policy', id);
      await assertPolicyExists(tx, input.perapp, 'perapp');
      let tunnelGroupsRenamed: string[] = [];
      if (input.name !== undefined && input.name !== existing.name) {
        if (await store.groupPolicies.findByName(tx, input.name)) throw duplicate('group policy', input.name);
        if (existing.name !== DEFAULT_GROUP_POLICY) {
          tunnelGroupsRenamed = (await groupPolicyUsage(tx))(existing.name).tunnelGroups;
          await store.tunnelGroups.renameDefaultGroupPolicy(tx, existing.name, input.name);
        }
      }
      const updated = await store.groupPolicies.update(tx, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.perapp !== undefined ? { perapp: writeSetting(input.perapp) } : {}),
      });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'groupPolicy',
        objectId: id,
        details: { ...input, ...(tunnelGroupsRenamed.length ? { tunnelGroupsRenamed } : {}) },
      });
      return updated;
    });
    return groupPolicyView(row, (await groupPolicyUsage(this.db))(row.name));
  }

  async removeGroupPolicy(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await store.groupPolicies.findById(tx, id);
      if (!existing) throw ApiError.notFound('Group policy', id);
      // Tunnel groups naming DfltGrpPolicy fall back to the built-in one, so they do not block.
      const users = existing.name === DEFAULT_GROUP_POLICY ? [] : (await groupPolicyUsage(tx))(existing.name).tunnelGroups;
      if (users.length > 0) {
        throw ApiError.conflict(
          IN_USE_KEY,
          `Group policy ${existing.name} is the default group policy of tunnel groups ${listNames(users)}; change their defaultGroupPolicy first`,
        );
      }
      await store.groupPolicies.remove(tx, id);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'groupPolicy',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  // -- tunnel groups --

  async listTunnelGroups(actor: Actor, page: Page, sortField: string, order: SortOrder) {
    requireRead(actor);
    const [rows, total] = [await store.tunnelGroups.list(this.db, page, { [sortField]: order }), await store.tunnelGroups.count(this.db)];
    return { total, results: rows.map(tunnelGroupView) };
  }

  async getTunnelGroup(actor: Actor, id: number) {
    requireRead(actor);
    const row = await store.tunnelGroups.findById(this.db, id);
    if (!row) throw ApiError.notFound('Tunnel group', id);
    return tunnelGroupView(row);
  }

  async createTunnelGroup(actor: Actor, input: TunnelGroupInput) {
    requireWrite(actor);
    const defaultGroupPolicy = input.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY;
    const row = await this.db.$transaction(async (tx) => {
      if (await store.tunnelGroups.findByName(tx, input.name)) throw duplicate('tunnel group', input.name);
      await assertGroupPolicyExists(tx, defaultGroupPolicy, 'defaultGroupPolicy');
      const created = await store.tunnelGroups.create(tx, { name: input.name, defaultGroupPolicy });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'tunnelGroup',
        objectId: created.id,
        details: { name: input.name, defaultGroupPolicy },
      });
      return created;
    });
    return tunnelGroupView(row);
  }

  async updateTunnelGroup(actor: Actor, id: number, input: Partial<TunnelGroupInput>) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await store.tunnelGroups.findById(tx, id);
      if (!existing) throw ApiError.notFound('Tunnel group', id);
      if (input.name !== undefined && input.name !== existing.name && (await store.tunnelGroups.findByName(tx, input.name)))
        throw duplicate('tunnel group', input.name);
      await assertGroupPolicyExists(tx, input.defaultGroupPolicy, 'defaultGroupPolicy');
      const updated = await store.tunnelGroups.update(tx, id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.defaultGroupPolicy !== undefined ? { defaultGroupPolicy: input.defaultGroupPolicy } : {}),
      });
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'tunnelGroup', objectId: id, details: { ...input } });
      return updated;
    });
    return tunnelGroupView(row);
  }

  async removeTunnelGroup(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await store.tunnelGroups.findById(tx, id);
      if (!existing) throw ApiError.notFound('Tunnel group', id);
      await store.tunnelGroups.remove(tx, id);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'tunnelGroup',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  // -- DAP records --

  async listDapRecords(actor: Actor, page: Page, sortField: string, order: SortOrder) {
    requireRead(actor);
    const [rows, total] = [await store.dapRecords.list(this.db, page, { [sortField]: order }), await store.dapRecords.count(this.db)];
    return { total, results: rows.map(dapRecordView) };
  }

  async getDapRecord(actor: Actor, id: number) {
    requireRead(actor);
    const row = await store.dapRecords.findById(this.db, id);
    if (!row) throw ApiError.notFound('DAP record', id);
    return dapRecordView(row);
  }

  async createDapRecord(actor: Actor, input: DapRecordInput) {
    requireWrite(actor);
    const record: DapRecord = {
      name: input.name,
      ...(input.description ? { description: input.description } : {}),
      priority: input.priority ?? 0,
      action: input.action ?? 'continue',
      aaaMode: input.aaaMode ?? 'ANY',
      aaaCriteria: input.aaaCriteria ?? [],
      endpointCriteria: input.endpointCriteria ?? [],
      perapp: input.perapp ?? null,
    };
    checkDapCriteria(record);
    const row = await this.db.$transaction(async (tx) => {
      if (await store.dapRecords.findByName(tx, input.name)) throw duplicate('DAP record', input.name);
      await assertPolicyExists(tx, record.perapp, 'perapp');
      const created = await store.dapRecords.create(tx, dapColumns(record));
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'dapRecord',
        objectId: created.id,
        details: { ...record },
      });
      return created;
    });
    return dapRecordView(row);
  }

  async updateDapRecord(actor: Actor, id: number, input: Partial<DapRecordInput>) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await store.dapRecords.findById(tx, id);
      if (!existing) throw ApiError.notFound('DAP record', id);
      const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<DapRecordInput>;
      const merged: DapRecord = { ...toDapRecord(existing), ...defined } as DapRecord;
      if (merged.description === '') delete merged.description;
      checkDapCriteria(merged);
      if (input.name !== undefined && input.name !== existing.name && (await store.dapRecords.findByName(tx, input.name)))
        throw duplicate('DAP record', input.name);
      await assertPolicyExists(tx, input.perapp, 'perapp');
      const updated = await store.dapRecords.update(tx, id, dapColumns(merged));
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'dapRecord', objectId: id, details: { ...input } });
      return updated;
    });
    return dapRecordView(row);
  }

  async removeDapRecord(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await store.dapRecords.findById(tx, id);
      if (!existing) throw ApiError.notFound('DAP record', id);
      await store.dapRecords.remove(tx, id);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'dapRecord',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  // -- settings --

  async getSettings(actor: Actor) {
    requireRead(actor);
    return this.readSettings(this.db);
  }

  async updateSettings(actor: Actor, input: SettingsInput) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      await store.settings.put(tx, {
        ...(input.dapOrder !== undefined ? { dapOrder: input.dapOrder } : {}),
        ...(input.perappAttrDescription !== undefined ? { perappAttrDescription: input.perappAttrDescription } : {}),
      });
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'headEndSettings', objectId: 1, details: { ...input } });
    });
    return this.readSettings(this.db);
  }

  // -- the whole head-end --

  async headEnd(actor: Actor): Promise<{ config: HeadEndConfig; issues: ConfigIssue[] }> {
    requireRead(actor);
    const config = await this.loadConfig(this.db);
    return { config, issues: validateHeadEndConfig(config) };
  }

  async asaConfig(actor: Actor): Promise<string> {
    requireRead(actor);
    return renderAsaCli(await this.loadConfig(this.db));
  }

  /** Parses ASA CLI without storing anything. Errors name the line (0: the config as a whole). */
  parseAsaConfig(actor: Actor, text: string) {
    requireRead(actor);
    const report = parseAsa(text);
    return { config: report.config, issues: validateHeadEndConfig(report.config), ignoredLines: report.ignoredLines };
  }

  /** Replaces the whole head-end with the parsed CLI in one transaction. Refused when the config has errors (dangling names, duplicates). */
  async importAsaConfig(actor: Actor, text: string) {
    requireWrite(actor);
    const { config } = parseAsa(text);
    // Text with no per-app objects in it is far more likely a wrong paste than a wish to wipe the head-end.
    if (Object.values(counts(config)).every((n) => n === 0)) {
      throw ApiError.badRequest(
        'com.mobileiron.vsp.messages.anyconnect.asaImport',
        'the text holds no PerApp policy, group policy, tunnel group or DAP record; nothing was imported (delete objects one by one to empty the head-end)',
        { field: 'text' },
      );
    }
    const issues = validateHeadEndConfig(config);
    const errors = issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      const err = validationError(errors.map((i) => ({ field: i.path, message: i.message })));
      throw new ApiError(
        400,
        'com.mobileiron.vsp.messages.anyconnect.asaImport',
        `the parsed configuration is inconsistent, nothing was imported: ${err.message}`,
        err.extra,
        err.more,
      );
    }
    await this.db.$transaction(async (tx) => {
      await store.dapRecords.removeAll(tx);
      await store.tunnelGroups.removeAll(tx);
      await store.groupPolicies.removeAll(tx);
      await store.perappPolicies.removeAll(tx);
      await store.settings.put(tx, { dapOrder: config.dapOrder, perappAttrDescription: config.perappAttrDescription });
      for (const p of config.perappPolicies) await store.perappPolicies.create(tx, { name: p.name, rules: JSON.stringify(p.rules) });
      for (const g of config.groupPolicies) await store.groupPolicies.create(tx, { name: g.name, perapp: writeSetting(g.perapp) });
      for (const t of config.tunnelGroups) await store.tunnelGroups.create(tx, { name: t.name, defaultGroupPolicy: t.defaultGroupPolicy });
      for (const r of config.dapRecords) await store.dapRecords.create(tx, dapColumns(r));
      await recordAudit(tx, {
        actor: actor.username,
        action: 'import',
        objectType: 'headEndConfig',
        objectId: null,
        details: { counts: counts(config) },
      });
    });
    return { imported: counts(config), warnings: issues };
  }

  // -- sessions --

  async resolve(actor: Actor, input: SessionInput): Promise<SessionResolution & { session: Session }> {
    requireRead(actor);
    let endpoint = normalizeEndpointAttributes(input.endpoint ?? {});
    if (input.deviceUuid !== undefined) {
      const resolved = await this.policy.forDevice(actor, input.deviceUuid);
      endpoint = { ...deviceEndpoint(resolved), ...endpoint };
    }
    if (input.tunnelGroup === undefined) throw ApiError.validation('tunnelGroup', 'is required');
    const session: Session = {
      tunnelGroup: input.tunnelGroup,
      aaa: input.aaa ?? {},
      endpoint,
      ...(input.userPerapp !== undefined ? { userPerapp: input.userPerapp } : {}),
    };
    return { ...resolveSession(await this.loadConfig(this.db), session), session };
  }

  /**
   * Does an app's traffic tunnel? With deviceUuid, the endpoint comes from the device record and
   * the iOS binding from MobileIron's policy for the device (the app must be delivered to it and
   * bound to an AnyConnect per-app VPN); the tunnel group defaults to the bound VPN's `group`.
   */
  async simulate(
    actor: Actor,
    input: SimulateInput,
  ): Promise<TunnelDecision & { session: Session; mdmSource: 'device' | 'request' | 'none' }> {
    requireRead(actor);
    const notes: string[] = [];
    let platform: Platform;
    let endpoint = normalizeEndpointAttributes(input.endpoint ?? {});
    let mdmBinding = input.mdmBinding;
    let tunnelGroup = input.tunnelGroup;
    let mdmSource: 'device' | 'request' | 'none' = mdmBinding ? 'request' : 'none';
    if (input.deviceUuid !== undefined) {
      if (input.platform !== undefined)
        throw ApiError.validation('platform', 'comes from the device record; omit it when deviceUuid is given');
      if (input.mdmBinding !== undefined)
        throw ApiError.validation('mdmBinding', "comes from MobileIron's policy for the device; omit it when deviceUuid is given");
      const resolved = await this.policy.forDevice(actor, input.deviceUuid);
      const devicePlatform = parsePlatform(resolved.device.platform);
      if (!devicePlatform) throw ApiError.validation('deviceUuid', `device platform '${resolved.device.platform}' is not iOS or Android`);
      platform = devicePlatform;
      endpoint = { ...deviceEndpoint(resolved), ...endpoint };
      const fromPolicy = bindingFromPolicy(resolved, input.app.appId);
      // Android ignores MDM bindings (the ASA policy alone decides), so their story would only distract.
      if (platform === 'iOS') {
        notes.push(...fromPolicy.notes);
        mdmBinding = fromPolicy.binding;
        mdmSource = 'device';
      }
      if (tunnelGroup === undefined && fromPolicy.group) {
        tunnelGroup = fromPolicy.group;
        notes.push(`tunnel group '${tunnelGroup}' taken from the group of VPN configuration '${fromPolicy.binding.vpnConfigName}'`);
      }
    } else {
      if (input.platform === undefined)
        throw ApiError.validation('platform', "is required ('iOS' or 'Android') unless deviceUuid is given");
      platform = input.platform;
    }
    if (tunnelGroup === undefined)
      throw ApiError.validation(
        'tunnelGroup',
        'is required (or use deviceUuid with an app bound to a VPN configuration that names its group)',
      );
    const session: Session = {
      tunnelGroup,
      aaa: input.aaa ?? {},
      endpoint,
      ...(input.userPerapp !== undefined ? { userPerapp: input.userPerapp } : {}),
    };
    const decision = decideTunnel({
      config: await this.loadConfig(this.db),
      session,
      app: input.app,
      platform,
      ...(mdmBinding ? { mdmBinding } : {}),
    });
    // The MobileIron facts go just before the verdict, which stays last.
    decision.reasons.splice(decision.reasons.length - 1, 0, ...notes);
    return { ...decision, session, mdmSource };
  }
}

// ---- helpers used by the service ------------------------------------------------------------

function parseAsa(text: string) {
  try {
    return parseAsaCliWithReport(text);
  } catch (err) {
    if (err instanceof AsaCliParseError) {
      throw ApiError.badRequest('com.mobileiron.vsp.messages.anyconnect.asaParse', err.message, { field: 'text', line: err.line });
    }
    throw err;
  }
}

function checkDapCriteria(record: DapRecord): void {
  const errors = dapRecordIssues(record).filter((i) => i.severity === 'error');
  if (errors.length > 0) throw validationError(errors.map((i) => ({ field: issueField(i.path), message: i.message })));
}

function dapColumns(r: DapRecord) {
  return {
    name: r.name,
    description: r.description ?? '',
    priority: r.priority,
    action: r.action,
    aaaMode: r.aaaMode,
    aaaCriteria: JSON.stringify(r.aaaCriteria),
    endpointCriteria: JSON.stringify(r.endpointCriteria),
    perapp: writeSetting(r.perapp),
  };
}

function counts(config: HeadEndConfig) {
  return {
    perappPolicies: config.perappPolicies.length,
    groupPolicies: config.groupPolicies.length,
    tunnelGroups: config.tunnelGroups.length,
    dapRecords: config.dapRecords.length,
  };
}

/** ACIDex attributes AnyConnect would report for the device; unknown OS version or model are left out (a missing attribute never matches). */
function deviceEndpoint(resolved: ResolvedPolicy): Record<string, string> {
  const d = resolved.device;
  if (!parsePlatform(d.platform)) throw ApiError.validation('deviceUuid', `device platform '${d.platform}' is not iOS or Android`);
  const all = endpointFromDevice({ platform: d.platform, osVersion: d.osVersion ?? '', model: d.model ?? '' });
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ''));
}

/**
 * How MobileIron bound the app on this device: not delivered → unmanaged; delivered but not bound
 * → managed without VPNUUID; bound to a non-AnyConnect per-app VPN → not bound as far as
 * AnyConnect is concerned (iOS hands the traffic to that other VPN).
 */
function bindingFromPolicy(resolved: ResolvedPolicy, appId: string): { binding: MdmBinding; notes: string[]; group: string | null } {
  const entry = resolved.apps.find((a) => a.bundleId === appId);
  if (!entry) {
    return {
      binding: { managed: false, vpnUuid: null },
      notes: [
        `MobileIron: '${appId}' is not delivered to this device by the App Catalog (no label shared with the device), so it is not a managed app`,
      ],
      group: null,
    };
  }
  if (entry.vpnUuid === null || entry.vpnConfigurationId === null) {
    return {
      binding: { managed: true, vpnUuid: null },
      notes: [`MobileIron: ${entry.name} (${appId}) is delivered but not bound: ${entry.reason}`],
      group: null,
    };
  }
  const row = resolved.vpnRows.find((v) => v.id === entry.vpnConfigurationId);
  const name = row?.name ?? String(entry.vpnConfigurationId);
  if (row && !ANYCONNECT_TYPES.has(row.connectionType)) {
    return {
      binding: { managed: true, vpnUuid: null, vpnConfigName: name },
      notes: [
        `MobileIron: ${entry.name} (${appId}) is bound to per-app VPN configuration '${name}', a ${row.connectionType} connection, not AnyConnect; its traffic never reaches the ASA`,
      ],
      group: null,
    };
  }
  return {
    binding: { managed: true, vpnUuid: entry.vpnUuid, vpnConfigName: name },
    notes: [`MobileIron: ${entry.name} (${appId}) is bound to per-app VPN configuration '${name}' (${entry.reason})`],
    group: row?.group ?? null,
  };
}

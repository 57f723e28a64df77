// The four named head-end objects (PerApp policies, group policies, tunnel groups, DAP records)
// as CRUD definitions for the one helper (src/platform/db/crud.ts): their columns, views, checks,
// references and what their audit entries carry. The helper does the rest the same way for all.
import type { DbTx, Prisma } from '../platform/db/client.js';
import type { CrudDefinition } from '../platform/db/crud.js';
import { DomainError, type ErrorDetail } from '../platform/errors/index.js';
import {
  type ConfigIssue,
  DEFAULT_GROUP_POLICY,
  type DapAction,
  type DapRecord,
  type HeadEndConfig,
  type PerAppRule,
  type PerAppSetting,
  type TunnelAuthentication,
  type TunnelGroup,
  type UsernameFromCertificate,
  checkPerAppPolicy,
  validateHeadEndConfig,
} from '../lib/anyconnect/index.js';
import { anyconnectStore as store, type DapRecordRow, type GroupPolicyRow, type PerAppPolicyRow, type TunnelGroupRow } from './store.js';

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
  authentication?: TunnelAuthentication;
  usernameFromCertificate?: UsernameFromCertificate | null;
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

// ---- column codecs --------------------------------------------------------------------------

export function parseJsonColumn<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** NULL = unset. An unreadable value becomes a reference to a policy that cannot exist, so the resolver fails closed on it. */
export function readSetting(text: string | null): PerAppSetting {
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

export function writeSetting(setting: PerAppSetting): string | null {
  return setting === null ? null : JSON.stringify(setting);
}

function namesPolicy(setting: PerAppSetting, name: string): boolean {
  return setting !== null && setting !== 'none' && setting.policy === name;
}

export function toDapRecord(row: DapRecordRow): DapRecord {
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

export function dapColumns(r: DapRecord) {
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

/** An unreadable stored value reads as the ASA default rather than failing every read of the head-end. */
export function readUsernameFrom(text: string | null): UsernameFromCertificate | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (value === 'use-entire-name') return value;
    if (value && typeof value === 'object' && typeof (value as { primary?: unknown }).primary === 'string')
      return value as UsernameFromCertificate;
  } catch {
    // fall through
  }
  return null;
}

export function toTunnelGroup(row: TunnelGroupRow): TunnelGroup {
  const authentication = (['aaa', 'certificate', 'aaa certificate'] as const).find((a) => a === row.authentication) ?? 'aaa';
  return {
    name: row.name,
    defaultGroupPolicy: row.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY,
    authentication,
    usernameFromCertificate: readUsernameFrom(row.usernameFromCertificate),
  };
}

function tunnelGroupView(row: TunnelGroupRow) {
  return { id: row.id, ...toTunnelGroup(row), ...stamps(row) };
}

function usernameFromColumn(setting: UsernameFromCertificate | null | undefined) {
  return setting === undefined ? {} : { usernameFromCertificate: setting === null ? null : JSON.stringify(setting) };
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

// ---- checks ---------------------------------------------------------------------------------

/** One 400 carrying every problem: the first as the main message, the rest as further messages, each with its field. */
export function validationError(issues: Array<{ field: string; message: string }>): DomainError {
  const [first, ...rest] = issues;
  const more: ErrorDetail[] = rest.map((i) => ({
    code: 'request.invalid',
    message: `${i.field}: ${i.message}`,
    details: { field: i.field },
  }));
  return new DomainError('request.invalid', `${first!.field}: ${first!.message}`, { field: first!.field }, more);
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
    trustpoints: [],
  };
  return validateHeadEndConfig(config).filter((i) => !i.path.endsWith('.perapp'));
}

function checkDapCriteria(record: DapRecord): void {
  const errors = dapRecordIssues(record).filter((i) => i.severity === 'error');
  if (errors.length > 0) throw validationError(errors.map((i) => ({ field: issueField(i.path), message: i.message })));
}

function checkRules(rules: unknown[]): PerAppRule[] {
  const result = checkPerAppPolicy({ rules });
  if (!result.ok) throw validationError(result.issues.map((i) => ({ field: i.path.join('.') || 'rules', message: i.message })));
  return result.policy.rules;
}

async function assertPolicyExists(tx: DbTx, setting: PerAppSetting | undefined, field: string): Promise<void> {
  if (setting === undefined || setting === null || setting === 'none') return;
  if (!(await store.perappPolicies.findByName(tx, setting.policy))) {
    throw DomainError.validation(field, `PerApp policy '${setting.policy}' does not exist; create it first or use "none" / null`);
  }
}

async function assertGroupPolicyExists(tx: DbTx, name: string | undefined, field: string): Promise<void> {
  if (name === undefined || name === DEFAULT_GROUP_POLICY) return;
  if (!(await store.groupPolicies.findByName(tx, name))) {
    throw DomainError.validation(
      field,
      `group policy '${name}' does not exist; create it first or use ${DEFAULT_GROUP_POLICY} (always present on an ASA)`,
    );
  }
}

function duplicate(what: string) {
  return { code: 'anyconnect.duplicate' as const, message: (name: string) => `A ${what} named ${name} already exists` };
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

// ---- the four resources ---------------------------------------------------------------------

export const perappPolicies: CrudDefinition<
  DbTx,
  PerAppPolicyRow,
  ReturnType<typeof perappPolicyView>,
  PerAppPolicyInput,
  Partial<PerAppPolicyInput>,
  Prisma.PerAppPolicyCreateInput,
  Prisma.PerAppPolicyUpdateInput
> = {
  noun: 'PerApp policy',
  auditType: 'perappPolicy',
  store: store.perappPolicies,
  duplicate: duplicate('PerApp policy'),
  inUse: {
    code: 'anyconnect.inUse',
    check: async (tx, row) => {
      const usage = (await perappPolicyUsage(tx))(row.name);
      if (usage.groupPolicies.length + usage.dapRecords.length === 0) return null;
      const who = [
        usage.groupPolicies.length ? `group policies ${listNames(usage.groupPolicies)}` : '',
        usage.dapRecords.length ? `DAP records ${listNames(usage.dapRecords)}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return `PerApp policy ${row.name} is used by ${who}; change their perapp first`;
    },
  },
  viewer: async (tx) => {
    const usage = await perappPolicyUsage(tx);
    return (row) => perappPolicyView(row, usage(row.name));
  },
  draftCreate: (input) => {
    const rules = checkRules(input.rules);
    return {
      data: { name: input.name, description: input.description ?? '', rules: JSON.stringify(rules) },
      audit: { name: input.name, rules },
    };
  },
  draftUpdate: (input) => {
    const rules = input.rules === undefined ? undefined : checkRules(input.rules);
    return async () => ({
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(rules !== undefined ? { rules: JSON.stringify(rules) } : {}),
      },
      audit: { ...input, ...(rules ? { rules } : {}) },
      /** The group policies and DAP records that name the policy follow the rename. */
      carryRename: async (tx, from, to) => {
        const usage = (await perappPolicyUsage(tx))(from);
        const setting = writeSetting({ policy: to });
        for (const name of usage.groupPolicies) {
          const gp = (await store.groupPolicies.findByName(tx, name))!;
          await store.groupPolicies.update(tx, gp.id, { perapp: setting });
        }
        for (const name of usage.dapRecords) {
          const dap = (await store.dapRecords.findByName(tx, name))!;
          await store.dapRecords.update(tx, dap.id, { perapp: setting });
        }
        return usage.groupPolicies.length + usage.dapRecords.length > 0 ? { referencesRenamed: usage } : {};
      },
    });
  },
};

export const groupPolicies: CrudDefinition<
  DbTx,
  GroupPolicyRow,
  ReturnType<typeof groupPolicyView>,
  GroupPolicyInput,
  Partial<GroupPolicyInput>,
  Prisma.GroupPolicyCreateInput,
  Prisma.GroupPolicyUpdateInput
> = {
  noun: 'Group policy',
  auditType: 'groupPolicy',
  store: store.groupPolicies,
  duplicate: duplicate('group policy'),
  inUse: {
    code: 'anyconnect.inUse',
    check: async (tx, row) => {
      // Tunnel groups naming DfltGrpPolicy fall back to the built-in one, so they do not block.
      if (row.name === DEFAULT_GROUP_POLICY) return null;
      const users = (await groupPolicyUsage(tx))(row.name).tunnelGroups;
      if (users.length === 0) return null;
      return `Group policy ${row.name} is the default group policy of tunnel groups ${listNames(users)}; change their defaultGroupPolicy first`;
    },
  },
  viewer: async (tx) => {
    const usage = await groupPolicyUsage(tx);
    return (row) => groupPolicyView(row, usage(row.name));
  },
  draftCreate: (input) => {
    const perapp = input.perapp ?? null;
    return {
      data: { name: input.name, perapp: writeSetting(perapp) },
      audit: { name: input.name, perapp },
      checkReferences: (tx) => assertPolicyExists(tx, perapp, 'perapp'),
    };
  },
  draftUpdate: (input) => async (tx) => {
    // checked before the new name, unlike the other resources' references
    await assertPolicyExists(tx, input.perapp, 'perapp');
    return {
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.perapp !== undefined ? { perapp: writeSetting(input.perapp) } : {}),
      },
      audit: { ...input },
      /** Tunnel groups using the policy as their default follow the rename. Not for DfltGrpPolicy: a tunnel group naming it keeps the ASA's built-in one. */
      carryRename: async (tx, from, to) => {
        if (from === DEFAULT_GROUP_POLICY) return {};
        const tunnelGroupsRenamed = (await groupPolicyUsage(tx))(from).tunnelGroups;
        await store.tunnelGroups.renameDefaultGroupPolicy(tx, from, to);
        return tunnelGroupsRenamed.length ? { tunnelGroupsRenamed } : {};
      },
    };
  },
};

export const tunnelGroups: CrudDefinition<
  DbTx,
  TunnelGroupRow,
  ReturnType<typeof tunnelGroupView>,
  TunnelGroupInput,
  Partial<TunnelGroupInput>,
  Prisma.TunnelGroupCreateInput,
  Prisma.TunnelGroupUpdateInput
> = {
  noun: 'Tunnel group',
  auditType: 'tunnelGroup',
  store: store.tunnelGroups,
  duplicate: duplicate('tunnel group'),
  viewer: async () => tunnelGroupView,
  draftCreate: (input) => {
    const defaultGroupPolicy = input.defaultGroupPolicy ?? DEFAULT_GROUP_POLICY;
    const authentication = input.authentication ?? 'aaa';
    const usernameFromCertificate = input.usernameFromCertificate ?? null;
    return {
      data: { name: input.name, defaultGroupPolicy, authentication, ...usernameFromColumn(usernameFromCertificate) },
      audit: { name: input.name, defaultGroupPolicy, authentication, usernameFromCertificate },
      checkReferences: (tx) => assertGroupPolicyExists(tx, defaultGroupPolicy, 'defaultGroupPolicy'),
    };
  },
  draftUpdate: (input) => async () => ({
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.defaultGroupPolicy !== undefined ? { defaultGroupPolicy: input.defaultGroupPolicy } : {}),
      ...(input.authentication !== undefined ? { authentication: input.authentication } : {}),
      ...usernameFromColumn(input.usernameFromCertificate),
    },
    audit: { ...input },
    checkReferences: (tx) => assertGroupPolicyExists(tx, input.defaultGroupPolicy, 'defaultGroupPolicy'),
  }),
};

export const dapRecords: CrudDefinition<
  DbTx,
  DapRecordRow,
  ReturnType<typeof dapRecordView>,
  DapRecordInput,
  Partial<DapRecordInput>,
  Prisma.DapRecordCreateInput,
  Prisma.DapRecordUpdateInput
> = {
  noun: 'DAP record',
  auditType: 'dapRecord',
  store: store.dapRecords,
  duplicate: duplicate('DAP record'),
  viewer: async () => dapRecordView,
  draftCreate: (input) => {
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
    return { data: dapColumns(record), audit: { ...record }, checkReferences: (tx) => assertPolicyExists(tx, record.perapp, 'perapp') };
  },
  /** The criteria are checked on the stored record with the changes applied. */
  draftUpdate: (input) => async (_tx, existing) => {
    const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<DapRecordInput>;
    const merged: DapRecord = { ...toDapRecord(existing), ...defined } as DapRecord;
    if (merged.description === '') delete merged.description;
    checkDapCriteria(merged);
    return { data: dapColumns(merged), audit: { ...input }, checkReferences: (tx) => assertPolicyExists(tx, input.perapp, 'perapp') };
  },
};

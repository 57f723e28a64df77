// DAP record selection (design note 4.2 and 5.7): which records a session matches, and in which order.
import { compareVersions } from '../versions/compare.js';
import { DEFAULT_DAP_RECORD, isVersionAttribute } from './headend.js';
import type { Criterion, DapAction, DapOrder, DapRecord, HeadEndConfig, PerAppSetting } from './types.js';

export type AttributeValues = Record<string, string | string[] | undefined>;

const OPERATOR_SYMBOL: Record<Criterion['operator'], string> = { EQ: '=', NE: '!=', LT: '<', LE: '<=', GT: '>', GE: '>=' };

export interface CriterionResult {
  criterion: Criterion;
  ok: boolean;
  /** e.g. `endpoint.anyconnect.platformversion >= '9.3.1' (session has '9.3.1', compared as versions): true` */
  detail: string;
}

/**
 * One criterion against a session attribute. A missing attribute never satisfies a criterion
 * (whatever the operator). For multi-valued AAA attributes (LDAP memberOf) EQ and the ordering
 * operators hold when any value does; NE holds when no value equals (so `memberOf != Guests` is
 * false for a member of Guests and Staff, which is what an administrator means).
 */
export function evaluateCriterion(criterion: Criterion, value: string | string[] | undefined): CriterionResult {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const asVersion = isVersionAttribute(criterion.attribute);
  const head = `${criterion.attribute} ${OPERATOR_SYMBOL[criterion.operator]} '${criterion.value}'`;
  if (values.length === 0) {
    return { criterion, ok: false, detail: `${head}: false (the session has no ${criterion.attribute})` };
  }
  const cmp = (x: string): number =>
    asVersion ? compareVersions(x, criterion.value) : x === criterion.value ? 0 : x < criterion.value ? -1 : 1;
  const holds = (c: number): boolean => {
    switch (criterion.operator) {
      case 'EQ':
        return c === 0;
      case 'NE':
        return c !== 0;
      case 'LT':
        return c < 0;
      case 'LE':
        return c <= 0;
      case 'GT':
        return c > 0;
      case 'GE':
        return c >= 0;
    }
  };
  const ok = criterion.operator === 'NE' ? values.every((v) => holds(cmp(v))) : values.some((v) => holds(cmp(v)));
  const shown = values.length === 1 ? `'${values[0]}'` : `[${values.map((v) => `'${v}'`).join(', ')}]`;
  return { criterion, ok, detail: `${head}: ${ok} (session has ${shown}${asVersion ? ', compared as versions' : ''})` };
}

export interface DapEvaluation {
  name: string;
  priority: number;
  action: DapAction;
  perapp: PerAppSetting;
  selected: boolean;
  /** Why the record was (or was not) selected, one line per criterion group. */
  why: string[];
}

export function evaluateDapRecord(record: DapRecord, aaa: AttributeValues, endpoint: AttributeValues): DapEvaluation {
  const why: string[] = [];
  let aaaOk = true;
  if (record.aaaCriteria.length === 0) {
    why.push('no AAA criteria');
  } else {
    const results = record.aaaCriteria.map((c) => evaluateCriterion(c, aaa[c.attribute]));
    const hits = results.filter((r) => r.ok).length;
    aaaOk = record.aaaMode === 'ANY' ? hits > 0 : record.aaaMode === 'ALL' ? hits === results.length : hits === 0;
    why.push(
      `AAA needs ${record.aaaMode} of ${results.length} (${hits} true): ${results.map((r) => r.detail).join('; ')} → ${aaaOk ? 'satisfied' : 'not satisfied'}`,
    );
  }
  let endpointOk = true;
  if (record.endpointCriteria.length === 0) {
    why.push('no endpoint criteria');
  } else {
    const results = record.endpointCriteria.map((c) => evaluateCriterion(c, endpoint[c.attribute]));
    endpointOk = results.every((r) => r.ok);
    why.push(
      `endpoint needs ALL of ${results.length}: ${results.map((r) => r.detail).join('; ')} → ${endpointOk ? 'satisfied' : 'not satisfied'}`,
    );
  }
  return { name: record.name, priority: record.priority, action: record.action, perapp: record.perapp, selected: aaaOk && endpointOk, why };
}

/** Sort order of selected records: winners first. Ties are broken by name so results are deterministic (mock). */
export function compareDapPriority(order: DapOrder) {
  return (a: { priority: number; name: string }, b: { priority: number; name: string }): number => {
    const byPriority = order === 'asa' ? b.priority - a.priority : a.priority - b.priority;
    if (byPriority !== 0) return byPriority;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
}

export interface DapSelection {
  /** Every non-default record, with why it was or was not selected. */
  evaluated: DapEvaluation[];
  /** Selected records, winners first; DfltAccessPolicy alone when nothing else matched. */
  selected: DapEvaluation[];
  usedDefaultRecord: boolean;
}

/**
 * Selects DAP records: every non-default record whose AAA and endpoint criteria hold. If none,
 * DfltAccessPolicy (configured, or the ASA's built-in: priority 0, continue, no perapp).
 */
export function selectDapRecords(config: HeadEndConfig, aaa: AttributeValues, endpoint: AttributeValues): DapSelection {
  const evaluated = config.dapRecords.filter((r) => r.name !== DEFAULT_DAP_RECORD).map((r) => evaluateDapRecord(r, aaa, endpoint));
  const matched = evaluated.filter((e) => e.selected).sort(compareDapPriority(config.dapOrder));
  if (matched.length > 0) return { evaluated, selected: matched, usedDefaultRecord: false };
  const configured = config.dapRecords.find((r) => r.name === DEFAULT_DAP_RECORD);
  const dflt: DapEvaluation = {
    name: DEFAULT_DAP_RECORD,
    priority: 0,
    action: configured?.action ?? 'continue',
    perapp: configured?.perapp ?? null,
    selected: true,
    why: [`no other DAP record matched, so ${DEFAULT_DAP_RECORD} applies${configured ? '' : ' (built-in: continue, no perapp)'}`],
  };
  return { evaluated, selected: [dflt], usedDefaultRecord: true };
}

function evalExpression(c: Criterion): string {
  const type = isVersionAttribute(c.attribute) ? 'version' : 'string';
  return `EVAL(${c.attribute},"${c.operator}",${JSON.stringify(c.value)},"${type}")`;
}

/**
 * The record's criteria as an ASDM-style Lua expression, for display only. A real ASA keeps
 * selection criteria in dap.xml on flash, not in the running-config.
 */
export function renderDapLua(record: DapRecord): string {
  const parts: string[] = [];
  if (record.aaaCriteria.length > 0) {
    const exprs = record.aaaCriteria.map(evalExpression);
    if (record.aaaMode === 'ALL') parts.push(exprs.length > 1 ? `(${exprs.join(' and ')})` : exprs[0]!);
    else if (record.aaaMode === 'ANY') parts.push(exprs.length > 1 ? `(${exprs.join(' or ')})` : exprs[0]!);
    else parts.push(`not (${exprs.join(' or ')})`);
  }
  parts.push(...record.endpointCriteria.map(evalExpression));
  return parts.length === 0 ? 'true' : parts.join(' and ');
}

/**
 * ASA CLI for per-app VPN (design note 2.2 and 5.6): render a HeadEndConfig as running-config
 * text and read it back.
 *
 * Known shape (public configs, STIG, Netspoc): `webvpn` / ` anyconnect-custom-attr perapp
 * description ...`; top-level `anyconnect-custom-data perapp NAME VALUE`, where a value longer than
 * a 420-character line is split over several same-name lines that the ASA concatenates;
 * ` anyconnect-custom perapp value NAME` under `group-policy NAME attributes`.
 * Unverified spellings used here: ` anyconnect-custom perapp none`, and the same
 * ` anyconnect-custom perapp ...` sub-command inside `dynamic-access-policy-record`.
 *
 * DAP selection criteria are not part of an ASA running-config: a real ASA keeps them in dap.xml
 * on flash. mockiron writes them as its own comment directives after each record
 * (`! mockiron dap-criteria NAME ...`), plus a display-only Lua EVAL line, and the DAP priority
 * order as `! mockiron dap-order asa|ftd`. An ASA ignores `!` lines.
 */
import { PerAppDecodeError, decodePerAppPolicy, encodePerAppPolicy } from './codec.js';
import { renderDapLua } from './dap.js';
import { DEFAULT_PERAPP_DESCRIPTION, HeadEndConfigError, MAX_DAP_PRIORITY, NAME_PATTERN, normalizeHeadEndConfig } from './headend.js';
import { formatPath } from './issues.js';
import {
  AAA_MODES,
  type AaaMode,
  CRITERION_OPERATORS,
  type Criterion,
  type CriterionOperator,
  DAP_ACTIONS,
  type DapAction,
  type DapRecord,
  type GroupPolicy,
  type HeadEndConfig,
  type PerAppSetting,
  type TunnelGroup,
} from './types.js';

/** Cisco command reference: an anyconnect-custom-data line may be at most 420 characters. */
export const ASA_MAX_LINE_LENGTH = 420;
const DATA_PREFIX = 'anyconnect-custom-data perapp';
const DIRECTIVE = '! mockiron ';

/**
 * `anyconnect-custom-data perapp NAME CHUNK` lines for a value, each at most `maxLineLength`
 * characters counting the whole line (the conservative reading of the limit).
 */
export function chunkCustomDataLines(name: string, value: string, maxLineLength = ASA_MAX_LINE_LENGTH): string[] {
  const prefix = `${DATA_PREFIX} ${name} `;
  const room = maxLineLength - prefix.length;
  if (room < 1) throw new Error(`policy name '${name}' is too long to fit any data on a ${maxLineLength}-character line`);
  const lines: string[] = [];
  for (let i = 0; i < value.length; i += room) lines.push(prefix + value.slice(i, i + room));
  return lines;
}

function renderSetting(setting: PerAppSetting): string | null {
  if (setting === null) return null;
  return setting === 'none' ? ' anyconnect-custom perapp none' : ` anyconnect-custom perapp value ${setting.policy}`;
}

export function renderAsaCli(config: HeadEndConfig): string {
  const out: string[] = [];
  out.push("! mockiron: per-app VPN excerpt of an ASA running-config (perapp blobs use mockiron's own format)");
  out.push(`${DIRECTIVE}dap-order ${config.dapOrder}`);
  out.push('webvpn');
  out.push(` anyconnect-custom-attr perapp${config.perappAttrDescription ? ` description ${config.perappAttrDescription}` : ''}`);
  out.push('!');
  if (config.perappPolicies.length > 0) {
    for (const p of config.perappPolicies) out.push(...chunkCustomDataLines(p.name, encodePerAppPolicy({ version: 1, rules: p.rules })));
    out.push('!');
  }
  for (const g of config.groupPolicies) {
    out.push(`group-policy ${g.name} internal`);
    const line = renderSetting(g.perapp);
    if (line) out.push(`group-policy ${g.name} attributes`, line);
    out.push('!');
  }
  for (const t of config.tunnelGroups) {
    out.push(`tunnel-group ${t.name} type remote-access`);
    out.push(`tunnel-group ${t.name} general-attributes`, ` default-group-policy ${t.defaultGroupPolicy}`);
    out.push('!');
  }
  for (const r of config.dapRecords) {
    out.push(`dynamic-access-policy-record ${r.name}`);
    if (r.description !== undefined) out.push(` description "${r.description}"`);
    out.push(` priority ${r.priority}`, ` action ${r.action}`);
    const line = renderSetting(r.perapp);
    if (line) out.push(line);
    out.push(`${DIRECTIVE}dap-criteria ${r.name} aaa-mode ${r.aaaMode}`);
    for (const c of r.aaaCriteria)
      out.push(`${DIRECTIVE}dap-criteria ${r.name} aaa ${c.attribute} ${c.operator} ${JSON.stringify(c.value)}`);
    for (const c of r.endpointCriteria)
      out.push(`${DIRECTIVE}dap-criteria ${r.name} endpoint ${c.attribute} ${c.operator} ${JSON.stringify(c.value)}`);
    out.push(...commentLines(`dap.xml selection criteria of ${r.name}, display only: ${renderDapLua(r)}`));
    out.push('!');
  }
  return `${out.join('\n')}\n`;
}

/** A comment wrapped so no line exceeds the ASA's line limit either. */
function commentLines(text: string): string[] {
  const width = ASA_MAX_LINE_LENGTH - 2;
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(`! ${text.slice(i, i + width)}`);
  return lines;
}

export class AsaCliParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.name = 'AsaCliParseError';
  }
}

export interface AsaParseReport {
  config: HeadEndConfig;
  /** Lines that are valid ASA config but not part of the per-app model (kept for the curious). */
  ignoredLines: Array<{ line: number; text: string }>;
}

type Block =
  | { kind: 'webvpn' }
  | { kind: 'group-policy'; gp: GroupPolicy }
  | { kind: 'tunnel-group'; tg: TunnelGroup }
  | { kind: 'dap'; record: DapRecord }
  | { kind: 'other' };

/** Reads rendered (or hand-written) ASA CLI back into a HeadEndConfig. Errors name the line. */
export function parseAsaCliWithReport(text: string): AsaParseReport {
  const ignoredLines: AsaParseReport['ignoredLines'] = [];
  let dapOrder: HeadEndConfig['dapOrder'] = 'asa';
  let description: string | undefined;
  const chunks = new Map<string, { firstLine: number; parts: string[] }>();
  const groupPolicies = new Map<string, GroupPolicy>();
  const tunnelGroups = new Map<string, TunnelGroup>();
  const dapRecords = new Map<string, DapRecord>();
  let block: Block | null = null;

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const fail = (message: string): never => {
      throw new AsaCliParseError(lineNo, message);
    };
    const checkName = (name: string | undefined, what: string): string => {
      if (name === undefined || !NAME_PATTERN.test(name))
        fail(`${what} ${name === undefined ? 'is missing' : `'${name}' is not a valid name (1-64 of letters, digits, '_', '.', '-')`}`);
      return name!;
    };
    const parseSetting = (words: string[]): PerAppSetting => {
      // words: ['anyconnect-custom', 'perapp', ...]
      if (words[2] === 'none' && words.length === 3) return 'none';
      if (words[2] === 'value' && words.length === 4) return { policy: checkName(words[3], 'perapp policy name') };
      return fail(`expected 'anyconnect-custom perapp value NAME' or 'anyconnect-custom perapp none', got '${raw.trim()}'`);
    };
    const line = raw.trimEnd();
    if (line.trim() === '') return;

    if (line.startsWith('!')) {
      block = null;
      if (line.startsWith(DIRECTIVE)) parseDirective(line.slice(DIRECTIVE.length).trim(), fail, checkName);
      return;
    }
    const words = line.trim().split(/\s+/);
    if (/^\s/.test(line)) {
      if (block === null) fail(`indented sub-command '${line.trim()}' outside any configuration block`);
      const b = block as Block;
      if (b.kind === 'webvpn' && words[0] === 'anyconnect-custom-attr' && words[1] === 'perapp') {
        const rest = line.trim().slice('anyconnect-custom-attr perapp'.length).trim();
        if (rest === '') description = '';
        else if (rest.startsWith('description')) description = rest.slice('description'.length).trim();
        else fail(`expected 'anyconnect-custom-attr perapp [description TEXT]', got '${line.trim()}'`);
        return;
      }
      if (b.kind === 'group-policy' && words[0] === 'anyconnect-custom' && words[1] === 'perapp') {
        b.gp.perapp = parseSetting(words);
        return;
      }
      if (b.kind === 'group-policy' && words[0] === 'no' && words[1] === 'anyconnect-custom' && words[2] === 'perapp') {
        b.gp.perapp = null;
        return;
      }
      if (b.kind === 'tunnel-group' && words[0] === 'default-group-policy') {
        if (words.length !== 2) fail(`expected 'default-group-policy NAME', got '${line.trim()}'`);
        b.tg.defaultGroupPolicy = checkName(words[1], 'default-group-policy');
        return;
      }
      if (b.kind === 'dap') {
        const rec = b.record;
        switch (words[0]) {
          case 'description': {
            const rest = line.trim().slice('description'.length).trim();
            const unquoted = rest.replace(/^"(.*)"$/s, '$1').trim(); // s: a description may hold U+2028, which . does not match
            if (unquoted.includes('"')) fail('a DAP description may not contain double quotes');
            if (unquoted === '') delete rec.description;
            else rec.description = unquoted;
            return;
          }
          case 'priority': {
            const n = words[1] !== undefined && /^\d+$/.test(words[1]) ? Number(words[1]) : NaN;
            if (words.length !== 2 || !(n <= MAX_DAP_PRIORITY))
              fail(`priority must be a whole number from 0 to ${MAX_DAP_PRIORITY}, got '${line.trim()}'`);
            rec.priority = n;
            return;
          }
          case 'action':
            if (words.length !== 2 || !(DAP_ACTIONS as readonly string[]).includes(words[1]!)) {
              fail(`action must be one of ${DAP_ACTIONS.join(', ')}, got '${line.trim()}'`);
            }
            rec.action = words[1] as DapAction;
            return;
          case 'anyconnect-custom':
            if (words[1] === 'perapp') {
              rec.perapp = parseSetting(words);
              return;
            }
        }
      }
      ignoredLines.push({ line: lineNo, text: line });
      return;
    }

    // a top-level command
    block = { kind: 'other' };
    if (words[0] === 'webvpn' && words.length === 1) {
      block = { kind: 'webvpn' };
      return;
    } else if (words[0] === 'anyconnect-custom-data' && words[1] === 'perapp') {
      if (line.length > ASA_MAX_LINE_LENGTH)
        fail(
          `this anyconnect-custom-data line is ${line.length} characters; the ASA limit is ${ASA_MAX_LINE_LENGTH} (split the value over several lines with the same name)`,
        );
      if (words.length !== 4)
        fail(`expected 'anyconnect-custom-data perapp NAME VALUE' with a value without spaces, got ${words.length} words`);
      const name = checkName(words[2], 'perapp policy name');
      const entry = chunks.get(name) ?? { firstLine: lineNo, parts: [] };
      entry.parts.push(words[3]!);
      chunks.set(name, entry);
      block = null;
      return;
    } else if (words[0] === 'group-policy' && (words[2] === 'internal' || words[2] === 'attributes')) {
      if (words.length !== 3) fail(`expected 'group-policy NAME internal|attributes', got '${line}'`);
      const name = checkName(words[1], 'group policy name');
      const gp = groupPolicies.get(name) ?? { name, perapp: null };
      groupPolicies.set(name, gp);
      block = words[2] === 'attributes' ? { kind: 'group-policy', gp } : null;
      return;
    } else if (
      words[0] === 'tunnel-group' &&
      ((words[2] === 'type' && words[3] === 'remote-access') || words[2] === 'general-attributes')
    ) {
      if (words.length !== (words[2] === 'type' ? 4 : 3)) fail(`unexpected words in '${line}'`);
      const name = checkName(words[1], 'tunnel group name');
      const tg = tunnelGroups.get(name) ?? { name, defaultGroupPolicy: 'DfltGrpPolicy' };
      tunnelGroups.set(name, tg);
      block = words[2] === 'general-attributes' ? { kind: 'tunnel-group', tg } : null;
      return;
    } else if (words[0] === 'dynamic-access-policy-record') {
      if (words.length !== 2) fail(`expected 'dynamic-access-policy-record NAME', got '${line}'`);
      const name = checkName(words[1], 'DAP record name');
      const record = dapRecords.get(name) ?? {
        name,
        priority: 0,
        action: 'continue',
        aaaMode: 'ANY',
        aaaCriteria: [],
        endpointCriteria: [],
        perapp: null,
      };
      dapRecords.set(name, record);
      block = { kind: 'dap', record };
      return;
    }
    ignoredLines.push({ line: lineNo, text: line });
  });

  function parseDirective(body: string, fail: (m: string) => never, checkName: (n: string | undefined, what: string) => string): void {
    const words = body.split(/\s+/);
    if (words[0] === 'dap-order') {
      if (words.length !== 2 || (words[1] !== 'asa' && words[1] !== 'ftd'))
        fail(`expected '! mockiron dap-order asa|ftd', got '! mockiron ${body}'`);
      dapOrder = words[1] as HeadEndConfig['dapOrder'];
      return;
    }
    if (words[0] !== 'dap-criteria') fail(`unknown mockiron directive '${words[0]}' (known: dap-order, dap-criteria)`);
    const name = checkName(words[1], 'DAP record name');
    const record = dapRecords.get(name);
    if (!record) fail(`dap-criteria for '${name}' comes before 'dynamic-access-policy-record ${name}'`);
    if (words[2] === 'aaa-mode') {
      if (words.length !== 4 || !(AAA_MODES as readonly string[]).includes(words[3]!))
        fail(`aaa-mode must be one of ${AAA_MODES.join(', ')}`);
      record!.aaaMode = words[3] as AaaMode;
      return;
    }
    // The value is a JSON string; the s flag lets it hold U+2028 and similar, which JSON.stringify leaves raw.
    const m = /^dap-criteria\s+\S+\s+(aaa|endpoint)\s+(\S+)\s+(\S+)\s+(".*")$/s.exec(body);
    if (!m) fail(`expected '! mockiron dap-criteria NAME aaa|endpoint ATTRIBUTE OPERATOR "VALUE"', got '! mockiron ${body}'`);
    const [, kind, attribute, operator, quoted] = m!;
    if (!(CRITERION_OPERATORS as readonly string[]).includes(operator!))
      fail(`operator must be one of ${CRITERION_OPERATORS.join(', ')}, got '${operator}'`);
    let value: unknown;
    try {
      value = JSON.parse(quoted!);
    } catch {
      fail(`the criterion value ${quoted} is not a valid double-quoted string`);
    }
    if (typeof value !== 'string') fail(`the criterion value ${quoted} is not a string`);
    const criterion: Criterion = { attribute: attribute!, operator: operator as CriterionOperator, value: value as string };
    (kind === 'aaa' ? record!.aaaCriteria : record!.endpointCriteria).push(criterion);
  }

  const perappPolicies = [...chunks].map(([name, { firstLine, parts }]) => {
    try {
      return { name, rules: decodePerAppPolicy(parts.join('')).policy.rules };
    } catch (err) {
      if (err instanceof PerAppDecodeError)
        throw new AsaCliParseError(firstLine, `perapp policy '${name}' (${parts.length} line(s) joined): ${err.message}`);
      throw err;
    }
  });

  const input = {
    dapOrder,
    perappAttrDescription: description ?? DEFAULT_PERAPP_DESCRIPTION,
    perappPolicies,
    groupPolicies: [...groupPolicies.values()],
    tunnelGroups: [...tunnelGroups.values()],
    dapRecords: [...dapRecords.values()],
  };
  try {
    return { config: normalizeHeadEndConfig(input), ignoredLines };
  } catch (err) {
    if (err instanceof HeadEndConfigError) {
      throw new AsaCliParseError(
        0,
        `the parsed configuration is invalid: ${err.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`,
      );
    }
    throw err;
  }
}

export function parseAsaCli(text: string): HeadEndConfig {
  return parseAsaCliWithReport(text).config;
}

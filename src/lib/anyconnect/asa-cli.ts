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
 *
 * Certificate authentication (real ASA commands): `tunnel-group NAME webvpn-attributes` /
 * ` authentication aaa|certificate|aaa certificate` (aaa, the default, is not written),
 * ` username-from-certificate CN [OU] | use-entire-name` under `general-attributes`,
 * `crypto ca trustpoint NAME` / ` revocation-check crl|crl none|none` and the CA certificate as
 * the ASA shows it: `crypto ca certificate chain NAME` / ` certificate ca SERIAL`, hex lines, `  quit`.
 * A trustpoint standing for mockiron's own CA carries `! mockiron trustpoint-ca NAME mockiron` instead.
 */
import { PerAppDecodeError, decodePerAppPolicy, encodePerAppPolicy } from './codec.js';
import { renderDapLua } from './dap.js';
import { DEFAULT_PERAPP_DESCRIPTION, HeadEndConfigError, MAX_DAP_PRIORITY, NAME_PATTERN, normalizeHeadEndConfig } from './headend.js';
import { formatPath } from './issues.js';
import { X509Certificate } from 'node:crypto';
import { derToPem } from '../pki/x509.js';
import {
  AAA_MODES,
  CERTIFICATE_NAME_FIELDS,
  type CertificateNameField,
  REVOCATION_CHECKS,
  type RevocationCheck,
  type Trustpoint,
  type UsernameFromCertificate,
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
  for (const tp of config.trustpoints) {
    out.push(`crypto ca trustpoint ${tp.name}`, ' enrollment terminal', ` revocation-check ${tp.revocationCheck}`);
    if (tp.caCertificate === null) out.push(`${DIRECTIVE}trustpoint-ca ${tp.name} mockiron`);
    else out.push(`crypto ca certificate chain ${tp.name}`, ...certificateChainLines(tp.caCertificate), '  quit');
    out.push('!');
  }
  for (const t of config.tunnelGroups) {
    out.push(`tunnel-group ${t.name} type remote-access`);
    out.push(`tunnel-group ${t.name} general-attributes`, ` default-group-policy ${t.defaultGroupPolicy}`);
    if (t.usernameFromCertificate !== null) out.push(` username-from-certificate ${renderUsernameFrom(t.usernameFromCertificate)}`);
    if (t.authentication !== 'aaa') out.push(`tunnel-group ${t.name} webvpn-attributes`, ` authentication ${t.authentication}`);
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

function renderUsernameFrom(setting: UsernameFromCertificate): string {
  return setting === 'use-entire-name' ? 'use-entire-name' : [setting.primary, setting.secondary].filter(Boolean).join(' ');
}

/** ` certificate ca SERIAL` and the DER as the ASA prints it: 32 bytes a line in 4-byte hex words. */
function certificateChainLines(pem: string): string[] {
  const cert = new X509Certificate(pem);
  const lines = [` certificate ca ${cert.serialNumber.toLowerCase()}`];
  const hex = cert.raw.toString('hex');
  for (let i = 0; i < hex.length; i += 64)
    lines.push(
      `    ${hex
        .slice(i, i + 64)
        .match(/.{1,8}/g)!
        .join(' ')}`,
    );
  return lines;
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
  | { kind: 'tunnel-group-webvpn'; tg: TunnelGroup }
  | { kind: 'trustpoint'; tp: Trustpoint }
  | { kind: 'chain'; name: string; hex: string[] | null; inCa: boolean; done: boolean }
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
  const trustpoints = new Map<string, Trustpoint>();
  /** Trustpoints whose CA is mockiron's (directive) or given by a certificate chain. */
  const trustpointCa = new Map<string, { line: number; pem: string | null }>();
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
      if (b.kind === 'chain') {
        if (words[0] === 'quit' && words.length === 1) {
          b.done = true;
          if (b.hex !== null) {
            const der = Buffer.from(b.hex.join(''), 'hex');
            try {
              new X509Certificate(der);
            } catch {
              fail(`the CA certificate of trustpoint chain '${b.name}' is not a readable X.509 certificate`);
            }
            trustpointCa.set(b.name, { line: lineNo, pem: derToPem(der) });
          }
          return;
        }
        if (b.done) fail(`'${line.trim()}' after 'quit' of certificate chain '${b.name}'`);
        if (words[0] === 'certificate') {
          if (words[1] === 'ca' && words.length === 3) {
            if (b.hex !== null) fail(`certificate chain '${b.name}' holds more than one CA certificate; mockiron keeps one per trustpoint`);
            b.hex = [];
            b.inCa = true;
          } else {
            b.inCa = false; // an identity certificate of the ASA itself: not the trust anchor
          }
          return;
        }
        if (words.every((w) => /^[0-9a-fA-F]{1,8}$/.test(w))) {
          if (b.inCa && b.hex !== null) {
            if (b.hex.length > 4096) fail(`certificate chain '${b.name}' is too long`);
            b.hex.push(...words);
          }
          return;
        }
        fail(`expected hex lines, 'certificate ca SERIAL' or 'quit' in certificate chain '${b.name}', got '${line.trim()}'`);
      }
      if (b.kind === 'trustpoint' && words[0] === 'revocation-check') {
        const value = words.slice(1).join(' ');
        if (!(REVOCATION_CHECKS as readonly string[]).includes(value))
          fail(`mockiron models revocation-check ${REVOCATION_CHECKS.join(' | ')}, got '${line.trim()}'`);
        b.tp.revocationCheck = value as RevocationCheck;
        return;
      }
      if (b.kind === 'tunnel-group-webvpn' && words[0] === 'authentication') {
        const value = words.slice(1).join(' ');
        if (value === 'aaa' || value === 'certificate') b.tg.authentication = value;
        else if (value === 'aaa certificate' || value === 'certificate aaa') b.tg.authentication = 'aaa certificate';
        else fail(`expected 'authentication aaa|certificate|aaa certificate', got '${line.trim()}'`);
        return;
      }
      if (b.kind === 'tunnel-group' && words[0] === 'username-from-certificate') {
        b.tg.usernameFromCertificate = parseUsernameFrom(words.slice(1), fail, line.trim());
        return;
      }
      if (b.kind === 'tunnel-group' && words[0] === 'no' && words[1] === 'username-from-certificate') {
        b.tg.usernameFromCertificate = null;
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
      ((words[2] === 'type' && words[3] === 'remote-access') || words[2] === 'general-attributes' || words[2] === 'webvpn-attributes')
    ) {
      if (words.length !== (words[2] === 'type' ? 4 : 3)) fail(`unexpected words in '${line}'`);
      const name = checkName(words[1], 'tunnel group name');
      const tg: TunnelGroup = tunnelGroups.get(name) ?? {
        name,
        defaultGroupPolicy: 'DfltGrpPolicy',
        authentication: 'aaa',
        usernameFromCertificate: null,
      };
      tunnelGroups.set(name, tg);
      block =
        words[2] === 'general-attributes'
          ? { kind: 'tunnel-group', tg }
          : words[2] === 'webvpn-attributes'
            ? { kind: 'tunnel-group-webvpn', tg }
            : null;
      return;
    } else if (words[0] === 'crypto' && words[1] === 'ca' && words[2] === 'trustpoint') {
      if (words.length !== 4) fail(`expected 'crypto ca trustpoint NAME', got '${line}'`);
      const name = checkName(words[3], 'trustpoint name');
      const tp = trustpoints.get(name) ?? { name, caCertificate: null, revocationCheck: 'crl' };
      trustpoints.set(name, tp);
      block = { kind: 'trustpoint', tp };
      return;
    } else if (words[0] === 'crypto' && words[1] === 'ca' && words[2] === 'certificate' && words[3] === 'chain') {
      if (words.length !== 5) fail(`expected 'crypto ca certificate chain NAME', got '${line}'`);
      block = { kind: 'chain', name: checkName(words[4], 'trustpoint name'), hex: null, inCa: false, done: false };
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
    if (words[0] === 'trustpoint-ca') {
      if (words.length !== 3 || words[2] !== 'mockiron')
        fail(`expected '! mockiron trustpoint-ca NAME mockiron', got '! mockiron ${body}'`);
      trustpointCa.set(checkName(words[1], 'trustpoint name'), { line: 0, pem: null });
      return;
    }
    if (words[0] !== 'dap-criteria') fail(`unknown mockiron directive '${words[0]}' (known: dap-order, dap-criteria, trustpoint-ca)`);
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

  const open = block as Block | null;
  if (open?.kind === 'chain' && !open.done)
    throw new AsaCliParseError(lines.length, `certificate chain '${open.name}' ends without 'quit'`);
  for (const [name, ca] of trustpointCa) {
    const tp = trustpoints.get(name);
    if (!tp)
      throw new AsaCliParseError(
        ca.line,
        `a CA certificate is given for trustpoint '${name}', which no 'crypto ca trustpoint ${name}' defines`,
      );
    tp.caCertificate = ca.pem;
  }

  const input = {
    dapOrder,
    perappAttrDescription: description ?? DEFAULT_PERAPP_DESCRIPTION,
    perappPolicies,
    groupPolicies: [...groupPolicies.values()],
    tunnelGroups: [...tunnelGroups.values()],
    dapRecords: [...dapRecords.values()],
    trustpoints: [...trustpoints.values()],
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

function parseUsernameFrom(words: string[], fail: (m: string) => never, text: string): UsernameFromCertificate {
  if (words.length === 1 && words[0] === 'use-entire-name') return 'use-entire-name';
  const fields = CERTIFICATE_NAME_FIELDS as readonly string[];
  if ((words.length === 1 || words.length === 2) && words.every((w) => fields.includes(w))) {
    const [primary, secondary] = words as [CertificateNameField, CertificateNameField?];
    return secondary ? { primary, secondary } : { primary };
  }
  return fail(
    `expected 'username-from-certificate FIELD [FIELD] | use-entire-name' (fields: ${CERTIFICATE_NAME_FIELDS.join(', ')}), got '${text}'`,
  );
}

export function parseAsaCli(text: string): HeadEndConfig {
  return parseAsaCliWithReport(text).config;
}

// What the `perapp`, `asa` and `anyconnect` commands do; their definitions (options, help,
// exit codes) are in cli.ts, which loads this module only when one of them runs.
import { existsSync, readFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { CliError, CliExit } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import { EXIT_DENIED } from './cli.js';
import { AsaCliParseError, parseAsaCliWithReport, renderAsaCli } from '../lib/anyconnect/asa-cli.js';
import { PerAppDecodeError, decodePerAppPolicy, encodePerAppPolicy } from '../lib/anyconnect/codec.js';
import { HeadEndConfigError, normalizeHeadEndConfig, perappSettingSchema, validateHeadEndConfig } from '../lib/anyconnect/headend.js';
import { type IssuePath, type PathIssue, zodIssues } from '../lib/anyconnect/issues.js';
import { checkPerAppPolicy, isAppPermitted, parsePlatform } from '../lib/anyconnect/policy.js';
import { decideTunnel, endpointFromDevice } from '../lib/anyconnect/tunnel.js';
import { ClientCertificateError } from '../lib/anyconnect/certificate.js';
import type { SessionContext } from '../lib/anyconnect/resolve.js';
import {
  COMPRESSIONS,
  type Compression,
  type ConfigIssue,
  type HeadEndConfig,
  type PerAppPolicy,
  type Platform,
} from '../lib/anyconnect/types.js';
import { appVpnUuids } from '../lib/profiles/app-commands.js';
import { parseProfileSpec, SpecError } from '../lib/profiles/spec.js';
import { YamlInputError, type YamlSource, describeIssues, parseYamlSource } from '../lib/anyconnect/yaml-input.js';

function readInput(arg: string, io: CliIo): { text: string; name: string } {
  if (arg === '-') return { text: io.readStdin(), name: '<stdin>' };
  try {
    return { text: readFileSync(arg, 'utf8'), name: arg };
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(`cannot read ${arg}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}`);
  }
}

function parseYaml(text: string, name: string): YamlSource {
  try {
    return parseYamlSource(text, name);
  } catch (err) {
    if (err instanceof YamlInputError) throw new CliError(err.message);
    throw err;
  }
}

function write(io: CliIo, text: string): void {
  io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Validates rules from YAML; a bare list at the top level is accepted, so map `rules[i]` paths onto it for line numbers. */
function policyFromYaml(source: YamlSource, name: string): PerAppPolicy {
  const result = checkPerAppPolicy(source.data);
  if (result.ok) return result.policy;
  const bare = Array.isArray(source.data);
  const locate: YamlSource = { data: source.data, lineOf: (p: IssuePath) => source.lineOf(bare && p[0] === 'rules' ? p.slice(1) : p) };
  throw new CliError(`invalid PerApp policy:\n${describeIssues(locate, name, result.issues)}`);
}

function decodeOrFail(blob: string, name: string): ReturnType<typeof decodePerAppPolicy> {
  try {
    return decodePerAppPolicy(blob);
  } catch (err) {
    if (err instanceof PerAppDecodeError) throw new CliError(`${name}: ${err.message}`);
    throw err;
  }
}

/** `--policy` may be a rules YAML file, a file holding a blob, `-`, or the blob itself. */
function loadPolicyArgument(arg: string, io: CliIo): { policy: PerAppPolicy; from: string } {
  const isFile = arg === '-' || existsSync(arg);
  if (!isFile && /\.(ya?ml|json)$/i.test(arg)) throw new CliError(`cannot read ${arg}: no such file`);
  const { text, name } = isFile ? readInput(arg, io) : { text: arg, name: 'the --policy blob' };
  if (isFile) {
    let source: YamlSource | undefined;
    try {
      source = parseYamlSource(text, name);
    } catch {
      source = undefined; // not YAML: treat the text as a blob below
    }
    if (source && source.data !== null && typeof source.data === 'object') return { policy: policyFromYaml(source, name), from: name };
  }
  return { policy: decodeOrFail(text, name).policy, from: isFile ? `blob in ${name}` : 'blob' };
}

function platformOption(value: string | undefined, fallback?: Platform): Platform {
  if (value === undefined) {
    if (fallback) return fallback;
    throw new CliError('cannot tell the platform; pass --platform iOS or --platform Android');
  }
  const platform = parsePlatform(value);
  if (!platform) throw new CliError(`--platform must be iOS or Android, got '${value}'`);
  return platform;
}

function printConfigIssues(issues: ConfigIssue[], name: string, io: CliIo): void {
  for (const i of issues) io.stderr.write(`${i.severity}: ${name}: ${i.path}: ${i.message}\n`);
}

function loadConfigFile(arg: string, io: CliIo): { config: HeadEndConfig; issues: ConfigIssue[]; name: string } {
  const { text, name } = readInput(arg, io);
  const source = parseYaml(text, name);
  try {
    const config = normalizeHeadEndConfig(source.data);
    return { config, issues: validateHeadEndConfig(config), name };
  } catch (err) {
    if (err instanceof HeadEndConfigError) throw new CliError(`invalid head-end config:\n${describeIssues(source, name, err.issues)}`);
    throw err;
  }
}

function refuseOnErrors(issues: ConfigIssue[], name: string, io: CliIo): void {
  const errors = issues.filter((i) => i.severity === 'error');
  printConfigIssues(
    issues.filter((i) => i.severity === 'warning'),
    name,
    io,
  );
  if (errors.length > 0) {
    throw new CliError(
      `${name} has ${errors.length} configuration error(s):\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
    );
  }
}

const sessionFileSchema = z.strictObject({
  /** Optional with --spec: then the group of the spec's VPN configuration. */
  tunnelGroup: z.string({ error: 'tunnelGroup (the connection profile name) must be a string' }).optional(),
  aaa: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
  endpoint: z.record(z.string(), z.string()).default({}),
  device: z
    .strictObject({
      platform: z.string(),
      osVersion: z.string(),
      model: z.string(),
      clientVersion: z.string().optional(),
      deviceUniqueId: z.string().optional(),
    })
    .optional(),
  userPerapp: perappSettingSchema.optional(),
  /** false: the AAA (password) step fails, for tunnel groups with aaa authentication. */
  aaaAuthenticated: z.boolean({ error: 'aaaAuthenticated must be true or false' }).optional(),
  /** iOS app ID → how the MDM bound it; apps not listed are unbound. */
  mdmBindings: z
    .record(z.string(), z.strictObject({ managed: z.boolean(), vpnUuid: z.string().nullable(), vpnConfigName: z.string().optional() }))
    .default({}),
});

export function runPerappEncode(rulesArg: string, opts: { compression: string }, io: CliIo): void {
  if (!(COMPRESSIONS as readonly string[]).includes(opts.compression))
    throw new CliError(`--compression must be one of ${COMPRESSIONS.join(', ')}`);
  const { text, name } = readInput(rulesArg, io);
  const policy = policyFromYaml(parseYaml(text, name), name);
  write(io, encodePerAppPolicy(policy, { compression: opts.compression as Compression }));
}

export function runPerappDecode(blobArg: string, opts: { json?: boolean; xml?: boolean }, io: CliIo): void {
  const { text, name } = blobArg === '-' || existsSync(blobArg) ? readInput(blobArg, io) : { text: blobArg, name: 'the blob' };
  const decoded = decodeOrFail(text, name);
  if (opts.xml) write(io, decoded.xml);
  else if (opts.json) write(io, JSON.stringify(decoded.policy, null, 2));
  else write(io, `# compression: ${decoded.compression}\n${toYaml(decoded.policy)}`);
}

export interface PerappCheckOptions {
  policy: string;
  app: string;
  platform: string;
  appVersion?: string;
  certificateId?: string;
  json?: boolean;
}

export function runPerappCheck(opts: PerappCheckOptions, io: CliIo): void {
  const { policy, from } = loadPolicyArgument(opts.policy, io);
  const platform = platformOption(opts.platform);
  const decision = isAppPermitted(policy, { platform, appId: opts.app, appVersion: opts.appVersion, certificateId: opts.certificateId });
  if (opts.json) write(io, JSON.stringify({ ...decision, platform, appId: opts.app, policySource: from }, null, 2));
  else write(io, `${decision.permitted ? 'PERMITTED' : 'DENIED'}: ${platform} app '${opts.app}'\nreason: ${decision.reason}`);
  if (!decision.permitted) throw new CliExit(EXIT_DENIED);
}

export function runAsaRender(configArg: string, io: CliIo): void {
  const { config, issues, name } = loadConfigFile(configArg, io);
  refuseOnErrors(issues, name, io);
  write(io, renderAsaCli(config));
}

export function runAsaParse(fileArg: string, opts: { json?: boolean }, io: CliIo): void {
  const { text, name } = readInput(fileArg, io);
  let report;
  try {
    report = parseAsaCliWithReport(text);
  } catch (err) {
    if (err instanceof AsaCliParseError) throw new CliError(`${name} ${err.message}`);
    throw err;
  }
  refuseOnErrors(validateHeadEndConfig(report.config), name, io);
  if (report.ignoredLines.length > 0) {
    io.stderr.write(
      `note: ${report.ignoredLines.length} line(s) outside the per-app model were ignored (first: line ${report.ignoredLines[0]!.line})\n`,
    );
  }
  write(io, opts.json ? JSON.stringify(report.config, null, 2) : toYaml(report.config));
}

export interface SimulateSessionOptions {
  session: string;
  spec?: string;
  app: string;
  platform?: string;
  appVersion?: string;
  certificateId?: string;
  /** PEM file of the client certificate the session presents. */
  clientCert?: string;
  /** PEM file of mockiron's CA (GET /api/v2/signing/ca.pem), for trustpoints standing for it. */
  caCert?: string;
  /** mockiron's CRL, DER or PEM (GET /api/v2/scep/crl). */
  crl?: string;
  json?: boolean;
}

/** A CRL file in DER, or in PEM (-----BEGIN X509 CRL-----). */
function readCrlFile(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}`);
  }
  const text = bytes.toString('latin1');
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  return pem ? Buffer.from(pem[1]!.replace(/\s/g, ''), 'base64') : bytes;
}

function sessionContext(opts: SimulateSessionOptions, io: CliIo): SessionContext {
  const caCertificatePem = opts.caCert !== undefined ? readInput(opts.caCert, io).text : null;
  if (opts.crl === undefined) return { pki: { caCertificatePem, crl: null, crlUnavailable: 'no --crl given' } };
  return { pki: { caCertificatePem, crl: readCrlFile(opts.crl) } };
}

export function runAnyconnectSimulate(configArg: string, opts: SimulateSessionOptions, io: CliIo): void {
  const { config, issues, name } = loadConfigFile(configArg, io);
  printConfigIssues(issues, name, io); // simulate on purpose: broken references show the fail-closed path
  const sessionInput = readInput(opts.session, io);
  const source = parseYaml(sessionInput.text, sessionInput.name);
  const parsed = sessionFileSchema.safeParse(source.data ?? {});
  if (!parsed.success)
    throw new CliError(`invalid session file:\n${describeIssues(source, sessionInput.name, zodIssues(parsed.error) as PathIssue[])}`);
  const s = parsed.data;
  let endpoint = s.endpoint;
  if (s.device) {
    try {
      endpoint = { ...endpointFromDevice(s.device), ...s.endpoint };
    } catch (err) {
      throw new CliError(`${sessionInput.name}: device: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const reported = endpoint['endpoint.anyconnect.platform'] ?? endpoint['platform'];
  const fromSession = s.device
    ? parsePlatform(s.device.platform)
    : reported === 'apple-ios'
      ? 'iOS'
      : reported === 'android'
        ? 'Android'
        : undefined;
  const platform = platformOption(opts.platform, fromSession);
  let bindings: Record<string, MdmBindingInput> = s.mdmBindings;
  let tunnelGroup = s.tunnelGroup;
  if (opts.spec !== undefined) {
    const fromSpec = specSession(opts.spec, opts.app, io);
    // One spec drives the profile, the app commands and this session: a second source of bindings could only disagree
    if (Object.keys(s.mdmBindings).length > 0)
      throw new CliError(`${sessionInput.name}: mdmBindings come from --spec ${opts.spec}; remove them from the session`);
    bindings = fromSpec.bindings;
    if (tunnelGroup === undefined && fromSpec.tunnelGroup !== undefined) {
      tunnelGroup = fromSpec.tunnelGroup.group;
      io.stderr.write(`tunnel group '${tunnelGroup}' from VPN configuration '${fromSpec.tunnelGroup.from}' in ${opts.spec}\n`);
    }
  }
  if (tunnelGroup === undefined)
    throw new CliError(
      `${sessionInput.name}: tunnelGroup (the connection profile name) is required, or --spec with a VPN configuration that names its group`,
    );
  const clientCertificatePem = opts.clientCert !== undefined ? readInput(opts.clientCert, io).text : undefined;
  const decide = () =>
    decideTunnel({
      config,
      session: {
        tunnelGroup,
        aaa: s.aaa,
        endpoint,
        ...(s.userPerapp !== undefined ? { userPerapp: s.userPerapp } : {}),
        ...(s.aaaAuthenticated !== undefined ? { aaaAuthenticated: s.aaaAuthenticated } : {}),
        ...(clientCertificatePem !== undefined ? { clientCertificatePem } : {}),
      },
      context: sessionContext(opts, io),
      app: {
        appId: opts.app,
        ...(opts.appVersion ? { version: opts.appVersion } : {}),
        ...(opts.certificateId ? { certificateId: opts.certificateId } : {}),
      },
      platform,
      ...(bindings[opts.app] ? { mdmBinding: bindings[opts.app] } : {}),
    });
  let decision: ReturnType<typeof decideTunnel>;
  try {
    decision = decide();
  } catch (err) {
    if (err instanceof ClientCertificateError) throw new CliError(`--client-cert ${opts.clientCert}: ${err.message}`);
    throw err;
  }
  if (opts.json) write(io, JSON.stringify(decision, null, 2));
  else write(io, decision.reasons.map((r, i) => (i === decision.reasons.length - 1 ? r : `  - ${r}`)).join('\n'));
  if (!decision.tunneled) throw new CliExit(EXIT_DENIED);
}

type MdmBindingInput = { managed: boolean; vpnUuid: string | null; vpnConfigName?: string };

/**
 * What a profile spec says about the session: its apps are the MDM's bindings (managed, with the
 * VPNUUID the profile carries), and the tunnel group is the group of the app's VPN configuration,
 * else of the spec's one AnyConnect configuration that names a group (the device connects with it).
 */
function specSession(
  file: string,
  appId: string,
  io: CliIo,
): { bindings: Record<string, MdmBindingInput>; tunnelGroup?: { group: string; from: string } } {
  const { text, name } = readInput(file, io);
  let spec;
  try {
    spec = parseProfileSpec(text, name);
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(err.message);
    throw err;
  }
  const bindings: Record<string, MdmBindingInput> = {};
  for (const app of appVpnUuids(spec))
    bindings[app.bundleId] = { managed: true, vpnUuid: app.vpnUuid, vpnConfigName: app.vpnConfiguration };
  const anyconnect = spec.vpnConfigurations.filter(
    (c) => (c.connectionType === 'ANYCONNECT' || c.connectionType === 'ANYCONNECT_LEGACY') && c.group,
  );
  const own = anyconnect.find((c) => c.name === bindings[appId]?.vpnConfigName);
  const groups = new Set(anyconnect.map((c) => c.group));
  const chosen = own ?? (groups.size === 1 ? anyconnect[0] : undefined);
  return { bindings, ...(chosen?.group ? { tunnelGroup: { group: chosen.group, from: chosen.name } } : {}) };
}

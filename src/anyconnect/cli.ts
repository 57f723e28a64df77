/**
 * CLI for the AnyConnect per-app VPN model:
 *   mockiron perapp encode RULES.yaml|-          prints the Base64 blob
 *   mockiron perapp decode BLOB|FILE|-           prints the rules as YAML (or --json / --xml)
 *   mockiron perapp check --policy RULES.yaml|BLOB --app APPID [--platform iOS] [--app-version V]
 *   mockiron asa render CONFIG.yaml              prints ASA CLI
 *   mockiron asa parse FILE|-                    prints the config as YAML (or --json)
 *   mockiron anyconnect simulate CONFIG.yaml --session SESSION.yaml --app APPID
 * Exit codes: 0 success / permitted / tunneled; 3 denied / not tunneled (check, simulate);
 * 1 bad input (the message names the file line, rule or config path).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { CliError } from '../cli/errors.js';
import { AsaCliParseError, parseAsaCliWithReport, renderAsaCli } from './asa-cli.js';
import { PerAppDecodeError, decodePerAppPolicy, encodePerAppPolicy, serializePerAppPolicyXml } from './codec.js';
import { HeadEndConfigError, normalizeHeadEndConfig, perappSettingSchema, validateHeadEndConfig } from './headend.js';
import { type IssuePath, type PathIssue, zodIssues } from './issues.js';
import { checkPerAppPolicy, isAppPermitted, parsePlatform } from './policy.js';
import { decideTunnel, endpointFromDevice } from './tunnel.js';
import { COMPRESSIONS, type Compression, type ConfigIssue, type HeadEndConfig, type PerAppPolicy, type Platform } from './types.js';
import { YamlInputError, type YamlSource, describeIssues, parseYamlSource } from './yaml-input.js';

/** Exit code for "the app is denied / not tunneled": distinct from 1 (bad input) so scripts can tell them apart. */
export const EXIT_DENIED = 3;

function readInput(arg: string): { text: string; name: string } {
  if (arg === '-') return { text: readFileSync(0, 'utf8'), name: '<stdin>' };
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

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
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
function loadPolicyArgument(arg: string): { policy: PerAppPolicy; from: string } {
  const isFile = arg === '-' || existsSync(arg);
  if (!isFile && /\.(ya?ml|json)$/i.test(arg)) throw new CliError(`cannot read ${arg}: no such file`);
  const { text, name } = isFile ? readInput(arg) : { text: arg, name: 'the --policy blob' };
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
    throw new CliError("cannot tell the platform; pass --platform iOS or --platform Android");
  }
  const platform = parsePlatform(value);
  if (!platform) throw new CliError(`--platform must be iOS or Android, got '${value}'`);
  return platform;
}

function printConfigIssues(issues: ConfigIssue[], name: string): void {
  for (const i of issues) process.stderr.write(`${i.severity}: ${name}: ${i.path}: ${i.message}\n`);
}

function loadConfigFile(arg: string): { config: HeadEndConfig; issues: ConfigIssue[]; name: string } {
  const { text, name } = readInput(arg);
  const source = parseYaml(text, name);
  try {
    const config = normalizeHeadEndConfig(source.data);
    return { config, issues: validateHeadEndConfig(config), name };
  } catch (err) {
    if (err instanceof HeadEndConfigError) throw new CliError(`invalid head-end config:\n${describeIssues(source, name, err.issues)}`);
    throw err;
  }
}

function refuseOnErrors(issues: ConfigIssue[], name: string): void {
  const errors = issues.filter((i) => i.severity === 'error');
  printConfigIssues(issues.filter((i) => i.severity === 'warning'), name);
  if (errors.length > 0) {
    throw new CliError(`${name} has ${errors.length} configuration error(s):\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
}

const sessionFileSchema = z.strictObject({
  tunnelGroup: z.string({ error: 'tunnelGroup (the connection profile name) is required' }),
  aaa: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
  endpoint: z.record(z.string(), z.string()).default({}),
  device: z
    .strictObject({ platform: z.string(), osVersion: z.string(), model: z.string(), clientVersion: z.string().optional(), deviceUniqueId: z.string().optional() })
    .optional(),
  userPerapp: perappSettingSchema.optional(),
  /** iOS app ID → how the MDM bound it; apps not listed are unbound. */
  mdmBindings: z
    .record(z.string(), z.strictObject({ managed: z.boolean(), vpnUuid: z.string().nullable(), vpnConfigName: z.string().optional() }))
    .default({}),
});

export function registerAnyconnectCommands(program: Command): void {
  const perapp = program.command('perapp').description('AnyConnect PerApp policies: encode, decode and check (mockiron mock blob format)');

  perapp
    .command('encode')
    .description('validate a rules YAML and print the Base64 perapp blob (zlib; mockiron\'s own pre-compression format)')
    .argument('<rules>', 'rules YAML/JSON file, or - for stdin')
    .option('--compression <kind>', `one of ${COMPRESSIONS.join(', ')}`, 'zlib')
    .action((rulesArg: string, opts: { compression: string }) => {
      if (!(COMPRESSIONS as readonly string[]).includes(opts.compression)) throw new CliError(`--compression must be one of ${COMPRESSIONS.join(', ')}`);
      const { text, name } = readInput(rulesArg);
      const policy = policyFromYaml(parseYaml(text, name), name);
      write(encodePerAppPolicy(policy, { compression: opts.compression as Compression }));
    });

  perapp
    .command('decode')
    .description('decode a perapp blob (zlib, gzip or raw deflate; line breaks allowed) and print its rules')
    .argument('<blob>', 'the Base64 blob, a file holding it, or - for stdin')
    .option('--json', 'print JSON instead of YAML')
    .option('--xml', 'print the decompressed mock XML document')
    .action((blobArg: string, opts: { json?: boolean; xml?: boolean }) => {
      const { text, name } = blobArg === '-' || existsSync(blobArg) ? readInput(blobArg) : { text: blobArg, name: 'the blob' };
      const decoded = decodeOrFail(text, name);
      if (opts.xml) write(decoded.xml);
      else if (opts.json) write(JSON.stringify(decoded.policy, null, 2));
      else write(`# compression: ${decoded.compression}\n${toYaml(decoded.policy)}`);
    });

  perapp
    .command('check')
    .description(`is an app permitted by a PerApp policy? exit 0 permitted, ${EXIT_DENIED} denied, 1 bad input`)
    .requiredOption('--policy <policy>', 'rules YAML file, a file holding a blob, - for stdin, or the blob itself')
    .requiredOption('--app <appId>', 'the app ID (bundle ID / package name)')
    .option('--platform <platform>', 'iOS or Android', 'iOS')
    .option('--app-version <version>', 'the app version (Android minVersion rules)')
    .option('--certificate-id <hex>', 'the app signing-certificate ID (Android certificateId rules)')
    .option('--json', 'print the decision as JSON')
    .action((opts: { policy: string; app: string; platform: string; appVersion?: string; certificateId?: string; json?: boolean }) => {
      const { policy, from } = loadPolicyArgument(opts.policy);
      const platform = platformOption(opts.platform);
      const decision = isAppPermitted(policy, { platform, appId: opts.app, appVersion: opts.appVersion, certificateId: opts.certificateId });
      if (opts.json) write(JSON.stringify({ ...decision, platform, appId: opts.app, policySource: from }, null, 2));
      else write(`${decision.permitted ? 'PERMITTED' : 'DENIED'}: ${platform} app '${opts.app}'\nreason: ${decision.reason}`);
      if (!decision.permitted) process.exitCode = EXIT_DENIED;
    });

  const asa = program.command('asa').description('Cisco ASA head-end CLI for per-app VPN (render and parse)');

  asa
    .command('render')
    .description('render a head-end config YAML as ASA CLI (perapp data split into lines of at most 420 characters)')
    .argument('<config>', 'head-end config YAML/JSON, or - for stdin')
    .action((configArg: string) => {
      const { config, issues, name } = loadConfigFile(configArg);
      refuseOnErrors(issues, name);
      write(renderAsaCli(config));
    });

  asa
    .command('parse')
    .description('read ASA CLI (as rendered by asa render) back into a head-end config')
    .argument('<file>', 'ASA CLI text file, or - for stdin')
    .option('--json', 'print JSON instead of YAML')
    .action((fileArg: string, opts: { json?: boolean }) => {
      const { text, name } = readInput(fileArg);
      let report;
      try {
        report = parseAsaCliWithReport(text);
      } catch (err) {
        if (err instanceof AsaCliParseError) throw new CliError(`${name} ${err.message}`);
        throw err;
      }
      refuseOnErrors(validateHeadEndConfig(report.config), name);
      if (report.ignoredLines.length > 0) {
        process.stderr.write(`note: ${report.ignoredLines.length} line(s) outside the per-app model were ignored (first: line ${report.ignoredLines[0]!.line})\n`);
      }
      write(opts.json ? JSON.stringify(report.config, null, 2) : toYaml(report.config));
    });

  const anyconnect = program.command('anyconnect').description('AnyConnect session simulation against a head-end config');

  anyconnect
    .command('simulate')
    .description(`resolve a session (DAP, precedence) and decide whether an app tunnels; exit 0 tunneled, ${EXIT_DENIED} not tunneled`)
    .argument('<config>', 'head-end config YAML/JSON')
    .requiredOption('--session <file>', 'session YAML: tunnelGroup, aaa, endpoint and/or device, mdmBindings')
    .requiredOption('--app <appId>', 'the app ID')
    .option('--platform <platform>', 'iOS or Android (default: from the session)')
    .option('--app-version <version>', 'the app version')
    .option('--certificate-id <hex>', 'the app signing-certificate ID')
    .option('--json', 'print the full decision as JSON')
    .action((configArg: string, opts: { session: string; app: string; platform?: string; appVersion?: string; certificateId?: string; json?: boolean }) => {
      const { config, issues, name } = loadConfigFile(configArg);
      printConfigIssues(issues, name); // simulate on purpose: broken references show the fail-closed path
      const sessionInput = readInput(opts.session);
      const source = parseYaml(sessionInput.text, sessionInput.name);
      const parsed = sessionFileSchema.safeParse(source.data ?? {});
      if (!parsed.success) throw new CliError(`invalid session file:\n${describeIssues(source, sessionInput.name, zodIssues(parsed.error) as PathIssue[])}`);
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
      const fromSession = s.device ? parsePlatform(s.device.platform) : reported === 'apple-ios' ? 'iOS' : reported === 'android' ? 'Android' : undefined;
      const platform = platformOption(opts.platform, fromSession);
      const decision = decideTunnel({
        config,
        session: { tunnelGroup: s.tunnelGroup, aaa: s.aaa, endpoint, ...(s.userPerapp !== undefined ? { userPerapp: s.userPerapp } : {}) },
        app: { appId: opts.app, ...(opts.appVersion ? { version: opts.appVersion } : {}), ...(opts.certificateId ? { certificateId: opts.certificateId } : {}) },
        platform,
        ...(s.mdmBindings[opts.app] ? { mdmBinding: s.mdmBindings[opts.app] } : {}),
      });
      if (opts.json) write(JSON.stringify(decision, null, 2));
      else write(decision.reasons.map((r, i) => (i === decision.reasons.length - 1 ? r : `  - ${r}`)).join('\n'));
      if (!decision.tunneled) process.exitCode = EXIT_DENIED;
    });
}


// What `mockiron simulate`, `simulate status` and `simulate identity` do; their definitions
// (options, help) are in cli.ts, which loads this module only when one of them runs.

import { setMaxListeners } from 'node:events';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, CliExit } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import type { AdminCredentials } from './admin.js';
import { DEFAULT_STATE_FILE, PASSWORD_ENV } from './cli.js';
import type { FaultSettings } from './device.js';
import { FAULT_KINDS, type FaultKind } from './fault-kinds.js';
import { ENROLL_MODES, isEnrollMode } from './enroll-modes.js';
import { FleetError, runFleet, type FleetProgress } from './fleet.js';
import { ModelMixError, parseModelMix, type ModelChoice } from './identity.js';
import { findVpnIdentity, identityCertificateViews, IdentityLookupError } from './identity-certificates.js';
import type { MetricsSummary } from './metrics.js';
import { loadFleetState, StateFileError, type DeviceState, type FleetState } from './state.js';

export interface SimulateOptions {
  server?: string;
  pregenerateKeys?: boolean;
  devices?: string;
  concurrency?: string;
  duration?: string;
  iterations?: string;
  pollInterval: string;
  state: string;
  seed?: string;
  adminUser: string;
  adminPasswordFile?: string;
  enrollmentUrl?: string;
  enrollMode?: string;
  models?: string;
  notNowRate: string;
  faults?: string;
  faultRate: string;
  wakeOnPush?: string;
  pushTlsCert?: string;
  pushTlsKey?: string;
  json?: boolean;
}

/** --wake-on-push host:port with the listener's TLS certificate and key. */
async function wakeOnPushOptions(
  opts: SimulateOptions,
): Promise<{ host: string; port: number; certPem: string; keyPem: string } | undefined> {
  if (opts.wakeOnPush === undefined) return undefined;
  const match = /^(.{1,253}):(\d{1,5})$/.exec(opts.wakeOnPush);
  if (!match || Number(match[2]) > 65535) throw new CliError(`--wake-on-push must be host:port, got "${opts.wakeOnPush}"`, 2);
  if (!opts.pushTlsCert || !opts.pushTlsKey) throw new CliError('--wake-on-push needs --push-tls-cert and --push-tls-key (PEM files)', 2);
  if (opts.duration === undefined) throw new CliError('--wake-on-push needs --duration: devices wait for pushes until it is up', 2);
  const read = (file: string, flag: string) =>
    readFile(file, 'utf8').catch((err: Error) => {
      throw new CliError(`${flag}: ${err.message}`, 2);
    });
  return {
    host: match[1]!,
    port: Number(match[2]),
    certPem: await read(opts.pushTlsCert, '--push-tls-cert'),
    keyPem: await read(opts.pushTlsKey, '--push-tls-key'),
  };
}

function positiveInteger(value: string | undefined, flag: string, options: { min?: number; max?: number } = {}): number {
  const min = options.min ?? 1;
  if (value === undefined || !/^\d+$/.test(value.trim())) throw new CliError(`${flag} must be a whole number, got "${value ?? ''}"`, 2);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || (options.max !== undefined && n > options.max)) {
    throw new CliError(`${flag} must be between ${min} and ${options.max ?? Number.MAX_SAFE_INTEGER}, got ${value}`, 2);
  }
  return n;
}

function rate(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new CliError(`${flag} must be a number from 0 to 1, got "${value}"`, 2);
  return n;
}

function serverUrl(value: string | undefined): string {
  if (!value) throw new CliError('--server is required (the mockiron base URL, e.g. http://localhost:8080)', 2);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--server is not a URL: "${value}"`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--server must be an http(s) URL, got "${value}"`, 2);
  return url.toString().replace(/\/+$/, '');
}

function faultSettings(list: string | undefined, rateText: string): FaultSettings | undefined {
  if (list === undefined) return undefined;
  const kinds = list
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0) {
    throw new CliError(
      `--faults takes a comma-separated list of ${FAULT_KINDS.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
      2,
    );
  }
  return { kinds: new Set(kinds as FaultKind[]), rate: rate(rateText, '--fault-rate') };
}

async function adminCredentials(opts: SimulateOptions, io: CliIo): Promise<AdminCredentials | undefined> {
  let password: string | undefined;
  if (opts.adminPasswordFile) {
    try {
      password = (await readFile(opts.adminPasswordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new CliError(`cannot read --admin-password-file ${opts.adminPasswordFile}: ${(err as Error).message}`, 2);
    }
    if (password === '') throw new CliError(`--admin-password-file ${opts.adminPasswordFile} is empty`, 2);
  } else {
    password = io.env[PASSWORD_ENV] || undefined;
  }
  return password === undefined ? undefined : { user: opts.adminUser, password };
}

function formatProgress(p: FleetProgress): string {
  return `enrolled ${p.enrolled}/${p.devices} | commands ${p.commands} | errors ${p.errors} | ${p.requestsPerSecond.toFixed(1)} req/s | ${p.elapsedSeconds.toFixed(0)} s`;
}

export function formatSummary(summary: MetricsSummary): string {
  const lines: string[] = [];
  const d = summary.devices;
  lines.push(
    `devices: ${d.total} (enrolled ${d.enrolled}, enrolled this run ${d.enrolledThisRun}, enrollment failures ${d.enrollmentFailures}, unenrolled ${d.unenrolled}, erased ${d.erased})`,
  );
  lines.push(`requests: ${summary.requests.total} in ${summary.elapsedSeconds} s (${summary.requests.perSecond} req/s)`);
  lines.push(`commands handled: ${summary.commandsHandled} (delivered again after an answer: ${summary.duplicateDeliveries})`);
  for (const [type, statuses] of Object.entries(summary.commands).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `  ${type}: ${Object.entries(statuses)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
    );
  }
  lines.push('latency (ms)             count     p50     p90     p99     max');
  for (const [kind, l] of Object.entries(summary.latency)) {
    lines.push(
      `  ${kind.padEnd(22)} ${String(l.count).padStart(6)} ${String(l.p50).padStart(7)} ${String(l.p90).padStart(7)} ${String(l.p99).padStart(7)} ${String(l.max).padStart(7)}`,
    );
  }
  lines.push(`errors: ${summary.errors.total}`);
  for (const [kind, n] of Object.entries(summary.errors.byKind)) lines.push(`  ${kind}: ${n}`);
  for (const sample of summary.errors.samples.slice(0, 5)) lines.push(`    e.g. ${sample}`);
  for (const [kind, f] of Object.entries(summary.faults)) {
    const answers = Object.entries(f.answers)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ');
    const notes = Object.entries(f.notes)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ');
    lines.push(`fault ${kind}: sent ${f.sent}, answers ${answers || '-'}, wrongly accepted ${f.accepted}${notes ? `, ${notes}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Per device: what `simulate status` shows (and prints as JSON). */
export function deviceStatusView(device: DeviceState) {
  return {
    index: device.identity.index,
    udid: device.identity.udid,
    serialNumber: device.identity.serialNumber,
    productName: device.identity.productName,
    osVersion: device.identity.osVersion,
    status: device.status,
    enrolledAt: device.mdm?.enrolledAt,
    pollCycles: device.pollCycles,
    locked: device.lock !== undefined,
    erasedAt: device.erasedAt,
    lastError: device.lastError,
    profiles: Object.values(device.profiles).map((p) => ({
      identifier: p.identifier,
      uuid: p.uuid,
      source: p.source,
      contentSha256: p.contentSha256,
      payloadTypes: p.payloads.map((payload) => payload.type),
      vpnUuids: p.payloads.flatMap((payload) => (payload.vpnUuid ? [payload.vpnUuid] : [])),
    })),
    identityCertificates: identityCertificateViews(device),
    apps: Object.fromEntries(
      Object.values(device.apps).map((a) => [
        a.identifier,
        { vpnUuid: typeof a.attributes.VPNUUID === 'string' ? a.attributes.VPNUUID : null },
      ]),
    ),
  };
}

function formatStatus(state: FleetState): string {
  const lines = [`server ${state.server}, seed "${state.seed}", ${state.devices.length} device(s), updated ${state.updatedAt}`];
  for (const device of state.devices) {
    const view = deviceStatusView(device);
    lines.push(
      `${view.udid}  ${view.status.padEnd(10)} ${view.productName} iOS ${view.osVersion}  serial ${view.serialNumber}${view.locked ? '  LOCKED' : ''}`,
    );
    if (view.lastError && view.status !== 'enrolled') lines.push(`  last error: ${view.lastError}`);
    for (const p of view.profiles)
      lines.push(
        `  profile ${p.identifier}${p.vpnUuids.length ? `  VPNUUID ${p.vpnUuids.join(', ')}` : ''}${p.source === 'enrollment' ? '  (MDM enrollment)' : ''}`,
      );
    for (const c of view.identityCertificates) {
      lines.push(
        `  identity ${c.profile} / ${c.payloadIdentifier} (${c.source})  serial ${c.serialNumber}  ${c.notBefore} → ${c.notAfter}`,
        `    subject ${c.subject}${c.subjectAltNames.length ? `  SAN ${c.subjectAltNames.join(', ')}` : ''}`,
        `    issuer ${c.issuer}  used by VPNUUID ${c.vpnUuids.join(', ') || '(none)'}`,
      );
    }
    for (const [bundleId, app] of Object.entries(view.apps)) lines.push(`  app ${bundleId} → ${app.vpnUuid ?? '(no VPN)'}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runSimulate(opts: SimulateOptions, io: CliIo): Promise<void> {
  const server = serverUrl(opts.server);
  const devices = positiveInteger(opts.devices, '--devices', { max: 100_000 });
  const concurrency = positiveInteger(opts.concurrency, '--concurrency', { max: 10_000 });
  if (opts.duration !== undefined && opts.iterations !== undefined) throw new CliError('give --duration or --iterations, not both', 2);
  const durationSeconds = opts.duration !== undefined ? positiveInteger(opts.duration, '--duration') : undefined;
  const iterations =
    opts.iterations !== undefined ? positiveInteger(opts.iterations, '--iterations') : durationSeconds === undefined ? 1 : undefined;
  const pollIntervalMs = positiveInteger(opts.pollInterval, '--poll-interval', { min: 0 });
  let models: ModelChoice[] | undefined;
  try {
    models = opts.models !== undefined ? parseModelMix(opts.models) : undefined;
  } catch (err) {
    if (err instanceof ModelMixError) throw new CliError(err.message, 2);
    throw err;
  }
  const enrollMode = opts.enrollMode ?? 'ota';
  if (!isEnrollMode(enrollMode)) throw new CliError(`--enroll-mode must be one of ${ENROLL_MODES.join(', ')}, got "${enrollMode}"`, 2);
  if (opts.enrollmentUrl !== undefined) {
    if (devices !== 1 && enrollMode !== 'machine-info')
      throw new CliError('--enrollment-url enrolls a single device: use it with --devices 1 (or --enroll-mode machine-info)', 2);
    if (!URL.canParse(opts.enrollmentUrl)) throw new CliError(`--enrollment-url is not a URL: "${opts.enrollmentUrl}"`, 2);
  }
  const notNowRate = rate(opts.notNowRate, '--not-now-rate');
  const faults = faultSettings(opts.faults, opts.faultRate);
  const admin = await adminCredentials(opts, io);
  const wakeOnPush = await wakeOnPushOptions(opts);

  const controller = new AbortController();
  // Every worker waiting between polls listens for the abort: one per unit of concurrency.
  setMaxListeners(0, controller.signal);
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr.write('\nstopping: finishing the requests in flight and saving the state (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = io.stderr.isTTY === true;
  let failed = false;
  try {
    const { summary, pushes, keysPregenerated } = await runFleet({
      server,
      devices,
      concurrency,
      ...(iterations !== undefined && { iterations }),
      ...(durationSeconds !== undefined && { durationSeconds }),
      pollIntervalMs,
      stateFile: opts.state,
      ...(opts.seed !== undefined && { seed: opts.seed }),
      ...(models && { models }),
      notNowRate,
      ...(faults && { faults }),
      ...(admin && { admin }),
      ...(opts.enrollmentUrl !== undefined && { enrollmentUrl: opts.enrollmentUrl }),
      enrollMode,
      ...(opts.pregenerateKeys === true && { pregenerateKeys: true }),
      ...(wakeOnPush && {
        wakeOnPush,
        onPushListening: (port: number) => io.stderr.write(`waiting for pushes on ${wakeOnPush.host}:${port}\n`),
      }),
      ...(tty && { onProgress: (p: FleetProgress) => io.stderr.write(`\r\x1b[2K${formatProgress(p)}`) }),
      signal: controller.signal,
    });
    if (tty) io.stderr.write('\r\x1b[2K');
    const extra = { ...(pushes && { pushes }), ...(keysPregenerated && { keysPregenerated }) };
    io.stdout.write(opts.json ? `${JSON.stringify({ ...summary, ...extra }, null, 2)}\n` : formatSummary(summary));
    if (keysPregenerated && !opts.json)
      io.stdout.write(`keys made before the run: ${keysPregenerated.count} in ${keysPregenerated.seconds} s\n`);
    if (pushes && !opts.json) io.stdout.write(`pushes: ${pushes.delivered} woke a device, ${pushes.refused} refused\n`);
    // A run where devices could not enroll or the server misbehaved is a failed run
    failed = summary.devices.enrollmentFailures > 0 || summary.errors.total > 0;
  } catch (err) {
    if (tty) io.stderr.write('\r\x1b[2K');
    if (err instanceof FleetError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (failed) throw new CliExit(1);
}

/** --state and --json of a `simulate` subcommand: commander lets the parent take them even after the subcommand, so an explicitly given parent value counts as ours. */
function subcommandOptions(local: { state?: string; json?: boolean }, command: Command): { state: string; json: boolean } {
  const parent = command.parent!;
  return {
    state: local.state ?? (parent.getOptionValueSource('state') === 'cli' ? (parent.opts().state as string) : DEFAULT_STATE_FILE),
    // `--format json` after the subcommand may land on the parent, which also has it
    json: local.json === true || parent.opts().json === true || parent.opts().format === 'json',
  };
}

/**
 * Prints a subcommand's output. `-o FILE` after `simulate status|identity` lands on `simulate`
 * (which has -o too), where the CLI's generic writer does not look: write that file here.
 */
async function writeOutput(text: string, command: Command, io: CliIo): Promise<void> {
  const parent = command.parent!;
  const own = (command.opts() as { output?: string }).output;
  const parentOutput = parent.getOptionValueSource('output') === 'cli' ? (parent.opts().output as string) : undefined;
  if (own !== undefined || parentOutput === undefined || parentOutput === '-') {
    io.stdout.write(text);
    return;
  }
  if (parentOutput === '') throw new CliError('-o/--output needs a file name, or - for standard output', 2);
  try {
    await writeFile(parentOutput, text);
  } catch (err) {
    throw new CliError(`-o ${parentOutput}: ${(err as Error).message}`);
  }
}

async function existingState(file: string): Promise<FleetState> {
  let state: FleetState | undefined;
  try {
    state = await loadFleetState(file);
  } catch (err) {
    if (err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  }
  if (!state) throw new CliError(`no state file at ${file} (run \`mockiron simulate\` first, or pass --state)`);
  return state;
}

export async function runSimulateStatus(local: { state?: string; json?: boolean }, command: Command, io: CliIo): Promise<void> {
  const opts = subcommandOptions(local, command);
  const state = await existingState(opts.state);
  if (opts.json) {
    const view = { server: state.server, seed: state.seed, updatedAt: state.updatedAt, devices: state.devices.map(deviceStatusView) };
    await writeOutput(`${JSON.stringify(view, null, 2)}\n`, command, io);
  } else {
    await writeOutput(formatStatus(state), command, io);
  }
}

export interface SimulateIdentityOptions {
  state?: string;
  vpnUuid?: string;
  vpnName?: string;
  device?: string;
  keyOut?: string;
  json?: boolean;
}

export async function runSimulateIdentity(local: SimulateIdentityOptions, command: Command, io: CliIo): Promise<void> {
  const opts = subcommandOptions(local, command);
  if ((local.vpnUuid === undefined) === (local.vpnName === undefined)) throw new CliError('give --vpn-uuid or --vpn-name (one of them)', 2);
  for (const [flag, value] of [
    ['--vpn-uuid', local.vpnUuid],
    ['--vpn-name', local.vpnName],
    ['--device', local.device],
  ] as const) {
    if (value !== undefined && (value === '' || value.length > 256)) throw new CliError(`${flag} must be 1 to 256 characters`, 2);
  }
  if (local.keyOut === '') throw new CliError('--key-out needs a file name', 2);
  const state = await existingState(opts.state);
  let found;
  try {
    found = findVpnIdentity(state, {
      ...(local.vpnUuid !== undefined && { vpnUuid: local.vpnUuid }),
      ...(local.vpnName !== undefined && { vpnName: local.vpnName }),
      ...(local.device !== undefined && { udid: local.device }),
    });
  } catch (err) {
    if (err instanceof IdentityLookupError) throw new CliError(err.message);
    throw err;
  }
  if (local.keyOut !== undefined) {
    try {
      await writeFile(local.keyOut, found.privateKeyPem, { mode: 0o600 });
      // mode applies only to a new file: an existing one is narrowed too
      await chmod(local.keyOut, 0o600);
    } catch (err) {
      throw new CliError(`--key-out ${local.keyOut}: ${(err as Error).message}`);
    }
    io.stderr.write(`wrote ${local.keyOut} (private key, mode 0600)\n`);
  }
  await writeOutput(
    opts.json
      ? `${JSON.stringify({ udid: found.udid, ...found.view, certificatePem: found.certificatePem }, null, 2)}\n`
      : found.certificatePem,
    command,
    io,
  );
}

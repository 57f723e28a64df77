// Runs a fleet of virtual devices against a server: N devices, at most C busy at once, each
// enrolling if it has not yet and then polling for K cycles or until the duration is up.
// Progress is saved to the state file as devices enroll, so an interrupted fleet resumes.

import { AdminApiError, AdminClient, type AdminCredentials } from './admin.js';
import { VirtualDevice, newDeviceState, type FaultSettings } from './device.js';
import { SimulatorEnrollmentError } from './enroll.js';
import { prefillRsaKeys } from './key-pool.js';
import type { EnrollMode } from './enroll-modes.js';
import { createHttpClient, HttpError } from './http.js';
import { DEFAULT_MODEL_MIX, type ModelChoice } from './identity.js';
import { Metrics, type MetricsSummary } from './metrics.js';
import { loadFleetState, StateWriter, STATE_FILE_VERSION, type FleetState } from './state.js';
import { startPushListener, type PushListener } from './push-listener.js';

export interface FleetOptions {
  /** Server base URL, e.g. http://localhost:8080. */
  server: string;
  devices: number;
  concurrency: number;
  /** Poll cycles per device in this run. Give this or durationSeconds. */
  iterations?: number;
  durationSeconds?: number;
  /** Pause between two poll cycles of one device. */
  pollIntervalMs: number;
  stateFile: string;
  /** Identities derive from it; a state file remembers it. */
  seed?: string;
  models?: readonly ModelChoice[];
  notNowRate?: number;
  faults?: FaultSettings;
  admin?: AdminCredentials;
  /**
   * How devices get their enrollment profile (default ota). ota and direct need an invitation
   * each (admin credentials) unless enrollmentUrl gives one (a single device); machine-info
   * needs none: it POSTs to enrollmentUrl, by default the server's /mdm/enroll.
   */
  enrollMode?: EnrollMode;
  /** ota: an invitation URL created elsewhere; direct: a direct profile URL (a single device only); machine-info: where MachineInfo goes. */
  enrollmentUrl?: string;
  /**
   * Wake on push instead of polling: the fleet listens for mockiron's APNs pushes here (mockiron's
   * MOCKIRON_APNS_URL points at it) and a device connects only when a push for its token comes.
   * Needs durationSeconds.
   */
  wakeOnPush?: { host: string; port: number; certPem: string; keyPem: string };
  /** Called once the push listener listens (its port, when port 0 was asked for). */
  onPushListening?: (port: number) => void;
  onProgress?: (progress: FleetProgress) => void;
  progressIntervalMs?: number;
  /** Stops scheduling new work; the run then saves its state and returns. */
  signal?: AbortSignal;
  /**
   * Make the enrolling devices' RSA keys before the run (two each: the device's own signing key
   * and its SCEP key), so that a benchmark's enrollment time is the server's, not key generation.
   */
  pregenerateKeys?: boolean;
}

export interface FleetProgress {
  devices: number;
  enrolled: number;
  commands: number;
  errors: number;
  requestsPerSecond: number;
  elapsedSeconds: number;
}

export interface FleetResult {
  summary: MetricsSummary;
  state: FleetState;
  /** With wakeOnPush: pushes that woke a device, and pushes refused. */
  pushes?: { delivered: number; refused: number };
  /** With pregenerateKeys: how many keys were made before the run, and in how many seconds. */
  keysPregenerated?: { count: number; seconds: number };
}

/** Problems with the run's inputs or the server as a whole (not one device's failure). */
export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

export const DEFAULT_SEED = 'mockiron-simulator';

function sameServer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Loads (or starts) the state and makes sure devices 0..count-1 exist in it. */
export async function prepareFleetState(options: {
  stateFile: string;
  server: string;
  devices: number;
  seed?: string;
  models?: readonly ModelChoice[];
  caPem: string;
}): Promise<FleetState> {
  const now = new Date().toISOString();
  const loaded = await loadFleetState(options.stateFile);
  if (loaded && !sameServer(loaded.server, options.server)) {
    throw new FleetError(
      `${options.stateFile} holds devices enrolled with ${loaded.server}, not ${options.server}; use another --state file`,
    );
  }
  if (loaded && options.seed !== undefined && loaded.seed !== options.seed) {
    throw new FleetError(`${options.stateFile} was created with seed "${loaded.seed}", not "${options.seed}"`);
  }
  const state: FleetState = loaded ?? {
    version: STATE_FILE_VERSION,
    server: options.server.replace(/\/+$/, ''),
    seed: options.seed ?? DEFAULT_SEED,
    createdAt: now,
    updatedAt: now,
    devices: [],
  };
  for (let index = 0; index < options.devices; index++) {
    const existing = state.devices.find((d) => d.identity.index === index);
    if (!existing) state.devices.push(newDeviceState(state.seed, index, options.models ?? DEFAULT_MODEL_MIX, [options.caPem]));
    else if (!existing.trustAnchorsPem.includes(options.caPem)) existing.trustAnchorsPem.push(options.caPem);
  }
  state.devices.sort((a, b) => a.identity.index - b.identity.index);
  return state;
}

export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  if (options.iterations === undefined && options.durationSeconds === undefined) throw new FleetError('give iterations or a duration');
  const mode = options.enrollMode ?? 'ota';
  // An invitation's URL is one use; the MachineInfo URL takes every device.
  if (options.enrollmentUrl && options.devices !== 1 && mode !== 'machine-info')
    throw new FleetError('an enrollment URL can enroll one device only (--devices 1)');
  const metrics = new Metrics();
  const http = createHttpClient({ metrics, maxSockets: Math.max(4, options.concurrency * 2) });
  const admin = new AdminClient(http, options.server, options.admin);
  try {
    let caPem: string;
    try {
      caPem = await admin.caCertificatePem();
    } catch (err) {
      if (err instanceof AdminApiError || err instanceof HttpError)
        throw new FleetError(`cannot reach the server at ${options.server}: ${err.message}`);
      throw err;
    }
    const state = await prepareFleetState({ ...options, caPem });
    const writer = new StateWriter(options.stateFile, () => ({ ...state, updatedAt: new Date().toISOString() }));
    const selected = state.devices.filter((d) => d.identity.index < options.devices);
    if (selected.some((d) => d.status === 'new') && !options.enrollmentUrl && !admin.hasCredentials && mode !== 'machine-info') {
      throw new FleetError(
        'devices need enrolling: give admin credentials (--admin-user with --admin-password-file or MOCKIRON_ADMIN_PASSWORD) or --enrollment-url',
      );
    }
    let keysPregenerated: FleetResult['keysPregenerated'];
    if (options.pregenerateKeys) {
      const count = 2 * selected.filter((d) => d.status !== 'enrolled').length;
      keysPregenerated = { count, seconds: Math.round((await prefillRsaKeys(count)) * 10) / 10 };
      metrics.restart(); // the run's rates and elapsed time leave the preparation out
    }
    const devices = selected.map(
      (s) =>
        new VirtualDevice(s, {
          http,
          metrics,
          notNowRate: options.notNowRate ?? 0,
          ...(options.faults && { faults: options.faults }),
        }),
    );

    const deadline = options.durationSeconds !== undefined ? performance.now() + options.durationSeconds * 1000 : Infinity;
    const cyclesThisRun = new Map<VirtualDevice, number>();
    const queue: { device: VirtualDevice; due: number; woken?: boolean }[] = devices.map((device) => ({ device, due: 0 }));
    const finished = (device: VirtualDevice) =>
      !device.polling || (options.iterations !== undefined && (cyclesThisRun.get(device) ?? 0) >= options.iterations);
    const stopped = () => options.signal?.aborted || performance.now() >= deadline;
    const wake = options.wakeOnPush;
    if (wake && options.durationSeconds === undefined)
      throw new FleetError('wake on push needs --duration: devices wait for pushes until it is up');
    // Workers with nothing to do wait here for a push (wake mode), or the end of the run.
    const waiting = new Set<() => void>();
    const workArrived = () => {
      for (const resolve of waiting) resolve();
      waiting.clear();
    };
    const nextWork = () =>
      new Promise<void>((resolve) => {
        waiting.add(resolve);
        setTimeout(resolve, Math.max(0, Math.min(deadline - performance.now(), 1000))).unref?.();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    let listener: PushListener | undefined;
    if (wake) {
      const byToken = new Map(devices.map((d) => [Buffer.from(d.state.mdm?.pushToken ?? '', 'base64').toString('hex'), d] as const));
      listener = await startPushListener({
        ...wake,
        lookup(tokenHex) {
          let device = byToken.get(tokenHex);
          // enrolled during this run: its token is new
          if (!device)
            device = devices.find((d) => d.state.mdm && Buffer.from(d.state.mdm.pushToken, 'base64').toString('hex') === tokenHex);
          const mdm = device?.state.mdm;
          if (!device || !mdm || !device.polling) return undefined;
          return {
            topic: mdm.topic,
            pushMagic: mdm.pushMagic,
            wake() {
              if (!queue.some((q) => q.device === device)) queue.push({ device: device!, due: 0, woken: true });
              workArrived();
            },
          };
        },
      });
      options.onPushListening?.(listener.port);
    }

    async function enroll(device: VirtualDevice): Promise<boolean> {
      let url = options.enrollmentUrl ?? (mode === 'machine-info' ? `${state.server}/mdm/enroll` : undefined);
      try {
        if (!url) {
          const userId = `sim-${device.state.identity.serialNumber}`;
          await admin.ensureUser(userId);
          const invitation = await admin.createEnrollment(userId);
          if (mode === 'direct' && !invitation.token) throw new AdminApiError('POST /api/v2/enrollments: the answer has no results.token');
          url = mode === 'direct' ? `${state.server}/mdm/enroll?token=${encodeURIComponent(invitation.token!)}` : invitation.url;
        }
        await device.enroll(url, mode);
        metrics.enrolledThisRun++;
        writer.saveSoon();
        return true;
      } catch (err) {
        metrics.enrollmentFailures++;
        const kind =
          err instanceof SimulatorEnrollmentError ? `enroll:${err.stage}` : err instanceof AdminApiError ? 'enroll:invitation' : 'enroll';
        device.state.lastError = (err as Error).message;
        metrics.recordError(kind, `${device.udid}: ${(err as Error).message}`);
        return false;
      }
    }

    async function worker(): Promise<void> {
      for (;;) {
        if (stopped()) return;
        const item = queue.shift();
        if (!item) {
          if (!wake) return;
          await nextWork();
          continue;
        }
        const wait = item.due - performance.now();
        if (wait > 0) await sleep(Math.min(wait, deadline - performance.now()), options.signal);
        if (stopped()) return;
        const { device } = item;
        if (device.state.status === 'new') {
          if (!(await enroll(device))) continue;
          // Enrolled: from now on it connects when a push wakes it.
          if (wake) continue;
        } else if (wake && !item.woken) {
          // An enrolled device at the start of a wake-on-push run waits for its first push.
          continue;
        } else {
          try {
            await device.poll();
          } catch (err) {
            metrics.recordError('poll', `${device.udid}: ${(err as Error).message}`);
          }
          cyclesThisRun.set(device, (cyclesThisRun.get(device) ?? 0) + 1);
        }
        if (!wake && !finished(device))
          queue.push({ device, due: performance.now() + (cyclesThisRun.has(device) ? options.pollIntervalMs : 0) });
      }
    }

    const progress = options.onProgress
      ? setInterval(() => {
          options.onProgress!({
            devices: devices.length,
            enrolled: devices.filter((d) => d.state.status === 'enrolled').length,
            commands: metrics.commandsHandled,
            errors: metrics.errorCount,
            requestsPerSecond: metrics.requestsPerSecond(),
            elapsedSeconds: metrics.elapsedSeconds(),
          });
        }, options.progressIntervalMs ?? 250)
      : undefined;
    const autosave = setInterval(() => void writer.save().catch(() => undefined), 5000);
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, devices.length)) }, () => worker()));
    } finally {
      clearInterval(progress);
      clearInterval(autosave);
      await listener?.close();
    }
    state.updatedAt = new Date().toISOString();
    await writer.save();
    const summary = metrics.summary({
      total: devices.length,
      enrolled: selected.filter((d) => d.status === 'enrolled').length,
      unenrolled: selected.filter((d) => d.status === 'unenrolled').length,
      erased: selected.filter((d) => d.status === 'erased').length,
    });
    return {
      summary,
      state,
      ...(listener && { pushes: { delivered: listener.delivered, refused: listener.refused } }),
      ...(keysPregenerated && { keysPregenerated }),
    };
  } finally {
    http.close();
  }
}

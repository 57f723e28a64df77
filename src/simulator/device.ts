// A virtual iOS device: a stable identity, its keys and what it holds, enrolling through the
// server's public endpoints and then polling /mdm/connect, answering commands as iOS does.

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { signMdmRequest } from '../lib/mdm-protocol/index.js';
import { toXmlPlist } from '../lib/plist/index.js';
import { respondToCommand, UnanswerableCommandError, type CommandResponse } from './commands.js';
import type { EnrollMode } from './enroll-modes.js';
import { enrollDevice, SimulatorEnrollmentError, rsaKey, scepRequest, sendCheckin, type EnrollmentArtifacts } from './enroll.js';
import type { HttpClient, HttpResponse } from './http.js';
import { deriveIdentity, DEFAULT_MODEL_MIX, type ModelChoice } from './identity.js';
import type { Metrics } from './metrics.js';
import { identityProvisioner } from './profile-identities.js';
import { derive, SeededRandom } from './random.js';
import type { DeviceState } from './state.js';
import type { FaultKind } from './fault-kinds.js';

export { FAULT_KINDS, type FaultKind } from './fault-kinds.js';

const DROP_RECONNECT_DELAY_MS = 100;

export interface FaultSettings {
  kinds: ReadonlySet<FaultKind>;
  /** Probability (0..1) of injecting each enabled fault at each opportunity. */
  rate: number;
}

export interface VirtualDeviceOptions {
  /** Needed for enrollment and polling; command handling alone works without it. */
  http?: HttpClient;
  metrics?: Metrics;
  /** Share (0..1) of deferrable commands answered NotNow. */
  notNowRate?: number;
  faults?: FaultSettings;
  /** At most this many commands per poll cycle (guards against a server that never runs dry). */
  maxCommandsPerCycle?: number;
  now?: () => Date;
}

export interface PollOutcome {
  /** Commands answered in this cycle. */
  commands: CommandResponse[];
  /** Why the cycle ended early, if it did. */
  stopped?: 'unenrolled' | 'erased' | 'error' | 'not-now-repeat' | 'command-limit';
}

/** A new, not yet enrolled device: identity from the fleet seed and its index. */
export function newDeviceState(
  seed: string,
  index: number,
  mix: readonly ModelChoice[] = DEFAULT_MODEL_MIX,
  trustAnchorsPem: string[] = [],
): DeviceState {
  const identity = deriveIdentity(seed, index, mix);
  return {
    identity,
    status: 'new',
    trustAnchorsPem: [...trustAnchorsPem],
    profiles: {},
    apps: {},
    rngState: new SeededRandom(`${seed}:${identity.udid}`).state,
    pollCycles: 0,
  };
}

function corruptSignature(header: string): string {
  // Flip bits near the end, inside the signature value, keeping the base64 well-formed
  const der = Buffer.from(header, 'base64');
  der[der.length - 8] = der[der.length - 8]! ^ 0xff;
  return der.toString('base64');
}

/** Keeps the latest `limit` command UUIDs. */
function remember(list: string[], commandUuid: string, limit = 100): void {
  list.push(commandUuid);
  if (list.length > limit) list.splice(0, list.length - limit);
}

export class VirtualDevice {
  readonly state: DeviceState;
  readonly #options: VirtualDeviceOptions;
  readonly #random: SeededRandom;
  // Separate from #random so injecting faults never shifts the device's NotNow sequence
  readonly #faultRandom: SeededRandom;
  #signer?: { privateKey: KeyObject; certificate: X509Certificate };
  #artifacts?: EnrollmentArtifacts;

  constructor(state: DeviceState, options: VirtualDeviceOptions = {}) {
    this.state = state;
    this.#options = options;
    this.#random = SeededRandom.fromState(state.rngState);
    this.#faultRandom = new SeededRandom(derive('faults', state.identity.udid).readUInt32BE(0));
  }

  get udid(): string {
    return this.state.identity.udid;
  }

  get polling(): boolean {
    return this.state.status === 'enrolled';
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  #http(): HttpClient {
    if (!this.#options.http) throw new Error('this VirtualDevice has no HTTP client');
    return this.#options.http;
  }

  #identitySigner(): { privateKey: KeyObject; certificate: X509Certificate } {
    const mdm = this.state.mdm;
    if (!mdm) throw new Error(`device ${this.udid} is not enrolled`);
    this.#signer ??= { privateKey: createPrivateKey(mdm.identityKeyPem), certificate: new X509Certificate(mdm.identityCertificatePem) };
    return this.#signer;
  }

  #fault(kind: FaultKind): boolean {
    const faults = this.#options.faults;
    return !!faults && faults.kinds.has(kind) && this.#faultRandom.chance(faults.rate);
  }

  /**
   * Answers one command body and applies it to the device's state. The network is used only for
   * what the command itself needs: SCEP for an InstallProfile's identity payloads.
   */
  async respond(body: Uint8Array | string): Promise<CommandResponse> {
    const response = await respondToCommand(this.state, body, {
      notNowRate: this.#options.notNowRate ?? 0,
      random: this.#random,
      now: this.#options.now,
      identities: identityProvisioner(this.#options.http, this.state.identity),
    });
    this.state.rngState = this.#random.state;
    return response;
  }

  /** Enrollment through `enrollmentUrl`, the way `mode` says. On failure the device stays 'new' with lastError set. */
  async enroll(enrollmentUrl: string, mode: EnrollMode = 'ota'): Promise<void> {
    try {
      const result = await enrollDevice(
        this.#http(),
        this.state.identity,
        enrollmentUrl,
        this.state.trustAnchorsPem,
        () => this.#now(),
        mode,
      );
      this.state.mdm = result.mdm;
      this.state.profiles[result.profile.identifier] = result.profile;
      for (const pem of result.rootCertificatesPem) if (!this.state.trustAnchorsPem.includes(pem)) this.state.trustAnchorsPem.push(pem);
      this.state.status = 'enrolled';
      delete this.state.lastError;
      this.#signer = undefined;
      this.#artifacts = result.artifacts;
    } catch (err) {
      this.state.lastError = (err as Error).message;
      throw err;
    }
    if (this.#fault('replay-challenge')) await this.#replayChallenges();
  }

  async #replayChallenges(): Promise<void> {
    const metrics = this.#options.metrics;
    const artifacts = this.#artifacts;
    if (!artifacts) return;
    // The OTA challenge is single-use: the same signed attributes again must not yield a profile;
    // a direct profile URL is one use too: fetched again, it must not yield one either
    const replay =
      artifacts.profileServiceUrl && artifacts.signedAttributes
        ? {
            kind: 'ota',
            url: artifacts.profileServiceUrl,
            options: { method: 'POST', headers: { 'Content-Type': 'application/pkcs7-signature' }, body: artifacts.signedAttributes },
          }
        : artifacts.directProfileUrl
          ? { kind: 'direct', url: artifacts.directProfileUrl, options: {} }
          : undefined;
    if (replay) {
      try {
        const response = await this.#http().request(`fault-replay-${replay.kind}`, replay.url, replay.options);
        metrics?.recordFault('replay-challenge', response.status, response.status === 200);
        metrics?.noteFault('replay-challenge', replay.kind);
      } catch {
        metrics?.recordFault('replay-challenge', 'network-error', false);
      }
    }
    if (!artifacts.scep) return;
    try {
      const key = await rsaKey(2048);
      const { certRep } = await scepRequest(this.#http(), 'fault-replay-scep', artifacts.scep, key);
      metrics?.recordFault('replay-challenge', 200, certRep.status === 'SUCCESS');
      metrics?.noteFault('replay-challenge', `scep-${certRep.status.toLowerCase()}`);
    } catch (err) {
      const status = err instanceof SimulatorEnrollmentError && err.httpStatus !== undefined ? err.httpStatus : 'network-error';
      metrics?.recordFault('replay-challenge', status, false);
      metrics?.noteFault('replay-challenge', 'scep-refused');
    }
  }

  /** PUTs a body to ServerURL, signed (or deliberately mis-signed) as the MDM payload says. */
  async #connect(kind: string, body: Buffer, options: { corrupt?: boolean; drop?: boolean } = {}): Promise<HttpResponse | undefined> {
    const mdm = this.state.mdm!;
    const headers: Record<string, string> = { 'Content-Type': 'application/x-apple-aspen-mdm' };
    if (mdm.signMessage || options.corrupt) {
      const signature = signMdmRequest(body, this.#identitySigner());
      headers['Mdm-Signature'] = options.corrupt ? corruptSignature(signature) : signature;
    }
    return this.#http().request(kind, mdm.serverUrl, { method: 'PUT', headers, body, dropAfterSend: options.drop ?? false });
  }

  #idleBody(): Buffer {
    return Buffer.from(toXmlPlist({ UDID: this.udid, Status: 'Idle' }), 'utf8');
  }

  /** Probes that must be refused: sent alongside the normal traffic, never instead of it. */
  async #probes(): Promise<void> {
    const metrics = this.#options.metrics;
    if (this.#fault('corrupt-signature')) {
      try {
        const response = (await this.#connect('fault-corrupt-signature', this.#idleBody(), { corrupt: true }))!;
        metrics?.recordFault('corrupt-signature', response.status, response.status < 400);
      } catch {
        metrics?.recordFault('corrupt-signature', 'network-error', false);
      }
    }
    if (this.#fault('truncated-body')) {
      const full = this.#idleBody();
      const truncated = full.subarray(0, Math.floor(full.length / 2));
      try {
        // Correctly signed over the truncated bytes, so it is the body parser that must refuse it
        const response = (await this.#connect('fault-truncated-body', Buffer.from(truncated)))!;
        metrics?.recordFault('truncated-body', response.status, response.status < 400);
      } catch {
        metrics?.recordFault('truncated-body', 'network-error', false);
      }
    }
  }

  /** The server no longer accepts this device: iOS then drops its MDM profile. */
  #unenrolledByServer(status: number): void {
    this.state.status = 'unenrolled';
    this.state.lastError = `the server answered ${status}: no longer enrolled`;
    for (const [identifier, profile] of Object.entries(this.state.profiles))
      if (profile.source === 'enrollment') delete this.state.profiles[identifier];
  }

  #erase(): void {
    const { identity, rngState, trustAnchorsPem, pollCycles } = this.state;
    // Everything the device held goes; the identity is the hardware and survives
    for (const key of Object.keys(this.state) as (keyof DeviceState)[]) delete this.state[key];
    Object.assign(this.state, {
      identity,
      status: 'erased',
      trustAnchorsPem,
      profiles: {},
      apps: {},
      rngState,
      pollCycles,
      erasedAt: this.#now().toISOString(),
    });
    this.#signer = undefined;
  }

  /** The MDM profile was removed (RemoveProfile of it): send CheckOut and stop. */
  async #checkOut(): Promise<void> {
    const mdm = this.state.mdm!;
    try {
      await sendCheckin(this.#http(), 'checkin-checkout', mdm, this.#identitySigner(), {
        MessageType: 'CheckOut',
        UDID: this.udid,
        Topic: mdm.topic,
      });
    } catch (err) {
      this.#options.metrics?.recordError('checkout', (err as Error).message);
    }
    this.state.status = 'unenrolled';
    for (const [identifier, profile] of Object.entries(this.state.profiles))
      if (profile.source === 'enrollment') delete this.state.profiles[identifier];
    this.state.apps = {};
  }

  /**
   * One poll: "Idle", then answer each command the server hands back until it has none left.
   * Network failures and unexpected statuses are recorded and end the cycle; the next cycle retries.
   */
  async poll(): Promise<PollOutcome> {
    if (!this.polling) return { commands: [], stopped: this.state.status === 'erased' ? 'erased' : 'unenrolled' };
    const metrics = this.#options.metrics;
    const limit = this.#options.maxCommandsPerCycle ?? 100;
    this.state.pollCycles++;
    await this.#probes();
    const commands: CommandResponse[] = [];
    const deferred = new Set<string>();
    let response: HttpResponse | undefined;
    try {
      response = await this.#connect('connect-idle', this.#idleBody());
    } catch (err) {
      metrics?.recordError('connect-idle', (err as Error).message);
      return { commands, stopped: 'error' };
    }
    for (;;) {
      if (!response) return { commands, stopped: 'error' };
      if (response.status === 401 || response.status === 403) {
        this.#unenrolledByServer(response.status);
        return { commands, stopped: 'unenrolled' };
      }
      if (response.status !== 200) {
        metrics?.recordError('connect', `answered ${response.status}: ${response.body.toString('utf8').slice(0, 200)}`);
        return { commands, stopped: 'error' };
      }
      if (response.body.length === 0) return { commands };
      if (commands.length >= limit) return { commands, stopped: 'command-limit' };
      let answer: CommandResponse;
      try {
        answer = await this.respond(response.body);
      } catch (err) {
        if (err instanceof UnanswerableCommandError) {
          metrics?.recordError('unreadable-command', err.message);
          return { commands, stopped: 'error' };
        }
        throw err;
      }
      if (answer.status === 'NotNow' && deferred.has(answer.commandUuid)) {
        // The server insists on a command we just deferred: go quiet and come back next cycle
        return { commands, stopped: 'not-now-repeat' };
      }
      if (answer.status === 'NotNow') deferred.add(answer.commandUuid);
      commands.push(answer);
      metrics?.recordCommand(answer.requestType, answer.status);
      const final = answer.status !== 'NotNow';
      if (
        final &&
        this.state.answeredCommands?.includes(answer.commandUuid) &&
        !this.state.unconfirmedAnswers?.includes(answer.commandUuid)
      ) {
        metrics?.recordDuplicate(answer.requestType, answer.commandUuid);
      }
      try {
        if (this.#fault('drop-connection')) {
          if (final) remember((this.state.unconfirmedAnswers ??= []), answer.commandUuid);
          response = await this.#dropAfterResult(answer);
        } else {
          response = await this.#connect('connect-result', answer.body);
        }
        if (final) remember((this.state.answeredCommands ??= []), answer.commandUuid);
      } catch (err) {
        metrics?.recordError('connect-result', (err as Error).message);
        return { commands, stopped: 'error' };
      }
      if (answer.after === 'erase') {
        this.#erase();
        return { commands, stopped: 'erased' };
      }
      if (answer.after === 'unenroll') {
        await this.#checkOut();
        return { commands, stopped: 'unenrolled' };
      }
    }
  }

  /**
   * Sends the result and hangs up before reading the answer (which carried the next command, if
   * any), then reconnects with Idle as iOS does and notes what the server sent: the command whose
   * result it did get again (result lost), a new command, or nothing.
   */
  async #dropAfterResult(answer: CommandResponse): Promise<HttpResponse | undefined> {
    const metrics = this.#options.metrics;
    await this.#connect('fault-drop-connection', answer.body, { drop: true });
    metrics?.recordFault('drop-connection', 'dropped', false);
    if (answer.after) return undefined;
    // iOS retries a failed connection after a pause, not at once; it also gives the server time to finish the request
    await new Promise((resolve) => setTimeout(resolve, DROP_RECONNECT_DELAY_MS));
    const next = await this.#connect('connect-idle', this.#idleBody());
    if (next && next.status === 200) {
      let note = 'then-empty';
      if (next.body.length > 0) {
        const uuid = /<key>CommandUUID<\/key>\s*<string>([^<]*)<\/string>/.exec(next.body.toString('utf8'))?.[1];
        note =
          uuid === answer.commandUuid
            ? answer.status === 'NotNow'
              ? 'then-deferred-command-again'
              : 'then-answered-command-again'
            : 'then-next-command';
      }
      metrics?.noteFault('drop-connection', note);
    }
    return next;
  }
}

// Pushes to Apple's Push Notification service: the provider API over HTTP/2 with the MDM push
// certificate as the TLS client identity. One connection carries every push (HTTP/2 streams);
// a bounded queue decouples it from requests, so a slow or unreachable APNs never slows a
// device's check-in or an admin's action: `push()` only enqueues. One push per device is
// pending at a time (a device that is woken fetches all its commands). Answers as Apple
// documents them ("Handling notification responses from APNs"): 200 sent; 410 Unregistered and
// 400 BadDeviceToken stop pushes to that token; 403 is the certificate's problem (logged); 429
// and 5xx (and a connection that fails or does not answer) retry with exponential backoff and
// jitter. Without a push certificate, pushes are recorded only, as before.
import http2, { type ClientHttp2Session } from 'node:http2';
import type { Db } from '../platform/db/client.js';
import type { Logger } from '../platform/logger.js';
import type { PushProvider, PushTarget } from './push.js';
import { RecordingPushProvider } from './push.js';
import { pushStore } from './store.js';
import { pushCertificateStore, type PushIdentity } from './push-certificate.js';

export interface ApnsSettings {
  /** Origin of the APNs provider API (production, development, or a stand-in for tests). */
  url: string;
  /** Extra trust anchors for that host (PEM), for a stand-in; Apple's hosts need none. */
  ca?: string;
  /** How long one request may take before it counts as failed and is retried, ms. */
  requestTimeoutMs?: number;
  /** How many devices may wait for a push; more are recorded as dropped. */
  maxQueued?: number;
  /** Pushes in flight at once on the connection. */
  maxInFlight?: number;
  /** First backoff after a 429, 5xx or connection failure, ms (doubled each time, with jitter). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Tries of one push before it is recorded as failed. */
  maxAttempts?: number;
  /** How long APNs keeps a push for an offline device, s (apns-expiration). */
  expirationSeconds?: number;
}

interface Pending {
  target: PushTarget & { pushToken: string; pushMagic: string };
  reason: string;
  attempts: number;
  notBefore: number;
}

interface ApnsAnswer {
  status: number;
  reason?: string;
}

/** Everything a push provider exposes to the status page and the tests. */
export interface ApnsStats {
  queued: number;
  inFlight: number;
  sent: number;
  coalesced: number;
  backoffs: number;
}

export class ApnsPushProvider implements PushProvider {
  private readonly recording: RecordingPushProvider;
  private readonly queue = new Map<number, Pending>();
  private readonly inFlight = new Set<number>();
  private readonly dead = new Set<string>();
  private session: ClientHttp2Session | undefined;
  private sessionIdentity: PushIdentity | undefined;
  private pausedUntil = 0;
  private consecutiveFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private certificateRefusedLogged = false;
  readonly stats: ApnsStats = { queued: 0, inFlight: 0, sent: 0, coalesced: 0, backoffs: 0 };
  private readonly s: Required<Omit<ApnsSettings, 'ca'>> & { ca?: string };

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    /** The current push identity (null: none configured, pushes are recorded only). */
    private readonly identity: () => PushIdentity | null,
    settings: ApnsSettings,
  ) {
    this.recording = new RecordingPushProvider(db);
    this.s = {
      requestTimeoutMs: 10_000,
      maxQueued: 10_000,
      maxInFlight: 100,
      backoffBaseMs: 1_000,
      backoffMaxMs: 5 * 60_000,
      maxAttempts: 8,
      expirationSeconds: 7 * 86_400,
      ...settings,
    };
  }

  get name(): string {
    return this.identity() ? 'apns' : 'recording';
  }

  /** Tokens APNs said are gone, from earlier runs. */
  async load(): Promise<void> {
    for (const { token } of await pushCertificateStore.deadTokens(this.db)) this.dead.add(token);
  }

  async push(device: PushTarget, reason: string) {
    const identity = this.identity();
    if (!identity) return this.recording.push(device, reason);
    const record = (outcome: string) => pushStore.record(this.db, { deviceRef: device.id, reason, provider: 'apns', outcome });
    if (!device.pushToken || !device.pushMagic) {
      await record('no-token');
      return { outcome: 'no-token' as const };
    }
    if (this.dead.has(device.pushToken)) {
      await record('unregistered');
      return { outcome: 'failed' as const };
    }
    // The device installed an enrollment profile with another Topic: it does not listen on this one.
    if (device.topic !== identity.topic) {
      await record('topic-mismatch');
      return { outcome: 'failed' as const };
    }
    if (this.queue.has(device.id) || this.inFlight.has(device.id)) {
      this.stats.coalesced++;
      return { outcome: 'queued' as const };
    }
    if (this.queue.size >= this.s.maxQueued) {
      await record('dropped');
      return { outcome: 'failed' as const };
    }
    this.queue.set(device.id, {
      target: { ...device, pushToken: device.pushToken, pushMagic: device.pushMagic },
      reason,
      attempts: 0,
      notBefore: 0,
    });
    this.stats.queued = this.queue.size;
    this.schedule(0);
    return { outcome: 'queued' as const };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.session?.destroy();
    this.session = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, delayMs);
    this.timer.unref();
  }

  /** Sends what is due, up to the in-flight limit; reschedules itself for what waits. */
  private drain(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (now < this.pausedUntil) return this.schedule(this.pausedUntil - now);
    let nextDue = Infinity;
    for (const [id, item] of this.queue) {
      if (this.inFlight.size >= this.s.maxInFlight) break;
      if (item.notBefore > now) {
        nextDue = Math.min(nextDue, item.notBefore);
        continue;
      }
      this.queue.delete(id);
      this.inFlight.add(id);
      void this.send(item).finally(() => {
        this.inFlight.delete(id);
        this.stats.inFlight = this.inFlight.size;
        if (this.queue.size) this.schedule(0);
      });
    }
    this.stats.queued = this.queue.size;
    this.stats.inFlight = this.inFlight.size;
    if (nextDue !== Infinity) this.schedule(nextDue - now);
  }

  private connection(identity: PushIdentity): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed && this.sessionIdentity === identity) return this.session;
    this.session?.close();
    const session = http2.connect(this.s.url, {
      cert: identity.certificatePem,
      key: identity.key.export({ type: 'pkcs8', format: 'pem' }),
      ca: this.s.ca,
    });
    session.on('error', (err) => this.logger.warn({ err: err.message, url: this.s.url }, 'APNs connection failed'));
    session.on('goaway', (code) => this.logger.info({ code }, 'APNs closed the connection (GOAWAY)'));
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // Idle, the connection must not keep the process alive.
    session.unref();
    this.session = session;
    this.sessionIdentity = identity;
    return session;
  }

  private async send(item: Pending): Promise<void> {
    const identity = this.identity();
    const { target, reason } = item;
    const record = (outcome: string) => pushStore.record(this.db, { deviceRef: target.id, reason, provider: 'apns', outcome });
    if (!identity) {
      await this.recording.push(target, reason);
      return;
    }
    item.attempts++;
    let answer: ApnsAnswer;
    try {
      answer = await this.request(identity, target);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, device: target.id }, 'APNs request failed; retrying with backoff');
      return this.retry(item, record, 'connection', true);
    }
    try {
      if (answer.status === 200) {
        this.consecutiveFailures = 0;
        this.stats.sent++;
        await record('sent');
      } else if (answer.status === 410 || (answer.status === 400 && answer.reason === 'BadDeviceToken')) {
        // The token is gone (the app was removed, the device unenrolled) or is not this
        // environment's: pushing it again only counts against us.
        this.dead.add(target.pushToken);
        await pushCertificateStore.markDead(this.db, {
          token: target.pushToken,
          deviceRef: target.id,
          reason: answer.reason ?? String(answer.status),
        });
        await record(answer.status === 410 ? 'unregistered' : 'bad-device-token');
      } else if (answer.status === 403) {
        if (!this.certificateRefusedLogged)
          this.logger.error({ reason: answer.reason, topic: identity.topic }, 'APNs refused the push certificate');
        this.certificateRefusedLogged = true;
        await record(`certificate-refused: ${answer.reason ?? 403}`);
      } else if (answer.status === 429 || answer.status >= 500) {
        return this.retry(item, record, answer.reason ?? String(answer.status), answer.status >= 500);
      } else {
        await record(`failed: ${answer.status} ${answer.reason ?? ''}`.trim());
      }
    } catch (err) {
      this.logger.error({ err }, 'recording a push outcome failed');
    }
  }

  /** Backs off: a 429 delays only this device; a failing service or connection pauses every push. */
  private async retry(item: Pending, record: (outcome: string) => Promise<unknown>, why: string, global: boolean): Promise<void> {
    this.stats.backoffs++;
    if (item.attempts >= this.s.maxAttempts) {
      await record(`failed: ${why} after ${item.attempts} attempts`).catch(() => {});
      return;
    }
    // Pushes in flight when the service fails all fail together: that is one failure, not many.
    if (global && Date.now() >= this.pausedUntil) this.consecutiveFailures++;
    const failures = global ? Math.max(1, this.consecutiveFailures) : item.attempts;
    const exponential = Math.min(this.s.backoffMaxMs, this.s.backoffBaseMs * 2 ** (failures - 1));
    // Full jitter between half and all of it: many devices throttled at once do not retry in step.
    const wait = Math.round(exponential * (0.5 + Math.random() * 0.5));
    const until = Date.now() + wait;
    if (global) this.pausedUntil = Math.max(this.pausedUntil, until);
    item.notBefore = until;
    // A newer push for the device may have been queued meanwhile: one is enough.
    if (!this.queue.has(item.target.id)) this.queue.set(item.target.id, item);
    this.schedule(wait);
  }

  private request(identity: PushIdentity, target: Pending['target']): Promise<ApnsAnswer> {
    return new Promise((resolve, reject) => {
      let session: ClientHttp2Session;
      try {
        session = this.connection(identity);
      } catch (err) {
        return reject(err as Error);
      }
      const body = JSON.stringify({ mdm: target.pushMagic });
      const stream = session.request({
        ':method': 'POST',
        ':path': `/3/device/${target.pushToken}`,
        'apns-push-type': 'mdm',
        'apns-topic': identity.topic,
        'apns-priority': '10',
        'apns-expiration': String(Math.floor(Date.now() / 1000) + this.s.expirationSeconds),
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer within ${this.s.requestTimeoutMs} ms`));
      }, this.s.requestTimeoutMs);
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => {
        if (chunks.reduce((n, c) => n + c.length, 0) < 4096) chunks.push(chunk);
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        let reason: string | undefined;
        try {
          const parsed = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: unknown }) : {};
          if (typeof parsed.reason === 'string') reason = parsed.reason.slice(0, 100);
        } catch {
          // an answer without a JSON body: the status says enough
        }
        resolve({ status, reason });
      });
      stream.end(body);
    });
  }
}

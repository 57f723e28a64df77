// Push notifications. Without an MDM push certificate the provider records each push (visible
// in the device's details and its push list); with one, ApnsPushProvider (apns.ts) queues it
// for Apple's service and records the outcome when APNs answers.
import type { Db } from '../platform/db/client.js';
import { pushStore } from './store.js';

export interface PushTarget {
  id: number;
  pushToken: string | null;
  pushMagic: string | null;
  topic: string | null;
}

export interface PushProvider {
  readonly name: string;
  /** `queued`: handed to the APNs queue (its outcome is recorded when APNs answers). */
  /** Stops background sending (the server is stopping). */
  stop?(): void;
  push(device: PushTarget, reason: string): Promise<{ outcome: 'recorded' | 'sent' | 'queued' | 'no-token' | 'failed' }>;
}

export class RecordingPushProvider implements PushProvider {
  readonly name = 'recording';
  constructor(private readonly db: Db) {}

  async push(device: PushTarget, reason: string) {
    const outcome = device.pushToken && device.pushMagic ? ('recorded' as const) : ('no-token' as const);
    await pushStore.record(this.db, { deviceRef: device.id, reason, provider: this.name, outcome });
    return { outcome };
  }
}

// Push notifications. APNs is unreachable here, so the default provider records each push
// (visible in the device's details and its push list); a real APNs client would implement
// the same interface.
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
  push(device: PushTarget, reason: string): Promise<{ outcome: 'recorded' | 'sent' | 'no-token' | 'failed' }>;
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

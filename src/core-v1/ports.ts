// What Core's v1 API needs of the v2 capabilities it shares. The v1 surface sits above devices,
// labels, users and mdm; these ports name exactly what it calls, and src/app wires the services
// in (the mdm capability has no index.ts, so no capability imports it).
import type { Actor } from '../platform/auth/actor.js';

/** A device under Core's v2 field names (common.uuid, user.user_id, …), as the devices capability answers it. */
export type FieldMap = Record<string, unknown>;

export interface V1Devices {
  list(
    actor: Actor,
    q: { query?: string; labelId?: number; page: { limit: number; offset: number }; order: 'asc' | 'desc' },
  ): Promise<{ total: number; results: FieldMap[] }>;
  /** Every field of one device, MDM state included; throws not-found. */
  details(actor: Actor, uuid: string): Promise<Array<{ name: string; value: string | null }>>;
  /** Ids are strings there, as GET /devices/{uuid}/labels answers them. */
  labelsOf(actor: Actor, uuid: string): Promise<Array<{ id: string; name: string; isStatic: boolean; isSystem: boolean }>>;
}

export interface V1Label {
  id: number;
  name: string;
  description: string;
  isStatic: boolean;
  isSystem: boolean;
  criteria: string | null;
  deviceCount?: number;
}

export interface V1Labels {
  summary(actor: Actor): Promise<V1Label[]>;
  /** The answer is not read: every device was checked to exist before. */
  apply(actor: Actor, labelName: string, deviceUuids: string[], op: 'add' | 'remove'): Promise<unknown>;
}

export interface V1Users {
  get(
    actor: Actor,
    userId: string,
  ): Promise<{ id: number; userId: string; email: string | null; displayName: string | null; createdAt: string }>;
}

/** The mdm actions v1 reaches, by mockiron's names (the same rules and commands as v2's). */
export type V1Action = 'LOCK' | 'UNLOCK_DEVICE_ONLY' | 'WIPE' | 'RETIRE' | 'SEND_MESSAGE';

export interface V1Actions {
  action(
    actor: Actor,
    action: V1Action,
    uuids: string[],
    options?: { note?: string; message?: string; mode?: 'pns' | 'sms' | 'email'; subject?: string },
  ): Promise<Array<{ deviceUuid: string; status: 'SUCCESS' | 'FAILED'; reason?: string; message: string }>>;
}

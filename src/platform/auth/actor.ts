// Who is calling. Authorization lives in services: they are given the actor and decide.
import { DomainError } from '../errors/index.js';

export type Role = 'admin' | 'viewer';

export interface Actor {
  kind: 'admin' | 'anonymous' | 'device' | 'system';
  username: string;
  role: Role | null;
  /** Set for device-authenticated requests. */
  deviceUuid?: string;
}

export const anonymous: Actor = { kind: 'anonymous', username: 'anonymous', role: null };
export const system: Actor = { kind: 'system', username: 'system', role: 'admin' };

export function requireRead(actor: Actor): void {
  if (actor.role !== 'admin' && actor.role !== 'viewer') throw DomainError.forbidden('Admin credentials required');
}

export function requireWrite(actor: Actor): void {
  if (actor.role !== 'admin') throw DomainError.forbidden('This operation requires the admin role; viewers are read-only');
}

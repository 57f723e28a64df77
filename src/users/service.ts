// Users own devices. userId is the unique, human-chosen key (as in MobileIron).
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import { noEvents, type EventPublisher } from '../platform/events.js';
import { userStore } from './store.js';

type UserRow = NonNullable<Awaited<ReturnType<typeof userStore.findByUserId>>>;

export function userView(u: UserRow & { _count?: { devices: number } }) {
  return {
    id: u.id,
    userId: u.userId,
    email: u.email,
    displayName: u.displayName,
    createdAt: u.createdAt.toISOString(),
    ...(u._count ? { deviceCount: u._count.devices } : {}),
  };
}

export interface UserInput {
  userId: string;
  email?: string | null;
  displayName?: string | null;
}

/**
 * What users need to know of their devices (a user's id is the Device row's userRef). A device
 * belongs to a user, so devices depend on users, not the reverse: the devices capability
 * provides this port (wired in src/app/services.ts).
 */
export interface UserDevices {
  count(tx: DbTx, userRef: number): Promise<number>;
  ids(tx: DbTx, userRef: number): Promise<number[]>;
}

export class UserService {
  constructor(
    private readonly db: Db,
    private readonly devices: UserDevices,
    /** Told which devices a user change concerns (a new or deleted user owns none). */
    private readonly events: EventPublisher = noEvents,
  ) {}

  async list(actor: Actor, filter: { search?: string }, page: { limit: number; offset: number }, sortField: string, order: 'asc' | 'desc') {
    requireRead(actor);
    const where = filter.search
      ? {
          OR: [
            { userId: { contains: filter.search } },
            { email: { contains: filter.search } },
            { displayName: { contains: filter.search } },
          ],
        }
      : {};
    const [rows, total] = await Promise.all([
      userStore.list(this.db, where, page, { [sortField]: order }),
      userStore.count(this.db, where),
    ]);
    return { total, results: rows.map(userView) };
  }

  /**
   * Core's LDAP lookup. mockiron has no LDAP directory; its users play that part: users are the
   * local users matching `search`; there are no groups or organisational units.
   */
  async ldapEntities(
    actor: Actor,
    type: 'user' | 'group' | 'ou',
    search: string | undefined,
    page: { limit: number; offset: number },
    sortField: string,
    order: 'asc' | 'desc',
  ) {
    requireRead(actor);
    if (type !== 'user') return { total: 0, results: [] };
    return this.list(actor, { search }, page, sortField, order);
  }

  async get(actor: Actor, userId: string) {
    requireRead(actor);
    const u = await userStore.findByUserId(this.db, userId);
    if (!u) throw DomainError.notFound('User', userId);
    return userView(u);
  }

  async create(actor: Actor, input: UserInput) {
    requireWrite(actor);
    const u = await this.db.$transaction(async (tx) => {
      if (await userStore.findByUserId(tx, input.userId)) {
        throw new DomainError('user.duplicate', `User ${input.userId} already exists`);
      }
      const created = await userStore.create(tx, input);
      await recordAudit(tx, { actor: actor.username, action: 'create', objectType: 'user', objectId: input.userId, details: { ...input } });
      return created;
    });
    return userView(u);
  }

  async update(actor: Actor, userId: string, input: Omit<UserInput, 'userId'>) {
    requireWrite(actor);
    const { updated: u, deviceIds } = await this.db.$transaction(async (tx) => {
      const existing = await userStore.findByUserId(tx, userId);
      if (!existing) throw DomainError.notFound('User', userId);
      const updated = await userStore.update(tx, existing.id, input);
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'user', objectId: userId, details: { ...input } });
      return { updated, deviceIds: await this.devices.ids(tx, existing.id) };
    });
    if (deviceIds.length) this.events.publish('users.changed', { deviceIds });
    return userView(u);
  }

  async remove(actor: Actor, userId: string) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await userStore.findByUserId(tx, userId);
      if (!existing) throw DomainError.notFound('User', userId);
      const devices = await this.devices.count(tx, existing.id);
      if (devices > 0) {
        throw new DomainError('user.hasDevices', `User ${userId} still owns ${devices} device(s); delete or reassign them first`);
      }
      await userStore.remove(tx, existing.id);
      await recordAudit(tx, { actor: actor.username, action: 'delete', objectType: 'user', objectId: userId });
    });
  }
}

// Admin users of the API (HTTP Basic), with roles admin (read/write) and viewer (read only).
import { requireRead, requireWrite, type Actor, type Role } from '../platform/auth/actor.js';
import { LoginLockout } from '../platform/auth/lockout.js';
import { generatePassword, hashPassword, verifyPassword } from '../platform/auth/passwords.js';
import { recordAudit } from '../audit/index.js';
import type { Db } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { CredentialChecker } from '../platform/http/basic-auth.js';
import { adminStore } from './store.js';

type AdminRow = NonNullable<Awaited<ReturnType<typeof adminStore.findById>>>;

export function adminView(a: AdminRow) {
  return { id: a.id, username: a.username, role: a.role, createdAt: a.createdAt.toISOString() };
}

export class AdminService implements CredentialChecker {
  /** Called after any change, so cached credentials of a changed admin stop working at once. */
  onChange: () => void = () => {};
  /** Failed-login counters and locks of these accounts (in memory; see src/platform/auth/lockout.ts). */
  readonly lockout = new LoginLockout();

  constructor(private readonly db: Db) {}

  async check(username: string, password: string) {
    const admin = await adminStore.findByUsername(this.db, username);
    // Still spend the hashing time for unknown users, so timing does not reveal which exist.
    const hash = admin?.passwordHash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const ok = await verifyPassword(password, hash);
    return ok && admin ? { username: admin.username, role: admin.role as Role } : null;
  }

  /**
   * First start: create the admin from MOCKIRON_ADMIN_USER / MOCKIRON_ADMIN_PASSWORD. Returns the
   * generated password when none was given, so the caller can print it once.
   */
  async ensureInitialAdmin(username: string, password: string | undefined): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await adminStore.count(this.db)) > 0) return { created: false };
    const generated = password ? undefined : generatePassword();
    await this.db.$transaction(async (tx) => {
      await adminStore.create(tx, { username, passwordHash: await hashPassword(password ?? generated!), role: 'admin' });
      await recordAudit(tx, { actor: 'system', action: 'create', objectType: 'admin', objectId: username });
    });
    return { created: true, generatedPassword: generated };
  }

  async list(actor: Actor, page: { limit: number; offset: number }, sortField: 'id' | 'username' | 'role', order: 'asc' | 'desc') {
    requireRead(actor);
    const [rows, total] = await Promise.all([adminStore.list(this.db, page, { [sortField]: order }), adminStore.count(this.db)]);
    return { total, results: rows.map(adminView) };
  }

  async get(actor: Actor, id: number) {
    requireRead(actor);
    const a = await adminStore.findById(this.db, id);
    if (!a) throw DomainError.notFound('Admin', id);
    return adminView(a);
  }

  async create(actor: Actor, input: { username: string; password: string; role: Role }) {
    requireWrite(actor);
    const passwordHash = await hashPassword(input.password);
    const created = await this.db.$transaction(async (tx) => {
      if (await adminStore.findByUsername(tx, input.username)) {
        throw new DomainError('admin.duplicate', `Admin ${input.username} already exists`);
      }
      const a = await adminStore.create(tx, { username: input.username, passwordHash, role: input.role });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'admin',
        objectId: a.id,
        details: { username: a.username, role: a.role },
      });
      return a;
    });
    return adminView(created);
  }

  async update(actor: Actor, id: number, input: { password?: string; role?: Role }) {
    requireWrite(actor);
    const passwordHash = input.password ? await hashPassword(input.password) : undefined;
    const updated = await this.db.$transaction(async (tx) => {
      const a = await adminStore.findById(tx, id);
      if (!a) throw DomainError.notFound('Admin', id);
      if (input.role === 'viewer' && a.role === 'admin' && (await adminStore.countByRole(tx, 'admin')) === 1) {
        throw new DomainError('admin.lastAdmin', 'Cannot demote the last admin');
      }
      const u = await adminStore.update(tx, id, { ...(passwordHash ? { passwordHash } : {}), ...(input.role ? { role: input.role } : {}) });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'admin',
        objectId: id,
        details: { role: input.role, passwordChanged: Boolean(passwordHash) },
      });
      return u;
    });
    this.onChange();
    return adminView(updated);
  }

  /** Lift the login lockout of an admin (another admin's way to let a locked-out colleague back in). */
  async unlock(actor: Actor, id: number) {
    requireWrite(actor);
    const a = await adminStore.findById(this.db, id);
    if (!a) throw DomainError.notFound('Admin', id);
    const unlocked = this.lockout.unlock(a.username);
    await recordAudit(this.db, {
      actor: actor.username,
      action: 'unlock',
      objectType: 'admin',
      objectId: id,
      details: { username: a.username, wasLocked: unlocked },
    });
    return { id, username: a.username, unlocked };
  }

  async remove(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const a = await adminStore.findById(tx, id);
      if (!a) throw DomainError.notFound('Admin', id);
      if (a.role === 'admin' && (await adminStore.countByRole(tx, 'admin')) === 1) {
        throw new DomainError('admin.lastAdmin', 'Cannot delete the last admin');
      }
      await adminStore.remove(tx, id);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'admin',
        objectId: id,
        details: { username: a.username },
      });
    });
    this.onChange();
  }
}

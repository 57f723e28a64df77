import { requireWrite, type Actor } from '../platform/auth/actor.js';
import type { Db } from '../platform/db/client.js';
import { listAudit, type AuditFilter } from './store.js';

export class AuditService {
  constructor(private readonly db: Db) {}

  async list(actor: Actor, filter: AuditFilter, page: { limit: number; offset: number; order: 'asc' | 'desc' }) {
    // The audit log reveals who did what: admins only, not viewers.
    requireWrite(actor);
    const { rows, total } = await listAudit(this.db, filter, page);
    return {
      total,
      results: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        actor: r.actor,
        action: r.action,
        objectType: r.objectType,
        objectId: r.objectId,
        details: JSON.parse(r.details) as unknown,
      })),
    };
  }
}

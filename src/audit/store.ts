import type { DbTx } from '../platform/db/client.js';

export interface AuditEntry {
  actor: string;
  action: string;
  objectType: string;
  objectId?: string | number | null;
  details?: Record<string, unknown>;
}

export function recordAudit(tx: DbTx, e: AuditEntry) {
  return tx.auditEvent.create({
    data: {
      actor: e.actor,
      action: e.action,
      objectType: e.objectType,
      objectId: e.objectId == null ? null : String(e.objectId),
      details: JSON.stringify(scrubSecrets(e.details ?? {})),
    },
  });
}

/** What the audit list can be narrowed by: each filter is exact, except the time range [since, until). */
export interface AuditFilter {
  action?: string;
  actor?: string;
  objectType?: string;
  objectId?: string;
  since?: Date;
  until?: Date;
}

export async function listAudit(tx: DbTx, filter: AuditFilter, page: { limit: number; offset: number; order: 'asc' | 'desc' }) {
  const at = {
    ...(filter.since ? { gte: filter.since } : {}),
    ...(filter.until ? { lt: filter.until } : {}),
  };
  const where = {
    ...(filter.action ? { action: filter.action } : {}),
    ...(filter.actor ? { actor: filter.actor } : {}),
    ...(filter.objectType ? { objectType: filter.objectType } : {}),
    ...(filter.objectId ? { objectId: filter.objectId } : {}),
    ...(filter.since || filter.until ? { at } : {}),
  };
  const [rows, total] = await Promise.all([
    tx.auditEvent.findMany({ where, orderBy: [{ at: page.order }, { id: page.order }], skip: page.offset, take: page.limit }),
    tx.auditEvent.count({ where }),
  ]);
  return { rows, total };
}

/** Keys whose values must never reach the audit log. */
const secretKeys = /password|secret|challenge|privatekey|passphrase|token/i;

export function scrubSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretKeys.test(k) ? (v == null ? v : '[redacted]') : scrubSecrets(v)]),
    );
  }
  return value;
}

import type { DbTx } from '../db/client.js';

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

export async function listAudit(
  tx: DbTx,
  filter: { objectType?: string; actor?: string; since?: Date },
  page: { limit: number; offset: number; order: 'asc' | 'desc' },
) {
  const where = {
    ...(filter.objectType ? { objectType: filter.objectType } : {}),
    ...(filter.actor ? { actor: filter.actor } : {}),
    ...(filter.since ? { at: { gte: filter.since } } : {}),
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


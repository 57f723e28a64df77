import { z } from 'zod';
import { DomainError } from '../platform/errors/index.js';
import { listEnvelope, listQuery } from '../platform/http/pagination.js';
import type { RouteTable } from '../platform/http/route.js';
import { text } from '../platform/http/validators.js';
import type { AuditService } from './service.js';

// Filters are named after the fields of the results. A query parameter that is not one of them
// is refused rather than ignored: a misspelt filter would otherwise silently widen the answer.
const auditWord = (example: string) =>
  z.string().regex(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/, `must be a name such as ${example} (letters, digits and . _ -, at most 64)`);
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z' });

const auditFilters = listQuery(['at']).extend({
  sortOrder: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['ASC', 'DESC']))
    .default('DESC'),
  action: auditWord('device.wipe').optional().describe('Only entries of this action, e.g. create, device.wipe, certificate.revoke'),
  actor: z
    .string()
    .regex(/^[A-Za-z0-9._@:-]{1,128}$/, 'must be a user name such as admin, system or device:<UDID>')
    .optional()
    .describe('Only entries made by this admin (or system, scep, device:<UDID>)'),
  objectType: auditWord('device').optional().describe('Only entries about this kind of object, e.g. device, label, vpnConfiguration'),
  objectId: text(256)
    .min(1, 'must not be empty')
    .optional()
    .describe('Only entries about this object (a device UUID, a label id, a user name, …)'),
  since: instant.optional().describe('Only entries at or after this time'),
  until: instant.optional().describe('Only entries before this time (exclusive, so consecutive windows do not overlap)'),
});
const auditQueryKeys = new Set(Object.keys(auditFilters.shape));

const auditQuery = auditFilters.refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
  path: ['until'],
  message: 'must be later than since',
});

/**
 * The first query parameter the audit list does not take. Checked on the raw query, because a
 * zod object drops some names (__proto__) before any check could see them.
 */
function unknownParameter(rawQuery: object): string | undefined {
  return Object.keys(rawQuery).find((key) => !auditQueryKeys.has(key));
}

export function registerAuditRoutes(t: RouteTable, audit: AuditService): void {
  t.add({
    method: 'get',
    path: '/audit',
    tag: 'Audit',
    summary: 'Audit log of admin writes (admin role only), newest first by default; filter by action, actor, objectType, objectId and time',
    query: auditQuery,
    results: z.array(
      z.object({
        id: z.number(),
        at: z.string(),
        actor: z.string(),
        action: z.string(),
        objectType: z.string(),
        objectId: z.string().nullable(),
        details: z.unknown(),
      }),
    ),
    handler: async ({ actor, query, req }) => {
      const unknown = unknownParameter(req.query);
      if (unknown !== undefined)
        throw DomainError.validation(
          unknown.slice(0, 64),
          `unknown query parameter; the audit list takes ${[...auditQueryKeys].join(', ')}`,
        );
      const { total, results } = await audit.list(
        actor,
        {
          action: query.action,
          actor: query.actor,
          objectType: query.objectType,
          objectId: query.objectId,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
        },
        { limit: query.limit, offset: query.offset, order: query.sortOrder === 'ASC' ? 'asc' : 'desc' },
      );
      return listEnvelope(results, total, query);
    },
  });
}

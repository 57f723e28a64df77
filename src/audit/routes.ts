import { z } from 'zod';
import { listEnvelope, listQuery } from '../http/pagination.js';
import type { RouteTable } from '../http/route.js';
import type { AuditService } from './service.js';

export function registerAuditRoutes(t: RouteTable, audit: AuditService): void {
  t.add({
    method: 'get', path: '/audit', tag: 'Audit', summary: 'Audit log of admin writes (admin role only), newest first by default',
    query: listQuery(['at']).extend({
      sortOrder: z.string().transform((s) => s.toUpperCase()).pipe(z.enum(['ASC', 'DESC'])).default('DESC'),
      objectType: z.string().max(64).optional(),
      actor: z.string().max(64).optional(),
      since: z.iso.datetime({ offset: true }).optional(),
    }),
    results: z.array(z.object({ id: z.number(), at: z.string(), actor: z.string(), action: z.string(), objectType: z.string(), objectId: z.string().nullable(), details: z.unknown() })),
    handler: async ({ actor, query }) => {
      const { total, results } = await audit.list(
        actor,
        { objectType: query.objectType, actor: query.actor, since: query.since ? new Date(query.since) : undefined },
        { limit: query.limit, offset: query.offset, order: query.sortOrder === 'ASC' ? 'asc' : 'desc' },
      );
      return listEnvelope(results, total, query);
    },
  });
}

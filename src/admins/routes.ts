import { z } from 'zod';
import { listEnvelope, listQuery } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId } from '../platform/http/validators.js';
import type { AdminService } from './service.js';

const role = z.enum(['admin', 'viewer']);
const password = z.string().min(12, 'must be at least 12 characters').max(256);
const adminResult = z.object({ id: z.number(), username: z.string(), role, createdAt: z.string() });

export function registerAdminRoutes(t: RouteTable, admins: AdminService): void {
  const tag = 'Admins';
  t.add({
    method: 'get',
    path: '/admins',
    tag,
    summary: 'List admin users (never their passwords)',
    query: listQuery(['id', 'username', 'role']),
    results: z.array(adminResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await admins.list(actor, query, query.sortField ?? 'id', query.sortOrder === 'DESC' ? 'desc' : 'asc');
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'post',
    status: 201,
    path: '/admins',
    tag,
    summary: 'Create an admin user',
    body: z.strictObject({
      username: z
        .string()
        .trim()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits and . _ @ - only'),
      password,
      role,
    }),
    results: adminResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await admins.create(actor, body) }),
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: '/admins/:id',
    tag,
    summary: 'Get an admin user',
    params,
    results: adminResult,
    handler: async ({ actor, params }) => ({ results: await admins.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: '/admins/:id',
    tag,
    summary: "Change an admin user's password or role",
    params,
    echoed: {
      readOnly: ['id', 'username'],
      ignored: ['createdAt', 'updatedAt', 'lockedUntil', 'failedLogins'],
      current: ({ params, actor }) => admins.get(actor, params.id),
    },
    body: z.strictObject({ password: password.optional(), role: role.optional() }),
    results: adminResult,
    handler: async ({ actor, params, body }) => ({ results: await admins.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: '/admins/:id/lockout',
    tag,
    params,
    summary: 'Lift the login lockout of an admin user (locks also expire by themselves after 15 minutes; address locks are not lifted)',
    results: z.object({ id: z.number(), username: z.string(), unlocked: z.boolean() }),
    handler: async ({ actor, params }) => ({ results: await admins.unlock(actor, params.id) }),
  });
  t.add({
    method: 'delete',
    path: '/admins/:id',
    tag,
    summary: 'Delete an admin user',
    params,
    handler: async ({ actor, params }) => {
      await admins.remove(actor, params.id);
      return { results: { id: params.id, deleted: true } };
    },
  });
}

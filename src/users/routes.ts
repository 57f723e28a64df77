import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { text } from '../platform/http/validators.js';
import type { UserService } from './service.js';

const userIdField = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .regex(/^[^\s/\\?#%]+$/, 'must not contain spaces, slashes, ?, # or %');
const email = z.email('must be an email address').max(254).nullable().optional();
const displayName = text(256).nullable().optional();

export const userResult = z.object({
  id: z.number(),
  userId: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  createdAt: z.string(),
});

export function registerUserRoutes(t: RouteTable, users: UserService): void {
  const tag = 'Users';
  t.add({
    method: 'post',
    status: 201,
    path: '/users',
    tag,
    summary: 'Create a user',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject({ userId: userIdField, email, displayName }),
    results: userResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await users.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: '/users',
    tag,
    summary: 'List users',
    query: listQuery(['id', 'userId', 'email', 'displayName', 'createdAt']).extend({ search: z.string().max(128).optional() }),
    results: z.array(userResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await users.list(
        actor,
        { search: query.search },
        query,
        query.sortField ?? 'id',
        query.sortOrder === 'DESC' ? 'desc' : 'asc',
      );
      return listEnvelope(results, total, query);
    },
  });
  const params = z.object({ userId: userIdField });
  t.add({
    method: 'get',
    path: '/users/:userId',
    tag,
    summary: 'Get a user',
    params,
    results: userResult,
    handler: async ({ actor, params }) => ({ results: await users.get(actor, params.userId) }),
  });
  t.add({
    method: 'put',
    path: '/users/:userId',
    tag,
    summary: 'Update a user',
    params,
    body: z.strictObject({ email, displayName }),
    results: userResult,
    handler: async ({ actor, params, body }) => ({ results: await users.update(actor, params.userId, body) }),
  });
  t.add({
    method: 'delete',
    path: '/users/:userId',
    tag,
    summary: 'Delete a user without devices',
    params,
    handler: async ({ actor, params }) => {
      await users.remove(actor, params.userId);
      return { results: { userId: params.userId, deleted: true } };
    },
  });
}

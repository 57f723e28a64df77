import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { text } from '../platform/http/validators.js';
import type { UserService, userView } from './service.js';

function coreUserView(u: ReturnType<typeof userView>): z.infer<typeof coreUserResult> {
  return {
    id: u.id,
    principal: u.userId,
    userId: u.userId,
    email: u.email,
    displayName: u.displayName,
    firstName: null,
    lastName: null,
    enabled: true,
    source: 'LOCAL',
    deviceCount: u.deviceCount ?? 0,
  };
}

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

/**
 * A user as Core's /authorized/users lists it. Core's principal is our userId; every mockiron
 * user is local and enabled; first and last names are not kept, so they are null.
 */
export const coreUserResult = z.object({
  id: z.number(),
  principal: z.string(),
  userId: z.string(),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  firstName: z.null(),
  lastName: z.null(),
  enabled: z.literal(true),
  source: z.literal('LOCAL'),
  deviceCount: z.number(),
});

const coreQuery = z.string().max(255).optional().describe('Text found in the user id, display name or email (empty: everyone)');

export function registerUserRoutes(t: RouteTable, users: UserService): void {
  const tag = 'Users';
  t.add({
    method: 'get',
    path: '/authorized/users',
    tag,
    summary: 'List users as MobileIron Core does (principal, email, displayName, enabled); query= matches id, name or email',
    query: listQuery(['id', 'userId', 'email', 'displayName']).extend({ query: coreQuery }),
    results: z.array(coreUserResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await users.list(
        actor,
        { search: query.query?.trim() || undefined },
        query,
        query.sortField ?? 'id',
        query.sortOrder === 'DESC' ? 'desc' : 'asc',
      );
      return listEnvelope(results.map(coreUserView), total, query);
    },
  });
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
    echoed: {
      readOnly: ['id', 'userId'],
      ignored: ['createdAt', 'updatedAt', 'deviceCount'],
      current: ({ params, actor }) => users.get(actor, params.userId),
    },
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

/**
 * Core's LDAP lookup, under /admins: registered before the admin routes, whose /admins/:id would
 * otherwise take the path.
 */
export function registerLdapRoutes(t: RouteTable, users: UserService): void {
  const tag = 'Users';
  t.add({
    method: 'get',
    path: '/admins/ldap_entities',
    tag,
    summary:
      'LDAP lookup as MobileIron Core does it. mockiron has no LDAP directory: type=user answers the local users that match query, group and ou answer none',
    query: listQuery(['id', 'userId']).extend({ type: z.enum(['user', 'group', 'ou']).default('user'), query: coreQuery }),
    results: z.array(coreUserResult.extend({ type: z.literal('user') })),
    handler: async ({ actor, query }) => {
      const { total, results } = await users.ldapEntities(
        actor,
        query.type,
        query.query?.trim() || undefined,
        query,
        query.sortField ?? 'id',
        query.sortOrder === 'DESC' ? 'desc' : 'asc',
      );
      return listEnvelope(
        results.map((u) => ({ type: 'user' as const, ...coreUserView(u) })),
        total,
        query,
      );
    },
  });
}

import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { bundleId, intId, name } from '../platform/http/validators.js';
import type { AppService } from './service.js';

const platform = z.enum(['iOS', 'Android']);
const fields = {
  name: name(128),
  bundleId,
  platform: platform.default('iOS'),
  version: z
    .string()
    .trim()
    .regex(/^[0-9A-Za-z.\-]{1,32}$/, 'must be a version such as 1.2.3')
    .nullish(),
  iTunesStoreId: z
    .string()
    .trim()
    .regex(/^\d{1,12}$/, 'must be the numeric App Store id')
    .nullish(),
  perAppVpnConfigId: intId.nullish().describe('Explicit per-app VPN configuration for this app'),
};
const appResult = z
  .object({
    id: z.number(),
    name: z.string(),
    bundleId: z.string(),
    platform,
    perAppVpnConfigId: z.number().nullable(),
    labelIds: z.array(z.number()),
  })
  .loose();

export function registerAppRoutes(t: RouteTable, apps: AppService): void {
  const tag = 'App catalog';
  t.add({
    method: 'post',
    status: 201,
    path: '/appstore/apps',
    tag,
    summary: 'Add an app to the catalog',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject(fields),
    results: appResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await apps.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: '/appstore/apps',
    tag,
    summary: 'List catalog apps (platform=, labelId= filters)',
    query: listQuery(['id', 'name', 'bundleId', 'platform']).extend({ platform: platform.optional(), labelId: intId.optional() }),
    results: z.array(appResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await apps.list(
        actor,
        { platform: query.platform, labelId: query.labelId },
        query,
        query.sortField ?? 'id',
        query.sortOrder === 'DESC' ? 'desc' : 'asc',
      );
      return listEnvelope(results, total, query);
    },
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: '/appstore/apps/:id',
    tag,
    summary: 'Get a catalog app',
    params,
    results: appResult,
    handler: async ({ actor, params }) => ({ results: await apps.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: '/appstore/apps/:id',
    tag,
    summary: 'Update a catalog app',
    params,
    body: z.strictObject({ ...fields, name: fields.name.optional(), bundleId: fields.bundleId.optional(), platform: platform.optional() }),
    results: appResult,
    handler: async ({ actor, params, body }) => ({ results: await apps.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: '/appstore/apps/:id',
    tag,
    summary: 'Remove an app from the catalog',
    params,
    handler: async ({ actor, params }) => {
      await apps.remove(actor, params.id);
      return { results: { id: params.id, deleted: true } };
    },
  });
  const labelParams = z.object({ appId: intId, labelId: intId });
  t.add({
    method: 'put',
    path: '/appstore/apps/:appId/labels/:labelId',
    tag,
    summary: 'Apply an app to a label',
    params: labelParams,
    results: appResult,
    handler: async ({ actor, params }) => ({ results: await apps.setLabel(actor, params.appId, params.labelId, true) }),
  });
  t.add({
    method: 'delete',
    path: '/appstore/apps/:appId/labels/:labelId',
    tag,
    summary: 'Remove an app from a label',
    params: labelParams,
    results: appResult,
    handler: async ({ actor, params }) => ({ results: await apps.setLabel(actor, params.appId, params.labelId, false) }),
  });
}

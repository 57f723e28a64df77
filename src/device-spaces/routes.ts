import { z } from 'zod';
import { pageArray, spaceId, wholeList } from '../platform/http/pagination.js';
import type { RouteTable } from '../platform/http/route.js';
import type { DeviceSpaceService } from './service.js';

const deviceSpace = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  parentId: z.number().int().nullable(),
  criteria: z.string().nullable(),
  deviceCount: z.number().int(),
});

const field = z.object({
  name: z.string(),
  type: z.string(),
  description: z.string().optional(),
  values: z.array(z.string()).optional(),
});

// PowerShell sends booleans as True/False.
const booleanParam = z
  .string()
  .max(5)
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['true', 'false']))
  .transform((s) => s === 'true');

export function registerDeviceSpaceRoutes(t: RouteTable, spaces: DeviceSpaceService): void {
  const tag = 'Device spaces';
  t.add({
    method: 'get',
    path: '/device_spaces/mine',
    tag,
    // No paging parameters: one Oomnitza connector version sends limit={limit}&offset={offset} unformatted, and the list is short.
    summary: "The device spaces the caller administers (mockiron has one: id 1, Global); Core's scripts read results[].id",
    list: true,
    results: z.array(deviceSpace),
    handler: async ({ actor }) => wholeList(await spaces.mine(actor)),
  });
  t.add({
    method: 'get',
    path: '/device_spaces',
    tag,
    summary: 'All device spaces; excludeDeviceCount=true answers deviceCount 0 without counting, as Core does',
    query: z.object({
      adminDeviceSpaceId: spaceId,
      excludeDeviceCount: booleanParam.optional(),
      limit: z.coerce.number().int().min(0).max(10_000).default(10_000),
      offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
    }),
    results: z.array(deviceSpace),
    handler: async ({ actor, query }) =>
      pageArray(await spaces.list(actor, { excludeDeviceCount: query.excludeDeviceCount ?? false }), query),
  });
  t.add({
    method: 'get',
    path: '/device_spaces/criteria',
    tag,
    summary: 'Device fields of a space, by name: the same list as GET /devices/search_fields (clients pass the names as fields=)',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    list: true,
    results: z.array(field),
    handler: async ({ actor }) => wholeList(await spaces.criteria(actor)),
  });
}

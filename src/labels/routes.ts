import { z } from 'zod';
import { pageArray, spaceId, wholeList } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId, name, text, uuidParam } from '../platform/http/validators.js';
import { deviceFields } from '../devices/index.js';
import type { LabelService } from './service.js';

const labelResult = z.object({
  id: z.number(),
  name: z.string(),
  description: z.string(),
  isStatic: z.boolean(),
  isSystem: z.boolean(),
  criteria: z.string().nullable(),
  deviceCount: z.number().optional(),
});
const criteria = z.string().max(2000, 'criteria must be at most 2000 characters');
const labelName = name(64).refine((s) => !/[/\\?#%]/.test(s), 'must not contain / \\ ? # or %');

export function registerLabelRoutes(t: RouteTable, labels: LabelService): void {
  const tag = 'Labels';
  t.add({
    method: 'post',
    status: 201,
    path: '/labels',
    tag,
    summary: 'Create a manual (static:true) or filter (static:false, criteria) label',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject({
      name: labelName,
      description: text(1024).optional(),
      static: z.boolean().default(true),
      criteria: criteria.nullish(),
    }),
    results: labelResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await labels.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: '/labels/label_summary',
    tag,
    summary: 'All labels with criteria and current device counts',
    query: z.object({
      adminDeviceSpaceId: spaceId,
      limit: z.coerce.number().int().min(1).max(200).default(50),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    results: z.array(labelResult),
    handler: async ({ actor, query }) => pageArray(await labels.summary(actor), query),
  });
  t.add({
    method: 'post',
    path: '/labels/preview',
    tag,
    readOnly: true,
    summary: 'Try criteria: match count and the first matching devices, or the parse error',
    body: z.strictObject({ criteria, limit: z.number().int().min(1).max(100).default(10) }),
    handler: async ({ actor, body }) => {
      const p = await labels.preview(actor, body.criteria, body.limit);
      return { results: { criteria: p.criteria, totalCount: p.totalCount, devices: p.devices.map(deviceFields) } };
    },
  });
  t.add({
    method: 'delete',
    path: '/labels',
    tag,
    errors: [404],
    summary: 'Delete labels (assignments to devices, VPN configurations and apps go with them)',
    body: z.strictObject({ labelIds: z.array(intId).min(1).max(500), reason: text(1024).optional() }),
    handler: async ({ actor, body }) => ({ results: await labels.remove(actor, [...new Set(body.labelIds)], body.reason) }),
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: '/labels/:id',
    tag,
    summary: 'Get a label with its device count',
    params,
    results: labelResult,
    handler: async ({ actor, params }) => ({ results: await labels.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: '/labels/:id',
    tag,
    summary: 'Rename a label or change its description or criteria',
    params,
    body: z.strictObject({ name: labelName.optional(), description: text(1024).optional(), criteria: criteria.nullish() }),
    results: labelResult,
    handler: async ({ actor, params, body }) => ({ results: await labels.update(actor, params.id, body) }),
  });
  for (const op of ['add', 'remove'] as const) {
    t.add({
      method: 'put',
      path: `/devices/labels/:labelName/${op}`,
      tag,
      summary: op === 'add' ? 'Apply a manual label (by name) to devices' : 'Remove a manual label (by name) from devices',
      params: z.object({ labelName: z.string().min(1).max(64) }),
      body: z.strictObject({ deviceUuids: z.array(uuidParam).min(1).max(1000) }),
      list: true,
      handler: async ({ actor, params, body }) => {
        const results = await labels.apply(actor, params.labelName, body.deviceUuids, op);
        return wholeList(results);
      },
    });
  }
}

import { z } from 'zod';
import { pageArray, spaceId } from '../platform/http/pagination.js';
import { DomainError } from '../platform/errors/index.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId, name, text, uuidParam } from '../platform/http/validators.js';
import { fieldsOf } from '../devices/index.js';
import type { LabelService, LabelSortField } from './service.js';

const labelResult = z.object({
  id: z.number(),
  name: z.string(),
  description: z.string(),
  isStatic: z.boolean(),
  staticLabel: z.boolean().describe('Same as isStatic: Core answers a create with staticLabel'),
  criteria: z.string().nullable(),
  deviceCount: z.number().optional(),
  deviceSpaceId: z.number(),
  deviceSpaceName: z.string(),
  deviceSpacePath: z.string(),
  rowType: z.enum(['ADMIN', 'SYSTEM']).describe('SYSTEM for the pre-defined labels, ADMIN for those an admin made'),
  isSystem: z.boolean(),
});
const inSpace = z.object({ adminDeviceSpaceId: spaceId });
const criteria = z.string().max(2000, 'criteria must be at most 2000 characters');
const labelName = name(64).refine((s) => !/[/\\?#%]/.test(s), 'must not contain / \\ ? # or %');
const deviceSpaceId = z
  .number()
  .int()
  .refine((n) => n === 1, 'only device space 1 exists')
  .describe('Device space of the label; 1 is the only space');

// Core's names for a label's kind: create takes static, answers say isStatic and staticLabel; any may be sent.
const kind = {
  static: z.boolean().optional(),
  isStatic: z.boolean().optional(),
  staticLabel: z.boolean().optional(),
};

/** The one kind the aliases say, if any; two that disagree are refused. */
function labelKind(body: { static?: boolean; isStatic?: boolean; staticLabel?: boolean }): boolean | undefined {
  const said = (['static', 'isStatic', 'staticLabel'] as const).filter((k) => body[k] !== undefined);
  const values = new Set(said.map((k) => body[k]));
  if (values.size > 1) throw DomainError.validation(said[1]!, `${said.join(', ')} disagree; send one of them`);
  return said.length ? body[said[0]!] : undefined;
}

const labelSortFields = ['id', 'name', 'description', 'isStatic', 'deviceCount', 'rowType'] as const satisfies readonly LabelSortField[];

const applyAnswer = z.object({
  successful: z.boolean().describe('Every named device was handled'),
  results: z.object({
    records: z.array(
      z.object({
        label: z.string(),
        device: z.object({
          uuid: z.string(),
          status: z.enum(['SUCCESS', 'FAILED']),
          message: z.string(),
          failureCode: z.string().nullable().describe('null on success; DEVICE_NOT_FOUND for an unknown device'),
        }),
      }),
    ),
  }),
});

export function registerLabelRoutes(t: RouteTable, labels: LabelService): void {
  const tag = 'Labels';
  t.add({
    method: 'post',
    status: 201,
    path: '/labels',
    tag,
    summary: 'Create a manual (static:true) or filter (static:false, criteria) label; isStatic and staticLabel are accepted for static',
    query: inSpace,
    body: z.strictObject({
      name: labelName,
      description: text(1024).nullish(),
      ...kind,
      criteria: criteria.nullish(),
      deviceSpaceId: deviceSpaceId.optional(),
    }),
    results: labelResult,
    handler: async ({ actor, body }) =>
      new Reply(201, {
        results: await labels.create(actor, {
          name: body.name,
          description: body.description ?? undefined,
          static: labelKind(body),
          criteria: body.criteria,
        }),
      }),
  });
  t.add({
    method: 'get',
    path: '/labels/label_summary',
    tag,
    summary: 'All labels with criteria and current device counts (limit defaults to 200, the most Core allows, for clients that send none)',
    query: z.object({
      adminDeviceSpaceId: spaceId,
      limit: z.coerce.number().int().min(0).max(200).default(200),
      offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
      sortField: z.enum(labelSortFields).default('id'),
      sortOrder: z
        .string()
        .max(4)
        .transform((s) => s.toUpperCase())
        .pipe(z.enum(['ASC', 'DESC']))
        .default('ASC'),
    }),
    results: z.array(labelResult),
    handler: async ({ actor, query }) =>
      pageArray(await labels.summary(actor, { field: query.sortField, order: query.sortOrder === 'DESC' ? 'desc' : 'asc' }), query),
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
      return { results: { criteria: p.criteria, totalCount: p.totalCount, devices: p.devices.map(fieldsOf) } };
    },
  });
  t.add({
    method: 'delete',
    path: '/labels',
    tag,
    errors: [404],
    query: inSpace,
    summary:
      'Delete labels (assignments to devices, VPN configurations and apps go with them); Core clients send DELETE /labels/ with deviceSpaceId',
    body: z.strictObject({
      labelIds: z.array(intId).min(1).max(500),
      reason: text(1024).optional(),
      deviceSpaceId: deviceSpaceId.optional(),
    }),
    handler: async ({ actor, body }) => ({ results: await labels.remove(actor, [...new Set(body.labelIds)], body.reason) }),
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: '/labels/:id',
    tag,
    summary: 'Get a label with its device count',
    params,
    query: inSpace,
    results: labelResult,
    handler: async ({ actor, params }) => ({ results: await labels.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: '/labels/:id',
    tag,
    summary:
      'Rename a label or change its description or criteria. A label as GET answered it may be sent back: read-only fields must be unchanged (deviceCount is ignored)',
    params,
    query: inSpace,
    body: z.strictObject({
      name: labelName.optional(),
      description: text(1024).nullish(),
      criteria: criteria.nullish(),
      ...kind,
      id: z
        .union([
          z.number().int(),
          z
            .string()
            .regex(/^-?\d{1,10}$/)
            .transform(Number),
        ])
        .optional(),
      deviceCount: z.number().int().min(0).optional(),
      deviceSpaceId: z.number().int().optional(),
      deviceSpaceName: text(128).optional(),
      deviceSpacePath: text(256).optional(),
      rowType: text(16).optional(),
      isSystem: z.boolean().optional(),
    }),
    results: labelResult,
    handler: async ({ actor, params, body }) => {
      // Every other field is read-only (the kind under each of its names, compared one by one); deviceCount is ignored.
      const { name, description, criteria, deviceCount: _ignored, ...readOnly } = body;
      return { results: await labels.update(actor, params.id, { name, description: description ?? undefined, criteria, readOnly }) };
    },
  });
  for (const op of ['add', 'remove'] as const) {
    t.add({
      method: 'put',
      path: `/devices/labels/:labelName/${op}`,
      tag,
      summary:
        (op === 'add' ? 'Apply a manual label (by name) to devices' : 'Remove a manual label (by name) from devices') +
        ": Core's answer, successful and a record per device",
      params: z.object({ labelName: z.string().min(1).max(64) }),
      query: inSpace,
      body: z.strictObject({ deviceUuids: z.array(uuidParam).min(1).max(1000) }),
      answer: applyAnswer,
      handler: async ({ actor, params, body }) => {
        const { successful, records } = await labels.apply(actor, params.labelName, body.deviceUuids, op);
        return { successful, results: { records } };
      },
    });
  }
}

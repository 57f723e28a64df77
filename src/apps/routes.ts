import { z } from 'zod';
import { DomainError } from '../platform/errors/index.js';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { multipartBody, uploadedFile } from '../platform/http/multipart.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { bundleId, intId, name, text } from '../platform/http/validators.js';
import { APP_DATA_MAX_BYTES, ICON_MAX_BYTES, INHOUSE_MAX_BYTES, type AppService } from './service.js';

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
    appId: z.string().describe("Core's name for the bundle id"),
    platform,
    platformType: z.enum(['IOS', 'ANDROID']),
    platformCode: z.enum(['I', 'A']),
    source: z.enum(['STORE', 'INHOUSE']),
    version: z.string().nullable(),
    displayVersion: z.string().nullable(),
    altVersion: z.null(),
    provisioningProfile: z.null(),
    perAppVpnConfigId: z.number().nullable(),
    labelIds: z.array(z.number()),
  })
  .loose();

/** Core's success messages: clients look for "success" in messageKey (the fastlane plugin). */
const coreMessages = z.array(z.object({ type: z.literal('Info'), messageKey: z.string(), localizedMessage: z.string() }));
const info = (messageKey: string, localizedMessage: string) => [{ type: 'Info' as const, messageKey, localizedMessage }];

/** adminDeviceSpaceId also as a multipart text part (the Ruby MobileIron::Client sends it there). */
const spaceField = z
  .string()
  .max(10)
  .optional()
  .refine((v) => v === undefined || v.trim() === '1', 'only admin device space 1 exists');

// Core's appData has more fields than mockiron keeps; the others are named back as ignored.
const appDataJson = z.looseObject({ name: name(128).optional(), description: text(4000).nullish() });
const keptAppData = new Set(['name', 'description']);

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
    body: z.strictObject({
      ...fields,
      name: fields.name.optional(),
      bundleId: fields.bundleId.optional(),
      platform: platform.optional(),
      description: text(4000).nullish(),
    }),
    echoed: {
      readOnly: [
        'id',
        'appId',
        'platformType',
        'platformCode',
        'source',
        'displayVersion',
        'altVersion',
        'provisioningProfile',
        'labelIds',
      ],
      ignored: ['installerSha256', 'installerSize', 'notifiedAt', 'createdAt', 'updatedAt'],
      current: ({ params, actor }) => apps.get(actor, params.id),
    },
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
  const labelAnswer = z.object({ results: appResult, messages: coreMessages });
  t.add({
    method: 'put',
    path: '/appstore/apps/:appId/labels/:labelId',
    tag,
    summary: 'Apply an app to a label',
    params: labelParams,
    query: z.object({ adminDeviceSpaceId: spaceId }),
    answer: labelAnswer,
    handler: async ({ actor, params }) => ({
      results: await apps.setLabel(actor, params.appId, params.labelId, true),
      messages: info('com.mobileiron.vsp.messages.appstore.label.apply.success', `App ${params.appId} applied to label ${params.labelId}`),
    }),
  });
  t.add({
    method: 'delete',
    path: '/appstore/apps/:appId/labels/:labelId',
    tag,
    summary: 'Remove an app from a label',
    params: labelParams,
    query: z.object({ adminDeviceSpaceId: spaceId }),
    answer: labelAnswer,
    handler: async ({ actor, params }) => ({
      results: await apps.setLabel(actor, params.appId, params.labelId, false),
      messages: info(
        'com.mobileiron.vsp.messages.appstore.label.remove.success',
        `App ${params.appId} removed from label ${params.labelId}`,
      ),
    }),
  });

  t.add({
    method: 'post',
    path: '/appstore/inhouse',
    tag,
    summary: 'Upload an in-house iOS app (.ipa): multipart part `installer`; a new version of an uploaded app keeps its id and labels',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    bodyMediaType: 'multipart/form-data',
    bodyParsers: [
      multipartBody({
        maxBytes: INHOUSE_MAX_BYTES + 64 * 1024,
        files: { installer: INHOUSE_MAX_BYTES },
        fields: { adminDeviceSpaceId: 10 },
      }),
    ],
    body: z.strictObject({
      installer: uploadedFile('The .ipa (a zip with Payload/<Name>.app/Info.plist)'),
      adminDeviceSpaceId: spaceField,
    }),
    results: appResult,
    handler: async ({ actor, body }) => ({ results: await apps.uploadInhouse(actor, body.installer) }),
  });
  t.add({
    method: 'post',
    path: '/appstore/apps/:id',
    tag,
    summary: "Update an app's data: multipart part `appData` (JSON: name, description) and an optional PNG `icon`",
    params,
    query: z.object({ adminDeviceSpaceId: spaceId }),
    bodyMediaType: 'multipart/form-data',
    bodyParsers: [
      multipartBody({
        maxBytes: APP_DATA_MAX_BYTES + ICON_MAX_BYTES + 16 * 1024,
        files: { icon: ICON_MAX_BYTES },
        fields: { appData: APP_DATA_MAX_BYTES, adminDeviceSpaceId: 10 },
      }),
    ],
    body: z.strictObject({
      appData: z.string().describe('JSON object: name, description'),
      icon: uploadedFile('PNG icon').optional(),
      adminDeviceSpaceId: spaceField,
    }),
    answer: z.object({ results: appResult, messages: coreMessages }),
    handler: async ({ actor, params, body }) => {
      let json: unknown;
      try {
        json = JSON.parse(body.appData);
      } catch {
        throw DomainError.validation('appData', 'must be a JSON object');
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        throw DomainError.validation('appData', 'must be a JSON object');
      const data = appDataJson.safeParse(json);
      if (!data.success) {
        const issue = data.error.issues[0]!;
        throw DomainError.validation(['appData', ...issue.path.map(String)].join('.'), issue.message);
      }
      const { name: newName, description } = data.data;
      const ignored = Object.keys(json).filter((k) => !keptAppData.has(k));
      const results = await apps.updateAppData(
        actor,
        params.id,
        {
          ...(newName !== undefined ? { name: newName } : {}),
          ...(description !== undefined ? { description } : {}),
        },
        body.icon?.data,
      );
      return {
        results,
        messages: [
          ...info('com.mobileiron.vsp.messages.appstore.app.update.success', `App ${params.id} updated`),
          ...(ignored.length
            ? info(
                'com.mockiron.messages.appstore.appData.ignored',
                `appData fields mockiron does not keep: ${ignored.slice(0, 20).join(', ')}`,
              )
            : []),
        ],
      };
    },
  });
  t.add({
    method: 'post',
    path: '/appstore/apps/:appId/message',
    tag,
    summary: "Notify the devices in the app's labels: reconcile them now (queues InstallApplication where missing) and push them (pushApp)",
    params: z.object({ appId: intId }),
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject({
      installIncluded: z.boolean().default(true),
      updateIncluded: z.boolean().default(true),
      pushApp: z.boolean().default(true),
    }),
    answer: z.object({
      messages: coreMessages,
      results: z.object({
        appId: z.number(),
        bundleId: z.string(),
        labelIds: z.array(z.number()),
        devices: z.number().describe('ACTIVE devices in the labels'),
        commands: z.number().describe('Commands queued for them'),
        pushed: z.number().describe('Pushes sent (devices with a push token)'),
      }),
    }),
    handler: async ({ actor, params, body }) => {
      const results = await apps.notify(actor, params.appId, body);
      return {
        messages: info(
          'com.mobileiron.vsp.messages.appstore.message.success',
          `${results.devices} device(s) notified: ${results.commands} command(s) queued, ${results.pushed} push(es) sent`,
        ),
        results,
      };
    },
  });
}

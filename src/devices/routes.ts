import { z } from 'zod';
import { DEVICE_STATUSES } from '../lib/criteria/fields.js';
import { listEnvelopeText, listQuery, spaceId, wholeList } from '../platform/http/pagination.js';
import { DomainError } from '../platform/errors/index.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId, text, uuidParam } from '../platform/http/validators.js';
import { isCustomAttributeName, sortColumns } from './fields.js';
import type { DeviceService } from './service.js';
import type { DeviceImporter } from './bulk.js';
import { registerBulkImportRoutes } from './bulk-routes.js';

const osVersion = z
  .string()
  .trim()
  .regex(/^\d{1,4}(\.\d{1,4}){0,3}$/, 'must be a version such as 9.3.1');
const model = text(64).trim();
const serialNumber = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and - only (max 64)');
const udid = z
  .string()
  .trim()
  .regex(/^[0-9A-Fa-f-]{24,64}$/, 'must be a device UDID (hex digits and -)');
const imei = z
  .string()
  .trim()
  .regex(/^[0-9 ]{14,19}$/, 'must be 14 to 17 digits');
const owner = z.enum(['COMPANY', 'EMPLOYEE']);
const wifiMac = z
  .string()
  .trim()
  .regex(/^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address such as a4:83:e7:12:34:56');
const ipAddress = z
  .string()
  .trim()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]{2,45})$/, 'must be an IPv4 or IPv6 address');
const phoneNumber = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ()./-]{3,32}$/, 'must be a phone number (digits, spaces, + ( ) . / -, max 32)');
const platform = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.enum(['iOS', 'Android', 'I', 'A', 'ios', 'android', 'IOS', 'ANDROID']))
  .transform((p): 'iOS' | 'Android' => (p.toLowerCase().startsWith('i') ? 'iOS' : 'Android'));
const userIdRef = z.string().trim().min(1).max(128);
const customName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'custom attribute names: letters, digits, _ . - (max 64)')
  .refine(isCustomAttributeName, '__proto__, constructor and prototype are reserved names');

export const deviceBody = z.strictObject({
  platform,
  osVersion: osVersion.nullish(),
  model: model.nullish(),
  manufacturer: text(64).nullish(),
  deviceName: text(128).nullish(),
  serialNumber: serialNumber.nullish(),
  udid: udid.nullish(),
  imei: imei.nullish(),
  wifiMac: wifiMac.nullish(),
  ipAddress: ipAddress.nullish(),
  phoneNumber: phoneNumber.nullish(),
  owner: owner.optional(),
  userId: userIdRef.nullish(),
});

/** Core's documented bounds on fields= (1 to 512 names of at most 320 characters each). */
const maxFieldNames = 512;
const maxFieldNameLength = 320;

// Names are trimmed (Chronicle's list has newlines between names) and blanks dropped; which
// names are known is the service's business (unknown ones are warned about, see DeviceService.list).
const fieldsParam = z
  .string()
  // Under Node's 16 KB header limit, so an over-long list gets this envelope rather than a bare 431
  .max(12_000)
  .transform((s) =>
    s
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().max(maxFieldNameLength, `a field name is at most ${maxFieldNameLength} characters`))
      .max(maxFieldNames, `at most ${maxFieldNames} field names`),
  )
  .optional()
  .describe(
    'Comma-separated field names to return, e.g. common.uuid,common.model (whitespace around names ignored, duplicates answered once). ' +
      'Every known name requested is in every result (null when unknown). Names not in the catalogue are reported in messages[] ' +
      '(type WARN, with a suggestion) and left out; if none is known, or one is __proto__/constructor/prototype, the answer is 400.',
  );

/** Parameters Core's own admin portal sends with a device search; accepted and ignored. */
const portalParams = {
  adminDeviceSpace: z.string().max(32).optional().describe("Sent by Core's admin portal; ignored"),
  count: z.string().max(32).optional().describe("Sent by Core's admin portal and older clients; ignored (use limit)"),
  page: z.string().max(32).optional().describe("Sent by Core's admin portal; ignored (use offset)"),
  start: z.string().max(32).optional().describe("Sent by Core's admin portal; ignored (use offset)"),
};

const warning = z.object({ type: z.literal('WARN'), messageKey: z.string(), localizedMessage: z.string(), field: z.string() });

const deviceFieldsResult = z.record(z.string(), z.unknown()).describe('Flat object keyed by MobileIron field names');

export function registerDeviceRoutes(t: RouteTable, devices: DeviceService, imports: DeviceImporter): void {
  const tag = 'Devices';
  t.add({
    method: 'post',
    status: 201,
    path: '/devices',
    tag,
    summary: 'Register a device (status starts VERIFICATION_PENDING)',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: deviceBody,
    results: deviceFieldsResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await devices.register(actor, body) }),
  });
  registerBulkImportRoutes(t, imports);
  const searchQuery = {
    // Core's admin portal and clients written against it send labelId=-1 for "no label filter".
    labelId: z
      .union([z.literal('-1').transform(() => undefined), intId])
      .optional()
      .describe('A label id to filter by; -1 (as Core clients send) means no label filter'),
    query: z
      .string()
      .max(2000)
      .optional()
      .describe(
        'Criteria expression, e.g. common.platform = "iOS" AND common.os_version >= 9.3 (max 255 characters). Field names may be quoted ' +
          '("common.status"="ACTIVE") or written without their namespace when only one field has that name ("SerialNumber", retired); ' +
          'booleans may be quoted and capitalised ("True"). On GET /devices, a lone word or quoted text (query=samsung) is a free-text ' +
          'search (also on /devices/count): it matches devices whose uuid, platform name, model, manufacturer, serial number, IMEI, Wi-Fi MAC, IP address, ' +
          'phone number, device name, user id, email or display name contains it, ignoring case. Empty: every device.',
      ),
  };
  t.add({
    method: 'get',
    path: '/devices',
    tag,
    errors: [404],
    summary:
      'List or search devices (fields= projection, labelId= filter, query= criteria or free text, sortField= any sortable catalogue field; ' +
      'version fields sort as versions). Unknown fields= names are reported in messages[] as warnings; all unknown answers 400',
    query: listQuery([...sortColumns.keys()] as [string, ...string[]]).extend({ fields: fieldsParam, ...searchQuery, ...portalParams }),
    answer: z.object({
      totalCount: z.number().int(),
      resultCount: z.number().int(),
      hasMore: z.boolean(),
      results: z.array(deviceFieldsResult),
      messages: z.array(warning).optional().describe('A WARN entry per fields= name not in the catalogue'),
    }),
    handler: async ({ actor, query }) => {
      const { total, results, unknownFields } = await devices.listText(actor, {
        labelId: query.labelId,
        query: query.query,
        fields: query.fields,
        page: query,
        sortField: query.sortField,
        order: query.sortOrder === 'DESC' ? 'desc' : 'asc',
      });
      // The results come as JSON text (kept per device while it is unchanged); the envelope around them is written here.
      let envelope = listEnvelopeText(results, total, query);
      if (unknownFields.length > 0) {
        const messages = unknownFields.map(({ name, suggestion }) => ({
          type: 'WARN' as const,
          messageKey: 'com.mockiron.messages.devices.unknownField',
          localizedMessage: `fields: unknown field ${JSON.stringify(name)} left out${suggestion ? `; did you mean ${suggestion}?` : ''}`,
          field: name,
        }));
        envelope = `${envelope.slice(0, -1)},"messages":${JSON.stringify(messages)}}`;
      }
      return new Reply(200, envelope, { 'Content-Type': 'application/json; charset=utf-8' });
    },
  });
  t.add({
    method: 'get',
    path: '/devices/count',
    tag,
    errors: [404],
    summary: 'Count devices matching query= and/or labelId= (the count at the top level, where Core clients read it, and in results)',
    // Clients send fields= with a count too (infoklog's XSOAR draft): accepted, ignored.
    query: z.object({ adminDeviceSpaceId: spaceId, ...searchQuery, fields: z.string().max(16_000).optional().describe('Ignored') }),
    answer: z.object({ totalCount: z.number().int(), results: z.object({ totalCount: z.number().int() }) }),
    handler: async ({ actor, query }) => {
      const totalCount = await devices.count(actor, { labelId: query.labelId, query: query.query });
      return { totalCount, results: { totalCount } };
    },
  });
  t.add({
    method: 'get',
    path: '/devices/search_fields',
    tag,
    summary:
      'The device field catalogue: every field usable in query=, fields= and filter labels, with its type, enum values, what fills it here, and whether it sorts',
    // Clients send query= here too (the Axonius adapter): accepted, ignored.
    query: z.object({ adminDeviceSpaceId: spaceId, query: z.string().max(2000).optional().describe('Ignored') }),
    list: true,
    results: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['string', 'number', 'boolean', 'enum', 'version', 'date']),
        description: z.string(),
        values: z.array(z.string()).optional(),
        filledBy: z.enum(['registration', 'DeviceInformation', 'SecurityInfo', 'derived', 'not reported']),
        source: z.string(),
        sortable: z.boolean(),
      }),
    ),
    handler: async ({ actor }) => {
      const fields = await devices.searchFields(actor);
      return wholeList(fields);
    },
  });
  const params = z.object({ uuid: uuidParam });
  t.add({
    method: 'get',
    path: '/devices/:uuid/details',
    tag,
    summary: 'All fields of a device as {name,value} pairs',
    params,
    results: z.array(z.object({ name: z.string(), value: z.string().nullable() })),
    handler: async ({ actor, params }) => ({ results: await devices.details(actor, params.uuid) }),
  });
  t.add({
    method: 'get',
    path: '/devices/:uuid/labels',
    tag,
    summary: 'Labels a device is in (manual, filter and system)',
    params,
    list: true,
    handler: async ({ actor, params }) => {
      const labels = await devices.labelsOf(actor, params.uuid);
      return wholeList(labels);
    },
  });
  t.add({
    method: 'put',
    path: '/devices/:uuid/attributes',
    tag,
    summary: 'Update device fields and custom.device.* attributes',
    params,
    body: z.strictObject({
      osVersion: osVersion.nullish(),
      model: model.nullish(),
      manufacturer: text(64).nullish(),
      deviceName: text(128).nullish(),
      serialNumber: serialNumber.nullish(),
      imei: imei.nullish(),
      wifiMac: wifiMac.nullish(),
      ipAddress: ipAddress.nullish(),
      phoneNumber: phoneNumber.nullish(),
      owner: owner.optional(),
      status: z.enum(DEVICE_STATUSES).optional(),
      compliant: z.boolean().optional(),
      quarantined: z.boolean().optional(),
      userId: userIdRef.nullish(),
      custom: z.record(customName, text(1024).nullable()).optional(),
    }),
    results: deviceFieldsResult,
    handler: async ({ actor, params, body, req }) => {
      // zod drops a "__proto__" key from a record without a word; refuse it like the other reserved names.
      const custom = (req.body as { custom?: unknown } | undefined)?.custom;
      if (custom && typeof custom === 'object' && Object.hasOwn(custom, '__proto__')) {
        throw DomainError.validation('custom.__proto__', '__proto__, constructor and prototype are reserved names');
      }
      return { results: await devices.setAttributes(actor, params.uuid, body) };
    },
  });
  t.add({
    method: 'delete',
    path: '/devices/:uuid',
    tag,
    summary: 'Delete a device record',
    params,
    handler: async ({ actor, params }) => {
      await devices.remove(actor, params.uuid);
      return { results: { uuid: params.uuid, deleted: true } };
    },
  });
}

// MobileIron Core's v1 API under /api/v1 (the router takes query names whatever their case, as
// Core does). Paths, parameters and what clients read back: docs/research/core-clients.md E
// (Kraktorist/PSMobileIron), F (mjdibella/MICore.PSHelper), H (splunk-soar-connectors/mobileiron).
import { z } from 'zod';
import type { Request } from 'express';
import type { RouteTable } from '../platform/http/route.js';
import { text } from '../platform/http/validators.js';
import { v1ListMax, v1Statuses, type CoreV1Service } from './service.js';

const tag = 'Core v1';
const uuidPattern = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const uuid = z.string().regex(new RegExp(`^${uuidPattern}$`), 'must be a UUID');
/** Most devices and labels one v1 call names (v2's actions take 1,000 devices too). */
const maxDevices = 1000;
const maxLabels = 100;
const uuidList = z
  .string()
  .max(maxDevices * 37)
  .regex(new RegExp(`^${uuidPattern}(,${uuidPattern})*$`), 'must be comma-separated UUIDs')
  .transform((s) => s.split(','))
  .refine((l) => l.length <= maxDevices, `at most ${maxDevices} devices`);
const mac = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$/, 'must be a Wi-Fi MAC address such as a4:83:e7:12:34:56')
  .describe('Wi-Fi MAC, with colons, dashes or no separator');
const reasonQuery = z.object({ reason: text(1024).optional().describe('Why (kept in the audit log); Reason= is the same') });

const messagesSchema = z.object({ message: z.string() }).describe('Core v1: the outcome in words');
const v1DeviceSchema = z
  .object({
    uuid: z.string().nullable(),
    principal: z.string().nullable(),
    userId: z.string().nullable(),
    userDisplayName: z.string().nullable(),
    emailAddress: z.string().nullable(),
    platform: z.string().nullable(),
    platformType: z.string().nullable(),
    manufacturer: z.string().nullable(),
    model: z.string().nullable(),
    name: z.string().nullable(),
    status: z.string(),
    statusCode: z.number().nullable(),
    compliance: z.number(),
    quarantinedStatus: z.number(),
    blockReason: z.number(),
    employeeOwned: z.boolean(),
    mdmManaged: z.boolean(),
    registeredAt: z.string().nullable(),
    lastConnectedAt: z.string().nullable(),
    currentPhoneNumber: z.string().nullable(),
    details: z.object({ entry: z.array(z.object({ key: z.string(), value: z.string().nullable() })) }),
  })
  .loose()
  .describe('A device in Core v1 field names; what mockiron does not know is null');
const deviceList = z.object({
  messages: messagesSchema,
  devices: z.object({
    device: z.union([v1DeviceSchema, z.array(v1DeviceSchema)]).describe('An object for one device, an array for several'),
  }),
  totalCount: z.number().int(),
});
const oneDevice = z.object({ messages: messagesSchema, device: v1DeviceSchema, totalCount: z.number().int() });
const v1LabelSchema = z
  .object({ id: z.number(), name: z.string(), description: z.string(), type: z.enum(['MANUAL', 'FILTER', 'SYSTEM']) })
  .loose();
const labelList = z.object({
  messages: messagesSchema,
  labels: z.object({ label: z.union([v1LabelSchema, z.array(v1LabelSchema)]).describe('An object for one label, an array for several') }),
});
const actionAnswer = z.object({
  messages: messagesSchema,
  successful: z.boolean(),
  results: z.array(
    z.object({ deviceUuid: z.string(), status: z.enum(['SUCCESS', 'FAILED']), reason: z.string().optional(), message: z.string() }).loose(),
  ),
});
const notFound = [404];

/** The raw (still percent-encoded) path segment `fromEnd` places before the last, for lists whose names may hold an escaped comma. */
function rawSegment(req: Request, fromEnd: number): string {
  const parts = req.path.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1 - fromEnd] ?? '';
}

/** Label names as PSMobileIron sends them: each URL-escaped, then comma-joined. */
function labelNames(req: Request): string[] {
  return rawSegment(req, 1)
    .split(',')
    .map((s) => {
      try {
        return decodeURIComponent(s).trim();
      } catch {
        return s;
      }
    })
    .filter(Boolean);
}
const labelListParam = text(maxLabels * 130)
  .min(1)
  .refine((s) => s.split(',').length <= maxLabels, `at most ${maxLabels} labels`)
  .describe('Label names, comma-joined (each URL-escaped)');

export function registerCoreV1Routes(t: RouteTable, v1: CoreV1Service): void {
  t.add({
    method: 'get',
    path: '/dm/devices',
    tag,
    summary: 'Core v1: devices of one status (default ACTIVE), paged by offset and limit; 404 when none',
    query: z.object({
      status: z
        .string()
        .transform((s) => s.toUpperCase())
        .pipe(z.enum(v1Statuses))
        .default('ACTIVE'),
      offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
      limit: z.coerce.number().int().min(1).max(v1ListMax).default(v1ListMax),
    }),
    answer: deviceList,
    errors: notFound,
    handler: ({ actor, query }) => v1.devicesByStatus(actor, query.status, { limit: query.limit, offset: query.offset }),
  });
  t.add({
    method: 'get',
    path: '/dm/devices/mac/:mac',
    tag,
    summary: 'Core v1: the device with this Wi-Fi MAC (root `device`)',
    params: z.object({ mac }),
    answer: oneDevice,
    handler: ({ actor, params }) => v1.deviceByMac(actor, params.mac),
  });
  t.add({
    method: 'get',
    path: '/dm/devices/:uuid',
    tag,
    summary: 'Core v1: one device (root `device`, with details.entry[] of every field)',
    params: z.object({ uuid }),
    answer: oneDevice,
    handler: ({ actor, params }) => v1.device(actor, params.uuid),
  });
  t.add({
    method: 'get',
    path: '/dm/phones/:phone',
    tag,
    summary: 'Core v1: devices with this phone number (common.current_phone_number); 404 when none',
    params: z.object({ phone: text(64).min(1).describe('As Core stored it: digits, maybe with + and separators') }),
    answer: deviceList,
    handler: ({ actor, params }) => v1.devicesOfPhone(actor, params.phone),
  });
  t.add({
    method: 'get',
    path: '/dm/users/:userId',
    tag,
    summary: "Core v1: a user's devices; 404 when none",
    params: z.object({ userId: text(128).min(1) }),
    answer: deviceList,
    handler: ({ actor, params }) => v1.devicesOfUser(actor, params.userId),
  });
  t.add({
    method: 'get',
    path: '/dm/labels',
    tag,
    summary: 'Core v1: every label',
    answer: labelList,
    handler: ({ actor }) => v1.allLabels(actor),
  });
  t.add({
    method: 'get',
    path: '/dm/labels/devices/:uuid',
    tag,
    summary: "Core v1: a device's labels (manual, filter and system)",
    params: z.object({ uuid }),
    answer: labelList,
    handler: ({ actor, params }) => v1.labelsOfDevice(actor, params.uuid),
  });
  t.add({
    method: 'get',
    path: '/dm/labels/:label',
    tag,
    summary: 'Core v1: the devices in a label (by name); 404 when none',
    params: z.object({ label: text(128).min(1) }),
    answer: deviceList,
    handler: ({ actor, params }) => v1.devicesInLabel(actor, params.label),
  });
  t.add({
    method: 'put',
    path: '/dm/labels/:labels/:uuids',
    tag,
    summary: 'Core v1: apply (or remove) manual labels to devices, all or nothing: every label and device must exist',
    params: z.object({ labels: labelListParam, uuids: uuidList }),
    query: z.object({ action: z.enum(['apply', 'remove']).describe('apply (add the devices) or remove') }),
    answer: z.object({ messages: messagesSchema }),
    handler: ({ actor, params, query, req }) => v1.applyLabels(actor, labelNames(req), params.uuids, query.action),
  });

  for (const [name, action] of [
    ['lock', 'LOCK'],
    ['wipe', 'WIPE'],
    ['retire', 'RETIRE'],
  ] as const) {
    t.add({
      method: 'put',
      path: `/dm/devices/${name}/:uuid`,
      tag,
      summary: `Core v1: ${name} a device (the v2 ${action} action); reason= is noted`,
      params: z.object({ uuid }),
      query: reasonQuery,
      answer: actionAnswer,
      handler: ({ actor, params, query }) => v1.act(actor, action, { uuid: params.uuid }, query.reason),
    });
    t.add({
      method: 'put',
      path: `/dm/devices/${name}/mac/:mac`,
      tag,
      summary: `Core v1: ${name} the device with this Wi-Fi MAC`,
      params: z.object({ mac }),
      query: reasonQuery,
      answer: actionAnswer,
      handler: ({ actor, params, query }) => v1.act(actor, action, { mac: params.mac }, query.reason),
    });
  }
  // Core's v1 unlock is a GET that acts: it clears the passcode (v2 UNLOCK_DEVICE_ONLY).
  t.add({
    method: 'get',
    path: '/dm/devices/unlock/:uuid',
    tag,
    summary: "Core v1: unlock a device (clears the passcode with the device's UnlockToken); a GET that acts, as in Core",
    params: z.object({ uuid }),
    query: reasonQuery,
    answer: actionAnswer,
    errors: [403],
    handler: ({ actor, params, query }) => v1.act(actor, 'UNLOCK_DEVICE_ONLY', { uuid: params.uuid }, query.reason),
  });
  t.add({
    method: 'get',
    path: '/dm/devices/unlock/mac/:mac',
    tag,
    summary: 'Core v1: unlock the device with this Wi-Fi MAC',
    params: z.object({ mac }),
    query: reasonQuery,
    answer: actionAnswer,
    errors: [403],
    handler: ({ actor, params, query }) => v1.act(actor, 'UNLOCK_DEVICE_ONLY', { mac: params.mac }, query.reason),
  });
  const repeated = <T extends z.ZodType>(item: T, max: number) =>
    z
      .union([item, z.array(item).max(max, `at most ${max}`)])
      .transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>)
      .optional();
  t.add({
    method: 'post',
    path: '/dm/bulk/sendmessage',
    tag,
    summary: 'Core v1: send a message to devices (a notification recorded per device, as v2 SEND_MESSAGE; never a lock)',
    query: z.object({
      mode: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['pns', 'sms', 'email']))
        .default('pns')
        .describe('pns (push through the client app), sms or email'),
      message: text(1024).min(1),
      subject: text(255).optional(),
      deviceUuid: repeated(uuid, maxDevices).describe('Repeated, one device each'),
      deviceWiFiMacAddress: repeated(mac, 100).describe('Repeated, one device each'),
    }),
    answer: actionAnswer,
    errors: notFound,
    handler: ({ actor, query }) =>
      v1.sendMessage(actor, {
        mode: query.mode,
        message: query.message,
        ...(query.subject ? { subject: query.subject } : {}),
        uuids: query.deviceUuid ?? [],
        macs: query.deviceWiFiMacAddress ?? [],
      }),
  });
  t.add({
    method: 'get',
    path: '/sm/users/:userId',
    tag,
    summary: 'Core v1: one user (root `user`)',
    params: z.object({ userId: text(128).min(1) }),
    answer: z.object({
      messages: messagesSchema,
      user: z.object({ principal: z.string(), displayName: z.string().nullable(), emailAddress: z.string().nullable() }).loose(),
    }),
    handler: ({ actor, params }) => v1.user(actor, params.userId),
  });
}

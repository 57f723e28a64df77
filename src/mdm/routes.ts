import { z } from 'zod';
import { noteOperation, noteSubject } from '../platform/http/access-log.js';
import { listEnvelope, listQuery, spaceId, wholeList } from '../platform/http/pagination.js';
import { Reply, zodIssueToApiError, type RouteTable } from '../platform/http/route.js';
import { text, uuidParam } from '../platform/http/validators.js';
import type { PlistDict } from '../lib/plist/index.js';
import {
  actionDescriptions,
  actionOfType,
  actionTypeNames,
  coreActionAnswer,
  coreActionType,
  deviceActions,
  messageModes,
  refusalReasons,
} from './actions.js';
import type { DeviceOutcome } from './outcomes.js';
import type { MdmService } from './service.js';

const checkinType = 'application/x-apple-aspen-mdm-checkin';

/** An answer to a device in HTTP terms. */
export interface DeviceReply {
  status: number;
  body: string;
  contentType?: string;
  /** The device the request came from, once it is known (authenticated); for the access log. */
  deviceUuid?: string;
}

/** How each outcome reads on the wire; an absent content type is text/plain. */
const replies: { [K in DeviceOutcome['kind']]: (o: Extract<DeviceOutcome, { kind: K }>) => Omit<DeviceReply, 'deviceUuid'> } = {
  accepted: () => ({ status: 200, body: '', contentType: 'application/xml' }),
  command: (o) => ({ status: 200, body: o.plist, contentType: 'application/xml; charset=utf-8' }),
  idle: () => ({ status: 200, body: '' }),
  refused: (o) => ({ status: 401, body: o.reason }),
  rejected: (o) => ({ status: 400, body: o.reason }),
};

/** A device outcome as HTTP: status, body and content type. */
export function deviceReply(outcome: DeviceOutcome): DeviceReply {
  const reply = (replies[outcome.kind] as (o: DeviceOutcome) => Omit<DeviceReply, 'deviceUuid'>)(outcome);
  return outcome.deviceUuid ? { ...reply, deviceUuid: outcome.deviceUuid } : reply;
}

/** The device's answer; the access log names the device once authentication knew it. */
function toReply(req: Parameters<typeof noteSubject>[0], outcome: DeviceOutcome): Reply {
  const r = deviceReply(outcome);
  if (r.deviceUuid) noteSubject(req, `device:${r.deviceUuid}`);
  if (outcome.message) noteOperation(req, outcome.message);
  return new Reply(r.status, r.body, { 'Content-Type': r.contentType ?? 'text/plain; charset=utf-8' });
}

/** Apple's protocol endpoints, device-authenticated by Mdm-Signature. */
export function registerMdmDeviceRoutes(t: RouteTable, mdm: MdmService): void {
  const tag = 'Device protocol';
  const body = (req: { body: unknown }) => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
  t.add({
    method: 'put',
    path: '/mdm/checkin',
    tag,
    auth: 'device',
    bodyMediaType: checkinType,
    responseMediaType: ['application/xml', 'text/plain'],
    errors: [400, 401],
    summary: 'Check-in: Authenticate, TokenUpdate, CheckOut (signed with Mdm-Signature)',
    handler: async ({ req }) => toReply(req, await mdm.checkin(req.headers, body(req))),
  });
  t.add({
    method: 'put',
    path: '/mdm/connect',
    tag,
    auth: 'device',
    bodyMediaType: 'application/x-apple-aspen-mdm',
    responseMediaType: ['application/xml', 'text/plain'],
    errors: [400, 401],
    summary: 'Command results in, the next queued command out (signed with Mdm-Signature)',
    handler: async ({ req }) => toReply(req, await mdm.connect(req.headers, body(req))),
  });
  t.add({
    method: 'put',
    path: '/mdm',
    tag,
    auth: 'device',
    responseMediaType: ['application/xml', 'text/plain'],
    errors: [400, 401],
    summary: 'One URL for both: check-in by Content-Type application/x-apple-aspen-mdm-checkin, commands otherwise',
    handler: async ({ req }) => {
      const isCheckin = (req.headers['content-type'] ?? '').startsWith(checkinType);
      return toReply(req, isCheckin ? await mdm.checkin(req.headers, body(req)) : await mdm.connect(req.headers, body(req)));
    },
  });
}

const uuids = z.array(uuidParam).min(1).max(1000);

export function registerMdmAdminRoutes(t: RouteTable, mdm: MdmService): void {
  const tag = 'Commands and actions';
  const params = z.object({ uuid: uuidParam });
  t.add({
    method: 'get',
    path: '/devices/:uuid/commands',
    tag,
    summary: "The device's command queue and history (status Queued, Sent, Acknowledged, Error, NotNow, Canceled)",
    params,
    query: listQuery(['id']).extend({
      status: z.enum(['Queued', 'Sent', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow', 'Canceled']).optional(),
    }),
    handler: async ({ actor, params, query }) => {
      const { total, results } = await mdm.listCommands(actor, params.uuid, query, query.status);
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'get',
    path: '/devices/:uuid/pushes',
    tag,
    summary: 'Pushes sent to the device (recorded by the push provider; newest first)',
    params,
    query: listQuery(['id']),
    handler: async ({ actor, params, query }) => {
      const { total, results } = await mdm.pushes(actor, params.uuid, query);
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'post',
    status: 201,
    path: '/devices/:uuid/commands',
    tag,
    summary: 'Queue a raw MDM command (RequestType plus its fields), for QA',
    params,
    body: z
      .object({ RequestType: z.string().regex(/^[A-Za-z]{2,64}$/, 'must be an MDM RequestType such as DeviceInformation') })
      .catchall(z.unknown()),
    handler: async ({ actor, params, body }) => {
      const { RequestType, ...fields } = body;
      return new Reply(201, { results: await mdm.enqueueRaw(actor, params.uuid, RequestType, fields as PlistDict) });
    },
  });
  t.add({
    method: 'delete',
    path: '/devices/:uuid/commands/:commandUuid',
    tag,
    summary: 'Cancel a queued command',
    params: z.object({ uuid: uuidParam, commandUuid: uuidParam }),
    handler: async ({ actor, params }) => ({ results: await mdm.cancel(actor, params.uuid, params.commandUuid) }),
  });
  const actionResults = z.array(
    z.object({
      deviceUuid: z.string(),
      status: z.enum(['SUCCESS', 'FAILED']),
      message: z.string(),
      reason: z.enum(refusalReasons).optional().describe('Why the action was refused for this device (FAILED only)'),
      commandUuids: z.array(z.string()).optional().describe('Commands queued for this device (SUCCESS only)'),
    }),
  );
  // Core's answer (shape from demisto/content Packs/MobileIronUEM/Integrations/MobileIronCORE/test_data/action_response.json).
  const actionAnswer = z.object({
    actionType: z.string().describe("Core's name of the action, e.g. WAKE_UP"),
    deviceResults: z
      .record(z.string(), z.string())
      .describe(
        'Per device: com.mobileiron.vsp.messages.device.action.successful, or com.mobileiron.vsp.messages.device.action.failed.<reason>',
      ),
    successful: z.boolean().describe('True only if the action succeeded for every device'),
    results: actionResults.describe("mockiron's per-device detail (message, reason, queued commands)"),
  });
  const additionalParameters = z.strictObject({
    message: text(1024).optional(),
    mode: z.enum(messageModes).optional().describe('How the message reaches the user (default pns)'),
    subject: text(255).nullable().optional(),
  });
  const actionBody = z.strictObject({
    deviceUuids: uuids,
    note: text(1024).optional(),
    message: text(1024).optional().describe('LOCK (optional) and SEND_MESSAGE (or additionalParameters.message) only'),
    pin: z
      .string()
      .regex(/^\d{6}$/)
      .optional()
      .describe('WIPE only'),
    additionalParameters: additionalParameters.optional().describe('SEND_MESSAGE: {message, mode, subject}, as Core takes them'),
  });
  type ActionBody = z.output<typeof actionBody>;
  /** The options an action takes, from the body, with Core's additionalParameters winning over our flat message. */
  const optionsOf = (b: Omit<ActionBody, 'deviceUuids'>) => {
    const extra = b.additionalParameters ?? {};
    const message = extra.message ?? b.message;
    return {
      ...(b.note !== undefined ? { note: b.note } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(b.pin !== undefined ? { pin: b.pin } : {}),
      ...(extra.mode !== undefined ? { mode: extra.mode } : {}),
      ...(extra.subject ? { subject: extra.subject } : {}),
    };
  };
  for (const [path, action] of [
    ['wipe', 'WIPE'],
    ['retire', 'RETIRE'],
    ['wakeup', 'WAKEUP'],
  ] as const) {
    t.add({
      method: 'put',
      path: `/devices/${path}`,
      tag,
      summary: `${coreActionType(action)} devices (Core v2): queues the commands and pushes; Core's answer, with a failure key for a device the action cannot apply to`,
      // Core clients also name the action in the query (XSOAR sends actionType=WIPE_DEVICE to /devices/wipe).
      query: z.object({
        adminDeviceSpaceId: spaceId.optional(),
        actionType: z.enum([coreActionType(action), action]).optional(),
      }),
      body: actionBody,
      answer: actionAnswer,
      handler: async ({ actor, body }) => coreActionAnswer(action, await mdm.action(actor, action, body.deviceUuids, optionsOf(body))),
    });
  }
  const queryList = z.union([z.string(), z.array(z.string())]);
  t.add({
    method: 'post',
    path: '/devices/action',
    tag,
    summary: `Device action (Core v2): actionType one of ${actionTypeNames.join(', ')}; parameters in the body or the query string`,
    query: z.object({
      adminDeviceSpaceId: spaceId.optional(),
      actionType: z.enum(actionTypeNames),
      deviceUuids: queryList.optional().describe('Without a body: comma-separated or repeated'),
      note: text(1024).optional(),
      message: text(1024).optional(),
      mode: z.enum(messageModes).optional(),
      subject: text(255).optional(),
    }),
    body: actionBody.optional(),
    answer: actionAnswer,
    handler: async ({ actor, query, body }) => {
      const action = actionOfType(query.actionType);
      if (body) return coreActionAnswer(action, await mdm.action(actor, action, body.deviceUuids, optionsOf(body)));
      // No body: Core clients (Chronicle SOAR's MobileIronManager) put everything in the query string.
      const listed = (Array.isArray(query.deviceUuids) ? query.deviceUuids : [query.deviceUuids ?? ''])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v !== '');
      const parsed = uuids.safeParse(listed);
      if (!parsed.success) throw zodIssueToApiError(parsed.error, 'deviceUuids');
      const { note, message, mode, subject } = query;
      const options = optionsOf({ note, additionalParameters: { message, mode, subject } });
      return coreActionAnswer(action, await mdm.action(actor, action, parsed.data, options));
    },
  });
  t.add({
    method: 'get',
    path: '/devices/action_types',
    tag,
    summary: 'The device action types: Core name, accepted aliases, platforms, and what each does here',
    results: z.array(
      z.object({ actionType: z.string(), aliases: z.array(z.string()), platforms: z.array(z.string()), description: z.string() }),
    ),
    list: true,
    handler: () =>
      wholeList(
        deviceActions.map((action) => ({
          actionType: coreActionType(action),
          aliases: coreActionType(action) === action ? [] : [action],
          platforms: actionDescriptions[action].platforms,
          description: actionDescriptions[action].does,
        })),
      ),
  });
}

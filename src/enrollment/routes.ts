import { z } from 'zod';
import { noteSubject } from '../platform/http/access-log.js';
import { DomainError } from '../platform/errors/index.js';
import { deviceAnswerFrom } from '../platform/http/errors.js';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { text, uuidParam } from '../platform/http/validators.js';
import type { EnrollmentService } from './service.js';

const invitationBody = {
  userId: z.string().trim().min(1).max(128),
  deviceUuid: uuidParam.optional().describe('A pre-registered device to enroll'),
  expiresInMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 30)
    .optional()
    .describe('Default 1440 (one day)'),
  identity: z.enum(['scep', 'pkcs12']).optional().describe('How the device gets its identity: SCEP (default) or a server-made PKCS#12'),
};
/** `?signed=false`: the enrollment profile as plain XML rather than CMS-signed (the default). */
const signedQuery = z
  .enum(['true', 'false'])
  .default('true')
  .describe('false: the plain XML profile, for tools that read only unsigned profiles')
  .transform((v) => v === 'true');
const enrollmentProfileType = 'application/x-apple-aspen-config';

const invitationResult = z
  .object({ id: z.number(), url: z.string(), token: z.string(), challenge: z.string(), expiresAt: z.string() })
  .loose();

export function registerEnrollmentRoutes(t: RouteTable, enrollment: EnrollmentService): void {
  const tag = 'Enrollment';
  t.add({
    method: 'post',
    status: 201,
    path: '/enrollments',
    tag,
    summary: "Invite a user's device to enroll: the enrollment URL and a one-time challenge (shown only here)",
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject(invitationBody),
    results: invitationResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await enrollment.createInvitation(actor, body) }),
  });
  t.add({
    method: 'get',
    path: '/enrollments/:id/profile',
    tag,
    summary:
      "An invitation's enrollment profile (CA, SCEP identity, MDM payload) to hand to a device or tool; spends the invitation. Signed unless signed=false",
    params: z.object({
      id: z.coerce
        .number()
        .int()
        .min(1)
        .max(2 ** 31 - 1),
    }),
    query: z.object({ signed: signedQuery }),
    responseMediaType: enrollmentProfileType,
    errors: [403, 410],
    handler: async ({ actor, params, query }) => {
      const { profile } = await enrollment.directProfile({ id: params.id, actor }, { signed: query.signed });
      return new Reply(200, profile, { 'Content-Type': enrollmentProfileType });
    },
  });
  t.add({
    method: 'get',
    path: '/enrollments',
    tag,
    summary: 'Enrollment invitations (never their challenges or tokens)',
    query: listQuery(['id']),
    handler: async ({ actor, query }) => {
      const { total, results } = await enrollment.list(actor, query);
      return listEnvelope(results, total, query);
    },
  });
}

/** Core's v1 booleans arrive as true/false in any case (PowerShell sends True/False). */
const v1Flag = z
  .string()
  .regex(/^(true|false)$/i, 'must be true or false')
  .transform((s) => s.toLowerCase() === 'true');

/**
 * MobileIron Core v1: PUT /api/v1/dm/register (mounted under /api/v1; query names in any case).
 * Parameters as Kraktorist/PSMobileIron and mjdibella/MICore.PSHelper send them; the answer's
 * root is Core's `registration` ({status: "SUCCESS", deviceUuid}).
 */
export function registerEnrollmentV1Routes(t: RouteTable, enrollment: EnrollmentService): void {
  t.add({
    method: 'put',
    path: '/dm/register',
    tag: 'Enrollment',
    summary:
      'Core v1 registration: a device record for the user (created locally when unknown) and an enrollment invitation for it; iOS (platform=I) only. Phone number, operator, country, device type and notifications are accepted and echoed, not acted on',
    query: z.object({
      userId: z.string().trim().min(1).max(128),
      platform: z
        .enum(['I', 'iOS', 'A', 'Android', 'E', 'M', 'L'])
        .default('I')
        .describe('I iOS, A Android, E Windows, M Windows Phone, L macOS'),
      phoneNumber: text(32).optional().describe('Digits, or "pda" for a device without a phone'),
      countryCode: text(8).optional(),
      operator: text(64).optional(),
      deviceType: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['phone', 'pda']))
        .optional()
        .describe('Phone or PDA'),
      isEmployeeOwned: v1Flag.optional().describe("true: the device is the employee's (owner EMPLOYEE)"),
      importUserFromLdap: v1Flag.optional().describe('Accepted; there is no LDAP here: an unknown user is created locally'),
      userFirstName: text(64).optional(),
      userLastName: text(64).optional(),
      userEmailAddress: z.email().max(254).optional(),
      notifyUser: v1Flag.optional().describe('Accepted; no email is sent (the invitation URL is in the answer)'),
      notifyUserBySms: v1Flag.optional().describe('Accepted; no SMS is sent'),
      adminDeviceSpaceId: spaceId,
    }),
    answer: z.object({
      registration: z
        .object({
          status: z.literal('SUCCESS'),
          deviceUuid: z.string(),
          userId: z.string(),
          platform: z.string(),
          phoneNumber: z.string().nullable(),
          url: z.string().describe('mockiron: the enrollment URL to open on the device'),
          challenge: z.string(),
          expiresAt: z.string(),
          invitationId: z.number(),
        })
        .loose(),
    }),
    handler: async ({ actor, query }) => {
      if (query.platform !== 'I' && query.platform !== 'iOS') {
        throw new DomainError('device.platformNotEnrollable', 'only iOS (platform=I) devices enroll over the air here', {
          field: 'platform',
        });
      }
      const done = await enrollment.registerV1(actor, {
        userId: query.userId,
        ...(query.isEmployeeOwned !== undefined ? { isEmployeeOwned: query.isEmployeeOwned } : {}),
        ...(query.userFirstName ? { userFirstName: query.userFirstName } : {}),
        ...(query.userLastName ? { userLastName: query.userLastName } : {}),
        ...(query.userEmailAddress ? { userEmailAddress: query.userEmailAddress } : {}),
      });
      return {
        registration: {
          status: 'SUCCESS' as const,
          deviceUuid: done.deviceUuid,
          userId: query.userId,
          platform: 'I',
          phoneNumber: query.phoneNumber ?? null,
          countryCode: query.countryCode ?? null,
          operator: query.operator ?? null,
          deviceType: query.deviceType ?? null,
          employeeOwned: query.isEmployeeOwned ?? false,
          userCreated: done.userCreated,
          // What Core would do and mockiron cannot: the client reads these to know.
          userNotified: false,
          url: done.url,
          challenge: done.challenge,
          expiresAt: done.expiresAt,
          invitationId: done.invitationId,
        },
      };
    },
  });
}

export function registerOtaRoutes(t: RouteTable, enrollment: EnrollmentService): void {
  const tag = 'Device protocol';
  const toReply = async (work: () => Promise<Buffer>) => {
    try {
      return new Reply(200, await work(), { 'Content-Type': enrollmentProfileType });
    } catch (err) {
      // A device reads the answer's status and a line of text, not the admin API's envelope.
      if (err instanceof DomainError) {
        const answer = deviceAnswerFrom(err);
        return new Reply(answer.status, answer.body, answer.headers);
      }
      throw err;
    }
  };
  t.add({
    method: 'get',
    path: '/ota/enroll',
    tag,
    auth: 'public',
    summary: 'OTA phase 1: the signed Profile Service profile of an invitation',
    query: z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not an enrollment token') }),
    responseMediaType: 'application/x-apple-aspen-config',
    errors: [404, 410],
    handler: ({ query }) => toReply(() => enrollment.profileService(query.token)),
  });
  t.add({
    method: 'get',
    path: '/mdm/enroll',
    tag,
    auth: 'public',
    summary: "Direct enrollment profile: an invitation's enrollment profile at once (no Profile Service round trip); one use",
    query: z.object({
      token: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'not an enrollment token'),
      signed: signedQuery,
    }),
    responseMediaType: enrollmentProfileType,
    errors: [404, 410],
    handler: ({ req, query }) =>
      toReply(async () => {
        const done = await enrollment.directProfile({ token: query.token }, { signed: query.signed });
        noteSubject(req, `invitation:${done.invitationId}`);
        return done.profile;
      }),
  });
  t.add({
    method: 'post',
    path: '/mdm/enroll',
    tag,
    auth: 'public',
    bodyMediaType: 'application/pkcs7-signature',
    query: z.object({ signed: signedQuery }),
    summary:
      "Automated-enrollment style: the device's CMS-signed MachineInfo plist in, its enrollment profile out (pre-registered serial numbers; others per --enroll-unknown-devices)",
    responseMediaType: enrollmentProfileType,
    errors: [403, 409],
    handler: ({ req, query }) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (body.length === 0)
        return new Reply(400, 'empty body: expected a CMS-signed MachineInfo plist\n', { 'Content-Type': 'text/plain' });
      return toReply(async () => {
        const done = await enrollment.enrollWithMachineInfo(body, { signed: query.signed });
        noteSubject(req, `device:${done.deviceUuid}`);
        return done.profile;
      });
    },
  });
  t.add({
    method: 'post',
    path: '/ota/profile',
    tag,
    auth: 'public',
    bodyMediaType: 'application/pkcs7-signature',
    summary: "OTA phase 2: the device's CMS-signed attributes in, the signed MDM enrollment profile out",
    responseMediaType: 'application/x-apple-aspen-config',
    errors: [403, 409, 503],
    handler: ({ req }) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (body.length === 0)
        return new Reply(400, 'empty body: expected a CMS-signed device attributes plist\n', { 'Content-Type': 'text/plain' });
      return toReply(async () => {
        const done = await enrollment.completeOta(body);
        noteSubject(req, `device:${done.deviceUuid}`);
        return done.profile;
      });
    },
  });
}

import { z } from 'zod';
import { noteSubject } from '../platform/http/access-log.js';
import { DomainError } from '../platform/errors/index.js';
import { deviceAnswerFrom } from '../platform/http/errors.js';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { uuidParam } from '../platform/http/validators.js';
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

/** MobileIron Core v1: PUT /api/v1/dm/register?userId=..&platform=I (mounted under /api/v1). */
export function registerEnrollmentV1Routes(t: RouteTable, enrollment: EnrollmentService): void {
  t.add({
    method: 'put',
    path: '/dm/register',
    tag: 'Enrollment',
    summary: 'Core v1 registration: creates an enrollment invitation for an iOS device (platform=I)',
    query: z.object({
      userId: z.string().trim().min(1).max(128),
      platform: z.enum(['I', 'iOS', 'A', 'Android']).default('I'),
      adminDeviceSpaceId: spaceId,
    }),
    handler: async ({ actor, query }) => {
      if (query.platform !== 'I' && query.platform !== 'iOS') {
        throw new DomainError('device.platformNotEnrollable', 'only iOS (platform=I) devices enroll over the air here', {
          field: 'platform',
        });
      }
      const inv = await enrollment.createInvitation(actor, { userId: query.userId });
      return {
        results: { userId: query.userId, platform: 'I', url: inv.url, challenge: inv.challenge, expiresAt: inv.expiresAt, id: inv.id },
      };
    },
  });
}

export function registerOtaRoutes(t: RouteTable, enrollment: EnrollmentService): void {
  const tag = 'Device protocol';
  const toReply = async (work: () => Promise<Buffer>) => {
    try {
      return new Reply(200, await work(), { 'Content-Type': 'application/x-apple-aspen-config' });
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

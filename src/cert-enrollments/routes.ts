import { z } from 'zod';
import { listEnvelope, listQuery, spaceId } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { intId, name, text, uuidParam } from '../platform/http/validators.js';
import { IDENTITY_METHODS, KEY_USAGE_BITS } from '../lib/profiles/identity.js';
import { EXTENDED_KEY_USAGE_OIDS, SAN_TYPES } from '../lib/pki/x509.js';
import type { DeviceIdentityService } from './identities.js';
import type { CertificateEnrollmentService } from './service.js';

const keyUsageNames = Object.keys(KEY_USAGE_BITS) as [keyof typeof KEY_USAGE_BITS, ...(keyof typeof KEY_USAGE_BITS)[]];
const ekuNames = Object.keys(EXTENDED_KEY_USAGE_OIDS) as [
  keyof typeof EXTENDED_KEY_USAGE_OIDS,
  ...(keyof typeof EXTENDED_KEY_USAGE_OIDS)[],
];

const fields = {
  name: name(128),
  description: text(1024).optional(),
  method: z
    .enum(IDENTITY_METHODS)
    .describe(
      'SCEP: our CA issues over /scep (a com.apple.security.scep payload); LOCAL: the server makes key and certificate (com.apple.security.pkcs12)',
    ),
  keyType: z.enum(['RSA']).optional().describe("RSA only: Apple's SCEP payload supports RSA alone"),
  keySize: z
    .union([z.literal(2048), z.literal(4096)])
    .optional()
    .describe('Bits (default 2048)'),
  subject: text(1024)
    .trim()
    .min(1, 'must not be empty')
    .describe('X.500 subject template, e.g. CN=$USERID$,OU=Sales,O=Example (types CN O OU C L ST E emailAddress UID DC)'),
  subjectAltNames: z
    .array(z.strictObject({ type: z.enum(SAN_TYPES), value: text(512).trim().min(1, 'must not be empty') }))
    .max(SAN_TYPES.length)
    .optional()
    .describe('At most one per type; values may use variables'),
  validityDays: z.number().int().min(1).max(3650).optional().describe('Default 365'),
  renewalWindowDays: z
    .number()
    .int()
    .min(0)
    .max(3649)
    .optional()
    .describe('Renew this many days before notAfter (default 30; less than validityDays)'),
  keyUsage: z.array(z.enum(keyUsageNames)).max(2).optional().describe("Apple's Key Usage bitmask names (default both)"),
  extendedKeyUsage: z.array(z.enum(ekuNames)).max(ekuNames.length).optional().describe('Default clientAuth'),
};

const enrollmentResult = z
  .object({
    id: z.number(),
    name: z.string(),
    method: z.enum(IDENTITY_METHODS),
    subject: z.string(),
    validityDays: z.number(),
    renewalWindowDays: z.number(),
  })
  .loose();

const identityCertificateResult = z.object({
  serialNumber: z.string(),
  subject: z.string(),
  subjectAltNames: z.array(z.object({ type: z.string(), value: z.string() })),
  issuer: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  status: z.enum(['valid', 'expired', 'revoked', 'superseded']),
  revokedAt: z.string().nullable(),
  source: z.string(),
  settingId: z.number().nullable(),
  settingName: z.string().nullable(),
  generation: z.number().nullable(),
});

export function registerCertificateEnrollmentRoutes(
  t: RouteTable,
  enrollments: CertificateEnrollmentService,
  identities: DeviceIdentityService,
): void {
  const tag = 'Certificate enrollment settings';
  const base = '/configurations/certificate-enrollment';
  t.add({
    method: 'post',
    status: 201,
    path: base,
    tag,
    summary: 'Create a certificate enrollment setting (the identity a certificate-authenticated VPN uses)',
    query: z.object({ adminDeviceSpaceId: spaceId }),
    body: z.strictObject(fields),
    results: enrollmentResult,
    handler: async ({ actor, body }) => new Reply(201, { results: await enrollments.create(actor, body) }),
  });
  t.add({
    method: 'get',
    path: base,
    tag,
    summary: 'List certificate enrollment settings',
    query: listQuery(['id', 'name', 'method', 'createdAt']),
    results: z.array(enrollmentResult),
    handler: async ({ actor, query }) => {
      const { total, results } = await enrollments.list(actor, query, query.sortField ?? 'id', query.sortOrder === 'DESC' ? 'desc' : 'asc');
      return listEnvelope(results, total, query);
    },
  });
  const params = z.object({ id: intId });
  t.add({
    method: 'get',
    path: `${base}/:id`,
    tag,
    summary: 'Get a certificate enrollment setting',
    params,
    results: enrollmentResult,
    handler: async ({ actor, params }) => ({ results: await enrollments.get(actor, params.id) }),
  });
  t.add({
    method: 'put',
    path: `${base}/:id`,
    tag,
    summary: "Update a certificate enrollment setting (devices' profiles follow at the next reconciliation)",
    params,
    echoed: {
      readOnly: ['id'],
      ignored: ['createdAt', 'updatedAt'],
      current: ({ params, actor }) => enrollments.get(actor, params.id),
    },
    body: z.strictObject({ ...fields, name: fields.name.optional(), method: fields.method.optional(), subject: fields.subject.optional() }),
    results: enrollmentResult,
    handler: async ({ actor, params, body }) => ({ results: await enrollments.update(actor, params.id, body) }),
  });
  t.add({
    method: 'delete',
    path: `${base}/:id`,
    tag,
    summary: 'Delete a certificate enrollment setting (409 while a VPN configuration uses it)',
    params,
    handler: async ({ actor, params }) => {
      await enrollments.remove(actor, params.id);
      return { results: { id: params.id, deleted: true } };
    },
  });
  t.add({
    method: 'get',
    path: '/devices/:uuid/certificates',
    tag,
    summary: "A device's identity certificates (VPN), newest first, with status valid | expired | revoked | superseded",
    params: z.object({ uuid: uuidParam }),
    results: z.array(identityCertificateResult),
    handler: async ({ actor, params }) => {
      const results = await identities.listForDevice(actor, params.uuid);
      return { totalCount: results.length, resultCount: results.length, results };
    },
  });
}

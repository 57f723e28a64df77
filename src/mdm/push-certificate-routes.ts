// The MDM push certificate as an admin resource: upload (PEM or PKCS#12), read back what it
// is (subject, topic, expiry, warnings), remove. The private key never leaves the server.
import { z } from 'zod';
import { DomainError } from '../platform/errors/index.js';
import type { RouteTable } from '../platform/http/route.js';
import type { PushCertificateService } from './push-certificate.js';

/** A PEM certificate chain or key: a few kB; 64 kB leaves room for a long chain. */
const pem = (what: string) => z.string().min(1).max(65_536).describe(what);
const force = z.boolean().optional().describe('Upload even though enrolled devices listen on another topic (they must re-enroll)');

const upload = z.union([
  z.strictObject({
    certificate: pem('The push certificate (PEM; a chain may follow it)'),
    privateKey: pem('Its private key (PEM, unencrypted); write-only: never returned'),
    force,
  }),
  z.strictObject({
    pkcs12: z
      .string()
      .min(1)
      .max(131_072)
      .regex(/^[A-Za-z0-9+/=\s]+$/, 'base64')
      .describe('The push certificate and key as PKCS#12, base64'),
    passphrase: z.string().max(1024).describe('Write-only: never returned'),
    force,
  }),
]);

const certificateResult = z.object({
  topic: z.string(),
  subject: z.string(),
  issuer: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  uploadedAt: z.string(),
  expiresInDays: z.number(),
  warnings: z.array(z.string()),
});

export function registerPushCertificateRoutes(t: RouteTable, certificates: PushCertificateService): void {
  const tag = 'MDM push certificate';
  t.add({
    method: 'get',
    path: '/apns/certificate',
    tag,
    summary: 'The MDM push certificate: topic (its UID), subject, expiry, and a warning within 30 days of it (never the key)',
    results: certificateResult,
    errors: [404],
    handler: async ({ actor }) => {
      const found = await certificates.get(actor);
      if (!found) throw new DomainError('resource.notFound', 'no push certificate is configured: pushes are recorded, not sent');
      return { results: found };
    },
  });
  t.add({
    method: 'put',
    path: '/apns/certificate',
    tag,
    summary:
      'Upload the MDM push certificate (PEM certificate and key, or PKCS#12): pushes then go to APNs. Refused (409) when enrolled devices listen on another topic, unless force',
    body: upload,
    results: certificateResult,
    handler: async ({ actor, body }) => ({ results: await certificates.upload(actor, body) }),
  });
  t.add({
    method: 'delete',
    path: '/apns/certificate',
    tag,
    summary: 'Remove the MDM push certificate: pushes are recorded only again',
    results: z.object({ deleted: z.boolean() }),
    handler: async ({ actor }) => ({ results: { deleted: await certificates.remove(actor) } }),
  });
}

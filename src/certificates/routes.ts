import { z } from 'zod';
import { DomainError } from '../platform/errors/index.js';
import { derToPem } from '../lib/pki/x509.js';
import { listEnvelope, listQuery } from '../platform/http/pagination.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { uuidParam } from '../platform/http/validators.js';
import { ScepUnavailableError, type CertificateRegistry } from './service.js';

// The paths stay under /scep (and the OpenAPI tag SCEP), where clients have always found them.
const tag = 'SCEP';

const certificateResult = z.object({
  id: z.number(),
  serialNumber: z.string(),
  fingerprintSha256: z.string(),
  subject: z.string(),
  deviceRef: z.number().nullable(),
  deviceUuid: z.string().nullable(),
  source: z.enum(['scep', 'pkcs12', 'local']),
  purpose: z.enum(['mdm', 'identity']).describe('mdm authenticates the device on /mdm; identity is a VPN identity certificate'),
  enrollmentRef: z.number().nullable().describe('identity: the certificate enrollment setting it was issued for'),
  transactionId: z.string().nullable(),
  notBefore: z.string(),
  notAfter: z.string(),
  revoked: z.boolean(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});

/** Admin API (/api/v2): the CA's CRL (public). */
export function registerCrlRoute(t: RouteTable, certificates: CertificateRegistry): void {
  t.add({
    method: 'get',
    path: '/scep/crl',
    tag,
    auth: 'public',
    summary: "The CA's certificate revocation list (X.509 v2 CRL, public): DER, or PEM with ?format=pem",
    query: z.strictObject({ format: z.enum(['der', 'pem']).optional() }),
    responseMediaType: ['application/pkix-crl', 'application/x-pem-file'],
    errors: [503],
    handler: async ({ query }) => {
      let crl: Buffer;
      try {
        crl = await certificates.crl();
      } catch (err) {
        if (err instanceof ScepUnavailableError) throw new DomainError('scep.unavailable', err.message);
        throw err;
      }
      return query.format === 'pem'
        ? new Reply(200, derToPem(crl, 'X509 CRL'), { 'Content-Type': 'application/x-pem-file' })
        : new Reply(200, crl, { 'Content-Type': 'application/pkix-crl', 'Content-Disposition': 'attachment; filename="mockiron.crl"' });
    },
  });
}

/** Admin API (/api/v2): the certificates issued to devices, and their revocation. */
export function registerCertificateRoutes(t: RouteTable, certificates: CertificateRegistry): void {
  t.add({
    method: 'get',
    path: '/scep/certificates',
    tag,
    summary: 'List device certificates (SCEP and PKCS#12 identities)',
    query: listQuery(['id', 'serialNumber', 'notAfter', 'createdAt']).extend({
      deviceUuid: uuidParam.optional(),
      revoked: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional(),
    }),
    results: z.array(certificateResult),
    handler: async ({ actor, query }) => {
      const filter = {
        ...(query.deviceUuid !== undefined ? { deviceUuid: query.deviceUuid } : {}),
        ...(query.revoked !== undefined ? { revoked: query.revoked } : {}),
      };
      const { total, results } = await certificates.listCertificates(
        actor,
        filter,
        query,
        query.sortField ?? 'id',
        query.sortOrder === 'DESC' ? 'desc' : 'asc',
      );
      return listEnvelope(results, total, query);
    },
  });
  t.add({
    method: 'post',
    path: '/scep/certificates/:serial/revoke',
    tag,
    summary: 'Revoke a device certificate (RenewalReq and GetCertInitial then refuse it)',
    params: z.object({ serial: z.string().regex(/^[0-9A-Fa-f]{1,64}$/, 'must be the hex serial number') }),
    results: certificateResult,
    handler: async ({ actor, params }) => ({ results: await certificates.revokeCertificate(actor, params.serial) }),
  });
}

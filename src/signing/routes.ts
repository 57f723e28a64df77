import { Reply, type RouteTable } from '../platform/http/route.js';
import type { SigningService } from './service.js';

/** What the trust-profile route needs of the profiles capability (which itself depends on signing). */
export interface TrustProfileSource {
  trustProfile(): Buffer;
}

export function registerSigningRoutes(t: RouteTable, signing: SigningService, profiles: TrustProfileSource): void {
  const tag = 'Signing';
  t.add({
    method: 'get',
    path: '/signing/ca.pem',
    tag,
    auth: 'public',
    summary: 'The trust anchor of every signed profile (PEM, public)',
    responseMediaType: 'application/x-pem-file',
    handler: () =>
      new Reply(200, signing.caPem(), {
        'Content-Type': 'application/x-pem-file',
        'Content-Disposition': 'inline; filename="mockiron-ca.pem"',
      }),
  });
  t.add({
    method: 'get',
    path: '/signing/ca.der',
    tag,
    auth: 'public',
    summary: 'The trust anchor (DER, public)',
    responseMediaType: 'application/pkix-cert',
    handler: () =>
      new Reply(200, signing.caDer(), {
        'Content-Type': 'application/pkix-cert',
        'Content-Disposition': 'attachment; filename="mockiron-ca.cer"',
      }),
  });
  t.add({
    method: 'get',
    path: '/signing/trust.mobileconfig',
    tag,
    auth: 'public',
    summary: 'A signed profile that installs the trust anchor (com.apple.security.root)',
    responseMediaType: 'application/x-apple-aspen-config',
    handler: () =>
      new Reply(200, profiles.trustProfile(), {
        'Content-Type': 'application/x-apple-aspen-config',
        'Content-Disposition': 'attachment; filename="mockiron-trust.mobileconfig"',
      }),
  });
}

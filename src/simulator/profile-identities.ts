// The network side of InstallProfile's identity payloads: a com.apple.security.scep payload is
// enrolled over SCEP against its URL, a com.apple.security.pkcs12 payload opened with its
// Password — the same code the enrollment profile's identity goes through (enroll.ts). Failures
// become IdentityAttempt problems, which commands.ts turns into the ErrorChain iOS reports.

import type { KeyObject, X509Certificate } from 'node:crypto';
import type { PlistDict } from '../lib/plist/index.js';
import type { IdentityAttempt, IdentityProvisioner } from './commands.js';
import { enrollWithScep, openPkcs12, SimulatorEnrollmentError } from './enroll.js';
import type { HttpClient } from './http.js';
import type { DeviceIdentity } from './identity.js';

function asAttempt(source: 'scep' | 'pkcs12', obtained: { privateKey: KeyObject; certificate: X509Certificate }): IdentityAttempt {
  return {
    ok: true,
    source,
    privateKeyPem: obtained.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem: obtained.certificate.toString(),
  };
}

/** A provisioner for one device; without an HTTP client, SCEP payloads fail as on a device with no network. */
export function identityProvisioner(http: HttpClient | undefined, identity: DeviceIdentity): IdentityProvisioner {
  return {
    async obtain(payload: PlistDict): Promise<IdentityAttempt> {
      try {
        if (payload.PayloadType === 'com.apple.security.pkcs12') return asAttempt('pkcs12', openPkcs12(payload));
        if (!http) return { ok: false, problem: 'network', reason: 'this device has no network' };
        return asAttempt('scep', await enrollWithScep(http, payload, identity));
      } catch (err) {
        if (err instanceof SimulatorEnrollmentError) {
          return { ok: false, problem: err.problem ?? 'payload', reason: err.message.replace(/^(scep|pkcs12): /, '') };
        }
        // Whatever else a hostile payload provokes fails this install, not the device's poll loop
        return { ok: false, problem: 'payload', reason: `the simulator could not process the payload: ${(err as Error).message}` };
      }
    },
  };
}

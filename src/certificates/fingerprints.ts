import { createHash, type X509Certificate } from 'node:crypto';

/** Lower-case hex SHA-256 of the DER certificate, no separators: the form stored in DeviceCertificate. */
export function certificateFingerprint(certificate: X509Certificate | Buffer): string {
  const der = Buffer.isBuffer(certificate) ? certificate : certificate.raw;
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts "AB:CD:..." (X509Certificate.fingerprint256) as well as plain hex. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[:\s]/g, '').toLowerCase();
}

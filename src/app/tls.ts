// --tls: serve HTTPS with a certificate our CA issues for the public host name (real iOS
// requires HTTPS for MDM). The key and certificate are kept in <data>/tls and reused while
// they still match the host name and have a month of validity left.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { SigningService } from '../signing/service.js';

export interface TlsMaterial {
  key: string;
  cert: string;
}

export function tlsMaterialFor(dataDir: string, signing: SigningService, publicUrl: string): TlsMaterial {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  const dir = path.join(dataDir, 'tls');
  const keyFile = path.join(dir, 'server.key.pem');
  const certFile = path.join(dir, 'server.pem');
  if (existsSync(keyFile) && existsSync(certFile)) {
    const cert = new X509Certificate(readFileSync(certFile));
    const monthLeft = new Date(cert.validTo).getTime() - Date.now() > 30 * 86_400_000;
    if (monthLeft && (cert.checkHost(host) !== undefined || cert.checkIP(host) !== undefined)) {
      return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') + signing.caPem() };
    }
  }
  const ca = signing.ca;
  if (!ca)
    throw new Error('--tls needs the mockiron CA key to issue the server certificate, and it is not held here (imported signing identity)');
  const issued = ca.issueKeyAndCertificate({
    subject: { commonName: host, organization: 'mockiron' },
    profile: 'tls-server',
    sans: [host],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPem = issued.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  writeFileSync(certFile, issued.pem);
  return { key: keyPem, cert: issued.pem + signing.caPem() };
}

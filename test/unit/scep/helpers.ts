// Shared SCEP test setup: a CA (and RA) with their keys, requester identities, OpenSSL as judge.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, type X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority, generateKeyPair } from '../../../src/signing/identity.js';
import { derToPem } from '../../../src/lib/pki/x509.js';

export const SCEP_FIXTURES = fileURLToPath(new URL('../../fixtures/scep/', import.meta.url));

export function scepFixture(name: string): Buffer {
  return readFileSync(join(SCEP_FIXTURES, name));
}

export interface TestPki {
  ca: CertificateAuthority;
  caKey: KeyObject;
  caCert: X509Certificate;
  raCert: X509Certificate;
  raKey: KeyObject;
}

export function createTestPki(commonName = 'mockiron SCEP CA'): TestPki {
  const ca = CertificateAuthority.create({ subject: { commonName, organization: 'mockiron' } });
  const caKey = createPrivateKey(ca.exportPrivateKeyPem());
  // The device profile has digitalSignature + keyEncipherment: what an RA needs for SCEP
  const ra = ca.issueKeyAndCertificate({ subject: { commonName: `${commonName} RA`, organization: 'mockiron' }, profile: 'device' });
  return { ca, caKey, caCert: ca.certificate, raCert: ra.certificate, raKey: ra.privateKey };
}

export function rsaKey(): KeyObject {
  return generateKeyPair('rsa').privateKey;
}

export interface OpenSsl {
  dir: string;
  /** Writes a file into the temp directory and returns its path. */
  write(name: string, data: Buffer | string): string;
  read(name: string): Buffer;
  path(name: string): string;
  run(args: string[]): { status: number | null; stdout: string; stderr: string };
  /** run, throwing with openssl's stderr unless it exits 0; its stdout and stderr together. */
  ok(args: string[]): string;
  cleanup(): void;
}

export function openssl(): OpenSsl {
  const dir = mkdtempSync(join(tmpdir(), 'mockiron-scep-'));
  return {
    dir,
    write(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    read: (name) => readFileSync(join(dir, name)),
    path: (name) => join(dir, name),
    run(args) {
      const result = spawnSync('openssl', args, { encoding: 'utf8' });
      if (result.error) throw result.error;
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    ok(args) {
      const result = this.run(args);
      if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
      return result.stdout + result.stderr;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function certPem(cert: X509Certificate): string {
  return derToPem(cert.raw);
}

export function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

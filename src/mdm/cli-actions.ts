// `mockiron apns csr`: an RSA-2048 key (Apple's push certificates are RSA) and a PKCS#10 request
// signed with SHA-256. The key is written with mode 0600 from its creation and never printed.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';

export interface CsrOptions {
  outDir: string;
  commonName: string;
  email?: string;
  organization?: string;
  country?: string;
  force?: boolean;
}

export function runCsr(options: CsrOptions, io: CliIo): void {
  const fields: Array<[string, string | undefined, number]> = [
    ['CN', options.commonName, 64],
    ['O', options.organization, 64],
    ['emailAddress', options.email, 128],
  ];
  for (const [name, value, max] of fields) {
    if (value !== undefined && (value.length === 0 || value.length > max))
      throw new CliError(`--${name === 'CN' ? 'common-name' : name === 'O' ? 'organization' : 'email'}: 1 to ${max} characters`, 2);
  }
  if (options.country !== undefined && !/^[A-Za-z]{2}$/.test(options.country)) throw new CliError('--country: two letters (ISO 3166)', 2);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([
    { shortName: 'CN', value: options.commonName },
    ...(options.organization ? [{ shortName: 'O', value: options.organization }] : []),
    ...(options.country ? [{ shortName: 'C', value: options.country.toUpperCase() }] : []),
    ...(options.email ? [{ name: 'emailAddress', value: options.email }] : []),
  ]);
  csr.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  mkdirSync(options.outDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(options.outDir, 'push.key');
  const csrFile = path.join(options.outDir, 'push.csr');
  const flag = options.force ? 'w' : 'wx';
  try {
    writeFileSync(keyFile, keyPem, { mode: 0o600, flag });
    writeFileSync(csrFile, forge.pki.certificationRequestToPem(csr), { mode: 0o644, flag });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError(`${(err as NodeJS.ErrnoException).path} exists (use --force to replace it)`, 1);
    throw err;
  }
  io.stdout.write(
    `wrote ${keyFile} (private key, mode 0600: keep it; it is uploaded with Apple's certificate)\n` +
      `wrote ${csrFile} (certificate signing request)\n` +
      'next: an MDM vendor signs push.csr; upload the signed request at https://identity.apple.com (Apple Push Certificates Portal);\n' +
      "then: PUT /api/v2/apns/certificate with Apple's certificate and push.key (docs/real-devices.md)\n",
  );
}

// What `profile sign`, `profile verify` and `signing init|show|import` do; their definitions
// (options, help) are in cli.ts, which loads this module only when one of them runs.

import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import { CmsVerifyError, signCms, summarizeCertificate, verifyCms, type CmsVerifyResult } from '../lib/pki/cms.js';
import { IdentityError, identityFromPem, type SigningIdentity } from './identity.js';
import {
  hasSigningIdentity,
  identityFromImport,
  initSigningIdentity,
  loadSigningIdentity,
  saveSigningIdentity,
  signingPaths,
  type ImportSource,
  type StoredSigningIdentity,
} from './identity-store.js';
import { PASSPHRASE_ENV } from './cli.js';
import { resolveSigningTime } from './signing-time.js';
import { splitPemCertificates } from '../lib/pki/x509.js';

/** `profile verify` exits with this for input that is not signed at all (documented in `mockiron help exit-codes`). */
export const NOT_SIGNED_EXIT = 7;

/** What an unsigned profile is, by its first bytes, or undefined when it does not look like a plist. */
function unsignedPlistKind(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).toString('latin1') === 'bplist00') return 'binary plist';
  const head = bytes
    .subarray(0, 512)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (head.startsWith('<?xml') || head.startsWith('<!DOCTYPE plist') || head.startsWith('<plist')) return 'XML plist';
  return undefined;
}

/** --output, or the hidden --out it replaced. */
function outputOption(options: { output?: string; out?: string }): string | undefined {
  if (options.output !== undefined && options.out !== undefined && options.output !== options.out) {
    throw new CliError('give -o/--output once (--out is its old spelling)');
  }
  return options.output ?? options.out;
}

async function writeOutput(path: string, bytes: Buffer): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (err) {
    throw new CliError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Runs fn, turning the library's expected failures into one-line CLI errors. */
async function userErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IdentityError) throw new CliError(err.message);
    throw err;
  }
}

function formatDate(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

function readCertificates(pem: string, path: string): X509Certificate[] {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) throw new CliError(`${path} contains no PEM certificate`);
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    throw new CliError(`${path}: unreadable certificate: ${(err as Error).message}`);
  }
}

function keyDescription(identity: SigningIdentity): string {
  const key = identity.privateKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `RSA-${details?.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') return `EC ${details?.namedCurve ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
}

function describeIdentity(stored: StoredSigningIdentity): string {
  const { identity } = stored;
  const signer = summarizeCertificate(identity.certificate);
  const anchor = summarizeCertificate(identity.trustAnchor);
  const lines = [
    `Signer:          ${signer.subject}`,
    `  issuer:        ${signer.issuer}`,
    `  valid:         ${formatDate(signer.notBefore)} to ${formatDate(signer.notAfter)}`,
    `  key:           ${keyDescription(identity)}`,
    `  SHA-256:       ${signer.fingerprintSha256}`,
    ...identity.chain.map((c) => `Intermediate:    ${summarizeCertificate(c).subject}`),
    `CA (anchor):     ${anchor.subject}`,
    `  valid:         ${formatDate(anchor.notBefore)} to ${formatDate(anchor.notAfter)}`,
    `  SHA-256:       ${anchor.fingerprintSha256}`,
    `  CA key held:   ${stored.ca ? 'yes' : 'no (imported identity)'}`,
    `Directory:       ${stored.paths.dir}`,
  ];
  return `${lines.join('\n')}\n`;
}

function identityJson(stored: StoredSigningIdentity): object {
  const { certificatePem: _signerPem, ...signer } = summarizeCertificate(stored.identity.certificate);
  const { certificatePem: _caPem, ...ca } = summarizeCertificate(stored.identity.trustAnchor);
  return {
    signer,
    key: keyDescription(stored.identity),
    intermediates: stored.identity.chain.map((c) => summarizeCertificate(c).subject),
    ca,
    caKeyHeld: stored.ca !== undefined,
    directory: stored.paths.dir,
  };
}

export async function signingIdentityFor(options: {
  dataDir: string;
  key?: string;
  cert?: string;
  chain?: string;
}): Promise<SigningIdentity> {
  if (options.key !== undefined || options.cert !== undefined || options.chain !== undefined) {
    if (options.key === undefined || options.cert === undefined) throw new CliError('--key and --cert must be given together');
    const [keyPem, certPem, chainPem] = await Promise.all([
      readInput(options.key, 'key file'),
      readInput(options.cert, 'certificate file'),
      options.chain === undefined ? undefined : readInput(options.chain, 'chain file'),
    ]);
    return userErrors(() =>
      identityFromPem({ keyPem: keyPem.toString('utf8'), certPem: certPem.toString('utf8'), chainPem: chainPem?.toString('utf8') }),
    );
  }
  return (await userErrors(() => loadSigningIdentity(options.dataDir))).identity;
}

function printVerification(result: CmsVerifyResult, anchorSource: string | undefined): string {
  const signer = result.signer;
  const lines = [
    `Signature:   valid (${result.signatureAlgorithm}${result.signedAttributes ? ', signed attributes' : ', no signed attributes'})`,
    ...(result.signingTime ? [`Signed at:   ${formatDate(result.signingTime)}`] : []),
    `Signer:      ${signer.subject}`,
    `  issuer:    ${signer.issuer}`,
    `  valid:     ${formatDate(signer.notBefore)} to ${formatDate(signer.notAfter)}`,
    `  SHA-256:   ${signer.fingerprintSha256}`,
    'Chain:',
    ...result.chain.map(
      (c, i) =>
        `  ${i}: ${c.subject}${i === 0 ? ' (signer)' : ''}${result.trustAnchor && i === result.chain.length - 1 ? ' (trust anchor)' : ''}`,
    ),
    result.trusted
      ? `Trusted:     yes (anchor ${result.trustAnchor!.subject}, from ${anchorSource})`
      : 'Trusted:     not evaluated (no trust anchors: pass --ca FILE or --system-roots, or run `mockiron signing init`)',
    `Content:     ${result.content.length} bytes${result.detached ? ' (detached)' : ''}`,
  ];
  if (result.signers.length > 1) lines.push(`Signers:     ${result.signers.length} (all verified; the first is shown)`);
  return `${lines.join('\n')}\n`;
}

export interface SignOptions {
  output?: string;
  /** The hidden old spelling of --output. */
  out?: string;
  detached?: boolean;
  signingTime?: string;
  dataDir: string;
  key?: string;
  cert?: string;
  chain?: string;
}

export async function runSign(input: string, options: SignOptions, io: CliIo): Promise<void> {
  const output = outputOption(options);
  if (output === undefined) throw new CliError('say where the signed profile goes: -o FILE, or -o - for standard output', 2);
  const signingTime = resolveSigningTime(options.signingTime, io.env);
  const contentBytes = await readInput(input, 'input file');
  const identity = await signingIdentityFor(options);
  const signed = signCms(contentBytes, identity, { detached: options.detached === true, signingTime });
  // The report goes where it does not mix with the signed bytes
  const report = output === '-' ? io.stderr : io.stdout;
  if (output === '-') io.stdout.write(signed);
  else await writeOutput(output, signed);
  report.write(
    `Signed ${input} -> ${output === '-' ? 'standard output' : output} (${signed.length} bytes${options.detached ? ', detached' : ''}) as ${summarizeCertificate(identity.certificate).subject}\n`,
  );
}

export interface VerifyOptions {
  ca?: string;
  systemRoots?: boolean;
  content?: string;
  at?: string;
  output?: string;
  out?: string;
  json?: boolean;
  dataDir: string;
}

export async function runVerify(file: string, options: VerifyOptions, io: CliIo): Promise<void> {
  const cms = await readInput(file, 'signed file');
  const detachedContent = options.content === undefined ? undefined : await readInput(options.content, 'content file');
  let at: Date | undefined;
  if (options.at !== undefined) {
    at = new Date(options.at);
    if (Number.isNaN(at.getTime())) throw new CliError(`--at: not a date: ${options.at}`);
  }
  const anchors: X509Certificate[] = [];
  const sources: string[] = [];
  if (options.ca !== undefined) {
    anchors.push(...readCertificates((await readInput(options.ca, 'CA file')).toString('utf8'), options.ca));
    sources.push(options.ca);
  }
  if (options.systemRoots) {
    anchors.push(...rootCertificates.map((pem) => new X509Certificate(pem)));
    sources.push('system roots');
  }
  if (sources.length === 0 && hasSigningIdentity(options.dataDir)) {
    const caPath = signingPaths(options.dataDir).caCert;
    anchors.push(...readCertificates(await readFile(caPath, 'utf8'), caPath));
    sources.push(caPath);
  }
  let result: CmsVerifyResult;
  try {
    result = verifyCms(cms, { trustAnchors: anchors, detachedContent, at });
  } catch (err) {
    if (err instanceof CmsVerifyError) {
      const plist = err.code === 'MALFORMED' || err.code === 'NOT_SIGNED_DATA' ? unsignedPlistKind(cms) : undefined;
      if (plist)
        throw new CliError(`${file}: not signed: it is an unsigned ${plist} (sign it with \`mockiron profile sign\`)`, NOT_SIGNED_EXIT);
      throw new CliError(`verification failed [${err.code}]: ${err.message}`);
    }
    throw err;
  }
  const output = outputOption(options);
  if (output === '-') io.stdout.write(result.content);
  else if (output !== undefined) await writeOutput(output, result.content);
  // With the content on standard output, the report goes to standard error
  const report = output === '-' ? io.stderr : io.stdout;
  if (options.json) {
    const { content: _content, signers: _signers, ...rest } = result;
    const strip = ({ certificatePem: _pem, ...summary }: { certificatePem: string }) => summary;
    report.write(
      `${JSON.stringify(
        {
          ...rest,
          signer: strip(rest.signer),
          chain: rest.chain.map(strip),
          trustAnchor: rest.trustAnchor && strip(rest.trustAnchor),
          contentLength: result.content.length,
          anchorSource: sources.join(', ') || null,
        },
        null,
        2,
      )}\n`,
    );
  } else {
    report.write(printVerification(result, sources.join(', ')));
  }
}

export async function runInit(options: { keyType: 'rsa' | 'ec'; force?: boolean; dataDir: string }, io: CliIo): Promise<void> {
  const stored = await userErrors(() => initSigningIdentity(options.dataDir, { keyType: options.keyType, force: options.force }));
  io.stdout.write(`Created a signing identity in ${stored.paths.dir}\n${describeIdentity(stored)}`);
}

export async function runShow(options: { json?: boolean; dataDir: string }, io: CliIo): Promise<void> {
  const stored = await userErrors(() => loadSigningIdentity(options.dataDir));
  io.stdout.write(options.json ? `${JSON.stringify(identityJson(stored), null, 2)}\n` : describeIdentity(stored));
}

export interface ImportOptions {
  key?: string;
  cert?: string;
  chain?: string;
  p12?: string;
  passphraseFile?: string;
  dataDir: string;
}

export async function runImport(options: ImportOptions, io: CliIo): Promise<void> {
  let source: ImportSource;
  if (options.p12 !== undefined) {
    if (options.key !== undefined || options.cert !== undefined || options.chain !== undefined) {
      throw new CliError('use either --p12 or --key/--cert/--chain, not both');
    }
    let passphrase: string;
    if (options.passphraseFile !== undefined) {
      // A trailing newline is an artifact of `echo` and editors, not part of the passphrase
      passphrase = (await readInput(options.passphraseFile, 'passphrase file')).toString('utf8').replace(/\r?\n$/, '');
    } else if (io.env[PASSPHRASE_ENV] !== undefined) {
      passphrase = io.env[PASSPHRASE_ENV];
    } else {
      throw new CliError(`--p12 needs a passphrase: --passphrase-file FILE or the ${PASSPHRASE_ENV} environment variable`);
    }
    source = { p12: await readInput(options.p12, 'PKCS#12 file'), passphrase };
  } else {
    if (options.key === undefined || options.cert === undefined) {
      throw new CliError('give --key and --cert (and --chain if the certificate is not self-signed), or --p12');
    }
    const [keyPem, certPem, chainPem] = await Promise.all([
      readInput(options.key, 'key file'),
      readInput(options.cert, 'certificate file'),
      options.chain === undefined ? undefined : readInput(options.chain, 'chain file'),
    ]);
    source = { keyPem: keyPem.toString('utf8'), certPem: certPem.toString('utf8'), chainPem: chainPem?.toString('utf8') };
  }
  // Validate fully before touching the data directory
  const identity = await userErrors(() => identityFromImport(source));
  await saveSigningIdentity(options.dataDir, identity, { replace: true });
  const stored = await userErrors(() => loadSigningIdentity(options.dataDir));
  io.stdout.write(`Imported the signing identity into ${stored.paths.dir}\n${describeIdentity(stored)}`);
}

// The signing identity on disk, under <dataDir>/signing/:
//
//   ca.key.pem      CA private key (0600), only while the CA is ours (absent after an import)
//   ca.pem          trust anchor certificate: the CA relying parties must trust
//   signer.key.pem  profile signer private key (0600)
//   signer.pem      profile signer certificate
//   chain.pem       intermediates between signer and anchor, nearest first (may be empty)
//
// The directory is 0700. A new identity is written into a fresh staging directory and swapped
// in with renames, so a failed write or a bad import never leaves a half-replaced identity.

import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import {
  assembleSigningIdentity,
  CertificateAuthority,
  createSigningIdentity,
  IdentityError,
  identityFromPem,
  type KeyType,
  type SigningIdentity,
} from './identity.js';

export interface SigningPaths {
  dir: string;
  caKey: string;
  caCert: string;
  signerKey: string;
  signerCert: string;
  chain: string;
}

export function signingPaths(dataDir: string): SigningPaths {
  const dir = join(dataDir, 'signing');
  return {
    dir,
    caKey: join(dir, 'ca.key.pem'),
    caCert: join(dir, 'ca.pem'),
    signerKey: join(dir, 'signer.key.pem'),
    signerCert: join(dir, 'signer.pem'),
    chain: join(dir, 'chain.pem'),
  };
}

export interface StoredSigningIdentity {
  identity: SigningIdentity;
  /** Present when the CA key is held locally (generated identities), for issuing more certificates. */
  ca?: CertificateAuthority;
  paths: SigningPaths;
}

export function hasSigningIdentity(dataDir: string): boolean {
  const paths = signingPaths(dataDir);
  return existsSync(paths.signerKey) && existsSync(paths.signerCert);
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The directory 0700 and the private keys 0600, also when an older version left them looser. */
async function restrictSigningFiles(paths: SigningPaths): Promise<void> {
  await chmod(paths.dir, 0o700);
  for (const key of [paths.signerKey, paths.caKey]) {
    try {
      await chmod(key, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

export async function loadSigningIdentity(dataDir: string): Promise<StoredSigningIdentity> {
  const paths = signingPaths(dataDir);
  if (existsSync(paths.dir)) await restrictSigningFiles(paths);
  const [keyPem, certPem, chainPem, caPem, caKeyPem] = await Promise.all(
    [paths.signerKey, paths.signerCert, paths.chain, paths.caCert, paths.caKey].map(readOptional),
  );
  if (keyPem === undefined || certPem === undefined || caPem === undefined) {
    throw new IdentityError(`no signing identity in ${paths.dir} (run \`mockiron signing init\` or \`mockiron signing import\`)`);
  }
  let identity: SigningIdentity;
  try {
    // The anchor goes into the pool so assembly re-checks every link, then must come out on top
    identity = identityFromPem({ keyPem, certPem, chainPem: `${chainPem ?? ''}\n${caPem}` });
  } catch (err) {
    throw new IdentityError(`the signing identity in ${paths.dir} is damaged: ${(err as Error).message}`);
  }
  const anchor = new X509Certificate(caPem);
  if (identity.trustAnchor.fingerprint256 !== anchor.fingerprint256) {
    throw new IdentityError(`the signing identity in ${paths.dir} is damaged: ca.pem is not the top of the chain`);
  }
  let ca: CertificateAuthority | undefined;
  if (caKeyPem !== undefined) {
    try {
      ca = CertificateAuthority.fromPem(caPem, caKeyPem);
    } catch (err) {
      throw new IdentityError(`the CA key in ${paths.dir} is unusable: ${(err as Error).message}`);
    }
  }
  return { identity, ca, paths };
}

/** Loads the CA for issuing device / TLS certificates; undefined when the CA key is not held. */
export async function loadCertificateAuthority(dataDir: string): Promise<CertificateAuthority | undefined> {
  return (await loadSigningIdentity(dataDir)).ca;
}

function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Writes an identity (and optionally its CA key) as the stored identity, replacing any existing
 * one. With `replace: false` an identity that appeared meanwhile wins and false is returned.
 */
export async function saveSigningIdentity(
  dataDir: string,
  identity: SigningIdentity,
  options: { ca?: CertificateAuthority; replace?: boolean } = {},
): Promise<boolean> {
  const paths = signingPaths(dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const staging = `${paths.dir}.staging-${randomBytes(6).toString('hex')}`;
  await mkdir(staging, { mode: 0o700 });
  try {
    const secret = { mode: 0o600, flag: 'wx' } as const; // mode applies at creation: never briefly readable
    const publicFile = { mode: 0o644, flag: 'wx' } as const;
    const inStaging = (path: string) => join(staging, path.slice(paths.dir.length + 1));
    await writeFile(inStaging(paths.signerKey), keyPem(identity.privateKey), secret);
    await writeFile(inStaging(paths.signerCert), identity.certificate.toString(), publicFile);
    await writeFile(inStaging(paths.chain), identity.chain.map((c) => c.toString()).join(''), publicFile);
    await writeFile(inStaging(paths.caCert), identity.trustAnchor.toString(), publicFile);
    if (options.ca) await writeFile(inStaging(paths.caKey), options.ca.exportPrivateKeyPem(), secret);

    if (!existsSync(paths.dir)) {
      try {
        await rename(staging, paths.dir);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || options.replace) throw err;
        return false; // another process created it first
      }
    }
    if (!options.replace) return false;
    const previous = `${paths.dir}.previous-${randomBytes(6).toString('hex')}`;
    await rename(paths.dir, previous);
    await rename(staging, paths.dir);
    await rm(previous, { recursive: true, force: true });
    return true;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export interface CreateOptions {
  keyType?: KeyType;
}

/** The stored identity, or a new CA + signer of `keyType` (default RSA-2048) when there is none. */
export async function loadOrCreateSigningIdentity(
  dataDir: string,
  options: CreateOptions = {},
): Promise<StoredSigningIdentity & { created: boolean }> {
  if (!hasSigningIdentity(dataDir)) {
    const { ca, identity } = createSigningIdentity({ keyType: options.keyType });
    const created = await saveSigningIdentity(dataDir, identity, { ca, replace: false });
    if (created) return { identity, ca, paths: signingPaths(dataDir), created };
  }
  return { ...(await loadSigningIdentity(dataDir)), created: false };
}

/** Creates a new identity; refuses to replace an existing one unless `force`. */
export async function initSigningIdentity(
  dataDir: string,
  options: CreateOptions & { force?: boolean } = {},
): Promise<StoredSigningIdentity> {
  if (hasSigningIdentity(dataDir) && !options.force) {
    throw new IdentityError(`a signing identity already exists in ${signingPaths(dataDir).dir} (use --force to replace it)`);
  }
  const { ca, identity } = createSigningIdentity({ keyType: options.keyType });
  await saveSigningIdentity(dataDir, identity, { ca, replace: true });
  return { identity, ca, paths: signingPaths(dataDir) };
}

export type ImportSource = { keyPem: string; certPem: string; chainPem?: string } | { p12: Buffer; passphrase: string };

/** Private key and certificates out of a PKCS#12 file; EC keys and certificates included. */
export function readPkcs12(p12: Buffer, passphrase: string): { privateKey: KeyObject; certificates: X509Certificate[] } {
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
    pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (err) {
    const message = (err as Error).message;
    throw new IdentityError(
      /MAC|password|decrypt/i.test(message)
        ? 'cannot open the PKCS#12 file: wrong passphrase (or a damaged file)'
        : `cannot read the PKCS#12 file: ${message}`,
    );
  }
  const toBuffer = (asn1: forge.asn1.Asn1) => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  const keys: KeyObject[] = [];
  const certificates: X509Certificate[] = [];
  for (const safeContents of pfx.safeContents) {
    for (const bag of safeContents.safeBags) {
      // forge decodes RSA itself and hands back raw ASN.1 for key and cert types it lacks (EC)
      const rawAsn1 = (bag as { asn1?: forge.asn1.Asn1 }).asn1;
      if (bag.type === forge.pki.oids.keyBag || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag) {
        const pkcs8 = bag.key ? toBuffer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key))) : rawAsn1 && toBuffer(rawAsn1);
        if (pkcs8) keys.push(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
      } else if (bag.type === forge.pki.oids.certBag) {
        const certDer = bag.cert ? toBuffer(forge.pki.certificateToAsn1(bag.cert)) : rawAsn1 && toBuffer(rawAsn1);
        if (certDer) certificates.push(new X509Certificate(certDer));
      }
    }
  }
  if (keys.length !== 1) throw new IdentityError(`the PKCS#12 file holds ${keys.length} private keys; expected exactly one`);
  return { privateKey: keys[0]!, certificates };
}

/** Builds an identity from imported material, validating key/certificate match and chain links. */
export function identityFromImport(source: ImportSource): SigningIdentity {
  if ('p12' in source) {
    const { privateKey, certificates } = readPkcs12(source.p12, source.passphrase);
    const signer = certificates.find((c) => c.checkPrivateKey(privateKey));
    if (!signer) throw new IdentityError('no certificate in the PKCS#12 file matches its private key');
    return assembleSigningIdentity(
      privateKey,
      signer,
      certificates.filter((c) => c !== signer),
    );
  }
  return identityFromPem(source);
}

/**
 * Replaces the stored identity with an imported one. Everything is validated before anything is
 * written. The old CA key is dropped: it no longer matches ca.pem.
 */
export async function importIdentity(dataDir: string, source: ImportSource): Promise<StoredSigningIdentity> {
  const identity = identityFromImport(source);
  await saveSigningIdentity(dataDir, identity, { replace: true });
  return { identity, paths: signingPaths(dataDir) };
}

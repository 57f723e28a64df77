import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signCms } from '../../../src/lib/pki/cms.js';
import { CertificateAuthority, createSigningIdentity, IdentityError } from '../../../src/signing/identity.js';
import {
  importIdentity,
  initSigningIdentity,
  loadCertificateAuthority,
  loadOrCreateSigningIdentity,
  loadSigningIdentity,
  readPkcs12,
  signingPaths,
} from '../../../src/signing/identity-store.js';
import { opensslCmsVerify, run, samplePlist, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
let dataDir: string;
beforeEach(() => {
  temp = tempDir();
  dataDir = join(temp.dir, 'data');
});
afterEach(() => temp.cleanup());

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every file in the signing directory with its bytes, to prove a failed import changed nothing. */
function snapshot(): Record<string, string> {
  const dir = signingPaths(dataDir).dir;
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'hex')]));
}

describe('loadOrCreateSigningIdentity', () => {
  it('creates the documented layout with 0600 keys in a 0700 directory, even under umask 000', async () => {
    const previousUmask = process.umask(0o000);
    try {
      const created = await loadOrCreateSigningIdentity(dataDir, { keyType: 'ec' });
      expect(created.created).toBe(true);
    } finally {
      process.umask(previousUmask);
    }
    const paths = signingPaths(dataDir);
    expect(readdirSync(paths.dir).sort()).toEqual(['ca.key.pem', 'ca.pem', 'chain.pem', 'signer.key.pem', 'signer.pem']);
    expect(mode(paths.dir)).toBe(0o700);
    expect(mode(paths.caKey)).toBe(0o600);
    expect(mode(paths.signerKey)).toBe(0o600);
    expect(mode(paths.caCert)).toBe(0o644);
    expect(readFileSync(paths.signerKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(paths.chain, 'utf8')).toBe(''); // signer is issued by the CA directly
    // No staging leftovers beside the signing directory
    expect(readdirSync(dataDir)).toEqual(['signing']);
  });

  it('loads the same identity on the next call and keeps the CA usable for issuing', async () => {
    const first = await loadOrCreateSigningIdentity(dataDir, { keyType: 'rsa' });
    const second = await loadOrCreateSigningIdentity(dataDir, { keyType: 'ec' });
    expect(second.created).toBe(false);
    expect(second.identity.certificate.fingerprint256).toBe(first.identity.certificate.fingerprint256);
    expect(second.identity.privateKey.asymmetricKeyType).toBe('rsa');
    const ca = await loadCertificateAuthority(dataDir);
    expect(ca?.certificate.fingerprint256).toBe(first.identity.trustAnchor.fingerprint256);
    const device = ca!.issueKeyAndCertificate({ keyType: 'ec', profile: 'device', subject: { commonName: 'device-1' } });
    expect(device.certificate.checkIssued(ca!.certificate)).toBe(true);
  });

  it('the stored identity signs profiles that openssl verifies against ca.pem', async () => {
    const { identity } = await loadOrCreateSigningIdentity(dataDir, { keyType: 'rsa' });
    const reloaded = await loadSigningIdentity(dataDir);
    const signed = signCms(samplePlist(), reloaded.identity);
    const judged = opensslCmsVerify(temp.dir, signed, readFileSync(signingPaths(dataDir).caCert, 'utf8'));
    expect(judged.ok, judged.stderr).toBe(true);
    expect(reloaded.identity.certificate.fingerprint256).toBe(identity.certificate.fingerprint256);
  });

  it('concurrent first calls agree on a single identity', async () => {
    const results = await Promise.all([1, 2, 3].map(() => loadOrCreateSigningIdentity(dataDir, { keyType: 'ec' })));
    const fingerprints = new Set(results.map((r) => r.identity.certificate.fingerprint256));
    expect(fingerprints.size).toBe(1);
    const stored = await loadSigningIdentity(dataDir);
    expect(fingerprints.has(stored.identity.certificate.fingerprint256)).toBe(true);
    expect(readdirSync(dataDir)).toEqual(['signing']);
  });
});

describe('initSigningIdentity', () => {
  it('refuses to replace an identity unless forced', async () => {
    const first = await initSigningIdentity(dataDir, { keyType: 'ec' });
    await expect(initSigningIdentity(dataDir, { keyType: 'ec' })).rejects.toThrow(/already exists/);
    const forced = await initSigningIdentity(dataDir, { keyType: 'ec', force: true });
    expect(forced.identity.certificate.fingerprint256).not.toBe(first.identity.certificate.fingerprint256);
    expect((await loadSigningIdentity(dataDir)).identity.certificate.fingerprint256).toBe(forced.identity.certificate.fingerprint256);
  });

  it('loadSigningIdentity on an empty data dir explains what to run', async () => {
    await expect(loadSigningIdentity(dataDir)).rejects.toThrow(/mockiron signing init/);
  });
});

describe('importIdentity', () => {
  function chainedIdentity(keyType: 'rsa' | 'ec') {
    const root = CertificateAuthority.create({ keyType, subject: { commonName: `Imported Root ${keyType}` } });
    const intermediate = root.issueKeyAndCertificate({
      keyType,
      profile: 'intermediate-ca',
      subject: { commonName: 'Imported Intermediate' },
    });
    const signer = new CertificateAuthority(intermediate.certificate, intermediate.privateKey).issueKeyAndCertificate({
      keyType,
      profile: 'signer',
      subject: { commonName: 'Imported Signer' },
    });
    return {
      root,
      intermediate,
      signer,
      keyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  it('PEM: replaces the identity; ca.pem becomes the top of the chain, intermediates go to chain.pem', async () => {
    await initSigningIdentity(dataDir, { keyType: 'rsa' });
    const { root, intermediate, signer, keyPem } = chainedIdentity('ec');
    await importIdentity(dataDir, { keyPem, certPem: signer.pem, chainPem: intermediate.pem + root.certificatePem });

    const paths = signingPaths(dataDir);
    expect(existsSync(paths.caKey)).toBe(false); // the old CA key no longer matches ca.pem
    expect(mode(paths.signerKey)).toBe(0o600);
    expect(readFileSync(paths.caCert, 'utf8')).toBe(root.certificatePem);
    expect(readFileSync(paths.chain, 'utf8')).toBe(intermediate.pem);
    const stored = await loadSigningIdentity(dataDir);
    expect(stored.ca).toBeUndefined();
    expect(stored.identity.certificate.fingerprint256).toBe(signer.certificate.fingerprint256);

    const signed = signCms(samplePlist(), stored.identity);
    expect(opensslCmsVerify(temp.dir, signed, root.certificatePem).ok).toBe(true);
  });

  for (const keyType of ['rsa', 'ec'] as const) {
    it(`PKCS#12 made by openssl (${keyType}): imported, and signs verifiable profiles`, async () => {
      const { root, intermediate, signer, keyPem } = chainedIdentity(keyType);
      const files = {
        key: join(temp.dir, 'k.pem'),
        cert: join(temp.dir, 'c.pem'),
        chain: join(temp.dir, 'chain.pem'),
        p12: join(temp.dir, 'id.p12'),
        pass: join(temp.dir, 'pass.txt'),
      };
      writeFileSync(files.key, keyPem);
      writeFileSync(files.cert, signer.pem);
      writeFileSync(files.chain, intermediate.pem + root.certificatePem);
      writeFileSync(files.pass, 'correct horse\n');
      const made = run('openssl', [
        'pkcs12',
        '-export',
        '-inkey',
        files.key,
        '-in',
        files.cert,
        '-certfile',
        files.chain,
        '-out',
        files.p12,
        '-passout',
        `file:${files.pass}`,
      ]);
      expect(made.status, made.stderr).toBe(0);

      await importIdentity(dataDir, { p12: readFileSync(files.p12), passphrase: 'correct horse' });
      const stored = await loadSigningIdentity(dataDir);
      expect(stored.identity.certificate.fingerprint256).toBe(signer.certificate.fingerprint256);
      expect(stored.identity.chain.map((c) => c.fingerprint256)).toEqual([intermediate.certificate.fingerprint256]);
      expect(stored.identity.trustAnchor.fingerprint256).toBe(root.certificate.fingerprint256);
      const signed = signCms(samplePlist(), stored.identity);
      expect(opensslCmsVerify(temp.dir, signed, root.certificatePem).ok).toBe(true);
    });
  }

  it('PKCS#12 in the legacy (RC2/3DES) format is read too', () => {
    const { root, signer, keyPem, intermediate } = chainedIdentity('rsa');
    const key = join(temp.dir, 'k.pem');
    const cert = join(temp.dir, 'c.pem');
    const p12 = join(temp.dir, 'legacy.p12');
    writeFileSync(key, keyPem);
    writeFileSync(cert, signer.pem + intermediate.pem + root.certificatePem);
    const made = run('openssl', ['pkcs12', '-export', '-legacy', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'pass:legacy']);
    expect(made.status, made.stderr).toBe(0);
    const { privateKey, certificates } = readPkcs12(readFileSync(p12), 'legacy');
    expect(signer.certificate.checkPrivateKey(privateKey)).toBe(true);
    expect(certificates).toHaveLength(3);
  });

  it('bad input writes nothing: wrong passphrase, mismatched key, broken chain', async () => {
    await initSigningIdentity(dataDir, { keyType: 'ec' });
    const before = snapshot();
    const { root, intermediate, signer, keyPem } = chainedIdentity('ec');
    const other = createSigningIdentity({ keyType: 'ec' });
    const otherKeyPem = other.identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    const key = join(temp.dir, 'k.pem');
    const cert = join(temp.dir, 'c.pem');
    const p12 = join(temp.dir, 'id.p12');
    writeFileSync(key, keyPem);
    writeFileSync(cert, signer.pem + intermediate.pem + root.certificatePem);
    expect(run('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', p12, '-passout', 'pass:right']).status).toBe(0);

    await expect(importIdentity(dataDir, { p12: readFileSync(p12), passphrase: 'wrong' })).rejects.toThrow(/wrong passphrase/);
    await expect(importIdentity(dataDir, { p12: Buffer.from('not a p12'), passphrase: 'x' })).rejects.toThrow(IdentityError);
    await expect(
      importIdentity(dataDir, { keyPem: otherKeyPem, certPem: signer.pem, chainPem: intermediate.pem + root.certificatePem }),
    ).rejects.toThrow(/does not match/);
    await expect(importIdentity(dataDir, { keyPem, certPem: signer.pem, chainPem: root.certificatePem })).rejects.toThrow(/does not link/);
    await expect(importIdentity(dataDir, { keyPem, certPem: signer.pem })).rejects.toThrow(/not self-signed/);

    expect(snapshot()).toEqual(before);
    expect(readdirSync(dataDir)).toEqual(['signing']);
  });
});

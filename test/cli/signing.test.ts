// Runs the command lines in-process through run(argv, io) against temp data directories
// (test/cli/smoke.test.ts runs the real binary).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/signing/identity.js';
import { FIXTURES, opensslCmsVerify, run, samplePlist, tempDir, type RunResult } from '../unit/signing/helpers.js';
import { runCli } from '../helpers/cli.js';

let temp: ReturnType<typeof tempDir>;
beforeAll(() => {
  temp = tempDir('mockiron-signing-cli-');
});
afterAll(() => temp.cleanup());

function path(name: string): string {
  return join(temp.dir, name);
}

async function mockiron(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const merged = { ...process.env, MOCKIRON_DATA_DIR: undefined, MOCKIRON_P12_PASSPHRASE: undefined, ...env };
  const { code, stdout, stderr } = await runCli(args, { env: merged });
  return { status: code, stdout, stderr };
}

function expectOk(result: RunResult): RunResult {
  expect(result.status, `stderr: ${result.stderr}\nstdout: ${result.stdout}`).toBe(0);
  return result;
}

function expectFailure(result: RunResult, message: RegExp): RunResult {
  expect(result.status, `stdout: ${result.stdout}`).not.toBe(0);
  expect(result.stderr).toMatch(message);
  return result;
}

function snapshot(dataDir: string): Record<string, string> {
  const dir = join(dataDir, 'signing');
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'hex')]));
}

function opensslFingerprint(certFile: string): string {
  const result = run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile]);
  return result.stdout.trim().split('=')[1]!;
}

describe('signing init / show', () => {
  it('init --key-type ec creates the identity with private files 0600 and prints no key material', async () => {
    const dataDir = path('ec-data');
    const result = expectOk(await mockiron(['signing', 'init', '--key-type', 'ec', '--data-dir', dataDir]));
    expect(result.stdout).toContain('EC prime256v1');
    expect(result.stdout + result.stderr).not.toMatch(/PRIVATE KEY/);
    expect(statSync(join(dataDir, 'signing', 'signer.key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'signing', 'ca.key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'signing')).mode & 0o777).toBe(0o700);
  });

  it('init refuses to replace an existing identity without --force', async () => {
    const dataDir = path('ec-data');
    const before = snapshot(dataDir);
    expectFailure(await mockiron(['signing', 'init', '--data-dir', dataDir]), /already exists.*--force/);
    expect(snapshot(dataDir)).toEqual(before);
  });

  it('init rejects an unknown key type', async () => {
    expectFailure(await mockiron(['signing', 'init', '--key-type', 'dsa', '--data-dir', path('dsa-data')]), /rsa, ec/);
    expect(existsSync(path('dsa-data'))).toBe(false);
  });

  it('show prints subjects, validity and SHA-256 fingerprints matching openssl; MOCKIRON_DATA_DIR works', async () => {
    const dataDir = path('ec-data');
    const result = expectOk(await mockiron(['signing', 'show'], { MOCKIRON_DATA_DIR: dataDir }));
    expect(result.stdout).toContain('CN=mockiron Profile Signer');
    expect(result.stdout).toContain('CN=mockiron Signing CA');
    expect(result.stdout).toMatch(/valid:\s+\d{4}-\d\d-\d\dT[\d:]+Z to \d{4}/);
    expect(result.stdout).toContain(opensslFingerprint(join(dataDir, 'signing', 'signer.pem')));
    expect(result.stdout).toContain(opensslFingerprint(join(dataDir, 'signing', 'ca.pem')));
    expect(result.stdout).not.toMatch(/PRIVATE KEY/);

    const json = JSON.parse(expectOk(await mockiron(['signing', 'show', '--json', '--data-dir', dataDir])).stdout);
    expect(json.signer.fingerprintSha256).toBe(opensslFingerprint(join(dataDir, 'signing', 'signer.pem')));
    expect(json.caKeyHeld).toBe(true);
  });

  it('show without an identity says how to create one', async () => {
    expectFailure(await mockiron(['signing', 'show', '--data-dir', path('empty')]), /signing init/);
  });
});

describe('profile sign / verify', () => {
  let rsaData: string;
  let input: string;
  beforeAll(async () => {
    rsaData = path('rsa-data');
    expectOk(await mockiron(['signing', 'init', '--data-dir', rsaData]));
    input = path('profile.mobileconfig');
    writeFileSync(input, samplePlist('CLI'));
  });

  it('signs with the data-dir identity; openssl verifies against ca.pem and gets the exact profile back', async () => {
    const out = path('signed.mobileconfig');
    expectOk(await mockiron(['profile', 'sign', input, '-o', out, '--data-dir', rsaData]));
    const judged = opensslCmsVerify(temp.dir, readFileSync(out), readFileSync(join(rsaData, 'signing', 'ca.pem'), 'utf8'));
    expect(judged.ok, judged.stderr).toBe(true);
    expect(judged.content!.equals(readFileSync(input))).toBe(true);

    const verified = expectOk(await mockiron(['profile', 'verify', out, '--data-dir', rsaData]));
    expect(verified.stdout).toMatch(/Signature:\s+valid \(rsa-pkcs1-sha256/);
    expect(verified.stdout).toMatch(/Signer:\s+O=mockiron, CN=mockiron Profile Signer/);
    expect(verified.stdout).toMatch(/Trusted:\s+yes/);
  });

  it('--detached signs without the content; openssl verifies with -content, and so does profile verify --content', async () => {
    const out = path('signed.detached');
    expectOk(await mockiron(['profile', 'sign', input, '-o', out, '--detached', '--data-dir', rsaData]));
    const caPem = readFileSync(join(rsaData, 'signing', 'ca.pem'), 'utf8');
    expect(opensslCmsVerify(temp.dir, readFileSync(out), caPem, { detachedContent: readFileSync(input) }).ok).toBe(true);
    expectOk(await mockiron(['profile', 'verify', out, '--content', input, '--data-dir', rsaData]));
    expectFailure(await mockiron(['profile', 'verify', out, '--data-dir', rsaData]), /DETACHED_CONTENT_REQUIRED/);
  });

  it('signs with --key/--cert/--chain files instead of the data dir', async () => {
    const root = CertificateAuthority.create({ keyType: 'rsa', subject: { commonName: 'File Root' } });
    const intermediate = root.issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'intermediate-ca',
      subject: { commonName: 'File Intermediate' },
    });
    const signer = new CertificateAuthority(intermediate.certificate, intermediate.privateKey).issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'signer',
      subject: { commonName: 'File Signer' },
    });
    writeFileSync(path('file.key'), signer.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(path('file.crt'), signer.pem);
    writeFileSync(path('file-chain.pem'), intermediate.pem + root.certificatePem);
    writeFileSync(path('file-root.pem'), root.certificatePem);
    const out = path('file-signed.mobileconfig');
    expectOk(
      await mockiron([
        'profile',
        'sign',
        input,
        '-o',
        out,
        '--key',
        path('file.key'),
        '--cert',
        path('file.crt'),
        '--chain',
        path('file-chain.pem'),
        '--data-dir',
        path('none'),
      ]),
    );
    expect(opensslCmsVerify(temp.dir, readFileSync(out), root.certificatePem).ok).toBe(true);
    const verified = expectOk(await mockiron(['profile', 'verify', out, '--ca', path('file-root.pem')]));
    expect(verified.stdout).toContain('1: CN=File Intermediate');
    expect(verified.stdout).toContain('2: CN=File Root (trust anchor)');
  });

  it('rejects --key without --cert and a missing input, writing nothing', async () => {
    const out = path('never.mobileconfig');
    expectFailure(await mockiron(['profile', 'sign', input, '-o', out, '--key', path('file.key')]), /--key and --cert/);
    expectFailure(await mockiron(['profile', 'sign', path('missing.mobileconfig'), '-o', out, '--data-dir', rsaData]), /does not exist/);
    expectFailure(await mockiron(['profile', 'sign', input, '-o', out, '--data-dir', path('no-identity')]), /signing init/);
    expect(existsSync(out)).toBe(false);
  });

  it('verify fails with a distinct reason for tampered content, a wrong anchor, an expired signer and garbage', async () => {
    const signed = readFileSync(path('signed.mobileconfig'));
    const tampered = Buffer.from(signed);
    const at = tampered.indexOf('CLI');
    tampered[at] = tampered[at]! ^ 0x20;
    writeFileSync(path('tampered.mobileconfig'), tampered);
    expectFailure(await mockiron(['profile', 'verify', path('tampered.mobileconfig'), '--data-dir', rsaData]), /CONTENT_DIGEST_MISMATCH/);

    expectFailure(
      await mockiron(['profile', 'verify', path('signed.mobileconfig'), '--ca', path('file-root.pem')]),
      /UNTRUSTED_CHAIN.*does not lead to any of the 1 trust anchor/,
    );

    const fixture = join(FIXTURES, 'encrypted-dns/quad9-default-tls.signed.mobileconfig');
    expectFailure(await mockiron(['profile', 'verify', fixture, '--system-roots', '--at', '2026-06-01T00:00:00Z']), /SIGNER_EXPIRED/);

    writeFileSync(path('garbage.mobileconfig'), signed.subarray(0, 100));
    expectFailure(await mockiron(['profile', 'verify', path('garbage.mobileconfig'), '--data-dir', rsaData]), /MALFORMED/);
  });

  it('verifies the third-party ECDSA profile against system roots at a time its signer was valid', async () => {
    const fixture = join(FIXTURES, 'encrypted-dns/quad9-default-tls.signed.mobileconfig');
    const out = path('quad9.plist');
    const result = expectOk(await mockiron(['profile', 'verify', fixture, '--system-roots', '--at', '2026-04-01T00:00:00Z', '-o', out]));
    expect(result.stdout).toMatch(/Signature:\s+valid \(ecdsa-sha256/);
    expect(result.stdout).toContain('CN=ISRG Root X1 (trust anchor)');
    expect(readFileSync(out).equals(readFileSync(join(FIXTURES, 'encrypted-dns/quad9-default-tls.mobileconfig')))).toBe(true);

    // Without anchors: the signature is valid, trust is reported as not evaluated, exit 0
    const noAnchors = expectOk(
      await mockiron(['profile', 'verify', fixture, '--at', '2026-04-01T00:00:00Z', '--json', '--data-dir', path('none')]),
    );
    const json = JSON.parse(noAnchors.stdout);
    expect(json.signatureValid).toBe(true);
    expect(json.trusted).toBe(false);
  });
});

describe('signing import', () => {
  let material: { key: string; cert: string; chain: string; root: string; p12: string; pass: string; rootFingerprint: string };
  beforeAll(() => {
    const root = CertificateAuthority.create({ keyType: 'ec', subject: { commonName: 'Corp Root' } });
    const intermediate = root.issueKeyAndCertificate({
      keyType: 'ec',
      profile: 'intermediate-ca',
      subject: { commonName: 'Corp Issuing' },
    });
    const signer = new CertificateAuthority(intermediate.certificate, intermediate.privateKey).issueKeyAndCertificate({
      keyType: 'rsa',
      profile: 'signer',
      subject: { commonName: 'Corp Profile Signer' },
    });
    material = {
      key: path('corp.key'),
      cert: path('corp.crt'),
      chain: path('corp-chain.pem'),
      root: path('corp-root.pem'),
      p12: path('corp.p12'),
      pass: path('corp.pass'),
      rootFingerprint: root.certificate.fingerprint256,
    };
    writeFileSync(material.key, signer.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(material.cert, signer.pem);
    writeFileSync(material.chain, intermediate.pem + root.certificatePem);
    writeFileSync(material.root, root.certificatePem);
    writeFileSync(material.pass, 'p12 secret\n');
    const made = run('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      material.key,
      '-in',
      material.cert,
      '-certfile',
      material.chain,
      '-out',
      material.p12,
      '-passout',
      `file:${material.pass}`,
    ]);
    expect(made.status, made.stderr).toBe(0);
  });

  it('imports PEM key, certificate and chain; signing then chains to the imported root', async () => {
    const dataDir = path('import-pem');
    expectOk(await mockiron(['signing', 'init', '--data-dir', dataDir]));
    const result = expectOk(
      await mockiron([
        'signing',
        'import',
        '--key',
        material.key,
        '--cert',
        material.cert,
        '--chain',
        material.chain,
        '--data-dir',
        dataDir,
      ]),
    );
    expect(result.stdout).toContain('CN=Corp Profile Signer');
    expect(result.stdout).toContain(material.rootFingerprint);
    expect(result.stdout).not.toMatch(/PRIVATE KEY/);
    expect(statSync(join(dataDir, 'signing', 'signer.key.pem')).mode & 0o777).toBe(0o600);

    const out = path('corp-signed.mobileconfig');
    expectOk(await mockiron(['profile', 'sign', path('profile.mobileconfig'), '-o', out, '--data-dir', dataDir]));
    expect(opensslCmsVerify(temp.dir, readFileSync(out), readFileSync(material.root, 'utf8')).ok).toBe(true);
  });

  it('imports a PKCS#12 file with the passphrase from a file or from MOCKIRON_P12_PASSPHRASE', async () => {
    const fromFile = path('import-p12-file');
    expectOk(await mockiron(['signing', 'import', '--p12', material.p12, '--passphrase-file', material.pass, '--data-dir', fromFile]));
    const shown = expectOk(await mockiron(['signing', 'show', '--json', '--data-dir', fromFile]));
    expect(JSON.parse(shown.stdout).ca.fingerprintSha256).toBe(material.rootFingerprint);

    const fromEnv = path('import-p12-env');
    expectOk(
      await mockiron(['signing', 'import', '--p12', material.p12, '--data-dir', fromEnv], { MOCKIRON_P12_PASSPHRASE: 'p12 secret' }),
    );
    expect(JSON.parse(expectOk(await mockiron(['signing', 'show', '--json', '--data-dir', fromEnv])).stdout).signer.subject).toBe(
      'CN=Corp Profile Signer',
    );
  });

  it('bad input: clear message, non-zero exit, the existing identity untouched', async () => {
    const dataDir = path('import-bad');
    expectOk(await mockiron(['signing', 'init', '--key-type', 'ec', '--data-dir', dataDir]));
    const before = snapshot(dataDir);
    const otherKey = path('other.key');
    writeFileSync(otherKey, CertificateAuthority.create({ keyType: 'rsa' }).exportPrivateKeyPem());
    writeFileSync(path('wrong.pass'), 'nope');

    expectFailure(
      await mockiron(['signing', 'import', '--p12', material.p12, '--passphrase-file', path('wrong.pass'), '--data-dir', dataDir]),
      /wrong passphrase/,
    );
    expectFailure(await mockiron(['signing', 'import', '--p12', material.p12, '--data-dir', dataDir]), /needs a passphrase/);
    expectFailure(
      await mockiron(['signing', 'import', '--key', otherKey, '--cert', material.cert, '--chain', material.chain, '--data-dir', dataDir]),
      /does not match/,
    );
    expectFailure(
      await mockiron([
        'signing',
        'import',
        '--key',
        material.key,
        '--cert',
        material.cert,
        '--chain',
        material.root,
        '--data-dir',
        dataDir,
      ]),
      /does not link/,
    );
    expectFailure(await mockiron(['signing', 'import', '--key', material.key, '--data-dir', dataDir]), /--key and --cert/);
    expectFailure(
      await mockiron(['signing', 'import', '--p12', material.p12, '--key', material.key, '--data-dir', dataDir]),
      /either --p12 or/,
    );
    expectFailure(
      await mockiron(['signing', 'import', '--key', path('nope.key'), '--cert', material.cert, '--data-dir', dataDir]),
      /does not exist/,
    );

    expect(snapshot(dataDir)).toEqual(before);
  });
});

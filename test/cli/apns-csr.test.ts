// `mockiron apns csr`: the key and certificate signing request an MDM vendor signs in Apple's
// push certificate flow (Apple, "Setting up push notifications for your MDM customers":
// the customer makes a CSR, the vendor signs it with its MDM vendor certificate, the customer
// uploads the signed request at the Apple Push Certificates Portal). Checked with OpenSSL, which
// nobody here wrote: the request's signature verifies, and its public key is the key file's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'apns-csr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mockiron apns csr', () => {
  it('writes an RSA key (0600) and a SHA-256 CSR that openssl verifies, with the subject asked for', async () => {
    const out = path.join(dir, 'a');
    const res = await runCli([
      'apns',
      'csr',
      '--out-dir',
      out,
      '--common-name',
      'Example MDM push',
      '--email',
      'mdm@example.com',
      '--country',
      'de',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('identity.apple.com');
    expect(res.stdout).not.toMatch(/PRIVATE KEY/);
    expect(statSync(path.join(out, 'push.key')).mode & 0o777).toBe(0o600);
    const csr = path.join(out, 'push.csr');
    const text = execFileSync('openssl', ['req', '-in', csr, '-noout', '-verify', '-text'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(text).toMatch(/Subject:.*CN\s*=\s*Example MDM push/);
    expect(text).toMatch(/C\s*=\s*DE/);
    expect(text).toMatch(/emailAddress\s*=\s*mdm@example.com/);
    expect(text).toMatch(/sha256WithRSAEncryption/);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    const csrKey = execFileSync('openssl', ['req', '-in', csr, '-noout', '-pubkey'], { encoding: 'utf8' });
    const fileKey = execFileSync('openssl', ['pkey', '-in', path.join(out, 'push.key'), '-pubout'], { encoding: 'utf8' });
    expect(csrKey).toBe(fileKey);
  });

  it('does not overwrite an existing key unless --force, and refuses bad subject fields', async () => {
    const out = path.join(dir, 'b');
    expect((await runCli(['apns', 'csr', '-d', out])).code).toBe(0);
    const key = readFileSync(path.join(out, 'push.key'), 'utf8');
    const again = await runCli(['apns', 'csr', '-d', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists \(use --force/);
    expect(readFileSync(path.join(out, 'push.key'), 'utf8')).toBe(key);
    expect((await runCli(['apns', 'csr', '-d', out, '--force'])).code).toBe(0);
    expect(readFileSync(path.join(out, 'push.key'), 'utf8')).not.toBe(key);
    const bad = await runCli(['apns', 'csr', '-d', path.join(dir, 'c'), '--country', 'Germany']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--country/);
    expect((await runCli(['apns', 'csr', '-d', path.join(dir, 'd'), '--common-name', 'x'.repeat(65)])).code).toBe(2);
  });
});
